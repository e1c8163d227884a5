"""What a camera's process shares with the web process: its newest JPEG frames and its counters.

A :class:`FrameSlot` is one shared-memory buffer holding the newest encoded frame with its sequence number
and the monotonic time its source frame was decoded; writers overwrite it, readers copy it out. Readers
never block the camera (a slow client just sees fewer frames). A :class:`PacketRing` keeps the last few
seconds of a camera's H.264 packets in order (the live view needs every packet from a keyframe on, not
just the newest). :class:`CameraStats` is a shared array of counters and gauges. All pickle by name, so
they can be handed to a spawned process.

Every segment is named ``minelight_PID_N`` after the process that made it, so a gateway that was killed
before it could free its segments leaves names that the next gateway recognises and removes
(:func:`sweep_stale`).
"""

from __future__ import annotations

import itertools
import os
import re
import struct
import time
from dataclasses import dataclass
from multiprocessing import shared_memory
from pathlib import Path

import numpy as np

_HEADER = struct.Struct("<qdq")  # sequence number, decode time (time.monotonic, s), payload length (bytes)

STATES = ("starting", "live", "reconnecting", "stopped", "off")  # off: an on-demand main stream nobody wants
LATENCY_BUCKETS = (0.01, 0.02, 0.04, 0.06, 0.08, 0.1, 0.15, 0.2, 0.3, 0.5, 1.0, 2.0)  # seconds

PREFIX = "minelight_"  # every segment's name: minelight_PID_N (PID: the process that created it)
SHM_DIR = Path("/dev/shm")  # where Linux keeps POSIX shared memory
_NAME = re.compile(re.escape(PREFIX) + r"(\d+)_\d+")
_counter = itertools.count()


def segment_name() -> str:
    """A new segment name of this process: ``minelight_PID_N``."""
    return f"{PREFIX}{os.getpid()}_{next(_counter)}"


def _create(size: int) -> shared_memory.SharedMemory:
    while True:
        try:
            return shared_memory.SharedMemory(name=segment_name(), create=True, size=size)
        except FileExistsError:  # left by an earlier process with this PID: take the next number
            continue


def stale_segments(names: list[str], alive) -> list[str]:
    """The names among ``names`` made by a process that is gone (``alive(pid)`` is False)."""
    out = []
    for name in names:
        match = _NAME.fullmatch(name)
        if match and not alive(int(match.group(1))):
            out.append(name)
    return out


def pid_alive(pid: int) -> bool:
    """Whether a process with this id exists (on this machine's process table)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's process
        return True
    return True


def sweep_stale(folder: Path = SHM_DIR) -> list[str]:
    """Remove the segments that a gateway (or test) which no longer runs left in ``folder``; returns
    their names. Nothing happens where the folder does not exist (not Linux)."""
    try:
        names = [p.name for p in folder.iterdir() if p.name.startswith(PREFIX)]
    except OSError:
        return []
    removed = []
    for name in stale_segments(names, pid_alive):
        try:
            (folder / name).unlink()
            removed.append(name)
        except OSError:
            pass
    return removed


class FrameSlot:
    """The newest encoded frame of one stream, in shared memory of ``capacity`` bytes."""

    def __init__(self, capacity: int = 8 << 20, name: str | None = None):
        self.capacity = capacity
        if name is None:
            self.shm = _create(_HEADER.size + capacity)
            _HEADER.pack_into(self.shm.buf, 0, 0, 0.0, 0)
            self.owner = True
        else:
            self.shm = shared_memory.SharedMemory(name=name)
            self.owner = False

    def __reduce__(self):
        return (FrameSlot, (self.capacity, self.shm.name))

    def write(self, data: bytes, decoded_at: float) -> int:
        """Publish ``data`` (one encoded frame); returns its sequence number. Data over capacity is refused."""
        if len(data) > self.capacity:
            raise ValueError(f"frame of {len(data)} bytes exceeds the slot's {self.capacity}")
        seq, _, _ = _HEADER.unpack_from(self.shm.buf, 0)
        _HEADER.pack_into(self.shm.buf, 0, -1, 0.0, 0)  # odd state: readers retry while the payload changes
        self.shm.buf[_HEADER.size:_HEADER.size + len(data)] = data
        _HEADER.pack_into(self.shm.buf, 0, seq + 1, decoded_at, len(data))
        return seq + 1

    def sequence(self) -> int:
        """The newest frame's sequence number (0: none yet; -1: a write is in progress)."""
        return _HEADER.unpack_from(self.shm.buf, 0)[0]

    def read(self) -> tuple[int, float, bytes] | None:
        """``(sequence, decode time, data)`` of the newest frame, or None if there is none yet."""
        for _ in range(100):
            seq, decoded_at, length = _HEADER.unpack_from(self.shm.buf, 0)
            if seq == 0:
                return None
            if seq > 0:
                data = bytes(self.shm.buf[_HEADER.size:_HEADER.size + length])
                if _HEADER.unpack_from(self.shm.buf, 0)[0] == seq:  # unchanged while copying
                    return seq, decoded_at, data
            time.sleep(0.0005)
        return None

    def close(self) -> None:
        self.shm.close()
        if self.owner:
            self.shm.unlink()


