"""The blueprint's divergence strategy: trade player 1 when physics and the market disagree.

Rules, on every prediction (at most one order each time):

1. Trade only on an open trust gate: the emulator tracks this market and |fair − market| exceeds
   the required edge. Fair above the market means BACK player 1 at the best back price, below
   means LAY at the best lay price. An open gate measures the edge at the mid; the price actually
   taken is worse by half the spread, so the commission-adjusted edge is re-checked there and
   nothing is sent when it has gone.
2. Never stack: if one of our orders already waits on that side at that price, send nothing.
3. Trade out first: when the edge now points against the matched position on player 1 (we are
   net long, P&L if player 1 wins above P&L if he loses, and the edge says LAY; or net short and
   it says BACK), the order is the one that flattens it — the green-up stake
   |P&L if wins − P&L if loses| / price, less what resting orders on that side would already
   close. With the edge at the price reversed, Kelly would hold the opposite side of flat, so
   flattening moves toward it and never past it. An imbalance worth less than the exchange
   minimum stake counts as flat.
4. Otherwise add: fractional Kelly on the commission-adjusted edge at that price
   (`engine.execution.staking.size_order`).
5. Every stake is capped by the size on offer, the per-order stake and liability limits of
   `[risk]`, and the head-room the risk limits leave on that selection and side
   (`match.position.max_stake`), then floored to pennies; when that is below the minimum stake
   (no head-room left) nothing is sent. So an order is never sent only to be refused by the risk
   check for its size.

Without a position view (`match.position` None: no order manager attached) rules 2, 3 and the
head-room cap are skipped and the risk check alone guards the limits. The market is assumed to
have two runners (tennis MATCH_ODDS): "player 1 loses" is "player 2 wins".
"""

from __future__ import annotations

from dataclasses import dataclass

from engine.execution.config import RiskConfig, StakingConfig
from engine.execution.staking import (
    StakeLimit,
    commission_adjusted_edge,
    floor_pennies,
    meets_minimum_stake,
    size_order,
)
from engine.execution.types import Side
from engine.gate.decide import GateDecision
from engine.prediction import PredictionRecord
from engine.strategy import BookView, MatchView, OrderIntent, PositionView


def green_up_stake(
    position: PositionView, selections: tuple[int, int], side: Side, price: float
) -> float:
    """The stake on player 1 at `price` that equalises our P&L whether he wins or loses, when an
    order on `side` reduces the imbalance; 0 when it would add to it (or we are flat).

    A back of stake z at price p moves (P&L if wins − P&L if loses) by +z·p, a lay by −z·p.
    Resting orders on the same side count as if matched (they would close part of it already).
    """
    p1, p2 = position.selection(selections[0]), position.selection(selections[1])
    imbalance = p1.pnl_if_wins - p2.pnl_if_wins
    resting = sum(o.size * o.price for o in p1.resting if o.side is side)
    if side is Side.LAY:
        return max(0.0, (imbalance - resting) / price)
    return max(0.0, (-imbalance - resting) / price)


@dataclass(frozen=True, slots=True)
class _Trade:
    """The order being considered: where, which side, at what price, and how much may be staked
    (the size on offer; the smaller of the per-order stake limit and the head-room)."""

    selection_id: int
    side: Side
    price: float
    fair: float
    available: float
    max_stake: float


class DivergenceStrategy:
    """Back/lay player 1 on an open gate, within the risk head-room; see the module docstring."""

    name = "divergence"

    def __init__(
        self, staking: StakingConfig | None = None, risk: RiskConfig | None = None
    ) -> None:
        self.staking = staking if staking is not None else StakingConfig()
        self.risk = risk if risk is not None else RiskConfig()

    def on_prediction(
        self,
        match: MatchView,
        prediction: PredictionRecord,
        gate: GateDecision,
        book: BookView,
    ) -> list[OrderIntent]:
        if not gate.open or gate.edge is None:
            return []
        quote = book.runner(match.selections[0])
        if quote is None:
            return []
        if gate.edge > 0.0:
            side, price, available = Side.BACK, quote.back_price, quote.back_size
        else:
            side, price, available = Side.LAY, quote.lay_price, quote.lay_size
        if price is None or available <= 0.0:
            return []
        position = match.position
        max_stake = self.risk.max_order_stake
        exit_stake = 0.0
        if position is not None:
            if position.selection(quote.selection_id).is_resting_at(side, price):
                return []  # rule 2: never stack
            room = position.max_stake(quote.selection_id, side, price)
            if not meets_minimum_stake(floor_pennies(room), price, self.staking):
                return []  # rule 5: no head-room left
            max_stake = min(max_stake, room)
            exit_stake = green_up_stake(position, match.selections, side, price)
        trade = _Trade(quote.selection_id, side, price, prediction.fair_prob, available, max_stake)
        if meets_minimum_stake(floor_pennies(exit_stake), price, self.staking):
            return self._trade_out(trade, exit_stake, gate, book)
        return self._add(trade, gate, book)

    def _add(self, trade: _Trade, gate: GateDecision, book: BookView) -> list[OrderIntent]:
        """Rule 4: fractional Kelly at the price, within the caps of rule 5."""
        sized = size_order(
            trade.side,
            trade.price,
            trade.fair,
            book.commission,
            self.staking,
            available_size=trade.available,
            max_stake=trade.max_stake,
            max_liability=self.risk.max_order_liability,
        )
        if sized.stake <= 0.0:
            return []
        limited_by = str(sized.limited_by)
        if sized.limited_by is StakeLimit.STAKE_CAP and trade.max_stake < self.risk.max_order_stake:
            limited_by = "headroom"
        detail = f"action=add edge_at_price={sized.edge:.4f} limited_by={limited_by}"
        return [self._intent(trade, sized.stake, gate, book, detail)]

    def _trade_out(
        self, trade: _Trade, exit_stake: float, gate: GateDecision, book: BookView
    ) -> list[OrderIntent]:
        """Rule 3: flatten the position, if the price still has an edge on this side. The
        head-room already includes the per-order liability limit."""
        edge = commission_adjusted_edge(trade.side, trade.price, trade.fair, book.commission)
        if edge <= self.staking.min_edge:
            return []
        stake, limited_by = exit_stake, "green_up"
        for cap, name in ((trade.available, "liquidity"), (trade.max_stake, "headroom")):
            if stake > cap:
                stake, limited_by = cap, name
        stake = floor_pennies(stake)
        if not meets_minimum_stake(stake, trade.price, self.staking):
            return []
        detail = f"action=trade_out edge_at_price={edge:.4f} limited_by={limited_by}"
        return [self._intent(trade, stake, gate, book, detail)]

    def _intent(
        self, trade: _Trade, stake: float, gate: GateDecision, book: BookView, detail: str
    ) -> OrderIntent:
        reason = (
            f"strategy=divergence side={trade.side} fair={trade.fair:.4f} "
            f"price={trade.price:.2f} stake={stake:.2f} {detail} {gate.rationale()}"
        )
        return OrderIntent(
            market_id=book.market_id,
            selection_id=trade.selection_id,
            side=trade.side,
            price=trade.price,
            size=stake,
            p_win=trade.fair,
            reason=reason,
            strategy=self.name,
        )
