"""The colour-noise step's radius and eps on real validation pairs: a method's output as `minelight enhance`
writes it before the step (Net-S + its guard; the fast model with its folded guard), then each candidate of
`minelight.enhance.chroma.reduce_colour_noise`, quantised to 8 bits; PSNR / SSIM on RGB without GT-mean, mean over
the pairs of each set, and the mean NIQE of the first set's outputs (`--niqe`).

    python experiments/colour_noise.py --method student --pairs data/sice_val data/sice_val_noisy --niqe

`--luma-guided` (fast model only) scores instead the fast model with its correction fitted again against the
luma of a view of the frame and applied to the frame's luma (`fold_colour_noise` below; candidates L, L1 and
LV of docs/notes/colour_noise.md, none adopted). `--chroma-view 320` scores candidate CV, the fast model's correction
applied to the frame with the chroma of a 320-px view (`minelight.enhance.chroma.view_chroma`): what videos and
`serve` apply.

The rule that reads these numbers is in docs/notes/colour_noise.md.
"""

from __future__ import annotations

import argparse
import time

import cv2
import numpy as np

from minelight.enhance.chroma import CHROMA_EPS, LUMA_WEIGHTS, luma_image, reduce_colour_noise, view_chroma
from minelight.data.datasets import load_pairs
from minelight.enhance.enhancer import Enhancer
from minelight.enhance.halo import guard_correction, strength_for
from minelight.io import quantise8
from minelight.metrics.registry import METRICS
from minelight.enhance.correction import apply_correction_array
from minelight.geometry import low_resolution_size

CANDIDATES = ((0, CHROMA_EPS), (2, 1e-2), (4, 1e-2), (8, 1e-2), (4, 1e-3), (8, 1e-3))  # (radius px, eps luma^2)


def box(x: np.ndarray, radius: int) -> np.ndarray:
    """Mean over a (2 radius + 1)^2 window, reflected borders."""
    return cv2.boxFilter(x, -1, (2 * radius + 1, 2 * radius + 1), borderType=cv2.BORDER_REFLECT)


def area_resize(img: np.ndarray, height: int, width: int) -> np.ndarray:
    return img if img.shape[:2] == (height, width) else cv2.resize(img, (width, height), interpolation=cv2.INTER_AREA)


def nchw(img: np.ndarray) -> np.ndarray:
    return np.ascontiguousarray(img.transpose(2, 0, 1)[None], dtype=np.float32)


def luma_guided_correction(view: np.ndarray, correction: np.ndarray, radius: int, eps: float) -> np.ndarray:
    """The fast model's correction fitted again against the luma, so the input's colour noise never reaches the
    output at no extra full-resolution pass.

    ``view``: ``(h, w, 3)`` float32, a downsampled copy of the frame; ``correction``: ``(1, 6, h, w)`` at the
    same size (gain A in channels 0-2, offset b in 3-5; the frame is ``A * x + b``). Each channel of the
    corrected view is fitted in every ``(2 radius + 1)^2`` window as ``a * Y + b'`` with the view's luma
    ``Y`` as the guide (divided by the view's mean plus 0.02, as the fast model divides its guide; ``eps`` in
    those units). Returns ``(1, 6, h, w)`` float32 ``[a, b']`` for the frame's luma (``luma_image``)."""
    gain, offset = correction[0, :3].transpose(1, 2, 0), correction[0, 3:].transpose(1, 2, 0)
    target = np.clip(gain * view + offset, 0.0, 1.0).astype(np.float32)
    scale = np.float32(view.mean() + 0.02)
    y = cv2.transform(np.ascontiguousarray(view, dtype=np.float32), LUMA_WEIGHTS[None]) / scale
    mean_y, mean_t = box(y, radius), box(target, radius)
    var_y = box(y * y, radius) - mean_y * mean_y
    cov = box(target * y[..., None], radius) - mean_t * mean_y[..., None]
    a = cov / (var_y + np.float32(eps))[..., None]
    b = mean_t - a * mean_y[..., None]
    a, b = box(a, radius) / scale, box(b, radius)
    return np.concatenate([a, b], axis=2).transpose(2, 0, 1)[None].astype(np.float32)


