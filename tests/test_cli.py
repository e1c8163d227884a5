"""The `minelight` command end to end on temp files (typer's CliRunner)."""

import numpy as np
import pytest
from typer.testing import CliRunner

from minelight.enhance.brightness import adjust_brightness
from minelight.weights import read_metadata
from minelight.cli import app
from minelight.io import read_image, write_image


runner = CliRunner()


def _one_line_error(result, code: int = 1) -> str:
    """The one ``error:`` line of a command that failed with exit ``code``: 1 for a failed job (the README's
    promise), 2 for a wrong command line."""
    assert result.exit_code == code, (result.exit_code, result.output)
    assert "Traceback" not in result.output
    lines = [line for line in result.output.splitlines() if line.startswith("error:")]
    assert len(lines) == 1, result.output
    return lines[0]


def test_enhance_folder_mirrors_names(tmp_path, image_folder, student_weights):
    out = tmp_path / "out"
    result = runner.invoke(app, ["enhance", str(image_folder), "-o", str(out), "--weights", str(student_weights)])
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in out.iterdir()) == ["im0.png", "im1.png", "im2.png"]
    assert read_image(out / "im0.png").shape == (70, 90, 3)


def test_enhance_student_restores_detail_with_detail_and_by_default_only_if_chosen(tmp_path, student_weights):
    from minelight.enhance.detail import DetailConfig
    from minelight.enhance.enhancer import Enhancer
    from minelight.enhance.recipes import resolve
    from minelight.io import from_uint8, to_uint8, write_image

    yy, xx = np.mgrid[0:70, 0:90]
    src = tmp_path / "dark.png"  # dark and clean, fine stripes in its right half: detail comes back
    write_image(src, np.repeat((0.1 + 0.05 * yy / 70 + 0.03 * (xx % 2) * (xx > 45))[:, :, None], 3, axis=2))
    for flag, detail in (("--detail", DetailConfig()), ("--no-detail", None), ("", DetailConfig() if resolve("student").detail else None)):
        dst = tmp_path / f"{flag or 'default'}.png"
        result = runner.invoke(app, ["enhance", str(src), "-o", str(dst), "--weights", str(student_weights)]
                               + ([flag] if flag else []))
        assert result.exit_code == 0, result.output
        recipe = resolve("student")
        expected = Enhancer("student", student_weights, backend="auto", detail=detail, halo=recipe.halo,
                            chroma=recipe.chroma, grain=recipe.grain,
                            grain_filter=recipe.grain_filter).enhance_array(read_image(src))  # the default steps
        np.testing.assert_allclose(read_image(dst), from_uint8(to_uint8(expected)), atol=1.5 / 255)
    assert not np.array_equal(read_image(tmp_path / "--detail.png"), read_image(tmp_path / "--no-detail.png"))


def test_enhance_single_file_to_file_with_baseline(tmp_path, image_folder):
    dst = tmp_path / "x.jpg"
    result = runner.invoke(app, ["enhance", str(image_folder / "im1.png"), "-o", str(dst), "--method", "clahe"])
    assert result.exit_code == 0, result.output
    assert read_image(dst).shape == (70, 90, 3)


def test_enhance_16bit_output(tmp_path, image_folder):
    out = tmp_path / "o16"
    result = runner.invoke(app, ["enhance", str(image_folder), "-o", str(out), "-m", "gamma", "--bits", "16"])
    assert result.exit_code == 0, result.output
    import cv2

    assert cv2.imread(str(out / "im0.png"), cv2.IMREAD_UNCHANGED).dtype == np.uint16


@pytest.mark.parametrize("case", ["missing", "corrupt", "empty_folder", "unknown_method", "bad_weights",
                                  "same_as_input", "zero_bytes", "truncated_jpeg", "random_bytes", "too_many_pixels",
                                  "mismatched_weights", "output_not_writable"])
