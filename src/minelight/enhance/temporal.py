"""Temporal smoothing for the fast model on video: its low-resolution correction and its output.

For each frame, :class:`TemporalSmoother` compares a small copy of the frame (longest side ``motion_side``,
or the correction's resolution if that is finer) with the previous one and returns a per-pixel *momentum*
``m`` in [0, ``strength``]. Static pixels keep ``m = strength``, pixels that changed by more than
``motion`` (relative to the frame's brightness) get ``m = 0`` (no ghosting), and a scene cut -- a mean
relative change above ``scene_cut``, or a new frame size -- resets the history (``m = 0`` everywhere).
The momentum is used twice:

1. the correction: ``m * previous + (1 - m) * current`` (an exponential moving average per pixel; ``m``
   area-averaged to the correction's resolution);
2. the output (``output=True``): ``m`` is bilinearly upsampled and the enhanced frame is blended with
   the previous enhanced frame the same way -- a motion-adaptive recursive filter, the classic temporal
   noise reduction of surveillance cameras. The correction alone cannot remove flicker: most of it is
   the sensor noise of each frame multiplied by the brightening gain.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np


@dataclass
class SmoothingConfig:
    strength: float = 0.8  # momentum of static pixels (0 = no smoothing); EMA time constant ~1/(1-s) frames
    motion: float = 0.25  # relative change at which a pixel counts as moving (momentum ramps 1 -> 0 up to it)
    scene_cut: float = 0.5  # mean relative change that resets the history
    output: bool = True  # also blend each enhanced frame with the previous one (temporal noise reduction)
    motion_side: int = 192  # longest side (pixels) of the image motion is measured on (at least the correction's)


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


def blend_output(previous: np.ndarray | None, current: np.ndarray, momentum: np.ndarray) -> np.ndarray:
    """``current + m * (previous - current)`` with the low-resolution momentum ``(h, w)`` upsampled
    bilinearly to ``current`` ``(H, W, 3)``; ``current`` itself when there is no previous frame of its size."""
    if previous is None or previous.shape != current.shape or not momentum.any():
        return current
    m3 = cv2.merge([momentum] * current.shape[2])  # (h, w, 3): OpenCV's element-wise ops need equal shapes
    m3 = cv2.resize(m3, (current.shape[1], current.shape[0]), interpolation=cv2.INTER_LINEAR)
    out = cv2.subtract(previous, current)
    cv2.multiply(out, m3, dst=out)
    return cv2.add(out, current, dst=out)


class TemporalSmoother:
    """The smoothing state of one video: the previous motion image, the last correction
    (``(1, 6, h, w)``, set by the enhancer) and ``resets``, the number of history resets."""

    def __init__(self, config: SmoothingConfig | None = None):
        self.config = config or SmoothingConfig()
        self.previous: np.ndarray | None = None
        self.correction: np.ndarray | None = None
        self.output: np.ndarray | None = None
        self.resets = 0

    def __call__(self, small: np.ndarray) -> np.ndarray:
        """Momentum ``(h, w)`` for the motion image ``small`` ``(h, w, 3)`` (the frame area-downsampled)."""
        momentum, reset = momentum_map(self.previous, small, self.config)
        self.previous = small
        self.resets += int(reset)
        return momentum

    def smooth_output(self, current: np.ndarray, momentum: np.ndarray) -> np.ndarray:
        """The output blend (if ``config.output``); remembers the result for the next frame."""
        if self.config.output:
            current = blend_output(self.output, current, momentum)
            self.output = current
        return current

    def reset(self) -> None:
        self.previous = self.correction = self.output = None
