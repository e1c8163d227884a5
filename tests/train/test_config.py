import pytest

from minelight.train.config import apply_overrides
from minelight.train.runs import StudentRunConfig


def test_typed_overrides():
    cfg = apply_overrides(StudentRunConfig(), ["steps=7", "lr=0.5", "distill.tau=4", "model.widths=8,16",
                                               "model.hdc=false", "out=x", "data=a,b"])
    assert cfg.steps == 7 and cfg.lr == 0.5 and cfg.distill.tau == 4.0
    assert cfg.model.widths == (8, 16) and cfg.model.hdc is False and cfg.out == "x" and cfg.data == ("a", "b")


@pytest.mark.parametrize("bad, msg", [("nokey", "key=value"), ("nope=1", "unknown config key"),
                                      ("steps=abc", "expected int"), ("model=1", "is a section"),
                                      ("model.hdc=maybe", "true/false"), ("foo.bar=1", "section")])
def test_bad_overrides(bad, msg):
    with pytest.raises(ValueError, match=msg):
        apply_overrides(StudentRunConfig(), [bad])
