"""The inference runtime: the networks' ONNX graphs run by ONNX Runtime, no PyTorch needed.

A runner takes float32 NumPy arrays in the graph's input order and returns a tuple of output arrays.
The graphs of a weights file ``W.safetensors`` lie beside it (``W.onnx``, and ``W.encode.onnx`` … for
tiling; ``minelight export`` writes them) and record the weights' SHA-256; a graph that does not match
its weights is not used. Weights without matching graphs (a model just trained) run on PyTorch when it
is installed (``pip install -e ".[train]"``) and are otherwise refused with a one-line error.

Back ends: ``auto`` (the graph beside the weights, else PyTorch), ``onnxruntime`` (that graph, else one
exported in memory), ``torch`` (PyTorch).
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from ..weights import WeightsError, graph_path, weights_digest


BACKENDS = ("auto", "onnxruntime", "torch")


class OrtRunner:
    """One ONNX graph in an onnxruntime session (CPU; ``threads`` 0 = onnxruntime's choice)."""

    def __init__(self, data: bytes | str, threads: int = 0):
        import onnxruntime as ort

        options = ort.SessionOptions()
        if threads > 0:
            options.intra_op_num_threads = threads
        self.session = ort.InferenceSession(data, options, providers=["CPUExecutionProvider"])
        self.input_names = tuple(i.name for i in self.session.get_inputs())
        self.metadata = dict(self.session.get_modelmeta().custom_metadata_map)

    def __call__(self, *arrays: np.ndarray) -> tuple[np.ndarray, ...]:
        return tuple(self.session.run(None, dict(zip(self.input_names, arrays))))


class TorchRunner:
    """The same graph run by PyTorch (the ``[train]`` extra): ``module`` is a graph of
    :mod:`minelight.models.export`."""

    def __init__(self, module, threads: int = 0):
        import torch

        if threads > 0:
            torch.set_num_threads(threads)
        self.module, self.torch = module.eval(), torch
        self.input_names = module.input_names

    def __call__(self, *arrays: np.ndarray) -> tuple[np.ndarray, ...]:
        with self.torch.inference_mode():
            outputs = self.module(*(self.torch.from_numpy(a) for a in arrays))
        outputs = outputs if isinstance(outputs, tuple) else (outputs,)
        return tuple(o.numpy() for o in outputs)


def matching_graph(weights: str | os.PathLike, stage: str = "", threads: int = 0) -> OrtRunner | None:
    """The runner of the graph beside ``weights`` (``stage`` ``""``: the whole enhancer; ``encode``,
    ``bottleneck``, ``decode``: a tiling stage of Net-S / Net-T), ``None`` if there is none made from
    these weights."""
    path = graph_path(Path(weights).with_suffix(".onnx"), stage)
    if not path.is_file():
        return None
    try:
        runner = OrtRunner(str(path), threads)
    except Exception as err:  # noqa: BLE001 - onnxruntime raises its own types for bad files
        raise WeightsError(f"{path}: not a valid ONNX graph ({str(err).splitlines()[0][:120]})") from None
    return runner if runner.metadata.get("weights_sha256") == weights_digest(weights) else None


def graph_runner(weights: str | os.PathLike, stage: str = "", backend: str = "auto",
                 threads: int = 0) -> OrtRunner | TorchRunner:
    """A runner of ``weights``' graph ``stage`` on ``backend`` (see the module's docstring)."""
    if backend not in BACKENDS:
        raise ValueError(f"unknown backend {backend!r}; choose from {', '.join(BACKENDS)}")
    runner = matching_graph(weights, stage, threads) if backend != "torch" else None
    if runner is not None:
        return runner
    try:
        from ..models.export import graph_for, onnx_bytes
        from ..models.weights import load_weights
    except ImportError:
        raise WeightsError(f"{weights}: no ONNX graph made from these weights beside them; write one with "
                           "`minelight export` (needs PyTorch: pip install -e \".[train]\")") from None
    model, _ = load_weights(weights)
    if backend == "onnxruntime":
        return OrtRunner(onnx_bytes(model, stage=stage), threads)
    return TorchRunner(graph_for(model, stage), threads)
