"""A camera's cluster worker and the gateway's relay, as plain objects in this process (no Ray needed):
what crosses between them, the clocks, counters across a restart, and the pull protocol."""

from __future__ import annotations

import time

import numpy as np

from minelight.serve.config import CameraConfig
from minelight.serve.fleet import Relay, clock_offset, counting_mask, merge_stats, unplaceable
from minelight.serve.gateway import Camera
from minelight.serve.remote import CameraHost, new_packets
from minelight.serve.shared import CameraStats, PacketRing

from .helpers import decode_jpeg, wait_for, write_clip


class _Call:
    def __init__(self, method):
        self.remote = method  # what Ray's ActorHandle.method.remote does, but at once: the value itself


class _Handle:
    """Stands for a Ray actor handle over a plain :class:`CameraHost`."""

    def __init__(self, host: CameraHost):
        self.pull = _Call(host.pull)


def _pull(relay: Relay, handle: _Handle) -> None:
    sent = time.monotonic()
    relay.apply(handle.pull.remote(relay.request(), 0.2), sent, time.monotonic())


def test_clock_offset_takes_the_midpoint_of_the_call():
    assert clock_offset(sent=100.0, received=100.2, remote_now=5.0) == 95.1


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


def test_the_relay_brings_a_workers_frames_counters_and_live_view_into_the_gateways_memory(tmp_path):
    clip = write_clip(tmp_path / "a.mp4", frames=24, fps=12)
    cfg = CameraConfig("a", str(clip), method="clahe")
    host, cam = CameraHost(cfg), Camera.create(cfg)
    handle = _Handle(host)
    relay = Relay(cam, handle)
    try:
        _pull(relay, handle)
        assert relay.epoch == host.epoch and cam.node["host"]
        stats = cam.streams["main"].stats
        stats["enhanced_wanted_at"] = stats["live_wanted_at"] = time.monotonic()  # an MJPEG client and a viewer

        def served():
            _pull(relay, handle)
            return cam.streams["main"].enhanced.read() and cam.streams["main"].live.head() > 3

        wait_for(served, 30, every=0.0, what="JPEG frames and H.264 packets relayed")
        seq, decoded_at, data = cam.streams["main"].enhanced.read()
        assert decode_jpeg(data).shape == (120, 160, 3)
        assert abs(decoded_at - time.monotonic()) < 5  # on the gateway's clock
        assert stats.state == "live" and stats["frames_out"] > 0
        assert stats["live_wanted_at"] > 0  # the gateway's own field, not overwritten by the worker's
        assert host.streams["main"].stats["enhanced_wanted_at"] > 0  # the want reached the worker
        frames = stats["frames_out"]
        relay.down("the node is gone")
        assert stats.state == "reconnecting"
        host.stop()
        host = CameraHost(cfg)  # Ray starts it again: a new epoch, fresh counts and packet numbers
        handle.pull = _Call(host.pull)
        head = cam.streams["main"].live.head()
        stats["live_wanted_at"] = time.monotonic()
        wait_for(lambda: _pull(relay, handle) or stats.state == "live", 30, every=0.0, what="live again")
        assert relay.epoch == host.epoch and stats["reconnects"] >= 1 and stats["frames_out"] >= frames
        wait_for(lambda: _pull(relay, handle) or cam.streams["main"].live.head() > head, 30, every=0.0,
                 what="packet numbers going on")
    finally:
        host.stop()
        for blocks in cam.streams.values():
            blocks.close()
