"""What a camera's process shares with the web process: its newest JPEG frames and its counters.

A :class:`FrameSlot` is one shared-memory buffer holding the newest encoded frame with its sequence number
and the monotonic time its source frame was decoded; writers overwrite it, readers copy it out. Readers
never block the camera (a slow client just sees fewer frames). :class:`CameraStats` is a shared array of
counters and gauges. Both pickle by name, so they can be handed to a spawned process.

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
from multiprocessing import shared_memory
from pathlib import Path

import numpy as np

_HEADER = struct.Struct("<qdq")  # sequence number, decode time (time.monotonic, s), payload length (bytes)

STATES = ("starting", "live", "reconnecting", "stopped")
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


class CameraStats:
    """Shared counters of one camera: ``frames_in`` (decoded), ``frames_out`` (enhanced and published),
    ``dropped`` (decoded but never enhanced: the newest frame replaced them), ``reconnects``, the state,
    the output FPS, the last enhancement latency and its histogram over :data:`LATENCY_BUCKETS`."""

    FIELDS = ("state", "frames_in", "frames_out", "dropped", "reconnects", "fps", "latency", "latency_sum",
              "width", "height", "original_wanted_at", "updated_at", "pid")

    def __init__(self, name: str | None = None):
        size = 8 * (len(self.FIELDS) + len(LATENCY_BUCKETS) + 1)
        self.shm = _create(size) if name is None else shared_memory.SharedMemory(name=name)
        self.owner = name is None
        self.values = np.ndarray((len(self.FIELDS) + len(LATENCY_BUCKETS) + 1,), np.float64, self.shm.buf)
        if self.owner:
            self.values[:] = 0.0

    def __reduce__(self):
        return (CameraStats, (self.shm.name,))

    def __getitem__(self, key: str) -> float:
        return float(self.values[self.FIELDS.index(key)])

    def __setitem__(self, key: str, value: float) -> None:
        self.values[self.FIELDS.index(key)] = value

    def add(self, key: str, amount: float = 1.0) -> None:
        """Add to a counter (one writer per field: the camera's process, or the web process for
        ``original_wanted_at``)."""
        self.values[self.FIELDS.index(key)] += amount

    @property
    def state(self) -> str:
        return STATES[int(self["state"])]

    @state.setter
    def state(self, value: str) -> None:
        self["state"] = STATES.index(value)

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
