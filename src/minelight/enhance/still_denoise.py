"""Grain reduction for still images: an enhanced image's luma is denoised by an amount set by the noise
level estimated in the image itself, so a clean image is left (almost) as it was
(``docs/notes/still_denoising.md``).

Brightening a dark frame multiplies its sensor noise by the network's gain. The colour-noise step
(:mod:`minelight.enhance.chroma`) takes out the coloured part; the grey grain left in the luma is what this
step removes. :func:`estimate_noise` measures the noise std of the luma with Immerkær's fast estimator
(a Laplacian-difference mask whose response to smooth ramps is zero), leaving out edges, which it would
count as noise, and pixels near black or white, where clipping hides the noise. :func:`denoise_still`
filters the luma (a self-guided filter, or OpenCV's non-local means, which keeps more texture at about
seven times the cost) with a strength proportional to the excess of that estimate over a floor that clean
validation images do not reach: nothing is done below it. The colour is carried over unchanged (each
channel moves by the luma's change).

    sigma = estimate_noise(enhanced)                        # noise std of the luma, in [0, 1] units
    out = denoise_still(enhanced, 8.0)                      # Net-S's: guided filter, eps = (8 (sigma - floor))^2
    out = denoise_still(enhanced, 2.0, filter="nlm")        # the fast model's: non-local means, h = 2 (sigma - floor)

Video does not use this step: the temporal denoiser (:mod:`minelight.enhance.denoise`) averages frames
instead, which keeps detail a single frame cannot.
"""

from __future__ import annotations

import math

import cv2
import numpy as np

from .chroma import luma_plane as luma  # (H, W, 3) float RGB -> (H, W) float32 BT.601 luma
# Immerkær's mask: the difference of two Laplacians; zero on any plane, sum of squares 36
_MASK = np.array([[1, -2, 1], [-2, 4, -2], [1, -2, 1]], np.float32)
EDGE_FRACTION = 0.1  # the share of pixels with the strongest gradient left out of the estimate (edges, texture)
CLIP_MARGIN = 2 / 255  # pixels whose 3x3 window comes this close to 0 or 1 are left out (clipped noise)
# Chosen on SICE validation (docs/notes/still_denoising.md):
NOISE_FLOOR = 3 / 255  # estimated luma std (0-1) below which the image counts as clean and is left as it is:
                       # above every clean validation output of both networks (at most 2.9 levels)
GUIDED_RADIUS = 2  # the self-guided filter's window radius (px); Net-S's grain filter
TEMPLATE = 7  # non-local means patch (px), OpenCV's recommended size; the fast model's grain filter
SEARCH = 11  # its search window (px): a third of the cost of the recommended 21 px, as good on validation


def check_strength(value: float) -> float:
    """``value`` if it is a usable grain strength (a number >= 0; 0 = off), else ValueError."""
    if isinstance(value, bool) or not np.isfinite(value) or value < 0:
        raise ValueError(f"grain strength must be a number >= 0 (0 = off), got {value}")
    return float(value)


def estimate_noise(img: np.ndarray, edge_fraction: float = EDGE_FRACTION) -> float:
    """Noise std of ``img``'s luma in [0, 1] units (Immerkær 1996, "Fast noise variance estimation").

    ``img``: ``(H, W, 3)`` float RGB in [0, 1], or ``(H, W)`` grey. The mask's absolute response is averaged
    over the interior pixels that are neither among the ``edge_fraction`` with the strongest Sobel gradient
    nor within ``CLIP_MARGIN`` of black or white in their 3x3 window; ``sqrt(pi / 2) / 6`` times that mean
    is the std of white Gaussian noise. An image under 3x3 px, or with no pixel left, returns 0.
    """
    if img.ndim not in (2, 3) or (img.ndim == 3 and img.shape[2] != 3):
        raise ValueError(f"expected an (H, W, 3) or (H, W) image, got shape {img.shape}")
    y = luma(img) if img.ndim == 3 else np.ascontiguousarray(img, dtype=np.float32)
    if min(y.shape) < 3:
        return 0.0
    response = np.abs(cv2.filter2D(y, -1, _MASK, borderType=cv2.BORDER_REFLECT))[1:-1, 1:-1]
    gx = cv2.Sobel(y, cv2.CV_32F, 1, 0, ksize=3)[1:-1, 1:-1]
    gy = cv2.Sobel(y, cv2.CV_32F, 0, 1, ksize=3)[1:-1, 1:-1]
    gradient = gx * gx + gy * gy
    kernel = np.ones((3, 3), np.uint8)
    low = cv2.erode(y, kernel)[1:-1, 1:-1] > CLIP_MARGIN
    high = cv2.dilate(y, kernel)[1:-1, 1:-1] < 1.0 - CLIP_MARGIN
    keep = low & high
    if edge_fraction > 0 and keep.any():
        keep &= gradient <= np.quantile(gradient[keep], 1.0 - edge_fraction)
    if not keep.any():
        return 0.0
    return float(math.sqrt(math.pi / 2) / 6 * response[keep].mean())


