"""Figures of cameras with a substream in `minelight serve`: a camera's CPU as it is watched, how many cameras
the grid keeps live, and how long the main stream takes to start.

    python benchmarks/substreams.py --seconds 15 --write docs/results.json

Every camera is a pair of dark noisy H.264 clips of one scene played at 25 FPS: a 1280x720 main stream and a
640x360 substream, enhanced with ``--method`` (fast: onnxruntime, one thread per stream).

1. CPU (% of one core, from /proc/PID/stat, over ``--seconds``) of one camera's process and its streams'
   enhanced FPS: nobody watches (the substream at ``idle_fps`` 1); its grid tile watched (one WebSocket
   viewer of the substream's H.264 view, as a page's tile); the large view open (one viewer of the main
   stream). For comparison, a camera with the 720p stream only, nobody watching (enhanced all the time).
2. The grid: N such cameras (``--grid``), each watched by one WebSocket viewer of its substream (no browser:
   the figures are the gateway's alone); enhanced FPS per camera. The most cameras kept live is the largest N
   whose every camera stays live at ``--min-fps`` or more.
3. Main-stream start: from opening a WebSocket of the main stream until its init message and until its first
   frame (fragment), ``--trials`` times with the main stream stopped in between; and from closing it until
   ``/api/cameras`` says ``main_running: false``. File cameras, and RTSP cameras over UDP (rtsp-server-perl fed
   by ffmpeg, as in the tests) where they are installed.
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import sys
import tempfile
import threading
import time
from datetime import date
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the tests' real parts: server, clients, camera

from tests.serve.helpers import RtspCamera, ServeProcess, wait_for, write_clip  # noqa: E402

from machine import machine  # noqa: E402

CLK_TCK = 100  # /proc/PID/stat clock ticks per second (Linux)
RUN = "substreams"
COMMAND = "python benchmarks/substreams.py --seconds 15 --grid 2,4,6,8 --write docs/results.json"


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLK_TCK


def camera_toml(path: Path, cameras: list[tuple[str, str, str]], method: str, extra: str = "") -> Path:
    """A config of ``(name, source, substream)`` cameras ("" substream: one stream); ``extra``: TOML lines
    added to every camera."""
    path.write_text('[server]\nport = 0\n' + "".join(
        f'[[cameras]]\nname = "{n}"\nsource = "{s}"\nmethod = "{method}"\ntransport = "udp"\n'
        + (f'substream = "{sub}"\n' if sub else "") + extra for n, s, sub in cameras))
    return path


class Viewer:
    """A WebSocket viewer of one camera's H.264 live view in a thread, reading until :meth:`close`."""

    def __init__(self, server: ServeProcess, camera: str, stream: str = ""):
        from websockets.sync.client import connect

        url = server.url.replace("http://", "ws://") + f"/cameras/{camera}/live"
        url += f"?stream={stream}" if stream else ""
        self.opened = time.monotonic()
        self.ws = connect(url, max_size=None, open_timeout=20).__enter__()
        self.init_at = self.frame_at = None
        self.binary = 0
        self.thread = threading.Thread(target=self._read, daemon=True)
        self.thread.start()

    def _read(self) -> None:
        try:
            while True:
                message = self.ws.recv()
                if isinstance(message, str):
                    self.init_at = self.init_at or time.monotonic()
                else:
                    self.binary += 1
                    if self.binary == 2:  # the init segment, then the first frame's fragment
                        self.frame_at = time.monotonic()
        except Exception:  # noqa: BLE001 - closed
            return

    def close(self) -> None:
        self.ws.close()
        self.thread.join(5)


def measure(server: ServeProcess, seconds: float) -> dict:
    """CPU (% of one core) of the camera processes and enhanced FPS of each camera's streams over ``seconds``."""
    pids = {c["name"]: c["pid"] for c in server.json("/api/cameras")}
    before = {c["name"]: c for c in server.json("/api/cameras")}
    cpu0, t0 = {n: cpu_seconds(p) for n, p in pids.items()}, time.monotonic()
    time.sleep(seconds)
    after = {c["name"]: c for c in server.json("/api/cameras")}
    elapsed = time.monotonic() - t0
    out = {}
    for n in after:
        fps = {k: (after[n]["streams"][k]["frames_out"] - before[n]["streams"][k]["frames_out"]) / elapsed
               for k in after[n]["streams"]}
        out[n] = {"cpu_pct": 100 * (cpu_seconds(pids[n]) - cpu0[n]) / elapsed, "fps": fps,
                  "live": after[n]["state"] == "live"}
    return out


