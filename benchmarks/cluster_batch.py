"""Batch throughput of ``minelight enhance --ray`` against the plain command on the same images.

    python benchmarks/cluster_batch.py --images 120 --size 320x240 --rounds 3

Needs the ``[cluster]`` extra. Each round runs, in an order rotated from round to round (the machine may be
shared, so every cluster figure is compared with the local run of its own round), the command as a user
runs it, each into a fresh folder:

* ``local``: ``minelight enhance IN -o OUT`` (one process, onnxruntime's default threads);
* ``1 node``: ``--ray ADDRESS`` on a running one-node cluster with all of this machine's CPUs;
* ``2 nodes``: ``--ray ADDRESS`` on a running cluster of two nodes on this machine sharing its CPUs;
* ``2 nodes, one lost``: the same, with the worker node killed once a quarter of the outputs exist;
* ``auto``: ``--ray auto`` with no cluster running (starts a cluster for the run and stops it: included).

The clusters are ``ray.cluster_utils.Cluster`` nodes on loopback (127.0.0.2) in a private Ray temp folder;
only they are stopped at the end. Every output of every run is compared byte for byte with the first local
run's. Prints one JSON object (medians over rounds; ratios are cluster time / local time of the same round).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
LOOPBACK = "127.0.0.2"


def make_images(folder: Path, count: int, width: int, height: int) -> None:
    """Dark, noisy synthetic scenes (seeded): smooth shading, a lamp, sensor noise."""
    from minelight.io import write_image

    folder.mkdir(parents=True)
    yy, xx = np.mgrid[0:height, 0:width] / max(height, width)
    for i in range(count):
        rng = np.random.default_rng(i)
        shade = np.stack([0.5 + 0.3 * np.sin(6 * xx + k + i) * np.cos(4 * yy - k) for k in range(3)], axis=2)
        lamp = np.exp(-((xx - rng.uniform(0.2, 0.8)) ** 2 + (yy - rng.uniform(0.2, 0.6)) ** 2) / 0.01)[..., None]
        img = 0.12 * shade + 0.6 * lamp + 0.01 * rng.standard_normal((height, width, 3))
        write_image(folder / f"frame{i:04d}.png", np.clip(img, 0, 1).astype(np.float32))


def run(args: list[str], env: dict, out: Path, lose=None) -> float:
    """Seconds of ``minelight enhance ... -o out``; ``lose(out)`` is polled while it runs (node loss)."""
    shutil.rmtree(out, ignore_errors=True)
    start = time.perf_counter()
    proc = subprocess.Popen([sys.executable, "-m", "minelight.cli", "enhance", *args, "-o", str(out), "--quiet"],
                            env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    while lose is not None and proc.poll() is None and not lose(out):
        time.sleep(0.05)
    stdout, stderr = proc.communicate()
    seconds = time.perf_counter() - start
    if proc.returncode != 0:
        raise SystemExit(f"{args}: exit {proc.returncode}\n{stdout}\n{stderr}")
    return seconds


def same(a: Path, b: Path) -> bool:
    names = sorted(p.name for p in a.iterdir())
    return names == sorted(p.name for p in b.iterdir()) and all(
        (a / n).read_bytes() == (b / n).read_bytes() for n in names)


def cluster(cpus: list[int]):
    from ray.cluster_utils import Cluster

    nodes = Cluster(initialize_head=True, head_node_args={"num_cpus": cpus[0], "node_ip_address": LOOPBACK,
                                                          "include_dashboard": False})
    workers = [nodes.add_node(num_cpus=c, node_ip_address=LOOPBACK) for c in cpus[1:]]
    nodes.wait_for_nodes()
    return nodes, workers


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--images", type=int, default=120)
    ap.add_argument("--size", default="320x240", help="WIDTHxHEIGHT of the synthetic images")
    ap.add_argument("--method", default="student")
    ap.add_argument("--rounds", type=int, default=3)
    a = ap.parse_args()
    width, height = map(int, a.size.split("x"))
    cores = os.cpu_count() or 2
    work = Path(tempfile.mkdtemp(prefix="mlbench"))
    ray_tmp = tempfile.mkdtemp(prefix="mlray")  # short: Ray's socket paths live under it
    env = {k: v for k, v in os.environ.items() if k != "RAY_ADDRESS"}
    env.update(RAY_TMPDIR=ray_tmp, RAY_USAGE_STATS_ENABLED="0",
               PYTHONPATH=os.pathsep.join([str(ROOT / "src")] + [p for p in [os.environ.get("PYTHONPATH")] if p]))
    os.environ.update(RAY_TMPDIR=ray_tmp, RAY_USAGE_STATS_ENABLED="0")
    os.environ.pop("RAY_ADDRESS", None)
    auto_tmp = tempfile.mkdtemp(prefix="mlray")  # no cluster recorded here: --ray auto starts one
    auto_env = dict(env, RAY_TMPDIR=auto_tmp)
    images = work / "in"
    make_images(images, a.images, width, height)
    base = [str(images), "-m", a.method]
    reference = work / "reference"
    run(base, env, reference)
    times: dict[str, list[float]] = {}
    identical: dict[str, bool] = {}
    at_loss: list[int] = []
    try:
        for r in range(a.rounds):
            order = ["local", "1 node", "2 nodes", "auto"]
            order = order[r % len(order):] + order[:r % len(order)]
            for kind in order:
                out = work / f"out-{kind.replace(' ', '')}-{r}"
                if kind == "local":
                    seconds = {"local": run(base, env, out)}
                elif kind == "auto":
                    seconds = {"auto": run(base + ["--ray", "auto"], auto_env, out)}
                elif kind == "1 node":
                    nodes, _ = cluster([cores])
                    try:
                        seconds = {kind: run(base + ["--ray", nodes.address], env, out)}
                    finally:
                        nodes.shutdown()
                else:
                    nodes, (worker,) = cluster([max(1, cores // 2), max(1, cores - cores // 2)])
                    try:
                        seconds = {kind: run(base + ["--ray", nodes.address], env, out)}
                        identical[kind] = identical.get(kind, True) and same(reference, out)
                        lost = out.with_name(out.name + "-lost")

                        def lose(folder: Path) -> bool:
                            done = len(list(folder.glob("*.png"))) if folder.is_dir() else 0
                            if done >= a.images // 4:
                                nodes.remove_node(worker, allow_graceful=False)
                                at_loss.append(len(list(folder.glob("*.png"))))
                                return True
                            return False

                        seconds["2 nodes, one lost"] = run(base + ["--ray", nodes.address], env, lost, lose)
                        identical["2 nodes, one lost"] = identical.get("2 nodes, one lost", True) and same(
                            reference, lost)
                        shutil.rmtree(lost)
                    finally:
                        nodes.shutdown()
                for k, s in seconds.items():
                    times.setdefault(k, []).append(s)
                if kind != "2 nodes":
                    identical[kind] = identical.get(kind, True) and same(reference, out)
                shutil.rmtree(out, ignore_errors=True)
                print(f"round {r}: {seconds}", file=sys.stderr, flush=True)
    finally:
        shutil.rmtree(work, ignore_errors=True)
        shutil.rmtree(ray_tmp, ignore_errors=True)
        shutil.rmtree(auto_tmp, ignore_errors=True)
    local = times["local"]
    result = {
        "images": a.images, "size": a.size, "method": a.method, "rounds": a.rounds, "cores": cores,
        "seconds_median": {k: round(statistics.median(v), 2) for k, v in times.items()},
        "images_per_s_median": {k: round(a.images / statistics.median(v), 2) for k, v in times.items()},
        "time_ratio_to_local_median": {k: round(statistics.median([s / l for s, l in zip(v, local)]), 3)
                                       for k, v in times.items() if k != "local"},
        "seconds_all": {k: [round(s, 2) for s in v] for k, v in times.items()},
        "outputs_identical_to_local": identical,
        "outputs_when_node_lost": at_loss,
    }
    print(json.dumps(result, indent=1))


if __name__ == "__main__":
    main()
