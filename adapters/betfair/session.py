"""Betfair login and keep-alive through betfairlightweight; the stream client's `SessionProvider`.

Credentials come only from environment variables or files that `[betfair]` in engine.toml names,
never from the file itself, and never reach a log line (not even their length). Certificate login
(identitysso-cert) is the default, as Betfair requires for bots; interactive login is available for
accounts without a certificate. betfairlightweight's HTTP calls are blocking, so they run in a
worker thread and never stall the event loop that carries the stream.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import betfairlightweight
import requests
from betfairlightweight import exceptions as bflw_errors

from adapters.betfair.stream_protocol import StreamFatalError
from engine.config import parse_section, section_table
from engine.logs import get_logger

log = get_logger("betfair.session")

# Login answers that another attempt with the same credentials cannot fix.
_REFUSED_LOGIN_CODES = frozenset(
    {
        "INVALID_USERNAME_OR_PASSWORD",
        "ACCOUNT_NOW_LOCKED",
        "ACCOUNT_ALREADY_LOCKED",
        "CERT_AUTH_REQUIRED",
        "CLOSED",
        "SUSPENDED",
        "INVALID_CONNECTIVITY_TO_REGULATOR_DK",
        "INVALID_CONNECTIVITY_TO_REGULATOR_IT",
        "NOT_AUTHORIZED_BY_REGULATOR_DK",
        "NOT_AUTHORIZED_BY_REGULATOR_IT",
        "SECURITY_QUESTION_WRONG_3X",
        "SELF_EXCLUDED",
        "ACTIONS_REQUIRED",
        "INVALID_APP_KEY",
        "NO_APP_KEY",
    }
)


@dataclass(frozen=True, slots=True)
class BetfairConfig:
    """`[betfair]` in engine.toml: where credentials live and how to reach the identity service."""

    username_env: str = "BETFAIR_USERNAME"
    password_env: str = "BETFAIR_PASSWORD"
    app_key_env: str = "BETFAIR_APP_KEY"
    username_file: str = ""  # a file holding the value wins over the environment variable
    password_file: str = ""
    app_key_file: str = ""
    login: Literal["certificate", "interactive"] = "certificate"
    cert_file: str = ""  # client certificate (.crt/.pem) for certificate login
    key_file: str = ""  # its private key (empty when cert_file is a combined .pem)
    locale: str = ""  # betfairlightweight locale: "" (.com), spain, italy, …
    identity_url: str = ""  # override of both identity endpoints, e.g. the loopback server
    identity_ca_file: str = ""  # trust anchor for identity_url over https (loopback TLS)
    keep_alive_interval_s: float = 3600.0
    request_timeout_s: float = 16.0

    def validate(self) -> None:
        if self.keep_alive_interval_s <= 0:
            raise ValueError("keep_alive_interval_s: must be positive")
        if self.request_timeout_s <= 0:
            raise ValueError("request_timeout_s: must be positive")


@dataclass(frozen=True, slots=True)
class Credentials:
    username: str
    password: str
    app_key: str

    def __repr__(self) -> str:  # never print secrets, even by accident
        return "Credentials(***)"


def _secret(name: str, env_var: str, file_name: str, environ: Mapping[str, str]) -> str:
    if file_name:
        path = Path(file_name).expanduser()
        try:
            value = path.read_text(encoding="utf-8").strip()
        except OSError as exc:
            raise ValueError(f"betfair.{name}_file: cannot read {path} ({exc.strerror})") from None
        if not value:
            raise ValueError(f"betfair.{name}_file: {path} is empty")
        return value
    value = environ.get(env_var, "").strip()
    if not value:
        raise ValueError(f"betfair.{name}_env: environment variable {env_var} is not set")
    return value


def resolve_credentials(
    config: BetfairConfig, environ: Mapping[str, str] | None = None
) -> Credentials:
    """Read username, password and app key from the configured files or environment variables."""
    env = os.environ if environ is None else environ
    return Credentials(
        username=_secret("username", config.username_env, config.username_file, env),
        password=_secret("password", config.password_env, config.password_file, env),
        app_key=_secret("app_key", config.app_key_env, config.app_key_file, env),
    )


class LoginRefusedError(StreamFatalError):
    """The identity service refused the credentials; retrying cannot help."""


class SessionError(Exception):
    """A transient identity-service failure (network, 5xx); worth retrying later."""


class BetfairSession:
    """Holds the session token: login on demand, keep-alive in the background, logout at the end."""

    def __init__(self, config: BetfairConfig, credentials: Credentials) -> None:
        if config.login == "certificate" and not config.cert_file:
            raise ValueError("betfair.cert_file: certificate login needs a client certificate")
        self.config = config
        self._credentials = credentials
        self._http = requests.Session()
        if config.identity_ca_file:
            # REQUESTS_CA_BUNDLE in the environment would otherwise override the session's anchor
            self._http.trust_env = False
            self._http.verify = config.identity_ca_file
        cert_files: Any = None
        if config.cert_file:
            cert_files = (
                (config.cert_file, config.key_file) if config.key_file else config.cert_file
            )
        self._client = betfairlightweight.APIClient(
            credentials.username,
            credentials.password,
            app_key=credentials.app_key,
            cert_files=cert_files,
            locale=config.locale or None,
            lightweight=True,
            session=self._http,
        )
        if config.identity_url:
            url = (
                config.identity_url
                if config.identity_url.endswith("/")
                else config.identity_url + "/"
            )
            self._client.identity_uri = url
            self._client.identity_cert_uri = url
        for endpoint in (
            self._client.login,
            self._client.login_interactive,
            self._client.keep_alive,
        ):
            endpoint.read_timeout = config.request_timeout_s
        self._lock = asyncio.Lock()
        self._keep_alive_task: asyncio.Task[None] | None = None
        self.logins = 0
        self.keep_alives = 0

    @property
    def app_key(self) -> str:
        return self._credentials.app_key

    @property
    def api_client(self) -> Any:
        """The betfairlightweight client (the betting adapter reuses its session token)."""
        return self._client

    async def session_token(self) -> str:
        async with self._lock:
            token = self._client.session_token
            if token and not self._client.session_expired:
                return str(token)
            return await self._login()

    async def relogin(self) -> str:
        async with self._lock:
            return await self._login()

    async def _login(self) -> str:
        mode = self.config.login
        endpoint = self._client.login if mode == "certificate" else self._client.login_interactive
        try:
            await asyncio.to_thread(endpoint)
        except bflw_errors.LoginError as exc:
            code = _login_code(exc.response)
            log.error("betfair_login_refused", code=code, mode=mode)
            if code in _REFUSED_LOGIN_CODES:
                raise LoginRefusedError(f"betfair login refused: {code}") from None
            raise SessionError(f"betfair login failed: {code}") from None
        except (bflw_errors.BetfairError, requests.RequestException, OSError) as exc:
            log.warning("betfair_login_failed", error=type(exc).__name__, mode=mode)
            raise SessionError(f"betfair login failed: {type(exc).__name__}") from None
        token = self._client.session_token
        if not token:
            raise SessionError("betfair login returned no session token")
        self.logins += 1
        log.info("betfair_logged_in", mode=mode)
        return str(token)

    async def keep_alive(self) -> None:
        """Extend the session; a refused keep-alive falls back to a fresh login."""
        async with self._lock:
            try:
                await asyncio.to_thread(self._client.keep_alive)
                self.keep_alives += 1
                log.info("betfair_keep_alive")
            except bflw_errors.KeepAliveError:
                log.warning("betfair_keep_alive_refused")
                await self._login()

    def start_keep_alive(self) -> None:
        if self._keep_alive_task is None:
            self._keep_alive_task = asyncio.ensure_future(self._keep_alive_loop())

    async def _keep_alive_loop(self) -> None:
        while True:
            await asyncio.sleep(self.config.keep_alive_interval_s)
            try:
                await self.keep_alive()
            except (SessionError, bflw_errors.BetfairError, requests.RequestException) as exc:
                log.warning("betfair_keep_alive_failed", error=type(exc).__name__)

    async def close(self) -> None:
        """Stop the keep-alive and log out (best effort)."""
        if self._keep_alive_task is not None:
            self._keep_alive_task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._keep_alive_task
            self._keep_alive_task = None
        if self._client.session_token:
            with contextlib.suppress(bflw_errors.BetfairError, requests.RequestException):
                await asyncio.to_thread(self._client.logout)
        self._http.close()


def _login_code(response: Any) -> str:
    if isinstance(response, dict):
        return str(response.get("loginStatus") or response.get("error") or "UNKNOWN")
    return "UNKNOWN"


def load_betfair_config(config: dict[str, Any]) -> BetfairConfig:
    """`[betfair]` of engine.toml, checked key by key."""
    return parse_section(section_table(config, "betfair"), "betfair", BetfairConfig)