def test_bad_inputs_give_one_line_error_and_no_output(tmp_path, image_folder, teacher_weights, case):
    out = tmp_path / "out"
    src = str(image_folder / "im0.png")
    args = ["enhance", src, "-o", str(out), "-m", "clahe"]
    if case == "missing":
        args[1] = str(tmp_path / "nope.png")
    elif case == "corrupt":
        bad = tmp_path / "bad.png"
        bad.write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(range(200)))
        args[1] = str(bad)
    elif case == "empty_folder":
        (tmp_path / "empty").mkdir()
        args[1] = str(tmp_path / "empty")
    elif case == "unknown_method":
        args[-1] = "magic"
    elif case == "bad_weights":
        junk = tmp_path / "w.safetensors"
        junk.write_bytes(b"not weights")
        args = ["enhance", src, "-o", str(out), "--weights", str(junk)]
    elif case == "same_as_input":
        args = ["enhance", src, "-o", src, "-m", "clahe"]
    elif case == "zero_bytes":
        (tmp_path / "zero.png").write_bytes(b"")
        args[1] = str(tmp_path / "zero.png")
    elif case == "truncated_jpeg":
        import cv2

        ok, buf = cv2.imencode(".jpg", (read_image(src) * 255).astype(np.uint8))
        (tmp_path / "cut.jpg").write_bytes(buf.tobytes()[:200])
        args[1] = str(tmp_path / "cut.jpg")
    elif case == "random_bytes":
        (tmp_path / "noise.jpg").write_bytes(np.random.default_rng(0).bytes(3000))
        args[1] = str(tmp_path / "noise.jpg")
    elif case == "too_many_pixels":
        args += ["--max-pixels", "100"]
    elif case == "mismatched_weights":
        args = ["enhance", src, "-o", str(out), "-m", "student", "--weights", str(teacher_weights)]
    elif case == "output_not_writable":
        blocker = tmp_path / "blocker"
        blocker.write_text("a file where a folder is needed")
        out = blocker / "sub"
        args = ["enhance", src, "-o", str(out / "x.png"), "-m", "clahe"]
    before = read_image(src)
    result = runner.invoke(app, args)
    line = _one_line_error(result)
    assert len(line) < 300
    assert not out.exists() or not any(out.iterdir())
    np.testing.assert_array_equal(read_image(src), before)


def _special_image(kind: str):
    rng = np.random.default_rng(0)
    if kind == "16bit":
        return rng.integers(0, 65535, (20, 24, 3), dtype=np.uint16)
    if kind == "gray":
        return rng.integers(0, 255, (20, 24), dtype=np.uint8)
    if kind == "rgba":
        return rng.integers(0, 255, (20, 24, 4), dtype=np.uint8)
    return rng.integers(0, 255, (1, 1, 3), dtype=np.uint8)  # 1x1


@pytest.mark.parametrize("kind", ["16bit", "gray", "rgba", "1x1", "palette"])
def test_unusual_but_valid_images_are_enhanced(tmp_path, kind):
    import cv2

    src = tmp_path / "in.png"
    if kind == "palette":
        import zlib

        def chunk(tag, data):
            return len(data).to_bytes(4, "big") + tag + data + zlib.crc32(tag + data).to_bytes(4, "big")

        header = (5).to_bytes(4, "big") + (4).to_bytes(4, "big") + bytes([8, 3, 0, 0, 0])  # 5x4, 8-bit palette
        rows = b"".join(b"\x00" + bytes([i % 3] * 5) for i in range(4))
        palette = bytes([255, 0, 0, 0, 255, 0, 0, 0, 255])
        src.write_bytes(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"PLTE", palette)
                        + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b""))
        shape = (4, 5)
    else:
        img = _special_image(kind)
        cv2.imwrite(str(src), img)
        shape = img.shape[:2]
    out = tmp_path / "out.png"
    result = runner.invoke(app, ["enhance", str(src), "-o", str(out), "-m", "gamma"])
    assert result.exit_code == 0, result.output
    written = read_image(out)
    assert written.shape == (*shape, 3)


def test_one_bad_file_in_a_folder_fails_the_job_but_keeps_the_rest(tmp_path, image_folder):
    (image_folder / "zz.jpg").write_bytes(b"garbage")
    (image_folder / "readme.txt").write_text("not an image")
    out = tmp_path / "out"
    result = runner.invoke(app, ["enhance", str(image_folder), "-o", str(out), "-m", "he", "--quiet"])
    assert result.exit_code == 1 and "zz.jpg" in result.output and "Traceback" not in result.output
    assert "skipped 1 non-image file" in result.output
    assert sorted(p.name for p in out.iterdir()) == ["im0.png", "im1.png", "im2.png"]


