"""Fault injection for the loopback server: network and exchange misbehaviour clients must survive.

Positions are timeline positions (message indexes of the recording). Every fault fires once per
server, on whichever connection reaches it first, so the client's recovery (resume from clk) then
sees clean data — which is what lets a test demand that the recovered cache equals an
uninterrupted run. The server runs ahead of what a client has read (socket buffers hold thousands
of messages), so a fault can fire on a connection the client has already abandoned; a resume at
position p therefore re-arms the faults that fired beyond p.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(slots=True)
class FaultPlan:
    # Close the k-th market subscription's connection after it has sent drop_after[k] messages.
    drop_after: list[int] = field(default_factory=list)
    # Send a line that is not JSON just before this position (an extra, garbage line).
    garbage_before: int | None = None
    # Send this position's message truncated (a corrupted line; the real message is lost).
    corrupt_at: int | None = None
    # Send this position's message twice.
    duplicate_at: int | None = None
    # Send position+1 before position.
    reorder_at: int | None = None
    # At this position, hold data back and send only heartbeats, this many of them.
    heartbeats_only_at: int | None = None
    heartbeats_only_count: int = 3
    # At this position, go silent (no data, no heartbeat) for stall_s seconds.
    stall_at: int | None = None
    stall_s: float = 0.0
    # Mark messages from this position on as stale (status 503) until stale_until.
    stale_from: int | None = None
    stale_until: int | None = None
    # Fail the next authentications with these error codes, one per connection, in order.
    auth_errors: list[str] = field(default_factory=list)
    # Expire the session (INVALID_SESSION_INFORMATION, connection closed) at this position.
    expire_session_at: int | None = None
    fired: dict[str, int] = field(default_factory=dict)

    def fire(self, name: str, position: int, at: int | None) -> bool:
        """True once: the first time `position` reaches the fault's position (see rearm_after)."""
        if at is None or position != at or name in self.fired:
            return False
        self.fired[name] = position
        return True

    def rearm_after(self, position: int) -> None:
        """A client resumed at `position`: faults it never saw (fired beyond it) fire again."""
        for name in [n for n, p in self.fired.items() if p > position]:
            del self.fired[name]

    def next_drop_limit(self) -> int | None:
        return self.drop_after.pop(0) if self.drop_after else None

    def next_auth_error(self) -> str | None:
        return self.auth_errors.pop(0) if self.auth_errors else None
