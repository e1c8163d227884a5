"""Video in and out, the video job, and `minelight enhance` on videos and streams."""

from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from minelight.cli import app
from minelight.enhance.enhancer import Enhancer
from minelight.video.streams import VideoError, VideoReader, VideoWriter, is_live_source, side_by_side
from minelight.video.job import enhance_video

from ..conftest import write_video
from ..test_cli import _one_line_error

runner = CliRunner()


def _frames(path: Path) -> list[np.ndarray]:
    with VideoReader(path) as reader:
        return list(reader)


def test_round_trip_keeps_frame_count_size_and_fps(tmp_path):
    path = write_video(tmp_path / "a.mp4", frames=9, size=(48, 64), fps=15)
    with VideoReader(path) as reader:
        assert (reader.width, reader.height, reader.fps, reader.frames) == (64, 48, 15, 9)
        frames = list(reader)
    assert len(frames) == 9 and frames[0].shape == (48, 64, 3) and frames[0].dtype == np.uint8


@pytest.mark.parametrize("suffix", [".mkv", ".avi"])
def test_other_containers(tmp_path, suffix):
    path = write_video(tmp_path / f"a{suffix}", frames=4)
    assert len(_frames(path)) == 4


def test_writer_abort_and_failure_leave_nothing(tmp_path):
    writer = VideoWriter(tmp_path / "x.mp4", 32, 32, 10)
    writer.write(np.zeros((32, 32, 3), np.uint8))
    writer.abort()
    assert list(tmp_path.iterdir()) == []
    with pytest.raises(VideoError):
        with VideoWriter(tmp_path / "y.mp4", 32, 32, 10) as w:
            w.write(np.zeros((16, 32, 3), np.uint8))  # wrong size
    assert list(tmp_path.iterdir()) == []


def test_side_by_side_shape():
    a = np.zeros((5, 7, 3), np.uint8)
    assert side_by_side(a, a).shape == (5, 14, 3)
    with pytest.raises(ValueError):
        side_by_side(a, a[:4])


def test_live_sources_are_recognised():
    assert is_live_source("rtsp://cam/1") and is_live_source("http://x/y.mjpg") and is_live_source("0")
    assert not is_live_source("clip.mp4")


def test_enhance_video_cli_side_by_side_fast(tmp_path, fast_weights):
    src = write_video(tmp_path / "in.mp4", frames=6, size=(48, 64), fps=12)
    out = tmp_path / "out.mp4"
    result = runner.invoke(app, ["enhance", str(src), "-o", str(out), "-m", "fast", "--weights", str(fast_weights),
                                 "--side-by-side", "--quiet"])
    assert result.exit_code == 0, result.output
    with VideoReader(out) as reader:
        assert (reader.width, reader.height, reader.fps) == (128, 48, 12)
        frames = list(reader)
    assert len(frames) == 6
    left = frames[0][:, :64].astype(int)
    assert np.abs(left - _frames(src)[0].astype(int)).mean() < 3  # the left half is the input


def test_enhance_video_into_a_folder_keeps_the_name(tmp_path):
    src = write_video(tmp_path / "clip.mkv", frames=3)
    result = runner.invoke(app, ["enhance", str(src), "-o", str(tmp_path / "out"), "-m", "gamma", "--quiet"])
    assert result.exit_code == 0, result.output
    assert len(_frames(tmp_path / "out" / "clip.mkv")) == 3


def test_one_video_to_a_file_name_that_is_no_video_is_one_line_and_writes_nothing(tmp_path):
    src = write_video(tmp_path / "clip.mp4", frames=3)
    result = runner.invoke(app, ["enhance", str(src), "-o", str(tmp_path / "out.gif"), "-m", "gamma", "--quiet"])
    assert "a video is written to a video file" in _one_line_error(result)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["clip.mp4"]
    (tmp_path / "out.v2").mkdir()  # an existing folder with a dot in its name is still a folder
    result = runner.invoke(app, ["enhance", str(src), "-o", str(tmp_path / "out.v2"), "-m", "gamma", "--quiet"])
    assert result.exit_code == 0, result.output
    assert len(_frames(tmp_path / "out.v2" / "clip.mp4")) == 3


