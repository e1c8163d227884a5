import numpy as np
import pytest

from minelight.metrics.temporal import flicker, mean_temporal_change
from minelight.enhance.temporal import SmoothingConfig, TemporalSmoother, momentum_map


def _frame(seed: int, level: float = 0.1, size=(12, 16)) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return (level + 0.002 * rng.standard_normal((*size, 3))).astype(np.float32)


def test_first_frame_and_new_size_reset_the_history():
    cfg = SmoothingConfig(strength=0.8)
    m, reset = momentum_map(None, _frame(0), cfg)
    assert reset and not m.any()
    m, reset = momentum_map(_frame(0), _frame(1, size=(6, 8)), cfg)
    assert reset and not m.any()


def test_static_pixels_get_the_full_strength_and_moving_pixels_none():
    cfg = SmoothingConfig(strength=0.8, motion=0.25)
    prev, cur = _frame(0), _frame(0).copy()
    cur[:3, :3] += 0.1  # a small moving object: 100 % change relative to the brightness
    m, reset = momentum_map(prev, cur, cfg)
    assert not reset
    assert np.allclose(m[6:, 6:], 0.8) and np.all(m[:3, :3] == 0)


def test_scene_cut_resets_the_smoother():
    smoother = TemporalSmoother(SmoothingConfig())
    smoother(_frame(0))
    assert smoother(_frame(1)).max() > 0
    assert smoother(_frame(2, level=0.6)).max() == 0  # a cut to a much brighter scene
    assert smoother.resets == 2


def test_flicker_is_zero_for_identity_and_positive_for_amplified_noise():
    frames = [_frame(i) for i in range(5)]
    assert flicker(frames, frames) == pytest.approx(0.0, abs=1e-9)
    brighter = [np.clip(5 * f, 0, 1) for f in frames]
    assert flicker(frames, brighter) == pytest.approx(4 * mean_temporal_change(frames), rel=1e-4)
    static = np.zeros((12, 16), bool)
    static[:4] = True
    assert flicker(frames, brighter, static) > 0
    with pytest.raises(ValueError):
        flicker(frames, brighter[:3])


def test_output_blend_follows_the_momentum():
    from minelight.enhance.temporal import blend_output

    prev, cur = np.zeros((8, 10, 3), np.float32), np.ones((8, 10, 3), np.float32)
    assert blend_output(None, cur, np.ones((2, 3), np.float32)) is cur
    assert blend_output(prev, cur, np.zeros((2, 3), np.float32)) is cur
    np.testing.assert_allclose(blend_output(prev, cur, np.full((2, 3), 0.75, np.float32)), 0.25, atol=1e-6)
    smoother = TemporalSmoother(SmoothingConfig(output=False))
    assert smoother.smooth_output(cur, np.ones((2, 3), np.float32)) is cur and smoother.output is None
