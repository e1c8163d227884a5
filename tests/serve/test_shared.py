import multiprocessing

from minelight.serve.shared import LATENCY_BUCKETS, CameraStats, FrameSlot


def _child(slot, stats):
    slot.write(b"\xff\xd8frame", 12.5)
    stats.state = "live"
    stats.add("frames_out", 3)
    stats.observe_latency(0.05)


def test_slot_and_stats_cross_a_spawned_process():
    slot, stats = FrameSlot(1024), CameraStats()
    try:
        assert slot.read() is None and slot.sequence() == 0
        proc = multiprocessing.get_context("spawn").Process(target=_child, args=(slot, stats))
        proc.start()
        proc.join(60)
        assert proc.exitcode == 0
        assert slot.read() == (1, 12.5, b"\xff\xd8frame")
        snap = stats.snapshot()
        assert snap["state"] == "live" and snap["frames_out"] == 3
        counts = stats.latency_counts()
        assert len(counts) == len(LATENCY_BUCKETS) + 1 and counts[LATENCY_BUCKETS.index(0.06)] == 1
    finally:
        slot.close()
        stats.close()


def test_newest_write_wins_and_oversize_is_refused():
    slot = FrameSlot(8)
    try:
        slot.write(b"a", 1.0)
        slot.write(b"bb", 2.0)
        assert slot.read() == (2, 2.0, b"bb")
        try:
            slot.write(b"x" * 9, 3.0)
            raise AssertionError("oversize frame accepted")
        except ValueError:
            pass
        assert slot.read() == (2, 2.0, b"bb")
    finally:
        slot.close()


def test_segments_are_named_after_their_process_and_stale_ones_are_swept(tmp_path):
    import os

    from minelight.serve.shared import PREFIX, stale_segments, sweep_stale

    slot = FrameSlot(16)
    try:
        assert slot.shm.name.startswith(f"{PREFIX}{os.getpid()}_")
    finally:
        slot.close()
    names = [f"{PREFIX}{os.getpid()}_0", f"{PREFIX}999999999_3", "psm_abc", f"{PREFIX}x"]
    assert stale_segments(names, lambda pid: pid == os.getpid()) == [f"{PREFIX}999999999_3"]
    for name in names:
        (tmp_path / name).write_bytes(b"")
    assert sweep_stale(tmp_path) == [f"{PREFIX}999999999_3"]
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(set(names) - {f"{PREFIX}999999999_3"})
