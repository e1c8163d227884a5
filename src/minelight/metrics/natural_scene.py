"""Natural-scene-statistics helpers (for NIQE and any other NSS metric): MATLAB-style
``imresize(.., 0.5)``, MSCN coefficients and the asymmetric generalised-Gaussian fit (parameter grid
0.2:0.001:10, as the MATLAB releases)."""

from __future__ import annotations

import numpy as np
from scipy.ndimage import convolve
from scipy.special import gamma as gamma_fn

_GAM = np.arange(0.2, 10.001, 0.001)
_R_GAM = gamma_fn(2 / _GAM) ** 2 / (gamma_fn(1 / _GAM) * gamma_fn(3 / _GAM))


def mscn(img: np.ndarray, window: np.ndarray, mode: str = "nearest") -> np.ndarray:
    """Mean-subtracted contrast-normalised coefficients of a 2-D image in [0, 255]: (I - mu) / (sigma + 1)
    with local mean and deviation under the normalised ``window``; same dtype and shape as ``img``."""
    mu = convolve(img, window, mode=mode)
    sigma = np.sqrt(np.abs(convolve(img * img, window, mode=mode) - mu * mu))
    return (img - mu) / (sigma + 1)


def _cubic(x: np.ndarray) -> np.ndarray:
    ax = np.abs(x)
    ax2, ax3 = ax**2, ax**3
    return (1.5 * ax3 - 2.5 * ax2 + 1) * (ax <= 1) + (-0.5 * ax3 + 2.5 * ax2 - 4 * ax + 2) * ((ax > 1) & (ax <= 2))


def _contributions(in_len: int, scale: float) -> tuple[np.ndarray, np.ndarray]:
    """MATLAB imresize weights ``(out, P)`` and 0-based source indices for one axis (bicubic, antialiased)."""
    out_len = int(np.ceil(in_len * scale))
    width = 4.0 / scale if scale < 1 else 4.0
    x = np.arange(1, out_len + 1)
    u = x / scale + 0.5 * (1 - 1 / scale)
    left = np.floor(u - width / 2)
    taps = int(np.ceil(width)) + 2
    indices = left[:, None] + np.arange(taps)[None]  # 1-based, (out, taps)
    dist = u[:, None] - indices
    weights = scale * _cubic(scale * dist) if scale < 1 else _cubic(dist)
    weights = weights / weights.sum(axis=1, keepdims=True)
    keep = np.any(weights != 0, axis=0)
    weights, indices = weights[:, keep], indices[:, keep]
    mirror = np.concatenate([np.arange(in_len), np.arange(in_len)[::-1]])  # symmetric boundary
    return weights, mirror[np.mod(indices.astype(int) - 1, 2 * in_len)]


def imresize_half(img: np.ndarray) -> np.ndarray:
    """MATLAB ``imresize(img, 0.5)`` (bicubic, antialiasing) of a 2-D float array."""
    w, idx = _contributions(img.shape[0], 0.5)
    img = np.einsum("op,opw->ow", w, img[idx])  # rows first, as MATLAB does for equal scales
    w, idx = _contributions(img.shape[1], 0.5)
    return np.einsum("op,hop->ho", w, img[:, idx])


def aggd_fit(x: np.ndarray) -> tuple[float, float, float]:
    """Asymmetric generalised Gaussian fit by moment matching (Lasmar et al. 2009) on the grid
    0.2:0.001:10: (alpha, left standard deviation, right standard deviation). NaN when a side is empty."""
    x = x.ravel()
    left = np.sqrt(np.mean(x[x < 0] ** 2))
    right = np.sqrt(np.mean(x[x > 0] ** 2))
    g = left / right
    rhat = np.mean(np.abs(x)) ** 2 / np.mean(x**2)
    rnorm = rhat * (g**3 + 1) * (g + 1) / (g**2 + 1) ** 2
    return _GAM[np.argmin((_R_GAM - rnorm) ** 2)], left, right

