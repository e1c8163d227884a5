"""Peak resident memory (max RSS) of ``minelight train student``, on training files only.

    minelight pairs data/SICE_part1 --files train -o data/sice_train   # once
    # the paired run of the shipped Net-S (its model card's command, 12 steps): the 3.46 GiB figure
    python benchmarks/train_memory.py --teacher src/minelight/weights/teacher.safetensors \
        --paired data/sice_train --data data/BSDS500/train --steps 12 --threads 2 \
        --init src/minelight/weights/student.safetensors --set paired_share=0.5 --set warmup=50 \
        --set val_images=0 --set degrade.tone=1.0,1.8 --set degrade.blur=0,0.8 \
        --set degrade.full_well=300,100000 --set degrade.read_noise=0.0001,0.005 \
        --set crop=320 --set batch_size=2 --set paired_crop=512 --set paired_batch_size=1
    # synthetic pairs only, the default config, from BSDS500 and the SICE *training* files (1-1400)
    python benchmarks/train_memory.py --teacher src/minelight/weights/teacher.safetensors \
        --data data/BSDS500/train --sice data/SICE_part1 --steps 30

Runs the real command in a child process for a few steps (data loading included: every training image
is held in memory) and reads the child's peak RSS from ``getrusage`` (``ru_maxrss``, as ``/usr/bin/time``
reports it). ``--sice`` reads a numbered folder through links to its ``--files`` only (default ``train``;
a range that reaches the test split, 1601-2002, is refused): never pass the whole SICE folder as ``--data``.
"""

from __future__ import annotations

import argparse
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from minelight.data.pairs import file_number
from minelight.data.splits import tuning_files
from minelight.io import list_images


def link_files(folder: Path, files: tuple[int, int], into: Path) -> int:
    """Symbolic links in ``into`` to the images of ``folder`` numbered ``files`` (first, last); their count."""
    into.mkdir(parents=True, exist_ok=True)
    count = 0
    for path in list_images(folder):
        n = file_number(path)
        if n is not None and files[0] <= n <= files[1]:
            os.symlink(path.resolve(), into / path.name)
            count += 1
    return count


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--teacher", required=True)
    ap.add_argument("--data", action="append", default=[], help="normal-light images (synthetic pairs); repeatable")
    ap.add_argument("--paired", action="append", default=[], help="LOL-layout real pairs, e.g. data/sice_train; "
                    "repeatable")
    ap.add_argument("--sice", type=Path, help="a numbered folder (SICE Part 1) read as --data, files --files only")
    ap.add_argument("--files", default="train", help="--sice files: a split name or FIRST-LAST (default train)")
    ap.add_argument("--init", help="start from these weights, as the shipped Net-S's runs did")
    ap.add_argument("--set", action="append", default=[], help="config override key=value (repeatable)")
    ap.add_argument("--steps", type=int, default=30)
    ap.add_argument("--threads", type=int, default=2)
    args = ap.parse_args()
    if not (args.data or args.paired or args.sice):
        ap.error("give --data, --paired or --sice")
    with tempfile.TemporaryDirectory() as tmp:
        data = list(args.data)
        if args.sice:
            try:
                files = tuning_files(args.files)
            except ValueError as err:
                ap.error(str(err))
            linked = Path(tmp) / "sice"
            if not link_files(args.sice, files, linked):
                raise SystemExit(f"{args.sice}: no numbered images in files {files[0]}-{files[1]}")
            data.append(str(linked))
        cmd = [sys.executable, "-m", "minelight", "train", "student", "--teacher", args.teacher,
               "--out", str(Path(tmp) / "run"), "--steps", str(args.steps), "--threads", str(args.threads), "--quiet"]
        cmd += [x for d in data for x in ("--data", d)] + [x for p in args.paired for x in ("--paired", p)]
        cmd += (["--init", args.init] if args.init else []) + [x for s in args.set for x in ("--set", s)]
        t0 = time.perf_counter()
        subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)
        seconds = time.perf_counter() - t0
    peak_kib = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss  # KiB on Linux
    what = " + ".join(filter(None, ["real pairs" if args.paired else "", "synthetic pairs" if data else ""]))
    print(f"train student ({what}), {args.steps} steps: peak RSS {peak_kib / 2**20:.2f} GiB "
          f"({seconds:.0f} s wall, data loading included)")


if __name__ == "__main__":
    main()