def test_synth_writes_lol_layout(tmp_path, image_folder):
    out = tmp_path / "synth"
    result = runner.invoke(app, ["synth", "--src", str(image_folder), "-o", str(out), "--seed", "3"])
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in (out / "low").iterdir()) == sorted(p.name for p in (out / "high").iterdir())
    low = read_image(out / "low" / "im0.png")
    assert low.mean() < read_image(out / "high" / "im0.png").mean()


@pytest.mark.train
def test_train_student_cli_tiny(tmp_path, image_folder, pair_folder):
    out = tmp_path / "run"
    sets = ["--set", "model.widths=8,8,8", "--set", "model.rir_groups=1", "--set", "exposure_filter=false",
            "--set", "log_every=1"]
    result = runner.invoke(app, ["train", "student", "--data", str(image_folder), "--val", str(pair_folder),
                                 "-o", str(out), "--steps", "2", "--batch-size", "2", "--crop", "32",
                                 "--teacher", "random", "--set", "distill.levels=1,2", "--quiet", *sets])
    assert result.exit_code == 0, result.output
    assert (out / "model.safetensors").exists() and (out / "log.csv").exists()
    result = runner.invoke(app, ["enhance", str(image_folder), "-o", str(tmp_path / "e"), "--weights",
                                 str(out / "model.safetensors")])
    assert result.exit_code == 0, result.output
    tuned = tmp_path / "tuned"  # fine-tune the run's weights; then the same with a missing file
    args = ["train", "student", "--data", str(image_folder), "--steps", "1", "--batch-size", "2", "--crop", "32",
            "--quiet", *sets]
    result = runner.invoke(app, [*args, "-o", str(tuned), "--init", str(out / "model.safetensors")])
    assert result.exit_code == 0, result.output
    assert '"init": "' + str(out / "model.safetensors") in read_metadata(tuned / "model.safetensors")["run_config"]
    line = _one_line_error(runner.invoke(app, [*args, "-o", str(tmp_path / "x"), "--init", str(tmp_path / "no")]))
    assert "--init" in line and "no such weights file" in line


@pytest.mark.train
def test_train_with_bad_override_is_one_line(tmp_path, image_folder):
    result = runner.invoke(app, ["train", "teacher", "--data", str(image_folder), "--set", "bogus=1"])
    assert "unknown config key" in _one_line_error(result)


def test_info_fits_80_columns_shows_versions_and_says_when_weights_are_a_fine_tune():
    from minelight.weights import read_metadata, shipped_weights

    result = runner.invoke(app, ["info"], env={"COLUMNS": "80"})
    assert result.exit_code == 0 and "student" in result.output
    assert max(len(line) for line in result.output.splitlines()) <= 80
    assert read_metadata(shipped_weights("student"))["version"] in result.output
    assert "a fine-tune" in result.output  # the shipped Net-S was trained with --init


@pytest.mark.train
def test_score_writes_one_row_per_image_and_a_mean_row(tmp_path, image_folder):
    csv_path = tmp_path / "s.csv"
    result = runner.invoke(app, ["score", str(image_folder), "--metrics", "entropy,contrast,psnr",
                                 "--reference", str(image_folder), "-o", str(csv_path)])
    assert result.exit_code == 0, result.output
    lines = csv_path.read_text().splitlines()
    assert lines[0] == "name,entropy,contrast,psnr"
    assert [line.split(",")[0] for line in lines[1:]] == ["im0", "im1", "im2", "mean"]


@pytest.mark.parametrize("args", [["--metrics", "psnr"], ["--metrics", "bogus"], ["--metrics", "loe"]])
def test_score_bad_requests_are_one_line_errors(tmp_path, image_folder, args):
    _one_line_error(runner.invoke(app, ["score", str(image_folder), *args]))


