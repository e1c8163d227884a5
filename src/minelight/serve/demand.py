"""Which streams of a camera are wanted: the main stream on demand, the substream at its idle rate.

The web process writes, in each stream's shared counters (:class:`~minelight.serve.shared.CameraStats`),
when a client last asked for it (``time.monotonic``, seconds): ``live_wanted_at`` while a WebSocket viewer
plays its H.264 view, ``enhanced_wanted_at`` / ``original_wanted_at`` while an MJPEG client reads it or a
snapshot asks. The camera process reads them:

* a camera's **main stream** with ``main = "on-demand"`` runs while any of these is at most
  :data:`MAIN_LINGER_S` old (:func:`wanted`); it stops by itself after that (:class:`OnDemand`), and
  :class:`StreamRunner` starts it again when it is wanted again;
* a **substream** is enhanced at full rate while watched the same way (within :data:`WATCHED_S`), and at
  its ``idle_fps`` otherwise (:func:`due`), so a camera nobody watches keeps its health and a fresh
  frame at little CPU.
"""

from __future__ import annotations

import threading
import time
from typing import Callable

MAIN_LINGER_S = 5.0  # an on-demand main stream keeps running this long after the last client asked (s)
WATCHED_S = 5.0  # a substream is enhanced at full rate while a client asked this recently (s)
POLL_S = 0.1  # how often the camera process looks whether a stream is wanted (s)
WANTED_FIELDS = ("live_wanted_at", "enhanced_wanted_at", "original_wanted_at")


def last_wanted(stats) -> float:
    """When a client last asked for this stream (``time.monotonic``, s; 0: never)."""
    return max(stats[key] for key in WANTED_FIELDS)


def wanted(stats, now: float, within: float) -> bool:
    """Whether a client asked for this stream in the last ``within`` seconds before ``now``."""
    return now - last_wanted(stats) < within


def due(now: float, last_out: float, rate: float) -> bool:
    """Whether a frame at ``now`` is due at ``rate`` frames/s after the last one at ``last_out`` (seconds;
    2 ms early counts, so a camera's own rate is not halved by jitter)."""
    return now - last_out >= 1.0 / rate - 0.002


def wait_until(is_set: Callable[[], bool], timeout: float, pause: Callable[[float], object], step: float) -> bool:
    """Call ``pause(seconds)`` (at most ``step`` s each) until ``is_set()`` or ``timeout`` s have passed; True
    if it was set. The wait of every stop signal of a camera process."""
    deadline = time.monotonic() + timeout
    while not is_set():
        left = deadline - time.monotonic()
        if left <= 0:
            return False
        pause(min(step, left))
    return True


class OnDemand:
    """The stop signal of an on-demand stream: set when the camera process stops (``stop``, a
    :class:`~minelight.serve.worker.StopSignal`) or when ``is_wanted()`` turns false. Takes no lock."""

    def __init__(self, stop, is_wanted: Callable[[], bool]):
        self.stop, self.is_wanted = stop, is_wanted

    def is_set(self) -> bool:
        return self.stop.is_set() or not self.is_wanted()

    def wait(self, timeout: float) -> bool:
        """Wait up to ``timeout`` s; True as soon as the signal is set."""
        return wait_until(self.is_set, timeout, time.sleep, POLL_S)


class StreamRunner:
    """Runs one stream's loop (a :class:`~minelight.serve.worker.CameraLoop`) in a thread of its own while
    ``is_wanted()``; :meth:`step` starts it when it is wanted and not running. The loop's own stop signal
    ends it (an :class:`OnDemand` for an on-demand stream). ``stats["running"]`` is 1 while it runs; when it
    ends, the stream's state is ``off`` and its FPS 0."""

    def __init__(self, loop, stats, is_wanted: Callable[[], bool], name: str):
        self.loop, self.stats, self.is_wanted, self.name = loop, stats, is_wanted, name
        self.thread: threading.Thread | None = None
        self.starts = 0  # how often the loop was started

    def running(self) -> bool:
        return self.thread is not None and self.thread.is_alive()

    def step(self) -> None:
        """Start the loop if it is wanted and not running."""
        if not self.running() and self.is_wanted():
            self.starts += 1
            self.stats["running"] = 1
            self.stats.state = "starting"
            self.thread = threading.Thread(target=self._run, name=f"minelight-{self.name}", daemon=True)
            self.thread.start()

    def _run(self) -> None:
        try:
            self.loop.run()
        finally:
            self.loop.finish()
            self.stats["running"] = 0
            self.stats["fps"] = 0.0
            self.stats.state = "off"

    def join(self, timeout: float) -> None:
        if self.thread is not None:
            self.thread.join(timeout)
