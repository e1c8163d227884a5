"""The fast model's correction applied at full resolution, with OpenCV (no PyTorch)."""

from __future__ import annotations

import cv2
import numpy as np


def apply_correction_array(correction: np.ndarray, img: np.ndarray) -> np.ndarray:
    """:func:`minelight.models.fast.apply_correction` for one ``(H, W, 3)`` float32 image with OpenCV (the fast path used for
    inference): ``correction`` ``(1, 6, h, w)`` -> ``A * img + b`` clipped to [0, 1], float32 ``(H, W, 3)``."""
    size = (img.shape[1], img.shape[0])
    a = cv2.resize(np.ascontiguousarray(correction[0, :3].transpose(1, 2, 0)), size, interpolation=cv2.INTER_LINEAR)
    b = cv2.resize(np.ascontiguousarray(correction[0, 3:].transpose(1, 2, 0)), size, interpolation=cv2.INTER_LINEAR)
    out = cv2.multiply(a.reshape(img.shape), img)
    cv2.add(out, b.reshape(img.shape), dst=out)
    return np.clip(out, 0.0, 1.0, out=out)
