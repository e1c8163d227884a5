"""A per-image exposure step after Net-S: the brightness control set for each image from a few global
statistics, by a linear model fitted on real train pairs (``docs/notes/real_pairs.md``).

    w = fit_exposure(features, log_best)          # on train pairs: exposure_features, matching_brightness
    out = apply_exposure(img, enhanced, w)        # at inference

Net-S learnt its exposure on 128-px crops; this step sees the whole frame. It moves the output by the
brightness control's power curve (``minelight.enhance.brightness``), so nothing clips and the order of lightness
is kept. The fitted coefficients travel in the Net-S weights' header (key ``exposure``).
"""

from __future__ import annotations

import os

import numpy as np

from .brightness import MAX_BRIGHTNESS, MIN_BRIGHTNESS, adjust_brightness

EPS = 1e-4
N_FEATURES = 5  # 1, log input mean, log input median, log input 95th percentile, log output mean


def exposure_features(img: np.ndarray, enhanced: np.ndarray) -> np.ndarray:
    """``(N_FEATURES,)`` float64: 1 and the logs of ``img``'s mean, median and 95th percentile and of
    ``enhanced``'s mean (both ``(H, W, 3)`` float RGB in [0, 1])."""
    stats = (img.mean(), np.median(img), np.percentile(img, 95), enhanced.mean())
    return np.array([1.0] + [np.log(max(float(s), EPS)) for s in stats])


def matching_brightness(enhanced: np.ndarray, target_mean: float, iterations: int = 30) -> float:
    """The brightness ``b`` in the control's range whose ``enhanced ** (1 / b)`` has mean ``target_mean``
    (bisection on ``log b`` over a 4x-subsampled copy; the mean rises monotonically with ``b``)."""
    small = np.ascontiguousarray(enhanced[::4, ::4])
    lo, hi = np.log(MIN_BRIGHTNESS), np.log(MAX_BRIGHTNESS)
    for _ in range(iterations):
        mid = 0.5 * (lo + hi)
        if adjust_brightness(small, float(np.exp(mid))).mean() < target_mean:
            lo = mid
        else:
            hi = mid
    return float(np.exp(0.5 * (lo + hi)))


def fit_exposure(features: np.ndarray, log_best: np.ndarray) -> np.ndarray:
    """Least-squares weights ``(N_FEATURES,)`` predicting ``log b`` from ``features`` ``(N, N_FEATURES)``."""
    if features.ndim != 2 or features.shape[1] != N_FEATURES or len(features) != len(log_best):
        raise ValueError(f"expected (N, {N_FEATURES}) features and N targets, got {features.shape}, {len(log_best)}")
    weights, *_ = np.linalg.lstsq(features, np.asarray(log_best, np.float64), rcond=None)
    return weights


def exposure_brightness(weights: np.ndarray, img: np.ndarray, enhanced: np.ndarray) -> float:
    """The brightness the step sets for this image: ``exp(weights . features)`` clipped to the control's range."""
    return float(np.clip(np.exp(exposure_features(img, enhanced) @ weights), MIN_BRIGHTNESS, MAX_BRIGHTNESS))


def apply_exposure(img: np.ndarray, enhanced: np.ndarray, weights: np.ndarray | None) -> np.ndarray:
    """``enhanced`` with the step's brightness applied (unchanged if ``weights`` is None); float32 ``(H, W, 3)``."""
    if weights is None:
        return enhanced
    return adjust_brightness(enhanced, exposure_brightness(weights, img, enhanced))


def format_weights(weights: np.ndarray) -> str:
    """The header form of the weights: comma-separated floats."""
    return ",".join(f"{float(w):.6g}" for w in weights)


def store_coefficients(weights: str | os.PathLike, out: str | os.PathLike, coefficients: np.ndarray) -> None:
    """Copy the Net-S weights file ``weights`` to ``out`` with ``coefficients`` in its header (``exposure``),
    where ``Enhancer(exposure=True)`` reads them; the rest of the header is kept."""
    from ..models.weights import load_weights, save_weights

    model, meta = load_weights(weights, expect="student")
    extra = {k: v for k, v in meta.items() if k not in ("model", "config", "exposure")}
    save_weights(out, model, "student", **extra, exposure=format_weights(coefficients))


def parse_weights(text: str) -> np.ndarray:
    """:func:`format_weights`'s text -> ``(N_FEATURES,)`` float64; ValueError if it is not that."""
    try:
        weights = np.array([float(v) for v in text.split(",")])
    except ValueError:
        raise ValueError(f"exposure weights must be {N_FEATURES} comma-separated numbers, got {text!r}") from None
    if weights.shape != (N_FEATURES,) or not np.isfinite(weights).all():
        raise ValueError(f"exposure weights must be {N_FEATURES} finite numbers, got {text!r}")
    return weights
