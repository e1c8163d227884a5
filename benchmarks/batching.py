"""What batching the fast model's network across cameras gives on a CPU: milliseconds per frame at batch
sizes 1 to 16, and whether a batch gives the same corrections as one frame at a time.

    python benchmarks/batching.py --write docs/results.json      # needs the [train] extra (PyTorch, onnx)

The shipped fast model's graph takes one frame (batch 1). This script exports the same weights with a
dynamic batch dimension (PyTorch's ONNX exporter, in memory; nothing is written beside the weights), and
times onnxruntime's CPU provider on the network's input of a 1280x720 frame (its 160x90 view), with
``--threads`` threads, over ``--runs`` runs after a warm-up: per frame, median. A GPU (onnxruntime-gpu, the
CUDA provider) is where batching is expected to pay; this is the CPU figure beside the plan in
docs/serve.md.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from datetime import date
from pathlib import Path

import numpy as np

from machine import machine

RUN = "batching"
COMMAND = "python benchmarks/batching.py --write docs/results.json"


def batched_graph() -> bytes:
    """The shipped fast model's graph with a dynamic batch dimension, as ONNX bytes."""
    import logging
    import warnings

    import torch

    from minelight.models.export import graph_for
    from minelight.models.weights import load_weights
    from minelight.weights import shipped_weights

    logging.getLogger("torch.onnx").setLevel(logging.ERROR)
    model, _ = load_weights(shipped_weights("fast"))
    graph = graph_for(model).eval()
    batch = torch.export.Dim("batch", min=1, max=64)
    shapes = {name: {0: batch, **dims} for name, dims in graph.dynamic_shapes().items()}
    example = tuple(t.repeat(2, 1, 1, 1) for t in graph.example(70, 98, low_side=38))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        program = torch.onnx.export(graph, example, None, input_names=list(graph.input_names),
                                    output_names=list(graph.output_names), dynamic_shapes=shapes, dynamo=True,
                                    external_data=False, verbose=False)
    return program.model_proto.SerializeToString()


def per_frame_ms(session, batch: int, h: int, w: int, runs: int) -> float:
    rng = np.random.default_rng(0)
    feed = {"low": rng.random((batch, 3, h, w), np.float32), "previous": np.zeros((batch, 6, h, w), np.float32),
            "momentum": np.zeros((batch, 1, h, w), np.float32)}
    session.run(None, feed)
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        session.run(None, feed)
        times.append(time.perf_counter() - start)
    return 1000 * statistics.median(times) / batch


def same_as_one_by_one(session, h: int, w: int, batch: int = 4) -> float:
    """Largest difference between a batch's corrections and those of its frames run one at a time."""
    rng = np.random.default_rng(1)
    low = rng.random((batch, 3, h, w), np.float32)
    zeros6, zeros1 = np.zeros((batch, 6, h, w), np.float32), np.zeros((batch, 1, h, w), np.float32)
    (together,) = session.run(None, {"low": low, "previous": zeros6, "momentum": zeros1})
    alone = [session.run(None, {"low": low[i:i + 1], "previous": zeros6[i:i + 1], "momentum": zeros1[i:i + 1]})[0]
             for i in range(batch)]
    return float(np.abs(together - np.concatenate(alone)).max())


def main() -> None:
    import onnxruntime as ort

    from minelight.enhance.enhancer import low_resolution_size

    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--batches", default="1,2,4,8,16")
    ap.add_argument("--threads", default="1,2", help="onnxruntime intra-op threads to try")
    ap.add_argument("--runs", type=int, default=20)
    ap.add_argument("--write", type=Path, help="results.json to write the figures into (key batching)")
    args = ap.parse_args()
    data = batched_graph()
    h, w = low_resolution_size(720, 1280, 160)
    rows = []
    for threads in (int(t) for t in args.threads.split(",")):
        options = ort.SessionOptions()
        options.intra_op_num_threads = threads
        session = ort.InferenceSession(data, options, providers=["CPUExecutionProvider"])
        for batch in (int(b) for b in args.batches.split(",")):
            ms = per_frame_ms(session, batch, h, w, args.runs)
            rows.append({"threads": threads, "batch": batch, "ms_per_frame": round(ms, 2)})
            print(json.dumps(rows[-1]), flush=True)
        difference = same_as_one_by_one(session, h, w)
    for row in rows:
        first = next(r for r in rows if r["threads"] == row["threads"] and r["batch"] == 1)
        row["speedup"] = round(first["ms_per_frame"] / row["ms_per_frame"], 2)
    print(f"largest difference, batch against one by one: {difference:.2e}")
    if args.write:
        results = json.loads(args.write.read_text())
        results["runs"][RUN] = {"date": str(date.today()), "machine": machine("onnxruntime CPU"), "command": COMMAND}
        results["batching"] = {"run": RUN, "input": f"the fast network on a {w}x{h} view (a 1280x720 frame)",
                               "rows": rows, "max_difference": float(f"{difference:.2e}")}
        args.write.write_text(json.dumps(results, indent=1, ensure_ascii=False) + "\n")


if __name__ == "__main__":
    sys.exit(main())
