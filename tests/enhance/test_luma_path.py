import cv2
import numpy as np

from minelight.enhance.brightness import adjust_brightness
from minelight.enhance.enhancer import Enhancer
from minelight.enhance.luma_path import apply_to_luma, brightness_table, chroma_of, frame_views
from minelight.io import from_uint8, to_uint8


def _frame(h: int = 60, w: int = 96, seed: int = 0) -> np.ndarray:
    """A dark, coloured, noisy uint8 RGB frame."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:h, 0:w] / max(h, w)
    base = np.stack([0.3 * xx + 0.05, 0.2 * yy + 0.08, 0.1 + 0.1 * xx * yy], -1)
    base[20:40, 30:60] += 0.25
    return np.clip((base + rng.normal(0, 0.01, base.shape)) * 255 + 0.5, 0, 255).astype(np.uint8)


def test_the_views_are_the_luma_in_float_and_area_and_nearest_copies():
    frame = _frame()
    luma, small, pixels = frame_views(frame, 48)
    values = from_uint8(frame)
    np.testing.assert_allclose(luma, cv2.cvtColor(values, cv2.COLOR_RGB2GRAY), atol=1e-6)
    assert luma.dtype == np.float32 and not np.allclose(luma * 255, np.round(luma * 255))  # not rounded to 8 bits
    assert small.shape == pixels.shape == (30, 48, 3)
    np.testing.assert_allclose(small, cv2.resize(values, (48, 30), interpolation=cv2.INTER_AREA), atol=1e-6)
    np.testing.assert_allclose(pixels * 255, np.round(pixels * 255), atol=1e-4)  # single pixels, not averages
    _, same, _ = frame_views(frame, 200)  # never upsampled
    assert same.shape == frame.shape


def test_the_identity_correction_gives_back_the_frame():
    frame = _frame()
    luma, small, _ = frame_views(frame, 1000)  # the chroma at full size: luma + chroma is the frame itself
    h, w = 15, 24
    identity = np.concatenate([np.ones((1, 3, h, w), np.float32), np.zeros((1, 3, h, w), np.float32)], axis=1)
    out = apply_to_luma(identity, chroma_of(small), luma)
    assert out.dtype == np.uint8 and out.shape == frame.shape
    assert np.abs(out.astype(int) - frame).max() <= 1


def test_gain_and_offset_apply_per_channel_and_clip_to_8_bits():
    luma = np.full((8, 10), 0.5, np.float32)
    correction = np.zeros((1, 6, 2, 2), np.float32)
    correction[0, 0], correction[0, 1], correction[0, 2] = 2.0, 0.5, 1.0  # gains
    correction[0, 5] = 0.8  # blue's offset pushes it over white
    out = apply_to_luma(correction, np.zeros((4, 5, 3), np.float32), luma)
    np.testing.assert_array_equal(out[0, 0], [255, 64, 255])


def test_the_brightness_table_matches_the_control():
    assert brightness_table(1.0) is None
    levels = np.arange(256, dtype=np.uint8).reshape(16, 16)
    for b in (0.5, 2.0):
        expected = to_uint8(adjust_brightness(from_uint8(np.stack([levels] * 3, -1)), b))
        np.testing.assert_array_equal(cv2.LUT(np.stack([levels] * 3, -1), brightness_table(b)), expected)


def test_video_frames_through_the_luma_path_match_the_float_path():
    enhancer = Enhancer.from_recipe("fast", "video")
    assert enhancer._takes_luma_path(None)
    float_state, luma_state = enhancer.denoiser(), enhancer.denoiser()
    for i in range(6):
        frame = _frame(seed=i)
        expected = to_uint8(enhancer.enhance_array(from_uint8(frame), None, float_state))
        out = enhancer.enhance_frame(frame, None, luma_state)
        diff = np.abs(out.astype(int) - expected)
        assert diff.mean() < 0.5 and diff.max() <= 4  # the colour averaged on the view, not at full size


def test_other_recipes_take_the_float_path_unchanged():
    frame = _frame()
    for enhancer in (Enhancer.from_recipe("fast"), Enhancer.from_recipe("clahe", "video"),
                     Enhancer.from_recipe("fast", "video", chroma=4),
                     Enhancer("fast", halo=0.5, chroma_view=True, grain=2.0)):
        assert not enhancer._takes_luma_path(None)
        np.testing.assert_array_equal(enhancer.enhance_frame(frame), to_uint8(enhancer.enhance_array(from_uint8(frame))))


def test_the_brightness_control_reaches_the_luma_path():
    frame = _frame()
    dim, bright = (Enhancer.from_recipe("fast", "video", brightness=b).enhance_frame(frame) for b in (0.5, 2.0))
    assert dim.mean() < Enhancer.from_recipe("fast", "video").enhance_frame(frame).mean() < bright.mean()
