"""Colour-noise reduction: an enhanced image's chroma is smoothed by a guided filter steered by its own
luma, its luma left as it was (``docs/notes/colour_noise.md``).

Brightening a dark frame amplifies the sensor's noise in every channel on its own, which shows as coloured
speckle; the eye tolerates grain in lightness far better. Each channel's difference from the luma (``d = x - Y``)
is fitted in every window as ``a * Y + b`` (He et al., "Guided Image Filtering"), so colour edges that are
also luma edges stay sharp while colour that does not follow the luma is averaged away. The coefficients are
fitted on a half-size copy and upsampled (He & Sun's "fast guided filter"), so the step costs a few
full-resolution passes. For the fast model on video, where that cost counts, :func:`view_chroma` gives its
correction an input whose colour comes from a 320-px copy and whose luma is the frame's own.

    out = reduce_colour_noise(enhanced, radius=4)
    frame_for_the_fast_model = view_chroma(frame)
"""

from __future__ import annotations

import cv2
import numpy as np

from ..color import LUMA_BT601
from ..geometry import low_resolution_size

LUMA_WEIGHTS = np.array(LUMA_BT601, np.float32)  # they sum to 1, so the luma of d = x - Y is 0
SUBSAMPLE = 2  # the coefficients are fitted at 1/SUBSAMPLE of the image's size
# Chosen on SICE validation for both networks (docs/notes/colour_noise.md):
CHROMA_EPS = 1e-3  # guided-filter regularisation in luma^2: colour edges whose luma std over the window is
                   # well above sqrt(eps) ~ 0.03 stay sharp
CHROMA_VIEW = 320  # longest side (px) of the view the fast model's input takes its chroma from on video


def check_radius(value: int) -> int:
    """``value`` if it is a usable radius (a whole number of pixels >= 0; 0 = off), else ValueError."""
    if isinstance(value, bool) or not float(value).is_integer() or value < 0:
        raise ValueError(f"colour-noise radius must be a whole number of pixels >= 0 (0 = off), got {value}")
    return int(value)


def _box(x: np.ndarray, radius: int) -> np.ndarray:
    return cv2.boxFilter(x, -1, (2 * radius + 1, 2 * radius + 1), borderType=cv2.BORDER_REFLECT)


def _three(x: np.ndarray) -> np.ndarray:
    return cv2.merge([x, x, x])


def chroma_coefficients(small: np.ndarray, radius: int, eps: float) -> tuple[np.ndarray, np.ndarray]:
    """Guided-filter coefficients of ``small`` ``(h, w, 3)`` float32: ``a``, ``b`` ``(h, w, 3)``, already
    averaged over the windows (``(2 radius + 1)^2`` px) that cover each pixel, such that each channel's
    difference from the luma ``Y`` is ``~ a * Y + b``."""
    y = luma_plane(small)
    y3 = _three(y)
    diff = cv2.subtract(small, y3)
    mean_y = _box(y, radius)
    var_y = _box(cv2.multiply(y, y), radius) - cv2.multiply(mean_y, mean_y)
    mean_y3, mean_d = _three(mean_y), _box(diff, radius)
    cov = cv2.subtract(_box(cv2.multiply(diff, y3), radius), cv2.multiply(mean_d, mean_y3))
    a = cv2.divide(cov, _three(var_y + np.float32(eps)))
    b = cv2.subtract(mean_d, cv2.multiply(a, mean_y3))
    return _box(a, radius), _box(b, radius)


def reduce_colour_noise(img: np.ndarray, radius: int, eps: float = CHROMA_EPS) -> np.ndarray:
    """``(H, W, 3)`` float RGB in [0, 1] -> same shape, float32 in [0, 1]: each channel's difference from the
    luma replaced by its guided filter (guide: the luma; window ``(2 radius + 1)^2`` px of the image, fitted
    at half size; ``eps`` in luma^2). The luma is unchanged up to the final clip; ``radius`` 0 returns
    ``img`` as it is."""
    if check_radius(radius) == 0:
        return img
    img = np.ascontiguousarray(img, dtype=np.float32)
    h, w = img.shape[:2]
    size = (max(1, w // SUBSAMPLE), max(1, h // SUBSAMPLE))
    small = cv2.resize(img, size, interpolation=cv2.INTER_AREA)
    a, b = chroma_coefficients(small, max(1, radius // SUBSAMPLE), eps)
    gain, b = (cv2.resize(c, (w, h), interpolation=cv2.INTER_LINEAR) for c in (a + np.float32(1.0), b))
    out = cv2.multiply(gain, luma_image(img))  # Y + d = (a + 1) * Y + b
    cv2.add(out, b, dst=out)
    return np.clip(out, 0.0, 1.0, out=out)


def luma_plane(img: np.ndarray) -> np.ndarray:
    """``(H, W, 3)`` float RGB -> its BT.601 luma ``(H, W)`` float32 (one OpenCV pass)."""
    return cv2.transform(np.ascontiguousarray(img, dtype=np.float32), LUMA_WEIGHTS[None])


def luma_image(img: np.ndarray) -> np.ndarray:
    """``(H, W, 3)`` float RGB -> its BT.601 luma repeated in three channels, ``(H, W, 3)`` float32."""
    return _three(luma_plane(img))


def view_chroma(img: np.ndarray, side: int = CHROMA_VIEW) -> np.ndarray:
    """``img`` ``(H, W, 3)`` float32 with its chroma (each channel minus the luma) replaced by that of a copy
    area-downsampled to a longest side of ``side`` px and upsampled bilinearly; its luma is unchanged.
    Applying the fast model's correction to this instead of ``img`` keeps every detail of the luma while the
    colour noise is averaged over the copy's pixels. ``(H, W, 3)`` float32 (not clipped)."""
    h, w = low_resolution_size(img.shape[0], img.shape[1], side)
    if (h, w) == img.shape[:2]:
        return img
    img = np.ascontiguousarray(img, dtype=np.float32)
    small = cv2.resize(img, (w, h), interpolation=cv2.INTER_AREA)
    chroma = cv2.subtract(small, luma_image(small))
    out = cv2.resize(chroma, (img.shape[1], img.shape[0]), interpolation=cv2.INTER_LINEAR)
    return cv2.add(out, luma_image(img), dst=out)
