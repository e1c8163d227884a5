"""A grain (luma denoising) step for still images, on real validation pairs and their noisy copy: a method's
output as `minelight enhance` writes it for a still (Net-S + its guard, or the fast model with its folded
guard; then the colour-noise step and, for Net-S, the exposure step), with each candidate denoiser inserted
after the network and its guard (``post``) or applied to the dark input before the network (``pre``);
quantised to 8 bits; PSNR / SSIM on RGB without GT-mean, mean over the pairs of each set, and the mean NIQE of
the first set's outputs (`--niqe`).

    python experiments/still_denoising.py --method student --pairs data/sice_val data/sice_val_noisy --niqe
    python experiments/still_denoising.py --method student --calibrate data/sice_val data/sice_val_noisy
    python experiments/still_denoising.py --method student --cost data/sice_val_noisy

`--calibrate CLEAN NOISY` (two LOL folders whose dark frames differ only by added noise) prints, per set, the
noise std that `minelight.enhance.still_denoise.estimate_noise` finds in the input and in the output before the
step, and the true std of the noise the output carries (a robust std of the luma of the noisy output minus the
clean one), so the estimator and the floor can be checked before any candidate is scored.

The rule that reads these numbers is in docs/notes/still_denoising.md.
"""

from __future__ import annotations

import argparse
import time

import cv2
import numpy as np

from minelight.data.datasets import load_pairs
from minelight.enhance.chroma import reduce_colour_noise
from minelight.enhance.enhancer import Enhancer
from minelight.enhance.exposure import apply_exposure
from minelight.enhance.halo import reduce_halos
from minelight.enhance.still_denoise import NOISE_FLOOR, estimate_noise, guided_luma, luma, nlm_luma
from minelight.io import quantise8
from minelight.metrics.registry import METRICS

# (where, filter, strength): h (NLM, 8-bit levels) or the filter's own parameter = strength * (sigma - floor)
CANDIDATES = (("off", "", 0.0),
              *(("post", "nlm", k) for k in (1.0, 2.0, 3.0, 4.0, 6.0)),
              *(("post", "nlm11", k) for k in (2.0, 3.0, 4.0, 6.0)),
              *(("post", "guided", k) for k in (2.0, 4.0, 8.0)),
              *(("post", "bilateral", k) for k in (2.0, 4.0, 8.0)),
              *(("pre", "nlm", k) for k in (1.0, 2.0, 4.0)))


def label(candidate: tuple[str, str, float]) -> str:
    where, kind, k = candidate
    return "off" if where == "off" else f"{where} {kind} x{k:g}"


def filter_luma(y: np.ndarray, kind: str, amount: float) -> np.ndarray:
    """``y`` ``(H, W)`` float32 denoised by ``kind`` at ``amount`` = k * (sigma - floor) in [0, 1] units."""
    if kind in ("nlm", "nlm11"):  # search window 21 px (OpenCV's recommendation) or 11 px (about 3x cheaper)
        return nlm_luma(y, amount, 11 if kind == "nlm11" else 21)
    if kind == "guided":  # self-guided filter, radius 2, eps = amount^2 (He et al.)
        return guided_luma(y, amount)
    if kind == "bilateral":
        return cv2.bilateralFilter(y, 5, sigmaColor=float(2 * amount), sigmaSpace=1.5)
    raise ValueError(kind)


def grain(img: np.ndarray, kind: str, k: float, sigma: float | None = None, scale: float = 1.0) -> np.ndarray:
    """``img`` with its luma denoised by ``kind`` at strength ``k`` of its estimated noise above the floor.
    ``scale``: the luma is divided by it before the filter (so a dark input uses the 8-bit range) and
    multiplied back after; ``sigma`` and the floor are in the scaled units."""
    sigma = estimate_noise(img / scale) if sigma is None else sigma
    amount = k * (sigma - NOISE_FLOOR)
    if amount <= 0:
        return img
    y = luma(img)
    change = filter_luma(np.ascontiguousarray(y / scale, np.float32), kind, amount) * scale - y
    return np.clip(img + change[..., None], 0.0, 1.0).astype(np.float32)


def stage_a(enhancer: Enhancer, img: np.ndarray) -> np.ndarray:
    """The network and its halo guard, as ``Enhancer.enhance_array`` runs them for a still."""
    if enhancer.method == "fast":
        return enhancer._enhance_fast(img, None)  # its guard is inside its correction
    return reduce_halos(img, enhancer._enhance_still(img), enhancer.halo)


def stage_b(enhancer: Enhancer, img: np.ndarray, out: np.ndarray) -> np.ndarray:
    """The steps after the guard: colour noise, exposure (brightness is 1)."""
    return apply_exposure(img, reduce_colour_noise(out, enhancer.chroma), enhancer.exposure)


def input_scale(img: np.ndarray) -> float:
    """The dark input's 99.5th luma percentile (at least 0.05): its luma divided by this fills the 8-bit range."""
    return max(0.05, float(np.percentile(luma(img), 99.5)))


