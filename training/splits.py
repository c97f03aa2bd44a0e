"""Player-disjoint train/validation/test splits: no player appears in two splits.

Matches are edges of a player graph, and a tournament draw connects nearly everyone, so splitting
by connected components is impossible and some matches must be dropped. The greedy procedure:

1. order the matches by sha256(seed, match_id) (deterministic, independent of input order);
2. walk them; a match whose players are both unassigned goes (with both players) to the split
   furthest below its target share of the matches kept so far; a match with one assigned player
   follows that player's split (the other player joins it); a match whose two players already sit
   in the SAME split goes there; a match whose players sit in DIFFERENT splits is dropped.

The report says how many matches were dropped to keep the splits disjoint.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Final

from training.tensors import SPLIT_TEST, SPLIT_TRAIN, SPLIT_VAL

DEFAULT_SHARES: Final = (0.8, 0.1, 0.1)  # train, validation, test
SPLIT_IDS: Final = (SPLIT_TRAIN, SPLIT_VAL, SPLIT_TEST)


@dataclass(frozen=True, slots=True)
class MatchPlayers:
    match_id: str
    p1: str
    p2: str


@dataclass(slots=True)
class SplitResult:
    """match id -> split (0/1/2) for kept matches; dropped match ids in walk order."""

    assignment: dict[str, int] = field(default_factory=dict)
    dropped: list[str] = field(default_factory=list)

    def counts(self) -> dict[int, int]:
        out = dict.fromkeys(SPLIT_IDS, 0)
        for split in self.assignment.values():
            out[split] += 1
        return out


def player_key(name: str) -> str:
    """Players are compared case- and space-insensitively."""
    return " ".join(name.lower().split())


def _order_key(seed: int, match_id: str) -> str:
    return hashlib.sha256(f"{seed}:{match_id}".encode()).hexdigest()


def split_by_player(
    matches: Sequence[MatchPlayers],
    *,
    shares: tuple[float, float, float] = DEFAULT_SHARES,
    seed: int = 0,
) -> SplitResult:
    """Assign matches to splits so that no player is in two splits (see the module docstring)."""
    if len(shares) != 3 or min(shares) < 0 or sum(shares) <= 0:
        raise ValueError(f"shares: expected three non-negative shares, got {shares!r}")
    if len({m.match_id for m in matches}) != len(matches):
        raise ValueError("matches: duplicate match ids")
    total = sum(shares)
    targets = [s / total for s in shares]
    player_split: dict[str, int] = {}
    result = SplitResult()
    counts = [0, 0, 0]
    for m in sorted(matches, key=lambda m: _order_key(seed, m.match_id)):
        a, b = player_key(m.p1), player_key(m.p2)
        sa, sb = player_split.get(a), player_split.get(b)
        if sa is not None and sb is not None and sa != sb:
            result.dropped.append(m.match_id)
            continue
        if sa is None and sb is None:
            kept = sum(counts) + 1
            split = max(range(3), key=lambda s: (targets[s] * kept - counts[s], -s))
        else:
            split = sa if sa is not None else sb  # type: ignore[assignment]
        player_split[a] = player_split[b] = split
        counts[split] += 1
        result.assignment[m.match_id] = SPLIT_IDS[split]
    return result
