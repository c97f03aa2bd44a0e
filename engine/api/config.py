"""engine.toml ``[api]``: where the control server listens and where the kill token lives."""

from __future__ import annotations

import re
from dataclasses import dataclass

_ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


@dataclass(frozen=True, slots=True)
class ApiConfig:
    """host: loopback by default (the API can stop trading). port 0: any free port.
    kill_token_env: the environment variable holding the POST /kill bearer token (never the
    token itself: secrets do not live in engine.toml)."""

    host: str = "127.0.0.1"
    port: int = 8787
    kill_token_env: str = "COURTSIDE_KILL_TOKEN"

    def validate(self) -> None:
        if not self.host:
            raise ValueError("host: must not be empty")
        if not 0 <= self.port <= 65535:
            raise ValueError(f"port: {self.port} is outside 0..65535")
        if not _ENV_NAME.match(self.kill_token_env):
            raise ValueError(f"kill_token_env: {self.kill_token_env!r} is not a variable name")
