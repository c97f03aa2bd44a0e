"""The whole engine.toml, validated before anything starts.

Every section is parsed by its owner's dataclass (unknown keys and bad types are refused with the
dotted key), unknown sections are refused, and cross-section rules are checked here, so a
malformed or inconsistent file stops `courtside run` with one line naming the key and the reason.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from adapters.betfair.loopback.server import LoopbackConfig
from adapters.betfair.session import BetfairConfig, load_betfair_config
from adapters.betfair.stream_client import StreamClientConfig
from adapters.betfair.stream_config import (
    LoopbackSettings,
    load_loopback_settings,
    load_stream_config,
)
from adapters.simexchange.config import SimExchangeConfig, load_simexchange_config
from engine.api.config import ApiConfig
from engine.config import (
    DEFAULT_CONFIG_PATH,
    ConfigError,
    load_toml,
    parse_section,
    section_table,
)
from engine.core.config import CoreConfig
from engine.core.engine import EngineParts
from engine.execution.config import ExecutionConfig, load_execution_config
from engine.gate.config import GateConfig
from engine.physics.calibration import PhysicsConfig
from engine.registry import RegistryConfig
from engine.score.config import ScoresConfig

Mode = Literal["live", "paper", "demo"]
SECTIONS = (
    "physics",
    "scores",
    "staking",
    "risk",
    "orders",
    "simexchange",
    "betfair",
    "stream",
    "gate",
    "api",
    "registry",
    "core",
    "daemon",
)


@dataclass(frozen=True, slots=True)
class DaemonConfig:
    """engine.toml ``[daemon]``. mode: "auto" is demo when no Betfair credentials are configured,
    else live. on_shutdown: what SIGTERM does with resting orders ("cancel" them or "keep" them).
    strategy: MODULE:CLASS of the strategy ("" = follow and predict, never trade).
    demo_data: the sample day demo mode replays; demo_speed: × real time;
    demo_heartbeat_s: score-feed heartbeat of the demo provider (event seconds).
    discovery_s: live/paper: seconds between betting-catalogue listings.
    betting_url: live/paper: betting API base URL ("" = Betfair's, from the login locale).
    predictions_path: append every prediction record here as a JSON line ("" = do not).
    rehearse_every_ms: how often a recorded point is played through a shadow engine to keep the
    point path in the CPU caches (engine/core/rehearsal.py; 0 = never); rehearse_match: the
    recorded match folder it plays (match.json, ticks.jsonl and the market's stream file).
    foresight: step Emu-full for both outcomes of each match's next point between events, against
    the book as it stands, so a point whose book has not moved since only commits the step
    (engine/core/foresight.py); foresight_turn_us: the most one loop turn spends foreseeing
    before the sockets are read again (one match at least; lower it when many busy markets make
    market events wait)."""

    mode: Literal["auto", "live", "paper", "demo"] = "auto"
    on_shutdown: Literal["cancel", "keep"] = "cancel"
    strategy: str = "strategies.divergence:DivergenceStrategy"
    demo_data: str = "data/sample"
    demo_speed: float = 100.0
    demo_heartbeat_s: float = 5.0
    discovery_s: float = 60.0
    betting_url: str = ""
    predictions_path: str = ""
    rehearse_every_ms: float = 2.0
    rehearse_match: str = "data/sample/2013-wimbledon-1401"
    foresight: bool = True
    foresight_turn_us: float = 500.0

    def validate(self) -> None:
        if not (math.isfinite(self.demo_speed) and self.demo_speed > 0.0):
            raise ValueError(f"demo_speed: must be positive, got {self.demo_speed!r}")
        if not self.demo_heartbeat_s > 0.0:
            raise ValueError("demo_heartbeat_s: must be positive")
        if not self.discovery_s > 0.0:
            raise ValueError("discovery_s: must be positive")
        if self.betting_url and not self.betting_url.startswith(("http://", "https://")):
            raise ValueError(f"betting_url: must be an http(s) URL, got {self.betting_url!r}")
        if self.strategy and ":" not in self.strategy:
            raise ValueError(f"strategy: expected MODULE:CLASS, got {self.strategy!r}")
        if not (math.isfinite(self.rehearse_every_ms) and self.rehearse_every_ms >= 0.0):
            raise ValueError(
                f"rehearse_every_ms: must be 0 (off) or a positive interval, "
                f"got {self.rehearse_every_ms!r}"
            )
        if not (math.isfinite(self.foresight_turn_us) and self.foresight_turn_us >= 0.0):
            raise ValueError(
                f"foresight_turn_us: must be 0 (one match a turn) or more, "
                f"got {self.foresight_turn_us!r}"
            )
        if self.rehearse_every_ms > 0.0 and not self.rehearse_match:
            raise ValueError("rehearse_match: a recorded match folder is needed to rehearse")


@dataclass(frozen=True, slots=True)
class Settings:
    """Everything `courtside run` reads, already validated."""

    path: Path | None
    engine: EngineParts
    scores: ScoresConfig
    execution: ExecutionConfig
    simexchange: SimExchangeConfig
    betfair: BetfairConfig
    stream: StreamClientConfig
    loopback: LoopbackSettings
    api: ApiConfig
    daemon: DaemonConfig

    @property
    def loopback_config(self) -> LoopbackConfig:
        return self.loopback.to_config()


def _section(raw: dict[str, Any], name: str, cls: type[Any]) -> Any:
    return parse_section(section_table(raw, name), name, cls)


def parse_settings(raw: dict[str, Any], path: Path | None = None) -> Settings:
    """Validate a loaded engine.toml; ConfigError names the key and the reason."""
    unknown = sorted(set(raw) - set(SECTIONS))
    if unknown:
        raise ConfigError(f"{unknown[0]}: unknown section (known: {', '.join(SECTIONS)})")
    engine = EngineParts(
        core=_section(raw, "core", CoreConfig),
        gate=_section(raw, "gate", GateConfig),
        physics=_section(raw, "physics", PhysicsConfig),
        registry=_section(raw, "registry", RegistryConfig),
    )
    settings = Settings(
        path=path,
        engine=engine,
        scores=_section(raw, "scores", ScoresConfig),
        execution=load_execution_config(raw),
        simexchange=load_simexchange_config(raw),
        betfair=load_betfair_config(raw),
        stream=load_stream_config(raw),
        loopback=load_loopback_settings(raw),
        api=_section(raw, "api", ApiConfig),
        daemon=_section(raw, "daemon", DaemonConfig),
    )
    _check_consistency(settings)
    return settings


def _check_consistency(s: Settings) -> None:
    """Rules that span sections."""
    gate, risk, staking = s.engine.gate, s.execution.risk, s.execution.staking
    if gate.score_stale_s > s.scores.staleness_s:
        raise ConfigError(
            f"gate.score_stale_s: {gate.score_stale_s} exceeds scores.staleness_s "
            f"{s.scores.staleness_s}; the gate would trade on a feed the score plane calls stale"
        )
    if risk.max_order_stake > risk.max_total_exposure:
        raise ConfigError("risk.max_order_stake: exceeds risk.max_total_exposure")
    if staking.min_stake > risk.max_order_stake:
        raise ConfigError("staking.min_stake: exceeds risk.max_order_stake; no order could pass")
    if s.api.port != 0 and s.api.port in (s.loopback.port, s.loopback.http_port):
        raise ConfigError(f"api.port: {s.api.port} is also a stream.loopback port")
    models = s.engine.core
    if models.emu_lite and not models.emu_full:
        raise ConfigError("core.emu_lite: set only with core.emu_full (the gate reads Emu-full)")


def default_config_path() -> Path | None:
    """./engine.toml, else the one beside the source tree (an editable install), else None
    (every default: a non-editable install run outside the repository)."""
    for candidate in (Path.cwd() / "engine.toml", DEFAULT_CONFIG_PATH):
        if candidate.is_file():
            return candidate
    return None


def load_settings(path: str | Path | None = None) -> Settings:
    """Read and validate engine.toml (`default_config_path()` when `path` is None)."""
    if path is not None and not Path(path).is_file():
        raise FileNotFoundError(f"config: {path} does not exist")
    target = Path(path) if path is not None else default_config_path()
    raw = load_toml(target) if target is not None else {}
    return parse_settings(raw, target)
