"""Figures of `minelight serve` on this machine: latency, sustained FPS, drops, CPU/RSS per camera, and
time until a camera that came back is live again.

    python benchmarks/serve_speed.py --out report/serve_speed.md

1. One 720p25 camera (a dark H.264 clip played at 25 FPS, as a camera delivers it): latency from a decoded
   frame to its MJPEG frame arriving at a client on this machine (each part's X-Decoded-At header against
   the client's clock: both are this machine's monotonic clock), median and p95.
2. 1, 2 and 4 such cameras at once: enhanced FPS per camera, share of decoded frames dropped, CPU (% of one
   core) and RSS of each camera's process, over ``--seconds``.
   ``--chroma N`` gives every camera that colour-noise radius (``0``: the step off) in 1 and 2.
3. A real RTSP camera (rtsp-server-perl + ffmpeg, as in the tests) killed and started again: seconds from
   its restart until the gateway reports it live, next to how long a fresh PyAV reader needs for its first
   frame from the restarted server (the part no gateway can avoid).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the tests' real parts: server, client, camera

from tests.serve.helpers import MjpegClient, RtspCamera, ServeProcess, wait_for, write_clip  # noqa: E402

CLK_TCK = 100  # /proc/PID/stat clock ticks per second (Linux)


def children(pid: int) -> list[int]:
    out = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            out.append(int(stat.parent.name))
    return out


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLK_TCK


def rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def camera_pids(server: ServeProcess) -> list[int]:
    """The camera processes (spawned children that are not the resource tracker)."""
    pids = []
    for pid in children(server.proc.pid):
        cmd = Path(f"/proc/{pid}/cmdline").read_bytes()
        if b"spawn_main" in cmd:
            pids.append(pid)
    return pids


def latency(clip: Path, tmp: Path, seconds: float, extra: list[str] = ()) -> list[str]:
    server = ServeProcess(["--source", str(clip), "--port", "0", *extra], tmp / "lat.log")
    try:
        wait_for(lambda: set(server.states().values()) == {"live"}, 120)
        time.sleep(2.0)
        client = MjpegClient(f"{server.url}/cameras/{clip.stem}/stream.mjpg")
        samples, end = [], time.monotonic() + seconds
        while time.monotonic() < end:
            client.frame()
            samples.append(1000 * (time.monotonic() - client.decoded_at))
        client.close()
    finally:
        server.stop()
    samples.sort()
    p95 = samples[int(0.95 * (len(samples) - 1))]
    return [f"| 1 × 720p25, decode → MJPEG frame at the client | {len(samples)} | "
            f"{statistics.median(samples):.1f} | {p95:.1f} | {max(samples):.1f} |"]


def load(clip: Path, tmp: Path, cameras: int, seconds: float, extra: list[str] = ()) -> str:
    args = sum((["--source", str(clip)] for _ in range(cameras)), []) + ["--port", "0", *extra]
    server = ServeProcess(args, tmp / f"load{cameras}.log")
    try:
        wait_for(lambda: set(server.states().values()) == {"live"}, 180)
        time.sleep(3.0)
        pids = camera_pids(server)
        before = {c["name"]: c for c in server.json("/api/cameras")}
        cpu0, t0 = [cpu_seconds(p) for p in pids], time.monotonic()
        time.sleep(seconds)
        after = {c["name"]: c for c in server.json("/api/cameras")}
        elapsed = time.monotonic() - t0
        cpu = [(cpu_seconds(p) - c) / elapsed * 100 for p, c in zip(pids, cpu0)]
        rss = [rss_mib(p) for p in pids]
        parent_rss = rss_mib(server.proc.pid)
    finally:
        server.stop()
    fps = [(after[n]["frames_out"] - before[n]["frames_out"]) / elapsed for n in after]
    decoded = sum(after[n]["frames_in"] - before[n]["frames_in"] for n in after)
    dropped = sum(after[n]["dropped"] - before[n]["dropped"] for n in after)
    return (f"| {cameras} | {statistics.mean(fps):.1f} ({min(fps):.1f}–{max(fps):.1f}) | "
            f"{100 * dropped / max(1, decoded):.1f} % | {statistics.mean(cpu):.0f} % | "
            f"{statistics.mean(rss):.0f} MiB | {parent_rss:.0f} MiB |")


def comeback(tmp: Path, trials: int) -> list[str]:
    import av

    clip = write_clip(tmp / "rtsp.mp4", frames=50, size=(720, 1280), fps=25, seed=5)
    camera = RtspCamera(clip).start()
    config = tmp / "rtsp.toml"
    config.write_text(f'[server]\nport = 0\n\n[[cameras]]\nname = "rtsp"\nsource = "{camera.url}"\n'
                      'transport = "udp"\ntimeout = 2.0\n')
    server = ServeProcess(["--config", str(config)], tmp / "rtsp.log")
    rows = []
    try:
        wait_for(lambda: server.states()["rtsp"] == "live", 120)
        for trial in range(trials):
            camera.stop()
            wait_for(lambda: server.states()["rtsp"] == "reconnecting", 60, every=0.05)
            time.sleep(4.0)  # down long enough for the back-off to reach its cap
            t0 = time.monotonic()
            camera.start()
            wait_for(lambda: server.states()["rtsp"] == "live", 60, every=0.05)
            gateway_s = time.monotonic() - t0
            camera.stop()  # the same restart, read by a bare PyAV reader
            time.sleep(1.0)
            t0 = time.monotonic()
            camera.start()

            def first_frame():
                try:
                    with av.open(camera.url, options={"rtsp_transport": "udp"}, timeout=5) as c:
                        return next(iter(c.decode(video=0))) is not None
                except av.error.FFmpegError:  # not published yet (404) or no data yet
                    return False

            wait_for(first_frame, 60, every=0.05)
            rows.append(f"| {trial + 1} | {gateway_s:.2f} | {time.monotonic() - t0:.2f} |")
            wait_for(lambda: server.states()["rtsp"] == "live", 60, every=0.05)
    finally:
        server.stop()
        camera.stop()
    return rows


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--seconds", type=float, default=20.0, help="measuring time per figure")
    ap.add_argument("--cameras", default="1,2,4")
    ap.add_argument("--trials", type=int, default=3, help="camera restarts to time")
    ap.add_argument("--out", type=Path)
    ap.add_argument("--chroma", type=int, help="every camera's colour-noise radius (default: the method's)")
    args = ap.parse_args()
    extra = [] if args.chroma is None else ["--chroma", str(args.chroma)]
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        clip = write_clip(tmp / "cam720.mp4", frames=100, size=(720, 1280), fps=25, seed=1)
        lines = ["## Latency", "", "| setup | frames | median ms | p95 ms | max ms |", "|---|---|---|---|---|",
                 *latency(clip, tmp, args.seconds, extra), "",
                 "## Load: 720p25 cameras at once (method fast, onnxruntime, 1 thread per camera)", "",
                 "| cameras | enhanced FPS per camera (min–max) | dropped | CPU per camera | RSS per camera | "
                 "RSS of the web process |", "|---|---|---|---|---|---|"]
        lines += [load(clip, tmp, int(n), args.seconds, extra) for n in args.cameras.split(",")]
        if RtspCamera.available:
            lines += ["", "## A camera that came back (RTSP over UDP, 720p, killed and restarted)", "",
                      "| trial | restart → live in the gateway (s) | restart → first frame, bare PyAV reader (s) |",
                      "|---|---|---|", *comeback(tmp, args.trials)]
    text = "\n".join(lines)
    print(text)
    if args.out:
        args.out.write_text(f"Measured by `python benchmarks/serve_speed.py` on {time.strftime('%Y-%m-%d')}, "
                            f"2-core CPU.\n\n{text}\n")


if __name__ == "__main__":
    main()
