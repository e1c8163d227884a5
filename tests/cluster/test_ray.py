"""``minelight enhance --ray`` on a real Ray cluster of two nodes on this machine's loopback.

The cluster (``ray.cluster_utils.Cluster``: a head and a worker node, one CPU each, on 127.0.0.2) lives in a
private Ray temp folder, so no other Ray on the machine sees it or is seen; the command runs as its own
process, as a user runs it. The tests stop only the nodes they started. Skipped without Ray."""

from __future__ import annotations

import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest

ray = pytest.importorskip("ray")

from minelight.io import write_image  # noqa: E402

from ..conftest import scene, write_keyframed_video, write_video  # noqa: E402
from ..raycluster import loopback_cluster, private_ray_env, ray_processes  # noqa: E402


@pytest.fixture(scope="module")
def cluster():
    """(cluster, its worker node, the environment that points Ray at it)."""
    with loopback_cluster() as (nodes, workers, env):
        yield nodes, workers[0], env


def _minelight(*args: str, env: dict[str, str], **kwargs) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "minelight.cli", *args], env=env, capture_output=True, text=True,
                          **kwargs)


def _images(folder: Path, count: int, size: tuple[int, int] = (60, 84)) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for i in range(count):
        write_image(folder / f"im{i:03d}.png", scene(*size, seed=i))
    return folder


def _same_files(a: Path, b: Path) -> None:
    names = sorted(p.name for p in a.iterdir())
    assert names == sorted(p.name for p in b.iterdir())
    for n in names:
        assert (a / n).read_bytes() == (b / n).read_bytes(), n


def test_cluster_writes_the_same_files_as_one_machine_and_a_rerun_finishes_what_is_missing(tmp_path, cluster):
    nodes, _, env = cluster
    images = _images(tmp_path / "in", 10)
    clip = write_video(tmp_path / "clip.mp4", frames=6)
    local = _minelight("enhance", str(images), str(clip), "-o", str(tmp_path / "local"), "--quiet", env=env)
    assert local.returncode == 0, local.stderr
    out = tmp_path / "ray"
    run = _minelight("enhance", str(images), str(clip), "-o", str(out), "--ray", nodes.address, env=env)
    assert run.returncode == 0, run.stderr
    assert "11 of 11 outputs written" in run.stdout and "on 2 node(s)" in run.stdout, run.stdout
    _same_files(tmp_path / "local", out)

    # a crash left one output missing and temporary files behind: the rerun redoes that one only
    (out / "im003.png").unlink()
    (out / ".im003.png.abcd_123.part").write_bytes(b"half")
    (out / ".clip.partial.mp4").write_bytes(b"half")
    before = {p.name: p.stat().st_mtime_ns for p in out.iterdir() if not p.name.startswith(".")}
    again = _minelight("enhance", str(images), str(clip), "-o", str(out), "--ray", nodes.address, "--quiet", env=env)
    assert again.returncode == 0, again.stderr
    assert "11 of 11 outputs written" in again.stdout and "10 already there" in again.stdout, again.stdout
    _same_files(tmp_path / "local", out)
    after = {p.name: p.stat().st_mtime_ns for p in out.iterdir()}
    assert {n for n in after if after[n] != before.get(n)} == {"im003.png"}


def test_a_bad_file_fails_the_job_with_one_line_and_the_rest_are_written(tmp_path, cluster):
    nodes, _, env = cluster
    images = _images(tmp_path / "in", 3)
    (images / "broken.png").write_bytes(b"not a png")
    run = _minelight("enhance", str(images), "-o", str(tmp_path / "out"), "-m", "clahe", "--ray", nodes.address,
                     "--quiet", env=env)
    assert run.returncode == 1
    assert [line for line in run.stderr.splitlines() if line.startswith("error:")] == [
        f"error: {images / 'broken.png'}: not a readable image (corrupt or unsupported format)"], run.stderr
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["im000.png", "im001.png", "im002.png"]


def test_relative_paths_and_weights_are_those_of_the_folder_the_command_runs_in(tmp_path, cluster):
    from minelight.weights import shipped_weights

    nodes, _, env = cluster
    _images(tmp_path / "in", 2)
    (tmp_path / "w").mkdir()
    for suffix in (".safetensors", ".onnx"):
        shutil.copy(shipped_weights("student").with_suffix(suffix), tmp_path / "w" / f"mine{suffix}")
    args = ["enhance", "in", "--weights", "w/mine.safetensors", "--brightness", "1.5", "--quiet", "-o"]
    assert _minelight(*args, "local", env=env, cwd=tmp_path).returncode == 0
    run = _minelight(*args, "ray", "--ray", nodes.address, env=env, cwd=tmp_path)
    assert run.returncode == 0, run.stderr
    _same_files(tmp_path / "local", tmp_path / "ray")


