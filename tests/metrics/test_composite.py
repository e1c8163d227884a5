import pytest

from minelight.metrics.composite import composite_index, normalise, relative_improvement


def test_composite_index_on_a_hand_computed_example():
    means = {
        "a": {"niqe": 4.0, "entropy": 7.0, "contrast": 50.0, "avg_gradient": 10.0},
        "b": {"niqe": 5.0, "entropy": 7.0, "contrast": 25.0, "avg_gradient": 5.0},
    }
    norm = normalise(means)
    assert norm["a"] == {"niqe": 1.0, "entropy": 1.0, "contrast": 1.0, "avg_gradient": 1.0}
    assert norm["b"] == pytest.approx({"niqe": 0.8, "entropy": 1.0, "contrast": 0.5, "avg_gradient": 0.5})
    index = composite_index(means)
    assert index == pytest.approx({"a": 4.0, "b": 2.8})
    rel = relative_improvement(index)
    assert rel[("a", "b")] == pytest.approx(100 * 1.2 / 2.8)
    assert rel[("b", "a")] == pytest.approx(-30.0)


def test_composite_index_rejects_non_positive_values():
    with pytest.raises(ValueError, match="positive"):
        normalise({"a": {"niqe": 0.0, "entropy": 1, "contrast": 1, "avg_gradient": 1}})
