"""The colour-noise step's radius and eps on real validation pairs: a method's output as `minelight enhance`
writes it before the step (Net-S + its guard; the fast model with its folded guard), then each candidate of
`minelight.chroma.reduce_colour_noise`, quantised to 8 bits; PSNR / SSIM on RGB without GT-mean, mean over
the pairs of each set, and the mean NIQE of the first set's outputs (`--niqe`).

    python benchmarks/colour_noise.py --method student --pairs data/sice_val data/sice_val_noisy --niqe

The rule that reads these numbers is in docs/colour_noise.md.
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from minelight.chroma import CHROMA_EPS, reduce_colour_noise
from minelight.data import load_pairs
from minelight.enhance import Enhancer
from minelight.halo import strength_for
from minelight.io import quantise8
from minelight.metrics.registry import METRICS

CANDIDATES = ((0, CHROMA_EPS), (2, 1e-2), (4, 1e-2), (8, 1e-2), (4, 1e-3), (8, 1e-3))  # (radius px, eps luma^2)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--pairs", nargs="+", required=True, help="LOL-layout folders (validation pairs)")
    ap.add_argument("--method", default="student", help="student or fast")
    ap.add_argument("--weights", default=None, help="safetensors weights (default: the shipped ones)")
    ap.add_argument("--niqe", action="store_true", help="also the mean NIQE of the first set's outputs")
    ap.add_argument("--threads", type=int, default=0)
    args = ap.parse_args()
    enhancer = Enhancer(args.method, args.weights, threads=args.threads, halo=strength_for(args.method, None))
    rows = {c: [] for c in CANDIDATES}
    niqe = {c: [] for c in CANDIDATES}
    start = time.perf_counter()
    for index, folder in enumerate(args.pairs):
        scores = {c: ([], []) for c in CANDIDATES}
        for _, low, high in load_pairs(folder):
            out = enhancer.enhance_array(low)
            for radius, eps in CANDIDATES:
                final = quantise8(reduce_colour_noise(out, radius, eps))
                scores[radius, eps][0].append(METRICS["psnr"].fn(final, high))
                scores[radius, eps][1].append(METRICS["ssim"].fn(final, high))
                if args.niqe and index == 0:
                    niqe[radius, eps].append(METRICS["niqe"].fn(final, None))
        for c in CANDIDATES:
            rows[c].append((float(np.mean(scores[c][0])), float(np.mean(scores[c][1]))))
    print(f"{args.method}, {', '.join(args.pairs)}; {time.perf_counter() - start:.0f} s\n")
    sets = " | ".join(f"{folder} PSNR / SSIM" for folder in args.pairs)
    print(f"| radius, eps | {sets} | mean PSNR | mean SSIM |" + (" NIQE, first set |" if args.niqe else ""))
    print("|---" * (3 + len(args.pairs) + bool(args.niqe)) + "|")
    for (radius, eps), cells in rows.items():
        label = "off" if radius == 0 else f"{radius} px, {eps:g}"
        line = " | ".join(f"{p:.2f} / {s:.4f}" for p, s in cells)
        mean_p, mean_s = np.mean([p for p, _ in cells]), np.mean([s for _, s in cells])
        extra = f" {np.mean(niqe[radius, eps]):.3f} |" if args.niqe else ""
        print(f"| {label} | {line} | {mean_p:.3f} | {mean_s:.4f} |{extra}")


if __name__ == "__main__":
    main()
