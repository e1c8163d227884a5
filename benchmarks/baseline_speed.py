"""Time of the classical methods and of NIQE on one 600x400 image (median of several runs).

    python benchmarks/baseline_speed.py --image ../shared/data/unpaired/LIME/1.bmp --runs 5

Without ``--image`` a synthetic dark textured image is used. The image is resized to 600x400.
"""

from __future__ import annotations

import argparse
import statistics
import time

import cv2
import numpy as np

from minelight.baselines import BASELINES
from minelight.baselines.lime import lime
from minelight.io import read_image
from minelight.metrics.niqe import niqe


def median_seconds(fn, runs: int) -> float:
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--image")
    ap.add_argument("--runs", type=int, default=5)
    args = ap.parse_args()
    if args.image:
        img = read_image(args.image)
    else:
        rng = np.random.default_rng(0)
        img = cv2.GaussianBlur(rng.random((400, 600, 3)).astype(np.float32), (0, 0), 3) * 0.25
    img = cv2.resize(img, (600, 400), interpolation=cv2.INTER_AREA)
    print("| method (600x400) | median seconds |\n|---|---|")
    for name, fn in BASELINES.items():
        print(f"| {name} | {median_seconds(lambda: fn(img), args.runs):.3f} |")
    print(f"| lime (fast solver) | {median_seconds(lambda: lime(img, solver='fast'), args.runs):.3f} |")
    print(f"| NIQE | {median_seconds(lambda: niqe(img), args.runs):.3f} |")


if __name__ == "__main__":
    main()
