"""Where a live camera's frame time goes with the fast model, stage by stage: what batching the network of
several cameras on a GPU could save at most.

    python benchmarks/frame_costs.py --write docs/results.json

For a dark noisy H.264 clip at 1280x720 (a main stream) and at 640x360 (a substream), each frame goes through
what a `minelight serve` camera does with ``-m fast`` (temporal denoising on): decode (PyAV), prepare (the
views and the denoiser, :meth:`Enhancer.prepare_frame`), the network (the ONNX graph on its low-resolution
view, timed inside), the full-resolution finish (the luma path), and the H.264 live-view encode (the live
view's own encoder, :func:`minelight.serve.live.live_codec`). Milliseconds per frame are medians over
``--frames`` frames after ``--warmup``, the enhancement on one thread (the encoder with its own, as in
serve), in one process; the shares are of the sum.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the tests' clip maker

from tests.serve.helpers import write_clip  # noqa: E402

from machine import machine  # noqa: E402

RUN = "frame-costs"
COMMAND = "python benchmarks/frame_costs.py --write docs/results.json"


class TimedRunner:
    """Wraps a graph runner and keeps the seconds of each call."""

    def __init__(self, runner):
        self.runner, self.seconds = runner, []

    def __call__(self, *arrays):
        start = time.perf_counter()
        out = self.runner(*arrays)
        self.seconds.append(time.perf_counter() - start)
        return out


def stage_costs(clip: Path, frames: int, warmup: int) -> dict:
    """Median ms per frame of each stage (see the module docstring)."""
    import av

    from minelight.enhance.enhancer import Enhancer
    from minelight.enhance.recipes import resolve
    from minelight.serve.fmp4 import TIMESCALE
    from minelight.serve.live import live_codec

    enhancer = Enhancer.from_resolved(resolve("fast", "serve"), threads=1)
    timed = enhancer.runner = TimedRunner(enhancer.runner)
    denoiser = enhancer.denoiser()
    times = {k: [] for k in ("decode", "prepare", "network", "finish", "encode")}
    encoder = None
    with av.open(str(clip)) as container:
        stream = container.streams.video[0]
        stream.thread_type, stream.codec_context.thread_count = "SLICE", 1
        decoded = container.decode(stream)
        for i in range(warmup + frames):
            t0 = time.perf_counter()
            frame = next(decoded).to_ndarray(format="rgb24")
            t1 = time.perf_counter()
            finish = enhancer.prepare_frame(frame, None, denoiser)
            t2 = time.perf_counter()
            out = finish()
            t3 = time.perf_counter()
            if encoder is None:
                encoder = live_codec(out.shape[1], out.shape[0], 25)
            picture = av.VideoFrame.from_ndarray(out, format="rgb24").reformat(format="yuv420p")
            picture.pts = i * TIMESCALE // 25  # the encoder's clock: fmp4.TIMESCALE ticks, 25 FPS
            packets = encoder.encode(picture)
            t4 = time.perf_counter()
            if i >= warmup:
                network = timed.seconds[-1]
                for key, seconds in (("decode", t1 - t0), ("prepare", t2 - t1), ("network", network),
                                     ("finish", t3 - t2 - network), ("encode", t4 - t3)):
                    times[key].append(seconds)
            del packets
    ms = {k: round(1000 * statistics.median(v), 2) for k, v in times.items()}
    total = sum(ms.values())
    return {"ms": ms, "total_ms": round(total, 2), "network_share": round(ms["network"] / total, 3)}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--frames", type=int, default=60)
    ap.add_argument("--warmup", type=int, default=10)
    ap.add_argument("--write", type=Path, help="results.json to write the figures into (key frame_costs)")
    args = ap.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="mlcosts"))
    rows = []
    for name, size in (("main stream 1280x720", (720, 1280)), ("substream 640x360", (360, 640))):
        clip = write_clip(tmp / f"{size[1]}.mp4", frames=args.frames + args.warmup + 2, size=size, fps=25)
        row = {"stream": name, **stage_costs(clip, args.frames, args.warmup)}
        print(json.dumps(row), flush=True)
        rows.append(row)
    if args.write:
        data = json.loads(args.write.read_text())
        data["runs"][RUN] = {"date": str(date.today()), "machine": machine("onnxruntime CPU, one thread"),
                             "command": COMMAND}
        data["frame_costs"] = {"run": RUN, "rows": rows,
                               "chain": "fast model, serve recipe (temporal denoising on), one thread; the "
                                        "live view's H.264 encoder as serve opens it (x264 ultrafast, zerolatency, "
                                        "baseline, its own threads)"}
        args.write.write_text(json.dumps(data, indent=1, ensure_ascii=False) + "\n")


if __name__ == "__main__":
    main()
