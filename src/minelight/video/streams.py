"""Video in and out with PyAV (FFmpeg): files, network streams and capture devices; H.264 output.

    >>> reader = VideoReader("clip.mp4")              # or "rtsp://...", "http://...", "0" (device index)
    >>> with VideoWriter("out.mp4", reader.width, reader.height, reader.fps) as writer:
    ...     for frame in reader:                        # (H, W, 3) uint8 RGB
    ...         writer.write(frame)

The writer encodes to a temporary file next to the destination and renames it when closed, so a failed
job leaves no output; :meth:`VideoWriter.close` finalises what was written (used on Ctrl-C) and
:meth:`VideoWriter.abort` deletes it.
"""

from __future__ import annotations

import os
import re
from urllib.parse import urlsplit, urlunsplit
from collections.abc import Iterator
from fractions import Fraction
from pathlib import Path

import numpy as np

from ..io import _umask

VIDEO_SUFFIXES = {".mp4", ".m4v", ".mov", ".mkv", ".avi", ".webm"}
_CONTAINER_FORMATS = {".mp4": "mp4", ".m4v": "mp4", ".mov": "mov", ".mkv": "matroska", ".avi": "avi",
                      ".webm": "webm"}
DEFAULT_FPS = Fraction(25)


class VideoError(ValueError):
    """A video cannot be opened, decoded or written; the message names the source and the cause."""


def is_video_path(path: str | os.PathLike) -> bool:
    return Path(path).suffix.lower() in VIDEO_SUFFIXES


def is_live_source(source: str) -> bool:
    """A network stream URL (rtsp/rtmp/http/https/udp/tcp) or a capture-device index such as ``"0"``."""
    return bool(re.match(r"^(rtsp|rtsps|rtmp|http|https|udp|tcp|srt)://", str(source))) or str(source).isdigit()


# query parameters whose values are secrets (matched anywhere in the name, any case): password=, pwd=, token=...
_SECRET_PARAM = re.compile(r"(^|[?&;#])([^&;=#]*(?:pass|pwd|token|secret|key|auth|sig|cred|session|user|login)"
                           r"[^&;=#]*)=[^&;#]*", re.I)


def redact(url: str) -> str:
    """``url`` with any user name and password, and the values of query parameters such as ``password=``,
    ``pwd=`` or ``token=``, replaced by ``***`` (for pages, logs and metrics)."""
    url = str(url)
    try:
        parts = urlsplit(url)
    except ValueError:  # e.g. an unclosed IPv6 bracket: hide everything between // and @ anyway
        return _SECRET_PARAM.sub(r"\1\2=***", re.sub(r"//[^/]*@", "//***@", url))
    if not parts.scheme:
        return url
    if "@" in parts.netloc:
        parts = parts._replace(netloc="***@" + parts.netloc.rsplit("@", 1)[1])
    return urlunsplit(parts._replace(query=_SECRET_PARAM.sub(r"\1\2=***", parts.query),
                                     fragment=_SECRET_PARAM.sub(r"\1\2=***", parts.fragment)))


def _open_input(source: str, timeout_s: float, transport: str, name: str):
    import av

    options = {}
    if str(source).isdigit():  # capture device index -> /dev/videoN (Linux, v4l2)
        path, fmt = f"/dev/video{source}", "v4l2"
    else:
        path, fmt = str(source), None
        if is_live_source(source):
            options = {"rtsp_transport": transport} if str(source).startswith("rtsp") else {}
    try:
        return av.open(path, format=fmt, options=options, timeout=timeout_s)
    except (av.error.FFmpegError, OSError, ValueError) as err:
        reason = getattr(err, "strerror", None) or str(err)
        if options.get("rtsp_transport") == "tcp" and re.search(r"\b(400|461)\b", reason):
            return _open_input(source, timeout_s, "udp", name)  # the server refused RTP over TCP: UDP only
        raise VideoError(f"{name}: cannot open video ({reason})") from None


