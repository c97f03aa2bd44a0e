"""Per-subscription stream state: clk tokens, segment reassembly, duplicate and order checks.

Kept apart from the socket code so the rules that decide "deliver, drop or distrust" are pure and
unit-testable. The clk tokens are opaque (Betfair gives no ordering over them); ordering is checked
with the publish time `pt`, which the exchange publishes monotonically within a subscription.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from typing import Any

from adapters.betfair.messages import HEARTBEAT, UPDATE, ChangeMessage
from adapters.betfair.stream_protocol import StreamIntegrityError

SEG_START = "SEG_START"
SEG = "SEG"
SEG_END = "SEG_END"


class Verdict(enum.Enum):
    DELIVER = "deliver"  # a complete data message: hand it to the consumer
    HEARTBEAT = "heartbeat"  # keep-alive with a clk; nothing to deliver
    DUPLICATE = "duplicate"  # same clk and pt as the previous data message: dropped
    PARTIAL = "partial"  # a segment was buffered; the message is not complete yet


class SegmentAssembler:
    """Joins SEG_START … SEG_END segments into one message (only the last carries the clk)."""

    def __init__(self, max_segments: int = 10_000) -> None:
        self._max_segments = max_segments
        self._parts: list[ChangeMessage] = []

    @property
    def pending(self) -> bool:
        return bool(self._parts)

    def reset(self) -> None:
        self._parts.clear()

    def feed(self, message: ChangeMessage) -> ChangeMessage | None:
        """The complete message, or None while segments are still arriving."""
        segment_type = message.segment_type
        if segment_type is None:
            if self._parts:
                self._parts.clear()
                raise StreamIntegrityError("segment: unsegmented message inside a segmented one")
            return message
        if segment_type == SEG_START:
            if self._parts:
                self._parts.clear()
                raise StreamIntegrityError("segment: SEG_START before the previous SEG_END")
            self._parts.append(message)
            return None
        if segment_type not in (SEG, SEG_END):
            raise StreamIntegrityError(f"segment: unknown segmentType {segment_type!r}")
        if not self._parts:
            raise StreamIntegrityError(f"segment: {segment_type} without SEG_START")
        self._parts.append(message)
        if len(self._parts) > self._max_segments:
            self._parts.clear()
            raise StreamIntegrityError(f"segment: more than {self._max_segments} segments")
        if segment_type == SEG:
            return None
        return self._merge()

    def _merge(self) -> ChangeMessage:
        parts, first, last = self._parts, self._parts[0], self._parts[-1]
        changes: list[Any] = []
        for part in parts:
            changes.extend(part.changes)
        merged = ChangeMessage(
            op=first.op,
            id=first.id,
            ct=first.ct,
            pt=last.pt,
            clk=last.clk,
            initial_clk=next((p.initial_clk for p in parts if p.initial_clk), None),
            changes=changes,
            status=last.status,
            conflate_ms=next((p.conflate_ms for p in parts if p.conflate_ms is not None), None),
            heartbeat_ms=next((p.heartbeat_ms for p in parts if p.heartbeat_ms is not None), None),
            segment_type=None,
        )
        self._parts.clear()
        return merged


@dataclass(slots=True)
class SubscriptionState:
    """What the client must remember about one subscription to resume it without losing data."""

    op: str  # "marketSubscription" | "orderSubscription"
    body: dict[str, Any]  # marketFilter/marketDataFilter or orderFilter
    request_id: int = 0
    initial_clk: str | None = None
    clk: str | None = None
    heartbeat_ms: int | None = None
    conflate_ms: int | None = None
    stale: bool = False  # the server flagged its data as stale (status 503)
    last_data_clk: str | None = None
    last_data_pt: int | None = None
    segments: SegmentAssembler = field(default_factory=SegmentAssembler)

    @property
    def resumable(self) -> bool:
        return bool(self.initial_clk and self.clk)

    def forget_position(self) -> None:
        """Drop the clk tokens: the next subscription takes a fresh image."""
        self.initial_clk = None
        self.clk = None
        self.last_data_clk = None
        self.last_data_pt = None
        self.segments.reset()

    def new_connection(self) -> None:
        """A new socket: half-received segments are useless, the clk position is kept."""
        self.segments.reset()
        self.last_data_clk = None

    def observe(self, message: ChangeMessage) -> tuple[Verdict, ChangeMessage | None]:
        """Classify a change message for this subscription and advance the clk position.

        Raises StreamIntegrityError for data whose publish time goes backwards or broken segments;
        the caller must then discard its state and resubscribe from a fresh image.
        """
        complete = self.segments.feed(message)
        if complete is None:
            return Verdict.PARTIAL, None
        self.stale = complete.status is not None and complete.status != 200
        if complete.heartbeat_ms is not None:
            self.heartbeat_ms = complete.heartbeat_ms
        if complete.conflate_ms is not None:
            self.conflate_ms = complete.conflate_ms
        clk, pt = complete.clk, complete.pt
        if complete.ct == HEARTBEAT:
            self._advance(complete.initial_clk, clk)
            return Verdict.HEARTBEAT, None
        duplicate = clk is not None and clk == self.last_data_clk and pt == self.last_data_pt
        if duplicate and complete.ct == UPDATE:
            return Verdict.DUPLICATE, None
        if self.last_data_pt is not None and pt < self.last_data_pt:
            raise StreamIntegrityError(
                f"order: publish time went backwards ({pt} after {self.last_data_pt})"
            )
        self._advance(complete.initial_clk, clk)
        if clk is not None:
            self.last_data_clk = clk
        self.last_data_pt = pt
        return Verdict.DELIVER, complete

    def _advance(self, initial_clk: str | None, clk: str | None) -> None:
        if initial_clk:
            self.initial_clk = initial_clk
        if clk:
            self.clk = clk
