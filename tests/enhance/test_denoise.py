import numpy as np
import pytest

from minelight.enhance.denoise import (DenoiseConfig, TemporalDenoiser, clipped_mean_lift, fill_levels, next_counts,
                                       stillness)

H, W = 48, 64


def _scene() -> np.ndarray:
    """A still, textured, mid-dark scene (H, W, 3) float32."""
    yy, xx = np.mgrid[0:H, 0:W].astype(np.float32)
    return np.stack([0.25 + 0.1 * np.sin(xx / 5), 0.2 + 0.1 * np.cos(yy / 4), 0.15 + 0.05 * np.sin((xx + yy) / 7)],
                    -1).astype(np.float32)


def _noisy(clean: np.ndarray, rng: np.random.Generator, std: float = 0.03) -> np.ndarray:
    return np.clip(clean + rng.normal(0, std, clean.shape), 0, 1).astype(np.float32)


def test_a_still_noisy_scene_comes_out_closer_to_the_clean_scene_than_any_single_frame():
    rng, clean, denoiser = np.random.default_rng(0), _scene(), TemporalDenoiser(DenoiseConfig(motion_side=32))
    frames = [_noisy(clean, rng) for _ in range(20)]
    outs = [denoiser(f).copy() for f in frames]
    single = min(np.abs(f - clean).mean() for f in frames)
    assert np.abs(outs[-1] - clean).mean() < 0.4 * single  # 16 frames averaged: about 1/4 of the noise
    assert denoiser.resets == 1 and np.median(denoiser.counts) == 16 and denoiser.counts.min() >= 8


def test_a_moving_square_leaves_no_trail():
    rng, background = np.random.default_rng(1), _scene()
    denoiser = TemporalDenoiser(DenoiseConfig(motion_side=32))
    for t in range(24):  # a bright 12-px square crossing at 2 px a frame
        frame = background.copy()
        x = 2 * t
        frame[18:30, x:x + 12] = 0.9
        out = denoiser(_noisy(frame, rng, 0.01))
    behind = (slice(18, 30), slice(2 * 23 - 14, 2 * 23 - 2))  # where the square was 1-7 frames ago
    assert np.abs(out[behind] - background[behind]).max() < 0.06  # no bright ghost (the square is +0.65)
    assert np.abs(out[behind] - background[behind]).mean() < 0.015  # background within the noise
    assert np.abs(out[18:30, 46:58] - 0.9).mean() < 0.03  # the square itself is where it is now


