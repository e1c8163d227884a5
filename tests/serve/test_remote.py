"""A camera's cluster worker, its node's hub and the gateway's link and relay, as plain objects in this process
(no Ray needed): what crosses between them, the clocks, counters across a restart, and the pull protocol."""

from __future__ import annotations

import contextlib
import subprocess
import sys
import threading
import time
from dataclasses import dataclass

import numpy as np
import pytest

from minelight.serve.config import CameraConfig
from minelight.serve.fleet import NodeLink, Relay, clock_offset, counting_mask, fit, merge_stats, unplaceable
from minelight.serve.gateway import Camera
from minelight.serve.remote import CameraHost, NodeHub, new_packets
from minelight.serve.shared import CameraStats, PacketRing

from .helpers import decode_jpeg, wait_for, write_clip


class _Call:
    def __init__(self, method):
        self.remote = method  # what Ray's ActorHandle.method.remote does, but at once: the value itself


class _Hub:
    """Stands for a Ray actor handle over a plain :class:`NodeHub`."""

    def __init__(self, hub: NodeHub):
        self.pull = _Call(hub.pull)


class _Ray:
    """Stands for Ray where a value stands for its reference: every reference is ready."""

    @staticmethod
    def wait(refs, timeout=None, num_returns=1):
        return refs[:num_returns], refs[num_returns:]

    @staticmethod
    def get(ref):
        return ref


@dataclass
class _Node:
    """A camera's worker, its node's hub, the gateway's camera and relay, and a link pulling in a thread."""

    host: CameraHost
    cam: Camera
    hub: NodeHub
    relay: Relay
    link: NodeLink
    lost: list  # (camera, why) handed back by the link


@contextlib.contextmanager
def _on_node(cfg: CameraConfig):
    """A :class:`_Node` for camera ``cfg`` (nothing joined to the link yet); all of it stopped and freed after
    (``host``: the worker then in place)."""
    lost, closing = [], threading.Event()
    cam, hub = Camera.create(cfg), NodeHub()
    node = _Node(CameraHost(cfg), cam, hub, Relay(cam),
                 NodeLink("n" * 56, _Hub(hub), lambda name, why: lost.append((name, why))), lost)
    thread = threading.Thread(target=node.link.run, args=(_Ray, closing.is_set), daemon=True)
    thread.start()
    try:
        yield node
    finally:
        closing.set()
        thread.join(5)
        node.host.stop()
        hub.close()
        for blocks in cam.streams.values():
            blocks.close()


def test_clock_offset_takes_the_midpoint_of_the_call_less_the_remote_wait():
    assert clock_offset(sent=100.0, received=100.2, remote_now=5.0) == 95.1
    assert clock_offset(sent=100.0, received=101.2, remote_now=6.0, waited=1.0) == pytest.approx(95.1)


def test_merge_keeps_the_gateways_fields_adds_counters_and_moves_times_onto_its_clock():
    local, remote = CameraStats(), CameraStats()
    try:
        local["live_wanted_at"], local["frames_out"] = 50.0, 7.0
        remote["live_wanted_at"], remote["frames_out"], remote["updated_at"], remote["fps"] = 1.0, 3.0, 2.0, 12.5
        remote.observe_latency(0.05)
        base = np.where(counting_mask(len(local.values)), local.values, 0.0)
        merge_stats(local.values, remote.values.tolist(), base, offset=100.0)
        assert local["live_wanted_at"] == 50.0  # the gateway's clients wrote it: kept
        assert local["frames_out"] == 10.0 and local["fps"] == 12.5 and local["updated_at"] == 102.0
        assert sum(local.latency_counts()) == 1
    finally:
        local.close()
        remote.close()


def test_a_camera_that_needs_more_than_any_node_has_is_named():
    nodes = [{"Resources": {"CPU": 2.0}}, {"Resources": {"CPU": 4.0, "GPU": 1.0}}]
    cams = [CameraConfig("a", "x", cpus=4), CameraConfig("b", "x", gpus=0.5)]
    assert unplaceable(cams, nodes) is None
    assert unplaceable([CameraConfig("big", "x", cpus=8)], nodes) == (
        "camera big needs 8 CPUs but the largest node of the cluster has 4")
    assert "needs 1 GPUs" in unplaceable([CameraConfig("g", "x", gpus=1)], nodes[:1])


def test_fit_says_whether_the_cameras_fit_and_survive_the_loss_of_a_node():
    nodes = [{"Resources": {"CPU": 4.0}}, {"Resources": {"CPU": 4.0}}, {"Resources": {"CPU": 2.0}}]
    cams = [CameraConfig(f"c{i}", "x", cpus=1) for i in range(6)]
    assert fit(cams, nodes) == (True, "6 camera(s) reserve 6 CPUs of the cluster's 10 on 3 node(s); they still fit "
                                      "when any one node is lost")
    ok, line = fit(cams + [CameraConfig("c6", "x", cpus=1)], nodes)
    assert ok and line.endswith("losing the largest node would leave some without room")
    ok, line = fit([CameraConfig(f"c{i}", "x", cpus=2) for i in range(6)], nodes)
    assert not ok and line.endswith("they do not fit (the rest would wait for room)")
    ok, line = fit([CameraConfig("g", "x", gpus=1)], nodes)
    assert not ok and "needs 1 GPUs" in line


