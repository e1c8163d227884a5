"""Figures of the page's H.264 live view (`minelight serve`): bandwidth against MJPEG, latency from a camera
frame to the browser's screen, and 16 cameras playing in one page.

    python benchmarks/live_view.py --seconds 15 --method fast

1. Bandwidth, one camera (a dark noisy H.264 clip played as a camera, enhanced with ``--method``), at 720p25
   and 320x180: bytes per second that one viewer receives from the H.264 live view (WebSocket) and from
   MJPEG (quality 80), read at the same time, so both carry the same pictures.
2. Latency, one camera in headless Chromium (``?layout=1x1``): for every frame the page shows, the wall-clock
   time the browser expects to show it (requestVideoFrameCallback's ``expectedDisplayTime``) minus the
   time its source frame was decoded in the camera process (the init message's ``epoch`` + the frame's
   ``mediaTime``); both clocks are this machine's.
3. 16 cameras (320x180 clips, ``--fps`` caps their rate) in one page (``?layout=4x4``): per camera, frames enhanced per second (the
   gateway), frames shown per second in the page, and the latency as in 2.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the tests' real parts: server, clients, browser

from tests.serve.browser import Chromium  # noqa: E402
from tests.serve.helpers import MjpegClient, ServeProcess, wait_for, write_clip  # noqa: E402


def config(path: Path, clips: list[Path], method: str, fps: float = 0) -> Path:
    path.write_text('[server]\nport = 0\n' + "".join(
        f'[[cameras]]\nname = "cam{i:02d}"\nsource = "{clip}"\nmethod = "{method}"\nfps = {fps}\n'
        for i, clip in enumerate(clips)))
    return path


def pct(values: list[float], q: float) -> float:
    values = sorted(values)
    return values[int(q * (len(values) - 1))]


def bandwidth(server: ServeProcess, seconds: float) -> tuple[float, float]:
    """kbit/s that one viewer receives: (H.264 live view, MJPEG), read side by side."""
    from websockets.sync.client import connect

    counts = {"h264": 0, "mjpeg": 0}
    stop = time.monotonic() + seconds + 2.0

    def h264():
        with connect(server.url.replace("http://", "ws://") + "/cameras/cam00/live", max_size=None) as ws:
            started = None
            while time.monotonic() < stop:
                message = ws.recv(timeout=10)
                if started is None:
                    started = time.monotonic() + 2.0  # skip the start (init, first keyframe)
                if isinstance(message, bytes) and time.monotonic() >= started:
                    counts["h264"] += len(message)

    def mjpeg():
        client = MjpegClient(f"{server.url}/cameras/cam00/stream.mjpg")
        started = time.monotonic() + 2.0
        while time.monotonic() < stop:
            client.frame()
            if time.monotonic() >= started:
                counts["mjpeg"] += client.last_size
        client.close()

    threads = [threading.Thread(target=h264), threading.Thread(target=mjpeg)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return 8 * counts["h264"] / seconds / 1000, 8 * counts["mjpeg"] / seconds / 1000


def page(server: ServeProcess, layout: str, seconds: float, profile: Path) -> tuple[dict, dict, float]:
    """Per camera: frames shown and latencies in the page over ``seconds``; and the elapsed time."""
    browser = Chromium(f"{server.url}/?layout={layout}", profile)
    try:
        browser.wait("typeof minelightTiles === 'function' && minelightTiles().length > 0 && "
                     "minelightTiles().every(t => t.frames > 10)", 120)
        time.sleep(2.0)
        before = {t["name"]: t for t in browser.evaluate("minelightTiles()")}
        t0 = time.monotonic()
        time.sleep(seconds)
        after = {t["name"]: t for t in browser.evaluate("minelightTiles()")}
        elapsed = time.monotonic() - t0
    finally:
        browser.close()
    shown = {n: after[n]["frames"] - before[n]["frames"] for n in after}
    latency = {n: after[n]["latency"][-max(1, shown[n]):] for n in after}
    return shown, latency, elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=15.0)
    parser.add_argument("--method", default="fast")
    parser.add_argument("--cameras", type=int, default=16)
    parser.add_argument("--fps", type=float, default=0, help="frame-rate cap of the grid's cameras (0: the clips' 25)")
    parser.add_argument("--skip", default="", help="comma list of parts to skip: bandwidth,latency,grid")
    args = parser.parse_args()
    skip = set(args.skip.split(","))
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        for size in ((720, 1280), (180, 320)):
            if {"bandwidth", "latency"} <= skip:
                break
            clip = write_clip(tmp / f"c{size[1]}.mp4", frames=50, size=size, fps=25, seed=1)
            server = ServeProcess(["--config", str(config(tmp / "one.toml", [clip], args.method))], tmp / "one.log")
            try:
                wait_for(lambda: set(server.states().values()) == {"live"}, 120)
                if "bandwidth" not in skip:
                    h264, mjpeg = bandwidth(server, args.seconds)
                    print(f"| {size[1]}x{size[0]} 25 FPS, {args.method} | H.264 {h264:.0f} kbit/s | "
                          f"MJPEG {mjpeg:.0f} kbit/s | {mjpeg / h264:.1f}x less |", flush=True)
                if "latency" not in skip:
                    shown, latency, elapsed = page(server, "1x1", args.seconds, tmp / "chromium1")
                    lat = latency["cam00"]
                    print(f"| {size[1]}x{size[0]} latency in the page | median {statistics.median(lat):.0f} ms | "
                          f"p95 {pct(lat, 0.95):.0f} ms | {shown['cam00'] / elapsed:.1f} FPS shown | "
                          f"{len(lat)} frames |", flush=True)
            finally:
                server.stop()
        if "grid" not in skip:
            clips = [write_clip(tmp / f"g{i}.mp4", frames=50, size=(180, 320), fps=25, seed=i) for i in range(4)]
            server = ServeProcess(["--config", str(config(tmp / "grid.toml", [clips[i % 4] for i in range(args.cameras)],
                                                          args.method, args.fps))], tmp / "grid.log",
                                  startup_s=120)
            try:
                wait_for(lambda: set(server.states().values()) == {"live"}, 240)
                api0 = {c["name"]: c for c in server.json("/api/cameras")}
                t0 = time.monotonic()
                shown, latency, elapsed = page(server, "4x4", args.seconds, tmp / "chromium16")
                api1 = {c["name"]: c for c in server.json("/api/cameras")}
                span = time.monotonic() - t0
            finally:
                server.stop()
            enhanced = [(api1[n]["frames_out"] - api0[n]["frames_out"]) / span for n in api1]
            fps = [shown[n] / elapsed for n in shown]
            lat = [x for n in latency for x in latency[n]]
            print(f"| {args.cameras} × 320x180 {args.fps or 25:g} FPS, {args.method} | enhanced {statistics.mean(enhanced):.1f} FPS "
                  f"({min(enhanced):.1f}–{max(enhanced):.1f}) | shown {statistics.mean(fps):.1f} FPS "
                  f"({min(fps):.1f}–{max(fps):.1f}) | latency median {statistics.median(lat):.0f} ms, "
                  f"p95 {pct(lat, 0.95):.0f} ms | all {sum(1 for f in fps if f > 0)} playing |", flush=True)


if __name__ == "__main__":
    main()
