import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from minelight.enhance.enhancer import enhancer_for
from minelight.enhance.halo import monotone_curve, reduce_halos
from minelight.enhance.recipes import FAST_HALO, STUDENT_HALO
from minelight.metrics.statistics import loe


def _lamp_scene(size: int = 128) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(input, enhanced with a dark ring round the lamp, ring mask): a dark roadway (a ramp with fine
    texture) with a lamp in the middle."""
    rng = np.random.default_rng(0)
    yy, xx = np.mgrid[0:size, 0:size]
    r = np.hypot(yy - size / 2, xx - size / 2)
    ramp = np.linspace(0.03, 0.15, size, dtype=np.float32)[None, :, None]
    img = ramp + rng.uniform(0, 0.004, (size, size, 1)).astype(np.float32) + np.zeros((size, 1, 3), np.float32)
    img[r < 10] = 0.95
    gain = np.where(r < 10, 1.0, np.where(r < 30, 2.0, 6.0)).astype(np.float32)  # the ring: half the gain
    enhanced = np.clip(img * gain[:, :, None], 0, 1)
    return img, enhanced, (r > 14) & (r < 26)


def test_strength_zero_is_the_identity():
    img, enhanced, _ = _lamp_scene()
    assert reduce_halos(img, enhanced, 0.0) is enhanced


def test_guard_lifts_the_dark_ring_and_lowers_the_lightness_order_error():
    img, enhanced, ring = _lamp_scene()
    guarded = reduce_halos(img, enhanced, 1.0)
    assert guarded.shape == enhanced.shape and guarded.dtype == np.float32
    assert 0.0 <= guarded.min() and guarded.max() <= 1.0
    assert guarded[ring].mean() > 1.5 * enhanced[ring].mean()
    assert loe(guarded, img) < 0.5 * loe(enhanced, img)
    half = reduce_halos(img, enhanced, 0.5)
    assert enhanced[ring].mean() < half[ring].mean() < guarded[ring].mean()


def test_guard_keeps_fine_detail():
    img, enhanced, _ = _lamp_scene()
    guarded = reduce_halos(img, enhanced, 1.0)
    # neighbouring-pixel differences (texture) are scaled by the smooth correction, not flattened
    far = (slice(0, 20), slice(0, 20))
    texture_in, texture_out = (np.abs(np.diff(x[far], axis=1)).mean() for x in (enhanced, guarded))
    assert texture_out == pytest.approx(texture_in, rel=0.2)


@settings(max_examples=30, deadline=None)
@given(st.lists(st.floats(0, 1), min_size=5, max_size=200), st.integers(0, 10_000))
def test_monotone_curve_never_decreases(values, seed):
    src = np.array(values, np.float32)
    dst = np.random.default_rng(seed).uniform(0, 1, src.shape).astype(np.float32)
    centres, curve = monotone_curve(src, dst, bins=16)
    assert centres.shape == curve.shape == (16,)
    assert np.all(np.diff(curve) >= 0)
    assert curve.min() >= dst.min() - 1e-6 and curve.max() <= dst.max() + 1e-6


def test_monotone_curve_recovers_a_monotone_mapping():
    src = np.linspace(0, 1, 1000, dtype=np.float32)
    centres, curve = monotone_curve(src, np.sqrt(src), bins=32)
    np.testing.assert_allclose(curve, np.sqrt(centres), atol=0.02)


def test_bad_strength_and_method_steps_are_errors():
    img, enhanced, _ = _lamp_scene(32)
    with pytest.raises(ValueError, match="strength"):
        reduce_halos(img, enhanced, 1.5)
    with pytest.raises(ValueError, match="unknown step"):
        enhancer_for("clahe.net+sharpen")
    guarded = enhancer_for("clahe.net+halo")
    assert guarded.detail is None and guarded.method == "clahe" and guarded.halo == STUDENT_HALO
    assert enhancer_for("fast.net+halo").halo == FAST_HALO


def test_default_strengths_are_usable_and_zero_for_classical_methods():
    from minelight.enhance.halo import check_strength
    from minelight.enhance.recipes import resolve

    assert resolve("student").halo == check_strength(STUDENT_HALO) > 0
    assert resolve("fast", "serve").halo == check_strength(FAST_HALO)
    assert resolve("clahe").halo == resolve("he", "video").halo == 0.0


def test_guard_folded_into_a_correction_matches_the_guard_on_its_output():
    from minelight.enhance.halo import guard_correction
    from minelight.enhance.correction import apply_correction_array

    rng = np.random.default_rng(3)
    low = rng.uniform(0.0, 0.3, (40, 56, 3)).astype(np.float32)
    gain = 1.0 + 1.5 * rng.random((1, 3, 40, 56)).astype(np.float32)  # outputs stay inside [0, 1]
    correction = np.concatenate([gain, np.full((1, 3, 40, 56), 0.02, np.float32)], axis=1)
    assert guard_correction(low, correction, 0.0) is correction
    for strength in (0.5, 1.0):
        folded = apply_correction_array(guard_correction(low, correction, strength), low)
        after = reduce_halos(low, apply_correction_array(correction, low), strength)
        np.testing.assert_allclose(folded, after, atol=1e-5)


def test_fast_enhancer_applies_its_guard_once_inside_the_correction():
    from minelight.enhance.enhancer import Enhancer

    img, _, _ = _lamp_scene(64)
    plain, guarded = Enhancer("fast").enhance_array(img), Enhancer("fast", halo=1.0).enhance_array(img)
    assert guarded.shape == plain.shape and np.abs(guarded - plain).max() > 1e-3
    assert loe(guarded, img) <= loe(plain, img)
