"""Net-S inference time on one 640x480 image on this CPU (median of several runs), with its size.

    python benchmarks/core_speed.py --threads 2 --runs 10

Times ``Enhancer.enhance_tensor`` (the network, padding and clamping; no file I/O) after two warm-up
runs. Also prints parameters and MACs at 256x256 for both shipped models.
"""

from __future__ import annotations

import argparse
import statistics
import time

import torch

from minelight.enhance import Enhancer
from minelight.models.profile import count_macs, count_params


def time_enhancer(enhancer: Enhancer, height: int, width: int, runs: int) -> list[float]:
    x = torch.rand(1, 3, height, width, generator=torch.Generator().manual_seed(0))
    for _ in range(2):
        enhancer.enhance_tensor(x)
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        enhancer.enhance_tensor(x)
        times.append(time.perf_counter() - t0)
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
        model = Enhancer(name).model
        print(f"| {name} | {count_params(model):,} | {count_macs(model) / 1e9:.2f} |")
    times = time_enhancer(Enhancer("student"), args.height, args.width, args.runs)
    print(f"\nNet-S {args.width}x{args.height}, {args.threads} threads, {args.runs} runs: "
          f"median {statistics.median(times):.3f} s (min {min(times):.3f}, max {max(times):.3f})")


if __name__ == "__main__":
    main()
