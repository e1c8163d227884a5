"""Temporal smoothing of the fast model's low-resolution correction across video frames.

For each frame, :class:`TemporalSmoother` compares the low-resolution input with the previous one and
returns a per-pixel *momentum* ``m`` in [0, ``strength``]: the new correction is
``m * previous + (1 - m) * current``. Static pixels keep ``m = strength`` (an exponential moving average),
pixels that changed by more than ``motion`` (relative to the frame's brightness) get ``m = 0`` (no
ghosting), and a scene cut -- a mean relative change above ``scene_cut``, or a new frame size -- resets
the history (``m = 0`` everywhere).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass
class SmoothingConfig:
    strength: float = 0.8  # momentum of static pixels (0 = no smoothing); EMA time constant ~1/(1-s) frames
    motion: float = 0.25  # relative change at which a pixel counts as moving (momentum ramps 1 -> 0 up to it)
    scene_cut: float = 0.5  # mean relative change that resets the history


def relative_change(previous: np.ndarray, current: np.ndarray) -> np.ndarray:
    """Per-pixel change ``(h, w)``: mean over channels of ``|current - previous|``, divided by the two frames'
    mean brightness (+0.02), so the same motion counts the same in dark and bright footage."""
    scale = 0.5 * (float(previous.mean()) + float(current.mean())) + 0.02
    return np.abs(current - previous).mean(axis=2) / scale


def momentum_map(previous: np.ndarray | None, current: np.ndarray, cfg: SmoothingConfig) -> tuple[np.ndarray, bool]:
    """Momentum ``(h, w)`` float32 for ``current`` ``(h, w, 3)`` given the previous low-resolution frame, and
    whether the history was reset (first frame, new size, or scene cut)."""
    if previous is None or previous.shape != current.shape or cfg.strength <= 0:
        return np.zeros(current.shape[:2], np.float32), True
    change = relative_change(previous, current)
    if float(change.mean()) > cfg.scene_cut:
        return np.zeros(current.shape[:2], np.float32), True
    still = np.clip(1.0 - change / cfg.motion, 0.0, 1.0)
    return (cfg.strength * still).astype(np.float32), False


class TemporalSmoother:
    """The smoothing state of one video: the previous low-resolution frame, the last correction
    (``(1, 6, h, w)``, set by the enhancer) and ``resets``, the number of history resets."""

    def __init__(self, config: SmoothingConfig | None = None):
        self.config = config or SmoothingConfig()
        self.previous: np.ndarray | None = None
        self.correction: np.ndarray | None = None
        self.resets = 0

    def __call__(self, low: np.ndarray) -> np.ndarray:
        momentum, reset = momentum_map(self.previous, low, self.config)
        self.previous = low
        self.resets += int(reset)
        return momentum

    def reset(self) -> None:
        self.previous = self.correction = None
