"""ONNX export of the neural enhancers, checked against PyTorch.

    minelight export --method student -o student.onnx
    minelight export --method fast -o fast.onnx

Image models (``student``, ``zerodce``, ``teacher``) become a graph ``input`` ``(1, 3, H, W)`` float32 in
[0, 1] and ``brightness`` ``(1,)`` float32 (the operator's control of :mod:`minelight.enhance.brightness`, 1 = as
learned) -> ``output`` of the same shape, clamped to [0, 1]. The fast model becomes a graph with the
temporal smoothing inside (see :class:`FastGraph`; its output is a correction, so the brightness curve is
applied by the caller after the correction, as it is by ``Enhancer``). All heights and widths are dynamic. After export the
graph is checked with ``onnx.checker`` and run with onnxruntime on random odd-sized inputs; the largest
absolute difference to PyTorch must be at most ``tolerance``.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import torch
from torch import nn

from ..io import atomic_write_bytes
from ..models.encoder_decoder import EncoderDecoder
from ..models.fast import FastStudent, downsample
from ..weights import graph_path, weights_digest  # noqa: F401 - weights_digest: part of this module's API


class ImageGraph(nn.Module):
    """``input (1, 3, H, W)``, ``brightness (1,)`` -> ``output (1, 3, H, W)``: the model's output clamped to
    [0, 1], then raised to ``1 / brightness`` (:func:`minelight.enhance.brightness.adjust_brightness`; 1 = as is)."""

    input_names, output_names = ("input", "brightness"), ("output",)

    def __init__(self, model: nn.Module):
        super().__init__()
        self.model = model.eval()

    def forward(self, x: torch.Tensor, brightness: torch.Tensor) -> torch.Tensor:
        return self.model(x)[0].clamp(0.0, 1.0).pow(1.0 / brightness.reshape(1, 1, 1, 1))

    def example(self, height: int, width: int, seed: int = 0, low_side: int = 0) -> tuple[torch.Tensor, ...]:
        g = torch.Generator().manual_seed(seed)
        return torch.rand(1, 3, height, width, generator=g), 0.5 + 1.5 * torch.rand(1, generator=g)

    def dynamic_shapes(self) -> dict:
        h, w = torch.export.Dim("height", min=1, max=8192), torch.export.Dim("width", min=1, max=8192)
        return {"x": {2: h, 3: w}, "brightness": None}


class FastGraph(nn.Module):
    """The fast model's low-resolution part with temporal smoothing of its correction, as one graph.

    Inputs: ``low`` ``(1, 3, h, w)`` (the frame area-downsampled to longest side ``low_side``); ``previous``
    ``(1, 6, h, w)`` (the last frame's correction, zeros for a still image); ``momentum`` ``(1, 1, h, w)``
    in [0, 1] (0 = no smoothing). Output: ``correction`` = ``momentum * previous + (1 - momentum) * new``,
    the coefficients ``[A, b]``; the enhanced frame is ``A * frame + b`` with ``A``, ``b`` bilinearly
    upsampled to the frame (``models.fast.apply_correction_array``), which runs outside the graph because
    OpenCV does it several times faster at full resolution.
    """

    input_names, output_names = ("low", "previous", "momentum"), ("correction",)

    def __init__(self, model: FastStudent):
        super().__init__()
        self.model = model.eval()

    def forward(self, low: torch.Tensor, previous: torch.Tensor, momentum: torch.Tensor) -> torch.Tensor:
        new, _ = self.model.correction(low)  # (1, 6, h, w)
        return momentum * previous + (1.0 - momentum) * new

    def example(self, height: int, width: int, seed: int = 0, low_side: int = 0) -> tuple[torch.Tensor, ...]:
        """Random inputs for an ``height x width`` frame whose low stream has longest side ``low_side``
        (default: the model's)."""
        g = torch.Generator().manual_seed(seed)
        x = torch.rand(1, 3, height, width, generator=g)
        low = downsample(x, low_side or self.model.config.low_side)
        h, w = low.shape[-2:]
        return low, torch.rand(1, 6, h, w, generator=g), 0.8 * torch.rand(1, 1, h, w, generator=g)

    def dynamic_shapes(self) -> dict:
        h, w = torch.export.Dim("low_height", min=1, max=8192), torch.export.Dim("low_width", min=1, max=8192)
        low = {2: h, 3: w}
        return {"low": low, "previous": low, "momentum": low}


class EncodeGraph(nn.Module):
    """Tiling stage 1 of an encoder-decoder (:mod:`minelight.enhance.tiling`): ``input`` ``(1, 3, H, W)``,
    ``H`` and ``W`` multiples of ``2**(levels-1)`` -> ``feat0 … featL-1``, the encoder features
    ``(1, widths[i], H/2^i, W/2^i)`` (the last one before the bottleneck). Local."""

    def __init__(self, model: EncoderDecoder):
        super().__init__()
        self.model = model.eval()
        self.input_names = ("input",)
        self.output_names = tuple(f"feat{i}" for i in range(len(model.widths)))

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, ...]:
        return tuple(self.model.encode(x))

    def example(self, height: int, width: int, seed: int = 0, low_side: int = 0) -> tuple[torch.Tensor, ...]:
        m = self.model.multiple
        g = torch.Generator().manual_seed(seed)
        return (torch.rand(1, 3, -(-height // m) * m, -(-width // m) * m, generator=g),)

    def dynamic_shapes(self) -> dict:
        m = self.model.multiple
        h, w = torch.export.Dim("height", min=1, max=1024), torch.export.Dim("width", min=1, max=1024)
        return {"x": {2: m * h, 3: m * w}}


class BottleneckGraph(nn.Module):
    """Tiling stage 2, run once on the whole image's deepest features: ``deep`` ``(1, C, h, w)`` ->
    ``bottleneck`` ``(1, C, h, w)`` and ``global_term`` ``(1, 3, 1, 1)`` (the per-image log-gain of the
    affine head; zeros for a residual head). Global: it pools over the whole map."""

    input_names, output_names = ("deep",), ("bottleneck", "global_term")

    def __init__(self, model: EncoderDecoder):
        super().__init__()
        self.model = model.eval()

    def forward(self, deep: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        out = self.model.bottleneck(deep)
        term = self.model.global_term(out)
        return out, (term if term is not None else out.new_zeros(1, 3, 1, 1))

    def example(self, height: int, width: int, seed: int = 0, low_side: int = 0) -> tuple[torch.Tensor, ...]:
        g = torch.Generator().manual_seed(seed)
        m = self.model.multiple
        return (torch.rand(1, self.model.widths[-1], -(-height // m), -(-width // m), generator=g),)

    def dynamic_shapes(self) -> dict:
        h, w = torch.export.Dim("height", min=1, max=8192), torch.export.Dim("width", min=1, max=8192)
        return {"deep": {2: h, 3: w}}


class DecodeGraph(nn.Module):
    """Tiling stage 3, per tile: ``input`` (the padded tile ``(1, 3, H, W)``), ``global_term``
    ``(1, 3, 1, 1)``, ``feat0 … featL-2`` (the tile's skips) and ``bottleneck`` (the tile's window of
    stage 2's map) -> ``output`` ``(1, 3, H, W)`` clamped to [0, 1]. Local."""

    def __init__(self, model: EncoderDecoder):
        super().__init__()
        self.model = model.eval()
        levels = len(model.widths)
        self.input_names = ("input", "global_term", *(f"feat{i}" for i in range(levels - 1)), "bottleneck")
        self.output_names = ("output",)

    def forward(self, x: torch.Tensor, global_term: torch.Tensor, *feats: torch.Tensor) -> torch.Tensor:
        term = global_term if self.model.output == "affine" else None
        return self.model.to_image(self.model.decode(list(feats)), x, term).clamp(0.0, 1.0)

    def example(self, height: int, width: int, seed: int = 0, low_side: int = 0) -> tuple[torch.Tensor, ...]:
        (x,) = EncodeGraph(self.model).example(height, width, seed)
        g = torch.Generator().manual_seed(seed)
        feats = [torch.rand(1, c, x.shape[2] // 2 ** i, x.shape[3] // 2 ** i, generator=g)
                 for i, c in enumerate(self.model.widths)]
        return (x, 0.3 * torch.rand(1, 3, 1, 1, generator=g), *feats)

    def dynamic_shapes(self) -> dict:
        m = self.model.multiple
        h, w = torch.export.Dim("height", min=1, max=1024), torch.export.Dim("width", min=1, max=1024)
        feats = tuple({2: (m // 2 ** i) * h, 3: (m // 2 ** i) * w} for i in range(len(self.model.widths)))
        return {"x": {2: m * h, 3: m * w}, "global_term": None, "feats": feats}


STAGES = {"encode": EncodeGraph, "bottleneck": BottleneckGraph, "decode": DecodeGraph}


def graph_for(model: nn.Module, stage: str = "") -> nn.Module:
    """The exported graph of ``model``: the whole enhancer (``stage`` ``""``) or one tiling stage of an
    encoder-decoder (``encode``, ``bottleneck``, ``decode``)."""
    if stage:
        return STAGES[stage](model)
    return FastGraph(model) if isinstance(model, FastStudent) else ImageGraph(model)


def stages_of(model: nn.Module) -> tuple[str, ...]:
    """The graphs a model ships as: ``("",)`` plus the tiling stages for Net-S and Net-T."""
    tiled = isinstance(model, EncoderDecoder) and not isinstance(model, FastStudent)
    return ("", *STAGES) if tiled else ("",)


def onnx_bytes(model: nn.Module, metadata: dict[str, str] | None = None, stage: str = "") -> bytes:
    """Export ``model``'s graph (:func:`graph_for`) to a serialised, ``onnx.checker``-checked ONNX model."""
    import logging
    import warnings

    import onnx

    logging.getLogger("torch.onnx").setLevel(logging.ERROR)  # "torchvision is not installed" notices
    graph = graph_for(model, stage).eval()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        # sizes that differ from each other: equal example sizes would be traced as one symbol
        program = torch.onnx.export(graph, graph.example(70, 98, low_side=38), None,
                                    input_names=list(graph.input_names), output_names=list(graph.output_names),
                                    dynamic_shapes=graph.dynamic_shapes(),
                                    dynamo=True, external_data=False, verbose=False)
    proto = program.model_proto
    for key, value in (metadata or {}).items():
        entry = proto.metadata_props.add()
        entry.key, entry.value = key, value
    onnx.checker.check_model(proto)
    return proto.SerializeToString()


def max_difference(model: nn.Module, data: bytes, stage: str = "", sizes: tuple[tuple[int, int, int], ...] = ((67, 93, 0),
                                                                                             (361, 641, 0),
                                                                                             (67, 93, 40))) -> float:
    """Largest absolute difference between onnxruntime on ``data`` and PyTorch on random inputs of each
    ``(height, width, low_side)`` in ``sizes`` (``low_side`` 0: the model's own; ignored by image models)."""
    import onnxruntime as ort

    graph = graph_for(model, stage).eval()
    session = ort.InferenceSession(data, providers=["CPUExecutionProvider"])
    diff = 0.0
    for seed, (height, width, low_side) in enumerate(sizes):
        inputs = graph.example(height, width, seed=seed + 1, low_side=low_side)
        with torch.no_grad():
            expected = graph(*inputs)
        expected = expected if isinstance(expected, tuple) else (expected,)
        got = session.run(None, {name: t.numpy() for name, t in zip(graph.input_names, inputs)})
        diff = max([diff] + [float(np.abs(g - e.numpy()).max()) for g, e in zip(got, expected)])
    return diff


def export_onnx(model: nn.Module, path: str | os.PathLike, tolerance: float = 1e-3,
                metadata: dict[str, str] | None = None) -> float:
    """Export ``model`` to ``path`` (``NAME.onnx``) and, for Net-S and Net-T, its tiling stages beside it
    (``NAME.encode.onnx`` …), each atomically after checking it against PyTorch on random inputs; returns
    the largest absolute difference."""
    worst = 0.0
    for stage in stages_of(model):
        data = onnx_bytes(model, metadata, stage)
        diff = max_difference(model, data, stage)
        if diff > tolerance:
            raise ValueError(f"ONNX {stage or 'graph'} output differs from PyTorch by {diff:.2e} (> {tolerance:g})")
        atomic_write_bytes(graph_path(path, stage), data)
        worst = max(worst, diff)
    return worst
