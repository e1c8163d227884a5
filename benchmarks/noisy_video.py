"""Temporal denoising on noisy static-camera clips made from SICE validation scenes.

    minelight pairs data/SICE_part1 --files val -o data/sice_val
    python benchmarks/noisy_video.py --pairs data/sice_val --json docs/results.json

Each clip is one dark SICE validation scene (files 1401-1600 only; a pairs folder holding any other file is
refused) as a fixed camera: the scene's darkest well-aligned frame, repeated, with a textured square (a
crop of another scene's target, darkened to the scene's exposure) crossing it, and new sensor noise in every
frame (shot and read noise in linear light: ``minelight.data.degrade``'s noise model, as in
``benchmarks/noisy_pairs.py``) at several levels; its clean counterpart is the same clip without the
added noise. Frames are quantised to 8 bits, as a decoded video is. Targets: the scene's target with the
square pasted in.

Variants (the fast model with its video steps: halo guard, chroma from a 320-px view): per frame; with the
temporal smoothing of 0.2.0; with the temporal denoiser (``minelight.enhance.denoise``) before the network
(with smoothing, with smoothing of the correction only, without smoothing); with the denoiser after the
network (on its output, with smoothing of the correction); the denoiser before the network alone on the
8-bit luma path that video files and ``serve`` run (``minelight.enhance.luma_path``).

Scores per variant and noise level, means over clips: PSNR and SSIM against the targets (PSNR over all
frames; SSIM every 8th frame), PSNR over the moving region (where the square is or was in the last 8
frames, widened by 8 px: ghost trails land there), the share of the noise loss recovered
``(PSNR - noisy per frame) / (clean per frame - noisy per frame)``, and flicker
(``minelight.metrics.temporal.flicker`` on the rows the square never crosses). Last, the denoiser's ms
per 720p frame on the luma path videos and ``serve`` run, and the fast model's own ms on the same frames in
the same process, without and with the denoiser (the machine's speed varies; the ratios hold);
``--speed-only`` measures and writes only these.
"""

from __future__ import annotations

import argparse
import csv
import json
import time
from dataclasses import replace
from datetime import date
from pathlib import Path

import cv2
import numpy as np

from minelight.data.degrade import linear_to_srgb, srgb_to_linear
from minelight.data.splits import tuning_files
from minelight.enhance.denoise import DenoiseConfig, TemporalDenoiser
from minelight.enhance.enhancer import Enhancer
from minelight.enhance.temporal import SmoothingConfig, TemporalSmoother
from minelight.io import from_uint8, read_image, to_uint8
from minelight.metrics.temporal import flicker

from noisy_pairs import add_sensor_noise

LEVELS = {"light": (3000.0, 0.001), "default": (1000.0, 0.002), "heavy": (300.0, 0.004)}  # full well, read std
SQUARE = 96  # side of the moving square, px
TRAIL = 8  # frames behind the square that count as its moving region
VARIANTS = ("per frame", "smoothing (0.2.0)", "denoise before + correction smoothing", "denoise before alone",
            "denoise after + correction smoothing", "denoise before (no black level) + correction smoothing",
            "denoise before + smoothing", "denoise before alone, luma path")


def pick_scenes(pairs: Path, count: int, max_luma: float) -> list[tuple[str, str]]:
    """``[(low name, scene)]``: per scene its darkest frame with alignment >= 0.9 and mean luma <= ``max_luma``,
    ``count`` scenes spread evenly; every file must be in the validation split."""
    by_scene: dict[str, list[dict]] = {}
    with open(pairs / "manifest.csv") as f:
        for row in csv.DictReader(f):
            number = int(Path(row["source"]).stem)
            tuning_files(f"{number}-{number}")  # refuses the test split
            if not 1401 <= number <= 1600:
                raise SystemExit(f"{row['source']}: not a validation file (1401-1600)")
            if float(row["alignment"]) >= 0.9 and float(row["mean_luma"]) <= max_luma:
                by_scene.setdefault(row["scene"], []).append(row)
    scenes = sorted(by_scene)
    chosen = [scenes[round(i * (len(scenes) - 1) / max(count - 1, 1))] for i in range(min(count, len(scenes)))]
    return [(min(by_scene[s], key=lambda r: float(r["mean_luma"]))["name"], s) for s in dict.fromkeys(chosen)]


