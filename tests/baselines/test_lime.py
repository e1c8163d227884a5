import numpy as np
import pytest

from minelight.baselines.lime import lime, refine_illumination, refinement_matrix, structure_weights

from ..conftest import scene


@pytest.mark.parametrize("shape", [(7, 9), (9, 7)])  # wide maps are solved transposed
def test_sparse_solve_matches_a_dense_solve(shape):
    rng = np.random.default_rng(0)
    t0 = rng.random(shape)
    a = refinement_matrix(*structure_weights(t0), alpha=0.15)
    dense = np.linalg.solve(a.toarray(), t0.ravel()).reshape(t0.shape)
    np.testing.assert_allclose(refine_illumination(t0, solver="exact"), dense, atol=1e-5)


def test_fast_solver_approximates_the_exact_one_on_a_smooth_map():
    t0 = scene(64, 80).max(axis=2)
    exact, fast = refine_illumination(t0), refine_illumination(t0, solver="fast")
    assert fast.shape == exact.shape
    assert np.abs(fast - exact).mean() < 0.02


@pytest.mark.parametrize("size", [(1, 1), (33, 47)])
def test_lime_brightens_keeps_size_and_range_and_is_deterministic(size):
    dark = scene(*size) * 0.15
    out = lime(dark)
    assert out.shape == dark.shape and out.min() >= 0 and out.max() <= 1
    assert out.mean() > dark.mean() or size == (1, 1)
    np.testing.assert_array_equal(out, lime(dark))


def test_unknown_solver():
    with pytest.raises(ValueError, match="solver"):
        lime(scene(8, 8), solver="magic")
