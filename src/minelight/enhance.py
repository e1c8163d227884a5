"""The Enhancer: one object that enhances arrays, files and folders with any method.

    >>> from minelight.enhance import Enhancer
    >>> enhancer = Enhancer("student")            # shipped Net-S weights
    >>> out = enhancer.enhance_array(img)         # (H, W, 3) float32 RGB in [0, 1] -> same shape

Neural methods run any size in, same size out (the network pads to a multiple of 2**levels and crops).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from importlib import resources
from pathlib import Path

import numpy as np
import torch

from .baselines import BASELINES
from .checkpoint import WeightsError, load_weights
from .io import (ImageError, check_image, collect_images, is_image_path, read_image, to_array, to_tensor,
                 write_image)

NEURAL_METHODS = ("student", "zerodce", "teacher")


def list_methods() -> list[str]:
    return [m for m in NEURAL_METHODS if m != "teacher"] + sorted(BASELINES)


def shipped_weights(name: str) -> Path:
    """Path of the weights shipped inside the package for model ``name``."""
    path = Path(str(resources.files("minelight") / "weights" / f"{name}.safetensors"))
    if not path.is_file():
        raise WeightsError(f"no shipped weights for {name!r} (expected {path}); pass --weights")
    return path


class Enhancer:
    """Enhance images with ``method`` (``student``, ``clahe``, ``he``, ``gamma``, ...).

    ``weights``: a safetensors file for neural methods (default: the shipped one).
    ``threads``: torch threads (0 = torch's default).
    """

    def __init__(self, method: str = "student", weights: str | os.PathLike | None = None, threads: int = 0):
        if method not in NEURAL_METHODS and method not in BASELINES:
            raise ValueError(f"unknown method {method!r}; choose from {', '.join(list_methods())}")
        self.method = method
        self.model = None
        self.metadata: dict[str, str] = {}
        if threads > 0:
            torch.set_num_threads(threads)
        if method in NEURAL_METHODS:
            self.model, self.metadata = load_weights(weights or shipped_weights(method), expect=method)
        elif weights is not None:
            raise ValueError(f"method {method!r} takes no weights")

    @torch.inference_mode()
    def enhance_tensor(self, x: torch.Tensor) -> torch.Tensor:
        """``(B, 3, H, W)`` in [0, 1] -> ``(B, 3, H, W)`` in [0, 1]."""
        if x.ndim != 4 or x.shape[1] != 3:
            raise ValueError(f"expected a (B, 3, H, W) tensor, got {tuple(x.shape)}")
        if self.model is not None:
            return self.model(x.float())[0].clamp(0, 1)
        outs = [to_tensor(self.enhance_array(to_array(img[None]))) for img in x]
        return torch.cat(outs)

    def enhance_array(self, img: np.ndarray) -> np.ndarray:
        """``(H, W, 3)`` float RGB in [0, 1] -> same shape, float32 in [0, 1]."""
        img = check_image(img).astype(np.float32, copy=False)
        if self.model is not None:
            return to_array(self.enhance_tensor(to_tensor(img)))
        return np.clip(BASELINES[self.method](img), 0.0, 1.0).astype(np.float32)

    def enhance_file(self, src: str | os.PathLike, dst: str | os.PathLike, bits: int = 8) -> None:
        """Read ``src``, enhance, write ``dst`` (atomically; the format follows ``dst``'s suffix)."""
        src, dst = Path(src), Path(dst)
        if dst.exists() and src.resolve() == dst.resolve():
            raise ImageError(f"{dst}: output would overwrite the input")
        write_image(dst, self.enhance_array(read_image(src)), bits=bits)


def plan_outputs(inputs: list[str | os.PathLike], out: str | os.PathLike,
                 suffix: str | None = None) -> Iterator[tuple[Path, Path]]:
    """Pairs (input file, output file) for a job. Folders contribute their images (non-image files are
    skipped); output names mirror input names inside ``out``, or ``out`` itself is the file when a single
    image goes to a path with an image suffix. ``suffix`` (e.g. ``.png``) replaces the input suffix."""
    out = Path(out)
    files = collect_images(inputs)
    if len(inputs) == 1 and Path(inputs[0]).is_file() and is_image_path(out):
        yield files[0], out
        return
    if out.exists() and not out.is_dir():
        raise ImageError(f"{out}: exists and is not a folder")
    for f in files:
        yield f, out / (f.stem + (suffix or f.suffix))