def test_ray_auto_with_no_cluster_running_starts_one_for_the_run_and_stops_it(tmp_path):
    folder = tempfile.mkdtemp(prefix="mlray")  # no cluster recorded here: auto must start one
    try:
        env = private_ray_env(folder)
        images = _images(tmp_path / "in", 3)
        local = _minelight("enhance", str(images), "-o", str(tmp_path / "local"), "-m", "fast", "--quiet", env=env)
        assert local.returncode == 0, local.stderr
        run = _minelight("enhance", str(images), "-o", str(tmp_path / "ray"), "-m", "fast", "--ray", "auto",
                         "--quiet", env=env)
        assert run.returncode == 0, run.stderr
        assert "on 1 node(s)" in run.stdout, run.stdout
        _same_files(tmp_path / "local", tmp_path / "ray")
        deadline = time.monotonic() + 20
        while ray_processes(folder) and time.monotonic() < deadline:
            time.sleep(0.5)
        assert not ray_processes(folder), "the run's cluster is still running"
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def _wait_for(folder: Path, count: int, proc: subprocess.Popen, timeout: float = 180) -> int:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and proc.poll() is None:
        done = len([p for p in folder.glob("*.png")]) if folder.is_dir() else 0
        if done >= count:
            return done
        time.sleep(0.05)
    raise AssertionError(f"{count} outputs not written in time ({proc.poll()=})")


