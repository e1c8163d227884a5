import pytest
import torch

from minelight.models import Student, StudentConfig, Teacher, create_model, list_models
from minelight.models.profile import count_macs, count_params

from ..conftest import TINY_STUDENT

TINY = {"teacher": {"widths": (8, 8, 8)}, "student": {"widths": (8, 8, 8)}, "zerodce": {"channels": 8},
        "fast": {"widths": (8, 8, 8), "low_side": 32}}


def test_every_registered_model_has_a_tiny_config():
    assert sorted(TINY) == list_models()


@pytest.mark.parametrize("name", list_models())
@pytest.mark.parametrize("size", [(97, 131), (1, 1), (16, 16)])
def test_any_size_in_same_size_out(name, size):
    model = create_model(name, **TINY[name]).eval()
    x = torch.rand(2, 3, *size)
    with torch.no_grad():
        out, feats = model(x)
    assert out.shape == x.shape
    assert torch.isfinite(out).all() and out.min() >= 0 and out.max() <= 1
    if name != "zerodce":
        assert [f.shape[1] for f in feats] == [8, 8, 8]


def test_default_student_is_under_one_million_params_and_lines_up_with_teacher():
    student, teacher = Student(), Teacher()
    assert count_params(student) <= 1_000_000
    x = torch.rand(1, 3, 64, 64)
    with torch.no_grad():
        fs, ft = student(x)[1], teacher(x)[1]
    assert [f.shape for f in fs] == [f.shape for f in ft]


def test_zero_dce_counts_match_the_paper_and_a_hand_count():
    """DCE-Net (32 channels, 8 iterations) has 79,416 parameters (Guo et al. 2020). For width c and n
    iterations its 3x3 convs take 3c, c, c, c, 2c, 2c and 2c input channels and give c, c, c, c, c, c and 3n
    outputs: 9 * (3c + 7c^2 + 6cn) weights and MACs per pixel, plus 6c + 3n biases."""
    from minelight.models.zero_dce import ZeroDCE, ZeroDCEConfig

    assert count_params(ZeroDCE()) == 79_416
    c, n, h, w = 8, 4, 12, 20
    per_pixel = 9 * (3 * c + 7 * c * c + 6 * c * n)
    tiny = ZeroDCE(ZeroDCEConfig(channels=c, iterations=n))
    assert count_params(tiny) == per_pixel + 6 * c + 3 * n
    assert count_macs(tiny, h, w) == per_pixel * h * w


def test_count_macs_on_strided_grouped_and_linear_layers_by_hand():
    net = torch.nn.Sequential(
        torch.nn.Conv2d(3, 4, 3, stride=2, padding=1),  # 8x8 -> 4x4: 4 * 16 outputs x 3 * 9 = 1728
        torch.nn.ReLU(),
        torch.nn.Conv2d(4, 4, 3, padding=1, groups=4),  # depthwise: 64 outputs x 1 * 9 = 576
        torch.nn.Conv2d(4, 2, 1),  # 32 outputs x 4 = 128
        torch.nn.Flatten(),
        torch.nn.Linear(32, 5))  # 5 outputs x 32 = 160
    assert count_macs(net, 8, 8) == 1728 + 576 + 128 + 160
    assert count_params(net) == (4 * 27 + 4) + (4 * 9 + 4) + (2 * 4 + 2) + (5 * 32 + 5)
    assert net.training  # the count leaves the mode as it found it


def test_ablation_switches_change_the_architecture():
    plain = Student(StudentConfig(**{**TINY_STUDENT, "hdc": False, "attention": False}))
    full = Student(StudentConfig(**TINY_STUDENT))
    names = lambda m: {type(x).__name__ for x in m.modules()}  # noqa: E731
    assert "HybridDilatedConv" in names(full) and "HybridDilatedConv" not in names(plain)
    assert "ChannelAttention" in names(full) and "ChannelAttention" not in names(plain)
    no_rir = Student(StudentConfig(**{**TINY_STUDENT, "rir": False}))
    assert "ResidualInResidual" in names(full) and "ResidualInResidual" not in names(no_rir)
    blocks = lambda m: sum(type(x).__name__ == "ResidualBlock" for x in m.modules())  # noqa: E731
    assert blocks(no_rir) == blocks(full) > 0  # the same residual blocks, without the groups
    assert no_rir(torch.rand(1, 3, 40, 56))[0].shape == (1, 3, 40, 56)


def test_unknown_model_name():
    with pytest.raises(ValueError, match="unknown model"):
        create_model("nope")


def test_affine_output_starts_from_a_pure_per_pixel_map_and_sees_the_whole_image():
    """The global exposure term starts at zero (no gain), and a change far away changes the output."""
    torch.manual_seed(0)
    model = Student(StudentConfig(**TINY_STUDENT, output="affine")).eval()
    assert torch.count_nonzero(model.global_gain.weight) == 0
    with torch.no_grad():
        model.global_gain.weight.normal_()
        x = torch.rand(1, 3, 160, 160) * 0.1
        y = x.clone()
        y[..., 136:, 136:] += 0.5  # bright patch far from the top-left corner
        corner = lambda t: model(t)[0][..., :8, :8]  # noqa: E731
        assert not torch.allclose(corner(x), corner(y))


def test_unknown_output_kind():
    with pytest.raises(ValueError, match="unknown output"):
        Student(StudentConfig(**TINY_STUDENT, output="magic"))
