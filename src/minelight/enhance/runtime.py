"""Inference back ends: the same exported graph (``minelight.train.export``) run by PyTorch or ONNX Runtime.

A runner takes float32 NumPy arrays in the graph's input order and returns a tuple of output arrays.
``onnxruntime`` uses the ``.onnx`` file next to the weights (``WEIGHTS.onnx``, e.g. the shipped
``weights/fast.onnx``) when its recorded weights digest matches, and otherwise exports the graph in memory.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import torch
from torch import nn

from ..train.export import graph_for, onnx_bytes, weights_digest

BACKENDS = ("auto", "torch", "onnxruntime")


class TorchRunner:
    def __init__(self, model: nn.Module):
        self.graph = graph_for(model).eval()
        self.input_names = self.graph.input_names

    @torch.inference_mode()
    def __call__(self, *arrays: np.ndarray) -> tuple[np.ndarray, ...]:
        outputs = self.graph(*(torch.from_numpy(a) for a in arrays))
        outputs = outputs if isinstance(outputs, tuple) else (outputs,)
        return tuple(o.numpy() for o in outputs)


class OrtRunner:
    def __init__(self, data: bytes | str, threads: int = 0):
        import onnxruntime as ort

        options = ort.SessionOptions()
        if threads > 0:
            options.intra_op_num_threads = threads
        self.session = ort.InferenceSession(data, options, providers=["CPUExecutionProvider"])
        self.input_names = tuple(i.name for i in self.session.get_inputs())

    def __call__(self, *arrays: np.ndarray) -> tuple[np.ndarray, ...]:
        return tuple(self.session.run(None, dict(zip(self.input_names, arrays))))


def matching_onnx(weights: str | os.PathLike) -> Path | None:
    """``WEIGHTS.onnx`` beside ``weights`` if it records the weights' SHA-256, else ``None``."""
    path = Path(weights).with_suffix(".onnx")
    if not path.is_file():
        return None
    try:
        import onnx

        proto = onnx.load(str(path), load_external_data=False)
    except Exception:  # an unreadable file is simply not a match
        return None
    recorded = {p.key: p.value for p in proto.metadata_props}.get("weights_sha256")
    return path if recorded == weights_digest(weights) else None


def onnxruntime_available() -> bool:
    try:
        import onnxruntime  # noqa: F401
    except ImportError:
        return False
    return True


def make_runner(model: nn.Module, weights: str | os.PathLike, backend: str = "torch",
                threads: int = 0) -> TorchRunner | OrtRunner:
    """A runner for ``model`` (loaded from ``weights``). ``auto``: onnxruntime if it is installed and a
    matching ``.onnx`` exists beside the weights, else torch."""
    if backend not in BACKENDS:
        raise ValueError(f"unknown backend {backend!r}; choose from {', '.join(BACKENDS)}")
    prepared = matching_onnx(weights) if backend != "torch" else None
    if backend == "auto":
        backend = "onnxruntime" if prepared is not None and onnxruntime_available() else "torch"
    if backend == "torch":
        return TorchRunner(model)
    if not onnxruntime_available():
        raise ValueError("backend onnxruntime: the onnxruntime package is not installed")
    return OrtRunner(str(prepared) if prepared is not None else onnx_bytes(model), threads)
