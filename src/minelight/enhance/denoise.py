"""Temporal denoising for fixed cameras: a motion-adaptive recursive filter on the frames before the network.

Every pixel keeps a running average of its recent frames (the *estimate*) and a count ``n`` of the frames
in it. Each new frame is compared with the estimate on a small copy (longest side ``motion_side``): the
per-pixel residual, divided by the noise the frames show at that brightness (estimated from the frames
themselves, :func:`noise_levels`), says how still the pixel is (:func:`stillness`). Still pixels average
one more frame (``n <- n + 1``, up to ``frames``: the current frame gets weight ``1 / n``); moving pixels
start again from the current frame (``n <- 1``: no trail behind people, vehicles or swinging lamps); in
between the count falls smoothly. When most of the frame moves (a cut, a moved camera) or its size
changes, every pixel starts again.

The weights are found at low resolution and blended into the full frame in one pass
(``cv2.blendLinear``): 720p costs about 4 ms on 2 cores. The state is two frame-sized arrays and a few
small ones, whatever the clip's length.

    >>> denoiser = TemporalDenoiser()
    >>> clean = [denoiser(frame) for frame in frames]   # (H, W, 3) float32 in [0, 1] -> same shape

Averaging works where the noise is still simple: on the frames as the camera delivers them, before the
network amplifies and reshapes it (``docs/notes/temporal_denoising.md`` has the measurement).
"""

from __future__ import annotations

from dataclasses import dataclass

import math

import cv2
import numpy as np


@dataclass
class DenoiseConfig:
    frames: int = 16  # most frames averaged per pixel (the current frame's weight never falls below 1/frames)
    still: float = 2.5  # residual, in noise units, up to which a pixel counts as still
    moving: float = 5.0  # residual from which it counts as moving (its average restarts from the current frame)
    motion_side: int = 320  # longest side (pixels) of the copy motion and noise are measured on
    spread: int = 1  # radius (motion pixels) by which motion is widened, so the edges of a mover do not ghost
    scene_cut: float = 0.5  # share of moving pixels that restarts the whole frame (a cut or a moved camera)
    bins: int = 8  # brightness bins of the noise estimate (noise depends on brightness: shot noise, black level)
    noise_rate: float = 0.2  # how fast the noise estimate follows the frames (0-1; 1 = this frame's only)
    black_level: bool = True  # take out the lift that noise clipped at black gives an average (dark scenes)

    def __post_init__(self):
        if self.frames < 1:
            raise ValueError(f"frames must be at least 1, got {self.frames}")
        if not 0 <= self.still < self.moving:
            raise ValueError(f"need 0 <= still < moving, got still={self.still}, moving={self.moving}")
        if self.motion_side < 8 or self.bins < 1 or self.spread < 0:
            raise ValueError("motion_side must be at least 8, bins at least 1, spread at least 0")
        if not 0 < self.scene_cut <= 1 or not 0 < self.noise_rate <= 1:
            raise ValueError("scene_cut and noise_rate must be in (0, 1]")


def motion_size(height: int, width: int, side: int) -> tuple[int, int]:
    """``(h, w)`` of the motion copy of a ``height`` x ``width`` frame: longest side ``side``, never larger."""
    scale = min(1.0, side / max(height, width))
    return max(1, round(height * scale)), max(1, round(width * scale))


def residual(small: np.ndarray, estimate: np.ndarray) -> np.ndarray:
    """Per-pixel residual ``(h, w)`` float32: mean over channels of ``|small - estimate|``."""
    diff = cv2.absdiff(small, estimate)
    return cv2.transform(diff, np.full((1, 3), 1 / 3, np.float32))


def brightness_bin(estimate: np.ndarray, bins: int) -> np.ndarray:
    """Brightness bin ``(h, w)`` int of each pixel of ``estimate`` ``(h, w, 3)``: its channel mean's square root
    in ``bins`` equal steps (finer in the dark, where the noise changes fastest)."""
    mean = cv2.transform(estimate, np.full((1, 3), 1 / 3, np.float32))
    return np.minimum((np.sqrt(np.maximum(mean, 0.0)) * bins).astype(np.intp), bins - 1)


