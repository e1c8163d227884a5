import cv2
import numpy as np
import pytest

from minelight.enhance.chroma import LUMA_WEIGHTS, check_radius, reduce_colour_noise, view_chroma
from minelight.enhance.enhancer import Enhancer, enhancer_for
from minelight.enhance.recipes import resolve


def _speckled_scene(size: int = 96, noise: float = 0.08) -> tuple[np.ndarray, np.ndarray]:
    """(clean, noisy): a mid-grey scene, dark teal on the left and light orange on the right (a colour edge
    that is also a lightness edge), with independent noise added to each channel."""
    clean = np.empty((size, size, 3), np.float32)
    clean[:, : size // 2] = (0.15, 0.35, 0.40)
    clean[:, size // 2 :] = (0.80, 0.60, 0.40)
    rng = np.random.default_rng(0)
    return clean, (clean + rng.normal(0, noise, clean.shape)).clip(0, 1).astype(np.float32)


def _chroma(img: np.ndarray) -> np.ndarray:
    return img - (img @ LUMA_WEIGHTS)[..., None]


def test_radius_zero_is_the_identity():
    _, noisy = _speckled_scene()
    assert reduce_colour_noise(noisy, 0) is noisy


def test_colour_speckle_is_averaged_away_and_the_luma_kept():
    clean, noisy = _speckled_scene()
    out = reduce_colour_noise(noisy, 4)
    assert out.shape == noisy.shape and out.dtype == np.float32 and 0 <= out.min() and out.max() <= 1
    inner = np.s_[4:-4, 4:40]  # away from the border and the edge
    assert _chroma(out)[inner].std(axis=(0, 1)).max() < 0.5 * _chroma(noisy)[inner].std(axis=(0, 1)).min()
    unclipped = (noisy > 0.01).all(axis=2) & (noisy < 0.99).all(axis=2) & (out > 0).all(axis=2) & (out < 1).all(axis=2)
    np.testing.assert_allclose((out @ LUMA_WEIGHTS)[unclipped], (noisy @ LUMA_WEIGHTS)[unclipped], atol=1e-5)


def test_a_colour_edge_that_is_a_lightness_edge_bleeds_far_less_than_under_a_blur():
    clean, _ = _speckled_scene()
    luma = (clean @ LUMA_WEIGHTS)[..., None]
    blurred = luma + cv2.blur(_chroma(clean), (17, 17), borderType=cv2.BORDER_REFLECT)  # the same window, no guide
    near = np.s_[:, 44:52]  # four pixels either side of the edge
    bleed = {eps: np.abs(reduce_colour_noise(clean, 8, eps)[near] - clean[near]).max() for eps in (1e-2, 1e-3)}
    assert bleed[1e-2] < 0.5 * np.abs(blurred[near] - clean[near]).max()
    assert bleed[1e-3] < bleed[1e-2]  # a smaller eps keeps weaker edges


@pytest.mark.parametrize("shape", [(1, 1, 3), (1, 7, 3), (3, 2, 3), (33, 17, 3)])
def test_tiny_and_odd_images_keep_their_shape(shape):
    img = np.random.default_rng(1).uniform(0.2, 0.8, shape).astype(np.float32)
    out = reduce_colour_noise(img, 4)
    assert out.shape == shape and np.isfinite(out).all()


@pytest.mark.parametrize("bad", [-1, 1.5, True, float("nan")])
def test_a_bad_radius_is_refused(bad):
    with pytest.raises(ValueError, match="radius"):
        check_radius(bad)


def test_benchmark_steps_take_the_recipe_strengths():
    assert enhancer_for("fast.net+chroma").chroma == resolve("fast").chroma > 0 and enhancer_for("fast.net").chroma == 0
    clahe = enhancer_for("clahe.net+halo+chroma")
    assert (clahe.chroma, clahe.halo > 0) == (resolve("fast").chroma, True)


def test_the_enhancer_applies_the_step_after_the_method():
    _, noisy = _speckled_scene()
    plain, smoothed = Enhancer("gamma").enhance_array(noisy), Enhancer("gamma", chroma=4).enhance_array(noisy)
    inner = np.s_[4:-4, 4:40]
    assert _chroma(smoothed)[inner].std(axis=(0, 1)).max() < 0.5 * _chroma(plain)[inner].std(axis=(0, 1)).min()
    with pytest.raises(ValueError, match="radius"):
        Enhancer("gamma", chroma=-2)


def test_the_view_chroma_keeps_the_luma_and_averages_the_colour_noise():
    clean, noisy = _speckled_scene(size=96, noise=0.03)
    viewed = view_chroma(noisy, side=24)
    assert viewed.shape == noisy.shape and viewed.dtype == np.float32
    np.testing.assert_allclose(viewed @ LUMA_WEIGHTS, noisy @ LUMA_WEIGHTS, atol=1e-5)
    inner = np.s_[8:-8, 8:36]  # inside the teal half
    assert _chroma(viewed)[inner].std(axis=(0, 1)).max() < 0.5 * _chroma(noisy)[inner].std(axis=(0, 1)).min()
    np.testing.assert_allclose(viewed[inner].mean(axis=(0, 1)), clean[inner].mean(axis=(0, 1)), atol=0.02)
    assert view_chroma(noisy, side=96) is noisy  # a frame no larger than the view: nothing to average


def test_the_cheap_form_is_the_fast_models_and_its_default_on_video_only():
    assert resolve("fast", "video").chroma_view and not resolve("fast").chroma_view
    assert not resolve("fast", "video", chroma=0).chroma_view and not resolve("fast", "serve", chroma=4).chroma_view
    assert not resolve("student", "video").chroma_view
    with pytest.raises(ValueError, match="fast model"):
        Enhancer("gamma", chroma_view=True)
    assert enhancer_for("fast.net+halo+chromaview").chroma_view


def test_the_enhancer_applies_the_fast_models_correction_to_the_viewed_chroma(fast_weights):
    _, noisy = _speckled_scene(size=400)
    plain = Enhancer("fast", fast_weights).enhance_array(noisy * 0.3)
    viewed = Enhancer("fast", fast_weights, chroma_view=True).enhance_array(noisy * 0.3)
    assert viewed.shape == plain.shape and not np.array_equal(viewed, plain)
    inner = np.s_[8:-8, 8:190]
    assert _chroma(viewed)[inner].std(axis=(0, 1)).sum() < 0.8 * _chroma(plain)[inner].std(axis=(0, 1)).sum()
