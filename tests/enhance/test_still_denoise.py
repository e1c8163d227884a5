import numpy as np
import pytest

from minelight.enhance.enhancer import Enhancer, enhancer_for
from minelight.enhance.recipes import describe, resolve
from minelight.enhance.still_denoise import FILTERS, NOISE_FLOOR, check_strength, denoise_still, estimate_noise, luma


def _flat_and_edge(size: int = 96) -> np.ndarray:
    """A clean grey scene: a dark left half, a light right half (one vertical edge), a gentle ramp."""
    yy, _ = np.mgrid[0:size, 0:size] / size
    img = np.where(np.arange(size) < size // 2, 0.3, 0.7)[None, :] + 0.1 * yy
    return np.repeat(img[..., None], 3, axis=2).astype(np.float32)


def _noisy(clean: np.ndarray, sigma: float, seed: int = 0) -> np.ndarray:
    """``clean`` plus the same Gaussian noise in every channel (grey grain: the luma's std is ``sigma``)."""
    noise = np.random.default_rng(seed).normal(0, sigma, clean.shape[:2])[..., None]
    return np.clip(clean + noise, 0, 1).astype(np.float32)


@pytest.mark.parametrize("sigma", [0.01, 0.03, 0.06])
def test_the_estimate_of_known_gaussian_noise_on_a_flat_image_is_within_10_percent(sigma):
    flat = np.full((128, 128, 3), 0.5, np.float32)
    assert estimate_noise(_noisy(flat, sigma)) == pytest.approx(sigma, rel=0.1)


def test_edges_ramps_and_clipped_black_do_not_read_as_noise():
    clean = _flat_and_edge()
    assert estimate_noise(clean) < 0.1 * NOISE_FLOOR
    half_black = _noisy(clean, 0.03)
    half_black[:, :48] = 0.0  # a clipped region: noise there is invisible, it must not pull the estimate down
    assert estimate_noise(half_black) == pytest.approx(0.03, rel=0.15)


@pytest.mark.parametrize("filter", sorted(FILTERS))
def test_a_clean_image_is_left_as_it_is(filter):
    clean = _flat_and_edge()
    assert denoise_still(clean, 8.0, filter=filter) is clean
    slightly = _noisy(clean, 0.5 * NOISE_FLOOR)  # below the floor: untouched too
    assert denoise_still(slightly, 8.0, filter=filter) is slightly


@pytest.mark.parametrize("filter, strength", [("guided", 8.0), ("nlm", 2.0), ("nlm", 4.0)])
def test_a_noisy_image_is_closer_to_the_clean_one_and_its_edge_stays(filter, strength):
    clean = _flat_and_edge()
    noisy = _noisy(clean, 0.05)
    out = denoise_still(noisy, strength, filter=filter)
    assert out.shape == noisy.shape and out.dtype == np.float32 and 0 <= out.min() and out.max() <= 1
    assert np.mean((out - clean) ** 2) < 0.25 * np.mean((noisy - clean) ** 2)
    step = luma(out)[8:-8, 52:56].mean() - luma(out)[8:-8, 40:44].mean()
    assert step == pytest.approx(0.4, abs=0.03)  # the edge is not blurred into its neighbours


@pytest.mark.parametrize("filter", sorted(FILTERS))
def test_colour_is_carried_over_and_a_stronger_step_removes_more(filter):
    clean = _flat_and_edge() * np.array([1.0, 0.8, 0.6], np.float32)
    noisy = _noisy(clean, 0.05)
    weak, strong = denoise_still(noisy, 1.0, filter=filter), denoise_still(noisy, 4.0, filter=filter)
    assert estimate_noise(strong) < estimate_noise(weak) < estimate_noise(noisy)
    inner = np.s_[4:-4, 4:40]
    np.testing.assert_allclose((strong - luma(strong)[..., None])[inner], (noisy - luma(noisy)[..., None])[inner],
                               atol=1e-5)


def test_strength_zero_is_off_and_a_bad_strength_is_refused():
    noisy = _noisy(_flat_and_edge(), 0.05)
    assert denoise_still(noisy, 0.0) is noisy
    for bad in (-1.0, float("nan"), True):
        with pytest.raises(ValueError, match="grain strength"):
            check_strength(bad)
    with pytest.raises(ValueError, match="image"):
        estimate_noise(np.zeros((8, 8, 4), np.float32))
    with pytest.raises(ValueError, match="grain filter"):
        denoise_still(noisy, 1.0, filter="median")


def test_the_recipe_gives_the_step_to_still_images_of_both_networks_only():
    assert resolve("student").grain > 0 and resolve("fast").grain > 0
    for method in ("student", "fast"):
        assert resolve(method, "video").grain == 0 and resolve(method, "serve").grain == 0
        assert resolve(method, "video", grain=2.0).grain == 0  # never on video: the temporal denoiser is there
    assert resolve("clahe").grain == 0 and resolve("clahe", grain=2.0).grain == 2.0
    assert resolve("student", grain=0).grain == 0
    assert "grain 2 guided" in describe(resolve("clahe", grain=2.0))


def test_the_enhancer_applies_the_step_after_the_method():
    noisy = _noisy(_flat_and_edge(), 0.05)
    plain, grained = Enhancer("gamma").enhance_array(noisy), Enhancer("gamma", grain=4.0).enhance_array(noisy)
    assert np.array_equal(Enhancer.from_recipe("gamma", grain=4.0).enhance_array(noisy), grained)
    assert estimate_noise(grained) < 0.5 * estimate_noise(plain)
    with pytest.raises(ValueError, match="grain strength"):
        Enhancer("gamma", grain=-1.0)
    with pytest.raises(ValueError, match="grain filter"):
        Enhancer("gamma", grain=1.0, grain_filter="median")
    fast_grain = enhancer_for("fast.net+grain")
    assert (fast_grain.grain, fast_grain.grain_filter) == (resolve("fast").grain, resolve("fast").grain_filter)