class PacketRing:
    """The last ``capacity`` bytes (at most ``entries`` packets) of one camera's encoded packets, in order,
    in shared memory; one writer (the camera process), any number of readers that never block it.

    Packet number ``seq`` (1, 2, ...) is read with :meth:`read`; a reader that falls so far behind that its
    packet was overwritten gets :data:`LOST` and must start again at a keyframe. The numbering goes on
    across a camera process's restart (it lives in the segment), so readers just carry on.
    """

    LOST = "lost"
    _HEAD = struct.Struct("<qq")  # newest packet's number, bytes written in all (positions grow forever)
    _ENTRY = struct.Struct("<qqqqqd")  # number, position, length, pts, flags (1 = keyframe), decode time

    def __init__(self, capacity: int = 4 << 20, entries: int = 256, name: str | None = None):
        self.capacity, self.entries = capacity, entries
        self._data = self._HEAD.size + entries * self._ENTRY.size
        if name is None:
            self.shm = _create(self._data + capacity)
            self.shm.buf[:self._data] = bytes(self._data)
            self.owner = True
        else:
            self.shm = shared_memory.SharedMemory(name=name)
            self.owner = False

    def __reduce__(self):
        return (PacketRing, (self.capacity, self.entries, self.shm.name))

    def head(self) -> int:
        """The newest packet's number (0: none yet)."""
        return self._HEAD.unpack_from(self.shm.buf, 0)[0]

    def write(self, data: bytes, pts: int, keyframe: bool, decoded_at: float) -> int:
        """Append one packet; returns its number. A packet over a quarter of the capacity is refused."""
        if len(data) > self.capacity // 4:
            raise ValueError(f"packet of {len(data)} bytes exceeds a quarter of the ring's {self.capacity}")
        seq, pos = self._HEAD.unpack_from(self.shm.buf, 0)
        seq += 1
        offset = pos % self.capacity
        if offset + len(data) > self.capacity:  # packets are contiguous: skip the end, start at 0
            pos += self.capacity - offset
            offset = 0
        entry = self._HEAD.size + (seq % self.entries) * self._ENTRY.size
        self._ENTRY.pack_into(self.shm.buf, entry, -1, 0, 0, 0, 0, 0.0)  # readers of the old packet: gone
        self._HEAD.pack_into(self.shm.buf, 0, seq - 1, pos + len(data))  # reserve before overwriting
        start = self._data + offset
        self.shm.buf[start:start + len(data)] = data
        self._ENTRY.pack_into(self.shm.buf, entry, seq, pos, len(data), pts, int(keyframe), decoded_at)
        self._HEAD.pack_into(self.shm.buf, 0, seq, pos + len(data))
        return seq

    def read(self, seq: int) -> tuple[bytes, int, bool, float] | str | None:
        """Packet ``seq`` as ``(data, pts, keyframe, decode time)``; None if it is not written yet;
        :data:`LOST` if it was overwritten (the reader fell behind)."""
        entry = self._HEAD.size + (seq % self.entries) * self._ENTRY.size
        for _ in range(100):
            number, pos, length, pts, flags, decoded_at = self._ENTRY.unpack_from(self.shm.buf, entry)
            if number == -1:  # being written this moment
                time.sleep(0.0002)
                continue
            if number > seq:
                return self.LOST
            if number < seq:
                return None if seq > self.head() else self.LOST
            start = self._data + pos % self.capacity
            data = bytes(self.shm.buf[start:start + length])
            written = self._HEAD.unpack_from(self.shm.buf, 0)[1]
            if self._ENTRY.unpack_from(self.shm.buf, entry)[0] != seq or written > pos + self.capacity:
                return self.LOST  # overwritten while copying
            return data, pts, bool(flags & 1), decoded_at
        return self.LOST

    def close(self) -> None:
        self.shm.close()
        if self.owner:
            self.shm.unlink()


