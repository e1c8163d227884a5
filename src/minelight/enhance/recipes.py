"""The product defaults: which steps follow each method, and how strong, on images, video and in serve.

This table is the one place they live. ``minelight enhance`` (images and videos), ``minelight serve``
(resolved once when its config loads), :meth:`Enhancer.from_recipe`, ``minelight benchmark`` and the
benchmark scripts all read it through :func:`resolve`; ``minelight info`` prints it.

    >>> resolve("fast", "video")
    Recipe(method='fast', mode='video', halo=0.5, chroma=0, chroma_view=True, detail=False, exposure=False, smoothing=False, denoise=True, grain=0.0, grain_filter='nlm')
    >>> resolve("student", "image", chroma=0).chroma   # a user's override, applied once
    0

Every value was chosen on the SICE validation pairs by a rule written before scoring (``docs/notes/``).
"""

from __future__ import annotations

from dataclasses import dataclass, replace

MODES = ("image", "video", "serve")  # still images; videos, live streams and --sequence; the live gateway

STUDENT_HALO = 0.5  # halo guard strength after Net-S (docs/notes/halos.md)
FAST_HALO = 0.5  # the fast model's guard, inside its correction (stills, videos, serve)
STUDENT_CHROMA = 4  # colour-noise step radius (px) after Net-S, everywhere (docs/notes/colour_noise.md)
FAST_CHROMA = 4  # after the fast model on still images
# Videos and serve with the fast model: no radius step (it costs ~15 ms of a 720p frame) but its cheap form,
# the input's chroma taken from a 320-px view (minelight.enhance.chroma.view_chroma)
FAST_VIDEO_VIEW = True
STUDENT_DETAIL = False  # detail restoration after Net-S: off (it cost PSNR, SSIM and NIQE on validation)
STUDENT_EXPOSURE = True  # the per-image exposure step of Net-S's header, on still images only
# The grain step (luma denoising scaled by the noise estimated in the output) on still images only: its strength
# (docs/notes/still_denoising.md); video and serve have the temporal denoiser instead
STUDENT_GRAIN = 8.0  # a self-guided filter of the luma, sqrt(eps) = 8 x (estimated noise - floor)
FAST_GRAIN = 2.0  # non-local means on the luma, h = 2 x (estimated noise - floor)
GRAIN_FILTER = {"student": "guided", "fast": "nlm"}  # the filter each network's strength is for
# Temporal denoising of the frames before the fast model, on video and in serve, and whether the smoothing of its
# correction stays on beside it (docs/notes/temporal_denoising.md); with the denoiser off, the smoothing is on
FAST_DENOISE = True
FAST_SMOOTHING_WITH_DENOISE = False


@dataclass(frozen=True)
class Recipe:
    """The steps that follow a method's network in one mode, and their strengths."""

    method: str
    mode: str
    halo: float = 0.0  # halo guard strength 0-1 (0 = off; minelight.enhance.halo)
    chroma: int = 0  # colour-noise step radius in px (0 = off; minelight.enhance.chroma)
    chroma_view: bool = False  # the fast model's cheap colour-noise form (chroma from a 320-px view)
    detail: bool = False  # detail restoration (Net-S only; minelight.enhance.detail)
    exposure: bool = False  # the exposure step the weights' header carries (minelight.enhance.exposure)
    smoothing: bool = False  # temporal smoothing of the fast model's correction (minelight.enhance.temporal)
    denoise: bool = False  # temporal denoising of the frames before the network (minelight.enhance.denoise)
    grain: float = 0.0  # still images: grain step strength (0 = off; minelight.enhance.still_denoise)
    grain_filter: str = "guided"  # its filter: guided (cheap) or nlm (non-local means)


def _default(method: str, mode: str) -> Recipe:
    still = mode == "image"
    if method == "student":
        return Recipe(method, mode, halo=STUDENT_HALO, chroma=STUDENT_CHROMA, detail=STUDENT_DETAIL,
                      exposure=STUDENT_EXPOSURE and still, grain=STUDENT_GRAIN if still else 0.0,
                      grain_filter=GRAIN_FILTER[method])
    if method == "fast":
        view = FAST_VIDEO_VIEW and not still
        return Recipe(method, mode, halo=FAST_HALO, chroma=FAST_CHROMA if still else 0, chroma_view=view,
                      smoothing=not still and (FAST_SMOOTHING_WITH_DENOISE or not FAST_DENOISE),
                      denoise=FAST_DENOISE and not still, grain=FAST_GRAIN if still else 0.0,
                      grain_filter=GRAIN_FILTER[method])
    return Recipe(method, mode)  # Zero-DCE, Net-T and the classical methods: their output as it is


def resolve(method: str, mode: str = "image", *, halo: float | None = None, chroma: int | None = None,
            detail: bool | None = None, exposure: bool | None = None, smoothing: bool | None = None,
            denoise: bool | None = None, grain: float | None = None) -> Recipe:
    """The recipe of ``method`` in ``mode`` with a user's overrides (``None`` = the default). A radius
    given for ``chroma`` replaces the fast model's cheap form (0 turns the step off); ``detail`` applies to
    Net-S only, ``exposure`` only where the default has it (it is read from Net-S's weights) and
    ``smoothing`` only to the fast model on video; ``denoise`` (temporal denoising) to any method on video and
    in serve, never to still images; ``grain`` (the grain step's strength) to any method on still images, never
    to video or serve."""
    if mode not in MODES:
        raise ValueError(f"unknown mode {mode!r}; choose from {', '.join(MODES)}")
    recipe = _default(method, mode)
    if halo is not None:
        recipe = replace(recipe, halo=halo)
    if chroma is not None:
        recipe = replace(recipe, chroma=chroma, chroma_view=False)
    if detail is not None:
        recipe = replace(recipe, detail=detail and method == "student")
    if exposure is not None:
        recipe = replace(recipe, exposure=exposure and recipe.exposure)
    if denoise is not None and denoise != recipe.denoise:
        recipe = replace(recipe, denoise=denoise and mode != "image")
        if method == "fast" and mode != "image":  # the smoothing that goes with it (the 0.2.0 smoothing without it)
            recipe = replace(recipe, smoothing=FAST_SMOOTHING_WITH_DENOISE or not recipe.denoise)
    if smoothing is not None:
        recipe = replace(recipe, smoothing=smoothing and method == "fast" and mode != "image")
    if grain is not None:
        recipe = replace(recipe, grain=float(grain) if mode == "image" else 0.0)
    return recipe


def describe(recipe: Recipe) -> str:
    """One short line naming the steps of ``recipe`` in the order they run, e.g. ``halo 0.5, grain 8 guided,
    chroma 4 px, exposure``."""
    grain = f"grain {recipe.grain:g} {recipe.grain_filter}" if recipe.grain else ""
    steps = [f"halo {recipe.halo:g}" if recipe.halo else "", grain,
             f"chroma {recipe.chroma} px" if recipe.chroma else "",
             "chroma view" if recipe.chroma_view else "", "detail" if recipe.detail else "",
             "exposure" if recipe.exposure else "", "smoothing" if recipe.smoothing else "",
             "denoise" if recipe.denoise else ""]
    return ", ".join(s for s in steps if s) or "none"
