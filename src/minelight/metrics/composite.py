"""The paper's "normalised objective index", defined exactly (see ``docs/metrics.md``).

For compared methods ``m`` and indices ``k`` (default: NIQE, entropy, RMS contrast, average gradient),
with ``v[m][k]`` the mean of index ``k`` over a data set:

* normalise each index across the methods to (0, 1], 1 = best:
  ``n[m][k] = v[m][k] / max_m v[m][k]`` when higher is better, ``min_m v[m][k] / v[m][k]`` when lower is;
* ``C[m] = sum_k n[m][k]`` (the summed normalised indices; higher is better);
* improvement of ``a`` over ``b`` in % ``= 100 * (C[a] - C[b]) / C[b]`` -- the summed absolute changes of
  the normalised indices relative to ``b``'s total.
"""

from __future__ import annotations

from .registry import METRICS

COMPOSITE_METRICS = ("niqe", "entropy", "contrast", "avg_gradient")


def normalise(means: dict[str, dict[str, float]], metrics=COMPOSITE_METRICS) -> dict[str, dict[str, float]]:
    """``{method: {metric: mean}}`` -> ``{method: {metric: normalised score in (0, 1]}}``."""
    out: dict[str, dict[str, float]] = {m: {} for m in means}
    for k in metrics:
        values = {m: float(v[k]) for m, v in means.items()}
        if any(x <= 0 for x in values.values()):
            raise ValueError(f"composite index needs positive {k} values, got {values}")
        best = min(values.values()) if METRICS[k].lower_is_better else max(values.values())
        for m, x in values.items():
            out[m][k] = best / x if METRICS[k].lower_is_better else x / best
    return out


def composite_index(means: dict[str, dict[str, float]], metrics=COMPOSITE_METRICS) -> dict[str, float]:
    """``{method: C}`` with ``C`` the sum of the normalised indices (``len(metrics)`` = best on all)."""
    return {m: sum(v.values()) for m, v in normalise(means, metrics).items()}


def relative_improvement(index: dict[str, float]) -> dict[tuple[str, str], float]:
    """``{(a, b): 100 * (C[a] - C[b]) / C[b]}`` for every ordered pair of different methods."""
    return {(a, b): 100.0 * (index[a] - index[b]) / index[b] for a in index for b in index if a != b}
