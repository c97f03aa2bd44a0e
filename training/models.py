"""The two market-price emulators of DESIGN.md §5, with a full-sequence forward for training and a
single-step forward (GRU hidden state / append-only KV cache) that the ONNX export traces.

Both return, per point, the price (a logit correction to the previous market price moved by the
physics model, see anchor_terms), the log-variance of the price error and the distress
LOGIT (the sigmoid is applied in the exported step graph; training uses BCE-with-logits).
Defaults are the shipped architecture; the size arguments exist so tests can build tiny models.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Any, Final, cast

import torch
from torch import Tensor, nn

from engine.features.schema import STATIC_DIM, TOKEN_DIM, TOKEN_INDEX

# Recorded in each model's metadata: how the price head reads the trunk (see Heads).
HEAD_KIND: Final = "anchored-logit-v2"


@dataclass(frozen=True, slots=True)
class GRUConfig:
    token_dim: int = TOKEN_DIM
    static_dim: int = STATIC_DIM
    embed: int = 64
    hidden: int = 128
    layers: int = 2
    dropout: float = 0.2

    def to_dict(self) -> dict[str, Any]:
        return {"kind": "gru", "head": HEAD_KIND, **asdict(self)}


@dataclass(frozen=True, slots=True)
class TransformerConfig:
    token_dim: int = TOKEN_DIM
    static_dim: int = STATIC_DIM
    d_model: int = 128
    heads: int = 4
    layers: int = 4
    ff: int = 512
    dropout: float = 0.2

    def __post_init__(self) -> None:
        if self.d_model % (2 * self.heads) != 0:
            raise ValueError("d_model: must be a multiple of 2 * heads")

    @property
    def head_dim(self) -> int:
        return self.d_model // self.heads

    def to_dict(self) -> dict[str, Any]:
        return {"kind": "transformer", "head": HEAD_KIND, **asdict(self)}


# Clamp of the probabilities before their logits: the book never prices a player beyond
# 1.001 / 1000 odds, and a finite logit keeps the gradient defined.
ANCHOR_EDGE: Final = 1e-3
_FAIR, _DELTA, _RESIDUAL = (TOKEN_INDEX[n] for n in ("fair_prob", "fair_delta", "residual"))
_BACK, _LAY, _BACK_50, _LAY_50 = (
    TOKEN_INDEX[n] for n in ("back_prob", "lay_prob", "back_prob_50", "lay_prob_50")
)


def _anchor_projection() -> Tensor:
    """(F, 7): token -> fair, previous fair, previous label, back £50, lay £50, back, lay — the
    anchor's linear part as ONE MatMul, so the exported step graph stays small (each ONNX node
    costs about half a microsecond to dispatch on the point path)."""
    w = torch.zeros(TOKEN_DIM, 7)
    w[_FAIR, 0] = 1.0
    w[_FAIR, 1], w[_DELTA, 1] = 1.0, -1.0  # previous fair = fair - fair_delta
    w[_FAIR, 2], w[_DELTA, 2], w[_RESIDUAL, 2] = 1.0, -1.0, 1.0  # previous label = residual + it
    for k, column in enumerate((_BACK_50, _LAY_50, _BACK, _LAY), start=3):
        w[column, k] = 1.0
    return w


_ANCHOR_PROJECTION: Final = _anchor_projection()


def anchor_terms(token: Tensor) -> tuple[Tensor, Tensor]:
    """(previous market logit, physics logit move over the point) for token (…, F).

    The market's next price is, to first order, its last price moved by what the point did to the
    fair price. The emulators predict a correction to that in logit space instead of the price from
    scratch, so an untrained model starts at this baseline and training spends its capacity on what
    it misses (the market's favourite-longshot scaling of moves, over-reaction after breaks and its
    decay, MTOs, the market knowing the players better than the physics model).

    The last market price is the book the token carries (its £50 mid, as the label is defined) and,
    without a book (emu_lite, an empty market), the previous label (residual + previous fair). On a
    match's first point the token's previous fair price and label are the price at 0-0 and the
    market before the point (engine.features.match.MatchFeatures.on_match_open), or the fair
    price itself when those are unknown (fair_delta and residual 0). Everything is read from the
    token, so the exported graphs need no extra input.
    """
    x = token @ _ANCHOR_PROJECTION.to(device=token.device, dtype=token.dtype)  # (…, 7)
    # the book's mid as the label defines it (training/align_labels.market_prob): the £50 price of
    # each side, else its best price; the mean of the sides present; 0 with no book (emu_lite)
    sides = torch.where(x[..., 3:5] > 0.0, x[..., 3:5], x[..., 5:7])
    present = (sides > 0.0).to(token.dtype).sum(-1, keepdim=True).clamp(min=1.0)
    mid = sides.sum(-1, keepdim=True) / present
    previous = torch.where(mid > 0.0, mid, x[..., 2:3])
    q = torch.cat([previous, x[..., 0:2]], dim=-1).clamp(ANCHOR_EDGE, 1.0 - ANCHOR_EDGE)
    logits = torch.log(q / (1.0 - q))  # previous market, fair, previous fair
    return logits[..., 0], logits[..., 1] - logits[..., 2]


class Heads(nn.Module):
    """Anchored price, log-variance, distress logit.

    price = sigmoid(previous_logit + (1 + gain) · move + offset), with offset and gain read from
    the trunk and zero at initialisation (see anchor_terms).
    While training, the log-variance head reads DETACHED features: it learns the size of the price
    error as a probe of the trunk without its (large) NLL gradient reshaping the price features —
    the price objective stays the blueprint's MSE. In eval the four outputs are one GEMM.
    """

    def __init__(self, width: int) -> None:
        super().__init__()
        self.linear = nn.Linear(width, 4)  # offset, gain, logvar, distress: one GEMM
        with torch.no_grad():
            self.linear.weight[:2].zero_()
            self.linear.bias[:2].zero_()

    def forward(self, x: Tensor, token: Tensor) -> tuple[Tensor, Tensor, Tensor]:
        """x (…, width) trunk features, token (…, F) the point's token -> price, logvar,
        distress logit, each (…)."""
        offset, gain, logvar, distress = self.linear(x).unbind(-1)
        if self.training:
            w, b = self.linear.weight[2:3], self.linear.bias[2:3]
            logvar = nn.functional.linear(x.detach(), w, b).squeeze(-1)
        previous, move = anchor_terms(token)
        price = torch.sigmoid(previous + (1.0 + gain) * move + offset)
        return price, logvar, distress


class GRUEmulator(nn.Module):
    """static -> Dense(hidden) SiLU -> h0 (every layer); token -> Dense(embed) SiLU -> GRU."""

    def __init__(self, config: GRUConfig | None = None) -> None:
        super().__init__()
        self.config = config or GRUConfig()
        c = self.config
        self.static_net = nn.Sequential(nn.Linear(c.static_dim, c.hidden), nn.SiLU())
        self.token_net = nn.Sequential(nn.Linear(c.token_dim, c.embed), nn.SiLU())
        self.drop = nn.Dropout(c.dropout)
        self.gru = nn.GRU(
            c.embed,
            c.hidden,
            num_layers=c.layers,
            batch_first=True,
            dropout=c.dropout if c.layers > 1 else 0.0,
        )
        self.heads = Heads(c.hidden)

    def initial_state(self, static: Tensor) -> Tensor:
        """(layers, N, hidden) from the static vector (N, static_dim); dropout on the static
        branch while training (blueprint §8)."""
        h0: Tensor = self.drop(self.static_net(static))
        return h0.unsqueeze(0).expand(self.config.layers, -1, -1).contiguous()

    def forward(self, static: Tensor, seq: Tensor) -> tuple[Tensor, Tensor, Tensor]:
        """static (N, S), seq (N, T, F) -> price, logvar, distress_logit, each (N, T)."""
        x = self.drop(self.token_net(seq))
        out, _ = self.gru(x, self.initial_state(static))
        price, logvar, distress = self.heads(self.drop(out), seq)
        return price, logvar, distress

    def step(
        self, static: Tensor, token: Tensor, state: Tensor, reset: Tensor
    ) -> tuple[Tensor, Tensor, Tensor, Tensor]:
        """One point for one match: token (1, F), state (layers, 1, hidden), reset (1,) — where
        reset > 0.5 the state is replaced by the static h0 (first point of a match)."""
        h = torch.where(reset.reshape(1, 1, 1) > 0.5, self.initial_state(static), state)
        x = self.token_net(token).unsqueeze(1)
        out, h_new = self.gru(x, h)
        price, logvar, distress = self.heads(out[:, 0], token)
        return price, logvar, torch.sigmoid(distress), h_new


def sinusoidal(positions: Tensor, d_model: int) -> Tensor:
    """(…,) positions -> (…, d_model): sin in the first half, cos in the second."""
    half = d_model // 2
    freqs = torch.exp(
        torch.arange(half, dtype=torch.float32, device=positions.device)
        * (-math.log(10000.0) / half)
    )
    angles = positions.to(torch.float32).unsqueeze(-1) * freqs
    return torch.cat([torch.sin(angles), torch.cos(angles)], dim=-1)


class Block(nn.Module):
    """Pre-LayerNorm causal self-attention + SiLU feed-forward."""

    def __init__(self, c: TransformerConfig) -> None:
        super().__init__()
        self.heads = c.heads
        self.head_dim = c.head_dim
        self.ln1 = nn.LayerNorm(c.d_model)
        self.qkv = nn.Linear(c.d_model, 3 * c.d_model)
        self.proj = nn.Linear(c.d_model, c.d_model)
        self.ln2 = nn.LayerNorm(c.d_model)
        self.ff = nn.Sequential(nn.Linear(c.d_model, c.ff), nn.SiLU(), nn.Linear(c.ff, c.d_model))
        self.drop = nn.Dropout(c.dropout)
        head_of_channel = torch.arange(c.d_model) // c.head_dim
        mask = (head_of_channel.unsqueeze(1) == torch.arange(c.heads)).to(torch.float32)
        self.head_mask: Tensor
        self.register_buffer("head_mask", mask, persistent=False)  # (d, H) block diagonal

    def _split(self, x: Tensor) -> tuple[Tensor, Tensor, Tensor]:
        q, k, v = self.qkv(self.ln1(x)).chunk(3, dim=-1)
        shape = (*x.shape[:-1], self.heads, self.head_dim)
        return q.reshape(shape), k.reshape(shape), v.reshape(shape)

    def forward(self, x: Tensor) -> Tensor:
        """x (N, L, d) -> (N, L, d), causal."""
        n, length, d = x.shape
        q, k, v = (t.transpose(1, 2) for t in self._split(x))  # (N, H, L, dh)
        scores = q @ k.transpose(-1, -2) / math.sqrt(self.head_dim)
        causal = torch.ones(length, length, dtype=torch.bool, device=x.device).triu(1)
        attn = scores.masked_fill(causal, float("-inf")).softmax(dim=-1)
        mixed = (attn @ v).transpose(1, 2).reshape(n, length, d)
        x = x + self.drop(self.proj(mixed))
        out: Tensor = x + self.drop(self.ff(self.ln2(x)))
        return out

    def step(self, x: Tensor, past_k: Tensor, past_v: Tensor) -> tuple[Tensor, Tensor, Tensor]:
        """x (1, d), past (P, d) -> (x', k (1, d), v (1, d)); attends to the past and itself.

        Per-head dot products are written as matrix products with a block-diagonal head mask,
        (P, d) @ (d, H), so the exported graph runs two small GEMMs per layer over the cache as
        the caller lays it out, without transposing or concatenating it.
        """
        q, k, v = self.qkv(self.ln1(x)).chunk(3, dim=-1)  # (1, d) each
        q_blocks = q.reshape(-1, 1) * self.head_mask * (1.0 / math.sqrt(self.head_dim))  # (d, H)
        scores = torch.cat([past_k @ q_blocks, k @ q_blocks], dim=0)  # (P+1, H)
        attn = scores.softmax(dim=0)
        per_head = attn[:-1].t() @ past_v + attn[-1:].t() * v  # (H, d)
        mixed = (per_head * self.head_mask.t()).sum(dim=0, keepdim=True)  # (1, d)
        x = x + self.proj(mixed)
        return x + self.ff(self.ln2(x)), k, v


class TransformerEmulator(nn.Module):
    """Causal Transformer: static token at position 0, then one token per point."""

    def __init__(self, config: TransformerConfig | None = None) -> None:
        super().__init__()
        self.config = config or TransformerConfig()
        c = self.config
        self.static_proj = nn.Linear(c.static_dim, c.d_model)
        self.token_proj = nn.Linear(c.token_dim, c.d_model)
        self.drop = nn.Dropout(c.dropout)
        self.blocks = nn.ModuleList([Block(c) for _ in range(c.layers)])
        self.norm = nn.LayerNorm(c.d_model)
        self.heads = Heads(c.d_model)

    def _blocks(self) -> list[Block]:
        return [cast(Block, block) for block in self.blocks]

    def forward(self, static: Tensor, seq: Tensor) -> tuple[Tensor, Tensor, Tensor]:
        """static (N, S), seq (N, T, F) -> price, logvar, distress_logit, each (N, T)."""
        x = torch.cat([self.static_proj(static).unsqueeze(1), self.token_proj(seq)], dim=1)
        positions = torch.arange(x.shape[1], device=x.device)
        x = self.drop(x + sinusoidal(positions, self.config.d_model))
        for block in self._blocks():
            x = block(x)
        price, logvar, distress = self.heads(self.norm(x[:, 1:]), seq)
        return price, logvar, distress

    def step(
        self, static: Tensor, token: Tensor, position: Tensor, past: list[Tensor]
    ) -> tuple[Tensor, ...]:
        """One position for one match. position () int64: 0 feeds the static vector, p >= 1 the
        token of point p-1. past = [key_0, value_0, key_1, value_1, …], each (P, d_model) with
        P == position. Returns price, logvar, distress (sigmoid), then the NEW rows
        [new_key_0, new_value_0, …], each (1, d_model), for the caller to append."""
        embedded = torch.where(position == 0, self.static_proj(static), self.token_proj(token))
        x = embedded + sinusoidal(position.reshape(1), self.config.d_model)
        new_rows: list[Tensor] = []
        for i, block in enumerate(self._blocks()):
            x, k, v = block.step(x, past[2 * i], past[2 * i + 1])
            new_rows.extend((k, v))
        price, logvar, distress = self.heads(self.norm(x), token)
        return (price, logvar, torch.sigmoid(distress), *new_rows)


Emulator = GRUEmulator | TransformerEmulator


def build_model(kind: str, **sizes: Any) -> Emulator:
    """Model by kind ('gru' | 'transformer'); `sizes` override the DESIGN defaults (tests)."""
    if kind == "gru":
        return GRUEmulator(GRUConfig(**sizes))
    if kind == "transformer":
        return TransformerEmulator(TransformerConfig(**sizes))
    raise ValueError(f"model: must be 'gru' or 'transformer', got {kind!r}")


def model_config(model: Emulator) -> dict[str, Any]:
    return model.config.to_dict()