def test_benchmark_end_to_end_writes_parseable_reports(tmp_path, pair_folder, image_folder, student_weights,
                                                       monkeypatch):
    import csv

    from minelight.enhance import enhancer as enhance

    monkeypatch.setattr(enhance, "shipped_weights", lambda name: student_weights)
    out = tmp_path / "report"
    result = runner.invoke(app, ["benchmark", "--methods", "input,student,gamma.net+detail,clahe", "--paired",
                                 f"P={pair_folder}", "--unpaired", f"U={image_folder}", "-o", str(out), "--quiet"])
    assert result.exit_code == 0, result.output
    with (out / "results.csv").open() as f:
        rows = list(csv.DictReader(f))
    assert {r["method"] for r in rows} == {"input", "student", "clahe", "gamma.net+detail"}
    loe_input = [float(r["value"]) for r in rows if r["method"] == "input" and r["metric"] == "loe"]
    assert loe_input and max(loe_input) == 0.0  # the input row is the input itself
    assert {r["dataset"] for r in rows} == {"P", "U"}
    assert {"psnr", "ssim", "seconds"} <= {r["metric"] for r in rows if r["dataset"] == "P"}
    md = (out / "results.md").read_text()
    assert "## P" in md and "## U" in md and "**" in md
    page = (out / "index.html").read_text()
    for src in __import__("re").findall(r"src='([^']+)'", page):
        assert (out / src).is_file(), src


@pytest.mark.parametrize("method", ["student", "fast", "zerodce", "teacher"])
def test_shipped_onnx_graphs_record_the_shipped_weights_so_auto_uses_them(method):
    from minelight.enhance.enhancer import Enhancer
    from minelight.enhance.runtime import matching_graph
    from minelight.weights import shipped_weights

    stages = ("", "encode", "bottleneck", "decode") if method in ("student", "teacher") else ("",)
    for stage in stages:  # after new weights: minelight export again
        assert matching_graph(shipped_weights(method), stage) is not None, stage
    assert Enhancer(method, backend="auto").backend == "onnxruntime"


def test_benchmark_needs_named_folders(tmp_path, image_folder):
    _one_line_error(runner.invoke(app, ["benchmark", "--unpaired", str(image_folder), "-o", str(tmp_path)]))


def test_export_onnx_matches_pytorch_on_an_odd_size(tmp_path, student_weights):
    import onnxruntime as ort

    from minelight.models.weights import load_weights

    out = tmp_path / "s.onnx"
    result = runner.invoke(app, ["export", "--weights", str(student_weights), "-o", str(out)])
    assert result.exit_code == 0, result.output
    session = ort.InferenceSession(str(out), providers=["CPUExecutionProvider"])
    import torch

    x = torch.rand(1, 3, 31, 45)
    model, _ = load_weights(student_weights)
    with torch.no_grad():
        expected = model(x)[0].clamp(0, 1).numpy()
    for b in (1.0, 2.0, 0.5):  # the graph's brightness input is the operator's control
        got = session.run(None, {"input": x.numpy(), "brightness": np.array([b], np.float32)})[0]
        assert np.abs(got - adjust_brightness(expected, b)).max() <= 1e-3
    brighter = session.run(None, {"input": x.numpy(), "brightness": np.array([2.0], np.float32)})[0]
    assert (brighter >= session.run(None, {"input": x.numpy(), "brightness": np.array([1.0], np.float32)})[0]).all()


def test_enhancer_still_runs_a_graph_exported_before_the_brightness_input(tmp_path, student_weights):
    import onnx
    from onnx import helper

    from minelight.enhance.enhancer import Enhancer
    from minelight.weights import weights_digest

    old = tmp_path / "old.onnx"  # a one-input graph: the student graph with brightness fixed at 1
    runner.invoke(app, ["export", "--weights", str(student_weights), "-o", str(old)])
    proto = onnx.load(str(old))
    one = helper.make_tensor("brightness", onnx.TensorProto.FLOAT, [1], [1.0])
    proto.graph.initializer.append(one)
    proto.graph.input.remove(next(i for i in proto.graph.input if i.name == "brightness"))
    weights = tmp_path / "w.safetensors"
    weights.write_bytes(student_weights.read_bytes())
    onnx.save(proto, str(weights.with_suffix(".onnx")))
    assert {p.key: p.value for p in proto.metadata_props}["weights_sha256"] == weights_digest(weights)
    img = np.random.default_rng(0).random((24, 40, 3)).astype(np.float32)
    ort_enhancer = Enhancer("student", weights, backend="auto")
    assert ort_enhancer.backend == "onnxruntime" and ort_enhancer.runner.input_names == ("input",)
    torch_out = Enhancer("student", weights, backend="torch").enhance_array(img)
    assert np.abs(ort_enhancer.enhance_array(img) - torch_out).max() <= 1e-3


