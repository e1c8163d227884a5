"""The Enhancer: one object that enhances arrays, files and folders with any method.

    >>> from minelight.enhance.enhancer import Enhancer
    >>> enhancer = Enhancer("student")            # shipped Net-S weights
    >>> out = enhancer.enhance_array(img)         # (H, W, 3) float32 RGB in [0, 1] -> same shape
    >>> Enhancer("student", detail=DetailConfig())  # + noise-aware detail restoration (the CLI's --detail)
    >>> Enhancer("student", halo=STUDENT_HALO, exposure=True)  # what the CLI writes

Neural methods run any size in, same size out (the network pads to a multiple of 2**levels and crops).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from importlib import resources
from pathlib import Path

import cv2
import numpy as np
import torch

from ..baselines import BASELINES
from .brightness import adjust_brightness, check_brightness
from ..train.checkpoints import WeightsError, load_weights
from .chroma import FAST_CHROMA, check_radius, default_radius, reduce_colour_noise, view_chroma
from .detail import DetailConfig, restore_detail
from .exposure import apply_exposure, parse_weights
from .halo import STUDENT_HALO, check_strength, default_strength, guard_correction, reduce_halos
from ..io import (IMAGE_SUFFIXES, MAX_PIXELS, ImageError, check_image, collect_images, is_image_path, read_image,
                 to_array, to_tensor, write_image)
from ..models.encoder_decoder import EncoderDecoder
from ..models.fast import apply_correction_array, low_resolution_size
from .runtime import BACKENDS, TorchRunner, make_runner
from .temporal import TemporalSmoother
from .tiling import AUTO_TILE_PIXELS, DEFAULT_TILE, tiled_forward, tiled_local

NEURAL_METHODS = ("student", "fast", "zerodce", "teacher")
# "METHOD+STEP" in a benchmark: the detail restoration, the halo guard, the colour-noise step, the exposure step
POST_STEPS = ("detail", "halo", "chroma", "chromaview", "exposure")


def list_methods() -> list[str]:
    return [m for m in NEURAL_METHODS if m != "teacher"] + sorted(BASELINES)


def enhancer_for(name: str, **kwargs) -> Enhancer:
    """``Enhancer`` for a method name (benchmarks): ``METHOD+detail`` adds the detail restoration,
    ``METHOD+halo`` the halo guard at the method's default strength (``STUDENT_HALO`` for methods without
    one), ``METHOD+chroma`` the colour-noise step at the method's default radius (``FAST_CHROMA``'s for
    methods without one), ``fast+chromaview`` its cheap form for the fast model (its default on video),
    ``METHOD+exposure`` the weights' exposure step;
    steps combine (``student+detail+halo+chroma+exposure``)."""
    method, *steps = name.split("+")
    unknown = set(steps) - set(POST_STEPS)
    if unknown:
        raise ValueError(f"{name}: unknown step {sorted(unknown)[0]!r}; after a method use "
                         f"{', '.join('+' + s for s in POST_STEPS)}")
    return Enhancer(method, detail=DetailConfig() if "detail" in steps else None,
                    halo=(default_strength(method) or STUDENT_HALO) if "halo" in steps else 0.0,
                    chroma=(default_radius(method) or FAST_CHROMA) if "chroma" in steps else 0,
                    chroma_view="chromaview" in steps,
                    exposure="exposure" in steps, **kwargs)


def shipped_weights(name: str) -> Path:
    """Path of the weights shipped inside the package for model ``name``."""
    path = Path(str(resources.files("minelight") / "weights" / f"{name}.safetensors"))
    if not path.is_file():
        raise WeightsError(f"no shipped weights for {name!r} (expected {path}); pass --weights")
    return path


def _area_resize(img: np.ndarray, height: int, width: int) -> np.ndarray:
    """``img`` ``(H, W[, C])`` area-resampled to ``(height, width)``; ``img`` itself if it has that size."""
    return img if img.shape[:2] == (height, width) else cv2.resize(img, (width, height), interpolation=cv2.INTER_AREA)


def _nchw(img: np.ndarray) -> np.ndarray:
    return np.ascontiguousarray(img.transpose(2, 0, 1)[None], dtype=np.float32)  # (H, W, 3) -> (1, 3, H, W)


class Enhancer:
    """Enhance images with ``method`` (``student``, ``fast``, ``clahe``, ``he``, ``gamma``, ...).

    ``weights``: a safetensors file for neural methods (default: the shipped one).
    ``threads``: torch / onnxruntime threads (0 = their default).
    ``backend``: ``torch``, ``onnxruntime`` or ``auto`` (onnxruntime when a matching ``.onnx`` is beside
    the weights) for neural methods.
    ``tile``: tiled inference for Net-S, Net-T and Zero-DCE (:mod:`minelight.enhance.tiling`, equal to untiled):
    0 = for images over ``AUTO_TILE_PIXELS``, a positive multiple of 8 = always with that size, -1 = never.
    (The fast model needs none: its network runs at low resolution.)
    ``brightness``: the operator's brightness control applied last (:mod:`minelight.enhance.brightness`; 1 = the
    method's own output, above 1 brighter, below 1 darker).
    ``detail``: restore the input's fine texture after enhancing (:mod:`minelight.enhance.detail`; tuned for Net-S,
    ``minelight enhance --detail``); ``None``: the method's output as it is.
    ``halo``: strength 0-1 of the halo guard applied after that (:mod:`minelight.enhance.halo`; 0 = off;
    ``minelight enhance`` uses ``STUDENT_HALO`` for Net-S).
    ``chroma``: radius (px) of the colour-noise step applied after the guard (:mod:`minelight.enhance.chroma`;
    0 = off; ``minelight enhance`` uses the method's default, ``minelight.enhance.chroma.default_radius``).
    ``chroma_view``: the fast model only: its correction applied to the frame with the chroma of a 320-px
    view (:func:`minelight.enhance.chroma.view_chroma`; what videos and ``serve`` apply by default), cheaper than
    ``chroma``.
    ``exposure``: apply the per-image exposure step whose coefficients the weights' header carries
    (:mod:`minelight.enhance.exposure`; key ``exposure``), after the colour-noise step; weights without them: no step.
    """

    def __init__(self, method: str = "student", weights: str | os.PathLike | None = None, threads: int = 0,
                 backend: str = "torch", tile: int = 0, detail: DetailConfig | None = None,
                 brightness: float = 1.0, halo: float = 0.0, exposure: bool = False, chroma: int = 0,
                 chroma_view: bool = False):
        self.tile = tile
        self.chroma = check_radius(chroma)
        if chroma_view and method != "fast":
            raise ValueError(f"chroma_view is the fast model's colour-noise step; {method!r} takes chroma=RADIUS")
        self.chroma_view = chroma_view
        self.detail = detail
        self.halo = check_strength(halo)
        self.brightness = check_brightness(brightness)
        if method not in NEURAL_METHODS and method not in BASELINES:
            raise ValueError(f"unknown method {method!r}; choose from {', '.join(list_methods())}")
        self.method = method
        self.model = None
        self.runner = None
        self.exposure = None  # (N_FEATURES,) coefficients of the exposure step, or None: no step
        self.metadata: dict[str, str] = {}
        if threads > 0:
            torch.set_num_threads(threads)
        if method in NEURAL_METHODS:
            path = weights or shipped_weights(method)
            self.model, self.metadata = load_weights(path, expect=method)
            self.runner = make_runner(self.model, path, backend, threads)
            if exposure and "exposure" in self.metadata:
                try:
                    self.exposure = parse_weights(self.metadata["exposure"])
                except ValueError as err:
                    raise WeightsError(f"{path}: {err}") from None
        elif weights is not None:
            raise ValueError(f"method {method!r} takes no weights")
        elif backend not in BACKENDS:
            raise ValueError(f"unknown backend {backend!r}; choose from {', '.join(BACKENDS)}")
        self.backend = "torch" if isinstance(self.runner, TorchRunner) else "onnxruntime" if self.runner else "numpy"

    @torch.inference_mode()
    def enhance_tensor(self, x: torch.Tensor) -> torch.Tensor:
        """``(B, 3, H, W)`` in [0, 1] -> ``(B, 3, H, W)`` in [0, 1] (each image on its own, no smoothing)."""
        if x.ndim != 4 or x.shape[1] != 3:
            raise ValueError(f"expected a (B, 3, H, W) tensor, got {tuple(x.shape)}")
        if self.model is not None and self.method != "fast" and self.detail is None and self.halo == 0.0 \
                and self.exposure is None and self.brightness == 1.0 and self.chroma == 0:
            return self.model(x.float())[0].clamp(0, 1)
        return torch.cat([to_tensor(self.enhance_array(to_array(img[None]))) for img in x])

    def enhance_array(self, img: np.ndarray, smoother: TemporalSmoother | None = None) -> np.ndarray:
        """``(H, W, 3)`` float RGB in [0, 1] -> same shape, float32 in [0, 1].

        ``smoother``: the state of a video (its previous frame and correction) for the ``fast`` method's
        temporal smoothing; other methods process each frame on its own.
        """
        img = check_image(img).astype(np.float32, copy=False)
        out = self._enhance_fast(img, smoother) if self.method == "fast" else self._enhance_still(img)
        out = out if self.detail is None else restore_detail(img, out, self.detail)
        halo = 0.0 if self.method == "fast" else self.halo  # the fast model's guard is inside its correction
        out = reduce_colour_noise(reduce_halos(img, out, halo), self.chroma)
        out = apply_exposure(img, out, self.exposure)
        return adjust_brightness(out, self.brightness)

    def _enhance_still(self, img: np.ndarray) -> np.ndarray:
        tile = self._tile_size(img)
        if tile:
            tiled = tiled_forward if isinstance(self.model, EncoderDecoder) else tiled_local
            return to_array(tiled(self.model, to_tensor(img), tile))
        if self.runner is not None:
            inputs = (_nchw(img), np.ones(1, np.float32))  # brightness 1 in the graph: applied after the steps
            return self.runner(*inputs[:len(self.runner.input_names)])[0][0].transpose(1, 2, 0)
        return np.clip(BASELINES[self.method](img), 0.0, 1.0).astype(np.float32)

    def _tile_size(self, img: np.ndarray) -> int:
        if self.model is None or self.tile < 0:  # (the fast model never gets here)
            return 0
        if self.tile > 0:
            return self.tile
        return DEFAULT_TILE if img.shape[0] * img.shape[1] > AUTO_TILE_PIXELS else 0

    def _enhance_fast(self, img: np.ndarray, smoother: TemporalSmoother | None) -> np.ndarray:
        low_side = self.model.config.low_side
        h, w = low_resolution_size(img.shape[0], img.shape[1], low_side)
        low = _area_resize(img, h, w)
        previous = momentum = None
        if smoother is not None:  # motion is measured on a copy at least as fine as the correction
            mh, mw = low_resolution_size(img.shape[0], img.shape[1], max(low_side, smoother.config.motion_side))
            fine_momentum = smoother(low if (mh, mw) == (h, w) else _area_resize(img, mh, mw))
            previous, momentum = smoother.correction, _area_resize(fine_momentum, h, w)
        if previous is None or previous.shape[-2:] != (h, w):  # no history of this size: nothing to blend
            previous, momentum = np.zeros((1, 6, h, w), np.float32), np.zeros((h, w), np.float32)
        (correction,) = self.runner(_nchw(low), previous, momentum[None, None])
        out = apply_correction_array(guard_correction(low, correction, self.halo),
                                     view_chroma(img) if self.chroma_view else img)
        if smoother is not None:
            smoother.correction = correction
            out = smoother.smooth_output(out, fine_momentum)
        return out

    def enhance_file(self, src: str | os.PathLike, dst: str | os.PathLike, bits: int = 8,
                     smoother: TemporalSmoother | None = None, max_pixels: int = MAX_PIXELS) -> None:
        """Read ``src`` (refusing images over ``max_pixels``), enhance, write ``dst`` (atomically; the format
        follows ``dst``'s suffix)."""
        src, dst = Path(src), Path(dst)
        if dst.exists() and src.resolve() == dst.resolve():
            raise ImageError(f"{dst}: output would overwrite the input")
        write_image(dst, self.enhance_array(read_image(src, max_pixels), smoother), bits=bits)


def plan_outputs(inputs: list[str | os.PathLike], out: str | os.PathLike,
                 suffix: str | None = None) -> Iterator[tuple[Path, Path]]:
    """Pairs (input file, output file) for a job. Folders contribute their images (non-image files are
    skipped); output names mirror input names inside ``out``, or ``out`` itself is the file when a single
    image goes to a path with an image suffix. ``suffix`` (e.g. ``.png``) replaces the input suffix."""
    out = Path(out)
    files = collect_images(inputs)
    single = len(inputs) == 1 and Path(inputs[0]).is_file()
    if single and is_image_path(out):
        yield files[0], out
        return
    if out.exists() and not out.is_dir():
        raise ImageError(f"{out}: exists and is not a folder")
    if single and out.suffix and not out.is_dir():
        raise ImageError(f"{out}: an image is written to an image file ({', '.join(IMAGE_SUFFIXES)}) "
                         "or into a folder")
    if is_image_path(out) and not out.is_dir():
        raise ImageError(f"{out}: {len(files)} images go into a folder, not into one image file")
    for f in files:
        yield f, out / (f.stem + (suffix or f.suffix))
