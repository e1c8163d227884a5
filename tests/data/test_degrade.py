import numpy as np
import pytest

from minelight.data.degrade import DegradeConfig, degrade, light_corruption, linear_to_srgb, srgb_to_linear

from ..conftest import scene


def test_darkens_and_stays_in_range():
    img = scene(64, 64)
    for seed in range(8):
        low = degrade(img, seed)
        assert low.shape == img.shape and low.dtype == np.float32
        assert low.min() >= 0 and low.max() <= 1
    means = [degrade(img, s, DegradeConfig(lamp_prob=0.0)).mean() for s in range(8)]
    assert max(means) < img.mean()


def test_reproducible_per_seed_and_varies_across_seeds():
    img = scene(40, 50)
    np.testing.assert_array_equal(degrade(img, 3), degrade(img, 3))
    assert not np.array_equal(degrade(img, 3), degrade(img, 4))


def test_noise_rng_gives_frames_of_one_static_scene():
    img = scene(48, 48)
    cfg = DegradeConfig(jpeg_prob=0)
    a = degrade(img, 5, cfg, noise_rng=np.random.default_rng(1))
    b = degrade(img, 5, cfg, noise_rng=np.random.default_rng(2))
    np.testing.assert_array_equal(a, degrade(img, 5, cfg, noise_rng=np.random.default_rng(1)))
    assert not np.array_equal(a, b)
    assert abs(float(a.mean()) - float(b.mean())) < 0.1 * float(a.mean())  # same scene, same light


def test_noise_is_signal_dependent():
    flat = np.full((64, 64, 3), 0.5, np.float32)
    cfg = DegradeConfig(exposure=(0.5, 0.5), lamp_prob=0, haze_prob=0, jpeg_prob=0, cast=0, gamma_jitter=0,
                        read_noise=(0.0, 0.0), full_well=(200.0, 200.0))
    bright = degrade(flat, 0, cfg)
    cfg.exposure = (0.05, 0.05)
    dark = degrade(flat, 0, cfg)
    # shot noise: relative noise (std/mean in linear light) grows as the signal falls
    rel = [srgb_to_linear(x).std() / srgb_to_linear(x).mean() for x in (bright, dark)]
    assert rel[1] > 2 * rel[0]


def _clean(**kw) -> DegradeConfig:
    return DegradeConfig(exposure=(0.3, 0.3), lamp_prob=0, haze_prob=0, jpeg_prob=0, cast=0, gamma_jitter=0,
                         read_noise=(0.0, 0.0), full_well=(1e9, 1e9), **kw)


def test_tone_power_crushes_shadows_more_than_highlights():
    ramp = np.repeat(np.linspace(0.05, 1.0, 64, dtype=np.float32)[None, :, None], 3, axis=2).repeat(8, axis=0)
    plain = degrade(ramp, 0, _clean())
    toned = degrade(ramp, 0, _clean(tone=(1.5, 1.5)))
    assert np.all(toned <= plain + 1e-6)
    # the log-log slope against the clean ramp steepens: dark end falls by a larger factor than the bright
    ratio = toned[0] / plain[0]
    assert ratio[0].mean() < ratio[-1].mean() - 0.1


def test_blur_removes_fine_detail_and_keeps_the_mean():
    rng = np.random.default_rng(0)
    texture = rng.uniform(0.2, 0.9, (48, 48, 3)).astype(np.float32)
    sharp = degrade(texture, 0, _clean())
    soft = degrade(texture, 0, _clean(blur=(1.0, 1.0)))
    assert np.abs(np.diff(soft, axis=1)).mean() < 0.5 * np.abs(np.diff(sharp, axis=1)).mean()
    mean_linear = [float(srgb_to_linear(x).mean()) for x in (sharp, soft)]
    assert abs(mean_linear[1] - mean_linear[0]) < 0.03 * mean_linear[0]  # blurred in linear light


def test_srgb_roundtrip():
    x = np.linspace(0, 1, 101, dtype=np.float32)
    np.testing.assert_allclose(linear_to_srgb(srgb_to_linear(x)), x, atol=1e-5)


def test_light_corruption_is_mild():
    img = scene(32, 32)
    out = light_corruption(img, np.random.default_rng(0))
    assert out.shape == img.shape and np.abs(out - img).mean() < 0.15


def test_rejects_wrong_shape():
    with pytest.raises(ValueError):
        degrade(np.zeros((8, 8)), 0)
