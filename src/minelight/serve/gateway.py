"""The maintainer: one process per camera, started, watched (restarted if it dies) and stopped.

The web layer only reads what the camera processes publish (:mod:`minelight.serve.shared`), so a bad camera
can stall or crash only its own process.
"""

from __future__ import annotations

import logging
import multiprocessing
import threading
import time
from dataclasses import dataclass

from .config import CameraConfig, ServeConfig
from .shared import CameraStats, FrameSlot
from .worker import camera_main

log = logging.getLogger("minelight.serve")

RESTART_AFTER_S = 2.0  # a camera process that died is started again, at most once per this many seconds


@dataclass
class Camera:
    config: CameraConfig
    enhanced: FrameSlot
    original: FrameSlot
    stats: CameraStats
    stop: object  # the multiprocessing Event that tells this camera's process to stop
    process: multiprocessing.process.BaseProcess | None = None
    started_at: float = 0.0  # time.monotonic() of the last start


class Gateway:
    """Camera processes of a :class:`ServeConfig` (spawned, so none inherits the web server's threads)."""

    def __init__(self, cfg: ServeConfig):
        self.cfg = cfg
        self.ctx = multiprocessing.get_context("spawn")
        self.cameras = {c.name: Camera(c, FrameSlot(), FrameSlot(), CameraStats(), self.ctx.Event())
                        for c in cfg.cameras}
        self._watcher: threading.Thread | None = None
        self._closing = False
        self.stopping = lambda: self._closing  # the web layer ends its streams once this is true

    def _spawn(self, cam: Camera) -> None:
        cam.process = self.ctx.Process(target=camera_main, name=f"minelight-camera-{cam.config.name}", daemon=True,
                                       args=(cam.config, cam.enhanced, cam.original, cam.stats, cam.stop))
        cam.process.start()
        cam.started_at = time.monotonic()

    def start(self) -> None:
        for cam in self.cameras.values():
            self._spawn(cam)
        self._watcher = threading.Thread(target=self._watch, name="minelight-watch", daemon=True)
        self._watcher.start()

    def _watch(self) -> None:
        """Restart a camera process that died (it never should: failures are handled inside it). One that
        exited with 0 was told to stop (e.g. SIGTERM to the whole process group) and is left alone."""
        while not self._closing:
            for cam in self.cameras.values():
                if (not self._closing and cam.process is not None and cam.process.exitcode not in (None, 0)
                        and time.monotonic() - cam.started_at > RESTART_AFTER_S):
                    log.error("%s: camera process exited with %s; restarting", cam.config.name, cam.process.exitcode)
                    cam.stats.state = "reconnecting"
                    cam.stats.add("reconnects")
                    self._spawn(cam)
            time.sleep(0.5)

    def close(self, timeout: float = 3.0) -> None:
        """Stop every camera process (``timeout`` s in all before they are killed) and free shared memory."""
        self._closing = True
        for cam in self.cameras.values():
            cam.stop.set()
        deadline = time.monotonic() + timeout
        for cam in self.cameras.values():
            if cam.process is not None:
                cam.process.join(max(0.0, deadline - time.monotonic()))
                if cam.process.is_alive():
                    cam.process.kill()
                    cam.process.join(1.0)
        if self._watcher is not None:
            self._watcher.join(1.0)
        for cam in self.cameras.values():
            cam.stats.state = "stopped"
            for block in (cam.enhanced, cam.original, cam.stats):
                block.close()
            cam.process = cam.stop = None  # the Event's semaphores are released now, not reported at exit
