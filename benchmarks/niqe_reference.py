"""Our NIQE against the reference values of an established implementation, on every listed image.

    python benchmarks/niqe_reference.py --shared ../shared/data

Prints the largest and mean absolute difference, the images off by more than the tolerance, and the
median time per image.
"""

from __future__ import annotations

import argparse
import csv
import statistics
import time
from pathlib import Path

from minelight.io import read_image
from minelight.metrics.niqe import niqe


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--shared", type=Path, default=Path("../shared/data"))
    parser.add_argument("--tolerance", type=float, default=0.02)
    args = parser.parse_args()
    with (args.shared / "niqe" / "reference_values.csv").open() as f:
        reference = {r["image"]: float(r["niqe"]) for r in csv.DictReader(f)}
    errors, seconds = {}, []
    for name, value in reference.items():
        img = read_image(args.shared / "unpaired" / name)
        t0 = time.perf_counter()
        errors[name] = abs(niqe(img) - value)
        seconds.append(time.perf_counter() - t0)
    worst = max(errors, key=errors.get)
    off = [f"{n} ({e:.3f})" for n, e in errors.items() if e > args.tolerance]
    print(f"images: {len(errors)}")
    print(f"max |ours - reference|: {errors[worst]:.4f} ({worst})")
    print(f"mean |ours - reference|: {statistics.mean(errors.values()):.5f}")
    print(f"over {args.tolerance}: {', '.join(off) or 'none'}")
    print(f"median time per image: {statistics.median(seconds):.3f} s")


if __name__ == "__main__":
    main()
