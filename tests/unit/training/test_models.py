import math
from typing import TypeVar

import pytest
import torch

from engine.features.schema import STATIC_DIM, TOKEN_DIM, TOKEN_INDEX
from training.models import (
    ANCHOR_EDGE,
    GRUConfig,
    GRUEmulator,
    TransformerConfig,
    TransformerEmulator,
    anchor_terms,
    build_model,
)

KINDS = ["gru", "transformer"]


def tokens(n: int, length: int, seed: int = 0) -> torch.Tensor:
    """Random tokens whose fair/residual columns are coherent probabilities."""
    g = torch.Generator().manual_seed(seed)
    seq = torch.randn(n, length, TOKEN_DIM, generator=g)
    fair = 0.1 + 0.8 * torch.rand(n, length, generator=g)
    seq[..., TOKEN_INDEX["fair_prob"]] = fair
    seq[..., TOKEN_INDEX["fair_delta"]] = 0.05 * torch.rand(n, length, generator=g) - 0.025
    seq[..., TOKEN_INDEX["residual"]] = 0.04 * torch.rand(n, length, generator=g) - 0.02
    return seq


M = TypeVar("M", bound=GRUEmulator | TransformerEmulator)


def trained_like(model: M) -> M:
    """A fresh model's price head is zero (it starts at the anchor); give it weights so the
    trunk shows through, as it does after training."""
    with torch.no_grad():
        model.heads.linear.weight.normal_(0.0, 0.5)
        model.heads.linear.bias.normal_(0.0, 0.1)
    return model


def test_default_architectures_are_the_design_ones():
    gru = GRUEmulator()
    assert (gru.config.embed, gru.config.hidden, gru.config.layers) == (64, 128, 2)
    assert gru.gru.num_layers == 2 and gru.gru.hidden_size == 128
    assert gru.static_net[0].out_features == 128 and isinstance(gru.static_net[1], torch.nn.SiLU)
    assert gru.token_net[0].out_features == 64 and isinstance(gru.token_net[1], torch.nn.SiLU)
    tr = TransformerEmulator()
    c = tr.config
    assert (c.layers, c.d_model, c.heads, c.ff) == (4, 128, 4, 512)
    assert len(tr.blocks) == 4 and isinstance(tr._blocks()[0].ff[1], torch.nn.SiLU)
    assert GRUConfig().dropout == TransformerConfig().dropout == 0.2
    assert (GRUConfig().token_dim, GRUConfig().static_dim) == (TOKEN_DIM, STATIC_DIM)


@pytest.mark.parametrize("kind", KINDS)
def test_output_shapes(kind, tiny):
    torch.manual_seed(0)
    model = trained_like(build_model(kind, **tiny[kind])).eval()
    price, logvar, distress = model(torch.randn(3, STATIC_DIM), tokens(3, 9))
    assert price.shape == logvar.shape == distress.shape == (3, 9)
    assert bool(((price > 0) & (price < 1)).all())


@pytest.mark.parametrize("kind", KINDS)
def test_models_are_causal(kind, tiny):
    torch.manual_seed(0)
    model = trained_like(build_model(kind, **tiny[kind])).eval()
    static, seq = torch.randn(1, STATIC_DIM), tokens(1, 10)
    changed = seq.clone()
    changed[:, 6:, : TOKEN_INDEX["fair_prob"]] += 5.0
    with torch.no_grad():
        a, _, _ = model(static, seq)
        b, _, _ = model(static, changed)
    assert torch.equal(a[:, :6], b[:, :6])
    assert not torch.equal(a[:, 6:], b[:, 6:])


@pytest.mark.parametrize("kind", KINDS)
def test_static_vector_conditions_the_first_point(kind, tiny):
    torch.manual_seed(0)
    model = trained_like(build_model(kind, **tiny[kind])).eval()
    seq = tokens(1, 4)
    with torch.no_grad():
        a, _, _ = model(torch.zeros(1, STATIC_DIM), seq)
        b, _, _ = model(torch.ones(1, STATIC_DIM), seq)
    assert float((a[0, 0] - b[0, 0]).abs()) > 0.0


