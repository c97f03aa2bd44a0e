"""The blueprint's divergence strategy: trade player 1 when physics and the market disagree.

When the trust gate is open (the emulator tracks this market and |fair − market| exceeds the
required edge), back player 1 if fair is above the market and lay player 1 if below, at the best
price available now, staked with fractional Kelly on the commission-adjusted edge at that price
(`engine.execution.staking.size_order`, capped by the size on offer and by the per-order stake and
liability limits of `[risk]`, so a Kelly stake is never sent only to be rejected by the risk
check). An open gate measures the
edge at the mid; the price actually taken is worse by half the spread, so the edge is re-checked
there and nothing is sent when it has gone. Risk limits and the order manager apply afterwards.
"""

from __future__ import annotations

from engine.execution.config import RiskConfig, StakingConfig
from engine.execution.staking import size_order
from engine.execution.types import Side
from engine.gate.decide import GateDecision
from engine.prediction import PredictionRecord
from engine.strategy import BookView, MatchView, OrderIntent


class DivergenceStrategy:
    """Back/lay player 1 on an open gate; see the module docstring."""

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
        fair = prediction.fair_prob
        if gate.edge > 0.0:
            side, price, available = Side.BACK, quote.back_price, quote.back_size
        else:
            side, price, available = Side.LAY, quote.lay_price, quote.lay_size
        if price is None or available <= 0.0:
            return []
        sized = size_order(
            side,
            price,
            fair,
            book.commission,
            self.staking,
            available_size=available,
            max_stake=self.risk.max_order_stake,
            max_liability=self.risk.max_order_liability,
        )
        if sized.stake <= 0.0:
            return []
        reason = (
            f"strategy=divergence side={side} fair={fair:.4f} price={price:.2f} "
            f"edge_at_price={sized.edge:.4f} stake={sized.stake:.2f} "
            f"limited_by={sized.limited_by} {gate.rationale()}"
        )
        return [
            OrderIntent(
                market_id=book.market_id,
                selection_id=quote.selection_id,
                side=side,
                price=price,
                size=sized.stake,
                p_win=fair,
                reason=reason,
                strategy=self.name,
            )
        ]
