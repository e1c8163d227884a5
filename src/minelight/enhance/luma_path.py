"""The fast model on 8-bit video frames with the full-resolution work done on the luma only.

On video the fast model's output is ``A * x + b`` applied to a frame ``x`` whose colour comes from a
320-px view and whose luma is the frame's own (:func:`minelight.enhance.chroma.view_chroma`). Splitting
``x = Y + C`` (luma plus a smooth chroma) gives ``A * Y + (b + A * C)``: the chroma term is as smooth as the
correction, so it is folded into the offset at the view's size, and at full size only the luma is needed:
it is computed once, denoised over time as one plane instead of three (the colour is denoised on the
motion view, :meth:`minelight.enhance.denoise.TemporalDenoiser.update_views`), and each output channel is
one multiply-add written straight to 8 bits. 720p costs about a third of the float RGB path's
full-resolution passes (``benchmarks/video_end_to_end.py``).

    luma, small, pixels = frame_views(frame, 320)       # uint8 (H, W, 3) -> the views the steps need
    folded = fold_chroma(correction, chroma_of(small))  # (1, 6, h, w) + (h2, w2, 3) -> gain, offset
    out = apply_to_luma(folded, luma)                   # -> uint8 (H, W, 3)
"""

from __future__ import annotations

import cv2
import numpy as np

from ..geometry import low_resolution_size
from .chroma import LUMA_WEIGHTS, luma_image


def frame_views(frame: np.ndarray, side: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """uint8 RGB ``frame`` ``(H, W, 3)`` -> ``luma`` ``(H, W)``, ``small`` ``(h, w, 3)`` (area-downsampled to a
    longest side of ``side`` px, never upsampled) and ``pixels`` ``(h, w, 3)`` (its single pixels on that
    grid, nearest), all float32 in [0, 1]; BT.601 luma, computed in float (not rounded to 8 bits)."""
    values = frame.astype(np.float32)  # 0-255: one pass; the scale to [0, 1] is applied to the smaller results
    luma = cv2.transform(values, LUMA_WEIGHTS[None] / np.float32(255.0))
    h, w = low_resolution_size(frame.shape[0], frame.shape[1], side)
    if (h, w) == frame.shape[:2]:
        small = pixels = values * np.float32(1 / 255)
    else:
        small = cv2.resize(values, (w, h), interpolation=cv2.INTER_AREA) * np.float32(1 / 255)
        pixels = cv2.resize(frame, (w, h), interpolation=cv2.INTER_NEAREST).astype(np.float32) * np.float32(1 / 255)
    return luma.reshape(frame.shape[:2]), small, pixels


def chroma_of(img: np.ndarray) -> np.ndarray:
    """``(h, w, 3)`` float RGB -> each channel's difference from the BT.601 luma, ``(h, w, 3)`` float32."""
    return cv2.subtract(np.ascontiguousarray(img, dtype=np.float32), luma_image(img))


def fold_chroma(correction: np.ndarray, chroma: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The fast model's ``correction`` ``(1, 6, h, w)`` (gain A in channels 0-2, offset b in 3-5) made to
    apply to the luma alone: upsampled bilinearly to ``chroma``'s size ``(h2, w2, 3)``, offset ``b + A *
    chroma``, both scaled by 255 for an 8-bit output. Returns ``(gain, offset)``, each ``(h2, w2, 3)`` float32."""
    size = (chroma.shape[1], chroma.shape[0])
    gain, offset = (np.ascontiguousarray(correction[0, i:i + 3].transpose(1, 2, 0), dtype=np.float32) for i in (0, 3))
    if gain.shape[:2] != chroma.shape[:2]:
        gain, offset = (cv2.resize(x, size, interpolation=cv2.INTER_LINEAR) for x in (gain, offset))
    offset = cv2.add(offset, cv2.multiply(gain, np.ascontiguousarray(chroma, dtype=np.float32)))
    scale = (255.0, 255.0, 255.0, 0.0)
    return cv2.multiply(gain, scale), cv2.multiply(offset, scale)


def apply_to_luma(folded: tuple[np.ndarray, np.ndarray], luma: np.ndarray, lut: np.ndarray | None = None) -> np.ndarray:
    """``folded`` ``(gain, offset)`` (:func:`fold_chroma`) and the frame's ``luma`` ``(H, W)`` float32 in
    [0, 1] -> the enhanced frame, uint8 ``(H, W, 3)``: per channel ``gain * luma + offset``, the coefficients
    upsampled bilinearly, rounded and clipped to 8 bits in the same pass. ``lut``: an optional ``(256,)``
    uint8 table applied last (the brightness control)."""
    size = (luma.shape[1], luma.shape[0])
    channels = []
    for gain, offset in zip(cv2.split(folded[0]), cv2.split(folded[1])):
        gain = cv2.resize(gain, size, interpolation=cv2.INTER_LINEAR)
        offset = cv2.resize(offset, size, interpolation=cv2.INTER_LINEAR)
        channels.append(cv2.add(cv2.multiply(gain, luma), offset, dtype=cv2.CV_8U))
    out = cv2.merge(channels)
    return out if lut is None else cv2.LUT(out, lut)


def brightness_table(brightness: float) -> np.ndarray | None:
    """The brightness control (:func:`minelight.enhance.brightness.adjust_brightness`) as a ``(256,)`` uint8
    table for 8-bit outputs; ``None`` for 1 (no change)."""
    if brightness == 1.0:
        return None
    levels = np.arange(256, dtype=np.float64) / 255.0
    return np.clip(np.round(levels ** (1.0 / brightness) * 255.0), 0, 255).astype(np.uint8)
