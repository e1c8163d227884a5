"""README figures: input | CLAHE | Net-S | what ``minelight enhance`` writes (``Enhancer.from_recipe("student")``:
Net-S, the halo guard, the grain step, the colour-noise step) for the shipped sample images, zoomed crops that show
noise, a crop round the brightest lamp that shows the halo guard, and a crop that shows the colour-noise step.

    python benchmarks/figures.py --images examples --out docs/images

``grid.jpg``: one row per image. ``crops.jpg``: a 96x96 crop from the darkest textured part of each
image, upscaled 3x with nearest neighbour so noise is visible, for input (brightened by a plain gain so
it can be seen), CLAHE, Net-S and what ``minelight enhance`` writes. ``lamp.jpg``: a 128x128 crop round
the brightest small light source of ``--lamp-image``, upscaled 2x: Net-S (as above) without the halo guard,
with it at the shipped strength, and at 1. ``colour_noise.jpg``: a 128x128 crop of the noisiest sample
(``--lamp-image`` too), upscaled 2x: the fast model (with its guard) without and with the colour-noise step,
and Net-S as ``minelight enhance`` writes it.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import cv2
import numpy as np

from minelight.enhance.chroma import reduce_colour_noise
from minelight.enhance.enhancer import Enhancer, enhancer_for
from minelight.enhance.halo import reduce_halos
from minelight.enhance.recipes import FAST_CHROMA, STUDENT_HALO
from minelight.io import list_images, read_image, to_uint8, write_image


def label(img: np.ndarray, text: str) -> np.ndarray:
    """``text`` in white with a black outline at the top left of an (H, W, 3) float image."""
    out = to_uint8(img).copy()
    # The outline is the thin text shifted by one pixel each way: OpenCV 5 widens glyphs with the thickness,
    # so a thick black copy under the white one showed as a second, wider caption.
    for dx, dy in [(dx, dy) for dx in (-1, 0, 1) for dy in (-1, 0, 1) if dx or dy]:
        cv2.putText(out, text, (6 + dx, 20 + dy), cv2.FONT_HERSHEY_SIMPLEX, 0.6, (0, 0, 0), 1, cv2.LINE_AA)
    cv2.putText(out, text, (6, 20), cv2.FONT_HERSHEY_SIMPLEX, 0.6, (255, 255, 255), 1, cv2.LINE_AA)
    return out.astype(np.float32) / 255.0


def fit_height(img: np.ndarray, height: int) -> np.ndarray:
    width = round(img.shape[1] * height / img.shape[0])
    return cv2.resize(img, (width, height), interpolation=cv2.INTER_AREA)


def crop_box(img: np.ndarray, size: int = 96) -> tuple[int, int]:
    """Top-left corner of the ``size`` crop with the most texture among the darker half of the image."""
    luma = img.mean(axis=2)
    best, corner = -1.0, (0, 0)
    for y in range(0, img.shape[0] - size + 1, size // 2):
        for x in range(0, img.shape[1] - size + 1, size // 2):
            patch = luma[y:y + size, x:x + size]
            score = patch.std() if patch.mean() < np.median(luma) * 1.5 else -1.0
            if score > best:
                best, corner = score, (y, x)
    return corner


def lamp_box(img: np.ndarray, size: int = 128) -> tuple[int, int]:
    """Top-left corner of the ``size`` crop centred on the brightest point of the blurred lightness."""
    light = cv2.GaussianBlur(img.max(axis=2), (0, 0), 3)
    y, x = np.unravel_index(int(np.argmax(light)), light.shape)
    return (int(np.clip(y - size // 2, 0, img.shape[0] - size)), int(np.clip(x - size // 2, 0, img.shape[1] - size)))


def zoomed_row(img: np.ndarray, panels: list[tuple[str, np.ndarray]], y: int, x: int, size: int,
               scale: int) -> np.ndarray:
    """One row of labelled ``size`` x ``size`` crops at ``(y, x)``, upscaled ``scale`` x with nearest neighbour:
    ``img`` (the input, brightened by a plain gain so it can be seen), then each ``(name, image)`` panel."""
    gain = 0.45 / max(1e-3, float(img.mean()))
    panels = [("input x%.0f" % gain, np.clip(img * gain, 0, 1)), *panels]
    return np.concatenate([label(cv2.resize(p[y:y + size, x:x + size], (size * scale, size * scale),
                                            interpolation=cv2.INTER_NEAREST), name) for name, p in panels], axis=1)


def lamp_figure(img: np.ndarray, unguarded: Enhancer, out: Path) -> None:
    """``lamp.jpg``: Net-S before the halo guard (``unguarded``: the network alone) round the brightest lamp
    of ``img``, without and with the guard."""
    before_guard = unguarded.enhance_array(img)
    panels = [("no guard", before_guard),
              (f"guard {STUDENT_HALO:g} (shipped)", reduce_halos(img, before_guard, STUDENT_HALO)),
              ("guard 1", reduce_halos(img, before_guard, 1.0))]
    write_image(out, zoomed_row(img, panels, *lamp_box(before_guard), 128, 2), jpeg_quality=95)


def colour_figure(img: np.ndarray, out: Path) -> None:
    """``colour_noise.jpg``: the fast model without and with its colour-noise step, and what ``minelight
    enhance`` writes with Net-S, on a crop of ``img``'s darker, textured half."""
    fast = enhancer_for("fast.net+halo")  # the guard sits inside its correction
    plain = fast.enhance_array(img)
    panels = [("fast, no step", plain), (f"fast + step {FAST_CHROMA} px", reduce_colour_noise(plain, FAST_CHROMA)),
              ("minelight enhance", Enhancer.from_recipe("student").enhance_array(img))]
    write_image(out, zoomed_row(img, panels, *crop_box(plain, 128), 128, 2), jpeg_quality=95)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--images", type=Path, default=Path("examples"))
    ap.add_argument("--out", type=Path, default=Path("docs/images"))
    ap.add_argument("--height", type=int, default=240)
    ap.add_argument("--lamp-image", type=Path, default=Path("examples/rocket_dark.jpg"))
    args = ap.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    methods = {"CLAHE": Enhancer.from_recipe("clahe"), "Net-S": enhancer_for("student.net"),
               "minelight enhance": Enhancer.from_recipe("student")}
    rows, crop_rows = [], []
    for path in list_images(args.images):
        img = read_image(path)
        outs = {name: enh.enhance_array(img) for name, enh in methods.items()}
        row = [label(fit_height(img, args.height), "input")]
        row += [label(fit_height(o, args.height), name) for name, o in outs.items()]
        rows.append(np.concatenate(row, axis=1))
        crop_rows.append(zoomed_row(img, list(outs.items()), *crop_box(outs["Net-S"]), 96, 3))
    width = max(r.shape[1] for r in rows)
    rows = [np.pad(r, ((0, 4), (0, width - r.shape[1]), (0, 0)), constant_values=1.0) for r in rows]
    write_image(args.out / "grid.jpg", np.concatenate(rows, axis=0), jpeg_quality=90)
    write_image(args.out / "crops.jpg", np.concatenate(crop_rows, axis=0), jpeg_quality=95)
    lamp_figure(read_image(args.lamp_image), enhancer_for("student.net"), args.out / "lamp.jpg")
    colour_figure(read_image(args.lamp_image), args.out / "colour_noise.jpg")
    print(f"wrote {args.out / 'grid.jpg'}, {args.out / 'crops.jpg'}, {args.out / 'lamp.jpg'} and "
          f"{args.out / 'colour_noise.jpg'}")


if __name__ == "__main__":
    main()
