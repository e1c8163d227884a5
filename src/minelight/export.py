"""ONNX export of the neural enhancers, checked against PyTorch.

    minelight export --method student -o student.onnx

The graph takes ``input`` ``(1, 3, H, W)`` float32 in [0, 1] with dynamic H and W and returns
``output`` of the same shape (clamped to [0, 1]). After export the file is checked with
``onnx.checker`` and run with onnxruntime on a random odd-sized input; the largest absolute difference
to PyTorch must be at most ``tolerance``.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import torch
from torch import nn

from .io import atomic_write_bytes


class _ImageOnly(nn.Module):
    def __init__(self, model: nn.Module):
        super().__init__()
        self.model = model

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.model(x)[0].clamp(0.0, 1.0)


def export_onnx(model: nn.Module, path: str | os.PathLike, tolerance: float = 1e-3,
                check_size: tuple[int, int] = (67, 93)) -> float:
    """Export ``model`` (eval mode) to ``path`` atomically; returns the max abs difference to PyTorch."""
    import onnx
    import onnxruntime as ort

    import logging
    import warnings

    logging.getLogger("torch.onnx").setLevel(logging.ERROR)  # "torchvision is not installed" notices
    warnings.filterwarnings("ignore", category=FutureWarning)
    wrapper = _ImageOnly(model.eval()).eval()
    example = torch.rand(1, 3, 64, 64)
    h, w = torch.export.Dim("height", min=1, max=8192), torch.export.Dim("width", min=1, max=8192)
    program = torch.onnx.export(wrapper, (example,), None, input_names=["input"], output_names=["output"],
                                dynamic_shapes={"x": {2: h, 3: w}}, dynamo=True, external_data=False,
                                verbose=False)
    data = program.model_proto.SerializeToString()
    onnx.checker.check_model(onnx.load_from_string(data))
    session = ort.InferenceSession(data, providers=["CPUExecutionProvider"])
    x = torch.rand(1, 3, *check_size, generator=torch.Generator().manual_seed(0))
    with torch.no_grad():
        expected = wrapper(x).numpy()
    got = session.run(None, {"input": x.numpy()})[0]
    diff = float(np.abs(got - expected).max())
    if diff > tolerance:
        raise ValueError(f"ONNX output differs from PyTorch by {diff:.2e} (> {tolerance:g})")
    atomic_write_bytes(Path(path), data)
    return diff
