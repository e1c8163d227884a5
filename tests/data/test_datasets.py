import numpy as np
import pytest
import torch

from minelight.data.datasets import PairSampler, load_pairs, match_pairs
from minelight.io import ImageError, write_image

from ..conftest import scene


def test_lol_layout_pairs_match_by_name(pair_folder):
    pairs = load_pairs(pair_folder)
    assert [name for name, _, _ in pairs] == ["p0", "p1"]
    name, low, high = pairs[0]
    assert low.shape == high.shape and low.mean() < high.mean()


def test_load_pairs_limit_reads_the_first_pairs_but_still_checks_all_names(pair_folder):
    first = load_pairs(pair_folder, limit=1)
    assert [name for name, _, _ in first] == ["p0"]
    np.testing.assert_array_equal(first[0][1], load_pairs(pair_folder)[0][1])
    write_image(pair_folder / "high" / "orphan.png", scene(48, 56))
    with pytest.raises(ImageError, match="orphan"):
        load_pairs(pair_folder, limit=1)


def test_load_pairs_as_uint8_holds_the_same_8_bit_values(pair_folder):
    as_float, as_uint8 = load_pairs(pair_folder), load_pairs(pair_folder, as_uint8=True)
    for (_, low, high), (_, low8, high8) in zip(as_float, as_uint8):
        assert low8.dtype == high8.dtype == np.uint8
        np.testing.assert_array_equal(low8, np.round(low * 255).astype(np.uint8))
        np.testing.assert_array_equal(high8, np.round(high * 255).astype(np.uint8))


def test_unmatched_names_are_listed(pair_folder):
    write_image(pair_folder / "low" / "orphan.png", scene(48, 56))
    with pytest.raises(ImageError, match="orphan"):
        match_pairs(pair_folder)


def test_missing_subfolder(tmp_path):
    with pytest.raises(ImageError, match="LOL layout"):
        match_pairs(tmp_path)


def test_sampler_is_deterministic_per_step():
    images = [(scene(60, 70, s) * 255).astype(np.uint8) for s in range(3)]
    sampler = PairSampler(images, crop=32, batch_size=4, seed=1)
    low, high = sampler.batch(5)
    assert low.shape == high.shape == (4, 3, 32, 32)
    assert low.mean() < high.mean()
    low2, high2 = PairSampler(images, crop=32, batch_size=4, seed=1).batch(5)
    assert low.equal(low2) and high.equal(high2)
    assert not sampler.batch(6)[1].equal(high)


def test_paired_sampler_crops_the_same_window():
    high = (scene(40, 40) * 255).astype(np.uint8)
    low = high // 4
    lo, hi = PairSampler([high], [low], crop=16, batch_size=2).batch(0)
    assert np.allclose(lo.numpy(), np.floor(hi.numpy() * 255 / 4) / 255, atol=1e-6)


def test_crop_larger_than_images_is_rejected():
    with pytest.raises(ValueError, match="smaller than the crop"):
        PairSampler([np.zeros((10, 10, 3), np.uint8)], crop=32)


def test_mixed_sampler_draws_both_sources_in_share_and_repeats(image_folder):
    from minelight.data.datasets import MixedSampler, PairSampler, load_folder

    images = load_folder(image_folder)
    real = PairSampler(images, [(img // 4) for img in images], crop=32, batch_size=2, seed=0)
    synthetic = PairSampler(images, crop=32, batch_size=2, seed=0)
    mixed = MixedSampler(real, synthetic, 0.75, seed=0)
    sources = [mixed.source(step) is real for step in range(400)]
    assert 0.68 < np.mean(sources) < 0.82
    step = sources.index(True)
    assert torch.equal(mixed.batch(step)[0], real.batch(step)[0])
    assert torch.equal(mixed.batch(step)[0], MixedSampler(real, synthetic, 0.75, seed=0).batch(step)[0])
    with pytest.raises(ValueError, match="share"):
        MixedSampler(real, synthetic, 1.5)
