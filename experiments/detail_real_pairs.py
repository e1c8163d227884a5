"""Choose the detail restoration for Net-S -- off, or one setting of ``minelight.enhance.detail.DetailConfig`` -- on
real validation pairs (rule in ``docs/notes/detail_tuning.md``, "On real validation pairs").

    python experiments/detail_real_pairs.py --pairs data/sice_val data/sice_val_noisy --threads 1

Net-S runs once per image; each candidate then restores detail (or not), the halo guard follows at
``--halo`` (default: Net-S's strength, as ``minelight enhance`` writes; the tables of 2026-12-02
were made with 0.25, the strength then), and the output is quantised to 8 bits. PSNR and SSIM on
RGB without GT-mean against the targets, NIQE of the outputs of the first folder (real dark frames).

Rule: the candidate with the highest PSNR (mean over the folders) is the top; every candidate whose PSNR is
at most 0.03 dB and whose SSIM is at most 0.002 below the top's is near it; of those, the lowest NIQE wins.
"""

from __future__ import annotations

import argparse
import itertools
import time
from pathlib import Path

import numpy as np

from minelight.data.datasets import load_pairs
from minelight.enhance.detail import DetailConfig, restore_detail
from minelight.enhance.enhancer import Enhancer
from minelight.enhance.halo import STUDENT_HALO, reduce_halos
from minelight.io import quantise8
from minelight.metrics.registry import METRICS

SIGMAS = (1.5, 2.5)
NOISE_LEVELS = ((0.0025, 0.0225), (0.0025, 0.0125), (0.001, 0.006), (0.0005, 0.003))  # (noise_low, noise_high)
MAX_PSNR_LOSS, MAX_SSIM_LOSS = 0.03, 0.002


def candidates() -> dict[str, DetailConfig | None]:
    """``{label: config}``: "off" (None) and the grid ``SIGMAS`` x ``NOISE_LEVELS``."""
    grid = {f"sigma {s}, noise {lo}-{hi}": DetailConfig(sigma=s, noise_low=lo, noise_high=hi)
            for s, (lo, hi) in itertools.product(SIGMAS, NOISE_LEVELS)}
    return {"off": None} | grid


def pick(rows: dict[str, dict[str, float]]) -> str:
    """The label the rule chooses; ``rows``: ``{label: {"psnr", "ssim", "niqe"}}``."""
    top = max(rows.values(), key=lambda r: r["psnr"])
    near = [k for k, r in rows.items()
            if r["psnr"] >= top["psnr"] - MAX_PSNR_LOSS and r["ssim"] >= top["ssim"] - MAX_SSIM_LOSS]
    return min(near, key=lambda k: rows[k]["niqe"])


def score_folder(student: Enhancer, folder: str, configs: dict[str, DetailConfig | None], niqe: bool,
                 halo: float = STUDENT_HALO) -> dict[str, dict[str, float]]:
    """``{label: {"psnr", "ssim"[, "niqe"]}}``, means over the pairs of ``folder``."""
    values = {k: {"psnr": [], "ssim": [], "niqe": []} for k in configs}
    for _, low, high in load_pairs(folder):
        net = student.enhance_array(low)
        for label, cfg in configs.items():
            out = net if cfg is None else restore_detail(low, net, cfg)
            out = quantise8(reduce_halos(low, out, halo))
            values[label]["psnr"].append(METRICS["psnr"].fn(out, high))
            values[label]["ssim"].append(METRICS["ssim"].fn(out, high))
            if niqe:
                values[label]["niqe"].append(METRICS["niqe"].fn(out, None))
    return {k: {m: float(np.mean(v)) for m, v in r.items() if v} for k, r in values.items()}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--pairs", nargs="+", required=True, help="LOL-layout folders; NIQE on the first")
    ap.add_argument("--weights", help="Net-S weights (default: the shipped ones)")
    ap.add_argument("--halo", type=float, default=STUDENT_HALO, help="halo guard strength after each candidate")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--out", type=Path, help="also write the Markdown table here")
    args = ap.parse_args()
    start = time.perf_counter()
    student = Enhancer("student", args.weights, threads=args.threads, backend="torch")
    configs = candidates()
    per_folder = [score_folder(student, folder, configs, niqe=i == 0, halo=args.halo)
                  for i, folder in enumerate(args.pairs)]
    rows = {k: {"psnr": float(np.mean([f[k]["psnr"] for f in per_folder])),
                "ssim": float(np.mean([f[k]["ssim"] for f in per_folder])),
                "niqe": per_folder[0][k]["niqe"]} for k in configs}
    heads = " | ".join(f"{Path(f).name} PSNR / SSIM" for f in args.pairs)
    lines = [f"| detail | {heads} | mean PSNR | mean SSIM | NIQE, {Path(args.pairs[0]).name} |",
             "|---" * (len(args.pairs) + 4) + "|"]
    for k, r in rows.items():
        cells = " | ".join(f"{f[k]['psnr']:.2f} / {f[k]['ssim']:.4f}" for f in per_folder)
        lines.append(f"| {k} | {cells} | {r['psnr']:.3f} | {r['ssim']:.4f} | {r['niqe']:.3f} |")
    verdict = f"The rule picks: {pick(rows)} ({time.perf_counter() - start:.0f} s; Net-S {args.weights or 'shipped'})."
    table = "\n".join(lines)
    print(f"{table}\n\n{verdict}")
    if args.out:
        args.out.write_text(f"{table}\n\n{verdict}\n")


if __name__ == "__main__":
    main()
