"""A video cut at keyframes, its segments enhanced apart with a warm-up, and joined (no Ray needed)."""

from __future__ import annotations

from fractions import Fraction

import numpy as np
import pytest

from minelight.enhance.enhancer import Enhancer
from minelight.video.job import enhance_video
from minelight.video.segments import (Keyframes, Segment, enhance_segment, join_segments, part_path, plan_segments,
                                      prepare_parts, probe_keyframes, remove_parts)
from minelight.video.streams import VideoReader

from ..conftest import write_keyframed_video


def _keys(times, end, fps=12, tb=Fraction(1, 12288)) -> Keyframes:
    return Keyframes(tuple(times), 0, end, round(end * tb * fps), tb, Fraction(fps))


def test_cuts_fall_on_keyframes_about_a_segment_apart_and_cover_every_frame():
    keys = _keys([i * 12288 for i in range(10)], 10 * 12288)  # 10 s, a keyframe every second
    segments = plan_segments(keys, seconds=3.0, warmup=4)
    assert [(s.start, s.end) for s in segments] == [(None, 3 * 12288), (3 * 12288, 6 * 12288), (6 * 12288, None)]
    # the 9 s keyframe leaves 1 s < half a segment after it: no cut there
    assert segments[1] == Segment(1, 3 * 12288, 6 * 12288, warm=3 * 12288 - 4 * 1024, seek=2 * 12288)
    assert segments[0].warm is None and segments[0].seek is None


def test_a_warm_up_reaching_before_the_first_keyframe_starts_at_the_first_frame():
    keys = _keys([0, 12288, 24576, 36864], 4 * 12288)
    segments = plan_segments(keys, seconds=1.0, warmup=16)
    assert segments[1].warm == 0 and segments[1].seek == 0
    assert segments[2].warm == 24576 - 16 * 1024 and segments[2].seek == 0


@pytest.mark.parametrize("times, end, seconds", [
    ([i * 12288 for i in range(10)], 10 * 12288, 6.0),  # shorter than two segments
    ([0], 10 * 12288, 2.0),  # one keyframe: nowhere to cut
    ([i * 12288 for i in range(10)], 10 * 12288, 0.0),  # splitting off
])
def test_a_short_video_or_one_with_no_keyframe_to_cut_at_stays_whole(times, end, seconds):
    assert plan_segments(_keys(times, end), seconds) == [Segment(0, None, None, None, None)]


def test_keyframes_are_found_without_decoding(tmp_path):
    keys = probe_keyframes(write_keyframed_video(tmp_path / "in.mp4", frames=30, keyint=12))
    assert keys.times == (0, 12 * keys.frame_ticks, 24 * keys.frame_ticks)
    assert keys.frames == 30 and keys.fps == 12 and keys.seconds == pytest.approx(2.5)


def _frames(path) -> np.ndarray:
    with VideoReader(path) as reader:
        return np.stack(list(reader)).astype(np.float32)


def test_joined_segments_are_the_continuous_run_frame_for_frame(tmp_path):
    """Same frame count, timestamps and rate as the video enhanced in one piece; the pixels differ only by
    where the encoder starts a new group of pictures (the temporal state is warmed up)."""
    import av

    clip = write_keyframed_video(tmp_path / "in.mp4", frames=54, keyint=12)
    enhancer = Enhancer.from_recipe("fast", mode="video", threads=1)  # its video recipe denoises over time
    enhance_video(enhancer, clip, tmp_path / "local.mp4", None, progress=False)
    out = tmp_path / "out" / "clip.mp4"
    out.parent.mkdir()
    segments = plan_segments(probe_keyframes(clip), seconds=1.0)
    assert len(segments) == 5
    todo = prepare_parts(out, clip, segments)
    assert [p.name for p in todo] == [f"0000{i}.mp4" for i in range(5)]
    counts = [enhance_segment(enhancer, clip, s, part_path(out, s.index)) for s in segments]
    assert counts == [12, 12, 12, 12, 6]
    assert prepare_parts(out, clip, segments) == []  # a rerun finds them all done
    assert join_segments([part_path(out, s.index) for s in segments], out) == 54
    remove_parts(out)
    assert sorted(p.name for p in out.parent.iterdir()) == ["clip.mp4"]

    def timing(path):
        with av.open(str(path)) as c:
            s = c.streams.video[0]
            return s.average_rate, s.time_base, [f.pts for f in c.decode(s)]

    assert timing(out) == timing(tmp_path / "local.mp4")
    diff = np.abs(_frames(out) - _frames(tmp_path / "local.mp4")).mean(axis=(1, 2, 3))  # (54,)
    assert diff[:12].max() == 0  # the first segment is the same encode
    assert diff.max() < 4.0, diff.round(2)


def test_a_warm_up_removes_the_jump_in_noise_at_a_cut(tmp_path):
    """Before encoding: a segment started cold differs from the continuous run at its first frame by
    several levels; warmed up on 16 frames it is within a fraction of a level."""
    clip = write_keyframed_video(tmp_path / "in.mp4", frames=40, keyint=12)
    enhancer = Enhancer.from_recipe("fast", mode="video", threads=1)
    with VideoReader(clip) as reader:
        frames = list(reader)
    denoiser = enhancer.denoiser()
    whole = np.stack([enhancer.enhance_frame(f, None, denoiser) for f in frames]).astype(np.float32)

    def seam(warmup: int) -> float:
        segment = plan_segments(probe_keyframes(clip), seconds=1.0, warmup=warmup)[2]  # starts at frame 24
        first = segment.start // 1024
        lo = first if segment.warm is None else segment.warm // 1024
        state = enhancer.denoiser()
        out = [enhancer.enhance_frame(f, None, state) for f in frames[lo:first + 1]][-1]
        return float(np.abs(out.astype(np.float32) - whole[first]).mean())

    assert seam(0) > 3.0
    assert seam(16) < 1.0


def test_parts_of_another_plan_are_not_reused(tmp_path):
    clip = write_keyframed_video(tmp_path / "in.mp4", frames=30, keyint=6)
    out = tmp_path / "clip.mp4"
    keys = probe_keyframes(clip)
    first = plan_segments(keys, seconds=1.0)
    prepare_parts(out, clip, first)
    part_path(out, 0).write_bytes(b"done")
    (part_path(out, 1).parent / ".00001.partial.mp4").write_bytes(b"half")
    assert len(prepare_parts(out, clip, first)) == len(first) - 1
    assert not (part_path(out, 1).parent / ".00001.partial.mp4").exists()
    assert len(prepare_parts(out, clip, plan_segments(keys, seconds=0.5))) == 5  # another plan: all again
