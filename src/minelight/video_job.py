"""Enhance a video file, stream or capture device frame by frame into an H.264 file.

    minelight enhance clip.mp4 -o out.mp4 --method fast [--side-by-side]
    minelight enhance --source rtsp://camera/stream -o live.mp4 --method fast

The output has the input's frame size (twice its width with ``side_by_side``) and frame rate. Audio is
not carried over (a notice says so). On Ctrl-C the file is finalised with the frames done so far; on any
other failure nothing is left at the output path.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from dataclasses import dataclass

from .enhance import Enhancer
from .io import from_uint8, to_uint8
from .temporal import SmoothingConfig, TemporalSmoother
from .video import VideoReader, VideoWriter, side_by_side


@dataclass
class VideoJobResult:
    frames: int  # frames written
    seconds: float  # wall time of the frame loop
    interrupted: bool  # stopped by Ctrl-C (the output holds the frames done)
    resets: int  # smoothing history resets (first frame and scene cuts)

    @property
    def fps(self) -> float:
        return self.frames / self.seconds if self.seconds > 0 else 0.0


def enhance_video(enhancer: Enhancer, source: str | os.PathLike, output: str | os.PathLike,
                  smoothing: SmoothingConfig | None = SmoothingConfig(), show_side_by_side: bool = False,
                  progress: bool = True, max_frames: int = 0,
                  notice: Callable[[str], None] = lambda message: None, preset: str = "ultrafast",
                  crf: int = 20) -> VideoJobResult:
    """Enhance every frame of ``source`` into ``output`` (H.264). ``smoothing``: temporal smoothing of the
    fast model's correction and output (``None``: each frame on its own). ``max_frames`` > 0 stops after
    that many. ``preset``/``crf``: x264 speed preset (``ultrafast`` keeps up with real time on 2 cores;
    slower presets make smaller files) and quality."""
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn

    reader = VideoReader(source)
    try:
        if reader.has_audio:
            notice(f"{source}: the audio track is not carried over to {output}")
        width = reader.width * (2 if show_side_by_side else 1)
        writer = VideoWriter(output, width, reader.height, reader.fps, crf=crf, preset=preset)
        smoother = TemporalSmoother(smoothing) if smoothing is not None else None
        total = reader.frames if not max_frames else min(max_frames, reader.frames or max_frames)
        columns = [TextColumn(enhancer.method), BarColumn(), TextColumn("{task.completed} frames"),
                   TextColumn("{task.fields[fps]:.1f} FPS"),
                   TimeRemainingColumn() if total else TimeElapsedColumn()]
        interrupted, start, count = False, time.perf_counter(), 0
        try:
            with Progress(*columns, disable=not progress, transient=True) as bar:
                task = bar.add_task("video", total=total, fps=0.0)
                for frame in reader:
                    out = to_uint8(enhancer.enhance_array(from_uint8(frame), smoother))
                    writer.write(side_by_side(frame, out) if show_side_by_side else out)
                    count += 1
                    bar.update(task, completed=count, fps=count / (time.perf_counter() - start))
                    if max_frames and count >= max_frames:
                        break
        except KeyboardInterrupt:
            interrupted = True
        except BaseException:
            writer.abort()
            raise
        seconds = time.perf_counter() - start
        writer.close()
    finally:
        reader.close()
    return VideoJobResult(count, seconds, interrupted, smoother.resets if smoother else 0)