def cpu_rows(clips: dict, tmp: Path, method: str, seconds: float) -> list[dict]:
    """One camera at a time in a gateway of its own: with a substream as it is watched, then with one stream."""
    rows = []
    config = camera_toml(tmp / "one.toml", [("cam", clips["main"], clips["sub"])], method)
    server = ServeProcess(["--config", str(config)], tmp / "one.log")
    try:
        wait_for(lambda: set(server.states().values()) == {"live"}, 180)
        wait_for(lambda: server.camera("cam")["streams"]["sub"]["idle"], 30)
        time.sleep(3.0)
        rows.append({"what": "nobody watches (substream 640x360 at the default idle_fps 0.5)",
                     **row(measure(server, seconds)["cam"])})
        for what, stream in (("grid tile watched (substream 640x360, H.264 view)", ""),
                             ("large view open (main stream 1280x720, H.264 view)", "main")):
            viewer = Viewer(server, "cam", stream)
            try:
                wait_for(lambda: viewer.frame_at, 60)
                time.sleep(3.0)
                rows.append({"what": what, **row(measure(server, seconds)["cam"])})
            finally:
                viewer.close()
            wait_for(lambda: server.camera("cam")["streams"]["sub"]["idle"]
                     and not server.camera("cam")["main_running"], 60)
    finally:
        server.stop()
    for what, extra in (("one stream only (720p), nobody watches: enhanced all the time", ""),
                        ("one stream only (720p) with idle_fps 0.5, nobody watches", "idle_fps = 0.5\n")):
        config = camera_toml(tmp / "plain.toml", [("plain", clips["main"], "")], method, extra)
        server = ServeProcess(["--config", str(config)], tmp / "plain.log")
        try:
            wait_for(lambda: set(server.states().values()) == {"live"}, 180)
            time.sleep(3.0)
            rows.append({"what": what, **row(measure(server, seconds)["plain"])})
        finally:
            server.stop()
    return rows


def row(m: dict) -> dict:
    return {"cpu_pct": round(m["cpu_pct"], 1), "sub_fps": round(m["fps"].get("sub", 0.0), 1),
            "main_fps": round(m["fps"]["main"], 1)}


def grid(clips: dict, tmp: Path, method: str, seconds: float, count: int) -> dict:
    names = [f"cam{i:02d}" for i in range(count)]
    config = camera_toml(tmp / f"grid{count}.toml", [(n, clips["main"], clips["sub"]) for n in names], method)
    server = ServeProcess(["--config", str(config)], tmp / f"grid{count}.log", startup_s=180)
    viewers = []
    try:
        wait_for(lambda: set(server.states().values()) == {"live"}, 300)
        viewers = [Viewer(server, n) for n in names]
        wait_for(lambda: all(v.frame_at for v in viewers), 120)
        time.sleep(5.0)
        m = measure(server, seconds)
    finally:
        for v in viewers:
            v.close()
        server.stop()
    fps = [m[n]["fps"]["sub"] for n in names]
    return {"cameras": count, "fps_mean": round(statistics.mean(fps), 1), "fps_min": round(min(fps), 1),
            "fps_max": round(max(fps), 1), "cpu_pct_per_camera": round(statistics.mean(m[n]["cpu_pct"] for n in names)),
            "live": sum(m[n]["live"] for n in names)}