def test_ctrl_c_keeps_a_playable_file_of_the_frames_done(tmp_path):
    src = write_video(tmp_path / "in.mp4", frames=8)
    enhancer = Enhancer("gamma")
    calls = []
    original = enhancer.enhance_array

    def interrupt_on_fifth(img, *state):  # state: the video's smoother and denoiser
        calls.append(1)
        if len(calls) == 5:
            raise KeyboardInterrupt
        return original(img, *state)

    enhancer.enhance_array = interrupt_on_fifth
    result = enhance_video(enhancer, src, tmp_path / "out.mp4", progress=False)
    assert result.interrupted and result.frames == 4
    assert len(_frames(tmp_path / "out.mp4")) == 4
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in.mp4", "out.mp4"]


def test_a_failure_mid_video_leaves_no_output(tmp_path):
    src = write_video(tmp_path / "in.mp4", frames=5)
    enhancer = Enhancer("gamma")
    enhancer.enhance_array = lambda img, *state: (_ for _ in ()).throw(RuntimeError("boom"))
    with pytest.raises(RuntimeError):
        enhance_video(enhancer, src, tmp_path / "out.mp4", progress=False)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in.mp4"]


@pytest.mark.parametrize("case", ["corrupt", "missing", "stream"])
def test_unreadable_video_or_stream_is_one_line_and_writes_nothing(tmp_path, case):
    out = tmp_path / "out" / "o.mp4"
    out.parent.mkdir()
    if case == "corrupt":
        bad = tmp_path / "bad.mp4"
        bad.write_bytes(b"not a video" * 50)
        args = [str(bad)]
    elif case == "missing":
        args = [str(tmp_path / "nope.mp4")]
    else:
        args = ["--source", "rtsp://127.0.0.1:9/none"]  # nothing listens on the discard port
    line = _one_line_error(runner.invoke(app, ["enhance", *args, "-o", str(out), "-m", "gamma"]))
    assert "video" in line or "no such file" in line
    assert list(out.parent.iterdir()) == []


def test_smoothing_resets_on_a_scene_cut_and_a_cut_frame_equals_per_frame_processing(fast_weights):
    from minelight.enhance.temporal import TemporalSmoother

    from ..conftest import scene

    enhancer = Enhancer("fast", fast_weights)
    rng = np.random.default_rng(0)
    dark = 0.1 * scene(40, 56, seed=1)
    frames = [np.clip(dark + 0.01 * rng.standard_normal(dark.shape), 0, 1).astype(np.float32) for _ in range(3)]
    cut = 0.8 * scene(40, 56, seed=2)
    smoother = TemporalSmoother()
    outs = [enhancer.enhance_array(f, smoother) for f in frames]
    assert smoother.resets == 1
    assert not np.allclose(outs[2], enhancer.enhance_array(frames[2]))  # history smooths a static frame
    after_cut = enhancer.enhance_array(cut, smoother)
    assert smoother.resets == 2
    np.testing.assert_allclose(after_cut, enhancer.enhance_array(cut), atol=1e-6)


@pytest.mark.parametrize("motion_side", [0, 96])
def test_motion_is_measured_at_motion_side_so_small_movers_leave_no_trail(fast_weights, motion_side):
    from minelight.enhance.temporal import SmoothingConfig, TemporalSmoother

    enhancer = Enhancer("fast", fast_weights)  # low_side 24: one correction pixel is 4x4 frame pixels
    background = np.full((72, 96, 3), 0.1, np.float32)
    frames = []
    for x in (8, 8, 60, 60):  # a 3x3 bright spot jumps to another place, then stays
        f = background.copy()
        f[30:33, x:x + 3] = 0.9
        frames.append(f)
    smoother = TemporalSmoother(SmoothingConfig(motion_side=motion_side))
    outs = [enhancer.enhance_array(f, smoother) for f in frames]
    assert smoother.previous.shape[:2] == ((72, 96) if motion_side else (18, 24))
    trail = outs[2][30:33, 8:11].mean() - outs[2][40:43, 8:11].mean()  # the old place vs plain background
    assert (abs(trail) < 0.05) == bool(motion_side)  # the fine measure sees it move; a coarse one blends it


