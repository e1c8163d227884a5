"""End-to-end video speed: decode + enhance + encode of a 720p H.264 file with the fast model.

    python benchmarks/video_end_to_end.py --frames 150 --out report/video_end_to_end.md

Writes a synthetic dark 1280x720 H.264 clip (the synthesiser's static scene with per-frame noise), then
times ``minelight.video.job.enhance_video`` on it (PyAV decode, ``--method``, x264 ``--preset`` encode,
overlapped in threads) and, for the breakdown in the same run, decoding alone, encoding alone and the
enhancement alone on frames already in memory.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from minelight.enhance.enhancer import Enhancer
from minelight.io import from_uint8, to_uint8
from minelight.enhance.temporal import SmoothingConfig, TemporalSmoother
from minelight.video.streams import VideoReader, VideoWriter
from minelight.video.job import enhance_threads, enhance_video

from video_speed import DEFAULT_FRAME, make_frames


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--frames", type=int, default=150)
    ap.add_argument("--method", default="fast")
    ap.add_argument("--backend", default="auto")
    ap.add_argument("--threads", type=int, default=0, help="enhancement threads (0: as `minelight enhance` picks)")
    ap.add_argument("--preset", default="ultrafast", help="x264 preset of the output (the input is veryfast)")
    ap.add_argument("--out", type=Path)
    ap.add_argument("--no-denoise", action="store_true", help="without the temporal denoiser (on for fast on video)")
    ap.add_argument("--chroma", type=int, help="colour-noise radius (default: the method's, as `minelight enhance`)")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        src, dst = Path(tmp) / "in.mp4", Path(tmp) / "out.mp4"
        frames = [to_uint8(f) for f in make_frames(DEFAULT_FRAME, 720, 1280, 10)]
        t0 = time.perf_counter()
        with VideoWriter(src, 1280, 720, 25) as writer:
            for i in range(args.frames):
                writer.write(frames[i % len(frames)])
        encode_s = time.perf_counter() - t0
        t0 = time.perf_counter()
        with VideoReader(src) as reader:
            decoded = sum(1 for _ in reader)
        decode_s = time.perf_counter() - t0
        enhancer = Enhancer.from_recipe(args.method, "video", threads=enhance_threads(args.method, args.threads),
                                        backend=args.backend, chroma=args.chroma,
                                        denoise=False if args.no_denoise else None)  # as `minelight enhance` on a video
        result = enhance_video(enhancer, src, dst, progress=False, preset=args.preset)
        smoother = TemporalSmoother(SmoothingConfig())  # enhancement alone, same frames, same run
        inputs = [from_uint8(f) for f in frames]
        t0 = time.perf_counter()
        for i in range(args.frames):
            enhancer.enhance_array(inputs[i % len(inputs)], smoother)
        enhance_s = time.perf_counter() - t0
        t0 = time.perf_counter()
        with VideoWriter(Path(tmp) / "re.mp4", 1280, 720, 25, preset=args.preset) as writer:
            for i in range(args.frames):
                writer.write(frames[i % len(frames)])
        encode_preset_s = time.perf_counter() - t0
    lines = [f"Clip: 1280x720, {decoded} frames, H.264 (written with x264 veryfast, crf 20). Method {args.method}, "
             f"backend {enhancer.backend}, output x264 {args.preset}, crf 20, smoothing on, colour-noise radius "
             f"{enhancer.chroma}{' (chroma from a 320-px view)' if enhancer.chroma_view else ''}.", "",
             "| stage | FPS |", "|---|---|",
             f"| decode only | {decoded / decode_s:.1f} |", f"| encode only, veryfast | {args.frames / encode_s:.1f} |",
             f"| encode only, {args.preset} | {args.frames / encode_preset_s:.1f} |",
             f"| enhance only (frames in memory) | {args.frames / enhance_s:.1f} |",
             f"| decode + enhance + encode, overlapped (`minelight enhance`) | {result.fps:.1f} |"]
    print("\n".join(lines))
    if args.out:
        args.out.write_text("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
