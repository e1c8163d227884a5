"""Tiled inference for huge images with the encoder-decoder networks (Net-S, Net-T), equal to untiled.

Net-S is local except at its bottleneck (channel attention and the global exposure term pool over the
whole image), so plain overlapping tiles would change the result. Instead:

1. the encoder runs tile by tile (each tile with a ``halo`` of context) and the cores of the deepest
   features (1/8 resolution) are assembled into one map;
2. the bottleneck and its global terms run once on that whole map (it is 64x smaller than the image);
3. the encoder runs again per tile for the skip features, the decoder and head run on the tile with
   the bottleneck map's matching window, and the tile's core is written to the output.

With a halo at least as wide as the local receptive field the cores are exact up to float rounding, so
no blending is needed. Memory: the input, the output and the 1/8-resolution map, plus one tile's
activations.
"""

from __future__ import annotations

import torch

from ..models.blocks import pad_to_multiple
from ..models.encoder_decoder import EncoderDecoder

DEFAULT_TILE = 1024  # core size in pixels (a multiple of the network's ``multiple``)
DEFAULT_HALO = 96  # context on each side in pixels. Shipped Net-S, 301x427 image, 128-pixel tiles: max
#                   difference to untiled 2.4e-7 with halo 96, 1.7e-6 with 64, 7.7e-4 with 32
AUTO_TILE_PIXELS = 4_000_000  # Enhancer(tile=0) tiles images larger than this


def _spans(length: int, tile: int, halo: int, limit: int) -> list[tuple[int, int, int, int]]:
    """``(core_start, core_end, region_start, region_end)`` along one axis."""
    spans = []
    for start in range(0, length, tile):
        end = min(length, start + tile)
        spans.append((start, end, max(0, start - halo), min(limit, end + halo)))
    return spans


@torch.inference_mode()
def tiled_forward(model: EncoderDecoder, x: torch.Tensor, tile: int = DEFAULT_TILE,
                  halo: int = DEFAULT_HALO) -> torch.Tensor:
    """``model``'s enhanced image for ``x`` ``(1, 3, H, W)``, computed in ``tile``-sized pieces; the result
    equals ``model(x)[0]`` (eval mode, clamped) within float rounding."""
    if x.ndim != 4 or x.shape[0] != 1 or x.shape[1] != 3:
        raise ValueError(f"expected a (1, 3, H, W) tensor, got {tuple(x.shape)}")
    m = model.multiple
    if tile <= 0 or tile % m or halo < 0 or halo % m:
        raise ValueError(f"tile ({tile}) and halo ({halo}) must be positive multiples of {m}")
    model.eval()
    padded, (h, w) = pad_to_multiple(x, m)
    big_h, big_w = padded.shape[-2:]
    rows, cols = _spans(big_h, tile, halo, big_h), _spans(big_w, tile, halo, big_w)

    deep = None
    for y0, y1, ry0, ry1 in rows:  # pass 1: the deepest encoder features, assembled
        for x0, x1, rx0, rx1 in cols:
            feat = model.encode(padded[..., ry0:ry1, rx0:rx1])[-1]
            if deep is None:
                deep = feat.new_empty(1, feat.shape[1], big_h // m, big_w // m)
            deep[..., y0 // m:y1 // m, x0 // m:x1 // m] = feat[..., (y0 - ry0) // m:(y1 - ry0) // m,
                                                               (x0 - rx0) // m:(x1 - rx0) // m]
    deep = model.bottleneck(deep)  # once, on the whole map: its pooling is global
    global_term = model.global_term(deep)

    out = torch.empty(1, 3, h, w, dtype=x.dtype)
    for y0, y1, ry0, ry1 in rows:  # pass 2: skips again, decoder and head, per tile
        for x0, x1, rx0, rx1 in cols:
            if y0 >= h or x0 >= w:
                continue
            region = padded[..., ry0:ry1, rx0:rx1]
            feats = model.encode(region)
            feats[-1] = deep[..., ry0 // m:ry1 // m, rx0 // m:rx1 // m]
            image = model.to_image(model.decode(feats), region, global_term)
            core = image[..., y0 - ry0:min(y1, h) - ry0, x0 - rx0:min(x1, w) - rx0]
            out[..., y0:min(y1, h), x0:min(x1, w)] = core.clamp(0.0, 1.0)
    return out


@torch.inference_mode()
def tiled_local(model: torch.nn.Module, x: torch.Tensor, tile: int = DEFAULT_TILE, halo: int = 16) -> torch.Tensor:
    """Overlapping tiles for a purely local network (``model(x)[0]`` depends on a bounded window, e.g.
    Zero-DCE's seven 3x3 convolutions: 7 pixels): each tile runs with ``halo`` pixels of context and its
    core is kept, so the result equals the untiled one when ``halo`` covers the receptive field."""
    if x.ndim != 4 or x.shape[0] != 1 or tile <= 0 or halo < 0:
        raise ValueError(f"expected a (1, 3, H, W) tensor, a positive tile and a halo >= 0, got "
                         f"{tuple(x.shape)}, {tile}, {halo}")
    model.eval()
    h, w = x.shape[-2:]
    out = torch.empty_like(x)
    for y0, y1, ry0, ry1 in _spans(h, tile, halo, h):
        for x0, x1, rx0, rx1 in _spans(w, tile, halo, w):
            result = model(x[..., ry0:ry1, rx0:rx1])[0]
            out[..., y0:y1, x0:x1] = result[..., y0 - ry0:y1 - ry0, x0 - rx0:x1 - rx0].clamp(0.0, 1.0)
    return out
