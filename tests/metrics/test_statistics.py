import numpy as np
import pytest

from minelight.metrics.statistics import avg_gradient, contrast, entropy, loe, mean_brightness


def test_flat_image_has_no_entropy_contrast_or_gradient():
    flat = np.full((20, 30, 3), 0.6, np.float32)
    assert entropy(flat) == 0.0 and contrast(flat) == 0.0 and avg_gradient(flat) == 0.0
    assert mean_brightness(flat) == pytest.approx(153.0)


def test_two_level_image_has_one_bit_of_entropy_and_known_contrast():
    img = np.zeros((10, 10, 3), np.float32)
    img[:, 5:] = 1.0
    assert entropy(img) == pytest.approx(1.0)
    assert contrast(img) == pytest.approx(127.5)
    # one vertical edge column of height 9 (forward differences on 9x9): |dx| = 255 -> sqrt(255^2 / 2)
    assert avg_gradient(img) == pytest.approx(9 * 255 / np.sqrt(2) / 81)


def test_loe_is_zero_for_monotone_maps_and_positive_for_order_flips():
    rng = np.random.default_rng(0)
    img = rng.random((40, 60, 3)).astype(np.float32) * 0.3
    assert loe(np.sqrt(img), img) == 0.0
    assert loe(1.0 - img, img) > 0.0
    with pytest.raises(ValueError):
        loe(img[:10], img)