def make_clip(low: np.ndarray, high: np.ndarray, texture: np.ndarray, frames: int):
    """Clean low frames, targets and the square's boxes ``(y, x)`` per frame: the square enters on the left
    and leaves on the right; in the dark frames its texture has the scene's exposure (linear-light ratio)."""
    h, w = low.shape[:2]
    gain = float(srgb_to_linear(low).mean() / max(float(srgb_to_linear(high).mean()), 1e-4))
    dark_tex = linear_to_srgb(srgb_to_linear(texture) * gain)
    y = (h - SQUARE) // 2
    lows, highs, boxes = [], [], []
    for t in range(frames):
        x = round(-SQUARE + (w + SQUARE) * t / max(frames - 1, 1))
        lo, hi = low.copy(), high.copy()
        x0, x1 = max(x, 0), min(x + SQUARE, w)
        if x1 > x0:
            lo[y:y + SQUARE, x0:x1] = dark_tex[:, x0 - x:x1 - x]
            hi[y:y + SQUARE, x0:x1] = texture[:, x0 - x:x1 - x]
        lows.append(lo)
        highs.append(hi)
        boxes.append((y, x))
    return lows, highs, boxes


def moving_masks(shape: tuple[int, int], boxes: list[tuple[int, int]]) -> list[np.ndarray]:
    """Per frame: where the square is or was in the last ``TRAIL`` frames, widened by 8 px."""
    h, w = shape
    masks = []
    for t in range(len(boxes)):
        m = np.zeros((h, w), bool)
        for y, x in boxes[max(0, t - TRAIL):t + 1]:
            m[max(y - 8, 0):y + SQUARE + 8, max(x - 8, 0):max(min(x + SQUARE + 8, w), 0)] = True
        masks.append(m)
    return masks


def psnr(a: np.ndarray, b: np.ndarray, mask: np.ndarray | None = None) -> float:
    d = (a.astype(np.float64) - b) ** 2
    mse = float(d.mean()) if mask is None else float(d[mask].mean())
    return 10 * np.log10(1.0 / max(mse, 1e-12))


def ssim(a: np.ndarray, b: np.ndarray) -> float:
    from minelight.metrics.registry import METRICS

    return float(METRICS["ssim"].fn(a, b))


def run_variant(enhancer: Enhancer, frames: list[np.ndarray], variant: str,
                base: DenoiseConfig = DenoiseConfig()) -> list[np.ndarray]:
    smooth = None if variant in ("per frame", "denoise before alone", "denoise before alone, luma path") else \
        TemporalSmoother(SmoothingConfig(output="correction" not in variant))
    cfg = replace(base, black_level="no black level" not in variant)
    denoiser = TemporalDenoiser(cfg) if "denoise" in variant else None
    outs = []
    for f in frames:
        if variant == "denoise before + smoothing":  # the frame denoised first, then the 0.2.0 smoothing in full
            out = enhancer.enhance_array(denoiser(f), smooth)
        elif "luma path" in variant:  # what video files and serve run: 8-bit frames in and out
            out = from_uint8(enhancer.enhance_frame(to_uint8(f), smooth, denoiser))
        else:  # the product's path: the enhancer takes the denoiser (and then skips the smoother's output blend)
            out = enhancer.enhance_array(f, smooth, denoiser if "before" in variant else None)
        if denoiser is not None and "after" in variant:
            out = denoiser(out)
        outs.append(np.array(out, copy=True))
    return outs


