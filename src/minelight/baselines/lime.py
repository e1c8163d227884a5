"""LIME: low-light enhancement via illumination map estimation (Guo, Li, Ling, TIP 2017).

1. Initial illumination ``T0(x) = max_c L_c(x)`` (eq. 2 of the paper).
2. Structure-aware refinement with the paper's sped-up formulation (eqs. 10-12): the L1 term
   ``alpha * ||W o grad T||_1`` is replaced by ``alpha * sum_d w_d(x) (grad_d T(x))^2`` with
   ``w_d = W_d / (|grad_d T0| + eps)``, so T solves the sparse linear system
   ``(I + alpha * sum_d D_d^T diag(w_d) D_d) t = t0`` — a weighted graph Laplacian plus identity.
   ``solver="exact"`` solves it with a sparse direct factorisation (scipy.sparse / SuperLU) at full
   resolution; ``solver="fast"`` solves the same system exactly on the initial map downsampled by
   ``fast_scale`` (default 1/2, about 8x less time) and upsamples the refined map bilinearly -- an
   approximation, since the refined illumination is smooth away from strong edges.
3. Weights: strategy III of the paper, ``W_d(x) = 1 / (|sum_{y in window(x)} G_sigma(x, y) grad_d T0(y)| + eps)``
   with a Gaussian window of standard deviation ``sigma`` (default 2, as in the paper's experiments).
4. Enhancement ``R = L / T^gamma`` with ``gamma = 0.8`` (paper, section III-C) and T clipped to
   ``[eps_t, 1]`` so black pixels do not explode.
5. Optional denoising (paper: BM3D on the Y channel, recomposed as ``R * T + R_denoised * (1 - T)``);
   BM3D is not available here, so OpenCV's non-local means stands in for it (``denoise=True``).

Constants: ``alpha = 0.15``, ``sigma = 2``, ``gamma = 0.8`` (paper's experimental settings);
``eps = 1e-3`` (gradient weight stabiliser), ``eps_t = 1e-2`` (illumination floor).
"""

from __future__ import annotations

import cv2
import numpy as np

from ..io import check_image, from_uint8, to_uint8


def _forward_diff(t: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Forward differences along x and y, ``(H, W)`` each; zero on the last column / row."""
    dx = np.zeros_like(t)
    dy = np.zeros_like(t)
    dx[:, :-1] = t[:, 1:] - t[:, :-1]
    dy[:-1, :] = t[1:, :] - t[:-1, :]
    return dx, dy


def structure_weights(t0: np.ndarray, sigma: float = 2.0, eps: float = 1e-3) -> tuple[np.ndarray, np.ndarray]:
    """The per-pixel weights ``w_x, w_y`` ``(H, W)`` of the sped-up refinement (strategy III)."""
    dx, dy = _forward_diff(t0)
    size = int(2 * np.ceil(2 * sigma) + 1)
    smooth = [cv2.GaussianBlur(d, (size, size), sigma, borderType=cv2.BORDER_REFLECT) for d in (dx, dy)]
    return tuple(1.0 / (np.abs(s) + eps) / (np.abs(d) + eps) for s, d in zip(smooth, (dx, dy)))  # type: ignore


def refinement_matrix(wx: np.ndarray, wy: np.ndarray, alpha: float) -> "scipy.sparse.csr_matrix":  # noqa: F821
    """``I + alpha * sum_d D_d^T diag(w_d) D_d`` for row-major pixels; ``(HW, HW)`` sparse, SPD."""
    import scipy.sparse as sp  # here: importing minelight's other methods does not load SciPy

    h, w = wx.shape
    n = h * w
    idx = np.arange(n).reshape(h, w)
    rows, cols, vals = [], [], []
    for weight, p, q in ((wx[:, :-1], idx[:, :-1], idx[:, 1:]), (wy[:-1, :], idx[:-1, :], idx[1:, :])):
        a = alpha * weight.ravel()
        p, q = p.ravel(), q.ravel()
        rows += [p, q, p, q]
        cols += [p, q, q, p]
        vals += [a, a, -a, -a]
    rows.append(np.arange(n))
    cols.append(np.arange(n))
    vals.append(np.ones(n))
    return sp.csr_matrix((np.concatenate(vals), (np.concatenate(rows), np.concatenate(cols))), shape=(n, n))


def refine_illumination(t0: np.ndarray, alpha: float = 0.15, sigma: float = 2.0, eps: float = 1e-3,
                        solver: str = "exact", fast_scale: float = 0.5) -> np.ndarray:
    """Refined illumination ``(H, W)`` from the initial map ``t0`` ``(H, W)`` in [0, 1]."""
    import scipy.sparse.linalg as spla

    if solver not in ("exact", "fast"):
        raise ValueError(f"unknown LIME solver {solver!r}; use 'exact' or 'fast'")
    h, w = t0.shape
    if solver == "fast" and min(h, w) * fast_scale >= 8:
        small = cv2.resize(t0.astype(np.float32), (round(w * fast_scale), round(h * fast_scale)),
                           interpolation=cv2.INTER_AREA)
        refined = refine_illumination(small, alpha, sigma * fast_scale, eps, "exact")
        return cv2.resize(refined, (w, h), interpolation=cv2.INTER_LINEAR)
    if w > h:  # number the unknowns along the short side: a narrower band, less fill-in, ~15 % faster
        return np.ascontiguousarray(refine_illumination(np.ascontiguousarray(t0.T), alpha, sigma, eps, "exact").T)
    t0 = t0.astype(np.float64)
    a = refinement_matrix(*structure_weights(t0, sigma, eps), alpha)
    t = spla.spsolve(a.tocsc(), t0.ravel(), permc_spec="MMD_AT_PLUS_A")
    return np.asarray(t, dtype=np.float32).reshape(t0.shape)


def lime(img: np.ndarray, alpha: float = 0.15, sigma: float = 2.0, gamma: float = 0.8, solver: str = "exact",
         denoise: bool = False, eps_t: float = 1e-2) -> np.ndarray:
    """``(H, W, 3)`` RGB in [0, 1] -> same shape: LIME enhancement (see the module docstring)."""
    img = check_image(img).astype(np.float32, copy=False)
    t = np.clip(refine_illumination(img.max(axis=2), alpha, sigma, solver=solver), eps_t, 1.0)
    out = np.clip(img / (t[..., None] ** gamma), 0.0, 1.0)
    if denoise:
        yuv = cv2.cvtColor(to_uint8(out), cv2.COLOR_RGB2YCrCb)
        yuv[..., 0] = cv2.fastNlMeansDenoising(yuv[..., 0], None, h=10)
        smooth = from_uint8(cv2.cvtColor(yuv, cv2.COLOR_YCrCb2RGB))
        out = out * t[..., None] + smooth * (1.0 - t[..., None])
    return out.astype(np.float32)
