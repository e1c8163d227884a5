import numpy as np
import pytest

from minelight.baselines import BASELINES

from ..conftest import scene


@pytest.mark.parametrize("name", sorted(BASELINES))
@pytest.mark.parametrize("size", [(1, 1), (37, 53), (64, 48)])
def test_any_size_in_range_and_deterministic(name, size):
    img = scene(*size, seed=2) * 0.2
    out = BASELINES[name](img)
    assert out.shape == img.shape and out.dtype == np.float32
    assert np.isfinite(out).all() and out.min() >= 0 and out.max() <= 1
    np.testing.assert_array_equal(out, BASELINES[name](img.copy()))


@pytest.mark.parametrize("name", sorted(BASELINES))
def test_brightens_a_dark_image(name):
    dark = scene(64, 80, seed=4) * 0.15
    assert BASELINES[name](dark).mean() > dark.mean() + 0.05


@pytest.mark.parametrize("name", sorted(BASELINES))
def test_rejects_a_wrong_shape(name):
    with pytest.raises(ValueError):
        BASELINES[name](np.zeros((8, 8), np.float32))
