import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from minelight.models.weights import load_weights, save_weights
from minelight.weights import WeightsError
from minelight.cli import app
from minelight.enhance.enhancer import Enhancer, enhancer_for
from minelight.enhance.exposure import (N_FEATURES, apply_exposure, exposure_brightness, exposure_features, fit_exposure,
                                format_weights, matching_brightness, parse_weights, store_coefficients)
from minelight.io import read_image, write_image

BRIGHTEN = np.array([np.log(2.0), 0.0, 0.0, 0.0, 0.0])  # b = 2 for every image


def _image(seed: int = 0, scale: float = 0.3) -> np.ndarray:
    return (scale * np.random.default_rng(seed).random((40, 56, 3))).astype(np.float32)


def _with_exposure(weights, coefficients: np.ndarray, out):
    store_coefficients(weights, out, coefficients)
    return out


@settings(max_examples=25, deadline=None)
@given(st.floats(0.05, 0.6), st.floats(0.1, 0.9))
def test_matching_brightness_brings_the_mean_to_the_target(scale, target):
    out = _image(1, scale) + 0.02
    b = matching_brightness(out, target)
    from minelight.enhance.brightness import MAX_BRIGHTNESS, MIN_BRIGHTNESS, adjust_brightness

    reached = adjust_brightness(out[::4, ::4], b).mean()
    assert MIN_BRIGHTNESS <= b <= MAX_BRIGHTNESS
    assert abs(reached - target) < 1e-3 or b in (pytest.approx(MIN_BRIGHTNESS), pytest.approx(MAX_BRIGHTNESS))


def test_fit_recovers_known_coefficients():
    rng = np.random.default_rng(0)
    truth = np.array([0.2, -0.3, 0.1, 0.05, 0.4])
    feats = np.column_stack([np.ones(50), rng.normal(size=(50, N_FEATURES - 1))])
    assert np.allclose(fit_exposure(feats, feats @ truth), truth)
    with pytest.raises(ValueError):
        fit_exposure(feats[:, :3], feats @ truth)


def test_features_are_finite_on_a_black_image():
    black = np.zeros((8, 8, 3), np.float32)
    feats = exposure_features(black, black)
    assert feats.shape == (N_FEATURES,) and np.isfinite(feats).all() and feats[0] == 1.0


def test_step_brightens_by_the_predicted_brightness_and_never_clips():
    img = _image()
    enhanced = np.clip(img * 2, 0, 1)
    enhanced[0, 0] = 1.0
    assert apply_exposure(img, enhanced, None) is enhanced
    out = apply_exposure(img, enhanced, BRIGHTEN)
    assert exposure_brightness(BRIGHTEN, img, enhanced) == pytest.approx(2.0)
    assert (out >= enhanced - 1e-6).all() and out.max() <= 1.0 and out[0, 0].tolist() == [1.0, 1.0, 1.0]
    assert out.mean() > enhanced.mean() + 0.05


def test_header_text_round_trips_and_bad_text_is_refused():
    assert np.allclose(parse_weights(format_weights(BRIGHTEN)), BRIGHTEN)
    for bad in ("1,2,3", "a,b,c,d,e", "1,2,3,4,nan"):
        with pytest.raises(ValueError):
            parse_weights(bad)


def test_enhancer_applies_the_step_the_weights_carry(tmp_path, student_weights):
    carrying = _with_exposure(student_weights, BRIGHTEN, tmp_path / "exp.safetensors")
    img = _image()
    plain = Enhancer("student", student_weights, exposure=True).enhance_array(img)
    assert np.array_equal(plain, Enhancer("student", student_weights).enhance_array(img))  # nothing to apply
    off = Enhancer("student", carrying).enhance_array(img)
    on = Enhancer("student", carrying, exposure=True).enhance_array(img)
    assert np.allclose(on, np.clip(off, 0, 1) ** 0.5, atol=1e-5)
    assert np.allclose(enhancer_for("student.net+exposure", weights=carrying).enhance_array(img), on)


def test_weights_with_a_broken_exposure_header_are_refused(tmp_path, student_weights):
    model, meta = load_weights(student_weights)
    broken = tmp_path / "broken.safetensors"
    save_weights(broken, model, meta["model"], exposure="1,2")
    with pytest.raises(WeightsError, match="exposure"):
        Enhancer("student", broken, exposure=True)


def test_cli_applies_the_step_to_images_unless_told_not_to(tmp_path, student_weights):
    carrying = _with_exposure(student_weights, BRIGHTEN, tmp_path / "exp.safetensors")
    src = tmp_path / "dark.png"
    write_image(src, _image())
    runner = CliRunner()
    means = {}
    for flag in ("--exposure", "--no-exposure"):
        out = tmp_path / f"out{flag}.png"
        result = runner.invoke(app, ["enhance", str(src), "-o", str(out), "--weights", str(carrying),
                                     "--backend", "torch", "--no-detail", "--halo", "0", flag])
        assert result.exit_code == 0, result.output
        means[flag] = read_image(out).mean()
    assert means["--exposure"] > means["--no-exposure"] + 0.05
