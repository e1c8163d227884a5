"""The seam where a video split at keyframes (``minelight enhance --ray``) is joined: per-frame mean absolute
difference (0-255) between the joined output and the video enhanced in one piece (``minelight enhance``
without ``--ray``), at each cut and away from the cuts, with the warm-up and without it.

    python benchmarks/segment_seam.py [--seconds 20] [--size 320x240] [--fps 25] [--keyint 50] [--segment 4] \
        [--json docs/results.json]

The clip is synthetic: a dark static scene with fresh sensor noise in every frame and a lamp that moves,
encoded with a keyframe every ``--keyint`` frames (a camera's fixed GOP). Segments are enhanced and joined
by the functions the cluster's workers run (:mod:`minelight.video.segments`), here one after the other.
"""

from __future__ import annotations

import argparse
import json
import sys
from datetime import date
import tempfile
from pathlib import Path

import numpy as np

from machine import machine


def write_clip(path: Path, frames: int, size: tuple[int, int], fps: int, keyint: int) -> None:
    import av

    h, w = size
    rng = np.random.default_rng(0)
    yy, xx = np.mgrid[0:h, 0:w] / max(h, w)
    base = 0.12 * np.stack([0.6 + 0.3 * np.sin(6 * xx + k) * np.cos(4 * yy - k) for k in range(3)], axis=2)
    with av.open(str(path), "w") as c:
        s = c.add_stream("libx264", rate=fps)
        s.width, s.height, s.pix_fmt = w, h, "yuv420p"
        s.options = {"crf": "18", "preset": "ultrafast", "g": str(keyint), "keyint_min": str(keyint),
                     "sc_threshold": "0"}
        for i in range(frames):
            cx, cy = (0.2 + 0.6 * (i / frames)) * w, 0.4 * h
            lamp = 0.5 * np.exp(-(((np.arange(w) - cx) ** 2)[None, :] + ((np.arange(h) - cy) ** 2)[:, None]) / 200.0)
            img = base + lamp[..., None] + 0.02 * rng.standard_normal(base.shape)
            img = (np.clip(img, 0, 1) * 255 + 0.5).astype(np.uint8)
            c.mux(s.encode(av.VideoFrame.from_ndarray(img, format="rgb24")))
        c.mux(s.encode())


def frames_of(path: Path) -> np.ndarray:
    from minelight.video.streams import VideoReader

    with VideoReader(path) as r:
        return np.stack(list(r)).astype(np.float32)  # (N, H, W, 3)


def _raw_seam(enhancer, inputs: np.ndarray, segments, ticks: int, cuts: list[int]) -> float:
    """Mean abs difference at the cuts between the enhanced frames (before encoding) of a continuous run and
    of segments started at their warm-up: the warm-up's own effect, without the encoder's."""
    state = enhancer.denoiser()
    whole = {c: None for c in cuts}
    for i, frame in enumerate(inputs[:max(cuts) + 1]):
        out = enhancer.enhance_frame(frame, None, state)
        if i in whole:
            whole[i] = out.astype(np.float32)
    diffs = []
    for s, c in zip(segments[1:], cuts):
        state = enhancer.denoiser()
        lo = c if s.warm is None else round(s.warm / ticks)
        for frame in inputs[lo:c + 1]:
            out = enhancer.enhance_frame(frame, None, state)
        diffs.append(float(np.abs(out.astype(np.float32) - whole[c]).mean()))
    return float(np.mean(diffs))


def main(argv=None) -> None:
    from minelight.enhance.enhancer import Enhancer
    from minelight.video.job import enhance_video
    from minelight.video.segments import (enhance_segment, join_segments, part_path, plan_segments, prepare_parts,
                                          probe_keyframes, remove_parts)

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seconds", type=float, default=20)
    ap.add_argument("--size", default="320x240")
    ap.add_argument("--fps", type=int, default=25)
    ap.add_argument("--keyint", type=int, default=50)
    ap.add_argument("--segment", type=float, default=4.0)
    ap.add_argument("--methods", default="fast,student")
    ap.add_argument("--json", type=Path, help="write the figures into this results.json (key segment_seam)")
    args = ap.parse_args(argv)
    rows = []
    w, h = map(int, args.size.split("x"))
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        clip = tmp / "clip.mp4"
        write_clip(clip, round(args.seconds * args.fps), (h, w), args.fps, args.keyint)
        keys = probe_keyframes(clip)
        print(f"clip: {keys.frames} frames {w}x{h} at {args.fps} FPS, keyframe every {args.keyint}; "
              f"segments of {args.segment} s")
        print("| method | warm-up frames | segments | before encoding, at the cuts: mean | joined file, at the cuts: "
              "mean (max) | 1-5 frames after: mean | away from cuts: mean | frame count and timestamps |")
        print("|---|---|---|---|---|---|---|---|")
        inputs = frames_of(clip).astype(np.uint8)
        for method in args.methods.split(","):
            enhancer = Enhancer.from_recipe(method, mode="video", threads=1)
            enhance_video(enhancer, clip, tmp / "local.mp4", None, progress=False)
            local = frames_of(tmp / "local.mp4")
            for warmup in (16, 0):
                segments = plan_segments(keys, args.segment, warmup)
                out = tmp / f"{method}{warmup}.mp4"
                prepare_parts(out, clip, segments)
                for s in segments:
                    enhance_segment(enhancer, clip, s, part_path(out, s.index))
                join_segments([part_path(out, s.index) for s in segments], out)
                remove_parts(out)
                joined = frames_of(out)
                same = joined.shape == local.shape
                diff = np.abs(joined - local).mean(axis=(1, 2, 3))  # (N,)
                cuts = [round(s.start / keys.frame_ticks) for s in segments[1:]]
                after = [c + k for c in cuts for k in range(1, 6)]
                near = {c + k for c in cuts for k in range(-2, 12)}
                away = [i for i in range(len(diff)) if i not in near and i >= cuts[0]]
                raw = _raw_seam(enhancer, inputs, segments, keys.frame_ticks, cuts)
                print(f"| {method} | {warmup} | {len(segments)} | {raw:.2f} | {diff[cuts].mean():.2f} "
                      f"({diff[cuts].max():.2f}) | {diff[after].mean():.2f} | {diff[away].mean():.2f} | "
                      f"{'same' if same else 'DIFFERENT'} |")
                sys.stdout.flush()
                rows.append({"method": method, "warmup": warmup, "segments": len(segments), "raw": round(raw, 2),
                             "cut": round(float(diff[cuts].mean()), 2), "cut_max": round(float(diff[cuts].max()), 2),
                             "after": round(float(diff[after].mean()), 2), "away": round(float(diff[away].mean()), 2),
                             "same_frames": bool(same)})
    if args.json:
        data = json.loads(args.json.read_text())
        command = "python benchmarks/segment_seam.py --json docs/results.json"
        data["runs"]["segment-seam"] = {"date": str(date.today()), "machine": machine(),
                                        "command": command}
        data["segment_seam"] = {"run": "segment-seam",
                                "clip": f"a synthetic dark {w}x{h} clip at {args.fps} FPS, {args.seconds:g} s, sensor "
                                        f"noise in every frame and a moving lamp, a keyframe every {args.keyint} "
                                        f"frames, segments of {args.segment:g} s",
                                "rows": rows}
        args.json.write_text(json.dumps(data, indent=1, ensure_ascii=False) + "\n")


if __name__ == "__main__":
    main()
