"""Enhance a video file, stream or capture device frame by frame into an H.264 file.

    minelight enhance clip.mp4 -o out.mp4 --method fast [--side-by-side]
    minelight enhance --source rtsp://camera/stream -o live.mp4 --method fast

The output has the input's frame size (twice its width with ``side_by_side``) and frame rate. Audio is
not carried over (a notice says so). On Ctrl-C the file is finalised with the frames done so far; on any
other failure nothing is left at the output path.
"""

from __future__ import annotations

import os
import queue
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from ..enhance.enhancer import Enhancer
from ..enhance.temporal import SmoothingConfig, TemporalSmoother
from .frames import enhanced_frames
from .streams import VideoReader, VideoWriter, side_by_side


def enhance_threads(method: str, threads: int = 0, cores: int | None = None) -> int:
    """Intra-op threads for enhancing a video while its decoder and encoder run beside it: ``threads`` if
    given (> 0); for the fast model half the ``cores`` (default: this machine's), at least 1, since decoding,
    encoding and the worker threads of :func:`enhance_workers` share them (figures: docs/results.md, *The video
    chain at 720p*); 0 (the runtime's default) for the other methods, whose enhancement dominates."""
    if threads > 0 or method != "fast":
        return threads
    return max(1, (cores or os.cpu_count() or 1) // 2)


def enhance_workers(method: str, cores: int | None = None) -> int:
    """Threads that finish frames at once (:func:`minelight.video.frames.enhanced_frames`): for the fast
    model, whose network and full-resolution steps need no state, as many as the cores, up to 4; 1 for the
    other methods, whose whole frame is done in order."""
    return max(1, min(4, cores or os.cpu_count() or 1)) if method == "fast" else 1


@dataclass
class VideoJobResult:
    frames: int  # frames written
    seconds: float  # wall time of the frame loop
    interrupted: bool  # stopped by Ctrl-C (the output holds the frames done)
    resets: int  # smoothing history resets (first frame and scene cuts)

    @property
    def fps(self) -> float:
        return self.frames / self.seconds if self.seconds > 0 else 0.0


class _Stage(threading.Thread):
    """Runs ``fn()`` in a thread, keeps its exception in ``error``, and puts ``_END`` on ``outbox`` (if
    any) when it is done, however it ends."""

    def __init__(self, fn, outbox: queue.Queue | None, name: str):
        super().__init__(name=name, daemon=True)
        self.fn, self.outbox = fn, outbox
        self.error: BaseException | None = None

    def run(self) -> None:
        try:
            self.fn()
        except BaseException as err:  # noqa: BLE001 - handed to the main thread, which raises it
            self.error = err
        finally:
            if self.outbox is not None:
                _put(self.outbox, _END)


_END = object()
_QUEUE = 4  # frames buffered between stages: enough to absorb jitter, little memory (720p: 2.8 MB each)


def _put(q: queue.Queue, item, consumer: threading.Thread | None = None) -> None:
    """Put ``item`` on ``q``, waiting for room, unless ``consumer`` (the thread that empties ``q``) has died."""
    while True:
        try:
            return q.put(item, timeout=0.1)
        except queue.Full:
            if consumer is not None and not consumer.is_alive():
                return


def enhance_video(enhancer: Enhancer, source: str | os.PathLike, output: str | os.PathLike,
                  smoothing: SmoothingConfig | None = SmoothingConfig(), show_side_by_side: bool = False,
                  progress: bool = True, max_frames: int = 0,
                  notice: Callable[[str], None] = lambda message: None, preset: str = "ultrafast",
                  crf: int = 20, workers: int = 0) -> VideoJobResult:
    """Enhance every frame of ``source`` into ``output`` (H.264). ``smoothing``: temporal smoothing of the
    fast model's correction and output (``None``: each frame on its own); temporal denoising follows the
    enhancer (:meth:`Enhancer.denoiser`). ``max_frames`` > 0 stops after
    that many. ``preset``/``crf``: x264 speed preset (``ultrafast`` keeps up with real time on 2 cores;
    slower presets make smaller files) and quality. ``workers``: threads finishing frames at once (0: as
    :func:`enhance_workers` picks).

    Decoding, enhancing and encoding overlap: a decoding thread and an encoding thread (PyAV releases the
    GIL while FFmpeg works) around the enhancing loop, joined by small bounded queues; frames stay in order."""
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn

    reader = VideoReader(source)
    try:
        if reader.has_audio:
            notice(f"{source}: the audio track is not carried over to {output}")
        width = reader.width * (2 if show_side_by_side else 1)
        writer = VideoWriter(output, width, reader.height, reader.fps, crf=crf, preset=preset)
        smoother = TemporalSmoother(smoothing) if smoothing is not None else None
        denoiser = enhancer.denoiser()  # the recipe's temporal denoising (None: off), fresh for each video
        total = reader.frames if not max_frames else min(max_frames, reader.frames or max_frames)
        columns = [TextColumn(enhancer.method), BarColumn(), TextColumn("{task.completed} frames"),
                   TextColumn("{task.fields[fps]:.1f} FPS"),
                   TimeRemainingColumn() if total else TimeElapsedColumn()]
        decoded, encoded = queue.Queue(_QUEUE), queue.Queue(_QUEUE)
        halt = threading.Event()

        def decode() -> None:
            for i, frame in enumerate(reader):
                if halt.is_set() or (max_frames and i >= max_frames):
                    return
                _put(decoded, frame)

        def encode() -> None:
            while (frame := encoded.get()) is not _END:
                writer.write(frame)

        def frames():
            while (frame := decoded.get()) is not _END:
                yield frame

        decoder, encoder = _Stage(decode, decoded, "decode"), _Stage(encode, None, "encode")
        interrupted, start, count = False, time.perf_counter(), 0
        try:
            decoder.start()
            encoder.start()
            with Progress(*columns, disable=not progress, transient=True) as bar:
                task = bar.add_task("video", total=total, fps=0.0)
                for frame, out in enhanced_frames(enhancer, frames(), smoother, denoiser,
                                                  workers or enhance_workers(enhancer.method)):
                    if encoder.error is not None:
                        break
                    _put(encoded, side_by_side(frame, out) if show_side_by_side else out, encoder)
                    count += 1
                    bar.update(task, completed=count, fps=count / (time.perf_counter() - start))
        except KeyboardInterrupt:
            interrupted = True
        except BaseException:
            _stop(halt, decoded, encoded, decoder, encoder)
            writer.abort()
            raise
        _stop(halt, decoded, encoded, decoder, encoder)
        error = decoder.error or encoder.error
        if error is not None:
            writer.abort()
            raise error
        seconds = time.perf_counter() - start
        writer.close()
    finally:
        reader.close()
    return VideoJobResult(writer.count, seconds, interrupted, smoother.resets if smoother else 0)


def _stop(halt: threading.Event, decoded: queue.Queue, encoded: queue.Queue, decoder: _Stage,
          encoder: _Stage) -> None:
    """End both threads: the decoder stops reading (its queue is drained so it is not stuck on a full one),
    the encoder finishes the frames already handed to it."""
    halt.set()
    while decoder.is_alive():
        try:
            decoded.get(timeout=0.05)
        except queue.Empty:
            pass
    if encoder.is_alive():
        _put(encoded, _END, encoder)
        encoder.join()
