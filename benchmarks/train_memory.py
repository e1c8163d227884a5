"""Peak resident memory (RSS) of ``minelight train student`` with the default config.

    python benchmarks/train_memory.py --teacher src/minelight/weights/teacher.safetensors \
        --data ../shared/data/BSDS500/train --data ../shared/data/train_unpaired/SICE_part1 --steps 30

Runs the real command in a child process for a few steps (data loading included: every training image
is held in memory) and reads the child's peak RSS from ``getrusage``.
"""

from __future__ import annotations

import argparse
import resource
import subprocess
import sys
import tempfile
import time


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--teacher", required=True)
    ap.add_argument("--data", action="append", required=True)
    ap.add_argument("--steps", type=int, default=30)
    ap.add_argument("--threads", type=int, default=2)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as out:
        cmd = [sys.executable, "-m", "minelight", "train", "student", "--teacher", args.teacher,
               "--out", out, "--steps", str(args.steps), "--threads", str(args.threads), "--quiet"]
        for d in args.data:
            cmd += ["--data", d]
        t0 = time.perf_counter()
        subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)
        seconds = time.perf_counter() - t0
    peak_kib = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss  # KiB on Linux
    print(f"train student, default config, {args.steps} steps: peak RSS {peak_kib / 2**20:.2f} GiB "
          f"({seconds:.0f} s wall, data loading included)")


if __name__ == "__main__":
    main()
