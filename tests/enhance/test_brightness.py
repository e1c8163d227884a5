import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from minelight.enhance.brightness import adjust_brightness
from minelight.enhance.enhancer import Enhancer

from ..conftest import scene


@settings(max_examples=30, deadline=None)
@given(st.floats(0.25, 4.0), st.floats(0.25, 4.0))
def test_brightness_moves_every_pixel_monotonically_and_never_clips(a, b):
    img = np.clip(scene(16, 16) * 1.2 - 0.1, 0, 1).astype(np.float32)
    low, high = sorted((a, b))
    out_low, out_high = adjust_brightness(img, low), adjust_brightness(img, high)
    assert np.all(out_high >= out_low - 1e-6)
    assert out_low.min() >= 0 and out_high.max() <= 1
    assert np.all(out_high[img >= 1.0] == 1.0) and np.all(out_low[img <= 0.0] == 0.0)  # white and black stay


def test_brightness_one_is_identity_and_range_is_checked():
    img = scene(8, 8)
    assert adjust_brightness(img, 1.0) is img
    with pytest.raises(ValueError, match="brightness"):
        adjust_brightness(img, 5.0)


def test_enhancer_applies_brightness_last(student_weights):
    img = 0.2 * scene(32, 40)
    plain = Enhancer("clahe").enhance_array(img)
    brighter = Enhancer("clahe", brightness=1.5).enhance_array(img)
    assert brighter.mean() > plain.mean() + 0.02
    np.testing.assert_allclose(brighter, adjust_brightness(plain, 1.5), atol=1e-6)
    assert Enhancer("student", student_weights, brightness=0.8).enhance_array(img).mean() < \
        Enhancer("student", student_weights).enhance_array(img).mean()