def test_debug_flag_shows_the_underlying_exception(tmp_path, monkeypatch):
    monkeypatch.setenv("MINELIGHT_DEBUG", "")  # teardown restores the environment the flag changes
    result = runner.invoke(app, ["--debug", "enhance", str(tmp_path / "nope.png"), "-o", str(tmp_path / "o")])
    assert result.exit_code == 1 and result.exception is not None and "nope.png" in str(result.exception)


@pytest.mark.train
def test_pairs_then_paired_training_on_its_output(tmp_path, image_folder):
    from .data.test_pairs import write_bracket

    src = tmp_path / "sice"
    write_bracket(src, 0, [f"{n}.png" for n in range(1, 6)])
    write_bracket(src, 1, [f"{n}.png" for n in range(6, 11)])
    out = tmp_path / "pairs"
    result = runner.invoke(app, ["pairs", str(src), "-o", str(out), "--dark", "0.3", "--quiet"])
    assert result.exit_code == 0, result.output
    assert "4 pairs from 2 of 2 scenes" in result.output
    run = tmp_path / "run"
    result = runner.invoke(app, ["train", "student", "--paired", str(out), "--data", str(image_folder),
                                 "-o", str(run), "--steps", "3", "--batch-size", "2", "--crop", "32", "--quiet",
                                 "--set", "model.widths=8,8,8", "--set", "model.rir_groups=1",
                                 "--set", "exposure_filter=false", "--set", "paired_share=0.5"])
    assert result.exit_code == 0, result.output
    assert (run / "model.safetensors").exists()


@pytest.mark.parametrize("args, expected", [
    (["--files", "9-3"], "--files"),
    (["--files", "holdout"], "--files"),
])
@pytest.mark.train
def test_pairs_bad_options_are_one_line(tmp_path, args, expected):
    from .data.test_pairs import write_bracket

    write_bracket(tmp_path / "src", 0, ["1.png", "2.png"])
    line = _one_line_error(runner.invoke(app, ["pairs", str(tmp_path / "src"), "-o", str(tmp_path / "o"), *args]))
    assert expected in line


def test_pairs_of_a_missing_or_empty_folder_is_one_line(tmp_path):
    assert "not a folder" in _one_line_error(runner.invoke(app, ["pairs", str(tmp_path / "no"), "-o", str(tmp_path)]))
    (tmp_path / "empty").mkdir()
    assert "no images" in _one_line_error(runner.invoke(app, ["pairs", str(tmp_path / "empty"), "-o",
                                                              str(tmp_path / "o")]))


@pytest.mark.parametrize("option, good, bad, message", [
    ("--halo", "1", ("1.5", "-0.5"), "strength must be in"),
    ("--chroma", "4", ("-3",), "radius must be"),
    ("--grain", "4", ("-1",), "grain strength must be"),
])
def test_enhance_post_step_options(tmp_path, image_folder, option, good, bad, message):
    plain, stepped = tmp_path / "p", tmp_path / "s"
    assert runner.invoke(app, ["enhance", str(image_folder), "-o", str(plain), "-m", "clahe"]).exit_code == 0
    result = runner.invoke(app, ["enhance", str(image_folder), "-o", str(stepped), "-m", "clahe", option, good])
    assert result.exit_code == 0, result.output
    assert not np.array_equal(read_image(plain / "im0.png"), read_image(stepped / "im0.png"))
    for k, value in enumerate(bad):
        out = tmp_path / f"x{k}"
        assert message in _one_line_error(runner.invoke(app, ["enhance", str(image_folder), "-o", str(out),
                                                              option, value]))
        assert not out.exists() or not any(out.iterdir())


def test_enhance_brightness_option(tmp_path, image_folder):
    dark, bright = tmp_path / "d", tmp_path / "b"
    assert runner.invoke(app, ["enhance", str(image_folder), "-o", str(dark), "-m", "clahe"]).exit_code == 0
    result = runner.invoke(app, ["enhance", str(image_folder), "-o", str(bright), "-m", "clahe", "--brightness", "2"])
    assert result.exit_code == 0, result.output
    assert read_image(bright / "im0.png").mean() > read_image(dark / "im0.png").mean()
    line = _one_line_error(runner.invoke(app, ["enhance", str(image_folder), "-o", str(tmp_path / "x"),
                                               "--brightness", "9"]))
    assert "brightness must be in" in line