def test_new_packets_go_on_from_the_last_had_and_restart_at_the_newest_after_a_loss():
    ring = PacketRing(capacity=4096, entries=8)
    try:
        for i in range(5):
            ring.write(bytes([i]) * 10, i, i == 0, float(i))
        packets, last, lost = new_packets(ring, after=2)
        assert [p[1] for p in packets] == [2, 3, 4] and last == 5 and not lost  # numbers 3-5
        assert new_packets(ring, after=5) == ([], 5, False)
        for i in range(5, 20):  # the ring holds 8: a reader at 5 fell behind
            ring.write(bytes([i]) * 10, i, False, float(i))
        packets, last, lost = new_packets(ring, after=5)
        assert lost and last == 20 and [p[1] for p in packets] == [19]
    finally:
        ring.close()


def test_a_node_link_brings_a_workers_frames_counters_and_live_view_into_the_gateways_memory(tmp_path):
    cfg = CameraConfig("a", str(write_clip(tmp_path / "a.mp4", frames=24, fps=12)), method="clahe")
    with _on_node(cfg) as node:
        cam, relay, link = node.cam, node.relay, node.link
        link.join(relay, node.host.where())
        wait_for(lambda: relay.epoch == node.host.epoch, 30, every=0.05, what="the first pull")
        assert cam.node["host"]
        stats = cam.streams["main"].stats
        stats["enhanced_wanted_at"] = stats["live_wanted_at"] = time.monotonic()  # an MJPEG client, a viewer
        wait_for(lambda: cam.streams["main"].enhanced.read() and cam.streams["main"].live.head() > 3, 30,
                 every=0.05, what="JPEG frames and H.264 packets relayed")
        seq, decoded_at, data = cam.streams["main"].enhanced.read()
        assert decode_jpeg(data).shape == (120, 160, 3)
        assert abs(decoded_at - time.monotonic()) < 5  # on the gateway's clock
        assert stats.state == "live" and stats["frames_out"] > 0
        assert stats["live_wanted_at"] > 0  # the gateway's own field, not overwritten by the worker's
        assert node.host.streams["main"].stats["enhanced_wanted_at"] > 0  # the want reached the worker
        frames = stats["frames_out"]
        link.leave("a")
        relay.down("the node is gone")
        assert stats.state == "reconnecting"
        node.host.stop()
        node.host = CameraHost(cfg)  # Ray starts it again: a new epoch, fresh counts and packet numbers
        head = cam.streams["main"].live.head()
        stats["live_wanted_at"] = time.monotonic()
        link.join(relay, node.host.where())
        wait_for(lambda: stats.state == "live" and relay.epoch == node.host.epoch, 30, every=0.05, what="live again")
        assert stats["reconnects"] >= 1 and stats["frames_out"] >= frames
        wait_for(lambda: cam.streams["main"].live.head() > head, 30, every=0.05, what="packet numbers going on")
        assert not node.lost


def test_a_camera_whose_worker_exited_is_handed_back_as_lost(tmp_path):
    cfg = CameraConfig("a", str(write_clip(tmp_path / "a.mp4", frames=12, fps=12)), method="clahe")
    gone = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    with _on_node(cfg) as node:
        node.link.join(node.relay, node.host.where() | {"pid": int(gone.stdout)})  # as if run by that ended process
        wait_for(lambda: node.lost, 10, every=0.05, what="the camera handed back")
        assert node.lost == [("a", "its worker exited")] and not node.link.members


def test_a_camera_with_a_substream_runs_its_main_stream_on_the_worker_while_the_gateway_wants_it(tmp_path):
    main = write_clip(tmp_path / "main.mp4", frames=24, size=(240, 320), fps=12)
    sub = write_clip(tmp_path / "sub.mp4", frames=24, size=(120, 160), fps=12)
    cfg = CameraConfig("d", str(main), method="clahe", substream=str(sub))
    with _on_node(cfg) as node:
        cam = node.cam
        node.link.join(node.relay, node.host.where())
        wait_for(lambda: cam.streams["sub"].stats.state == "live", 30, every=0.05, what="the substream live")
        assert cam.streams["main"].stats.state == "off" and not cam.streams["main"].stats["running"]
        main_stats = cam.streams["main"].stats

        def watch_main():  # the large view: its viewer asks for the main stream, again and again
            main_stats["live_wanted_at"] = time.monotonic()
            return main_stats["running"] and cam.streams["main"].live.head() > 3

        wait_for(watch_main, 30, every=0.1, what="the main stream started on the worker and relayed")
        assert node.host.streams["main"].stats["running"] == 1
        assert cam.streams["main"].stats["width"] == 320 and cam.streams["sub"].stats["width"] == 160
        assert not node.lost
