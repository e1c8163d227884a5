"""Net-S inference time on one 640x480 image on this CPU (median of several runs), with its size.

    python benchmarks/core_speed.py --threads 2 --runs 10

Times Net-S alone (``student.net``) with PyTorch and with onnxruntime from the shipped ``student.onnx``
(``Enhancer.enhance_array``), Net-S with the halo guard only (``student.net+halo``), what ``minelight
enhance`` writes (``Enhancer.from_recipe("student")``: Net-S, halo guard, colour-noise step) and the same
with ``--detail``, all on onnxruntime; no file I/O, after two warm-up runs; the variants alternate run by run so that all see the same machine load. Also prints parameters
and MACs at 256x256 for both shipped models.
"""

from __future__ import annotations

import argparse
import statistics
import time
from functools import partial

import torch

from minelight.enhance.enhancer import Enhancer, enhancer_for
from minelight.models.profile import count_macs, count_params
from minelight.models.weights import load_weights
from minelight.weights import shipped_weights


def time_backends(height: int, width: int, runs: int, threads: int) -> dict[str, list[float]]:
    """Seconds per run of Net-S on one ``height x width`` image, per variant (interleaved runs)."""
    x = torch.rand(1, 3, height, width, generator=torch.Generator().manual_seed(0))
    img = x[0].permute(1, 2, 0).numpy()
    variants = {"torch": enhancer_for("student.net", threads=threads, backend="torch"),
                "onnxruntime": enhancer_for("student.net", threads=threads, backend="onnxruntime"),
                "onnxruntime+halo": enhancer_for("student.net+halo", threads=threads, backend="onnxruntime"),
                "minelight enhance, onnxruntime": Enhancer.from_recipe("student", threads=threads,
                                                                       backend="onnxruntime"),
                "minelight enhance --detail, onnxruntime": Enhancer.from_recipe("student", threads=threads,
                                                                                backend="onnxruntime", detail=True)}
    calls = {name: partial(enhancer.enhance_array, img)  # the array path minelight enhance takes
             for name, enhancer in variants.items()}
    for call in calls.values():
        for _ in range(2):
            call()
    times: dict[str, list[float]] = {name: [] for name in calls}
    for _ in range(runs):
        for name, call in calls.items():
            t0 = time.perf_counter()
            call()
            times[name].append(time.perf_counter() - t0)
    return times


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--runs", type=int, default=10)
    ap.add_argument("--height", type=int, default=480)
    ap.add_argument("--width", type=int, default=640)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    print("| model | params | GMACs @256x256 |\n|---|---|---|")
    for name in ("teacher", "student"):
        model, _ = load_weights(shipped_weights(name), expect=name)
        print(f"| {name} | {count_params(model):,} | {count_macs(model) / 1e9:.2f} |")
    for backend, times in time_backends(args.height, args.width, args.runs, args.threads).items():
        print(f"\nNet-S {args.width}x{args.height}, {backend}, {args.threads} threads, {args.runs} runs: "
              f"median {statistics.median(times):.3f} s (min {min(times):.3f}, max {max(times):.3f})")


if __name__ == "__main__":
    main()