@pytest.mark.parametrize("argv, says", [
    (["enhance", "x.png", "--chroma", "2.5"], "Invalid value for '--chroma'"),
    (["enhance", "x.png"], "Missing option '-o' / '--output'"),
    (["enhnce"], "No such command 'enhnce'"),
    (["train", "student", "--steps", "many"], "(minelight train student --help)"),
])
def test_a_wrong_command_line_is_one_line_naming_the_help(argv, says, capsys):
    from minelight.cli import main

    with pytest.raises(SystemExit) as stop:
        main(argv)
    err = capsys.readouterr().err
    assert stop.value.code == 2
    assert err.count("\n") == 1 and err.startswith("error: ") and says in err, err


def test_main_exits_0_on_success_and_1_when_the_job_fails(tmp_path, capsys):
    from minelight.cli import main

    with pytest.raises(SystemExit) as stop:
        main(["info"])
    assert stop.value.code == 0
    with pytest.raises(SystemExit) as stop:
        main(["enhance", str(tmp_path / "missing.png"), "-o", str(tmp_path / "out")])
    assert stop.value.code == 1
    assert capsys.readouterr().err.startswith("error: ")


@pytest.mark.train
def test_an_os_error_is_file_then_cause_without_errno(tmp_path):
    result = runner.invoke(app, ["export", "--method", "student", "-o", str(tmp_path / "missing" / "s.onnx")])
    assert _one_line_error(result) == f"error: {tmp_path / 'missing' / 's.onnx'}: no such file or directory"


def test_output_names_that_cannot_hold_the_result_are_one_line_and_write_nothing(tmp_path, image_folder):
    one = str(image_folder / "im0.png")
    result = runner.invoke(app, ["enhance", one, "-o", str(tmp_path / "x.mp4"), "-m", "gamma"])
    assert "an image is written to an image file" in _one_line_error(result)
    result = runner.invoke(app, ["enhance", str(image_folder), "-o", str(tmp_path / "x.png"), "-m", "gamma"])
    assert "3 images go into a folder" in _one_line_error(result)
    assert not (tmp_path / "x.mp4").exists() and not (tmp_path / "x.png").exists()
    result = runner.invoke(app, ["enhance", str(image_folder), "-o", str(tmp_path / "x.v2"), "-m", "gamma"])
    assert result.exit_code == 0, result.output
    assert len(list((tmp_path / "x.v2").iterdir())) == 3


def test_version_names_the_package_and_the_weights():
    from minelight import __version__

    result = runner.invoke(app, ["--version"])
    assert result.exit_code == 0
    assert result.output.startswith(f"minelight {__version__} (weights: student ")


# ---------------------------------------------------------------- promises of the README, through the command

def _weights_for(tmp_path, method: str):
    """Tiny random weights for ``method`` (student or zerodce), saved as safetensors."""
    torch = pytest.importorskip("torch", reason="building weights needs the [train] extra")
    from minelight.models import create_model
    from minelight.models.weights import save_weights

    from .conftest import TINY_STUDENT

    torch.manual_seed(0)
    path = tmp_path / f"{method}.safetensors"
    save_weights(path, create_model(method, **(TINY_STUDENT if method == "student" else {"channels": 8})), method)
    return path


@pytest.fixture
def network_views(monkeypatch):
    """The pixel counts (h * w) of every input a convolution or an ONNX graph is given while it is active:
    the largest is the largest piece of an image the network saw at once."""
    import onnxruntime

    torch = pytest.importorskip("torch", reason="tiny weights need the [train] extra")

    seen = []
    conv = torch.nn.Conv2d.forward

    def conv_spy(self, x):
        seen.append(x.shape[-2] * x.shape[-1])
        return conv(self, x)

    run = onnxruntime.InferenceSession.run

    def run_spy(self, output_names, feed, *args, **kwargs):
        seen.extend(v.shape[-2] * v.shape[-1] for v in feed.values() if getattr(v, "ndim", 0) == 4)
        return run(self, output_names, feed, *args, **kwargs)

    monkeypatch.setattr(torch.nn.Conv2d, "forward", conv_spy)
    monkeypatch.setattr(onnxruntime.InferenceSession, "run", run_spy)
    return seen


