"""Fractional Kelly stakes on the commission-adjusted edge, for backs and lays.

Betfair sizes are always the backer's stake. A back of stake s at decimal odds o risks s and wins
s·(o−1)·(1−c) after commission c; a lay of stake s risks its liability s·(o−1) and wins s·(1−c).
Kelly is applied to the amount at risk (stake for a back, liability for a lay), so both sides share
one formula with net odds b = win per unit risked:

    back: b = (o−1)(1−c), p_win = p        lay: b = (1−c)/(o−1), p_win = 1−p
    edge = p_win·b − (1−p_win)   (expected profit per unit risked)
    f*   = edge / b              (full-Kelly fraction of bankroll to risk)

Commission is charged on net market winnings, not per bet; charging it per bet is the standard,
slightly conservative approximation for sizing (the exact figure is applied at settlement).

Caps, in order: the size available at the price, the caller's stake and liability caps (from the
risk layer's head-room), then the exchange minimum: stakes are floored to pennies and a stake below
`min_stake` (Betfair GBP: £1, backer's stake, backs and lays alike) is dropped, never rounded up —
unless `allow_small_stake_by_payout` is on and stake × price reaches `min_bet_payout` (Betfair's
£10 minimum-payout exception). Rounding up would bet more than Kelly and the limits allow.
"""

from __future__ import annotations

import enum
import math
from dataclasses import dataclass

from engine.execution.config import StakingConfig
from engine.execution.types import Side
from engine.market.ticks import round_to_tick


class StakeLimit(enum.StrEnum):
    """What determined the final stake (the staking part of a decision's rationale)."""

    KELLY = "kelly"
    NO_EDGE = "no_edge"
    LIQUIDITY = "liquidity"
    STAKE_CAP = "stake_cap"
    LIABILITY_CAP = "liability_cap"
    BELOW_MIN_STAKE = "below_min_stake"
    INVALID_INPUT = "invalid_input"


@dataclass(frozen=True, slots=True)
class StakeDecision:
    """The sized order: stake is the Betfair size (backer's stake); 0 means do not trade."""

    side: Side
    price: float
    stake: float
    liability: float
    edge: float
    full_kelly: float
    limited_by: StakeLimit


def net_odds(side: Side, price: float, commission: float) -> float:
    """Winnings per unit risked, after commission."""
    if side is Side.BACK:
        return (price - 1.0) * (1.0 - commission)
    return (1.0 - commission) / (price - 1.0)


def commission_adjusted_edge(side: Side, price: float, p_win: float, commission: float) -> float:
    """Expected profit per unit risked; p_win is the fair probability the selection wins."""
    b = net_odds(side, price, commission)
    p_success = p_win if side is Side.BACK else 1.0 - p_win
    return p_success * b - (1.0 - p_success)


def kelly_fraction(side: Side, price: float, p_win: float, commission: float) -> float:
    """Full-Kelly fraction of bankroll to put at risk (0 when there is no edge)."""
    b = net_odds(side, price, commission)
    edge = commission_adjusted_edge(side, price, p_win, commission)
    return max(0.0, edge / b)


def liability_of(side: Side, price: float, stake: float) -> float:
    """Worst-case loss of a matched bet: the stake for a back, (price−1)·stake for a lay."""
    return stake if side is Side.BACK else (price - 1.0) * stake


def limit_price(side: Side, price: float) -> float:
    """Put a computed limit price on the Betfair tick ladder without worsening it: a back's
    minimum odds round up (longer), a lay's maximum odds round down (shorter)."""
    return round_to_tick(price, "up" if side is Side.BACK else "down")


def floor_pennies(amount: float) -> float:
    """Round a stake down to whole pennies (never up: that would bet more than allowed)."""
    return math.floor(amount * 100.0 + 1e-9) / 100.0


def meets_minimum_stake(stake: float, price: float, config: StakingConfig) -> bool:
    """Betfair's minimum bet rule as configured (see module docstring)."""
    if stake >= config.min_stake - 1e-9:
        return True
    return config.allow_small_stake_by_payout and stake * price >= config.min_bet_payout - 1e-9


def size_order(
    side: Side,
    price: float,
    p_win: float,
    commission: float,
    config: StakingConfig,
    *,
    bankroll: float | None = None,
    available_size: float | None = None,
    max_stake: float | None = None,
    max_liability: float | None = None,
) -> StakeDecision:
    """Fractional-Kelly stake for one order, capped as the module docstring describes."""
    if (
        not 1.0 < price < math.inf
        or not 0.0 <= p_win <= 1.0
        or not 0.0 <= commission < 1.0
        or math.isnan(price)
    ):
        return StakeDecision(side, price, 0.0, 0.0, 0.0, 0.0, StakeLimit.INVALID_INPUT)
    edge = commission_adjusted_edge(side, price, p_win, commission)
    full = kelly_fraction(side, price, p_win, commission)
    if edge <= config.min_edge or full <= 0.0:
        return StakeDecision(side, price, 0.0, 0.0, edge, full, StakeLimit.NO_EDGE)
    at_risk = config.kelly_fraction * full * (config.bankroll if bankroll is None else bankroll)
    stake = at_risk if side is Side.BACK else at_risk / (price - 1.0)
    limited_by = StakeLimit.KELLY
    if available_size is not None and stake > available_size:
        stake, limited_by = max(0.0, available_size), StakeLimit.LIQUIDITY
    if max_stake is not None and stake > max_stake:
        stake, limited_by = max(0.0, max_stake), StakeLimit.STAKE_CAP
    if max_liability is not None and liability_of(side, price, stake) > max_liability:
        cap = max_liability if side is Side.BACK else max_liability / (price - 1.0)
        stake, limited_by = max(0.0, cap), StakeLimit.LIABILITY_CAP
    stake = floor_pennies(stake)
    if not meets_minimum_stake(stake, price, config):
        return StakeDecision(side, price, 0.0, 0.0, edge, full, StakeLimit.BELOW_MIN_STAKE)
    return StakeDecision(
        side, price, stake, liability_of(side, price, stake), edge, full, limited_by
    )
