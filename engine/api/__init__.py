"""The control API (aiohttp, 127.0.0.1 by default): metrics, health, matches, what-if, kill.

The server reads the engine only through the `EngineView` protocol (`view.py`), so it can be tested
against the real in-memory `EngineBoard` and the daemon can hand it any implementation.
"""

from engine.api.config import ApiConfig
from engine.api.server import ApiServer, build_app, start_api
from engine.api.view import EngineBoard, EngineView, FeedHealth, Health, PricingInputs

__all__ = [
    "ApiConfig",
    "ApiServer",
    "EngineBoard",
    "EngineView",
    "FeedHealth",
    "Health",
    "PricingInputs",
    "build_app",
    "start_api",
]
