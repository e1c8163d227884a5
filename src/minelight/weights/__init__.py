"""The shipped weights: where they are, and their headers read without PyTorch.

A weights file is safetensors: 8 bytes (little-endian length N), N bytes of JSON (``__metadata__`` holds
the model name, its config and how it was trained), then the tensors. Each network also ships as ONNX
graphs beside it (``NAME.onnx``; Net-S and Net-T also ``NAME.encode.onnx``, ``NAME.bottleneck.onnx``,
``NAME.decode.onnx`` for tiled huge images), which is all inference needs.
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
import struct
from importlib import resources
from pathlib import Path

SHIPPED = ("student", "fast", "teacher", "zerodce")
MAX_HEADER_BYTES = 100_000_000  # a larger header is a corrupt file, not weights


class WeightsError(ValueError):
    """A weights or checkpoint file is missing, corrupt, or does not fit the model."""


def shipped_weights(name: str) -> Path:
    """Path of the weights shipped inside the package for model ``name``."""
    path = Path(str(resources.files("minelight") / "weights" / f"{name}.safetensors"))
    if not path.is_file():
        raise WeightsError(f"no shipped weights for {name!r} (expected {path}); pass --weights")
    return path


def read_metadata(path: str | os.PathLike) -> dict[str, str]:
    """The header metadata (``__metadata__``) of a safetensors weights file, ``{}`` if it has none."""
    path = Path(path)
    if not path.is_file():
        raise WeightsError(f"{path}: no such weights file")
    try:
        with path.open("rb") as f:
            (size,) = struct.unpack("<Q", f.read(8))
            if size > MAX_HEADER_BYTES:
                raise ValueError("header too large")
            header = json.loads(f.read(size))
        meta = header.get("__metadata__") or {}
        if not isinstance(meta, dict):
            raise ValueError("metadata is not a table")
    except (struct.error, ValueError, UnicodeDecodeError, AttributeError) as err:
        raise WeightsError(f"{path}: not a valid safetensors file ({err})") from None
    return {str(k): str(v) for k, v in meta.items()}


def count_parameters(path: str | os.PathLike) -> int:
    """Number of parameters in a safetensors file (the product of each tensor's shape, from its header)."""
    try:
        with Path(path).open("rb") as f:
            (size,) = struct.unpack("<Q", f.read(8))
            header = json.loads(f.read(min(size, MAX_HEADER_BYTES)))
    except (OSError, struct.error, ValueError) as err:
        raise WeightsError(f"{path}: not a valid safetensors file ({err})") from None
    total = 0
    for key, entry in header.items():
        if key != "__metadata__":
            count = 1
            for dim in entry["shape"]:
                count *= int(dim)
            total += count
    return total


def model_header(path: str | os.PathLike, expect: str | None = None) -> tuple[str, dict, dict[str, str]]:
    """``(model name, config dict, metadata)`` of a minelight weights file; WeightsError if it is not one
    or holds another model than ``expect``."""
    meta = read_metadata(path)
    name = meta.get("model")
    if name is None or "config" not in meta:
        raise WeightsError(f"{path}: no minelight model metadata in the file")
    if expect is not None and name != expect:
        raise WeightsError(f"{path}: holds a {name!r} model, expected {expect!r}")
    try:
        config = json.loads(meta["config"])
    except ValueError:
        raise WeightsError(f"{path}: unreadable model config in the header") from None
    return name, config, meta


def graph_path(onnx: str | os.PathLike, stage: str = "") -> Path:
    """The ONNX file of one tiling ``stage`` beside the whole graph ``onnx`` (``NAME.onnx`` ->
    ``NAME.encode.onnx``); ``onnx`` itself for ``stage`` ``""``."""
    onnx = Path(onnx)
    return onnx.with_name(f"{onnx.stem}.{stage}{onnx.suffix}") if stage else onnx


def weights_digest(path: str | os.PathLike) -> str:
    """SHA-256 of a weights file (stored in exported graphs to tie them to their weights); computed once per
    file version (path, size, modification time), however many graphs ask."""
    stat = Path(path).stat()
    return _digest(str(Path(path).resolve()), stat.st_size, stat.st_mtime_ns)


@functools.lru_cache(maxsize=32)
def _digest(path: str, size: int, mtime_ns: int) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def weights_version(meta: dict[str, str]) -> str:
    """The version a weights header carries (``version``), ``unversioned`` if none."""
    return meta.get("version", "unversioned")
