"""Does the synthesiser make dark frames like a real camera's? Real dark frames against synthetic ones
made from the *same* targets at the *same* brightness.

    python experiments/synth_vs_real.py --pairs data/sice_train [--set full_well=300,100000 ...]

For each real pair (dark frame, target) from `minelight pairs`, a synthetic dark frame is made from the
target with `degrade.degrade` (the `--set` overrides of `DegradeConfig` applied; lamps and haze off, the
exposure set so that the mean linear luma matches the real frame's). Both dark frames are measured:

* noise: Immerkaer's estimate of the luma noise std (8-bit units; texture adds to it equally in both);
* cast: the spread (std over R, G, B) of the per-channel mean ratio dark / target, normalised to mean 1;
* saturation: mean HSV saturation of the dark frame over that of the target (pixels with V > 0.05);
* tone slope: slope of log(dark luma) against log(target luma) over mid-tone pixels (1 = the same curve);
* crushed: share of pixels at <= 1/255 in the dark frame where the target is above 0.05.

Medians per brightness bin of the real frame's mean luma are printed as a markdown table.
"""

from __future__ import annotations

import argparse
import dataclasses

import numpy as np
from scipy.signal import convolve2d

from minelight.train.config import apply_overrides
from minelight.data.datasets import load_pairs, luma
from minelight.data.degrade import DegradeConfig, degrade, srgb_to_linear

BINS = ((0.0, 0.05), (0.05, 0.12), (0.12, 0.25))
LAPLACE_PAIR = np.array([[1, -2, 1], [-2, 4, -2], [1, -2, 1]], np.float64)


def noise_std(img: np.ndarray) -> float:
    """Immerkaer's fast noise estimate of an (H, W, 3) image's luma, in 8-bit units."""
    y = luma(img).astype(np.float64) * 255.0
    h, w = y.shape
    total = np.abs(convolve2d(y, LAPLACE_PAIR, mode="valid")).sum()
    return float(np.sqrt(np.pi / 2) * total / (6.0 * (w - 2) * (h - 2)))


def frame_stats(dark: np.ndarray, target: np.ndarray) -> dict[str, float]:
    """The statistics above for one dark frame against its target (both (H, W, 3) in [0, 1])."""
    ratio = dark.reshape(-1, 3).mean(0) / np.maximum(target.reshape(-1, 3).mean(0), 1e-6)
    ratio = ratio / ratio.mean()

    def saturation(img):
        v = img.max(axis=2)
        s = (v - img.min(axis=2)) / np.maximum(v, 1e-6)
        return float(s[v > 0.05].mean()) if (v > 0.05).any() else float("nan")

    yd, yt = luma(dark), luma(target)
    mid = (yt > 0.05) & (yt < 0.9) & (yd > 2 / 255)
    slope = float(np.polyfit(np.log(yt[mid]), np.log(yd[mid]), 1)[0]) if mid.sum() > 100 else float("nan")
    lit = yt > 0.05
    return {"mean": float(yd.mean()), "noise": noise_std(dark), "cast": float(ratio.std()),
            "saturation": saturation(dark) / saturation(target), "slope": slope,
            "crushed": float((yd[lit] <= 1 / 255).mean()) if lit.any() else float("nan")}


def synthetic_like(dark: np.ndarray, target: np.ndarray, cfg: DegradeConfig, seed: int) -> np.ndarray:
    """A synthetic dark frame from ``target`` whose mean linear luma matches ``dark``'s (the exposure is
    set from the linear means, then corrected once by the ratio the tone curve left)."""
    want = float(srgb_to_linear(luma(dark)).mean())
    exposure = want / max(float(srgb_to_linear(luma(target)).mean()), 1e-6)
    for _ in range(2):
        matched = dataclasses.replace(cfg, exposure=(exposure, exposure), lamp_prob=0.0, haze_prob=0.0)
        out = degrade(target, np.random.default_rng(seed), matched)
        exposure *= want / max(float(srgb_to_linear(luma(out)).mean()), 1e-6)
    return out


def table(rows: dict[str, list[dict[str, float]]]) -> str:
    keys = ("noise", "cast", "saturation", "slope", "crushed")
    lines = ["| frames | real mean luma | n | " + " | ".join(keys) + " |", "|---|---|---|" + "---|" * len(keys)]
    for name, stats in rows.items():
        for lo, hi in BINS:
            sel = [s for s in stats if lo <= s["bin_mean"] < hi]
            if sel:
                cells = [f"{np.nanmedian([s[k] for s in sel]):.3f}" for k in keys]
                lines.append(f"| {name} | {lo:.2f}-{hi:.2f} | {len(sel)} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--pairs", required=True, help="LOL-layout real pairs (e.g. data/sice_train)")
    ap.add_argument("--set", action="append", default=[], help="DegradeConfig override (repeatable)")
    ap.add_argument("--limit", type=int, default=0, help="first N pairs only (0: all)")
    args = ap.parse_args()
    cfg = apply_overrides(DegradeConfig(), args.set)
    rows: dict[str, list[dict[str, float]]] = {"real": [], "synthetic": []}
    for i, (_, dark, target) in enumerate(load_pairs(args.pairs, args.limit)):
        real = frame_stats(dark, target)
        synth = frame_stats(synthetic_like(dark, target, cfg, seed=i), target)
        rows["real"].append({**real, "bin_mean": real["mean"]})
        rows["synthetic"].append({**synth, "bin_mean": real["mean"]})
    print(f"DegradeConfig overrides: {args.set or 'none (defaults)'}\n")
    print(table(rows))


if __name__ == "__main__":
    main()