def calibrate(enhancer: Enhancer, clean: str, noisy: str) -> None:
    rows = []
    for (name, low, _), (name2, low_n, _) in zip(load_pairs(clean), load_pairs(noisy)):
        assert name == name2
        out, out_n = stage_a(enhancer, low), stage_a(enhancer, low_n)
        diff = luma(out_n) - luma(out)
        true = 1.4826 * float(np.median(np.abs(diff - np.median(diff))))
        rows.append((estimate_noise(low), estimate_noise(low_n), estimate_noise(out), estimate_noise(out_n), true,
                     estimate_noise(low_n / input_scale(low_n))))
    a = np.array(rows) * 255
    print("8-bit levels: input est clean / noisy | output est clean / noisy | output true noise | scaled input noisy")
    for q in (10, 50, 90):
        print(f"p{q}: " + " | ".join(f"{v:.2f}" for v in np.percentile(a, q, axis=0)))
    corr = np.corrcoef(a[:, 3], a[:, 4])[0, 1]
    print(f"max clean output estimate {a[:, 2].max():.2f}; corr(noisy est, true) {corr:.3f}")
    print(f"noisy est / true (median) {np.median(a[:, 3] / np.maximum(a[:, 4], 1e-3)):.2f}")


def cost(enhancer: Enhancer, folder: str) -> None:
    """ms of the network (as ``enhance_array`` runs it) and of each candidate at 640x480 and 1280x720: the first
    pair's noisy dark frame resized to each size; median of 5 runs after a warm-up."""
    _, low, _ = load_pairs(folder, 1)[0]

    def ms(fn) -> float:
        fn()
        times = []
        for _ in range(5):
            t = time.perf_counter()
            fn()
            times.append(time.perf_counter() - t)
        return 1000 * float(np.median(times))

    print(f"| candidate | 640x480 ms | 1280x720 ms |  ({enhancer.method}: network + guard on the first row)")
    print("|---|---|---|")
    cells = {}
    for w, h in ((640, 480), (1280, 720)):
        img = cv2.resize(low, (w, h), interpolation=cv2.INTER_LINEAR)
        out = stage_a(enhancer, img)
        cells.setdefault("network", []).append(ms(lambda: stage_a(enhancer, img)))
        for c in CANDIDATES[1:]:
            where, kind, k = c
            if where == "pre":
                scale = input_scale(img)
                cells.setdefault(label(c), []).append(ms(lambda: grain(img, kind, k, scale=scale)))
            else:  # timed with its strength as if the image were noisy, so the filter always runs
                sigma = NOISE_FLOOR + 8 / 255
                cells.setdefault(label(c), []).append(ms(lambda: grain(out, kind, k, sigma=sigma)))
        cells.setdefault("estimate_noise alone", []).append(ms(lambda: estimate_noise(out)))
    for name, (a, b) in cells.items():
        print(f"| {name} | {a:.0f} | {b:.0f} |")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--pairs", nargs="+", help="LOL-layout folders (validation pairs)")
    ap.add_argument("--calibrate", nargs=2, metavar=("CLEAN", "NOISY"))
    ap.add_argument("--cost", metavar="PAIRS", help="time the network and each candidate on this set's first frame")
    ap.add_argument("--method", default="student", help="student or fast")
    ap.add_argument("--niqe", action="store_true", help="also the mean NIQE of the first set's outputs")
    ap.add_argument("--threads", type=int, default=0)
    ap.add_argument("--where", choices=("all", "post", "pre"), default="all",
                    help="score only off and the candidates after (post) or before (pre) the network")
    ap.add_argument("--limit", type=int, default=0, help="only the first N pairs of each set (a smoke test)")
    args = ap.parse_args()
    enhancer = Enhancer.from_recipe(args.method, threads=args.threads)
    if args.calibrate:
        calibrate(enhancer, *args.calibrate)
        return
    if args.cost:
        cost(enhancer, args.cost)
        return
    candidates = [c for c in CANDIDATES if args.where in ("all", c[0]) or c[0] == "off"]
    rows = {c: [] for c in candidates}
    niqe = {c: [] for c in candidates}
    start = time.perf_counter()
    for index, folder in enumerate(args.pairs):
        scores = {c: ([], []) for c in candidates}
        for _, low, high in load_pairs(folder, args.limit):
            base = stage_a(enhancer, low)
            for c in candidates:
                where, kind, k = c
                if where == "pre":
                    scale = input_scale(low)
                    den = grain(low, kind, k, scale=scale)
                    final = base if den is low else stage_a(enhancer, den)
                    final = stage_b(enhancer, den, final)
                else:
                    final = stage_b(enhancer, low, base if where == "off" else grain(base, kind, k))
                final = quantise8(final)
                scores[c][0].append(METRICS["psnr"].fn(final, high))
                scores[c][1].append(METRICS["ssim"].fn(final, high))
                if args.niqe and index == 0:
                    niqe[c].append(METRICS["niqe"].fn(final, None))
        for c in candidates:
            rows[c].append((float(np.mean(scores[c][0])), float(np.mean(scores[c][1]))))
    print(f"{args.method}, {', '.join(args.pairs)}; {time.perf_counter() - start:.0f} s\n")
    sets = " | ".join(f"{folder} PSNR / SSIM" for folder in args.pairs)
    print(f"| candidate | {sets} |" + (" NIQE, first set |" if args.niqe else ""))
    print("|---" * (1 + len(args.pairs) + bool(args.niqe)) + "|")
    for c, cells in rows.items():
        line = " | ".join(f"{p:.2f} / {s:.4f}" for p, s in cells)
        extra = f" {np.mean(niqe[c]):.3f} |" if args.niqe else ""
        print(f"| {label(c)} | {line} |{extra}")


if __name__ == "__main__":
    main()
