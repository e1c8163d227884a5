"""Choose the fast model's ``low_side`` (longest side of its low-resolution stream) on a tuning set that
is not an evaluation set: dark SICE crops for NIQE, and synthetic pairs made from well-exposed SICE crops
for PSNR. The fast model was trained on BSDS500 ``train`` only, so it has seen none of these images;
DICM, LIME and the BSDS500 ``val`` pairs (what we report on) are not read.

    python experiments/fast_low_side.py --sice ../shared/data/train_unpaired/SICE_part1 \
        --sides 96,128,160,192,256 --out report/fast_low_side.md
    python experiments/fast_low_side.py --sice ../shared/data/train_unpaired/SICE_part1 --sides "" \
        --student --student-weights runs/student_ft/model.safetensors     # compare Net-S weights

(Net-S was trained on the well-exposed SICE crops as targets, so for Net-S the pairs are not held out.)

SICE files ``--files`` only (default: the validation split, 1401-1600; a range that reaches the test split,
1601-2002, is refused; the tables in ``docs/`` from before
2026-12-02 were made from all 2002 files, test split included, every 8th). Dark images: mean luma < 0.2,
every ``--stride``-th in name order. Pairs: well-exposed crops
(``data.is_well_exposed``), every ``--stride``-th, degraded with the default synthesiser, seed
``(--seed, i)``. Outputs are quantised to 8 bits before scoring; no temporal smoothing (still images).
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np

from minelight.data.datasets import is_well_exposed, luma
from minelight.data.degrade import degrade
from minelight.enhance.enhancer import Enhancer
from minelight.io import list_images, quantise8, read_image, to_tensor
from minelight.metrics.full_reference import psnr, ssim
from minelight.metrics.niqe import niqe
from minelight.data.pairs import file_number
from minelight.data.splits import tuning_files


def tuning_sets(folder: Path, stride: int, seed: int,
                files: tuple[int, int]) -> tuple[list[np.ndarray], list[tuple[np.ndarray, np.ndarray]]]:
    """(dark images, [(low, high)] synthetic pairs) from the numbered files ``files`` (first, last) of a
    folder of mixed-exposure images."""
    dark, bright = [], []
    numbered = [p for p in list_images(folder) if (n := file_number(p)) is not None and files[0] <= n <= files[1]]
    if not numbered:
        raise SystemExit(f"{folder}: no numbered images in files {files[0]}-{files[1]}")
    for path in numbered:
        img = read_image(path)
        if float(luma(img).mean()) < 0.2:
            dark.append(img)
        elif is_well_exposed(img):
            bright.append(img)
    pairs = [(degrade(high, np.random.default_rng([seed, i])), high) for i, high in enumerate(bright[::stride])]
    return dark[::stride], pairs


def tuning_metrics(dark_outs: list[np.ndarray], pair_outs: list[tuple[np.ndarray, np.ndarray]]) -> dict:
    """Mean NIQE of the outputs for the dark images and mean PSNR/SSIM of ``[(output, target)]``; outputs
    are quantised to 8 bits first."""
    finals = [(to_tensor(quantise8(o)), to_tensor(h)) for o, h in pair_outs]
    return {"niqe": float(np.mean([niqe(quantise8(o)) for o in dark_outs])),
            "psnr": float(np.mean([psnr(o, h) for o, h in finals])),
            "ssim": float(np.mean([float(ssim(o, h)) for o, h in finals]))}


def score(enhancer: Enhancer, dark: list[np.ndarray], pairs: list[tuple[np.ndarray, np.ndarray]]) -> dict:
    start = time.perf_counter()
    result = tuning_metrics([enhancer.enhance_array(img) for img in dark],
                            [(enhancer.enhance_array(low), high) for low, high in pairs])
    return {**result, "seconds": time.perf_counter() - start}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sice", type=Path, required=True, help="folder of mixed-exposure images (SICE Part 1)")
    ap.add_argument("--sides", default="96,128,160,192,256")
    ap.add_argument("--files", default="val", help="SICE files to draw from: a split name or FIRST-LAST "
                    "(default val, 1401-1600; never the test split)")
    ap.add_argument("--stride", type=int, default=2)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--student", action="store_true", help="also score Net-S (the reference of the NIQE target)")
    ap.add_argument("--student-weights", type=Path, action="append", default=[],
                    help="also score these Net-S weights (repeatable), e.g. to compare a fine-tuned Net-S")
    ap.add_argument("--out", type=Path, help="also write the Markdown table here")
    args = ap.parse_args()
    dark, pairs = tuning_sets(args.sice, args.stride, args.seed, tuning_files(args.files))
    print(f"{len(dark)} dark images, {len(pairs)} synthetic pairs", flush=True)
    lines = ["| model | low_side | NIQE, dark SICE | PSNR dB, SICE pairs | SSIM |", "|---|---|---|---|---|"]
    enhancer = Enhancer("fast", threads=args.threads)
    for side in (int(s) for s in args.sides.split(",") if s):
        enhancer.model.config.low_side = side
        r = score(enhancer, dark, pairs)
        lines.append(f"| fast | {side} | {r['niqe']:.3f} | {r['psnr']:.2f} | {r['ssim']:.3f} |")
        print(lines[-1], f"({r['seconds']:.0f} s)", flush=True)
    if args.student:
        r = score(Enhancer("student", threads=args.threads), dark, pairs)
        lines.append(f"| Net-S | – | {r['niqe']:.3f} | {r['psnr']:.2f} | {r['ssim']:.3f} |")
        print(lines[-1], flush=True)
    for path in args.student_weights:
        r = score(Enhancer("student", path, threads=args.threads), dark, pairs)
        lines.append(f"| Net-S `{path}` | – | {r['niqe']:.3f} | {r['psnr']:.2f} | {r['ssim']:.3f} |")
        print(lines[-1], flush=True)
    table = "\n".join(lines)
    print("\n" + table)
    if args.out:
        args.out.write_text(f"Tuning set: SICE Part 1 files {args.files}: {len(dark)} dark crops (mean luma < 0.2, "
                            f"every {args.stride}th), {len(pairs)} synthetic pairs from well-exposed crops (every "
                            f"{args.stride}th, seed {args.seed}).\n\n" + table + "\n")


if __name__ == "__main__":
    main()
