"""A recorded market stream held as a timeline the loopback server can publish and resume.

The file is read once with the historical reader (malformed lines are skipped and counted there).
Each market-change message becomes a position on the timeline; the server's clk tokens name
positions, which is what lets a reconnecting client resume at exactly the next message. Publish
offsets follow the recorded `pt` gaps divided by the speed, with long gaps (overnight, pre-match
lulls) capped so an accelerated demo does not sit idle for hours.
"""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from adapters.betfair.historical import HistoricalReader
from adapters.betfair.messages import ChangeMessage


@dataclass(frozen=True, slots=True)
class RecordedChange:
    pt: int
    changes: list[dict[str, Any]]  # the message's mc entries, as recorded


@dataclass(frozen=True, slots=True)
class MarketInfo:
    market_id: str
    event_type_id: str | None
    market_type: str | None
    event_id: str | None
    turn_in_play_enabled: bool | None


class Recording:
    """The market-change messages of one stream file, in file order."""

    def __init__(self, messages: list[RecordedChange], source: str = "") -> None:
        self.messages = messages
        self.source = source
        self.markets: dict[str, MarketInfo] = {}
        for message in messages:
            for change in message.changes:
                self._note_market(change)

    @classmethod
    def load(cls, path: str | Path) -> Recording:
        reader = HistoricalReader(path)
        messages = [
            RecordedChange(record.message.pt, list(record.message.changes))
            for record in reader
            if type(record.message) is ChangeMessage
            and record.message.op == "mcm"
            and not record.message.is_heartbeat
        ]
        if not messages:
            raise ValueError(f"file: {path} holds no market-change messages")
        return cls(messages, str(path))

    def __len__(self) -> int:
        return len(self.messages)

    def _note_market(self, change: dict[str, Any]) -> None:
        market_id = change.get("id")
        if not isinstance(market_id, str):
            return
        definition = change.get("marketDefinition")
        if isinstance(definition, dict):
            self.markets[market_id] = MarketInfo(
                market_id,
                _str_or_none(definition.get("eventTypeId")),
                _str_or_none(definition.get("marketType")),
                _str_or_none(definition.get("eventId")),
                definition.get("turnInPlayEnabled"),
            )
        elif market_id not in self.markets:
            self.markets[market_id] = MarketInfo(market_id, None, None, None, None)

    def matching_markets(self, market_filter: dict[str, Any]) -> set[str]:
        """Market ids of this recording that a subscription's marketFilter selects."""

        def wanted(key: str) -> set[str] | None:
            values = market_filter.get(key)
            return {str(v) for v in values} if values else None

        market_ids, event_types = wanted("marketIds"), wanted("eventTypeIds")
        market_types, event_ids = wanted("marketTypes"), wanted("eventIds")
        in_play = market_filter.get("turnInPlayEnabled")
        selected = set()
        for info in self.markets.values():
            if market_ids is not None and info.market_id not in market_ids:
                continue
            if event_types is not None and info.event_type_id not in event_types:
                continue
            if market_types is not None and info.market_type not in market_types:
                continue
            if event_ids is not None and info.event_id not in event_ids:
                continue
            if in_play is not None and info.turn_in_play_enabled not in (None, in_play):
                continue
            selected.add(info.market_id)
        return selected

    def offsets_s(self, speed: float, max_gap_ms: int) -> list[float]:
        """Seconds from the first message at which each message is due (0 for every one when the
        speed is 0, meaning as fast as the client reads)."""
        if speed <= 0:
            return [0.0] * len(self.messages)
        offsets = [0.0]
        previous = self.messages[0].pt
        for message in self.messages[1:]:
            raw_gap = max(0, message.pt - previous)
            gap = min(raw_gap, max_gap_ms) if max_gap_ms > 0 else raw_gap
            offsets.append(offsets[-1] + gap / 1000.0 / speed)
            previous = message.pt
        return offsets


def _str_or_none(value: Any) -> str | None:
    return None if value is None else str(value)


class ClockTokens:
    """Opaque clk/initialClk tokens naming timeline positions of one server instance.

    A token from another server instance (or a garbled one) is refused with INVALID_CLOCK, as the
    real exchange refuses clocks it cannot resume from.
    """

    def __init__(self, epoch: str, stream: str) -> None:
        self._prefix = f"{epoch}:{stream}:"

    def initial(self) -> str:
        return self._encode(f"{self._prefix}init")

    def at(self, position: int) -> str:
        return self._encode(f"{self._prefix}{position}")

    def position(self, initial_clk: str, clk: str) -> int | None:
        """The position a resume request names, None when the tokens are not ours."""
        if self._decode(initial_clk) != f"{self._prefix}init":
            return None
        text = self._decode(clk)
        if text is None or not text.startswith(self._prefix):
            return None
        tail = text[len(self._prefix) :]
        return int(tail) if tail.isdigit() else None

    @staticmethod
    def _encode(text: str) -> str:
        return base64.urlsafe_b64encode(text.encode()).decode()

    @staticmethod
    def _decode(token: str) -> str | None:
        try:
            return base64.urlsafe_b64decode(token.encode()).decode()
        except (binascii.Error, UnicodeDecodeError, ValueError):
            return None
