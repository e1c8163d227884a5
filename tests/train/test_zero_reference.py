import torch

from minelight.models.weights import load_weights
from minelight.models import ZeroDCE, ZeroDCEConfig
from minelight.train.runs import ZeroDCERunConfig, train_zerodce
from minelight.train.zero_reference import (ZeroReferenceConfig, ZeroReferenceLoss, colour_constancy, exposure_control,
                                      illumination_smoothness, spatial_consistency)


def test_losses_are_zero_exactly_where_they_should_be():
    grey = torch.full((1, 3, 32, 32), 0.6)
    assert float(exposure_control(grey)) < 1e-6
    assert float(colour_constancy(grey)) < 1e-12
    assert float(illumination_smoothness(torch.zeros(1, 24, 16, 16))) == 0.0
    x = torch.rand(2, 3, 32, 32)
    assert float(spatial_consistency(x, x)) == 0.0
    assert float(spatial_consistency(x * 0.2, x)) > 0.0
    red = grey.clone()
    red[:, 0] = 1.0
    assert float(colour_constancy(red)) > 0.0


def test_zero_curves_are_the_identity_and_the_loss_drops_unused_terms():
    model = ZeroDCE(ZeroDCEConfig(channels=4, iterations=2))
    for p in model.out.parameters():
        torch.nn.init.zeros_(p)
    x = torch.rand(1, 3, 17, 23)
    assert torch.allclose(model(x)[0], x)
    _, terms = ZeroReferenceLoss(ZeroReferenceConfig(colour=0.0))(x, x, torch.zeros(1, 6, 17, 23))
    assert "colour" not in terms and set(terms) == {"spatial", "exposure", "smoothness"}


def test_train_zerodce_tiny_run_brightens_a_dark_folder(tmp_path, image_folder):
    cfg = ZeroDCERunConfig(data=(str(image_folder),), out=str(tmp_path / "z"), steps=30, batch_size=2, crop=32,
                           lr=5e-3, warmup=1, log_every=10, model=ZeroDCEConfig(channels=8, iterations=8))
    model, meta = load_weights(train_zerodce(cfg, progress=False), expect="zerodce")
    dark = torch.full((1, 3, 32, 32), 0.1)
    with torch.no_grad():
        assert float(model(dark)[0].mean()) > 0.1
    assert meta["steps"] == "30"
