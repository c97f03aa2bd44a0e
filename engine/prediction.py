"""The per-point prediction record (DESIGN.md §10): what the engine believed, and why it did or
did not trade.

One record per point per match: the physics fair win probability and its by-products (expected
games difference, set-score PMF), the emulators' market prices with a confidence band from their
log-variance heads, the distress probability, and the gate decision with its rationale string.
Records are served by the control API (/matches/{id}) and journaled as JSON lines (orjson).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import orjson

from engine.gate.decide import GateDecision

#: Two-sided 95% normal quantile: the default band half-width in standard deviations.
Z_95 = 1.959963984540054


def band_from_logvar(price: float, logvar: float, z: float = Z_95) -> tuple[float, float]:
    """(low, high) = price ± z·σ with σ = exp(logvar / 2), clipped to [0, 1].

    A non-finite log-variance gives the uninformative band (0, 1).
    """
    if not math.isfinite(logvar) or not math.isfinite(price):
        return 0.0, 1.0
    sigma = math.exp(0.5 * min(logvar, 50.0))
    half = z * sigma
    return max(0.0, price - half), min(1.0, price + half)


@dataclass(frozen=True, slots=True)
class EmulatorPrice:
    """One emulator's output for a point: the market price it expects, its band and distress."""

    model: str
    price: float
    logvar: float
    low: float
    high: float
    distress: float

    @classmethod
    def from_output(
        cls, model: str, price: float, logvar: float, distress: float, z: float = Z_95
    ) -> EmulatorPrice:
        low, high = band_from_logvar(price, logvar, z)
        return cls(model, price, logvar, low, high, distress)


@dataclass(frozen=True, slots=True)
class PredictionRecord:
    """Everything predicted at one point of one match, player 1's view.

    point_index counts points played before this prediction (0 = before the first point); ts is
    the event time (Unix seconds) of the tick that triggered it. market_prob is the book's implied
    P(player 1) when the prediction was made (None with an empty book).
    """

    match_id: str
    point_index: int
    ts: float
    fair_prob: float
    expected_games_diff: float
    set_score_pmf: dict[str, float]
    gate: GateDecision
    market_prob: float | None = None
    emu_full: EmulatorPrice | None = None
    emu_lite: EmulatorPrice | None = None
    fair_if_point_won: float | None = None
    fair_if_point_lost: float | None = None
    score: str = ""
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def distress(self) -> float | None:
        """The full emulator's distress probability, else the lite one's."""
        emu = self.emu_full if self.emu_full is not None else self.emu_lite
        return emu.distress if emu is not None else None

    @property
    def rationale(self) -> str:
        return self.gate.rationale()

    def with_emu_lite(self, emu_lite: EmulatorPrice | None) -> PredictionRecord:
        """This record with Emu-lite's price (stepped after the decision). A direct constructor
        call: `dataclasses.replace` costs several µs per point on the engine's event path."""
        return PredictionRecord(
            self.match_id,
            self.point_index,
            self.ts,
            self.fair_prob,
            self.expected_games_diff,
            self.set_score_pmf,
            self.gate,
            self.market_prob,
            self.emu_full,
            emu_lite,
            self.fair_if_point_won,
            self.fair_if_point_lost,
            self.score,
            self.extra,
        )

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready form with the gate expanded and the rationale string included."""
        return {
            "match_id": self.match_id,
            "point_index": self.point_index,
            "ts": self.ts,
            "score": self.score,
            "fair_prob": self.fair_prob,
            "fair_if_point_won": self.fair_if_point_won,
            "fair_if_point_lost": self.fair_if_point_lost,
            "market_prob": self.market_prob,
            "emu_full": _emu_dict(self.emu_full),
            "emu_lite": _emu_dict(self.emu_lite),
            "distress": self.distress,
            "expected_games_diff": self.expected_games_diff,
            "set_score_pmf": self.set_score_pmf,
            "gate": self.gate.as_dict(),
            "rationale": self.rationale,
            **({"extra": self.extra} if self.extra else {}),
        }

    def to_json(self) -> bytes:
        """One JSON object (no newline); NaN/inf are written as null, as JSON requires."""
        return orjson.dumps(self.as_dict())


def _emu_dict(emu: EmulatorPrice | None) -> dict[str, Any] | None:
    if emu is None:
        return None
    return {
        "model": emu.model,
        "price": emu.price,
        "logvar": emu.logvar,
        "band": [emu.low, emu.high],
        "distress": emu.distress,
    }
