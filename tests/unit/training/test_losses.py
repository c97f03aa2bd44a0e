import pytest
import torch

from training.losses import emulator_loss, mto_loss_weight

# points since the MTO: 0..9 at 0.2, then linear to 1.0 at point 20, 1.0 afterwards
EXPECTED_0_TO_25 = [0.2] * 11 + [0.28, 0.36, 0.44, 0.52, 0.6, 0.68, 0.76, 0.84, 0.92, 1.0]
EXPECTED_0_TO_25 += [1.0] * 5


def test_mto_weights_for_points_0_to_25():
    weights = mto_loss_weight(torch.arange(26, dtype=torch.int16))
    assert weights.tolist() == pytest.approx(EXPECTED_0_TO_25, abs=1e-6)
    assert len(EXPECTED_0_TO_25) == 26


def test_no_mto_weighs_fully():
    assert mto_loss_weight(torch.tensor([99, 250])).tolist() == [1.0, 1.0]


def _inputs():
    price = torch.tensor([[0.5, 0.6, 0.7, 0.8]])
    y = torch.tensor([[0.6, 0.6, 0.5, 0.0]])
    return {
        "price": price,
        "logvar": torch.zeros(1, 4),
        "distress_logit": torch.zeros(1, 4),
        "y": y,
        "distress": torch.tensor([[0.0, 1.0, 0.0, 1.0]]),
        "mask": torch.tensor([[True, True, True, False]]),
        "pts_since_mto": torch.tensor([[0, 15, 99, 99]], dtype=torch.int16),
    }


def _loss(**kw):
    a = _inputs()
    a.update(kw)
    return emulator_loss(
        a["price"],
        a["logvar"],
        a["distress_logit"],
        y=a["y"],
        distress=a["distress"],
        mask=a["mask"],
        pts_since_mto=a["pts_since_mto"],
    )


def test_mse_uses_mto_weights_and_ignores_padding():
    parts = _loss()
    # weights 0.2, 0.6, 1.0 on the three real points; the padded 4th point is ignored
    expected = (0.2 * 0.01 + 0.6 * 0.0 + 1.0 * 0.04) / (0.2 + 0.6 + 1.0)
    assert float(parts.mse) == pytest.approx(expected, rel=1e-5)
    assert float(_loss(y=torch.tensor([[0.6, 0.6, 0.5, 0.9]])).mse) == pytest.approx(expected)


def test_nll_and_distress_terms():
    parts = _loss()
    squared = torch.tensor([0.01, 0.0, 0.04])
    weights = torch.tensor([0.2, 0.6, 1.0])
    assert float(parts.nll) == pytest.approx(float((weights * 0.5 * squared).sum() / 1.8))
    assert float(parts.bce) == pytest.approx(float(torch.log(torch.tensor(2.0))), rel=1e-6)
    assert float(parts.total) == pytest.approx(
        float(parts.mse + parts.nll + 0.1 * parts.bce), rel=1e-6
    )


def test_nll_does_not_push_the_price():
    a = _inputs()
    price = a["price"].clone().requires_grad_(True)
    logvar = torch.zeros(1, 4, requires_grad=True)
    parts = emulator_loss(
        price,
        logvar,
        a["distress_logit"],
        y=a["y"],
        distress=a["distress"],
        mask=a["mask"],
        pts_since_mto=a["pts_since_mto"],
    )
    parts.nll.backward()
    assert price.grad is None or float(price.grad.abs().sum()) == 0.0
    assert logvar.grad is not None and float(logvar.grad.abs().sum()) > 0.0
