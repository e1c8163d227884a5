"""Gamma brightening (a floor reference)."""

from __future__ import annotations

import numpy as np

from ..io import check_image


def gamma(img: np.ndarray, gamma: float = 2.2) -> np.ndarray:
    """``out = img ** (1 / gamma)`` per channel; ``(H, W, 3)`` in [0, 1] -> same shape."""
    if gamma <= 0:
        raise ValueError(f"gamma must be positive, got {gamma}")
    return np.power(np.clip(check_image(img), 0.0, 1.0), 1.0 / gamma).astype(np.float32)
