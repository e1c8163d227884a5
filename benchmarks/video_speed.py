"""Frame rate and peak memory of the enhancers on video-sized frames (enhancement only, no decode/encode).

    python benchmarks/video_speed.py --threads 2 --out report/video_speed.md

Every (method, resolution) runs in a fresh child process, so its peak RSS is its own. All of them enhance
the same frames: ``--frame`` (default: a shipped example) resized to the resolution and degraded by the
project's synthesiser into a static scene with new sensor noise in every frame (``degrade`` with one
scene seed and a per-frame noise generator; 4 such frames are cycled). Names as in ``minelight benchmark``:
``fast`` is what videos and ``minelight serve`` get (``Enhancer.from_recipe("fast", "video")``: the temporal
denoiser, the halo guard and the input's chroma from a 320-px view, on the luma path of
``minelight.enhance.luma_path``); ``fast.net+halo`` is the network and its guard with the 0.2.0 temporal
smoothing (float RGB frames); ``fast.net`` is the network alone; ``student.net`` Net-S alone. ``--methods`` picks some of the rows
(``METHOD:BACKEND``, comma-separated).
Peak RSS includes the 4 frames. Timed: ``Enhancer.enhance_frame`` on uint8 frames, one after the other in one
thread, after warm-up frames.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time
from pathlib import Path

import cv2
import numpy as np

RESOLUTIONS = ((360, 640), (720, 1280), (1080, 1920))
METHODS = (("fast", "onnxruntime"), ("fast.net+halo", "onnxruntime"), ("fast.net", "onnxruntime"),
           ("fast.net", "torch"), ("student.net", "torch"), ("clahe", "numpy"), ("lime", "numpy"))
DEFAULT_FRAME = Path(__file__).resolve().parents[1] / "examples" / "chelsea_dark.jpg"


def make_frames(path: Path, height: int, width: int, count: int, seed: int = 0) -> list[np.ndarray]:
    """``count`` float32 frames of one static dark scene with independent sensor noise."""
    from minelight.data.degrade import DegradeConfig, degrade
    from minelight.io import read_image

    img = cv2.resize(read_image(path), (width, height), interpolation=cv2.INTER_AREA)
    bright = np.clip(img / max(float(img.mean()), 1e-3) * 0.45, 0, 1).astype(np.float32)  # a well-lit version
    cfg = DegradeConfig(exposure=(0.05, 0.05), lamp_prob=0.0, haze_prob=0.0, jpeg_prob=0.0)
    return [degrade(bright, seed, cfg, noise_rng=np.random.default_rng([seed, i])) for i in range(count)]


def worker(method: str, backend: str, height: int, width: int, frames: int, warmup: int, threads: int,
           frame: Path) -> dict:
    import torch

    from minelight.enhance.enhancer import enhancer_for
    from minelight.enhance.temporal import TemporalSmoother
    from minelight.io import to_uint8

    torch.set_num_threads(threads)
    distinct = [to_uint8(f) for f in make_frames(frame, height, width, 4)]  # cycled: they barely count in the RSS
    data = [distinct[i % len(distinct)] for i in range(frames + warmup)]
    enhancer = enhancer_for(method, "video", threads=threads, backend=backend if backend != "numpy" else "torch")
    if enhancer.backend != backend:
        raise SystemExit(f"{method}: asked for {backend}, got {enhancer.backend}")
    denoiser = enhancer.denoiser()  # the recipe's (the fast model's: on)
    smoother = TemporalSmoother() if enhancer.method == "fast" and denoiser is None else None
    for img in data[:warmup]:
        enhancer.enhance_frame(img, smoother, denoiser)
    start = time.perf_counter()
    for img in data[warmup:]:
        enhancer.enhance_frame(img, smoother, denoiser)
    seconds = time.perf_counter() - start
    return {"fps": frames / seconds, "ms": 1000 * seconds / frames,
            "peak_rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--frames", type=int, default=30, help="timed frames per cell (Net-S, LIME: --slow-frames)")
    ap.add_argument("--slow-frames", type=int, default=3)
    ap.add_argument("--frame", type=Path, default=DEFAULT_FRAME)
    ap.add_argument("--out", type=Path, help="also write the Markdown table here")
    ap.add_argument("--methods", help="rows to run, e.g. fast:onnxruntime,clahe:numpy (default: all)")
    ap.add_argument("--worker", nargs=4, metavar=("METHOD", "BACKEND", "H", "W"), help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.worker:
        method, backend, h, w = args.worker
        slow = method.split("+")[0].split(".")[0] in ("lime", "student")
        frames, warmup = (args.slow_frames, 1) if slow else (args.frames, 3)
        print(json.dumps(worker(method, backend, int(h), int(w), frames, warmup, args.threads, args.frame)))
        return
    header = "| method | backend | " + " | ".join(f"{w}x{h} FPS (ms) | peak RSS MiB" for h, w in RESOLUTIONS) + " |"
    lines = [header, "|" + "---|" * (2 + 2 * len(RESOLUTIONS))]
    methods = [tuple(m.split(":")) for m in args.methods.split(",")] if args.methods else METHODS
    for method, backend in methods:
        cells = []
        for h, w in RESOLUTIONS:
            cmd = [sys.executable, __file__, "--worker", method, backend, str(h), str(w), "--threads",
                   str(args.threads), "--frames", str(args.frames), "--slow-frames", str(args.slow_frames),
                   "--frame", str(args.frame)]
            done = subprocess.run(cmd, capture_output=True, text=True)
            if done.returncode != 0:
                raise SystemExit(f"{method} {backend} {w}x{h} failed:\n{done.stderr[-2000:]}")
            r = json.loads(done.stdout.strip().splitlines()[-1])
            cells += [f"{r['fps']:.1f} ({r['ms']:.0f})", f"{r['peak_rss_mib']:.0f}"]
            print(f"{method:8s} {backend:12s} {w}x{h}: {r['fps']:.2f} FPS, {r['ms']:.1f} ms, "
                  f"{r['peak_rss_mib']:.0f} MiB", flush=True)
        lines.append(f"| {method} | {backend} | " + " | ".join(cells) + " |")
    table = "\n".join(lines)
    print("\n" + table)
    if args.out:
        args.out.write_text(f"Threads: {args.threads}; timed frames per cell: {args.frames} (Net-S and LIME: "
                            f"{args.slow_frames}).\n\n"
                            + table + "\n")


if __name__ == "__main__":
    main()
