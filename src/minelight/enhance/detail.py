"""Noise-aware detail restoration for an enhanced low-light image.

Net-S is trained on heavily noisy synthetic pairs, so it smooths away fine texture even where the input
had little noise. ``restore_detail`` puts the input's finest luma detail back, amplified by the local
brightness gain the enhancement applied, but only where that amplified detail stands clearly above the
input's noise floor:

1. ``gain`` = blurred output luma / blurred input luma (the local brightening, ``(H, W)``);
2. fine detail = luma minus its Gaussian blur (scale ``sigma`` px), for the input (times ``gain``) and
   for the output;
3. noise floor = for each input-brightness bin, a low percentile of the local RMS of the amplified
   input detail: flat regions exist at most brightness levels and there the detail is the noise
   (signal-dependent noise, so one floor per brightness level, not one per image);
4. weight = 1 where the floor is below ``noise_low``, 0 above ``noise_high``, linear between;
5. output luma detail -> weight * amplified input detail + (1 - weight) * output detail, added equally to
   R, G and B (chroma stays as the enhancement made it).

All values are in [0, 1] image units; the noise levels are standard deviations of the fine band.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from ..color import luma

STRIP_PIXELS = 4_000_000  # larger images are restored in strips of about this many pixels
STATS_STRIDE = 4  # ... and their noise statistics come from every 4th row and column


@dataclass
class DetailConfig:
    sigma: float = 2.5  # px, Gaussian scale that separates the fine band from the rest
    gain_sigma: float = 4.0  # px, Gaussian scale of the local gain map
    gain_eps: float = 1 / 255  # added to both blurred lumas so the gain stays finite (damps it below ~eps)
    # fine-band noise floor (output units) up to which detail is fully restored, and from which none is;
    # chosen with sigma on the SICE validation split (experiments/detail_tuning.py -> docs/notes/detail_tuning.md)
    noise_low: float = 0.0025
    noise_high: float = 0.0225
    bins: int = 16  # input-brightness bins (equal counts) for the noise floor
    percentile: float = 25.0  # of the local RMS in a bin, taken as its noise floor
    window: int = 7  # px, side of the local RMS window


def fine_band(y: np.ndarray, sigma: float) -> np.ndarray:
    """``(H, W)`` -> its detail finer than a Gaussian of ``sigma`` px, ``(H, W)`` float32."""
    return y - cv2.GaussianBlur(y, (0, 0), sigma)


def local_rms(detail: np.ndarray, window: int) -> np.ndarray:
    """RMS of ``detail`` ``(H, W)`` over a ``window`` x ``window`` neighbourhood, ``(H, W)``."""
    return np.sqrt(np.maximum(cv2.blur(detail * detail, (window, window)), 0.0))


def bin_floors(y: np.ndarray, rms: np.ndarray, cfg: DetailConfig) -> tuple[np.ndarray, np.ndarray]:
    """Brightness-bin edges ``(bins - 1,)`` (equal pixel counts of ``y``) and each bin's noise floor
    ``(bins,)``: the ``cfg.percentile`` of ``rms`` among its pixels. ``y``, ``rms``: same shape."""
    edges = np.quantile(y, np.linspace(0.0, 1.0, cfg.bins + 1)[1:-1]).astype(np.float32)
    idx = np.searchsorted(edges, y.ravel(), side="right").astype(np.uint16)  # bin of each pixel, 0 .. bins-1
    by_bin = np.split(rms.ravel()[np.argsort(idx, kind="stable")],  # (a radix sort for 16-bit keys)
                      np.cumsum(np.bincount(idx, minlength=cfg.bins))[:-1])
    floors = np.array([np.percentile(v, cfg.percentile) if v.size else 0.0 for v in by_bin], np.float32)
    return edges, floors


def _maps(low: np.ndarray, enhanced: np.ndarray, cfg: DetailConfig) -> dict[str, np.ndarray]:
    """Input luma, amplified input detail, output detail and the local RMS of the former, each ``(H, W)``."""
    y_in, y_out = luma(low).astype(np.float32, copy=False), luma(enhanced).astype(np.float32, copy=False)
    gain = ((cv2.GaussianBlur(y_out, (0, 0), cfg.gain_sigma) + cfg.gain_eps)
            / (cv2.GaussianBlur(y_in, (0, 0), cfg.gain_sigma) + cfg.gain_eps))
    detail_in = gain * fine_band(y_in, cfg.sigma)
    return {"y": y_in, "detail_in": detail_in, "detail_out": fine_band(y_out, cfg.sigma),
            "rms": local_rms(detail_in, cfg.window)}


def _strips(height: int, width: int, cfg: DetailConfig) -> list[tuple[int, int, int, int]]:
    """``(r0, r1, h0, h1)``: output rows ``r0:r1`` computed from rows ``h0:h1`` (with a halo wider than every
    filter's reach, so strips give the same result as the whole image). One strip up to ``STRIP_PIXELS``."""
    rows = height if height * width <= STRIP_PIXELS else max(1, STRIP_PIXELS // width)
    halo = int(4 * max(cfg.sigma, cfg.gain_sigma)) + cfg.window + 4
    return [(r0, min(r0 + rows, height), max(0, r0 - halo), min(height, r0 + rows + halo))
            for r0 in range(0, height, rows)]


def restore_detail(low: np.ndarray, enhanced: np.ndarray, cfg: DetailConfig | None = None) -> np.ndarray:
    """``low`` (the input) and ``enhanced`` (its enhancement), both ``(H, W, 3)`` float RGB in [0, 1] ->
    ``enhanced`` with the input's fine luma detail restored where its amplified noise is low, ``(H, W, 3)``
    float32 in [0, 1].

    Images over ``STRIP_PIXELS`` go in strips of rows (memory stays bounded; the bins' statistics then come
    from every ``STATS_STRIDE``-th row and column), each strip computed twice: statistics, then output."""
    if low.shape != enhanced.shape or low.ndim != 3 or low.shape[2] != 3:
        raise ValueError(f"expected two (H, W, 3) images of one size, got {low.shape} and {enhanced.shape}")
    cfg = cfg or DetailConfig()
    strips = _strips(low.shape[0], low.shape[1], cfg)
    stride = 1 if len(strips) == 1 else STATS_STRIDE
    samples, maps = [], None
    for r0, r1, h0, h1 in strips:
        maps = _maps(low[h0:h1], enhanced[h0:h1], cfg)
        first = r0 + (-r0) % stride - h0  # first sampled row of the strip, on the global grid
        samples.append([maps[k][first:r1 - h0:stride, ::stride].ravel() for k in ("y", "rms")])
    edges, floors = bin_floors(*(np.concatenate(parts) for parts in zip(*samples)), cfg)
    out = np.empty(enhanced.shape, np.float32)
    for r0, r1, h0, h1 in strips:
        if len(strips) > 1:
            maps = _maps(low[h0:h1], enhanced[h0:h1], cfg)
        m = {k: v[r0 - h0:r1 - h0] for k, v in maps.items()}
        floor = floors[np.searchsorted(edges, m["y"], side="right")]
        weight = np.clip((cfg.noise_high - floor) / (cfg.noise_high - cfg.noise_low), 0.0, 1.0)
        change = weight * (m["detail_in"] - m["detail_out"])
        np.clip(enhanced[r0:r1] + change[:, :, None], 0.0, 1.0, out=out[r0:r1])
    return out