def _set_everywhere(monkeypatch, name: str, value) -> None:
    """Set the module constant ``minelight.enhance.tiling.NAME`` and every copy of it that a loaded
    minelight module imported by name."""
    import sys

    from minelight.enhance import tiling

    original = getattr(tiling, name)
    for module in [m for key, m in sys.modules.items() if key.startswith("minelight") and m is not None]:
        if getattr(module, name, None) is original:
            monkeypatch.setattr(module, name, value)


def _enhanced(tmp_path, src, name: str, *args) -> np.ndarray:
    dst = tmp_path / f"{name}.png"
    result = runner.invoke(app, ["enhance", str(src), "-o", str(dst), "--quiet", *args])
    assert result.exit_code == 0, result.output
    return read_image(dst)


@pytest.mark.parametrize("method", ["student", "zerodce"])
def test_tile_option_tiles_and_gives_the_untiled_result(tmp_path, method, network_views):
    from .conftest import scene

    weights = _weights_for(tmp_path, method)
    src = tmp_path / "wide.png"
    h, w = 100, 610  # ten 64-pixel tiles wide, two high (odd sizes: padding too)
    write_image(src, 0.25 * scene(h, w))
    common = ["-m", method, "--weights", str(weights), "--no-detail"]
    views = {}
    for tile in ("-1", "64"):
        network_views.clear()
        views[tile] = _enhanced(tmp_path, src, f"tile{tile}", *common, "--tile", tile), max(network_views)
    assert views["-1"][1] >= h * w  # off: the network saw the whole image at once
    assert views["64"][1] <= (64 + 2 * 96) * 104 < h * w  # 64-pixel tiles: pieces of tile + halo
    assert np.abs(views["64"][0] - views["-1"][0]).max() <= 1 / 255 + 1e-6


@pytest.mark.parametrize("method", ["student", "zerodce"])
def test_images_above_the_auto_tile_size_are_tiled_and_equal_untiled(tmp_path, method, network_views, monkeypatch):
    from minelight.enhance import tiling

    from .conftest import scene

    assert tiling.AUTO_TILE_PIXELS == 4_000_000  # the README's "tiled above 4 MP"
    weights = _weights_for(tmp_path, method)
    src = tmp_path / "long.png"
    h, w = 24, 1600  # wider than one default tile (1024) plus its halo
    write_image(src, 0.25 * scene(h, w))
    common = ["-m", method, "--weights", str(weights), "--no-detail"]
    untiled = _enhanced(tmp_path, src, "off", *common, "--tile", "-1")
    network_views.clear()
    below = _enhanced(tmp_path, src, "below", *common)  # 38,400 pixels, under 4 MP: one piece
    assert max(network_views) >= h * w
    _set_everywhere(monkeypatch, "AUTO_TILE_PIXELS", h * w - 1)  # now the image is "above" the threshold
    network_views.clear()
    above = _enhanced(tmp_path, src, "above", *common)
    assert max(network_views) < h * w  # tiled on its own
    for out in (below, above):
        assert np.abs(out - untiled).max() <= 1 / 255 + 1e-6


def test_bmp_and_tiff_inputs_read_like_png_and_format_sets_the_output_type(tmp_path):
    import cv2

    from .conftest import scene

    pixels = (255 * scene(30, 41)).astype(np.uint8)[..., ::-1]  # BGR for OpenCV
    src = tmp_path / "in"
    src.mkdir()
    for name in ("a.png", "b.bmp", "c.tif", "d.tiff"):
        assert cv2.imwrite(str(src / name), pixels)
    assert (src / "b.bmp").read_bytes()[:2] == b"BM" and (src / "c.tif").read_bytes()[:2] in (b"II", b"MM")
    as_png, as_jpg, kept = tmp_path / "png", tmp_path / "jpg", tmp_path / "kept"
    for out, extra in ((as_png, ["--format", "png"]), (as_jpg, ["--format", "jpg"]), (kept, [])):
        result = runner.invoke(app, ["enhance", str(src), "-o", str(out), "-m", "gamma", "--quiet", *extra])
        assert result.exit_code == 0, result.output
    assert sorted(p.name for p in as_png.iterdir()) == ["a.png", "b.png", "c.png", "d.png"]
    assert sorted(p.name for p in as_jpg.iterdir()) == ["a.jpg", "b.jpg", "c.jpg", "d.jpg"]
    assert sorted(p.name for p in kept.iterdir()) == ["a.png", "b.bmp", "c.tif", "d.tiff"]
    assert all(p.read_bytes()[:3] == b"\xff\xd8\xff" for p in as_jpg.iterdir())  # JPEG files, not renamed PNGs
    assert (kept / "b.bmp").read_bytes()[:2] == b"BM" and (kept / "c.tif").read_bytes()[:2] in (b"II", b"MM")
    reference = read_image(as_png / "a.png")
    assert np.abs(reference - pixels[..., ::-1] / 255).mean() > 0.02  # gamma changed the image
    for name in ("b.png", "c.png", "d.png"):
        np.testing.assert_array_equal(read_image(as_png / name), reference)  # lossless in, same result
    for name in ("b.bmp", "c.tif", "d.tiff"):
        np.testing.assert_array_equal(read_image(kept / name), reference)
    assert np.abs(read_image(as_jpg / "a.jpg") - reference).mean() < 0.05  # lossy, noisy scene


