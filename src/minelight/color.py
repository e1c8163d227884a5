"""Luma and lightness of RGB images: the per-pixel brightness measures every layer shares."""

from __future__ import annotations

import numpy as np

LUMA_BT601 = (0.299, 0.587, 0.114)  # RGB weights of the luma every module uses; they sum to 1


def luma(img: np.ndarray) -> np.ndarray:
    """BT.601 luma ``(H, W)`` of an RGB image ``(H, W, 3)`` in [0, 1]."""
    return img @ np.array(LUMA_BT601, np.float32)


def lightness(img: np.ndarray) -> np.ndarray:
    """``(H, W, 3)`` RGB -> ``(H, W)`` float32 max over the channels (an elementwise chain: numpy's
    ``max(axis=2)`` over a length-3 last axis is several times slower)."""
    img = np.asarray(img, dtype=np.float32)
    return np.maximum(np.maximum(img[..., 0], img[..., 1]), img[..., 2])