class VideoReader:
    """Decoded frames of a video file, stream or device as ``(H, W, 3)`` uint8 RGB arrays.

    ``timeout_s``: seconds to wait for the source to open or to send data; ``transport``: RTSP over
    ``tcp`` or ``udp`` (``tcp`` falls back to ``udp`` for a server that refuses RTP over TCP). Error messages name the source with any credentials in its URL redacted.

    ``fps`` is the stream's average frame rate (25 if it declares none), ``frames`` the declared frame
    count (``None`` when unknown, e.g. live), ``has_audio`` whether an audio track exists (it is not
    decoded).
    """

    def __init__(self, source: str | os.PathLike, timeout_s: float = 10.0, transport: str = "tcp"):
        self.source = str(source)
        self.name = redact(self.source)  # how messages call the source: any user name and password hidden
        self.live = is_live_source(self.source)
        if not self.live and not Path(self.source).is_file():
            raise VideoError(f"{self.name}: no such file")
        self.container = _open_input(self.source, timeout_s, transport, self.name)
        if not self.container.streams.video:
            self.container.close()
            raise VideoError(f"{self.name}: has no video track")
        self.stream = self.container.streams.video[0]
        self.stream.thread_type = "AUTO"
        ctx = self.stream.codec_context
        self.width, self.height = int(ctx.width), int(ctx.height)
        if self.width <= 0 or self.height <= 0:
            self.container.close()
            raise VideoError(f"{self.name}: video track has no frame size")
        self.fps = Fraction(self.stream.average_rate or self.stream.guessed_rate or DEFAULT_FPS)
        self.frames = int(self.stream.frames) if self.stream.frames and not self.live else None
        self.has_audio = bool(self.container.streams.audio)

    def __iter__(self) -> Iterator[np.ndarray]:
        for frame in self.decoded():
            yield frame.to_ndarray(format="rgb24")

    def decoded(self) -> Iterator:
        """The decoded frames as PyAV ``VideoFrame`` objects, not yet converted to RGB (a caller that skips
        frames saves the conversion); VideoError if decoding fails."""
        import av

        try:
            yield from self.container.decode(self.stream)
        except av.error.FFmpegError as err:
            raise VideoError(f"{self.name}: cannot decode ({getattr(err, 'strerror', None) or err})") from None

    def close(self) -> None:
        self.container.close()

    def __enter__(self) -> VideoReader:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def partial_path(path: Path) -> Path:
    """The temporary name beside ``path`` a video is written under until it is complete (``.NAME.partial.mp4``)."""
    return path.with_name(f".{path.stem}.partial{path.suffix.lower()}")


def move_into_place(tmp: Path, path: Path) -> None:
    """Rename the complete video ``tmp`` to ``path``, with the usual file permissions."""
    os.chmod(tmp, 0o666 & ~_umask())
    os.replace(tmp, path)


class VideoWriter:
    """H.264 (yuv420p) writer of ``(height, width, 3)`` uint8 RGB frames at ``fps``.

    Odd sizes are padded by one replicated row/column (yuv420p needs even sizes). ``crf``: x264 quality
    (lower is better, 18-23 is visually near-lossless to good); ``preset``: x264 speed preset.
    """

    def __init__(self, path: str | os.PathLike, width: int, height: int, fps: Fraction | float = DEFAULT_FPS,
                 crf: int = 20, preset: str = "veryfast"):
        import av

        self.path = Path(path)
        suffix = self.path.suffix.lower()
        if suffix not in _CONTAINER_FORMATS:
            raise VideoError(f"{self.path}: unknown video suffix; use one of {', '.join(sorted(VIDEO_SUFFIXES))}")
        if not self.path.parent.is_dir():
            raise VideoError(f"{self.path}: folder {self.path.parent} does not exist")
        self.width, self.height = int(width), int(height)
        self.tmp = partial_path(self.path)
        try:
            self.container = av.open(str(self.tmp), "w", format=_CONTAINER_FORMATS[suffix])
        except (av.error.FFmpegError, OSError) as err:
            raise VideoError(f"{self.path}: cannot write ({getattr(err, 'strerror', None) or err})") from None
        fps = Fraction(fps).limit_denominator(100_000)
        self.stream = self.container.add_stream("libx264", rate=fps)
        self.stream.width, self.stream.height = self.width + self.width % 2, self.height + self.height % 2
        self.stream.pix_fmt = "yuv420p"
        self.stream.options = {"crf": str(crf), "preset": preset}
        self.count = 0
        self.closed = False

    def write(self, frame: np.ndarray) -> None:
        """Encode one ``(height, width, 3)`` uint8 RGB frame."""
        import av

        if frame.shape != (self.height, self.width, 3) or frame.dtype != np.uint8:
            raise VideoError(f"{self.path}: frame {frame.shape} {frame.dtype} is not ({self.height}, {self.width}, 3) "
                             "uint8")
        if self.width % 2 or self.height % 2:
            frame = np.pad(frame, ((0, self.height % 2), (0, self.width % 2), (0, 0)), mode="edge")
        packets = self.stream.encode(av.VideoFrame.from_ndarray(np.ascontiguousarray(frame), format="rgb24"))
        self.container.mux(packets)
        self.count += 1

    def close(self) -> None:
        """Flush the encoder, finalise the file and move it to its name (an empty video is deleted)."""
        if self.closed:
            return
        self.closed = True
        self.container.mux(self.stream.encode())
        self.container.close()
        if self.count == 0:
            self.tmp.unlink(missing_ok=True)
            raise VideoError(f"{self.path}: no frames were written")
        move_into_place(self.tmp, self.path)

    def abort(self) -> None:
        """Stop and delete the temporary file; nothing is left at ``path``."""
        if not self.closed:
            self.closed = True
            try:
                self.container.close()
            finally:
                self.tmp.unlink(missing_ok=True)

    def __enter__(self) -> VideoWriter:
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        if exc_type is None or exc_type is KeyboardInterrupt:
            self.close()  # Ctrl-C: keep a playable file of what was done
        else:
            self.abort()


def side_by_side(left: np.ndarray, right: np.ndarray) -> np.ndarray:
    """``(H, W, 3)`` twice -> ``(H, 2W, 3)``: input on the left, output on the right."""
    if left.shape != right.shape:
        raise ValueError(f"side-by-side needs equal shapes, got {left.shape} and {right.shape}")
    return np.concatenate([left, right], axis=1)
