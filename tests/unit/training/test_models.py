import pytest
import torch

from engine.features.schema import STATIC_DIM, TOKEN_DIM
from training.models import (
    GRUConfig,
    GRUEmulator,
    TransformerConfig,
    TransformerEmulator,
    build_model,
)

KINDS = ["gru", "transformer"]


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
    model = build_model(kind, **tiny[kind]).eval()
    price, logvar, distress = model(torch.randn(3, STATIC_DIM), torch.randn(3, 9, TOKEN_DIM))
    assert price.shape == logvar.shape == distress.shape == (3, 9)
    assert bool(((price > 0) & (price < 1)).all())


@pytest.mark.parametrize("kind", KINDS)
def test_models_are_causal(kind, tiny):
    torch.manual_seed(0)
    model = build_model(kind, **tiny[kind]).eval()
    static, seq = torch.randn(1, STATIC_DIM), torch.randn(1, 10, TOKEN_DIM)
    changed = seq.clone()
    changed[:, 6:] += 5.0
    with torch.no_grad():
        a, _, _ = model(static, seq)
        b, _, _ = model(static, changed)
    assert torch.equal(a[:, :6], b[:, :6])
    assert not torch.equal(a[:, 6:], b[:, 6:])


@pytest.mark.parametrize("kind", KINDS)
def test_static_vector_conditions_the_first_point(kind, tiny):
    torch.manual_seed(0)
    model = build_model(kind, **tiny[kind]).eval()
    seq = torch.randn(1, 4, TOKEN_DIM)
    with torch.no_grad():
        a, _, _ = model(torch.zeros(1, STATIC_DIM), seq)
        b, _, _ = model(torch.ones(1, STATIC_DIM), seq)
    assert float((a[0, 0] - b[0, 0]).abs()) > 0.0


def test_gru_step_matches_full_sequence(tiny):
    torch.manual_seed(1)
    model = GRUEmulator(GRUConfig(**tiny["gru"])).eval()
    static, seq = torch.randn(1, STATIC_DIM), torch.randn(1, 8, TOKEN_DIM)
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
    model = TransformerEmulator(TransformerConfig(**tiny["transformer"])).eval()
    static, seq = torch.randn(1, STATIC_DIM), torch.randn(1, 8, TOKEN_DIM)
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
