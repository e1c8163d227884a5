"""Mine-like low-light degradation synthesiser.

``degrade(img, rng)`` turns a well-lit RGB image into a plausible dark mine-camera frame:

1. sRGB -> linear light;
2. colour cast (per-channel gains of the lamps' spectrum);
3. illumination = ambient exposure (log-uniform) + point lamps with radial fall-off;
4. coal-dust haze (scattering model ``I = J t + A (1 - t)`` with a low, lamp-lit airlight) and a glare
   halo around each lamp;
5. optionally a blur (optics, in-camera smoothing), then Poisson-Gaussian sensor noise (shot noise with
   a random full-well, plus read noise), in linear light;
6. clip, linear -> sRGB, a tone curve (a small jitter, optionally a camera-like power), and JPEG
   compression.

All randomness comes from one ``numpy.random.Generator``, so a seed fixes the result.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np


@dataclass
class DegradeConfig:
    exposure: tuple[float, float] = (0.02, 0.6)  # ambient gain in linear light, sampled log-uniformly
    cast: float = 0.12  # std of per-channel gain deviation (colour cast)
    lamp_prob: float = 0.5  # probability of having point lamps
    max_lamps: int = 2
    lamp_gain: tuple[float, float] = (0.3, 2.0)  # lamp peak gain relative to full illumination
    lamp_radius: tuple[float, float] = (0.08, 0.35)  # fall-off radius as a fraction of the image diagonal
    haze_prob: float = 0.4
    transmission: tuple[float, float] = (0.55, 0.95)  # haze transmission t
    glare: tuple[float, float] = (0.0, 0.4)  # halo strength relative to the lamp gain
    blur: tuple[float, float] = (0.0, 0.0)  # Gaussian blur sigma in px, uniform (optics, a camera's own
    # smoothing: SICE's real dark frames are softer than their targets); (0, 0) = none, nothing drawn
    full_well: tuple[float, float] = (300.0, 8000.0)  # photons at full scale, log-uniform (shot noise)
    read_noise: tuple[float, float] = (0.0005, 0.005)  # std of read noise in linear light
    gamma_jitter: float = 0.08  # tone curve exponent in 1 +/- this
    tone: tuple[float, float] = (1.0, 1.0)  # extra tone exponent, uniform in this range: a camera's curve
    # darkens shadows more than highlights at short exposures (SICE's real dark frames: ~1.5; see
    # experiments/synth_vs_real.py); (1, 1) = none, and then no random number is drawn for it
    jpeg_prob: float = 0.7
    jpeg_quality: tuple[int, int] = (50, 95)


def srgb_to_linear(x: np.ndarray) -> np.ndarray:
    """sRGB-encoded values in [0, 1] -> linear light (IEC 61966-2-1)."""
    return np.where(x <= 0.04045, x / 12.92, ((x + 0.055) / 1.055) ** 2.4).astype(np.float32)


def linear_to_srgb(x: np.ndarray) -> np.ndarray:
    """Linear light in [0, 1] -> sRGB-encoded values."""
    x = np.clip(x, 0.0, 1.0)
    return np.where(x <= 0.0031308, x * 12.92, 1.055 * np.power(x, 1 / 2.4) - 0.055).astype(np.float32)


def log_uniform(rng: np.random.Generator, lo: float, hi: float) -> float:
    """One draw from ``rng``, log-uniform in [``lo``, ``hi``]."""
    return float(np.exp(rng.uniform(np.log(lo), np.log(hi))))


def _lamps(h: int, w: int, rng: np.random.Generator, cfg: DegradeConfig) -> tuple[np.ndarray, np.ndarray]:
    """Lamp illumination and glare halo, each ``(H, W, 1)`` in linear gain units."""
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    diag = float(np.hypot(h, w))
    light = np.zeros((h, w), np.float32)
    halo = np.zeros((h, w), np.float32)
    if rng.random() < cfg.lamp_prob:
        for _ in range(int(rng.integers(1, cfg.max_lamps + 1))):
            cy, cx = rng.uniform(-0.1, 1.1) * h, rng.uniform(-0.1, 1.1) * w
            radius = rng.uniform(*cfg.lamp_radius) * diag
            gain = rng.uniform(*cfg.lamp_gain)
            d2 = ((yy - cy) ** 2 + (xx - cx) ** 2) / radius**2
            light += gain / (1.0 + d2)
            halo += gain * rng.uniform(*cfg.glare) * np.exp(-4.0 * d2)
    return light[:, :, None], halo[:, :, None]


def degrade(img: np.ndarray, rng: np.random.Generator | int, cfg: DegradeConfig | None = None,
            noise_rng: np.random.Generator | None = None) -> np.ndarray:
    """Degrade a well-lit image. ``img``: float32 ``(H, W, 3)`` in [0, 1]; returns the same shape and range.

    ``noise_rng``: if given, the sensor noise is drawn from it instead of ``rng`` -- the frames of a static
    scene (same ``rng`` seed, a new ``noise_rng`` per frame) share everything but their noise."""
    if img.ndim != 3 or img.shape[2] != 3:
        raise ValueError(f"expected an (H, W, 3) image, got shape {img.shape}")
    cfg = cfg or DegradeConfig()
    rng = np.random.default_rng(rng) if not isinstance(rng, np.random.Generator) else rng
    h, w, _ = img.shape

    linear = srgb_to_linear(np.clip(img, 0.0, 1.0))
    cast = np.clip(1.0 + rng.normal(0.0, cfg.cast, 3), 0.6, 1.4).astype(np.float32)
    cast /= cast.mean()
    exposure = log_uniform(rng, *cfg.exposure)
    lamp_light, halo = _lamps(h, w, rng, cfg)
    illumination = exposure + lamp_light  # (H, W, 1)
    x = linear * cast * illumination

    if rng.random() < cfg.haze_prob:
        t = rng.uniform(*cfg.transmission)
        airlight = exposure * rng.uniform(0.3, 1.0) * cast
        x = x * t + airlight * (1.0 - t)
    x = x + halo * cast

    if cfg.blur != (0.0, 0.0):
        x = cv2.GaussianBlur(x, (0, 0), max(rng.uniform(*cfg.blur), 1e-3))
    full_well = log_uniform(rng, *cfg.full_well)
    noise = rng if noise_rng is None else noise_rng
    x = np.clip(x, 0.0, 1.0)
    x = noise.poisson(x * full_well).astype(np.float32) / full_well
    read_std = rng.uniform(*cfg.read_noise)
    x = x + noise.normal(0.0, read_std, x.shape).astype(np.float32)

    out = linear_to_srgb(x)
    power = 1.0 + rng.uniform(-cfg.gamma_jitter, cfg.gamma_jitter)
    if cfg.tone != (1.0, 1.0):
        power *= rng.uniform(*cfg.tone)
    out = out ** np.float32(power)
    if rng.random() < cfg.jpeg_prob:
        quality = int(rng.integers(cfg.jpeg_quality[0], cfg.jpeg_quality[1] + 1))
        bgr = np.round(out[:, :, ::-1] * 255).astype(np.uint8)
        _, buf = cv2.imencode(".jpg", bgr, [cv2.IMWRITE_JPEG_QUALITY, quality])
        out = cv2.imdecode(buf, cv2.IMREAD_COLOR)[:, :, ::-1].astype(np.float32) / 255.0
    return np.ascontiguousarray(np.clip(out, 0.0, 1.0), dtype=np.float32)


def light_corruption(img: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Mild corruption for Net-T's input: exposure jitter (x0.8-1.25 in linear light), Gaussian noise
    (std up to 0.02) and, half of the time, a small blur (sigma 0.4-1.0 px). Same shape and range."""
    x = linear_to_srgb(srgb_to_linear(img) * np.float32(np.exp(rng.uniform(np.log(0.8), np.log(1.25)))))
    if rng.random() < 0.5:
        x = cv2.GaussianBlur(x, (0, 0), rng.uniform(0.4, 1.0))
    x = x + rng.normal(0.0, rng.uniform(0.0, 0.02), x.shape).astype(np.float32)
    return np.clip(x, 0.0, 1.0).astype(np.float32)
