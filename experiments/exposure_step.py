"""Does a per-image exposure step after Net-S help? Fitted on train pairs, scored on validation pairs.

    python experiments/exposure_step.py --train data/sice_train --val data/sice_val

The rule and the feature set were written before scoring (``docs/notes/real_pairs.md``). For every pair the
pipeline of `minelight enhance` (Net-S + its default detail step + halo guard) runs once; the step then sets
the brightness control (``out ** (1 / b)``) per image to ``b = exp(w . features)``, ``w`` fitted by least
squares on the train pairs to ``log b*``, where ``b*`` brings the output's mean to the target's.
Features (``minelight.enhance.exposure``): 1, log input mean, log input median, log input 95th percentile, log
output mean. Prints ``w`` and PSNR / SSIM (8-bit, no GT-mean) on the validation pairs with and without the
step; ``--write OUT`` saves the weights with ``w`` in their header, where ``minelight enhance`` reads it.
"""

from __future__ import annotations

import argparse

import numpy as np

from minelight.enhance.brightness import adjust_brightness
from minelight.data.datasets import load_pairs
from minelight.enhance.detail import detail_for
from minelight.enhance.enhancer import Enhancer, shipped_weights
from minelight.enhance.exposure import (exposure_brightness, exposure_features, fit_exposure, format_weights,
                                matching_brightness, store_coefficients)
from minelight.enhance.halo import STUDENT_HALO
from minelight.io import quantise8
from minelight.metrics.registry import METRICS


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--train", required=True)
    ap.add_argument("--val", required=True)
    ap.add_argument("--weights", help="Net-S weights (default: the shipped ones)")
    ap.add_argument("--threads", type=int, default=0)
    ap.add_argument("--write", help="save the weights with the fitted coefficients in their header to this path")
    args = ap.parse_args()
    enhancer = Enhancer("student", args.weights, threads=args.threads, backend="torch", detail=detail_for("student"),
                        halo=STUDENT_HALO)  # no exposure step: it is what is being fitted
    x, y = [], []
    for _, low, high in load_pairs(args.train):
        out = enhancer.enhance_array(low)
        x.append(exposure_features(low, out))
        y.append(np.log(matching_brightness(out, float(high.mean()))))
    w = fit_exposure(np.array(x), np.array(y))
    fitted = np.array(x) @ w
    print(f"{len(y)} train pairs; log b*: mean {np.mean(y):+.3f}, std {np.std(y):.3f}; "
          f"residual std after the fit {np.std(np.array(y) - fitted):.3f}")
    print("w =", np.array2string(w, precision=4))
    scores = {"without": {"psnr": [], "ssim": []}, "with": {"psnr": [], "ssim": []}}
    val_y, val_fit = [], []
    for _, low, high in load_pairs(args.val):
        out = enhancer.enhance_array(low)
        b = exposure_brightness(w, low, out)
        val_y.append(np.log(matching_brightness(out, float(high.mean()))))
        val_fit.append(np.log(b))
        for key, img in (("without", out), ("with", adjust_brightness(out, b))):
            img = quantise8(img)
            scores[key]["psnr"].append(METRICS["psnr"].fn(img, high))
            scores[key]["ssim"].append(METRICS["ssim"].fn(img, high))
    print(f"{len(val_y)} val pairs; log b*: mean {np.mean(val_y):+.3f}, std {np.std(val_y):.3f}; "
          f"residual std of the prediction {np.std(np.array(val_y) - np.array(val_fit)):.3f}")
    print("\n| on the validation pairs | PSNR dB | SSIM |\n|---|---|---|")
    for key, r in scores.items():
        print(f"| {key} the exposure step | {np.mean(r['psnr']):.2f} | {np.mean(r['ssim']):.3f} |")
    if args.write:
        store_coefficients(args.weights or shipped_weights("student"), args.write, w)
        print(f"wrote {args.write} with exposure = {format_weights(w)}")


if __name__ == "__main__":
    main()