def start_latency(source: str, main: str, sub: str, tmp: Path, method: str, trials: int,
                  live_s: float = 180.0) -> dict:
    config = camera_toml(tmp / f"start-{source}.toml", [("cam", main, sub)], method)
    server = ServeProcess(["--config", str(config)], tmp / f"start-{source}.log")
    inits, frames, stops = [], [], []
    try:
        wait_for(lambda: server.states()["cam"] == "live", live_s)
        for _ in range(trials):
            wait_for(lambda: not server.camera("cam")["main_running"], 60)
            time.sleep(1.0)
            viewer = Viewer(server, "cam", "main")
            try:
                wait_for(lambda: viewer.frame_at, 60, every=0.01)
                inits.append(viewer.init_at - viewer.opened)
                frames.append(viewer.frame_at - viewer.opened)
                time.sleep(2.0)
            finally:
                viewer.close()
            t0 = time.monotonic()
            wait_for(lambda: not server.camera("cam")["main_running"], 60, every=0.05)
            stops.append(time.monotonic() - t0)
    finally:
        server.stop()
    return {"source": source, "trials": trials, "init_median_s": round(statistics.median(inits), 2),
            "frame_median_s": round(statistics.median(frames), 2), "frame_max_s": round(max(frames), 2),
            "stop_median_s": round(statistics.median(stops), 2)}




def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--seconds", type=float, default=15.0, help="measuring time per figure")
    ap.add_argument("--method", default="fast")
    ap.add_argument("--grid", default="2,4,6", help="camera counts of the grid figure")
    ap.add_argument("--min-fps", type=float, default=10.0, help="a grid camera counts as kept live at this FPS")
    ap.add_argument("--trials", type=int, default=5, help="main-stream starts to time")
    ap.add_argument("--skip", default="", help="comma list of parts to skip: cpu,grid,start")
    ap.add_argument("--write", type=Path, help="docs/results.json to put the figures into (key substreams)")
    args = ap.parse_args()
    skip = set(args.skip.split(","))
    result = {"run": RUN, "method": args.method, "seconds": args.seconds, "min_fps": args.min_fps,
              "cameras": "dark noisy H.264 clips of one scene at 25 FPS: main stream 1280x720, substream 640x360"}
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        clips = {"main": str(write_clip(tmp / "main.mp4", frames=100, size=(720, 1280), fps=25, seed=1)),
                 "sub": str(write_clip(tmp / "sub.mp4", frames=100, size=(360, 640), fps=25, seed=1))}
        if "cpu" not in skip:
            result["cpu"] = cpu_rows(clips, tmp, args.method, args.seconds)
            print(json.dumps(result["cpu"], indent=1), flush=True)
        if "grid" not in skip:
            result["grid"] = [grid(clips, tmp, args.method, args.seconds, int(n)) for n in args.grid.split(",")]
            kept = [g["cameras"] for g in result["grid"] if g["live"] == g["cameras"] and g["fps_min"] >= args.min_fps]
            result["grid_most"] = max(kept, default=0)
            print(json.dumps(result["grid"], indent=1), flush=True)
        if "start" not in skip:
            result["start"] = [start_latency("file", clips["main"], clips["sub"], tmp, args.method, args.trials)]
            if RtspCamera.available:
                cam = RtspCamera(Path(clips["main"]), "main").start()  # one server: the test server allows one
                try:
                    sub_url = cam.push(Path(clips["sub"]), "sub")
                    result["start"].append(start_latency("RTSP over UDP", cam.url, sub_url, tmp, args.method,
                                                         args.trials, live_s=60.0))
                except AssertionError as err:  # the local RTSP server delivered nothing: file cameras only
                    print(f"RTSP cameras: {err}", file=sys.stderr)
                finally:
                    cam.stop()
            print(json.dumps(result["start"], indent=1), flush=True)
    if args.write:
        data = json.loads(args.write.read_text())
        data["runs"][RUN] = {"date": str(date.today()), "machine": machine(f"Python {platform.python_version()}, onnxruntime", ram=True),
                             "command": COMMAND}
        kept = {k: v for k, v in data.get(RUN, {}).items() if k in ("cpu", "grid", "grid_most", "start")}
        data[RUN] = kept | result  # the parts skipped this time keep their last figures
        args.write.write_text(json.dumps(data, indent=1, ensure_ascii=False) + "\n")


if __name__ == "__main__":
    main()