def scores(outs, highs, masks, inputs, static) -> dict:
    return {"psnr": float(np.mean([psnr(o, h) for o, h in zip(outs, highs)])),
            "ssim": float(np.mean([ssim(o, h) for o, h in list(zip(outs, highs))[::8]])),
            "psnr_moving": float(np.mean([psnr(o, h, m) for o, h, m in zip(outs, highs, masks) if m.any()])),
            "flicker": flicker(inputs, outs, static)}


def denoiser_speed(frame: np.ndarray, threads: int, count: int = 20, rounds: int = 5) -> dict:
    """ms per 720p frame on the luma path that videos and ``serve`` run, in alternating rounds (medians over
    rounds): the denoiser alone (its update on the frame's views), the fast model's frame without the
    denoiser, and with it (the video default); and their ratios."""
    from minelight.enhance.luma_path import frame_views

    rng = np.random.default_rng(1)
    big = cv2.resize(frame, (1280, 720), interpolation=cv2.INTER_LINEAR)
    frames = [to_uint8(add_sensor_noise(big, *LEVELS["default"], rng)) for _ in range(4)]
    default = Enhancer.from_recipe("fast", "video", threads=threads, denoise=True)
    plain = Enhancer.from_recipe("fast", "video", threads=threads, denoise=False)
    views = [frame_views(f, DenoiseConfig().motion_side) for f in frames]
    alone, with_denoiser = TemporalDenoiser(), default.denoiser()
    runs = {"denoise": lambda i: alone.update_views(*views[i % 4]),
            "fast": lambda i: plain.enhance_frame(frames[i % 4]),
            "fast_denoise": lambda i: default.enhance_frame(frames[i % 4], None, with_denoiser)}
    times = {k: [] for k in runs}
    for i in range(4):
        for run in runs.values():
            run(i)
    for _ in range(rounds):
        for name, run in runs.items():
            start = time.perf_counter()
            for i in range(count):
                run(i)
            times[name].append(1000 * (time.perf_counter() - start) / count)
    t = {k: np.array(v) for k, v in times.items()}
    return {"denoise_ms_720p": round(float(np.median(t["denoise"])), 2),
            "fast_ms_720p": round(float(np.median(t["fast"])), 2),
            "fast_denoise_ms_720p": round(float(np.median(t["fast_denoise"])), 2),
            "ratio": round(float(np.median(t["denoise"] / t["fast"])), 3),
            "frame_ratio": round(float(np.median(t["fast_denoise"] / t["fast"])), 3), "lifted": alone.lift is not None}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--pairs", type=Path, required=True, help="LOL-layout pairs from `minelight pairs --files val`")
    ap.add_argument("--scenes", type=int, default=6)
    ap.add_argument("--frames", type=int, default=32)
    ap.add_argument("--max-luma", type=float, default=0.12, help="darkest frames only (mean luma)")
    ap.add_argument("--levels", default=",".join(LEVELS))
    ap.add_argument("--variants", default=";".join(VARIANTS), help="semicolon-separated")
    ap.add_argument("--denoise-frames", type=int, default=DenoiseConfig.frames)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--json", type=Path, help="write the figures into this results.json (key noisy_video)")
    ap.add_argument("--speed-only", action="store_true", help="measure and write only the speed figures")
    args = ap.parse_args()
    cv2.setNumThreads(2)
    enhancer = Enhancer.from_recipe("fast", "video", threads=args.threads, denoise=False)
    base = DenoiseConfig(frames=args.denoise_frames)
    chosen = pick_scenes(args.pairs, args.scenes, args.max_luma)
    if args.speed_only:
        speed = denoiser_speed(read_image(args.pairs / "low" / f"{chosen[0][0]}.png"), args.threads)
        print(speed)
        if args.json:
            data = json.loads(args.json.read_text())
            data["noisy_video"]["speed"] = speed
            args.json.write_text(json.dumps(data, indent=1, ensure_ascii=False) + "\n")
        return
    variants = [v for v in VARIANTS if v in args.variants.split(";")]
    levels = args.levels.split(",")
    table = {lv: {v: [] for v in ("clean per frame", *variants)} for lv in levels}
    start = time.perf_counter()
    for i, (name, scene) in enumerate(chosen):
        low, high = read_image(args.pairs / "low" / f"{name}.png"), read_image(args.pairs / "high" / f"{name}.png")
        other = read_image(args.pairs / "high" / f"{chosen[(i + 1) % len(chosen)][0]}.png")
        texture = other[:SQUARE, -SQUARE:][:, ::-1].copy()
        lows, highs, boxes = make_clip(low, high, texture, args.frames)
        masks = moving_masks(low.shape[:2], boxes)
        static = np.ones(low.shape[:2], bool)
        static[boxes[0][0] - 8:boxes[0][0] + SQUARE + 8] = False  # the rows the square crosses
        clean = [from_uint8(to_uint8(f)) for f in lows]
        clean_out = run_variant(enhancer, clean, "per frame")
        for lv in levels:
            rng = np.random.default_rng([args.seed, i])
            noisy = [from_uint8(to_uint8(add_sensor_noise(f, *LEVELS[lv], rng))) for f in lows]
            table[lv]["clean per frame"].append(scores(clean_out, highs, masks, clean, static))
            for v in variants:
                table[lv][v].append(scores(run_variant(enhancer, noisy, v, base), highs, masks, noisy, static))
        print(f"scene {scene} ({name}) done, {time.perf_counter() - start:.0f} s", flush=True)
    rows = []
    for lv in levels:
        mean = {v: {k: float(np.mean([s[k] for s in table[lv][v]])) for k in table[lv][v][0]} for v in table[lv]}
        gap = mean["clean per frame"]["psnr"] - mean["per frame"]["psnr"]
        for v, m in mean.items():
            recovered = (m["psnr"] - mean["per frame"]["psnr"]) / gap if v != "clean per frame" and gap > 0 else None
            rows.append({"level": lv, "variant": v, "psnr": round(m["psnr"], 2), "ssim": round(m["ssim"], 3),
                         "psnr_moving": round(m["psnr_moving"], 2), "flicker": round(m["flicker"], 5),
                         "recovered": None if recovered is None else round(recovered, 3)})
    speed = denoiser_speed(read_image(args.pairs / "low" / f"{chosen[0][0]}.png"), args.threads)
    print("| noise | variant | PSNR | SSIM | PSNR moving | recovered | flicker |\n|---|---|---|---|---|---|---|")
    for r in rows:
        rec = "–" if r["recovered"] is None else f"{100 * r['recovered']:.0f} %"
        print(f"| {r['level']} | {r['variant']} | {r['psnr']:.2f} | {r['ssim']:.3f} | {r['psnr_moving']:.2f} | "
              f"{rec} | {r['flicker']:+.5f} |")
    print(speed)
    if args.json:
        data = json.loads(args.json.read_text())
        command = "python benchmarks/noisy_video.py --pairs data/sice_val --json docs/results.json"
        data["runs"]["noisy-video"] = {"date": str(date.today()), "machine": data["runs"]["flicker"]["machine"],
                                       "command": command}
        data["noisy_video"] = {
            "run": "noisy-video", "date": str(date.today()), "command": command,
            "clips": f"{len(chosen)} SICE validation scenes (darkest well-aligned frame, 512x512), {args.frames} frames, "
                     f"a {SQUARE}-px textured square crossing; 8-bit frames",
            "levels": {lv: {"full_well": LEVELS[lv][0], "read_noise": LEVELS[lv][1]} for lv in levels},
            "rows": rows, "speed": speed}
        args.json.write_text(json.dumps(data, indent=1, ensure_ascii=False) + "\n")


if __name__ == "__main__":
    main()
