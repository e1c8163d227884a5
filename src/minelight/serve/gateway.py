"""The maintainer: one process per camera, started, watched (restarted if it dies) and stopped.

The web layer only reads what the camera processes publish (:mod:`minelight.serve.shared`), so a bad camera
can stall or crash only its own process. Each camera process gets a fresh pipe of its own: closing the
gateway's end tells it to stop, and the pipe also closes when the gateway dies, so no camera process
outlives it. Nothing is shared between a dead process and its replacement but the shared memory.
"""

from __future__ import annotations

import logging
import multiprocessing
import threading
import time
from dataclasses import dataclass

from .config import CameraConfig, ServeConfig
from .shared import StreamBlocks, sweep_stale
from .worker import camera_main

log = logging.getLogger("minelight.serve")

RESTART_AFTER_S = 2.0  # a camera process that died is started again, at most once per this many seconds


STREAMS = ("main", "sub")  # a camera's streams: main (full resolution) and, if configured, its substream


@dataclass
class Camera:
    config: CameraConfig
    streams: dict[str, StreamBlocks]  # "main" and, with a substream, "sub": each stream's shared memory
    process: multiprocessing.process.BaseProcess | None = None
    stop: object = None  # the gateway's end of this process's stop pipe (a Connection); closed = stop
    started_at: float = 0.0  # time.monotonic() of the last start
    node: dict | None = None  # on a cluster (serve --ray): the node its worker runs on ({"id", "address", "host"})

    @classmethod
    def create(cls, config: CameraConfig) -> Camera:
        return cls(config, {kind: StreamBlocks.create() for kind in STREAMS[:1 + bool(config.substream)]})

    @property
    def health(self) -> StreamBlocks:
        """The stream whose state is the camera's (and whose view the page's grid plays): the substream if
        the camera has one (it always runs), else its one stream."""
        return self.streams.get("sub", self.streams["main"])

    def stream(self, kind: str) -> StreamBlocks:
        """``"main"`` or ``"sub"`` (a camera without a substream: its one stream for both)."""
        return self.streams.get(kind, self.streams["main"])


def remove_stale_segments() -> None:
    """Free the shared memory that gateways killed before they could clean up left behind (logged)."""
    removed = sweep_stale()
    if removed:
        log.warning("removed %d shared-memory segment(s) left by a gateway that was killed", len(removed))


class Gateway:
    """Camera processes of a :class:`ServeConfig` (spawned, so none inherits the web server's threads)."""

    def __init__(self, cfg: ServeConfig):
        self.cfg = cfg
        self.ctx = multiprocessing.get_context("spawn")
        remove_stale_segments()
        self.cameras = {c.name: Camera.create(c) for c in cfg.cameras}
        self._watcher: threading.Thread | None = None
        self._lock = threading.Lock()  # held while a process is started, and while closing begins
        self._closing = False
        self.stopping = lambda: self._closing  # the web layer ends its streams once this is true

    def _spawn(self, cam: Camera) -> None:
        receive, send = self.ctx.Pipe(duplex=False)
        process = self.ctx.Process(target=camera_main, name=f"minelight-camera-{cam.config.name}", daemon=True,
                                   args=(cam.config, cam.streams, receive))
        process.start()
        receive.close()  # the camera process holds the only read end now
        if cam.stop is not None:
            cam.stop.close()  # the dead process's pipe
        cam.process, cam.stop, cam.started_at = process, send, time.monotonic()

    def start(self) -> None:
        with self._lock:
            for cam in self.cameras.values():
                self._spawn(cam)
        self._watcher = threading.Thread(target=self._watch, name="minelight-watch", daemon=True)
        self._watcher.start()

    def _restart_if_dead(self, cam: Camera) -> None:
        """Start ``cam`` again if its process died (one that exited with 0 was told to stop and is left)."""
        with self._lock:
            if (self._closing or cam.process is None or cam.process.exitcode in (None, 0)
                    or time.monotonic() - cam.started_at <= RESTART_AFTER_S):
                return
            log.error("%s: camera process exited with %s; restarting", cam.config.name, cam.process.exitcode)
            cam.process.join(0)  # reap it
            cam.health.stats.state = "reconnecting"
            cam.health.stats.add("reconnects")
            if "sub" in cam.streams:  # its main stream starts again when it is wanted
                main = cam.streams["main"].stats
                main["running"], main["fps"], main["live_encoding"] = 0, 0.0, 0
                main.state = "off"
            self._spawn(cam)

    def _watch(self) -> None:
        """Restart camera processes that died (none should: failures are handled inside them)."""
        while not self._closing:
            for cam in self.cameras.values():
                self._restart_if_dead(cam)
            time.sleep(0.5)

    def close(self, timeout: float = 3.0) -> None:
        """Stop every camera process (``timeout`` s in all before they are killed) and free shared memory."""
        with self._lock:
            self._closing = True
            for cam in self.cameras.values():
                if cam.stop is not None:
                    cam.stop.close()
                    cam.stop = None
        deadline = time.monotonic() + timeout
        for cam in self.cameras.values():
            if cam.process is not None:
                cam.process.join(max(0.0, deadline - time.monotonic()))
                if cam.process.is_alive():
                    log.warning("%s: camera process did not stop in time; killed", cam.config.name)
                    cam.process.kill()
                    cam.process.join(1.0)
        if self._watcher is not None:
            self._watcher.join(1.0)
        for cam in self.cameras.values():
            for blocks in cam.streams.values():
                blocks.stats.state = "stopped"
                blocks.close()
            cam.process = None
