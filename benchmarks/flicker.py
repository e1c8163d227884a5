"""Flicker on a synthetic static-scene, noisy, dark clip: per-frame processing vs temporal smoothing.

    python benchmarks/flicker.py --frames 40 --out report/flicker.md

The clip is made with the project's degradation synthesiser: one scene (``--frame`` resized to
``--size``, darkened, one seed) and new sensor noise in every frame. Flicker = mean absolute
frame-to-frame change of the output minus that of the input, over the whole frame (every pixel is
static); lower is better. The fast model runs with smoothing off (each frame on its own) and on, without
and with the halo guard at its default strength, and with the guard and the colour-noise step at its
radius, and with the guard and the input's chroma taken from a 320-px view (smoothing, guard and view: what
videos and `serve` get by default since 2026-12-03); Net-S and CLAHE (per frame) are shown for reference.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from minelight.enhance.enhancer import enhancer_for
from minelight.enhance.recipes import FAST_CHROMA, FAST_HALO
from minelight.metrics.temporal import flicker, mean_temporal_change
from minelight.enhance.temporal import TemporalSmoother

from video_speed import DEFAULT_FRAME, make_frames


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--frames", type=int, default=40)
    ap.add_argument("--size", type=int, nargs=2, default=(360, 640), metavar=("H", "W"))
    ap.add_argument("--frame", type=Path, default=DEFAULT_FRAME)
    ap.add_argument("--seeds", type=int, default=3, help="scenes (noise seeds) averaged")
    ap.add_argument("--out", type=Path)
    args = ap.parse_args()
    runs = [("fast, per frame", "fast.net", False), ("fast, smoothing on", "fast.net", True),
            (f"fast, smoothing on, halo guard {FAST_HALO:g}", "fast.net+halo", True),
            ("fast, smoothing on, halo guard, chroma from a 320-px view", "fast.net+halo+chromaview", True),
            (f"fast, smoothing on, halo guard, colour-noise step {FAST_CHROMA} px", "fast.net+halo+chroma", True),
            ("fast, per frame, halo guard, colour-noise step", "fast.net+halo+chroma", False),
            ("Net-S, per frame", "student", False), ("CLAHE, per frame", "clahe", False)]
    enhancers = {m: enhancer_for(m) for m in ("fast.net", "fast.net+halo", "fast.net+halo+chromaview", "fast.net+halo+chroma",
                                              "student", "clahe")}
    results = {name: [] for name, _, _ in runs}
    input_change = []
    for seed in range(args.seeds):
        clip = make_frames(args.frame, *args.size, args.frames, seed=seed)
        input_change.append(mean_temporal_change(clip))
        for name, method, smooth in runs:
            smoother = TemporalSmoother() if smooth else None
            outputs = [enhancers[method].enhance_array(f, smoother) for f in clip]
            results[name].append(flicker(clip, outputs))
    base = sum(results["fast, per frame"]) / args.seeds
    lines = ["| processing | flicker (mean over seeds) | vs fast per frame |", "|---|---|---|"]
    for name, values in results.items():
        mean = sum(values) / len(values)
        lines.append(f"| {name} | {mean:.5f} | {100 * (mean - base) / base:+.1f} % |")
    text = (f"Clip: {args.size[1]}x{args.size[0]}, {args.frames} frames, {args.seeds} seeds; input mean "
            f"frame-to-frame change {sum(input_change) / len(input_change):.5f}.\n\n" + "\n".join(lines) + "\n")
    print(text)
    if args.out:
        args.out.write_text(text)


if __name__ == "__main__":
    main()
