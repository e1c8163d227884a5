"""The halo guard: pulls the low frequencies of an enhanced image towards a monotone tone curve of its
input, so dark rings around lamps fade while fine detail and denoising stay (``docs/notes/halos.md``).

    out = reduce_halos(img, enhanced, strength=0.5)
"""

from __future__ import annotations

import cv2
import numpy as np

from ..color import lightness

GUARD_SIDE = 64  # shorter side (px) of the copies the curve is fitted on and the correction is made at
CURVE_BINS = 64  # bins of input lightness for the monotone curve


def check_strength(value: float) -> float:
    """``value`` if it is a usable strength (0-1), else ValueError."""
    if not 0.0 <= value <= 1.0:
        raise ValueError(f"halo guard strength must be in [0, 1] (0 = off), got {value}")
    return float(value)


def monotone_curve(src: np.ndarray, dst: np.ndarray, bins: int = CURVE_BINS) -> tuple[np.ndarray, np.ndarray]:
    """A non-decreasing curve from ``src`` to ``dst`` values (same shape, in [0, 1]): ``(centres, values)``,
    each ``(bins,)``: the mean of ``dst`` per bin of ``src`` (empty bins interpolated), then a running max."""
    idx = np.clip((src * bins).astype(np.int64), 0, bins - 1).ravel()
    counts = np.bincount(idx, minlength=bins)
    sums = np.bincount(idx, dst.ravel().astype(np.float64), minlength=bins)
    centres = (np.arange(bins) + 0.5) / bins
    filled = counts > 0
    means = np.interp(centres, centres[filled], sums[filled] / counts[filled])
    return centres, np.maximum.accumulate(means)


def guard_ratio(img: np.ndarray, enhanced: np.ndarray, strength: float, side: int = GUARD_SIDE) -> np.ndarray:
    """``img`` (the input) and ``enhanced`` (a method's output), both ``(H, W, 3)`` float RGB in [0, 1] ->
    the guard's gain ``(H, W)`` float32: the low-resolution ratio (monotone curve of the input's lightness /
    the output's lightness), raised to ``strength``, upsampled bilinearly."""
    h, w = img.shape[:2]
    scale = min(1.0, side / min(h, w))
    size = (max(1, round(w * scale)), max(1, round(h * scale)))
    light_in, light_out = (cv2.resize(lightness(x), size, interpolation=cv2.INTER_AREA) for x in (img, enhanced))
    centres, values = monotone_curve(light_in, light_out)
    ordered = np.interp(light_in, centres, values)
    ratio = (np.maximum(ordered, 1e-3) / np.maximum(light_out, 1e-3)) ** strength
    return cv2.resize(ratio.astype(np.float32), (w, h), interpolation=cv2.INTER_LINEAR)


def reduce_halos(img: np.ndarray, enhanced: np.ndarray, strength: float, side: int = GUARD_SIDE) -> np.ndarray:
    """``img`` (the input) and ``enhanced`` (a method's output), both ``(H, W, 3)`` float RGB in [0, 1] ->
    ``enhanced`` with its low-resolution lightness moved ``strength`` (0-1, in the log domain) of the way
    onto the monotone curve fitted from ``img``'s; float32, same shape, in [0, 1]."""
    strength = check_strength(strength)
    if strength == 0.0:
        return enhanced
    ratio = guard_ratio(img, enhanced, strength, side)
    # cv2.multiply on a 3-channel copy of the ratio: numpy's broadcast over the last axis is several times slower
    out = cv2.multiply(np.ascontiguousarray(enhanced, dtype=np.float32), cv2.merge([ratio, ratio, ratio]))
    return np.clip(out, 0.0, 1.0, out=out)


def guard_correction(low: np.ndarray, correction: np.ndarray, strength: float, side: int = GUARD_SIDE) -> np.ndarray:
    """The guard folded into the fast model's correction, so it costs nothing at full resolution.

    ``low``: the ``(h, w, 3)`` downsampled frame the model saw; ``correction``: its ``(1, 6, h, w)`` output
    (gain A in channels 0-2, offset b in 3-5; the frame is ``A * x + b``). Returns the correction with A
    and b multiplied by the guard's gain, computed from ``low`` and its corrected copy at the guard's
    ``side`` relative to the frame: the same curve and ratio as :func:`reduce_halos`, measured on the
    model's low-resolution view (so the final clip comes after the guard instead of before it)."""
    strength = check_strength(strength)
    if strength == 0.0:
        return correction
    gain, offset = correction[0, :3].transpose(1, 2, 0), correction[0, 3:].transpose(1, 2, 0)
    enhanced = np.clip(gain * low + offset, 0.0, 1.0)
    ratio = guard_ratio(low, enhanced, strength, side)
    return (correction * ratio[None, None]).astype(np.float32)
