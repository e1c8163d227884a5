"""Simple no-reference image statistics, one float per image ``(H, W, 3)`` RGB in [0, 1].

Computed on the 8-bit BT.601 luma ``Y = 0.299 R + 0.587 G + 0.114 B`` scaled to [0, 255], the usual
convention of the low-light literature.
"""

from __future__ import annotations

import numpy as np

from ..color import LUMA_BT601, lightness
from ..io import check_image


def _luma255(img: np.ndarray) -> np.ndarray:
    rgb = check_image(img).astype(np.float64)
    return np.round(np.clip(rgb @ np.array(LUMA_BT601), 0, 1) * 255.0)


def entropy(img: np.ndarray) -> float:
    """Shannon entropy (bits) of the 256-bin luma histogram; in [0, 8]. Higher = more information."""
    hist = np.bincount(_luma255(img).astype(np.int64).ravel(), minlength=256).astype(np.float64)
    p = hist[hist > 0] / hist.sum()
    return float(-(p * np.log2(p)).sum())


def mean_brightness(img: np.ndarray) -> float:
    """Mean luma in [0, 255]."""
    return float(_luma255(img).mean())


def contrast(img: np.ndarray) -> float:
    """RMS contrast: standard deviation of luma in [0, 255]."""
    return float(_luma255(img).std())


def avg_gradient(img: np.ndarray) -> float:
    """Average gradient ``mean(sqrt((dx^2 + dy^2) / 2))`` of luma (forward differences, [0, 255] units)."""
    y = _luma255(img)
    dx = y[:-1, 1:] - y[:-1, :-1]
    dy = y[1:, :-1] - y[:-1, :-1]
    return float(np.sqrt((dx * dx + dy * dy) / 2.0).mean()) if dx.size else 0.0


def loe(enhanced: np.ndarray, original: np.ndarray, side: int = 50) -> float:
    """Lightness order error (Wang et al., TIP 2013): how often the lightness order of two pixels
    (lightness = max over RGB) differs between the original and the enhanced image, averaged over all
    pixel pairs of copies downsampled so the shorter side is ``side`` pixels (the paper's speed-up),
    times the number of pixels of that copy. Lower is better; 0 = order fully kept."""
    if enhanced.shape != original.shape:
        raise ValueError(f"shapes differ: {enhanced.shape} vs {original.shape}")
    import cv2

    h, w = original.shape[:2]
    scale = min(1.0, side / min(h, w))
    size = (max(1, round(w * scale)), max(1, round(h * scale)))
    light = [cv2.resize(lightness(check_image(x)), size, interpolation=cv2.INTER_AREA).ravel()
             for x in (original, enhanced)]
    order_o = light[0][:, None] >= light[0][None, :]
    order_e = light[1][:, None] >= light[1][None, :]
    return float((order_o != order_e).sum(axis=1).mean())
