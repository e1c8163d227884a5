"""Pixel-size arithmetic shared by the networks (PyTorch) and the inference pipeline (NumPy)."""

from __future__ import annotations


def low_resolution_size(height: int, width: int, low_side: int) -> tuple[int, int]:
    """Size of the fast model's low-resolution stream: longest side ``low_side`` (never upsampled), at
    least 1 pixel."""
    scale = min(1.0, low_side / max(height, width))
    return max(1, round(height * scale)), max(1, round(width * scale))


def padded_size(height: int, width: int, multiple: int) -> tuple[int, int]:
    """``(height, width)`` rounded up to a multiple of ``multiple`` (what an encoder-decoder pads to)."""
    return -(-height // multiple) * multiple, -(-width // multiple) * multiple
