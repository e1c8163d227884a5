"""A long video cut at keyframes into segments that are enhanced apart and joined without re-encoding.

    keys = probe_keyframes("month.mp4")                       # one demux pass, nothing decoded
    segments = plan_segments(keys)                             # about SEGMENT_SECONDS each, cut at keyframes
    for seg in segments:                                       # anywhere, in any order (minelight.cluster)
        enhance_segment(enhancer, "month.mp4", seg, part_path("out/month.mp4", seg.index))
    join_segments([part_path("out/month.mp4", s.index) for s in segments], "out/month.mp4")

* **Plan** (:func:`plan_segments`, a pure function): cuts fall on keyframes, the first at or after
  ``SEGMENT_SECONDS`` from the start, the next ``SEGMENT_SECONDS`` after that, and so on; a video shorter than
  two segments, or with no keyframe to cut at, stays one segment. Segment ``i`` owns the frames with
  presentation time in ``[start, end)``; the first starts before everything, the last ends after everything,
  so every frame belongs to exactly one segment.
* **Warm-up** (:func:`enhance_segment`): the temporal denoiser (and the fast model's smoothing) carries
  history from frame to frame; a segment started cold would show a jump in noise at its first frame. So a
  segment decodes from the keyframe at or before ``warmup`` frames (:data:`WARMUP_FRAMES`, the denoiser's
  longest memory) ahead of its start, enhances those frames to build the state, and throws their output
  away.
* **Parts**: each segment is its own H.264 file (written atomically by :class:`VideoWriter`), so a part that
  exists is complete. :func:`join_segments` appends their packets in order with their timestamps shifted
  to run on, writes the joined file atomically and needs every part to have the same codec settings
  (they do when written with the same options).

Times are in the video stream's ``time_base`` ticks (integers), as PyAV reports them.
"""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from fractions import Fraction
from pathlib import Path

from ..enhance.denoise import DenoiseConfig
from ..enhance.enhancer import Enhancer
from ..enhance.temporal import SmoothingConfig, TemporalSmoother
from .streams import (_CONTAINER_FORMATS, DEFAULT_FPS, VideoError, VideoReader, VideoWriter, move_into_place,
                      partial_path, side_by_side)

SEGMENT_SECONDS = 60.0  # target length of a segment (s): 1,500 frames at 25 FPS; cut at the next keyframe
WARMUP_FRAMES = DenoiseConfig.frames  # frames enhanced and discarded before a segment's first frame (16)
PARTS = ".minelight-parts"  # the folder beside an output that holds its finished segments until the join


@dataclass(frozen=True)
class Keyframes:
    """What one demux pass over a video finds (no frame decoded)."""

    times: tuple[int, ...]  # presentation times of the keyframes, ticks, ascending
    first: int  # earliest presentation time of any frame (ticks)
    end: int  # presentation time just after the last frame (ticks)
    frames: int  # video packets (= frames)
    time_base: Fraction  # seconds per tick
    fps: Fraction  # the stream's average frame rate (frames per second)

    @property
    def seconds(self) -> float:
        return float((self.end - self.first) * self.time_base)

    @property
    def frame_ticks(self) -> int:
        """Ticks of one frame at the average rate (at least 1)."""
        return max(1, round(1 / (self.fps * self.time_base)))


@dataclass(frozen=True)
class Segment:
    """A piece of a video: the frames with presentation time in ``[start, end)`` (ticks)."""

    index: int  # 0, 1, ...: the order of the join
    start: int | None  # first own presentation time; None: from the first frame
    end: int | None  # presentation time where the next segment starts; None: to the last frame
    warm: int | None  # frames from here up to ``start`` are enhanced for their state only; None: no warm-up
    seek: int | None  # the keyframe to start decoding from (at or before ``warm``); None: the file's start


