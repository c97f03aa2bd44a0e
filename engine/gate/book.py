"""Gate inputs read from a cached Betfair book (`engine.market.book.RunnerBook`).

market_prob is the mid of the implied probabilities of the best back and lay prices (the same
mid the emulator features use), so the gate's edge and the emulator's label agree. Liquidity has
two measures, as the blueprint's collapse rule needs both: `depth`, the £ offered on the best
`levels` prices of both sides (compared with the match's running median), and `cum_size`, the £
on the whole visible ladder of both sides (compared with the £100 floor).
"""

from __future__ import annotations

from engine.market.book import RunnerBook


def implied_mid(back_price: float | None, lay_price: float | None) -> float | None:
    """The mid of the implied probabilities of the best back and lay prices; one side if only
    one is offered; None for an empty book. (Also how training reads a book row, so the first
    token's opening market is the same number in both.)"""
    if back_price is not None and lay_price is not None:
        return 0.5 * (1.0 / back_price + 1.0 / lay_price)
    if back_price is not None:
        return 1.0 / back_price
    if lay_price is not None:
        return 1.0 / lay_price
    return None


def market_prob(runner: RunnerBook) -> float | None:
    """Implied P(runner wins) from the best back and lay prices (`implied_mid`)."""
    back, lay = runner.best_back(), runner.best_lay()
    return implied_mid(back[0] if back is not None else None, lay[0] if lay is not None else None)


def liquidity(runner: RunnerBook, levels: int = 3) -> tuple[float, float]:
    """(depth near the touch, cumulative size on the ladder), both sides, in £."""
    depth = 0.0
    for _price, size in runner.back_levels(levels):
        depth += size
    for _price, size in runner.lay_levels(levels):
        depth += size
    return depth, runner.atb.total_size() + runner.atl.total_size()
