"""``minelight serve --ray``: the cameras' workers on a real Ray cluster of two nodes on this machine's loopback.

The gateway runs as its own process, as a user runs it, against a cluster of a head and a worker node (one
CPU each); each camera reserves half a CPU, so Ray spreads two cameras over both nodes and, when the worker
node is removed, both fit on the head. Skipped without Ray."""

from __future__ import annotations

import io
import json
import os
import signal
import subprocess
import sys
import time

import pytest

pytest.importorskip("ray")

import av  # noqa: E402

from minelight.serve import fmp4  # noqa: E402
from minelight.serve.shared import sweep_stale  # noqa: E402

from ..raycluster import loopback_cluster  # noqa: E402
from .browser import CHROMIUM, Chromium  # noqa: E402
from .helpers import MjpegClient, ServeProcess, decode_jpeg, wait_for, write_clip  # noqa: E402


def _config(tmp_path, clips: dict[str, str]) -> str:
    lines = ['[server]\nport = 0\n']
    for name, clip in clips.items():
        lines.append(f'[[cameras]]\nname = "{name}"\nsource = "{clip}"\nmethod = "clahe"\ncpus = 0.5\n')
    path = tmp_path / "cameras.toml"
    path.write_text("\n".join(lines))
    return str(path)


@pytest.fixture()
def fleet(tmp_path, monkeypatch):
    """(the gateway process, the cluster, its worker node) with cameras a and b live."""
    clips = {name: write_clip(tmp_path / f"{name}.mp4", frames=48, fps=12, seed=i) for i, name in enumerate("ab")}
    with loopback_cluster(head_cpus=1, worker_cpus=(1,)) as (nodes, workers, env):
        for key, value in env.items():
            monkeypatch.setenv(key, value)
        gateway = ServeProcess(["--config", _config(tmp_path, clips), "--ray", nodes.address], tmp_path / "serve.log",
                               startup_s=120)
        try:
            wait_for(lambda: set(gateway.states().values()) == {"live"}, 90, what="both cameras live")
            yield gateway, nodes, workers[0]
        finally:
            gateway.stop()
    sweep_stale()  # what the removed node's workers left, as a next worker started there would


def _nodes(gateway) -> dict[str, str]:
    return {c["name"]: c["node"]["id"] for c in gateway.json("/api/cameras")}


def _ws(gateway, camera: str):
    from websockets.sync.client import connect

    return connect(gateway.url.replace("http://", "ws://") + f"/cameras/{camera}/live", open_timeout=10)


def _receive(ws, seconds: float) -> list:
    out, deadline = [], time.monotonic() + seconds
    while time.monotonic() < deadline:
        out.append(ws.recv(timeout=10))
    return out


def _decoded(messages: list) -> int:
    """Frames in the fMP4 of a live view's messages (its init, then fragments)."""
    data = b"".join(m for m in messages if isinstance(m, bytes))
    with av.open(io.BytesIO(data), format="mp4") as container:
        return sum(1 for _ in container.decode(video=0))


def test_each_camera_runs_on_a_node_of_the_cluster_and_the_gateway_serves_it(fleet, tmp_path):
    gateway, nodes, worker = fleet
    placed = _nodes(gateway)
    assert set(placed.values()) == {nodes.head_node.node_id, worker.node_id}  # spread over both nodes
    assert gateway.json("/healthz")["cameras"]["a"]["node"] == "127.0.0.2"
    client = MjpegClient(gateway.url + "/cameras/b/stream.mjpg")  # frames made on the worker node, served here
    try:
        frames = [client.frame() for _ in range(3)]
    finally:
        client.close()
    assert frames[0].shape == (120, 160, 3)
    status, body, _ = gateway.get("/cameras/a/snapshot.jpg?view=original")
    assert status == 200 and decode_jpeg(body).shape == (120, 160, 3)
    with _ws(gateway, "b") as ws:  # the H.264 live view, encoded on the camera's node, relayed to the page
        messages = _receive(ws, 2.5)
    assert json.loads(messages[0])["type"] == "init"
    assert [k for k, _ in fmp4.boxes(b"".join(m for m in messages[1:] if isinstance(m, bytes)))][:3] == [
        b"ftyp", b"moov", b"moof"]
    assert _decoded(messages[1:]) >= 15  # 12 FPS for 2.5 s, from a keyframe on
    if CHROMIUM:  # the page says where each camera runs
        browser = Chromium(gateway.url + "/", tmp_path / "chromium")
        try:
            nodes_shown = browser.wait("(n => n.length == 2 && n)([...document.querySelectorAll('.tile .node')]"
                                       ".map(e => e.textContent))", 60)
        finally:
            browser.close()
        assert all(text.startswith("on ") and "(127.0.0.2)" in text for text in nodes_shown)
    (tmp_path / "check").mkdir()
    config = _config(tmp_path / "check", {"a": str(tmp_path / "a.mp4")})
    run = subprocess.run([sys.executable, "-m", "minelight.cli", "serve", "--config", config, "--check", "--ray",
                          nodes.address], capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr  # --check --ray: does the config fit the cluster?
    assert "valid; 1 camera(s) reserve 0.5 CPUs of the cluster's 2 on 2 node(s); they still fit" in run.stdout
    code, seconds = gateway.terminate(timeout=30)
    assert code == 0, gateway.log()[-2000:]


def test_a_removed_node_brings_its_camera_back_on_the_node_left(fleet):
    gateway, nodes, worker = fleet
    lost = next(name for name, node in _nodes(gateway).items() if node == worker.node_id)
    before = gateway.camera(lost)
    with _ws(gateway, lost) as viewer:  # a viewer of its live view stays connected through the failure
        _receive(viewer, 1.0)
        nodes.remove_node(worker)
        wait_for(lambda: gateway.camera(lost)["state"] == "live" and _nodes(gateway)[lost] == nodes.head_node.node_id,
                 60, what="the camera live again on the head node")
        _receive(viewer, 1.0)  # what was queued for it before, and a second more
        fresh = _receive(viewer, 2.0)
    assert sum(isinstance(m, bytes) and m[4:8] == b"moof" for m in fresh) >= 10  # 12 FPS from the new worker
    after = gateway.camera(lost)
    assert after["reconnects"] > before["reconnects"]
    assert after["frames_out"] >= before["frames_out"]  # counters carry on across the restart
    frames_then = after["frames_out"]
    wait_for(lambda: gateway.camera(lost)["frames_out"] > frames_then, 20, what="frames flowing again")
    os.kill(after["pid"], signal.SIGKILL)  # its worker process dies (the node lives): Ray starts it again
    wait_for(lambda: (c := gateway.camera(lost))["reconnects"] > after["reconnects"] and c["state"] == "live"
             and c["pid"] != after["pid"], 60, what="the camera live again in a new worker")
    code, _ = gateway.terminate(timeout=30)
    assert code == 0, gateway.log()[-2000:]
