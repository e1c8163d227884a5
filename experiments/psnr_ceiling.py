"""How much of the synthetic-pair PSNR is decided by one global tone curve per image?

    python experiments/psnr_ceiling.py --pairs data/synth_val --normal ../shared/data/BSDS500/train \
        --out report/psnr_ceiling.md

Rows (mean PSNR in dB over the pairs, 8-bit outputs):

* *oracle global curve on the input*: per image, the best ``a_c * low_c ** g + b_c`` (one exponent ``g``
  from a grid, least-squares ``a_c, b_c`` per colour channel) fitted **to the ground truth**. No method
  that only applies one global curve can beat it; it keeps all the noise, lamps and haze of the input.
* *blind global curve*: grey-world white balance in linear light and one gain that brings the mean
  sRGB brightness to ``--target`` (default: the mean of the well-exposed ``--normal`` training images),
  without looking at the ground truth: what guessing the brightness from a fixed prior gives.
* each ``--method`` as it is, with the GT-mean rescaling (output x mean(gt) / mean(output)), and with
  the per-channel affine fit to the ground truth (its tone and colour corrected by an oracle).

The gap between the oracle and the blind curve is the price of not knowing the scene's brightness:
the synthesiser darkens by a random exposure over a 30x range (``DegradeConfig.exposure``).
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

from minelight.data.datasets import is_well_exposed, load_pairs
from minelight.data.degrade import linear_to_srgb, srgb_to_linear
from minelight.enhance.enhancer import Enhancer
from minelight.io import list_images, quantise8, read_image
from minelight.metrics.registry import METRICS

GAMMAS = np.linspace(0.2, 1.2, 21)


psnr, psnr_gt_mean = METRICS["psnr"].fn, METRICS["psnr_gtmean"].fn  # (output, ground truth) -> dB


def affine_fit(x: np.ndarray, target: np.ndarray) -> np.ndarray:
    """Per-channel least-squares ``a_c * x_c + b_c`` closest to ``target`` ``(H, W, 3)``, clipped to [0, 1]."""
    out = np.empty_like(x)
    for c in range(3):
        design = np.stack([x[..., c].ravel(), np.ones(x[..., c].size)], axis=1)
        (a, b), *_ = np.linalg.lstsq(design, target[..., c].ravel(), rcond=None)
        out[..., c] = np.clip(a * x[..., c] + b, 0.0, 1.0)
    return out


def oracle_curve(low: np.ndarray, high: np.ndarray) -> float:
    return max(psnr(affine_fit(low ** g, high), high) for g in GAMMAS)


def blind_curve(low: np.ndarray, target: float) -> np.ndarray:
    """Grey world in linear light, then the gain (bisection) giving mean sRGB brightness ``target``."""
    lin = srgb_to_linear(low)
    means = lin.reshape(-1, 3).mean(axis=0)
    lin = lin * (means.mean() / np.maximum(means, 1e-6))
    lo, hi = 0.1, 1000.0
    for _ in range(50):
        gain = np.sqrt(lo * hi)
        lo, hi = (gain, hi) if linear_to_srgb(lin * gain).mean() < target else (lo, gain)
    return linear_to_srgb(lin * np.sqrt(lo * hi))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--pairs", type=Path, required=True)
    ap.add_argument("--normal", type=Path, help="well-lit training images: their mean brightness is the target")
    ap.add_argument("--target", type=float, help="mean sRGB brightness for the blind curve (overrides --normal)")
    ap.add_argument("--methods", default="student,fast")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--out", type=Path, help="also write the Markdown table here")
    args = ap.parse_args()
    if args.target is None:
        if args.normal is None:
            raise SystemExit("give --normal or --target")
        normal = [img for img in map(read_image, list_images(args.normal)) if is_well_exposed(img)]
        args.target = float(np.mean([img.mean() for img in normal]))
    pairs = load_pairs(args.pairs)
    rows = [("input as it is", np.mean([psnr(low, high) for _, low, high in pairs])),
            ("oracle global curve on the input (fitted to the ground truth)",
             np.mean([oracle_curve(low, high) for _, low, high in pairs])),
            (f"blind global curve (grey world, mean brightness {args.target:.3f})",
             np.mean([psnr(blind_curve(low, args.target), high) for _, low, high in pairs]))]
    for method in args.methods.split(","):
        enhancer = Enhancer(method, threads=args.threads)
        outs = [(quantise8(enhancer.enhance_array(low)), high) for _, low, high in pairs]
        rows += [(f"{method}", np.mean([psnr(o, h) for o, h in outs])),
                 (f"{method}, GT-mean rescaled", np.mean([psnr_gt_mean(o, h) for o, h in outs])),
                 (f"{method}, per-channel affine fitted to the ground truth",
                  np.mean([psnr(affine_fit(o, h), h) for o, h in outs]))]
    table = "\n".join([f"{len(pairs)} pairs from {args.pairs}; 8-bit outputs.", "",
                       "| processing | PSNR dB |", "|---|---|"] + [f"| {name} | {value:.2f} |" for name, value in rows])
    print(table)
    if args.out:
        args.out.write_text(table + "\n")


if __name__ == "__main__":
    main()
