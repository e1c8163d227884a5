"""The video job's promises (README, "Video and real time"), through the `minelight enhance` command:
Ctrl-C, odd sizes, audio, a live RTSP source, and the encoding options."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

import minelight
from minelight.cli import app
from minelight.io import read_image, write_image
from minelight.video.streams import VideoReader

from ..conftest import scene, write_video

runner = CliRunner()


def _frames(path: Path) -> list[np.ndarray]:
    with VideoReader(path) as reader:
        return list(reader)


def _enhance(*args: str) -> str:
    result = runner.invoke(app, ["enhance", *args, "--quiet"])
    assert result.exit_code == 0, result.output
    return result.output


def _x264_options(path: Path) -> dict[str, str]:
    """The settings x264 wrote into the stream (its SEI text: ``options: cabac=0 ref=1 ... crf=20.0 ...``)."""
    found = re.search(rb"options: ([ -~]+)", path.read_bytes())
    assert found, f"{path}: no x264 settings in the stream"
    return dict(item.split("=", 1) for item in found.group(1).decode().split() if "=" in item)


def test_max_frames_preset_and_crf_reach_the_encoder(tmp_path):
    src = write_video(tmp_path / "clip.mp4", frames=10)
    runs = {"default": [], "crf": ["--crf", "35"], "preset": ["--preset", "veryslow"], "max": ["--max-frames", "4"]}
    for name, extra in runs.items():
        _enhance(str(src), "-o", str(tmp_path / f"{name}.mp4"), "-m", "gamma", *extra)
    options = {name: _x264_options(tmp_path / f"{name}.mp4") for name in runs}
    assert options["default"]["crf"] == "20.0" and options["crf"]["crf"] == "35.0"
    assert (options["default"]["me"], options["default"]["subme"]) == ("dia", "0")  # ultrafast by default
    assert (options["preset"]["me"], options["preset"]["subme"]) == ("umh", "10")  # veryslow
    frames = {name: _frames(tmp_path / f"{name}.mp4") for name in runs}
    assert [len(frames[name]) for name in runs] == [10, 10, 10, 4]
    assert (tmp_path / "crf.mp4").stat().st_size < (tmp_path / "default.mp4").stat().st_size  # coarser
    for got, want in zip(frames["max"], frames["default"]):  # --max-frames: the first frames, not others
        assert np.abs(got.astype(int) - want).mean() < 1


def _lossless_clip(path: Path, height: int, width: int, frames: int = 3) -> list[np.ndarray]:
    """An RGB-lossless H.264 clip of any size (yuv420p needs even sizes; libx264rgb does not)."""
    import av

    from minelight.io import to_uint8

    pictures = [to_uint8(0.2 * scene(height, width, seed=k)) for k in range(frames)]
    with av.open(str(path), "w") as container:
        stream = container.add_stream("libx264rgb", rate=12)
        stream.width, stream.height, stream.pix_fmt = width, height, "rgb24"
        stream.options = {"qp": "0"}
        for picture in pictures:
            container.mux(stream.encode(av.VideoFrame.from_ndarray(picture, format="rgb24")))
        container.mux(stream.encode())
    return pictures


def test_odd_width_and_height_are_padded_by_one_replicated_pixel(tmp_path):
    src = tmp_path / "odd.mkv"
    pictures = _lossless_clip(src, 47, 63)
    assert np.array_equal(_frames(src)[0], pictures[0])  # the input really is 63x47
    _enhance(str(src), "-o", str(tmp_path / "out.mp4"), "-m", "gamma")
    write_image(tmp_path / "first.png", pictures[0] / 255.0)
    _enhance(str(tmp_path / "first.png"), "-o", str(tmp_path / "first_out.png"), "-m", "gamma")
    expected = read_image(tmp_path / "first_out.png") * 255
    frames = _frames(tmp_path / "out.mp4")
    assert len(frames) == 3 and frames[0].shape == (48, 64, 3)  # one more row and column
    out = frames[0].astype(float)
    assert np.abs(out[:47, :63] - expected).mean() < 4  # the picture itself, where it was (H.264, yuv420p)
    assert np.abs(out[47, :63] - expected[46]).mean() < 4  # the new row and column repeat the edge ...
    assert np.abs(out[:47, 63] - expected[:, 62]).mean() < 4 and np.abs(out[47, 63] - expected[46, 62]).max() < 12
    rows, cols = np.abs(np.diff(out, axis=0)).mean(axis=(1, 2)), np.abs(np.diff(out, axis=1)).mean(axis=(0, 2))
    assert rows[-1] < rows[:-1].mean() and cols[-1] < cols[:-1].mean()  # ... so the step onto them is small


def _clip_with_audio(path: Path, frames: int = 6, size: tuple[int, int] = (48, 64)) -> Path:
    import av

    from minelight.io import to_uint8

    with av.open(str(path), "w") as container:
        video = container.add_stream("libx264", rate=12)
        video.width, video.height, video.pix_fmt = size[1], size[0], "yuv420p"
        audio = container.add_stream("aac", rate=8000)
        picture = to_uint8(0.2 * scene(*size))
        for _ in range(frames):
            container.mux(video.encode(av.VideoFrame.from_ndarray(picture, format="rgb24")))
        container.mux(video.encode())
        t = np.arange(8000 * frames // 12) / 8000
        tone = np.tile(0.1 * np.sin(2 * np.pi * 440 * t), (2, 1)).astype(np.float32)  # stereo, planar
        for start in range(0, tone.shape[1], 1024):
            frame = av.AudioFrame.from_ndarray(np.ascontiguousarray(tone[:, start:start + 1024]), format="fltp",
                                               layout="stereo")
            frame.sample_rate, frame.pts = 8000, start
            container.mux(audio.encode(frame))
        container.mux(audio.encode())
    return path


def test_a_clip_with_audio_gives_a_note_that_audio_is_not_copied(tmp_path):
    import av

    src = _clip_with_audio(tmp_path / "talk.mp4")
    with av.open(str(src)) as container:
        assert container.streams.audio  # the input has a sound track
    said = _enhance(str(src), "-o", str(tmp_path / "out.mp4"), "-m", "gamma")
    assert re.search(r"note: .*the audio track is not carried over", said), said
    with av.open(str(tmp_path / "out.mp4")) as container:
        assert not container.streams.audio and len(_frames(tmp_path / "out.mp4")) == 6
    silent = write_video(tmp_path / "silent.mp4", frames=3)
    said = _enhance(str(silent), "-o", str(tmp_path / "silent_out.mp4"), "-m", "gamma")
    assert "audio track" not in said, said  # no sound track, no note


def test_ctrl_c_on_a_video_exits_130_and_keeps_a_playable_file_of_the_frames_done(tmp_path):
    """A real SIGINT to a `minelight enhance clip.mp4 -o out.mp4` process part-way through."""
    total = 300
    src = write_video(tmp_path / "clip.mp4", frames=total, size=(120, 160))
    out = tmp_path / "out.mp4"
    env = {**os.environ, "PYTHONPATH": str(Path(minelight.__file__).parents[1])}  # this checkout's package
    proc = subprocess.Popen([sys.executable, "-m", "minelight", "enhance", str(src), "-o", str(out), "-m", "lime",
                             "--quiet"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
                            start_new_session=True)
    try:
        partial = [p for p in tmp_path.iterdir() if p != src]
        deadline = time.monotonic() + 120
        while proc.poll() is None and time.monotonic() < deadline:  # wait for encoded frames on disk: the
            partial = [p for p in tmp_path.iterdir() if p != src]  # muxer writes its header, then ~256 KB
            if partial and partial[0].stat().st_size > 4096:
                break
            time.sleep(0.05)
        assert proc.poll() is None, "the job ended before it could be interrupted"
        assert partial and partial[0].name.startswith(".") and not out.exists()  # a temporary name until done
        proc.send_signal(signal.SIGINT)
        stdout, stderr = proc.communicate(timeout=120)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.communicate()
    assert proc.returncode == 130, (stdout, stderr)
    assert "Traceback" not in stderr
    kept = re.search(r"interrupted; kept (\d+) frames to (\S+)", stdout)
    assert kept and Path(kept.group(2)) == out, stdout
    frames = _frames(out)  # finalised: it opens and decodes to the end
    assert 0 < len(frames) == int(kept.group(1)) < total
    assert all(f.shape == (120, 160, 3) for f in frames)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["clip.mp4", "out.mp4"]  # no temporary file left


def test_an_rtsp_source_is_enhanced_into_a_file(tmp_path):
    from ..serve.helpers import RtspCamera, wait_for, write_clip

    if not RtspCamera.available:
        pytest.skip("needs rtsp-server-perl and ffmpeg")
    camera = RtspCamera(write_clip(tmp_path / "cam.mp4", frames=48, size=(120, 160), seed=3)).start()
    try:
        wait_for(lambda: _publishing(camera.url), 20)  # the pusher has connected: the stream can be read
        out = tmp_path / "live.mp4"
        said = _enhance("--source", camera.url, "-o", str(out), "-m", "gamma", "--max-frames", "12")
    finally:
        camera.stop()
    assert "wrote 12 frames" in said, said
    frames = _frames(out)
    assert len(frames) == 12 and frames[0].shape == (120, 160, 3)
    assert np.mean(frames) > np.mean(_frames(tmp_path / "cam.mp4")) + 10  # enhanced: brighter than the camera


def _publishing(url: str) -> bool:
    import av

    try:
        with av.open(url, options={"rtsp_transport": "udp"}, timeout=3):
            return True
    except av.error.FFmpegError:
        return False
