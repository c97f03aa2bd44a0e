"""engine.toml sections [staking], [risk] and [orders] (defaults documented in engine.toml)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from engine.config import parse_section, section_table


@dataclass(frozen=True, slots=True)
class StakingConfig:
    """Fractional Kelly and the exchange's minimum-stake rules."""

    bankroll: float = 1000.0
    kelly_fraction: float = 0.25
    min_edge: float = 0.0
    min_stake: float = 1.0
    min_bet_payout: float = 10.0
    allow_small_stake_by_payout: bool = False

    def validate(self) -> None:
        if self.bankroll <= 0:
            raise ValueError("bankroll: must be positive")
        if not 0 < self.kelly_fraction <= 1:
            raise ValueError("kelly_fraction: must be in (0, 1]")
        if self.min_stake <= 0:
            raise ValueError("min_stake: must be positive")
        if self.min_edge < 0:
            raise ValueError("min_edge: must not be negative")
        if self.min_bet_payout < 0:
            raise ValueError("min_bet_payout: must not be negative")


@dataclass(frozen=True, slots=True)
class RiskConfig:
    """Pre-trade limits; money amounts in account currency, exposures are worst-case losses."""

    max_order_stake: float = 50.0
    max_order_liability: float = 100.0
    max_selection_exposure: float = 150.0
    max_match_exposure: float = 200.0
    max_total_exposure: float = 500.0
    daily_loss_limit: float = 200.0
    max_orders_per_window: int = 20
    order_window_s: float = 10.0

    def validate(self) -> None:
        for name in (
            "max_order_stake",
            "max_order_liability",
            "max_selection_exposure",
            "max_match_exposure",
            "max_total_exposure",
            "daily_loss_limit",
            "order_window_s",
        ):
            if getattr(self, name) <= 0:
                raise ValueError(f"{name}: must be positive")
        if self.max_orders_per_window < 1:
            raise ValueError("max_orders_per_window: must be at least 1")


@dataclass(frozen=True, slots=True)
class OrdersConfig:
    """Order manager: journal location and restart behaviour."""

    journal_path: str = "data/journal.sqlite"
    synchronous: str = "FULL"
    resend_unconfirmed: bool = True
    resend_max_age_s: float = 10.0
    ref_prefix: str = "cs"

    def validate(self) -> None:
        if self.synchronous not in ("FULL", "NORMAL"):
            raise ValueError("synchronous: must be FULL or NORMAL")
        if self.resend_max_age_s < 0:
            raise ValueError("resend_max_age_s: must not be negative")
        if not 1 <= len(self.ref_prefix) <= 7 or not self.ref_prefix.isalnum():
            raise ValueError("ref_prefix: 1 to 7 letters or digits")


@dataclass(frozen=True, slots=True)
class ExecutionConfig:
    """The three execution sections together."""

    staking: StakingConfig
    risk: RiskConfig
    orders: OrdersConfig


def load_execution_config(config: dict[str, Any]) -> ExecutionConfig:
    """Parse [staking], [risk] and [orders] from a loaded engine.toml (missing tables: defaults)."""
    return ExecutionConfig(
        staking=parse_section(section_table(config, "staking"), "staking", StakingConfig),
        risk=parse_section(section_table(config, "risk"), "risk", RiskConfig),
        orders=parse_section(section_table(config, "orders"), "orders", OrdersConfig),
    )
