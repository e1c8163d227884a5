"""Headless Chromium driven over the DevTools protocol: open a page, evaluate JavaScript in it."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import time
import urllib.request
from pathlib import Path

from .helpers import wait_for

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


class Chromium:
    """``chromium --headless`` showing ``url`` in a ``size`` window; :meth:`evaluate` runs an expression."""

    def __init__(self, url: str, profile: Path, size: tuple[int, int] = (1280, 800), startup_s: float = 60.0):
        from websockets.sync.client import connect

        profile.mkdir(parents=True, exist_ok=True)
        (profile / "DevToolsActivePort").unlink(missing_ok=True)  # a previous run's
        self.proc = subprocess.Popen(
            [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars", "--mute-audio",
             "--autoplay-policy=no-user-gesture-required", "--no-first-run", "--remote-debugging-port=0",
             "--remote-allow-origins=*", f"--user-data-dir={profile}", f"--window-size={size[0]},{size[1]}", url],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
        try:
            port_file = profile / "DevToolsActivePort"
            deadline = time.monotonic() + startup_s
            while not (port_file.exists() and port_file.read_text().strip()):
                if time.monotonic() > deadline or self.proc.poll() is not None:
                    raise AssertionError("chromium did not start its DevTools endpoint")
                time.sleep(0.2)
            port = int(port_file.read_text().split()[0])
            while True:
                try:
                    with urllib.request.urlopen(f"http://127.0.0.1:{port}/json/list", timeout=10) as response:
                        pages = [t for t in json.load(response) if t["type"] == "page"]
                except OSError:
                    pages = []
                if pages or time.monotonic() > deadline:
                    break
                time.sleep(0.2)
            self.ws = connect(pages[0]["webSocketDebuggerUrl"], max_size=64 << 20, open_timeout=20).__enter__()
        except BaseException:
            self.close()
            raise
        self._id = 0

    def call(self, method: str, params: dict, timeout: float = 30.0) -> dict:
        """The result of one DevTools protocol command (e.g. ``Runtime.evaluate``)."""
        self._id += 1
        self.ws.send(json.dumps({"id": self._id, "method": method, "params": params}))
        deadline = time.monotonic() + timeout
        while True:
            message = json.loads(self.ws.recv(timeout=max(0.1, deadline - time.monotonic())))
            if message.get("id") == self._id:
                return message["result"]

    def evaluate(self, expression: str, timeout: float = 30.0):
        """The value of a JavaScript expression in the page (awaited if it is a promise; JSON values only)."""
        result = self.call("Runtime.evaluate", {"expression": expression, "returnByValue": True, "awaitPromise": True},
                           timeout)
        if "exceptionDetails" in result:
            details = result["exceptionDetails"]
            raise RuntimeError(details.get("exception", {}).get("description") or details.get("text"))
        return result["result"].get("value")

    def screenshot(self) -> bytes:
        """The page as it is shown now, as PNG."""
        import base64

        return base64.b64decode(self.call("Page.captureScreenshot", {"format": "png"})["data"])

    def wait(self, expression: str, timeout: float = 60.0, every: float = 0.5):
        """The value of ``expression`` once it is truthy (errors, e.g. before the page loaded, count as
        not yet); AssertionError after ``timeout`` seconds."""
        return wait_for(lambda: self.evaluate(expression), timeout, every, errors=(RuntimeError,),
                        what=f"in the page: {expression}")

    def close(self) -> None:
        if getattr(self, "ws", None) is not None:
            try:
                self.ws.close()
            except OSError:
                pass
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(5)
        try:
            os.killpg(self.proc.pid, signal.SIGKILL)  # its helpers (renderer, GPU, zygote), if any are left
        except ProcessLookupError:
            pass


def screenshot_when(url: str, profile: Path, ready: str, size: tuple[int, int] = (1300, 700),
                    settle_s: float = 1.0, timeout: float = 90.0) -> bytes:
    """A PNG of ``url`` in headless Chromium, in real time (so that H.264 plays), taken ``settle_s`` seconds
    after the JavaScript expression ``ready`` first holds."""
    browser = Chromium(url, profile, size=size)
    try:
        browser.wait(ready, timeout)
        time.sleep(settle_s)
        return browser.screenshot()
    finally:
        browser.close()
