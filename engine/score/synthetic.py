"""A legal random match as score ticks: for demos, benchmarks and tests that need a feed.

Points are won by the server with probability `p_serve` (same for both players), so the ticks
always follow the serve rotation; the result is reproducible from the seed.
"""

from __future__ import annotations

import random
from collections.abc import Iterator

from engine.physics.rules import MatchRules
from engine.score.scoring import Score
from engine.score.ticks import MatchEnd, MatchStart, Player, Point, ScoreTick


def _player(value: int) -> Player:
    return 1 if value == 1 else 2


def simulate_match_ticks(
    match_id: str,
    rules: MatchRules | None = None,
    *,
    seed: int = 0,
    p_serve: float = 0.62,
    first_server: Player = 1,
    start_ts: float = 1_700_000_000.0,
    seconds_per_point: float = 30.0,
    players: tuple[str, str] = ("Player One", "Player Two"),
) -> Iterator[ScoreTick]:
    """`match_start`, every point to the end, then `match_end`; seq 1, 2, 3 …"""
    match_rules = rules if rules is not None else MatchRules()
    rng = random.Random(seed)
    score = Score(match_rules, first_server)
    seq = 1
    ts = start_ts
    yield MatchStart(match_id, seq, ts, match_rules, players, first_server)
    while score.winner is None:
        seq += 1
        ts += seconds_per_point
        server = score.server
        winner = server if rng.random() < p_serve else 3 - server
        yield Point(match_id, seq, ts, _player(server), _player(winner))
        score.play_point(winner)
    yield MatchEnd(match_id, seq + 1, ts + 1.0, _player(score.winner))