def noise_levels(res: np.ndarray, index: np.ndarray, bins: int, min_pixels: int = 32) -> np.ndarray:
    """Median residual of each brightness bin ``(bins,)`` float32 (NaN for bins with fewer than ``min_pixels``
    pixels). The median ignores the moving pixels as long as they are fewer than half of a bin."""
    res, index = res[::2, ::2].ravel(), index[::2, ::2].ravel()  # a quarter of the pixels is plenty
    order = np.argsort(index, kind="stable")
    counts = np.bincount(index, minlength=bins)
    levels = np.full(bins, np.nan, np.float32)
    start = 0
    for b in range(bins):
        stop = start + counts[b]
        if counts[b] >= min_pixels:
            levels[b] = np.median(res[order[start:stop]])
        start = stop
    return levels


def fill_levels(levels: np.ndarray) -> np.ndarray:
    """``levels`` with NaN bins filled from their nearest measured neighbours (all NaN: unchanged)."""
    known = np.flatnonzero(np.isfinite(levels))
    if known.size == 0 or known.size == levels.size:
        return levels
    return np.interp(np.arange(levels.size), known, levels[known]).astype(np.float32)


def stillness(z: np.ndarray, cfg: DenoiseConfig) -> np.ndarray:
    """``(h, w)`` float32 in [0, 1] from the residual in noise units ``z``: 1 up to ``cfg.still``, 0 from
    ``cfg.moving``, linear in between; then the minimum over a ``2 spread + 1`` square, so motion is widened."""
    w = np.clip((cfg.moving - z) / (cfg.moving - cfg.still), 0.0, 1.0).astype(np.float32)
    if cfg.spread:
        w = cv2.erode(w, np.ones((2 * cfg.spread + 1,) * 2, np.uint8))
    return w


# The clipped-noise model: a pixel of true value y (in the sRGB segment near black, which is linear) seen with
# Gaussian noise of std s and clipped at 0. With t = y / s, its mean is s * _M1(t) and its mean square
# s^2 * _M2(t); the ratio mean^2 / mean square rises monotonically from 0 to 1 with t.
_T = np.linspace(-3.0, 6.0, 721)
_PHI = np.exp(-0.5 * _T**2) / math.sqrt(2 * math.pi)
_CDF = 0.5 * (1.0 + np.array([math.erf(t / math.sqrt(2)) for t in _T]))
_M1 = _T * _CDF + _PHI
_M2 = (_T**2 + 1) * _CDF + _T * _PHI
_RATIO = _M1**2 / _M2
BLACK_RANGE = 0.12  # brightness (sRGB) up to which the clipping is modelled, in BLACK_BINS steps
BLACK_BINS = 24
LIFT_EVERY = 4  # frames between two fits of the lift


def clipped_mean_lift(mean: np.ndarray, square: np.ndarray) -> np.ndarray:
    """How much noise clipped at black lifts the average of pixels: from their temporal ``mean`` and mean
    ``square`` (same shapes) -> ``mean - y`` (>= 0) where ``y`` is the true value of the clipped-Gaussian
    model that has these two moments."""
    ratio = np.clip(mean**2 / np.maximum(square, 1e-12), _RATIO[0], _RATIO[-1])
    t = np.interp(ratio, _RATIO, _T)
    s = mean / np.interp(t, _T, _M1)
    return np.maximum(mean - t * s, 0.0)


def black_lift(mean: np.ndarray, square: np.ndarray, counts: np.ndarray, min_frames: float = 4.0,
               min_pixels: int = 16) -> np.ndarray:
    """The lift per brightness step ``(BLACK_BINS,)`` (0 where unmeasured): pixel values of ``mean`` and
    ``square`` ``(h, w, 3)`` (per-pixel temporal moments of single pixels, not area averages) whose average
    holds at least ``min_frames`` frames, grouped by brightness; the two moments of each group are fitted
    with :func:`clipped_mean_lift`."""
    ok = np.repeat((counts >= min_frames)[..., None], mean.shape[2], axis=2) & (mean < BLACK_RANGE)
    m1, m2 = mean[ok], square[ok]
    index = np.minimum((m1 / BLACK_RANGE * BLACK_BINS).astype(np.intp), BLACK_BINS - 1)
    n = np.bincount(index, minlength=BLACK_BINS)
    s1 = np.bincount(index, m1, minlength=BLACK_BINS)
    s2 = np.bincount(index, m2, minlength=BLACK_BINS)
    lift = np.zeros(BLACK_BINS, np.float32)
    good = n >= min_pixels
    if good.any():
        lift[good] = clipped_mean_lift(s1[good] / n[good], s2[good] / n[good])
    return lift


