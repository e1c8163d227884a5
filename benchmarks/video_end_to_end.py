"""The video chain at 720p: decode + enhance + encode of an H.264 file, against the same chain with CLAHE.

    python benchmarks/video_end_to_end.py --frames 150 --rounds 3 [--json docs/results.json]

Writes a synthetic dark 1280x720 H.264 clip (the synthesiser's static scene with new sensor noise in every
frame), then, in alternating rounds in one process (medians over rounds; the machine's speed drifts, the
ratios hold), times ``minelight.video.job.enhance_video`` on it (PyAV decode, enhancement, x264
``--preset`` encode, overlapped in threads) for each chain:

* ``clahe``: OpenCV CLAHE, the reference;
* ``fast``: what ``minelight enhance clip.mp4 -m fast`` runs (temporal denoiser, the luma path
  ``minelight.enhance.luma_path``, frames finished in worker threads);
* ``fast, float RGB path``: the same recipe on the float RGB path of 0.2.0, one frame after the other;
* ``fast --no-denoise``: the 0.2.0 temporal smoothing instead of the denoiser.

Then the enhancement alone on frames in memory (uint8 in, uint8 out) with 1 and 2 worker threads, the float
RGB path and CLAHE; and decoding and encoding alone.
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
from datetime import date
from pathlib import Path

from minelight.enhance.enhancer import Enhancer
from minelight.enhance.recipes import resolve
from minelight.enhance.temporal import SmoothingConfig
from minelight.io import from_uint8, to_uint8
from minelight.video.frames import enhanced_frames
from minelight.video.job import enhance_threads, enhance_video
from minelight.video.streams import VideoReader, VideoWriter

from machine import machine
from video_speed import DEFAULT_FRAME, make_frames

CHAINS = ("clahe", "fast", "fast, float RGB path", "fast --no-denoise")


def chain_enhancer(chain: str) -> tuple[Enhancer, int, SmoothingConfig | None]:
    """The enhancer, worker threads and smoothing of ``chain`` as ``minelight enhance`` builds them for a video."""
    method = chain.split(",")[0].split()[0]
    recipe = resolve(method, "video", denoise=False if "no-denoise" in chain else None)
    enhancer = Enhancer.from_resolved(recipe, threads=enhance_threads(method))
    smoothing = SmoothingConfig() if recipe.smoothing else None
    if "float" in chain:
        enhancer._takes_luma_path = lambda smoother: False  # the 0.2.0 path: float RGB frames, one at a time
        return enhancer, 1, smoothing
    return enhancer, 0, smoothing  # 0 workers: as enhance_video picks


def enhance_alone(enhancer: Enhancer, frames: list, count: int, workers: int, float_path: bool = False) -> float:
    """FPS of enhancing ``count`` uint8 frames in memory (cycled), with ``workers`` threads."""
    stream = (frames[i % len(frames)] for i in range(count))
    denoiser = enhancer.denoiser()
    start = time.perf_counter()
    if float_path:
        for frame in stream:
            to_uint8(enhancer.enhance_array(from_uint8(frame), None, denoiser))
    else:
        for _ in enhanced_frames(enhancer, stream, denoiser=denoiser, workers=workers):
            pass
    return count / (time.perf_counter() - start)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--frames", type=int, default=150)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--preset", default="ultrafast", help="x264 preset of the output (the input is veryfast)")
    ap.add_argument("--json", type=Path, help="write the figures into this results.json (key video_chain)")
    args = ap.parse_args()
    frames = [to_uint8(f) for f in make_frames(DEFAULT_FRAME, 720, 1280, 10)]
    e2e: dict[str, list[float]] = {c: [] for c in CHAINS}
    alone: dict[str, list[float]] = {k: [] for k in ("fast, 1 worker", "fast, 2 workers", "fast, float RGB path",
                                                      "clahe")}
    with tempfile.TemporaryDirectory() as tmp:
        src = Path(tmp) / "in.mp4"
        t0 = time.perf_counter()
        with VideoWriter(src, 1280, 720, 25) as writer:
            for i in range(args.frames):
                writer.write(frames[i % len(frames)])
        encode_fps = args.frames / (time.perf_counter() - t0)
        t0 = time.perf_counter()
        with VideoReader(src) as reader:
            decoded = sum(1 for _ in reader)
        decode_fps = decoded / (time.perf_counter() - t0)
        for r in range(args.rounds):
            for chain in CHAINS:
                enhancer, workers, smoothing = chain_enhancer(chain)
                result = enhance_video(enhancer, src, Path(tmp) / "out.mp4", smoothing, progress=False,
                                       preset=args.preset, workers=workers)
                e2e[chain].append(result.fps)
            fast = chain_enhancer("fast")[0]
            alone["fast, 1 worker"].append(enhance_alone(fast, frames, args.frames, 1))
            alone["fast, 2 workers"].append(enhance_alone(fast, frames, args.frames, 2))
            alone["fast, float RGB path"].append(enhance_alone(fast, frames, args.frames, 1, float_path=True))
            alone["clahe"].append(enhance_alone(chain_enhancer("clahe")[0], frames, args.frames, 1))
            print(f"round {r + 1}: " + ", ".join(f"{c} {e2e[c][-1]:.1f}" for c in CHAINS), flush=True)
    med = {c: statistics.median(v) for c, v in e2e.items()}
    med_alone = {c: statistics.median(v) for c, v in alone.items()}
    lines = ["| decode + enhance + encode, 720p H.264 | FPS | × CLAHE's |", "|---|---|---|"]
    lines += [f"| {c} | {med[c]:.1f} | {med[c] / med['clahe']:.2f} |" for c in CHAINS]
    lines += ["", "| enhancement alone, frames in memory | FPS |", "|---|---|"]
    lines += [f"| {c} | {v:.1f} |" for c, v in med_alone.items()]
    lines += ["", f"decode alone {decode_fps:.1f} FPS, encode alone (veryfast) {encode_fps:.1f} FPS"]
    print("\n".join(lines))
    if args.json:
        data = json.loads(args.json.read_text())
        command = f"python benchmarks/video_end_to_end.py --frames {args.frames} --rounds {args.rounds}"
        data["runs"]["video-e2e"] = {"date": str(date.today()), "machine": machine(), "command": command}
        data["speed"] = [s for s in data["speed"] if "decode + enhance + encode" not in s["what"]]  # one source
        data["video_chain"] = {
            "run": "video-e2e",
            "clip": f"1280x720 H.264, {args.frames} frames (a dark static scene with new sensor noise in every frame), "
                    f"output x264 {args.preset}; medians of {args.rounds} alternating rounds in one process",
            "chains": [{"chain": c, "fps": round(med[c], 1), "ratio_clahe": round(med[c] / med["clahe"], 2)}
                       for c in CHAINS],
            "alone": [{"what": c, "fps": round(v, 1)} for c, v in med_alone.items()],
            "decode_fps": round(decode_fps, 1), "encode_fps": round(encode_fps, 1)}
        args.json.write_text(json.dumps(data, indent=1, ensure_ascii=False) + "\n")


if __name__ == "__main__":
    main()