def test_a_cut_restarts_every_pixel_from_the_new_frame():
    rng, denoiser = np.random.default_rng(2), TemporalDenoiser(DenoiseConfig(motion_side=32))
    for _ in range(10):
        denoiser(_noisy(_scene(), rng))
    other = _noisy(np.roll(_scene(), 20, axis=1)[::-1] * 2.5, rng)  # another scene, brighter
    out = denoiser(other)
    assert denoiser.resets == 2 and np.array_equal(out, other) and denoiser.counts.max() == 1
    assert denoiser(_noisy(np.zeros((H // 2, W // 2, 3), np.float32), rng)).shape == (H // 2, W // 2, 3)
    assert denoiser.resets == 3  # a new frame size restarts too


def test_the_callers_frames_are_never_written_to():
    rng = np.random.default_rng(7)
    for side in (32, 320):  # a motion copy smaller than the frame, and the frame itself
        denoiser, frames = TemporalDenoiser(DenoiseConfig(motion_side=side)), [_noisy(_scene(), rng) for _ in range(6)]
        copies = [f.copy() for f in frames]
        for f in frames:
            denoiser(f)
        assert all(np.array_equal(f, c) for f, c in zip(frames, copies))


def test_the_state_keeps_its_size_over_a_long_clip():
    rng, denoiser = np.random.default_rng(3), TemporalDenoiser(DenoiseConfig(motion_side=32))
    clean = _scene()
    denoiser(_noisy(clean, rng))
    sizes = None
    for t in range(300):
        frame = _noisy(clean, rng)
        frame[5:15, t % 50:t % 50 + 10] = 0.8  # something moving now and then
        denoiser(frame)
        state = [a.nbytes for a in (denoiser.estimate, denoiser.small, denoiser.counts, denoiser.levels,
                                     *denoiser.moments)]
        assert sizes is None or state == sizes
        sizes = state
    assert denoiser.counts.max() <= DenoiseConfig().frames


def test_noise_clipped_at_black_does_not_lift_the_average():
    rng = np.random.default_rng(4)
    clean = np.full((H, W, 3), 0.004, np.float32)  # nearly black: half the noise is clipped away
    clean[:, W // 2:] = 0.3  # and a brighter half, whose noise is not clipped
    frames = [_noisy(clean, rng, 0.02) for _ in range(24)]
    plain = np.mean(frames, axis=0)
    off, on = TemporalDenoiser(DenoiseConfig(motion_side=32, black_level=False)), TemporalDenoiser(
        DenoiseConfig(motion_side=32))
    for f in frames:
        out_off, out_on = off(f).copy(), on(f)
    dark = (slice(4, -4), slice(4, W // 2 - 4))
    assert plain[dark].mean() - 0.004 > 0.005  # the plain average is lifted
    assert abs(out_off[dark].mean() - plain[dark].mean()) < 0.002
    assert abs(out_on[dark].mean() - 0.004) < 0.4 * (plain[dark].mean() - 0.004)
    bright = (slice(4, -4), slice(W // 2 + 4, -4))
    assert abs(out_on[bright].mean() - 0.3) < 0.003  # nothing taken from what is not clipped


def test_the_clipped_gaussian_fit_recovers_the_true_level():
    rng = np.random.default_rng(5)
    for y in (0.0, 0.01, 0.03):
        v = np.maximum(0.0, y + rng.normal(0, 0.02, 200_000))
        assert clipped_mean_lift(np.array([v.mean()]), np.array([(v * v).mean()]))[0] == pytest.approx(v.mean() - y,
                                                                                                        abs=6e-4)


def test_the_pure_steps():
    cfg = DenoiseConfig(still=2.0, moving=4.0, spread=0)
    np.testing.assert_allclose(stillness(np.array([[0.0, 2.0, 3.0, 4.0, 9.0]], np.float32), cfg),
                               [[1.0, 1.0, 0.5, 0.0, 0.0]])
    spread = stillness(np.array([[0.0, 0.0, 9.0, 0.0, 0.0]], np.float32), DenoiseConfig(spread=1))
    np.testing.assert_allclose(spread, [[1.0, 0.0, 0.0, 0.0, 1.0]])  # motion widened by one pixel
    np.testing.assert_allclose(next_counts(np.array([1.0, 5.0, 16.0]), np.array([1.0, 0.0, 1.0]), 16),
                               [2.0, 1.0, 16.0])
    np.testing.assert_allclose(fill_levels(np.array([np.nan, 2.0, np.nan, 4.0], np.float32)), [2, 2, 3, 4])
    for bad in ({"frames": 0}, {"still": 3.0, "moving": 2.0}, {"scene_cut": 0.0}, {"motion_side": 4}):
        with pytest.raises(ValueError):
            DenoiseConfig(**bad)


def test_the_fast_model_gets_closer_to_its_clean_output_with_the_denoiser():
    from minelight.enhance.enhancer import Enhancer

    rng, clean = np.random.default_rng(6), _scene() * 0.4
    enhancer = Enhancer.from_recipe("fast", "video", denoise=True)
    assert enhancer.denoise is not None and Enhancer.from_recipe("fast", "video", denoise=False).denoiser() is None
    reference = enhancer.enhance_array(clean)
    denoiser = enhancer.denoiser()
    frames = [_noisy(clean, rng, 0.02) for _ in range(20)]
    outs = [enhancer.enhance_array(f, None, denoiser) for f in frames]
    single = enhancer.enhance_array(frames[-1])
    assert np.abs(outs[-1] - reference).mean() < 0.5 * np.abs(single - reference).mean()