def filter_amount(sigma: float, strength: float = 1.0, floor: float = NOISE_FLOOR) -> float:
    """How hard to filter a luma whose noise std is ``sigma`` (0-1): ``strength * (sigma - floor)``, 0 at or below
    the floor (in [0, 1] units: the guided filter's ``sqrt(eps)``, non-local means' ``h`` / 255)."""
    return max(0.0, strength * (sigma - floor))


def guided_luma(y: np.ndarray, amount: float) -> np.ndarray:
    """``y`` ``(H, W)`` float32 through a self-guided filter (He et al.; window ``(2 GUIDED_RADIUS + 1)^2`` px,
    ``eps = amount^2``): flat parts whose std is well below ``amount`` are averaged, edges above it kept."""
    size = (2 * GUIDED_RADIUS + 1,) * 2
    box = lambda x: cv2.boxFilter(x, -1, size, borderType=cv2.BORDER_REFLECT)  # noqa: E731
    mean = box(y)
    var = box(y * y) - mean * mean
    a = var / (var + np.float32(amount * amount))
    b = mean - a * mean
    return box(a) * y + box(b)


def nlm_luma(y: np.ndarray, amount: float, search: int = SEARCH) -> np.ndarray:
    """``y`` ``(H, W)`` float32 in [0, 1] through OpenCV's non-local means with ``h = 255 amount`` (patch
    ``TEMPLATE``, search window ``search`` px): the filter runs on the 8-bit luma and its change is added to
    ``y``, so no precision is lost below a level."""
    q = np.clip(y * 255.0 + 0.5, 0, 255).astype(np.uint8)
    d = cv2.fastNlMeansDenoising(q, None, h=float(255.0 * amount), templateWindowSize=TEMPLATE,
                                 searchWindowSize=search)
    return y + (d.astype(np.float32) - q.astype(np.float32)) / np.float32(255.0)


FILTERS = {"guided": guided_luma, "nlm": nlm_luma}


def denoise_still(img: np.ndarray, strength: float = 1.0, sigma: float | None = None,
                  filter: str = "guided") -> np.ndarray:
    """``(H, W, 3)`` float RGB in [0, 1] -> same shape, float32 in [0, 1]: the luma denoised by ``filter``
    (``guided``: :func:`guided_luma`, ``nlm``: :func:`nlm_luma`) at ``filter_amount(sigma, strength)``, each
    channel moved by the luma's change (the colour differences kept). ``sigma``: the luma's noise std (0-1);
    ``None`` = :func:`estimate_noise` of ``img``. ``strength`` 0, or an estimate at or below ``NOISE_FLOOR``,
    returns ``img`` as it is."""
    if filter not in FILTERS:
        raise ValueError(f"unknown grain filter {filter!r}; choose from {', '.join(FILTERS)}")
    if check_strength(strength) == 0:
        return img
    y = luma(img)  # once: the estimate and the filter both work on it
    amount = filter_amount(estimate_noise(y) if sigma is None else sigma, strength)
    if amount <= 0:
        return img
    img = np.ascontiguousarray(img, dtype=np.float32)
    change = FILTERS[filter](y, amount) - y
    out = img + change[..., None]
    return np.clip(out, 0.0, 1.0, out=out)
