"""The Enhancer: one object that enhances arrays, files and folders with any method.

    >>> from minelight.enhance import Enhancer
    >>> enhancer = Enhancer.from_recipe("student")          # exactly what `minelight enhance` writes
    >>> out = enhancer.enhance_array(img)                   # (H, W, 3) float32 RGB in [0, 1] -> same shape
    >>> Enhancer.from_recipe("fast", "video", chroma=0)     # a video recipe with one override
    >>> Enhancer("student")                                 # the network alone, no steps after it

The pipeline object has no product defaults: ``Enhancer(...)`` applies only the steps it is given; the
recipe (:mod:`minelight.enhance.recipes`) holds the recommended ones.

Neural methods run any size in, same size out (the network pads to a multiple of 2**levels and crops).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path

import cv2
import numpy as np

from ..baselines import BASELINES
from ..geometry import low_resolution_size
from ..io import (IMAGE_SUFFIXES, MAX_PIXELS, ImageError, check_image, collect_images, from_uint8, is_image_path,
                  read_image, to_uint8, write_image)
from ..weights import WeightsError, model_header, shipped_weights
from .brightness import adjust_brightness, check_brightness
from .chroma import CHROMA_VIEW, check_radius, reduce_colour_noise, view_chroma
from .correction import apply_correction_array
from .denoise import DenoiseConfig, TemporalDenoiser
from .detail import DetailConfig, restore_detail
from .exposure import apply_exposure, parse_weights
from .halo import check_strength, guard_correction, reduce_halos
from .luma_path import apply_to_luma, brightness_table, chroma_of, frame_views
from .recipes import Recipe, resolve
from .still_denoise import FILTERS as GRAIN_FILTERS, check_strength as check_grain, denoise_still
from .runtime import BACKENDS, OrtRunner, graph_runner
from .temporal import TemporalSmoother
from .tiling import AUTO_TILE_PIXELS, DEFAULT_TILE, TileStages, tiled_forward, tiled_local

NEURAL_METHODS = ("student", "fast", "zerodce", "teacher")
# "METHOD.net+STEP" in a benchmark: the network alone plus a step at its recipe strength
POST_STEPS = ("detail", "halo", "chroma", "chromaview", "exposure", "grain")


def list_methods() -> list[str]:
    return [m for m in NEURAL_METHODS if m != "teacher"] + sorted(BASELINES)


def enhancer_for(name: str, mode: str = "image", **kwargs) -> Enhancer:
    """``Enhancer`` for a benchmark's method name: ``METHOD`` is what ``minelight enhance --method METHOD``
    writes (its recipe in ``mode``); ``METHOD.net`` is the network alone; ``METHOD.net+STEP`` adds a step at
    the strength the method's recipe gives it (or ``METHOD``'s image default for a method without one:
    ``+halo`` Net-S's, ``+chroma`` the fast model's): ``detail``, ``halo``, ``chroma``, ``chromaview`` (the fast
    model's cheap colour-noise form), ``exposure``, ``grain`` (Net-S's still strength and filter for a method
    without one); steps combine (``student.net+halo+chroma``).
    ``METHOD@MODE`` is the recipe of another mode on each image on its own (``fast@video``: what a video's
    frames get, without the temporal steps)."""
    name, at, named_mode = name.partition("@")
    if at:
        if "+" in name or "." in name:
            raise ValueError(f"{name}@{named_mode}: a mode follows a plain method name, e.g. fast@video")
        return Enhancer.from_recipe(name, named_mode, **kwargs)
    base, *steps = name.split("+")
    method, dot, variant = base.partition(".")
    if not dot and not steps:
        return Enhancer.from_recipe(method, mode, **kwargs)
    if dot and variant != "net":
        raise ValueError(f"{name}: unknown variant {variant!r}; use METHOD or METHOD.net[+STEP…]")
    if steps and not dot:
        raise ValueError(f"{name}: steps follow the bare network: {method}.net+{'+'.join(steps)}")
    unknown = set(steps) - set(POST_STEPS)
    if unknown:
        raise ValueError(f"{name}: unknown step {sorted(unknown)[0]!r}; after METHOD.net use "
                         f"{', '.join('+' + s for s in POST_STEPS)}")
    own, student, fast = resolve(method, mode), resolve("student"), resolve("fast")
    grain = own if own.grain else student
    return Enhancer(method, detail=DetailConfig() if "detail" in steps else None,
                    halo=(own.halo or student.halo) if "halo" in steps else 0.0,
                    chroma=(own.chroma or fast.chroma) if "chroma" in steps else 0,
                    chroma_view="chromaview" in steps, exposure="exposure" in steps,
                    grain=grain.grain if "grain" in steps else 0.0, grain_filter=grain.grain_filter, **kwargs)


def _area_resize(img: np.ndarray, height: int, width: int) -> np.ndarray:
    """``img`` ``(H, W[, C])`` area-resampled to ``(height, width)``; ``img`` itself if it has that size."""
    return img if img.shape[:2] == (height, width) else cv2.resize(img, (width, height), interpolation=cv2.INTER_AREA)


def _nchw(img: np.ndarray) -> np.ndarray:
    return np.ascontiguousarray(img.transpose(2, 0, 1)[None], dtype=np.float32)  # (H, W, 3) -> (1, 3, H, W)


class Enhancer:
    """Enhance images with ``method`` (``student``, ``fast``, ``clahe``, ``he``, ``gamma``, ...).

    ``weights``: a safetensors file for neural methods (default: the shipped one).
    ``threads``: onnxruntime (or PyTorch) threads (0 = their default).
    ``backend``: ``auto`` (the ONNX graphs beside the weights; PyTorch for weights without them),
    ``onnxruntime`` or ``torch`` (:mod:`minelight.enhance.runtime`).
    ``tile``: tiled inference for Net-S, Net-T and Zero-DCE (:mod:`minelight.enhance.tiling`, equal to untiled):
    0 = for images over ``AUTO_TILE_PIXELS``, a positive multiple of 8 = always with that size, -1 = never.
    (The fast model needs none: its network runs at low resolution.)
    ``brightness``: the operator's brightness control applied last (:mod:`minelight.enhance.brightness`; 1 = the
    method's own output, above 1 brighter, below 1 darker).
    ``detail``: restore the input's fine texture after enhancing (:mod:`minelight.enhance.detail`; tuned for Net-S,
    ``minelight enhance --detail``); ``None``: the method's output as it is.
    ``halo``: strength 0-1 of the halo guard applied after that (:mod:`minelight.enhance.halo`; 0 = off;
    the recipes give Net-S and the fast model 0.5).
    ``chroma``: radius (px) of the colour-noise step applied after the guard (:mod:`minelight.enhance.chroma`;
    0 = off; the recipes give Net-S 4).
    ``chroma_view``: the fast model only: its correction applied to the frame with the chroma of a 320-px
    view (:func:`minelight.enhance.chroma.view_chroma`; what videos and ``serve`` apply by default), cheaper than
    ``chroma``.
    ``exposure``: apply the per-image exposure step whose coefficients the weights' header carries
    (:mod:`minelight.enhance.exposure`; key ``exposure``), after the colour-noise step; weights without them: no step.
    ``grain``: strength of the grain step on the output of the method and its guard, before the colour-noise step
    (:mod:`minelight.enhance.still_denoise`: the luma denoised in proportion to the noise estimated in it; 0 = off;
    meant for still images, the recipes give it to no video); ``grain_filter``: its filter, ``guided`` or ``nlm``.
    ``denoise``: the temporal denoising of a video's frames before the method (:mod:`minelight.enhance.denoise`;
    ``None`` = off); the state of each video is a :class:`TemporalDenoiser` from :meth:`denoiser`, passed to
    :meth:`enhance_array` with each frame.
    """

    def __init__(self, method: str = "student", weights: str | os.PathLike | None = None, threads: int = 0,
                 backend: str = "auto", tile: int = 0, detail: DetailConfig | None = None,
                 brightness: float = 1.0, halo: float = 0.0, exposure: bool = False, chroma: int = 0,
                 chroma_view: bool = False, denoise: DenoiseConfig | None = None, grain: float = 0.0,
                 grain_filter: str = "guided"):
        self.tile = tile
        self.grain = check_grain(grain)
        if grain_filter not in GRAIN_FILTERS:
            raise ValueError(f"unknown grain filter {grain_filter!r}; choose from {', '.join(GRAIN_FILTERS)}")
        self.grain_filter = grain_filter
        self.denoise = denoise
        self.chroma = check_radius(chroma)
        if chroma_view and method != "fast":
            raise ValueError(f"chroma_view is the fast model's colour-noise step; {method!r} takes chroma=RADIUS")
        self.chroma_view = chroma_view
        self.detail = detail
        self.halo = check_strength(halo)
        self.brightness = check_brightness(brightness)
        self._brightness_table = brightness_table(self.brightness)  # the control on 8-bit frames (None: 1)
        if method not in NEURAL_METHODS and method not in BASELINES:
            raise ValueError(f"unknown method {method!r}; choose from {', '.join(list_methods())}")
        self.method = method
        self.weights = None  # the weights file of a neural method
        self.config: dict = {}  # its model config (from the header)
        self.runner = None
        self.exposure = None  # (N_FEATURES,) coefficients of the exposure step, or None: no step
        self.metadata: dict[str, str] = {}
        self._backend, self._threads, self._stages = backend, threads, None
        if method in NEURAL_METHODS:
            self.weights = Path(weights or shipped_weights(method))
            _, self.config, self.metadata = model_header(self.weights, expect=method)
            self.runner = graph_runner(self.weights, "", backend, threads)
            if exposure and "exposure" in self.metadata:
                try:
                    self.exposure = parse_weights(self.metadata["exposure"])
                except ValueError as err:
                    raise WeightsError(f"{self.weights}: {err}") from None
        elif weights is not None:
            raise ValueError(f"method {method!r} takes no weights")
        elif backend not in BACKENDS:
            raise ValueError(f"unknown backend {backend!r}; choose from {', '.join(BACKENDS)}")
        self.backend = "onnxruntime" if isinstance(self.runner, OrtRunner) else "torch" if self.runner else "numpy"

    @classmethod
    def from_recipe(cls, method: str = "student", mode: str = "image", *, weights: str | os.PathLike | None = None,
                    threads: int = 0, backend: str = "auto", tile: int = 0, brightness: float = 1.0,
                    halo: float | None = None, chroma: int | None = None, detail: bool | None = None,
                    exposure: bool | None = None, denoise: bool | None = None,
                    grain: float | None = None) -> Enhancer:
        """Exactly what ``minelight enhance`` (``mode`` ``image`` or ``video``) or ``serve`` (``serve``)
        applies for ``method``: its recipe (:mod:`minelight.enhance.recipes`) with these overrides."""
        recipe = resolve(method, mode, halo=halo, chroma=chroma, detail=detail, exposure=exposure, denoise=denoise,
                         grain=grain)
        return cls.from_resolved(recipe, weights=weights, threads=threads, backend=backend, tile=tile,
                                 brightness=brightness)

    @classmethod
    def from_resolved(cls, recipe: Recipe, *, weights: str | os.PathLike | None = None, threads: int = 0,
                      backend: str = "auto", tile: int = 0, brightness: float = 1.0) -> Enhancer:
        """The enhancer of an already resolved ``recipe`` (``serve`` resolves its cameras' recipes at load)."""
        return cls(recipe.method, weights, threads, backend, tile, DetailConfig() if recipe.detail else None,
                   brightness, recipe.halo, recipe.exposure, recipe.chroma, recipe.chroma_view,
                   DenoiseConfig() if recipe.denoise else None, recipe.grain, recipe.grain_filter)

    def denoiser(self) -> TemporalDenoiser | None:
        """A fresh denoising state for one video or camera (``None`` when this enhancer does not denoise)."""
        return TemporalDenoiser(self.denoise) if self.denoise is not None else None

    def enhance_array(self, img: np.ndarray, smoother: TemporalSmoother | None = None,
                      denoiser: TemporalDenoiser | None = None) -> np.ndarray:
        """``(H, W, 3)`` float RGB in [0, 1] -> same shape, float32 in [0, 1].

        ``smoother``: the state of a video (its previous frame and correction) for the ``fast`` method's
        temporal smoothing; other methods process each frame on its own. ``denoiser``: the video's denoising
        state (:meth:`denoiser`): the frame is denoised over time before the method.
        """
        img = check_image(img).astype(np.float32, copy=False)
        lift = None
        if denoiser is not None and self.method == "fast":  # the lift near black is taken out in the correction
            img, lift = denoiser.update(img)
        elif denoiser is not None:
            img = denoiser(img)
        out = self._enhance_fast(img, smoother, denoiser is not None, lift) if self.method == "fast" \
            else self._enhance_still(img)
        out = out if self.detail is None else restore_detail(img, out, self.detail)
        halo = 0.0 if self.method == "fast" else self.halo  # the fast model's guard is inside its correction
        out = denoise_still(reduce_halos(img, out, halo), self.grain, filter=self.grain_filter)  # stills only
        out = reduce_colour_noise(out, self.chroma)
        out = apply_exposure(img, out, self.exposure)
        return adjust_brightness(out, self.brightness)

    def enhance_frame(self, frame: np.ndarray, smoother: TemporalSmoother | None = None,
                      denoiser: TemporalDenoiser | None = None) -> np.ndarray:
        """A video frame: uint8 RGB ``(H, W, 3)`` -> the enhanced frame, same shape, uint8. The same steps as
        :meth:`enhance_array`; the fast model's video recipe takes its luma path
        (:mod:`minelight.enhance.luma_path`)."""
        return self.prepare_frame(frame, smoother, denoiser)()

    def prepare_frame(self, frame: np.ndarray, smoother: TemporalSmoother | None = None,
                      denoiser: TemporalDenoiser | None = None) -> Callable[[], np.ndarray]:
        """The part of :meth:`enhance_frame` that updates the video's state (call in frame order); returns the
        rest, which reads no state: calling it gives the uint8 frame, and it may run in another thread while
        the next frames are prepared (the fast model's network and full-resolution steps)."""
        if not self._takes_luma_path(smoother):
            out = to_uint8(self.enhance_array(from_uint8(frame), smoother, denoiser))
            return lambda: out
        frame = np.asarray(frame)
        if frame.dtype != np.uint8 or frame.ndim != 3 or frame.shape[2] != 3:
            raise ValueError(f"expected a uint8 (H, W, 3) frame, got {frame.dtype} {frame.shape}")
        side = denoiser.config.motion_side if denoiser is not None else CHROMA_VIEW
        luma, small, pixels = frame_views(frame, side)
        lift = None
        if denoiser is not None:
            luma, lift = denoiser.update_views(luma, small, pixels)
            luma, small = luma.copy(), denoiser.small.copy()  # the state moves on with the next frame
        h, w = low_resolution_size(frame.shape[0], frame.shape[1], int(self.config["low_side"]))
        low = _area_resize(small, h, w)
        if lift is not None:
            lift = _area_resize(lift, h, w)
            low = np.maximum(low - lift, 0.0)
        chroma, table = chroma_of(small), self._brightness_table

        def finish() -> np.ndarray:
            correction, _ = self._fast_correction(low, lift)
            return apply_to_luma(correction, chroma, luma, table)
        return finish

    def _takes_luma_path(self, smoother: TemporalSmoother | None) -> bool:
        """The fast model with its video colour step and no step that needs the full RGB frame."""
        return (self.method == "fast" and self.chroma_view and not self.chroma and self.detail is None
                and self.exposure is None and not self.grain and smoother is None)

    def _fast_correction(self, low: np.ndarray, lift: np.ndarray | None,
                         previous: np.ndarray | None = None,
                         momentum: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
        """The fast model's correction ``(1, 6, h, w)`` of its low-resolution view ``low`` ``(h, w, 3)``, with
        its halo guard, and the denoiser's ``lift`` ``(h, w, 3)`` taken out of its offset (``A x + (b - A L)``);
        ``previous``, ``momentum``: the smoothing's state (none: zeros). Returns the correction to apply and
        the network's own output (what the smoothing keeps)."""
        h, w = low.shape[:2]
        if previous is None or previous.shape[-2:] != (h, w):  # no history of this size: nothing to blend
            previous, momentum = np.zeros((1, 6, h, w), np.float32), np.zeros((h, w), np.float32)
        (correction,) = self.runner(_nchw(low), previous, momentum[None, None])
        applied = guard_correction(low, correction, self.halo)
        if lift is not None:
            applied = applied.copy()
            applied[0, 3:] -= applied[0, :3] * lift.transpose(2, 0, 1)
        return applied, correction

    def _enhance_still(self, img: np.ndarray) -> np.ndarray:
        if self.runner is None:
            return np.clip(BASELINES[self.method](img), 0.0, 1.0).astype(np.float32)
        tile = self._tile_size(img)
        if tile and self.method == "zerodce":
            return tiled_local(self._image_graph, _nchw(img), tile)[0].transpose(1, 2, 0)
        if tile:
            return tiled_forward(self._tile_stages(), _nchw(img), tile)[0].transpose(1, 2, 0)
        return self._image_graph(_nchw(img))[0][0].transpose(1, 2, 0)

    def _image_graph(self, x: np.ndarray) -> tuple[np.ndarray, ...]:
        """The whole network on ``x`` ``(1, 3, H, W)``; brightness 1 in the graph: it is applied after the steps."""
        return self.runner(x, np.ones(1, np.float32))

    def _tile_stages(self) -> TileStages:
        if self._stages is None:
            run = {s: graph_runner(self.weights, s, self._backend, self._threads)
                   for s in ("encode", "bottleneck", "decode")}
            self._stages = TileStages(run["encode"], run["bottleneck"], run["decode"],
                                      2 ** (len(self.config["widths"]) - 1))
        return self._stages

    def _tile_size(self, img: np.ndarray) -> int:
        if self.tile < 0:  # (the fast model never gets here: its network runs at low resolution)
            return 0
        if self.tile > 0:
            return self.tile
        return DEFAULT_TILE if img.shape[0] * img.shape[1] > AUTO_TILE_PIXELS else 0

    def _enhance_fast(self, img: np.ndarray, smoother: TemporalSmoother | None, denoised: bool = False,
                      lift: np.ndarray | None = None) -> np.ndarray:
        """``denoised``: ``img`` comes from the temporal denoiser, which replaces the smoother's output blend
        (it averages more frames and leaves no trail; docs/notes/temporal_denoising.md). ``lift``: the
        denoiser's lift near black ``(h', w', 3)`` (any size), to take out of ``img``: from the model's
        low-resolution input, and from the frame through the correction's offset (``A (x - L) + b``)."""
        low_side = int(self.config["low_side"])
        h, w = low_resolution_size(img.shape[0], img.shape[1], low_side)
        low = _area_resize(img, h, w)
        if lift is not None:
            lift = _area_resize(lift, h, w)  # (h, w, 3)
            low = np.maximum(low - lift, 0.0)
        previous = momentum = None
        if smoother is not None:  # motion is measured on a copy at least as fine as the correction
            mh, mw = low_resolution_size(img.shape[0], img.shape[1], max(low_side, smoother.config.motion_side))
            fine_momentum = smoother(low if (mh, mw) == (h, w) else _area_resize(img, mh, mw))
            previous, momentum = smoother.correction, _area_resize(fine_momentum, h, w)
        applied, correction = self._fast_correction(low, lift, previous, momentum)
        out = apply_correction_array(applied, view_chroma(img) if self.chroma_view else img)
        if smoother is not None:
            smoother.correction = correction
            if not denoised:
                out = smoother.smooth_output(out, fine_momentum)
        return out

    def enhance_file(self, src: str | os.PathLike, dst: str | os.PathLike, bits: int = 8,
                     smoother: TemporalSmoother | None = None, max_pixels: int = MAX_PIXELS,
                     denoiser: TemporalDenoiser | None = None) -> None:
        """Read ``src`` (refusing images over ``max_pixels``), enhance, write ``dst`` (atomically; the format
        follows ``dst``'s suffix)."""
        src, dst = Path(src), Path(dst)
        if dst.exists() and src.resolve() == dst.resolve():
            raise ImageError(f"{dst}: output would overwrite the input")
        write_image(dst, self.enhance_array(read_image(src, max_pixels), smoother, denoiser), bits=bits)


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