def probe_keyframes(source: str | os.PathLike) -> Keyframes:
    """Demux the first video track of ``source`` (packets only, no decoding) and note its keyframes."""
    import av

    with VideoReader(source) as reader:
        try:
            keys, first, end, count = [], None, None, 0
            for packet in reader.container.demux(reader.stream):
                if packet.pts is None:  # the demuxer's final empty packet
                    continue
                count += 1
                first = packet.pts if first is None else min(first, packet.pts)
                end = max(packet.pts if end is None else end, packet.pts + max(packet.duration or 0, 1))
                if packet.is_keyframe:
                    keys.append(packet.pts)
        except av.error.FFmpegError as err:
            raise VideoError(f"{reader.name}: cannot read ({getattr(err, 'strerror', None) or err})") from None
        if not count:
            raise VideoError(f"{reader.name}: has no frames")
        return Keyframes(tuple(sorted(keys)), first, end, count, Fraction(reader.stream.time_base), reader.fps)


def plan_segments(keys: Keyframes, seconds: float = SEGMENT_SECONDS, warmup: int = WARMUP_FRAMES) -> list[Segment]:
    """Cut the video at keyframes into segments of about ``seconds`` (> 0; 0: never cut). A cut is the first
    keyframe at least ``seconds`` after the previous cut that leaves at least half a segment after it; a
    video shorter than two segments is one segment. Each segment after the first warms up on ``warmup``
    frames before its start (from the keyframe at or before them)."""
    if seconds < 0 or warmup < 0:
        raise ValueError(f"segment seconds and warm-up frames must be >= 0, got {seconds} and {warmup}")
    whole = [Segment(0, None, None, None, None)]
    if seconds == 0 or keys.seconds < 2 * seconds:
        return whole
    step = seconds / keys.time_base  # ticks, as a Fraction-compatible number
    cuts, last = [], keys.first
    for k in keys.times:
        if k - last >= step and keys.end - k >= step / 2:
            cuts.append(k)
            last = k
    if not cuts:
        return whole
    segments = []
    for i, (start, end) in enumerate(zip([None] + cuts, cuts + [None])):
        warm = seek = None
        if start is not None and warmup:
            warm = max(keys.first, start - warmup * keys.frame_ticks)
            seek = max((k for k in keys.times if k <= warm), default=None)
        segments.append(Segment(i, start, end, warm, seek))
    return segments


def parts_folder(output: str | os.PathLike) -> Path:
    """Where the segments of ``output`` wait for the join: ``FOLDER/.minelight-parts/NAME/``."""
    output = Path(output)
    return output.parent / PARTS / output.name


def part_path(output: str | os.PathLike, index: int) -> Path:
    """The file of segment ``index`` of ``output`` (the output's container, named by the index)."""
    return parts_folder(output) / f"{index:05d}{Path(output).suffix.lower()}"


def prepare_parts(output: str | os.PathLike, source: str | os.PathLike, segments: Sequence[Segment]) -> list[Path]:
    """Make the parts folder of ``output`` ready for ``segments`` of ``source`` and return the parts still to
    do. Parts of the same plan are kept (a rerun redoes only the missing ones); a folder of another plan or
    source is emptied; temporary files of killed writes are removed. The plan is kept in ``plan.json``."""
    folder = parts_folder(output)
    plan = {"source": str(Path(source).resolve()), "size": os.path.getsize(source),
            "segments": [asdict(s) for s in segments]}
    try:
        same = json.loads((folder / "plan.json").read_text()) == plan
    except (OSError, ValueError):
        same = False
    if not same and folder.exists():
        shutil.rmtree(folder)
    folder.mkdir(parents=True, exist_ok=True)
    if not same:
        tmp = folder / ".plan.json.partial"
        tmp.write_text(json.dumps(plan))
        os.replace(tmp, folder / "plan.json")
    for entry in os.scandir(folder):
        if entry.name.startswith(".") and ".partial" in entry.name:
            os.unlink(entry.path)
    return [part_path(output, s.index) for s in segments if not part_path(output, s.index).exists()]


