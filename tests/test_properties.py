"""Property tests: random bytes and random small arrays never crash the readers or the Enhancer."""

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from minelight.enhance.enhancer import Enhancer
from minelight.io import ImageError, decode_image

SETTINGS = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
PNG, JPEG = b"\x89PNG\r\n\x1a\n", b"\xff\xd8\xff"


@SETTINGS
@given(st.one_of(st.binary(max_size=600), st.binary(max_size=600).map(lambda b: PNG + b),
                 st.binary(max_size=600).map(lambda b: JPEG + b)))
def test_random_bytes_decode_or_raise_image_error(data):
    try:
        img = decode_image(data, "random")
    except ImageError as err:
        assert "random" in str(err) and "\n" not in str(err)
        return
    assert img.ndim == 3 and img.shape[2] == 3 and img.dtype == np.float32
    assert np.isfinite(img).all() and img.min() >= 0 and img.max() <= 1


@pytest.mark.parametrize("method", ["student", "fast", "clahe", "he", "gamma"])
def test_random_small_arrays_enhance_to_the_same_shape(method, student_weights, fast_weights):
    weights = {"student": student_weights, "fast": fast_weights}.get(method)
    enhancer = Enhancer(method, weights)

    @SETTINGS
    @given(arrays(np.float32, st.tuples(st.integers(1, 12), st.integers(1, 12), st.just(3)),
                  elements=st.floats(0, 1, width=32)))
    def check(img):
        out = enhancer.enhance_array(img)
        assert out.shape == img.shape and out.dtype == np.float32
        assert np.isfinite(out).all() and out.min() >= 0 and out.max() <= 1

    check()


@SETTINGS
@given(arrays(np.float32, st.lists(st.integers(1, 5), min_size=1, max_size=4).map(tuple)))
def test_wrong_shapes_are_value_errors(img):
    if img.ndim == 3 and img.shape[2] == 3:
        return
    with pytest.raises(ValueError):
        Enhancer("gamma").enhance_array(img)