def _run_and_interrupt(images: Path, out: Path, address: str, env: dict, outputs: int, action,
                       timeout: float) -> tuple[subprocess.Popen, str, str]:
    """Run ``minelight enhance IMAGES -o OUT --ray ADDRESS`` as its own process; once ``outputs`` files are
    written, call ``action(process)``; then wait for it. Returns the process, its stdout and stderr."""
    proc = subprocess.Popen([sys.executable, "-m", "minelight.cli", "enhance", str(images), "-o", str(out),
                             "--ray", address, "--quiet"], env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    try:
        _wait_for(out, outputs, proc)
        action(proc)
        stdout, stderr = proc.communicate(timeout=timeout)
    finally:
        if proc.poll() is None:
            proc.kill()
    return proc, stdout, stderr


def test_ctrl_c_keeps_only_complete_outputs_and_a_rerun_finishes(tmp_path, cluster):
    nodes, _, env = cluster
    images = _images(tmp_path / "in", 60, (180, 240))  # enough work that Ctrl-C lands mid-run on a fast machine
    out = tmp_path / "ray"
    proc, _, stderr = _run_and_interrupt(images, out, nodes.address, env, 3, lambda p: p.send_signal(signal.SIGINT),
                                         timeout=120)
    assert proc.returncode == 130, stderr
    assert "run the same command again to finish" in stderr
    local = tmp_path / "local"
    assert _minelight("enhance", str(images), "-o", str(local), "--quiet", env=env).returncode == 0
    written = [p for p in out.iterdir() if not p.name.startswith(".")]
    assert 3 <= len(written) < 60
    for p in written:  # every visible output is complete
        assert p.read_bytes() == (local / p.name).read_bytes(), p.name
    again = _minelight("enhance", str(images), "-o", str(out), "--ray", nodes.address, "--quiet", env=env)
    assert again.returncode == 0, again.stderr
    _same_files(local, out)


def _decoded(path: Path):
    """(frame rate, time base, frame timestamps, frames as one float32 array (N, H, W, 3))."""
    import av
    import numpy as np

    with av.open(str(path)) as c:
        s = c.streams.video[0]
        frames = [(f.pts, f.to_ndarray(format="rgb24")) for f in c.decode(s)]
        return s.average_rate, s.time_base, [p for p, _ in frames], np.stack([f for _, f in frames]).astype("float32")


def test_a_long_video_is_split_at_keyframes_joined_and_a_rerun_redoes_only_a_missing_segment(tmp_path, cluster):
    """4.5 s at 12 FPS, a keyframe a second, segments of 1 s: 5 tasks. The joined file has the frames,
    timestamps and rate of the run on one machine; its pixels differ only around the cuts (a new group of
    pictures there, and the temporal state built by a warm-up instead of the whole past)."""
    import numpy as np

    nodes, _, env = cluster
    clip = write_keyframed_video(tmp_path / "clip.mp4", frames=54, keyint=12)
    short = write_keyframed_video(tmp_path / "short.mp4", frames=18, keyint=6)  # 1.5 s < 2 segments: one task
    args = ["enhance", str(clip), str(short), "-m", "fast", "--quiet", "-o"]  # fast: it denoises over time
    assert _minelight(*args, str(tmp_path / "local"), env=env).returncode == 0
    out = tmp_path / "ray"
    run = _minelight(*args, str(out), "--ray", nodes.address, "--segment-seconds", "1", env=env)
    assert run.returncode == 0, run.stderr
    assert "2 of 2 outputs written" in run.stdout and "2 workers" in run.stdout, run.stdout
    assert sorted(p.name for p in out.iterdir()) == ["clip.mp4", "short.mp4"]  # the parts folder is gone
    assert (out / "short.mp4").read_bytes() == (tmp_path / "local" / "short.mp4").read_bytes()
    rate, base, pts, frames = _decoded(out / "clip.mp4")
    local = _decoded(tmp_path / "local" / "clip.mp4")
    assert (rate, base, pts) == local[:3] and frames.shape == local[3].shape == (54, 96, 128, 3)
    diff = np.abs(frames - local[3]).mean(axis=(1, 2, 3))  # (54,) mean abs difference per frame, 0-255
    assert diff[:12].max() == 0 and diff.max() < 4.0, diff.round(2)

    # a crash left every segment but the third written, and a temporary file: the rerun enhances only that
    # one and joins. (The parts left are made by another method, so the joined file shows which were reused.)
    from minelight.enhance.enhancer import Enhancer
    from minelight.video.segments import enhance_segment, part_path, plan_segments, prepare_parts, probe_keyframes

    (out / "clip.mp4").unlink()
    segments = plan_segments(probe_keyframes(clip), 1.0)
    prepare_parts(out / "clip.mp4", clip, segments)
    other = Enhancer.from_recipe("gamma", mode="video", threads=1)
    for s in segments:
        if s.index != 2:
            enhance_segment(other, clip, s, part_path(out / "clip.mp4", s.index))
    parts = part_path(out / "clip.mp4", 0).parent
    (parts / ".00002.partial.mp4").write_bytes(b"half")
    again = _minelight(*args, str(out), "--ray", nodes.address, "--segment-seconds", "1", env=env)
    assert again.returncode == 0, again.stderr
    assert "2 of 2 outputs written" in again.stdout and "1 already there" in again.stdout, again.stdout
    assert sorted(p.name for p in out.iterdir()) == ["clip.mp4", "short.mp4"]
    rerun = _decoded(out / "clip.mp4")
    assert rerun[:3] == local[:3]
    assert np.array_equal(rerun[3][24:36], frames[24:36])  # the missing segment, enhanced again
    assert not np.array_equal(rerun[3][:12], frames[:12])  # the others: the parts that were there


@pytest.mark.parametrize("address, message", [
    ("127.0.0.2:1", "cannot connect to the Ray cluster at 127.0.0.2:1: nothing answers there"),
    ("nonsense", "nonsense: give the head node's address as HOST:PORT"),
])
def test_a_wrong_address_is_one_error_line_at_once(tmp_path, address, message):
    folder = tempfile.mkdtemp(prefix="mlray")
    try:
        _images(tmp_path / "in", 1)
        start = time.monotonic()
        run = _minelight("enhance", str(tmp_path / "in"), "-o", str(tmp_path / "out"), "--ray", address,
                         env=private_ray_env(folder), timeout=60)
        assert time.monotonic() - start < 30
        assert run.returncode == 1 and "Traceback" not in run.stderr, run.stderr
        errors = [line for line in run.stderr.splitlines() if line.startswith("error:")]
        assert len(errors) == 1 and message in errors[0], run.stderr
        assert not (tmp_path / "out").exists() or not any((tmp_path / "out").iterdir())
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def test_a_node_lost_mid_run_loses_no_output(tmp_path, cluster):
    """(Last in this file: it removes the worker node.)"""
    nodes, worker, env = cluster
    images = _images(tmp_path / "in", 96, (180, 240))  # enough work that the loss lands mid-run on a fast machine
    local = tmp_path / "local"
    assert _minelight("enhance", str(images), "-o", str(local), "--quiet", env=env).returncode == 0
    out = tmp_path / "ray"
    done_at_loss = []

    def lose_the_worker(_proc) -> None:
        nodes.remove_node(worker, allow_graceful=False)
        done_at_loss.append(len(list(out.glob("*.png"))))

    proc, stdout, stderr = _run_and_interrupt(images, out, nodes.address, env, 4, lose_the_worker, timeout=300)
    done_at_loss = done_at_loss[0]
    assert done_at_loss < 96, "the run ended before the node was removed"
    assert proc.returncode == 0, stderr
    assert "96 of 96 outputs written" in stdout and "on 2 node(s)" in stdout, stdout
    _same_files(local, out)  # also: no temporary files left

