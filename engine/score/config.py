"""engine.toml `[scores]`: the score-feed connection and the staleness gate.

Lives in `engine` (not in the adapter) because the engine gates trading on `staleness_s`; the
WebSocket client in `adapters.scores` reads the connection keys from the same section.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

from engine.config import DEFAULT_CONFIG_PATH, load_toml, parse_section, section_table


@dataclass(frozen=True, slots=True)
class ScoresConfig:
    """ws_url: the score provider's WebSocket endpoint ("" = no live feed configured).
    backoff_*: reconnect delays, initial × multiplier per failed attempt, capped at the max, with
    ± jitter (fraction). connect_timeout_s: one connection attempt. heartbeat_s: WebSocket ping
    interval (0 = off). staleness_s: a followed match whose feed has been silent this long is stale
    and blocks trading."""

    ws_url: str = ""
    backoff_initial_s: float = 0.5
    backoff_max_s: float = 30.0
    backoff_multiplier: float = 2.0
    backoff_jitter: float = 0.1
    connect_timeout_s: float = 10.0
    heartbeat_s: float = 15.0
    staleness_s: float = 90.0

    def validate(self) -> None:
        for name in ("backoff_initial_s", "backoff_max_s", "connect_timeout_s", "staleness_s"):
            value = getattr(self, name)
            if not (math.isfinite(value) and value > 0):
                raise ValueError(f"{name}: must be a finite number > 0, got {value!r}")
        if self.backoff_max_s < self.backoff_initial_s:
            raise ValueError("backoff_max_s: must be >= backoff_initial_s")
        if not (math.isfinite(self.backoff_multiplier) and self.backoff_multiplier >= 1):
            raise ValueError("backoff_multiplier: must be >= 1")
        if not 0 <= self.backoff_jitter < 1:
            raise ValueError("backoff_jitter: must be in [0, 1)")
        if not (math.isfinite(self.heartbeat_s) and self.heartbeat_s >= 0):
            raise ValueError("heartbeat_s: must be >= 0")
        if self.ws_url and not self.ws_url.startswith(("ws://", "wss://")):
            raise ValueError(f"ws_url: must start with ws:// or wss://, got {self.ws_url!r}")


def load_scores_config(path: str | Path | None = None) -> ScoresConfig:
    """`[scores]` from engine.toml (the dataclass defaults when no file is given or shipped)."""
    if path is None and not DEFAULT_CONFIG_PATH.is_file():
        return ScoresConfig()
    return parse_section(section_table(load_toml(path), "scores"), "scores", ScoresConfig)
