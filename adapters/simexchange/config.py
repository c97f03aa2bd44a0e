"""engine.toml section [simexchange]: the simulated exchange's realism switches."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from engine.config import parse_section, section_table

CancelModel = Literal["random", "proportional", "none"]


@dataclass(frozen=True, slots=True)
class SimExchangeConfig:
    """Defaults are the realistic settings; the benchmark turns them off to show what they cost."""

    seed: int = 0
    latency_ms: int = 50
    bet_delay: bool = True
    queue_position: bool = True
    cancel_model: CancelModel = "random"
    trade_through_fills: bool = True
    book_crossing_fills: bool = True
    traded_volume_divisor: float = 2.0
    starting_balance: float = 10000.0
    min_stake: float = 1.0
    min_bet_payout: float = 10.0
    dedupe_customer_ref: bool = True
    dedupe_window_s: float = 60.0

    def validate(self) -> None:
        if self.latency_ms < 0:
            raise ValueError("latency_ms: must not be negative")
        if self.traded_volume_divisor < 1:
            raise ValueError("traded_volume_divisor: must be at least 1")
        if self.starting_balance < 0:
            raise ValueError("starting_balance: must not be negative")
        if self.min_stake <= 0:
            raise ValueError("min_stake: must be positive")
        if self.dedupe_window_s < 0:
            raise ValueError("dedupe_window_s: must not be negative")


def load_simexchange_config(config: dict[str, Any]) -> SimExchangeConfig:
    """Parse [simexchange] from a loaded engine.toml (a missing table gives the defaults)."""
    return parse_section(section_table(config, "simexchange"), "simexchange", SimExchangeConfig)
