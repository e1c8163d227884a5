"""Noise-aware detail restoration: texture comes back on clean inputs, noise does not on noisy ones."""

import cv2
import numpy as np
import pytest

from minelight.enhance.detail import DetailConfig, bin_floors, fine_band, local_rms, restore_detail
from minelight.enhance.enhancer import Enhancer


def _texture(h: int = 64, w: int = 80) -> np.ndarray:
    """A bright scene ``(H, W, 3)`` in [0, 1]: a vertical ramp, finely textured in its right half only (the
    flat left half is where a noise floor can be measured, as in real images)."""
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    y = 0.4 + 0.2 * yy / h + 0.1 * np.sin(np.pi * xx / 2) * np.sin(np.pi * yy / 3) * (xx >= w // 2)
    return np.repeat(y[:, :, None], 3, axis=2).astype(np.float32)


def _fine_energy(img: np.ndarray) -> float:
    return float(np.abs(fine_band(img.mean(axis=2), 1.5)).mean())


def test_odd_size_in_same_size_out_in_range():
    rng = np.random.default_rng(0)
    low = rng.random((31, 47, 3), dtype=np.float32) * 0.2
    out = restore_detail(low, np.clip(low * 4, 0, 1))
    assert out.shape == low.shape and out.dtype == np.float32
    assert np.isfinite(out).all() and out.min() >= 0.0 and out.max() <= 1.0


def test_clean_texture_is_restored():
    scene = _texture()
    low = scene * 0.3  # darker, noiseless
    smooth = cv2.GaussianBlur(scene, (0, 0), 2.0)  # an enhancement that lost the texture
    out = restore_detail(low, smooth)
    assert _fine_energy(smooth) < 0.5 * _fine_energy(scene)
    assert _fine_energy(out) > 0.7 * _fine_energy(scene)
    assert np.abs(out - scene).mean() < 0.6 * np.abs(smooth - scene).mean()


def test_amplified_noise_is_not_restored():
    rng = np.random.default_rng(1)
    scene = _texture()
    low = np.clip(scene * 0.1 + rng.normal(0, 0.01, scene.shape).astype(np.float32), 0, 1)  # x10 gain: 0.1 noise
    smooth = cv2.GaussianBlur(scene, (0, 0), 2.0)
    np.testing.assert_allclose(restore_detail(low, smooth), smooth, atol=1e-6)


def test_chroma_is_left_alone():
    scene = _texture() * np.array([1.0, 0.8, 0.6], np.float32)
    smooth = cv2.GaussianBlur(scene, (0, 0), 2.0)
    change = restore_detail(scene * 0.1, smooth) - smooth
    assert np.abs(change).max() > 0.01
    np.testing.assert_allclose(change[:, :, 0], change[:, :, 2], atol=1e-6)


def test_noise_floor_follows_signal_dependent_noise():
    rng = np.random.default_rng(2)
    y = np.repeat(np.linspace(0.1, 0.9, 128, dtype=np.float32)[None], 96, axis=0)
    noisy = y + rng.normal(0, 1, y.shape).astype(np.float32) * 0.02 * y  # noise std grows with brightness
    cfg = DetailConfig()
    edges, floors = bin_floors(y, local_rms(fine_band(noisy, 1.5), cfg.window), cfg)
    assert edges.shape == (cfg.bins - 1,) and floors.shape == (cfg.bins,)
    assert np.all(np.diff(floors) > 0)  # brighter bins, more noise
    assert floors[-1] > 3 * floors[0]
    assert 0.005 < floors[-1] < 0.02  # of the order of the fine band's noise there (0.018 x ~0.9)


def test_tiny_and_mismatched_images():
    for shape in ((1, 1, 3), (1, 5, 3), (2, 2, 3)):
        img = np.full(shape, 0.1, np.float32)
        assert restore_detail(img, img * 3).shape == shape
    with pytest.raises(ValueError, match="one size"):
        restore_detail(np.zeros((4, 4, 3), np.float32), np.zeros((4, 5, 3), np.float32))


@pytest.mark.parametrize("method", ["gamma", "fast"])
def test_enhancer_applies_it_after_the_method(method, fast_weights):
    low = _texture() * 0.3
    weights = fast_weights if method == "fast" else None
    plain = Enhancer(method, weights).enhance_array(low)
    restored = Enhancer(method, weights, detail=DetailConfig()).enhance_array(low)
    np.testing.assert_allclose(restored, restore_detail(low, plain), atol=1e-6)
    assert not np.allclose(restored, plain, atol=1e-3)


def test_strips_give_the_whole_image_result(monkeypatch):
    from minelight.enhance import detail

    rng = np.random.default_rng(3)
    scene = cv2.resize(_texture(), (97, 131))
    low = np.clip(scene * 0.2 + rng.normal(0, 0.002, scene.shape).astype(np.float32), 0, 1)
    smooth = cv2.GaussianBlur(scene, (0, 0), 2.0)
    whole = restore_detail(low, smooth)
    assert np.abs(whole - smooth).max() > 0.01  # something was restored
    monkeypatch.setattr(detail, "STRIP_PIXELS", 97 * 20)  # strips of 20 rows
    monkeypatch.setattr(detail, "STATS_STRIDE", 1)
    assert len(detail._strips(131, 97, DetailConfig())) == 7
    np.testing.assert_allclose(restore_detail(low, smooth), whole, atol=1e-5)
    monkeypatch.setattr(detail, "STATS_STRIDE", 4)  # statistics from a subsample: close, not equal
    assert np.abs(restore_detail(low, smooth) - whole).mean() < 2e-3
