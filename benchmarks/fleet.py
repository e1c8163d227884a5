"""Figures of `minelight serve --ray`: the gateway's CPU per camera, and how long a camera is gone when the
node running it dies.

    python benchmarks/fleet.py --write docs/results.json

A Ray cluster of two nodes on this machine's loopback (a head and a worker node, ``--node-cpus`` logical
CPUs each; ray.cluster_utils, as the tests use) runs ``--cameras`` file cameras: dark noisy H.264 clips of
``--size`` played at 25 FPS, enhanced with ``--method``; each camera reserves ``--node-cpus`` / ``--cameras``
CPUs, so the cameras are spread over both nodes and those of a lost node fit on the one left.

1. Gateway CPU (% of one core, /proc/PID/stat of the `minelight serve` process alone, over ``--seconds``)
   per camera, for ``--cameras`` cameras: nobody watching, and every camera's H.264 live view watched by one
   WebSocket viewer. The same cameras as processes of one machine (no ``--ray``) are the reference: there
   the gateway process is the web layer alone too.
2. Failover: the worker node is lost while its cameras run, and the time until each of them publishes a
   frame again from the head node is taken from ``/api/cameras`` (polled every 50 ms). Frames lost: those
   the camera delivered meanwhile (25 a second). Two ways to lose a node:
   * ``killed``: its Ray processes die (a crash or a reboot; ``Cluster.remove_node``): the head learns it
     at once from the dropped connections;
   * ``frozen``: its processes are stopped (SIGSTOP: a hung machine, or one cut off the network): the head
     learns it only from missed health checks, with Ray's defaults and with the faster checks that
     docs/cluster.md suggests for camera fleets (``RAY_health_check_*`` when starting the head).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import statistics
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the tests' real parts: server, clients, clips

from tests.raycluster import loopback_cluster  # noqa: E402
from tests.serve.helpers import ServeProcess, wait_for, write_clip  # noqa: E402

from machine import machine  # noqa: E402
from substreams import Viewer, cpu_seconds  # noqa: E402

RUN = "fleet"
COMMAND = "python benchmarks/fleet.py --cameras 8 --size 320x180 --write docs/results.json"
FPS = 25
FAST_CHECKS = {"RAY_health_check_period_ms": "1000", "RAY_health_check_timeout_ms": "1000",
               "RAY_health_check_failure_threshold": "3"}


def freeze(node) -> list[int]:
    """SIGSTOP a Ray node's processes (``ray.cluster_utils`` node) and their children (its camera workers);
    returns their ids (SIGKILL them afterwards: a frozen node is not stopped by the cluster's shutdown)."""
    pids = [p.process.pid for procs in node.all_processes.values() for p in procs]
    pids += [c for p in pids for c in _children(p)]
    for pid in pids:
        try:
            os.kill(pid, signal.SIGSTOP)
        except ProcessLookupError:
            pass
    return pids


def kill(pids: list[int]) -> None:
    for pid in pids:
        for sig in (signal.SIGKILL, signal.SIGCONT):
            try:
                os.kill(pid, sig)
            except ProcessLookupError:
                pass


def _children(pid: int) -> list[int]:
    out = []
    for p in Path("/proc").iterdir():
        try:
            if p.name.isdigit() and int((p / "stat").read_text().rsplit(")", 1)[1].split()[1]) == pid:
                out.append(int(p.name))
                out += _children(int(p.name))
        except (OSError, ValueError, IndexError):
            pass
    return out


def config(tmp: Path, clips: list[Path], method: str, cpus: float) -> Path:
    path = tmp / "cameras.toml"
    path.write_text('[server]\nport = 0\n' + "".join(
        f'[[cameras]]\nname = "cam{i}"\nsource = "{clip}"\nmethod = "{method}"\ncpus = {cpus}\n'
        for i, clip in enumerate(clips)))
    return path


def gateway_cpu(server: ServeProcess, names: list[str], seconds: float) -> dict:
    """The gateway process's CPU (% of one core) per camera, nobody watching and every live view watched."""
    out = {}
    for watched in (False, True):
        viewers = [Viewer(server, n) for n in names] if watched else []
        time.sleep(3.0)  # viewers started, encoders running
        before, t0 = cpu_seconds(server.proc.pid), time.monotonic()
        frames0 = {c["name"]: c["frames_out"] for c in server.json("/api/cameras")}
        time.sleep(seconds)
        elapsed = time.monotonic() - t0
        pct = 100 * (cpu_seconds(server.proc.pid) - before) / elapsed
        fps = [(c["frames_out"] - frames0[c["name"]]) / elapsed for c in server.json("/api/cameras")]
        for v in viewers:
            v.close()
        out["watched" if watched else "unwatched"] = {"gateway_cpu_pct_per_camera": round(pct / len(names), 2),
                                                      "fps_per_camera": round(statistics.mean(fps), 1)}
    return out


def failover(server: ServeProcess, nodes, worker, how: str, frozen: list[int]) -> dict:
    """Lose the ``worker`` node of ``nodes`` (``killed``, or ``frozen``: its process ids go into ``frozen``);
    seconds until each of its cameras publishes again."""
    cams = server.json("/api/cameras")
    lost = [c["name"] for c in cams if c["node"]["id"] == worker.node_id]
    frames = {c["name"]: c["frames_out"] for c in cams}
    t0 = time.monotonic()
    if how == "killed":
        nodes.remove_node(worker)
    else:
        frozen += freeze(worker)
    back: dict[str, float] = {}
    seen_down: dict[str, float] = {}
    while len(back) < len(lost) and time.monotonic() - t0 < 120:
        for c in server.json("/api/cameras"):
            n = c["name"]
            if n in lost and n not in back:
                if c["state"] != "live" and n not in seen_down:
                    seen_down[n] = time.monotonic() - t0
                moved = c["node"]["id"] != worker.node_id
                if moved and c["state"] == "live" and c["frames_out"] > frames[n]:
                    back[n] = time.monotonic() - t0
        time.sleep(0.05)
    gaps = [back.get(n, time.monotonic() - t0) for n in lost]  # one not back: the time waited
    return {"how": how, "cameras": len(lost), "seen_down_s": round(max(seen_down.values(), default=0.0), 1),
            "back_s_median": round(statistics.median(gaps), 1), "back_s_max": round(max(gaps), 1),
            "frames_lost_max": round(max(gaps) * FPS), "all_back": len(back) == len(lost)}


def run_case(clips, tmp, method, how, extra_env, cpus, seconds=0.0, names=None) -> dict:
    frozen: list[int] = []
    with loopback_cluster(cpus, (cpus,), extra_env) as (nodes, workers, _):
        try:
            server = ServeProcess(["--config", str(config(tmp, clips, method, cpus / len(clips))), "--ray",
                                   nodes.address], tmp / f"serve-{how}.log", startup_s=120)
            try:
                wait_for(lambda: all(c["state"] == "live" for c in server.json("/api/cameras")), 120,
                         what="cameras live")
                out = {"cpu": gateway_cpu(server, names, seconds)} if seconds else {}
                if seconds:
                    print("fleet cpu", json.dumps(out["cpu"]), flush=True)
                out["failover"] = failover(server, nodes, workers[0], how, frozen)
                return out
            finally:
                server.stop()
        finally:
            kill(frozen)


def local_cpu(clips, tmp, method, seconds, names) -> dict:
    server = ServeProcess(["--config", str(config(tmp, clips, method, 1.0))], tmp / "serve-local.log", startup_s=120)
    try:
        wait_for(lambda: all(c["state"] == "live" for c in server.json("/api/cameras")), 120, what="cameras live")
        return gateway_cpu(server, names, seconds)
    finally:
        server.stop()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--cameras", type=int, default=8)
    ap.add_argument("--size", default="320x180", help="camera frame size WxH")
    ap.add_argument("--method", default="clahe")
    ap.add_argument("--seconds", type=float, default=10.0)
    ap.add_argument("--node-cpus", type=int, default=2)
    ap.add_argument("--write", type=Path, help="results.json to write the figures into (key fleet)")
    args = ap.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="mlfleet"))
    w, h = (int(v) for v in args.size.split("x"))
    clips = [write_clip(tmp / f"cam{i}.mp4", frames=250, size=(h, w), fps=FPS, seed=i) for i in range(args.cameras)]
    names = [f"cam{i}" for i in range(args.cameras)]
    result = {"cameras": args.cameras, "method": args.method,
              "clip": f"a dark noisy {w}x{h} H.264 clip at 25 FPS per camera, played in a loop"}
    result["local_cpu"] = local_cpu(clips, tmp, args.method, args.seconds, names)
    print("local", json.dumps(result["local_cpu"]), flush=True)
    killed = run_case(clips, tmp, args.method, "killed", {}, args.node_cpus, args.seconds, names)
    result["fleet_cpu"] = killed["cpu"]
    print("fleet", json.dumps(killed), flush=True)
    result["failover"] = [killed["failover"]]
    for label, env in (("default checks", {}), ("fast checks", FAST_CHECKS)):
        frozen = run_case(clips, tmp, args.method, "frozen", env, args.node_cpus)["failover"]
        frozen["checks"] = label
        print("frozen", json.dumps(frozen), flush=True)
        result["failover"].append(frozen)
    if args.write:
        data = json.loads(args.write.read_text())
        data["runs"][RUN] = {"date": str(date.today()), "machine": machine("Ray " + __import__("ray").__version__),
                             "command": COMMAND}
        data[RUN] = {"run": RUN, **result}
        args.write.write_text(json.dumps(data, indent=1, ensure_ascii=False) + "\n")
    shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