def test_gru_step_matches_full_sequence(tiny):
    torch.manual_seed(1)
    model = trained_like(GRUEmulator(GRUConfig(**tiny["gru"]))).eval()
    static, seq = torch.randn(1, STATIC_DIM), tokens(1, 8)
    with torch.no_grad():
        full, _, _ = model(static, seq)
        state = torch.full((2, 1, 16), 9.0)  # garbage, replaced by reset on the first step
        steps = []
        for t in range(8):
            price, _, _, state = model.step(static, seq[:, t], state, torch.tensor([float(t == 0)]))
            steps.append(float(price))
    assert steps == pytest.approx(full[0].tolist(), abs=1e-6)


def test_transformer_step_matches_full_sequence(tiny):
    torch.manual_seed(1)
    model = trained_like(TransformerEmulator(TransformerConfig(**tiny["transformer"]))).eval()
    static, seq = torch.randn(1, STATIC_DIM), tokens(1, 8)
    layers = model.config.layers
    with torch.no_grad():
        full, _, _ = model(static, seq)
        cache = [torch.zeros(0, 16) for _ in range(2 * layers)]
        steps = []
        for position in range(9):
            token = seq[:, position - 1] if position else torch.zeros(1, TOKEN_DIM)
            out = model.step(static, token, torch.tensor(position), cache)
            cache = [torch.cat([c, row]) for c, row in zip(cache, out[3:], strict=True)]
            if position:
                steps.append(float(out[0]))
    assert steps == pytest.approx(full[0].tolist(), abs=1e-6)


def test_unknown_model_kind():
    with pytest.raises(ValueError, match="model"):
        build_model("lstm")
    with pytest.raises(ValueError, match="d_model"):
        TransformerConfig(d_model=10, heads=4)


def _token(**columns: float) -> torch.Tensor:
    token = torch.zeros(TOKEN_DIM)
    for name, value in columns.items():
        token[TOKEN_INDEX[name]] = value
    return token


def test_without_a_book_the_anchor_is_the_previous_label_moved_by_the_fair_logit_change():
    token = _token(fair_prob=0.6, fair_delta=0.1, residual=0.05)  # prev fair .5, prev label .55
    previous, move = anchor_terms(token)
    assert float(previous) == pytest.approx(math.log(0.55 / 0.45), abs=1e-6)
    assert float(move) == pytest.approx(math.log(0.6 / 0.4), abs=1e-6)


def test_with_a_book_the_anchor_is_its_50_pound_mid_as_the_label_defines_it():
    both = _token(fair_prob=0.6, back_prob_50=0.5, lay_prob_50=0.52, residual=0.3)
    best_only = _token(fair_prob=0.6, back_prob=0.5, lay_prob=0.54, lay_prob_50=0.0)
    one_side = _token(fair_prob=0.6, back_prob_50=0.5)
    for token, mid in ((both, 0.51), (best_only, 0.52), (one_side, 0.5)):
        previous, _ = anchor_terms(token)
        assert float(previous) == pytest.approx(math.log(mid / (1 - mid)), abs=1e-5)


def test_a_first_point_without_an_opening_is_anchored_on_the_fair_price():
    previous, move = anchor_terms(_token(fair_prob=0.72))  # fair_delta and residual 0
    assert float(previous + move) == pytest.approx(math.log(0.72 / 0.28), abs=1e-5)


def test_anchor_clamps_a_settled_price_to_a_finite_logit():
    previous, move = anchor_terms(_token(fair_prob=1.0))
    edge = math.log((1 - ANCHOR_EDGE) / ANCHOR_EDGE)
    assert float(previous) == pytest.approx(edge, rel=1e-5)
    assert float(move) == 0.0


@pytest.mark.parametrize("kind", KINDS)
def test_an_untrained_model_predicts_the_anchor(kind, tiny):
    torch.manual_seed(0)
    model = build_model(kind, **tiny[kind]).eval()
    static, seq = torch.randn(2, STATIC_DIM), tokens(2, 6)
    with torch.no_grad():
        price, _, _ = model(static, seq)
    previous, move = anchor_terms(seq)
    assert torch.allclose(price, torch.sigmoid(previous + move), atol=1e-6)
