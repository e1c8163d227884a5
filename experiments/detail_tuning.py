"""Choose the detail restoration's settings (``minelight.enhance.detail.DetailConfig``) for Net-S on the tuning set
of ``fast_low_side.py`` (dark SICE Part 1 crops for NIQE, synthetic pairs from well-exposed SICE crops for
PSNR/SSIM); DICM, LIME and the BSDS500 ``val`` pairs (what we report on) are not read.

    python experiments/detail_tuning.py --sice ../shared/data/train_unpaired/SICE_part1 --out report/detail_tuning.md
    python experiments/detail_tuning.py --sice ../shared/data/train_unpaired/SICE_part1 --sigmas "" \
        --weights runs/student_ft/model.safetensors     # other Net-S weights, default settings only

Rule, fixed before the first run: among the grid (``sigma`` x ``noise_low`` x width ``noise_high -
noise_low``), keep the settings whose pair SSIM is at most 0.005 below plain Net-S's and whose pair PSNR is
at most 0.05 dB below it (restored noise shows in SSIM first); of those, the lowest NIQE on the dark
crops wins. Net-S runs once per image; outputs are quantised to 8 bits before scoring.
"""

from __future__ import annotations

import argparse
import itertools
import time
from pathlib import Path

import numpy as np
import torch

from fast_low_side import tuning_metrics, tuning_sets
from minelight.enhance.detail import DetailConfig, restore_detail
from minelight.enhance.enhancer import Enhancer
from minelight.data.splits import tuning_files


def scores(dark: list[tuple[np.ndarray, np.ndarray]], pairs: list[tuple[np.ndarray, np.ndarray, np.ndarray]],
           cfg: DetailConfig | None) -> dict[str, float]:
    """Mean NIQE over ``[(input, Net-S output)]`` and PSNR/SSIM over ``[(input, Net-S output, target)]``,
    after detail restoration with ``cfg`` (``None``: plain Net-S)."""
    def final(low: np.ndarray, out: np.ndarray) -> np.ndarray:
        return out if cfg is None else restore_detail(low, out, cfg)

    return tuning_metrics([final(low, out) for low, out in dark], [(final(low, out), high) for low, out, high in pairs])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sice", type=Path, required=True, help="folder of mixed-exposure images (SICE Part 1)")
    ap.add_argument("--weights", type=Path, help="Net-S weights (default: the shipped ones)")
    ap.add_argument("--sigmas", default="1.5,2.5", help='"" for the default settings only')
    ap.add_argument("--lows", default="0.0025,0.005,0.01")
    ap.add_argument("--widths", default="0.01,0.02")
    ap.add_argument("--gain-eps", type=float, default=DetailConfig().gain_eps)
    ap.add_argument("--files", default="val", help="SICE files: a split name or FIRST-LAST (default val; "
                    "never the test split)")
    ap.add_argument("--stride", type=int, default=2)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--out", type=Path, help="also write the Markdown table here")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    start = time.perf_counter()
    dark_imgs, pair_imgs = tuning_sets(args.sice, args.stride, args.seed, tuning_files(args.files))
    student = Enhancer("student", args.weights, threads=args.threads, backend="auto")
    dark = [(img, student.enhance_array(img)) for img in dark_imgs]
    pairs = [(low, student.enhance_array(low), high) for low, high in pair_imgs]
    print(f"Net-S weights: {args.weights or 'shipped'}")
    print(f"{len(dark)} dark images, {len(pairs)} synthetic pairs ({time.perf_counter() - start:.0f} s)", flush=True)
    base = scores(dark, pairs, None)
    lines = ["| sigma px | noise_low | noise_high | NIQE, dark SICE | PSNR dB, SICE pairs | SSIM | within the rule |",
             "|---|---|---|---|---|---|---|",
             f"| Net-S alone | | | {base['niqe']:.3f} | {base['psnr']:.2f} | {base['ssim']:.4f} | |"]
    print(lines[-1], flush=True)
    best = None
    if args.sigmas:
        grid = itertools.product(*(map(float, s.split(",")) for s in (args.sigmas, args.lows, args.widths)))
    else:
        default = DetailConfig()
        grid = [(default.sigma, default.noise_low, default.noise_high - default.noise_low)]
    for sigma, low, width in grid:
        cfg = DetailConfig(sigma=sigma, gain_eps=args.gain_eps, noise_low=low, noise_high=low + width)
        r = scores(dark, pairs, cfg)
        ok = r["ssim"] >= base["ssim"] - 0.005 and r["psnr"] >= base["psnr"] - 0.05
        if ok and (best is None or r["niqe"] < best[1]["niqe"]):
            best = (cfg, r)
        lines.append(f"| {sigma} | {low} | {low + width:.4g} | {r['niqe']:.3f} | {r['psnr']:.2f} | {r['ssim']:.4f} "
                     f"| {'yes' if ok else 'no'} |")
        print(lines[-1], flush=True)
    verdict = ("default settings only (no choice made)" if not args.sigmas else
               "no setting is within the rule" if best is None else
               f"chosen: sigma {best[0].sigma}, noise_low {best[0].noise_low}, noise_high {best[0].noise_high:.4g} "
               f"(NIQE {best[1]['niqe']:.3f} vs {base['niqe']:.3f} for Net-S alone)")
    table = "\n".join(lines)
    print(f"\n{table}\n\n{verdict} ({time.perf_counter() - start:.0f} s)")
    if args.out:
        args.out.write_text(f"Tuning set: SICE Part 1 files {args.files}: {len(dark)} dark crops (mean luma < 0.2, "
                            f"every {args.stride}th), "
                            f"{len(pairs)} synthetic pairs from well-exposed crops (every {args.stride}th, seed "
                            f"{args.seed}). gain_eps {args.gain_eps:.4g}. Rule: see `experiments/detail_tuning.py`."
                            f"\n\n{table}\n\n{verdict}.\n")


if __name__ == "__main__":
    main()