def fold_colour_noise(img: np.ndarray, correction: np.ndarray, eps: float, side: int, radius: int) -> np.ndarray:
    """The fast model's output with the colour-noise step folded in: ``img`` ``(H, W, 3)`` float32 and its
    (guarded) correction ``(1, 6, h, w)`` -> ``(H, W, 3)`` float32 in [0, 1]. The correction is upsampled to a
    view of ``img`` whose longest side is ``side`` px, fitted there against the luma
    (``luma_guided_correction``) and applied to the frame's luma in one full-resolution pass."""
    h, w = low_resolution_size(img.shape[0], img.shape[1], side)
    view = img if img.shape[:2] == (h, w) else cv2.resize(img, (w, h), interpolation=cv2.INTER_AREA)
    planes = cv2.resize(np.ascontiguousarray(correction[0].transpose(1, 2, 0)), (w, h), interpolation=cv2.INTER_LINEAR)
    folded = luma_guided_correction(view, planes.reshape(h, w, 6).transpose(2, 0, 1)[None], radius, eps)
    return apply_correction_array(folded, luma_image(img))


def guarded_correction(enhancer: Enhancer, img: np.ndarray) -> np.ndarray:
    """The fast model's correction ``(1, 6, h, w)`` of a still (no smoothing), its halo guard folded in, as
    ``Enhancer`` makes it before applying it to the frame."""
    h, w = low_resolution_size(img.shape[0], img.shape[1], enhancer.model.config.low_side)
    low = area_resize(img, h, w)
    (correction,) = enhancer.runner(nchw(low), np.zeros((1, 6, h, w), np.float32), np.zeros((1, 1, h, w), np.float32))
    return guard_correction(low, correction, enhancer.halo)


def luma_guided(enhancer: Enhancer, img: np.ndarray, radius: int | None = None, view: int = 0) -> np.ndarray:
    """The fast model on a still, its guarded correction made luma-guided (``fold_colour_noise``): fitted on
    the model's low-resolution view, or with ``view`` > 0 on the frame downsampled to that longest side."""
    config = enhancer.model.config
    return fold_colour_noise(img, guarded_correction(enhancer, img), float(enhancer.model.log_eps.detach().exp()),
                             view or config.low_side, config.radius if radius is None else radius)


def chroma_view_input(enhancer: Enhancer, img: np.ndarray, view: int) -> np.ndarray:
    """The fast model on a still, its correction applied to the frame with its chroma taken from a view of
    ``view`` px longest side (the frame's luma untouched): candidate CV of docs/notes/colour_noise.md
    (``Enhancer(chroma_view=True)`` at 320)."""
    return apply_correction_array(guarded_correction(enhancer, img), view_chroma(img, view))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--pairs", nargs="+", required=True, help="LOL-layout folders (validation pairs)")
    ap.add_argument("--method", default="student", help="student or fast")
    ap.add_argument("--weights", default=None, help="safetensors weights (default: the shipped ones)")
    ap.add_argument("--niqe", action="store_true", help="also the mean NIQE of the first set's outputs")
    ap.add_argument("--threads", type=int, default=0)
    ap.add_argument("--luma-guided", action="store_true", help="fast: the luma-guided correction instead")
    ap.add_argument("--luma-radius", type=int, help="its window radius in low-resolution px (default: the model's)")
    ap.add_argument("--luma-view", type=int, default=0, help="fit on a view of this longest side (0: the model's)")
    ap.add_argument("--chroma-view", type=int, default=0, help="fast: the input's chroma from a view of this side")
    args = ap.parse_args()
    enhancer = Enhancer(args.method, args.weights, threads=args.threads, halo=strength_for(args.method, None))
    rows = {c: [] for c in CANDIDATES}
    niqe = {c: [] for c in CANDIDATES}
    start = time.perf_counter()
    for index, folder in enumerate(args.pairs):
        scores = {c: ([], []) for c in CANDIDATES}
        for _, low, high in load_pairs(folder):
            if args.chroma_view:
                out = chroma_view_input(enhancer, low, args.chroma_view)
            elif args.luma_guided:
                out = luma_guided(enhancer, low, args.luma_radius, args.luma_view)
            else:
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