def test_16bit_tiff_output_keeps_the_precision_8_bits_lose(tmp_path):
    import cv2

    from .conftest import scene

    src = tmp_path / "in.png"
    write_image(src, 0.3 * scene(30, 41))
    eight, sixteen = tmp_path / "o8.tif", tmp_path / "o16.tiff"
    for out, bits in ((eight, "8"), (sixteen, "16")):
        result = runner.invoke(app, ["enhance", str(src), "-o", str(out), "-m", "gamma", "--bits", bits, "--quiet"])
        assert result.exit_code == 0, result.output
    assert sixteen.read_bytes()[:2] in (b"II", b"MM")  # a TIFF file
    raw8, raw16 = (cv2.imread(str(p), cv2.IMREAD_UNCHANGED) for p in (eight, sixteen))
    assert raw8.dtype == np.uint8 and raw16.dtype == np.uint16 and raw16.shape == (30, 41, 3)
    assert np.abs(raw16 / 65535 - raw8 / 255).max() <= 0.5 / 255 + 1e-6  # the same image
    assert (raw16 % 257 != 0).mean() > 0.5  # with more than 8 bits of it (x * 257 is 8 bits widened)


def test_a_sequence_of_noisy_frames_is_denoised_over_time_unless_told_not_to(tmp_path):
    rng = np.random.default_rng(0)
    yy, xx = np.mgrid[0:48, 0:64] / 64.0
    scene = np.stack([0.12 + 0.05 * xx, 0.1 + 0.05 * yy, 0.08 + 0.0 * xx], -1)
    frames = tmp_path / "frames"
    frames.mkdir()
    for i in range(12):
        write_image(frames / f"f{i:02d}.png", np.clip(scene + rng.normal(0, 0.02, scene.shape), 0, 1).astype(np.float32))
    change = {}
    for name, extra in (("on", []), ("off", ["--no-denoise", "--no-smooth"])):
        out = tmp_path / name
        result = runner.invoke(app, ["enhance", str(frames), "-o", str(out), "-m", "fast", "--sequence", *extra])
        assert result.exit_code == 0, result.output
        last = [read_image(out / f"f{i:02d}.png") for i in range(8, 12)]
        change[name] = np.mean([np.abs(b - a).mean() for a, b in zip(last[:-1], last[1:])])
    assert change["on"] < 0.5 * change["off"]  # the still scene no longer flickers with its noise


def test_ray_runs_get_the_temporal_options_a_local_run_gets(tmp_path, monkeypatch):
    pytest.importorskip("ray")
    import minelight.cluster.batch as batch

    calls = []
    monkeypatch.setattr(batch, "enhance_on_cluster", lambda *args, **kwargs: calls.append(kwargs))
    clip = tmp_path / "clip.mp4"
    clip.write_bytes(b"")  # never opened: the cluster call is replaced
    for flags, smooth, denoise in (([], False, None), (["--no-denoise"], True, False), (["--no-denoise", "--no-smooth"],
                                                                                        False, False)):
        result = runner.invoke(app, ["enhance", str(clip), "-o", str(tmp_path / "out"), "-m", "fast", "--ray", "auto",
                                     *flags])
        assert result.exit_code == 0, result.output
        assert calls[-1]["smooth"] is smooth and calls[-1]["recipe"]["denoise"] is denoise