def next_counts(counts: np.ndarray, still: np.ndarray, frames: int) -> np.ndarray:
    """Frames in each pixel's average after this one: ``1 + still * counts``, at most ``frames``."""
    return np.minimum(1.0 + still * counts, float(frames)).astype(np.float32)


class TemporalDenoiser:
    """The denoising state of one video or camera: the full-resolution estimate, its small copy, each
    pixel's frame count, the noise levels per brightness bin, and ``resets`` (history restarts: the first
    frame, new frame sizes, cuts). Call it with each frame in order; :meth:`reset` on a reconnect.

    The array it returns is its own estimate: valid until the next call (copy it to keep it)."""

    def __init__(self, config: DenoiseConfig | None = None):
        self.config = config or DenoiseConfig()
        self.resets = 0
        self.reset()

    def reset(self) -> None:
        """Forget the history (the noise levels too: a reconnect may bring another camera or gain)."""
        self.estimate: np.ndarray | None = None  # (H, W, 3) float32: the denoised frame
        self.small: np.ndarray | None = None  # (h, w, 3) float32: the estimate at motion resolution
        self.counts: np.ndarray | None = None  # (h, w) float32: frames in each pixel's average
        self.levels: np.ndarray | None = None  # (bins,) float32: residual of still pixels per brightness bin
        self.still: np.ndarray | None = None  # (h, w) float32: the last frame's stillness (for inspection)
        self.moments: tuple[np.ndarray, np.ndarray] | None = None  # single pixels' temporal mean and square
        self.lift: np.ndarray | None = None  # (BLACK_BINS,) the lift of clipped noise per brightness step
        self._lift_table: np.ndarray | None = None  # (256,) the lift per 8-bit brightness
        self._frame_number = 0

    def _restart(self, full: np.ndarray, small: np.ndarray, pixels: np.ndarray | None) -> np.ndarray:
        self.estimate = np.array(full, np.float32, copy=True)
        self.small = np.array(small, np.float32, copy=True)
        self.counts = np.ones(small.shape[:2], np.float32)
        self.still = np.zeros(small.shape[:2], np.float32)
        if self.config.black_level:
            self.moments = (np.array(pixels, np.float32, copy=True), pixels * pixels)  # never the caller's frame
        self.resets += 1
        return self.estimate

    @staticmethod
    def _pixels(frame: np.ndarray, size: tuple[int, int]) -> np.ndarray:
        """Single pixels of ``frame`` on the motion grid (nearest, no averaging: the clipping is per pixel)."""
        h, w = size
        return cv2.resize(frame, (w, h), interpolation=cv2.INTER_NEAREST) if (h, w) != frame.shape[:2] else frame

    def __call__(self, frame: np.ndarray) -> np.ndarray:
        """``(H, W, 3)`` float32 frame in [0, 1] -> the denoised frame, same shape."""
        estimate, lift = self.update(frame)
        if lift is None:
            return estimate
        H, W = estimate.shape[:2]
        return cv2.subtract(estimate, cv2.resize(lift, (W, H), interpolation=cv2.INTER_LINEAR)
                            if lift.shape[:2] != (H, W) else lift)

    def update(self, frame: np.ndarray) -> tuple[np.ndarray, np.ndarray | None]:
        """Take ``frame`` ``(H, W, 3)`` float32 in [0, 1] into the running average: returns the average (full
        size) and the lift ``(h, w, 3)`` at motion resolution that clipped noise gives it near black (``None``:
        none worth taking out); the denoised frame is the average less the lift upsampled bilinearly. A
        caller that upsamples anyway (the fast model's correction) takes the lift out at no full-size cost."""
        frame = np.asarray(frame, np.float32)
        h, w = motion_size(frame.shape[0], frame.shape[1], self.config.motion_side)
        small = cv2.resize(frame, (w, h), interpolation=cv2.INTER_AREA) if (h, w) != frame.shape[:2] else frame
        pixels = self._pixels(frame, (h, w)) if self.config.black_level else None
        return self.update_views(frame, small, pixels)

    def update_views(self, full: np.ndarray, small: np.ndarray,
                     pixels: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray | None]:
        """:meth:`update` from views of a frame the caller has made: ``full`` ``(H, W)`` or ``(H, W, C)``
        float32, what is averaged at full resolution (the frame, or only its luma); ``small`` ``(h, w, 3)`` the
        frame area-downsampled to the motion size (:func:`motion_size`), on which motion and noise are measured
        and which is averaged too (:attr:`small`: the denoised frame at that size); ``pixels`` ``(h, w, 3)`` its
        single pixels at that size (nearest; needed for the black level). Returns the average of ``full`` and
        the lift as :meth:`update`."""
        cfg = self.config
        if cfg.black_level and pixels is None:
            raise ValueError("the black-level step needs the frame's single pixels at motion size")
        h, w = small.shape[:2]
        if self.estimate is None or self.estimate.shape != full.shape or self.small.shape != small.shape:
            return self._restart(full, small, pixels), None
        res = residual(small, self.small)
        # a still pixel's residual holds the noise of the frame and of its n-frame average: sqrt(1 + 1/n) times
        res = res / np.sqrt(1.0 + 1.0 / self.counts)
        index = brightness_bin(self.small, cfg.bins)
        measured = noise_levels(res, index, cfg.bins)
        if self.levels is None:
            self.levels = fill_levels(measured)
        levels = fill_levels(self.levels)
        if not np.isfinite(levels).all():  # no bin measured yet (a tiny frame): one level for all
            levels = np.full(cfg.bins, float(np.median(res)), np.float32)
        z = res / np.maximum(levels[index], 1e-4)
        still = stillness(z, cfg)
        if float((still < 0.5).mean()) > cfg.scene_cut:
            return self._restart(full, small, pixels), None  # the noise levels are kept: same camera, same gain
        ok = np.isfinite(measured)
        self.levels = np.where(ok, np.where(np.isfinite(self.levels), self.levels + cfg.noise_rate
                                            * (measured - self.levels), measured), self.levels).astype(np.float32)
        self.counts = next_counts(self.counts, still, cfg.frames)
        self.still = still
        alpha = 1.0 / self.counts  # (h, w): the current frame's weight
        cv2.blendLinear(small, self.small, alpha, 1.0 - alpha, dst=self.small)
        H, W = full.shape[:2]
        if (h, w) == (H, W):
            full_alpha = alpha
        else:
            full_alpha = cv2.resize(alpha, (W, H), interpolation=cv2.INTER_LINEAR)
        cv2.blendLinear(full, self.estimate, full_alpha, 1.0 - full_alpha, dst=self.estimate)
        return self.estimate, self._lift_map(pixels, alpha) if cfg.black_level else None

    def _lift_map(self, pixels: np.ndarray, alpha: np.ndarray) -> np.ndarray | None:
        """The lift clipped noise gives dark pixels' averages, ``(h, w, 3)`` (smooth), or None if negligible;
        ``pixels``: the frame's single pixels at motion size."""
        mean, square = self.moments
        cv2.blendLinear(pixels, mean, alpha, 1.0 - alpha, dst=mean)
        cv2.blendLinear(cv2.multiply(pixels, pixels), square, alpha, 1.0 - alpha, dst=square)
        self._frame_number += 1
        if self.lift is None or self._frame_number % LIFT_EVERY == 0:  # it changes slowly: refit now and then
            self.lift = black_lift(mean, square, self.counts)
            centres = (np.arange(BLACK_BINS) + 0.5) * (BLACK_RANGE / BLACK_BINS)
            self._lift_table = np.interp(np.arange(256) / 255.0, centres, self.lift, right=0.0).astype(np.float32)
        if float(self.lift.max()) < 0.5 / 255:
            return None
        levels = cv2.convertScaleAbs(self.small, alpha=255.0)  # (h, w, 3) uint8 brightness
        lift = cv2.LUT(levels, self._lift_table)  # (h, w, 3) float32
        lift *= np.minimum(self.counts, 4.0)[..., None] * 0.25  # a pixel that just restarted is one sample
        return cv2.blur(lift, (3, 3))
