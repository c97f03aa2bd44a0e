"""structlog configuration: JSON lines for machines, console rendering on a terminal.

Secrets never reach a log line: any key that looks like a credential is redacted by a processor
that runs before rendering, whatever the caller passed.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Iterator, MutableMapping
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

import structlog

_SECRET_MARKERS = (
    "password",
    "secret",
    "token",
    "app_key",
    "appkey",
    "session",
    "cert",
    "key_file",
)
REDACTED = "***"


def _is_secret_key(key: str) -> bool:
    lowered = key.lower()
    return any(marker in lowered for marker in _SECRET_MARKERS)


def redact_secrets(
    _logger: Any, _method: str, event_dict: MutableMapping[str, Any]
) -> MutableMapping[str, Any]:
    """structlog processor: replace values of credential-like keys."""
    for key in list(event_dict):
        if _is_secret_key(key):
            event_dict[key] = REDACTED
    return event_dict


_MUTED: ContextVar[bool] = ContextVar("courtside_log_muted", default=False)


@contextmanager
def muted() -> Iterator[None]:
    """Drop every log line emitted inside the block (the rehearsal's shadow engine: its lines
    describe a recorded match, not the day being traded)."""
    token = _MUTED.set(True)
    try:
        yield
    finally:
        _MUTED.reset(token)


def drop_muted(
    _logger: Any, _method: str, event_dict: MutableMapping[str, Any]
) -> MutableMapping[str, Any]:
    """structlog processor: drops the event inside `muted()`."""
    if _MUTED.get():
        raise structlog.DropEvent
    return event_dict


class _StderrLogger:
    """Writes each rendered line to whatever `sys.stderr` is at call time.

    structlog's PrintLogger binds the stream once; a redirected or replaced stderr (test capture,
    daemonisation) would then receive nothing or raise on a closed file.
    """

    def msg(self, message: str) -> None:
        stream = sys.stderr
        stream.write(message + "\n")
        stream.flush()

    debug = info = warning = warn = error = critical = exception = fatal = msg


def _stderr_logger_factory(*_args: Any) -> _StderrLogger:
    return _StderrLogger()


def configure_logging(level: str = "INFO", *, json: bool | None = None) -> None:
    """Configure structlog once per process; output goes to stderr so stdout stays for data."""
    render_json = (not sys.stderr.isatty()) if json is None else json
    renderer: Any = (
        structlog.processors.JSONRenderer()
        if render_json
        else structlog.dev.ConsoleRenderer(colors=False)
    )
    structlog.configure(
        processors=[
            drop_muted,
            structlog.contextvars.merge_contextvars,
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            redact_secrets,
            structlog.processors.format_exc_info,
            renderer,
        ],
        wrapper_class=structlog.make_filtering_bound_logger(logging.getLevelNamesMapping()[level]),
        logger_factory=_stderr_logger_factory,
        cache_logger_on_first_use=False,
    )


def get_logger(name: str) -> Any:
    """A bound structlog logger tagged with the component name."""
    return structlog.get_logger(component=name)
