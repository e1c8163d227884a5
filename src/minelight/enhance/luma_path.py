"""The fast model on 8-bit video frames with the full-resolution work done on the luma only.

On video the fast model's output is ``A * x + b`` applied to a frame ``x = Y + C`` whose chroma ``C`` comes
from a 320-px view and whose luma ``Y`` is the frame's own (:func:`minelight.enhance.chroma.view_chroma`).
So at full size only the luma is needed: it is computed once, denoised over time as one plane instead of
three (the colour is denoised on the motion view, which is the 320-px view:
:meth:`minelight.enhance.denoise.TemporalDenoiser.update_views`), and each output channel is upsampled
coefficients times luma plus chroma, written straight to 8 bits in one pass. No float RGB frame is made.

    luma, small, pixels = frame_views(frame, 320)                 # uint8 (H, W, 3) -> the views the steps need
    out = apply_to_luma(correction, chroma_of(small), luma)       # (1, 6, h, w), (h2, w2, 3), (H, W) -> uint8
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


def apply_to_luma(correction: np.ndarray, chroma: np.ndarray, luma: np.ndarray,
                  lut: np.ndarray | None = None) -> np.ndarray:
    """The fast model's ``correction`` ``(1, 6, h, w)`` (gain A in channels 0-2, offset b in 3-5) applied to
    the frame ``luma + chroma``: ``luma`` ``(H, W)`` float32 in [0, 1] at full size, ``chroma`` ``(h2, w2, 3)``
    (:func:`chroma_of` a smaller view). Per channel, each of A, b and the chroma is upsampled bilinearly
    straight from its own size (as :func:`minelight.enhance.correction.apply_correction_array` and
    :func:`minelight.enhance.chroma.view_chroma` do), and ``A (Y + C) + b`` is rounded and clipped to 8 bits
    in the same pass. ``lut``: an optional ``(256,)`` uint8 table applied last (the brightness control).
    Returns uint8 ``(H, W, 3)``."""
    size = (luma.shape[1], luma.shape[0])
    scaled = np.ascontiguousarray(correction[0], dtype=np.float32) * np.float32(255.0)  # 8-bit output scale
    colour = cv2.split(np.ascontiguousarray(chroma, dtype=np.float32))
    channels = []
    for c in range(3):
        gain = cv2.resize(scaled[c], size, interpolation=cv2.INTER_LINEAR)
        offset = cv2.resize(scaled[3 + c], size, interpolation=cv2.INTER_LINEAR)
        x = luma if colour[c].shape == luma.shape else cv2.resize(colour[c], size, interpolation=cv2.INTER_LINEAR)
        if x is not luma:
            cv2.add(x, luma, dst=x)
        else:
            x = cv2.add(luma, colour[c])
        channels.append(cv2.add(cv2.multiply(gain, x), offset, dtype=cv2.CV_8U))
    out = cv2.merge(channels)
    return out if lut is None else cv2.LUT(out, lut)


def brightness_table(brightness: float) -> np.ndarray | None:
    """The brightness control (:func:`minelight.enhance.brightness.adjust_brightness`) as a ``(256,)`` uint8
    table for 8-bit outputs; ``None`` for 1 (no change)."""
    if brightness == 1.0:
        return None
    levels = np.arange(256, dtype=np.float64) / 255.0
    return np.clip(np.round(levels ** (1.0 / brightness) * 255.0), 0, 255).astype(np.uint8)
