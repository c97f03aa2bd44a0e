"""Why the gate is closed, in the order the gate reports them.

A decision lists every failing check, but names one `reason`: the first failing check in
`PRIORITY`. The order runs from "the data cannot be trusted" (no score feed, suspension, stale or
untrusted feeds) through "the match is in an abnormal regime" (medical time-out, collapsed book,
distress) and "the emulator does not understand this market" to the ordinary "no edge" — so the
reason says what an operator would have to fix first.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Final


class GateReason(StrEnum):
    OPEN = "open"  # every check passed
    NO_SCORE_FEED = "no_score_feed"  # the market has no matched score-feed match
    SUSPENDED = "suspended"  # market suspended/closed, or the match suspended
    STALE_STREAM = "stale_stream"  # no market-stream message within gate.stream_stale_s
    STALE_SCORE = "stale_score"  # no score tick within gate.score_stale_s
    UNTRUSTED_SCORE = "untrusted_score"  # the score state machine distrusts the match
    MTO = "mto"  # a medical time-out runs, or fewer than gate.mto_block_points since one
    LIQUIDITY_COLLAPSE = "liquidity_collapse"  # depth < fraction of median and little size
    DISTRESS = "distress"  # the emulator's distress head fired
    EMU_UNPROVEN = "emu_unproven"  # too few points with an emulator price to judge it
    EMU_ERROR = "emu_error"  # rolling |emu - market| above gate.emu_error_max
    NO_PRICE = "no_price"  # no fair price or no market price to compare
    NO_EDGE = "no_edge"  # |fair - market| not above the required edge


#: Blocking reasons, first = most fundamental. `OPEN` is not a blocking reason.
PRIORITY: Final[tuple[GateReason, ...]] = tuple(r for r in GateReason if r is not GateReason.OPEN)

#: Bit of each blocking reason in a decision's `failing_mask` (bit i = PRIORITY[i]).
BIT: Final[dict[GateReason, int]] = {reason: 1 << i for i, reason in enumerate(PRIORITY)}


def first_reason(mask: int) -> GateReason:
    """The highest-priority reason in a failing mask; OPEN for an empty mask."""
    if mask == 0:
        return GateReason.OPEN
    return PRIORITY[(mask & -mask).bit_length() - 1]


def reasons_in(mask: int) -> tuple[GateReason, ...]:
    """Every reason in a failing mask, in priority order."""
    return tuple(reason for reason in PRIORITY if mask & BIT[reason])
