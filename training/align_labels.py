"""Labels and regime flags computed from book snapshots (pure functions, documented in one place).

market_prob — the emulator's label, P(player 1 wins) implied by the book, built on the
blueprint's `price_for_£50`:
  * per side, the volume-weighted price to fill a £50 stake on player 1 (back: walking the
    available-to-back ladder from the best price; lay: the available-to-lay ladder), converted to a
    probability (1 / price); a side whose visible ladder cannot fill £50 uses its best price; a
    side with no price is left out;
  * market_prob = the mean of the available sides (the mid of the £50 back and lay probabilities,
    which equals the engine gate's best-price mid whenever the best levels hold £50 or more);
  * no price on either side → no label from this snapshot (the aligner carries the previous one).

liq_collapse — the blueprint's liquidity-collapse rule, defined once in engine/features/liquidity.py
so the engine computes the token column exactly as training does.

distress — the auxiliary 0/1 label of the emulator's distress head: the market, once it has
reacted to the point (the label snapshot), is suspended, has no price, or is in a liquidity
collapse. It flags the regimes in which the emulator's price should not be trusted.
"""

from __future__ import annotations

from collections.abc import Sequence

from engine.features.liquidity import is_collapse
from training.align_market import BookSnapshot


def side_prob(vwap_50: float | None, best: float | None) -> float | None:
    """1 / (the £50 price if fillable, else the best price); None with no price."""
    price = vwap_50 if vwap_50 is not None else best
    return None if price is None else 1.0 / price


def market_prob(snapshot: BookSnapshot) -> float | None:
    """The market-probability label of one snapshot (see the module docstring)."""
    sides = [
        p
        for p in (
            side_prob(snapshot.back_price_50, snapshot.back_price),
            side_prob(snapshot.lay_price_50, snapshot.lay_price),
        )
        if p is not None
    ]
    if not sides:
        return None
    return min(max(sum(sides) / len(sides), 0.0), 1.0)


def total_depth(snapshot: BookSnapshot) -> float:
    return snapshot.back_depth + snapshot.lay_depth


def is_distress(snapshot: BookSnapshot, history: Sequence[float]) -> bool:
    return (
        snapshot.suspended
        or market_prob(snapshot) is None
        or is_collapse(total_depth(snapshot), history)
    )