def enhance_segment(enhancer: Enhancer, source: str | os.PathLike, segment: Segment, output: str | os.PathLike,
                    smoothing: SmoothingConfig | None = None, show_side_by_side: bool = False,
                    preset: str = "ultrafast", crf: int = 20) -> int:
    """Enhance the frames of ``segment`` of ``source`` into the H.264 file ``output`` (written atomically);
    returns the frames written. Decoding starts at ``segment.seek``; frames before ``segment.warm`` are only
    decoded, frames in ``[warm, start)`` are enhanced and discarded (they build the temporal state), frames in
    ``[start, end)`` are written. The same enhancer steps as :func:`minelight.video.job.enhance_video`."""
    import av

    reader = VideoReader(source)
    writer = None
    try:
        width = reader.width * (2 if show_side_by_side else 1)
        writer = VideoWriter(output, width, reader.height, reader.fps, crf=crf, preset=preset)
        smoother = TemporalSmoother(smoothing) if smoothing is not None else None
        denoiser = enhancer.denoiser()
        if segment.seek is not None:
            reader.container.seek(segment.seek, stream=reader.stream, backward=True, any_frame=False)
        for frame in reader.decoded():
            pts = frame.pts if frame.pts is not None else frame.dts
            if segment.end is not None and pts >= segment.end:
                break
            if segment.warm is not None and pts < segment.warm:
                continue  # before the warm-up: decoded only
            image = frame.to_ndarray(format="rgb24")
            out = enhancer.enhance_frame(image, smoother, denoiser)
            if segment.start is not None and pts < segment.start:
                continue  # warm-up: its state is kept, its output is not
            writer.write(side_by_side(image, out) if show_side_by_side else out)
        writer.close()
        return writer.count
    except av.error.FFmpegError as err:  # the seek (decoding errors are VideoReader's own)
        raise VideoError(f"{reader.name}: cannot decode ({getattr(err, 'strerror', None) or err})") from None
    finally:
        if writer is not None:
            writer.abort()  # nothing once closed; a failed part leaves no file
        reader.close()


def join_segments(parts: Sequence[str | os.PathLike], output: str | os.PathLike) -> int:
    """Append the packets of ``parts`` (H.264 files of the same size and codec settings, in order) into
    ``output`` without re-encoding; each part's timestamps are shifted to start where the previous one
    ended. Written under a temporary name and renamed when complete; returns the frames (packets) written."""
    import av

    output = Path(output)
    suffix = output.suffix.lower()
    if suffix not in _CONTAINER_FORMATS:
        raise VideoError(f"{output}: unknown video suffix")
    if not parts:
        raise VideoError(f"{output}: no segments to join")
    tmp = partial_path(output)  # the name VideoWriter uses: cleaned the same way
    out = av.open(str(tmp), "w", format=_CONTAINER_FORMATS[suffix])
    count, ok = 0, False
    try:
        target, extradata, shift = None, None, Fraction(0)  # shift: seconds
        for part in parts:
            with av.open(str(part)) as container:
                stream = container.streams.video[0]
                ctx = stream.codec_context
                if target is None:
                    target = out.add_stream_from_template(stream)
                    extradata = ctx.extradata
                elif ctx.extradata != extradata or (ctx.width, ctx.height) != (target.width, target.height):
                    raise VideoError(f"{part}: encoded with other settings than the first segment; cannot join")
                tb = Fraction(stream.time_base)
                offset = round(shift / tb)
                frame = max(1, round(1 / (Fraction(stream.average_rate or DEFAULT_FPS) * tb)))
                first = last = None
                for packet in container.demux(stream):
                    if packet.pts is None:
                        continue
                    first = packet.pts if first is None else min(first, packet.pts)
                    last = packet.pts if last is None else max(last, packet.pts)
                    packet.pts += offset
                    if packet.dts is not None:
                        packet.dts += offset
                    packet.stream = target
                    out.mux(packet)
                    count += 1
                if first is None:
                    raise VideoError(f"{part}: has no frames")
                shift += (last - first + frame) * tb
        ok = True
    finally:
        out.close()
        if not ok:
            tmp.unlink(missing_ok=True)
    move_into_place(tmp, output)
    return count


def remove_parts(output: str | os.PathLike) -> None:
    """Delete the parts folder of ``output`` (after the join), and ``.minelight-parts`` once it is empty."""
    folder = parts_folder(output)
    shutil.rmtree(folder, ignore_errors=True)
    try:
        folder.parent.rmdir()
    except OSError:
        pass