class CameraStats:
    """Shared counters of one camera: ``frames_in`` (decoded), ``frames_out`` (enhanced and published),
    ``dropped`` (decoded but never enhanced: the newest frame replaced them), ``reconnects``, the state,
    the output FPS, the last enhancement latency and its histogram over :data:`LATENCY_BUCKETS`."""

    FIELDS = ("state", "frames_in", "frames_out", "dropped", "reconnects", "fps", "latency", "latency_sum",
              "width", "height", "original_wanted_at", "updated_at", "pid",
              # the state's start (time.time(): shown to people), the H.264 live view: asked for until
              # (web process, time.monotonic), a keyframe asked for at, encoder open (0/1), frames encoded
              "state_since", "live_wanted_at", "keyframe_wanted_at", "live_encoding", "live_frames",
              # MJPEG / snapshots of the enhanced view: asked for at (web process), frames JPEG-encoded
              "enhanced_wanted_at", "jpeg_frames",
              # this stream's loop runs (0/1); a substream enhances at its idle rate (0/1: nobody watches)
              "running", "idle")

    def __init__(self, name: str | None = None):
        size = 8 * (len(self.FIELDS) + len(LATENCY_BUCKETS) + 1)
        self.shm = _create(size) if name is None else shared_memory.SharedMemory(name=name)
        self.owner = name is None
        self.values = np.ndarray((len(self.FIELDS) + len(LATENCY_BUCKETS) + 1,), np.float64, self.shm.buf)
        if self.owner:
            self.values[:] = 0.0
            self["state_since"] = time.time()

    def __reduce__(self):
        return (CameraStats, (self.shm.name,))

    def __getitem__(self, key: str) -> float:
        return float(self.values[self.FIELDS.index(key)])

    def __setitem__(self, key: str, value: float) -> None:
        self.values[self.FIELDS.index(key)] = value

    def add(self, key: str, amount: float = 1.0) -> None:
        """Add to a counter (one writer per field: the camera's process, or the web process for
        ``*_wanted_at``)."""
        self.values[self.FIELDS.index(key)] += amount

    @property
    def state(self) -> str:
        return STATES[int(self["state"])]

    @state.setter
    def state(self, value: str) -> None:
        index = STATES.index(value)
        if index != self["state"]:
            self["state_since"] = time.time()  # the wall clock: the page says "down since 14:02"
        self["state"] = index

    def observe_latency(self, seconds: float) -> None:
        """Record one enhancement latency (decode to encoded frame, seconds)."""
        self["latency"] = seconds
        self.add("latency_sum", seconds)
        base = len(self.FIELDS)
        index = int(np.searchsorted(LATENCY_BUCKETS, seconds))  # first bucket with le >= seconds; last: +Inf
        self.values[base + index] += 1

    def latency_counts(self) -> list[float]:
        """Observations per bucket of :data:`LATENCY_BUCKETS` and a last one for +Inf (not cumulative)."""
        return [float(v) for v in self.values[len(self.FIELDS):]]

    def snapshot(self) -> dict:
        """The counters as a dict (state by name)."""
        out = {key: float(self.values[i]) for i, key in enumerate(self.FIELDS)}
        out["state"] = self.state
        return out

    def close(self) -> None:
        del self.values
        self.shm.close()
        if self.owner:
            self.shm.unlink()


@dataclass
class StreamBlocks:
    """The shared memory of one stream of a camera (its main stream, or its substream): the newest enhanced
    and original JPEG frames, the counters, and the ring of its H.264 live view. Pickles by name."""

    enhanced: FrameSlot
    original: FrameSlot
    stats: CameraStats
    live: PacketRing

    @classmethod
    def create(cls) -> StreamBlocks:
        return cls(FrameSlot(), FrameSlot(), CameraStats(), PacketRing())

    def close(self) -> None:
        for block in (self.enhanced, self.original, self.stats, self.live):
            block.close()

    def untrack(self) -> None:
        """Opened by name in a process that does not own them: keep Python's resource tracker from removing
        these segments when this process exits (it registers every segment a process opens)."""
        from multiprocessing import resource_tracker

        for block in (self.enhanced, self.original, self.stats, self.live):
            resource_tracker.unregister(block.shm._name, "shared_memory")
