"""engine.toml `[stream]` (live client) and `[stream.loopback]` (loopback server) settings, and
the one function that wires `[betfair]` + `[stream]` into a running client."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any

from adapters.betfair.loopback.server import LoopbackConfig
from adapters.betfair.loopback.stream_server import StreamServerSettings
from adapters.betfair.session import BetfairSession, load_betfair_config, resolve_credentials
from adapters.betfair.stream_client import StreamClient, StreamClientConfig, StreamConsumer
from engine.config import ConfigError, parse_section, section_table


@dataclass(frozen=True, slots=True)
class LoopbackSettings:
    """`[stream.loopback]`: defaults of `courtside stream serve`."""

    host: str = "127.0.0.1"
    port: int = 0
    http_port: int = 0
    tls: bool = False
    speed: float = 10.0
    max_gap_ms: int = 5000
    max_connections: int = 10
    subscription_limit: int = 200
    segment_max_changes: int = 0
    # Demo credentials the loopback accepts; they open nothing but this local server.
    app_key: str = "loopback-app-key"
    username: str = "loopback"
    password: str = "loopback"

    def validate(self) -> None:
        if self.speed < 0:
            raise ValueError("speed: must be 0 (as fast as possible) or positive")
        if not 0 <= self.port <= 65535 or not 0 <= self.http_port <= 65535:
            raise ValueError("port: must be within 0..65535")

    def to_config(self) -> LoopbackConfig:
        return LoopbackConfig(
            host=self.host,
            port=self.port,
            http_port=self.http_port,
            tls=self.tls,
            app_key=self.app_key,
            username=self.username,
            password=self.password,
            stream=StreamServerSettings(
                speed=self.speed,
                max_gap_ms=self.max_gap_ms,
                max_connections=self.max_connections,
                subscription_limit=self.subscription_limit,
                segment_max_changes=self.segment_max_changes,
            ),
        )


def load_stream_config(config: dict[str, Any]) -> StreamClientConfig:
    """`[stream]` without its `loopback` sub-table, checked key by key."""
    table = {k: v for k, v in section_table(config, "stream").items() if k != "loopback"}
    client = parse_section(table, "stream", StreamClientConfig)
    _check_client(client)
    return client


def load_loopback_settings(config: dict[str, Any]) -> LoopbackSettings:
    return parse_section(
        section_table(config, "stream.loopback"), "stream.loopback", LoopbackSettings
    )


def _check_client(client: StreamClientConfig) -> None:
    if not 0 < client.port <= 65535:
        raise ConfigError("stream.port: must be within 1..65535")
    if client.heartbeat_timeout_factor <= 1.0:
        raise ConfigError("stream.heartbeat_timeout_factor: must be above 1")
    if client.backoff_initial_s <= 0 or client.backoff_max_s < client.backoff_initial_s:
        raise ConfigError("stream.backoff_max_s: must be at least backoff_initial_s (> 0)")
    if not 0 <= client.backoff_jitter < 1:
        raise ConfigError("stream.backoff_jitter: must be within [0, 1)")


def loopback_client_config(
    base: StreamClientConfig, port: int, *, tls: bool, ca_file: str = ""
) -> StreamClientConfig:
    """The client settings pointed at a loopback server (demo and paper modes, tests)."""
    return replace(
        base, host="127.0.0.1", port=port, tls=tls, ca_file=ca_file, server_hostname="localhost"
    )


def live_stream_client(
    config: dict[str, Any],
    consumer: StreamConsumer,
    environ: Mapping[str, str] | None = None,
) -> tuple[StreamClient, BetfairSession]:
    """Wire `[betfair]` + `[stream]` into a ready client (the engine awaits `client.run()`).

    The caller owns the session: start its keep-alive and `await session.close()` at shutdown.
    """
    betfair = load_betfair_config(config)
    session = BetfairSession(betfair, resolve_credentials(betfair, environ))
    return StreamClient(load_stream_config(config), session, consumer), session