def test_export_fast_then_onnxruntime_backend_matches_torch_and_auto_finds_it(tmp_path, fast_weights):
    from minelight.enhance.temporal import TemporalSmoother

    onnx_path = fast_weights.with_suffix(".onnx")
    result = runner.invoke(app, ["export", "-m", "fast", "--weights", str(fast_weights), "-o", str(onnx_path)])
    assert result.exit_code == 0, result.output
    torch_enhancer = Enhancer("fast", fast_weights, backend="torch")
    ort_enhancer = Enhancer("fast", fast_weights, backend="auto")
    assert ort_enhancer.backend == "onnxruntime"
    rng = np.random.default_rng(0)
    frames = [rng.random((37, 51, 3), dtype=np.float32) * 0.2 for _ in range(3)]
    smoothers = TemporalSmoother(), TemporalSmoother()
    for frame in frames:  # odd size, with the smoothing state carried through both back ends
        a = torch_enhancer.enhance_array(frame, smoothers[0])
        b = ort_enhancer.enhance_array(frame, smoothers[1])
        assert np.abs(a - b).max() <= 1e-3
    import torch

    from minelight.models.weights import save_weights
    from minelight.models import create_model

    from ..conftest import TINY_FAST

    torch.manual_seed(1)  # new weights at the same path: the .onnx beside them no longer matches
    save_weights(fast_weights, create_model("fast", **TINY_FAST), "fast")
    assert Enhancer("fast", fast_weights, backend="auto").backend == "torch"


def test_sequence_of_frames_in_a_folder_is_smoothed_like_a_video(tmp_path, fast_weights):
    from minelight.io import read_image, write_image

    from ..conftest import scene

    frames = tmp_path / "frames"
    frames.mkdir()
    rng = np.random.default_rng(0)
    base = 0.1 * scene(32, 40, seed=3)
    for i in range(3):
        write_image(frames / f"f{i:03d}.png", np.clip(base + 0.01 * rng.standard_normal(base.shape), 0, 1))
    outs = {}
    for flag in ("--sequence", "--no-smooth"):
        out = tmp_path / flag.strip("-")
        result = runner.invoke(app, ["enhance", str(frames), "-o", str(out), "-m", "fast", "--weights",
                                     str(fast_weights), "--quiet", "--chroma", "0", flag])  # smoothing alone
        assert result.exit_code == 0, result.output
        outs[flag] = [read_image(out / f"f{i:03d}.png") for i in range(3)]
    np.testing.assert_array_equal(outs["--sequence"][0], outs["--no-smooth"][0])  # first frame: no history
    assert not np.array_equal(outs["--sequence"][2], outs["--no-smooth"][2])


def test_reader_errors_never_show_credentials_in_the_url():
    from minelight.video.streams import VideoError, VideoReader

    with pytest.raises(VideoError) as err:
        VideoReader("rtsp://admin:s3cret@127.0.0.1:1/stream", timeout_s=2.0)
    assert "s3cret" not in str(err.value) and "rtsp://***@127.0.0.1:1/stream" in str(err.value)


def test_redact_hides_credentials_only():
    from minelight.video.streams import redact

    assert redact("rtsp://admin:pw@10.0.0.1:554/s?x=1") == "rtsp://***@10.0.0.1:554/s?x=1"
    assert redact("rtsp://10.0.0.1/s") == "rtsp://10.0.0.1/s"
    assert redact("/videos/a.mp4") == "/videos/a.mp4"


def test_video_enhancement_threads_leave_cores_to_decoding_and_encoding():
    from minelight.video.job import enhance_threads

    assert enhance_threads("fast", 0, cores=2) == 1 and enhance_threads("fast", 0, cores=16) == 8
    assert enhance_threads("fast", 0, cores=1) == 1
    assert enhance_threads("fast", 3, cores=2) == 3  # given: kept
    assert enhance_threads("student", 0, cores=2) == 0  # the runtime's default where enhancing dominates
