"""The in-play score a price is asked for: what a legal state is, and the CLI score syntax.

Points are integer points won in the current game or tiebreak, player 1 first, exactly as in
``../shared/data/slams/points.parquet``: 3-3 is deuce, 4-3 advantage player 1. Long deuce games
keep counting (5-4, 6-6 …) and are legal; the pricing chain treats every deuce-or-advantage count as
the equivalent 3-3 / 4-3 / 3-4 (it is the same Markov state). Long tiebreaks (9-8) and long
advantage sets (15-14) are handled the same way. With no-ad scoring 3-3 is the deciding point and
a fourth point ends the game, so 4-3 is illegal there. No-ad applies to games only: tiebreaks are
still won by two clear points.

``server`` is who serves the NEXT point (1 or 2). Together with the score it fixes everything else:
in a tiebreak the first server of the tiebreak follows from the points played (serve changes after
the first point and then every two points), and who served first in the set does not change set or
match probabilities (Newton & Keller 2005), so it is not part of the state.

A finished match (a player has already won the sets needed) is rejected: there is nothing to price.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Final

from engine.physics.rules import MatchRules

_POINT_WORDS: Final[dict[str, int]] = {"0": 0, "15": 1, "30": 2, "40": 3, "AD": 4, "A": 4}
_PAIR = re.compile(r"^(\w+)-(\w+)$")


@dataclass(frozen=True, slots=True)
class MatchState:
    """Score before the next point: completed sets, games in the current set, points in the game."""

    sets: tuple[int, int] = (0, 0)
    games: tuple[int, int] = (0, 0)
    points: tuple[int, int] = (0, 0)
    server: int = 1

    def is_deciding_set(self, rules: MatchRules) -> bool:
        return rules.is_deciding_set(self.sets[0], self.sets[1])

    def is_tiebreak(self, rules: MatchRules) -> bool:
        """True when the games score is the tiebreak score of the current set (6-6 or 12-12)."""
        at = rules.tiebreak_at(self.is_deciding_set(rules))
        return at is not None and self.games[0] == at and self.games[1] == at

    def as_row(self) -> tuple[int, int, int, int, int, int, int]:
        """The 7 integer columns used by `p_match_batch`: sets, games, points, server."""
        return (*self.sets, *self.games, *self.points, self.server)


def _check_pair(name: str, pair: tuple[int, int]) -> None:
    if len(pair) != 2 or any(isinstance(v, bool) or not isinstance(v, int) for v in pair):
        raise ValueError(f"{name}: expected two integers, got {pair!r}")
    if pair[0] < 0 or pair[1] < 0:
        raise ValueError(f"{name}: negative count {pair[0]}-{pair[1]}")


def _game_in_progress(p1: int, p2: int, no_ad: bool) -> bool:
    if no_ad:
        return max(p1, p2) <= 3
    return max(p1, p2) <= 3 or abs(p1 - p2) <= 1


def _tiebreak_in_progress(p1: int, p2: int, target: int) -> bool:
    return max(p1, p2) < target or abs(p1 - p2) <= 1


def _set_in_progress(g1: int, g2: int, tiebreak_at: int | None) -> bool:
    if max(g1, g2) <= 5:
        return True
    if abs(g1 - g2) > 1:
        return False
    return tiebreak_at is None or max(g1, g2) <= tiebreak_at


def validate(state: MatchState, rules: MatchRules) -> MatchState:
    """Raise ValueError naming the field if `state` cannot occur under `rules`; else return it."""
    if isinstance(state.server, bool) or state.server not in (1, 2):
        raise ValueError(f"server: must be 1 or 2, got {state.server!r}")
    _check_pair("sets", state.sets)
    _check_pair("games", state.games)
    _check_pair("points", state.points)
    s1, s2 = state.sets
    need = rules.sets_to_win
    if s1 >= need or s2 >= need:
        raise ValueError(
            f"sets: {s1}-{s2} is a finished (or impossible) best-of-{rules.best_of} match score"
        )
    deciding = rules.is_deciding_set(s1, s2)
    tiebreak_at = rules.tiebreak_at(deciding)
    g1, g2 = state.games
    if not _set_in_progress(g1, g2, tiebreak_at):
        kind = "deciding set" if deciding else "set"
        raise ValueError(f"games: {g1}-{g2} cannot be an unfinished {kind} under these rules")
    p1, p2 = state.points
    if state.is_tiebreak(rules):
        target = rules.tiebreak_target(deciding)
        if not _tiebreak_in_progress(p1, p2, target):
            raise ValueError(f"points: {p1}-{p2} is a finished {target}-point tiebreak")
    elif not _game_in_progress(p1, p2, rules.no_ad):
        rule = "no-ad" if rules.no_ad else "advantage"
        raise ValueError(f"points: {p1}-{p2} is not an unfinished game ({rule} scoring)")
    return state


def _parse_pair(token: str, field: str) -> tuple[str, str]:
    match = _PAIR.match(token)
    if match is None:
        raise ValueError(f"{field}: expected A-B, got {token!r}")
    return match.group(1), match.group(2)


def _parse_count(text: str, field: str) -> int:
    if not text.isdigit():
        raise ValueError(f"{field}: {text!r} is not a whole number")
    return int(text)


def _parse_game_points(left: str, right: str) -> tuple[int, int]:
    words = (left.upper(), right.upper())
    if any(word not in _POINT_WORDS for word in words):
        raise ValueError(f"points: {left}-{right}: use 0, 15, 30, 40 or AD")
    p1, p2 = _POINT_WORDS[words[0]], _POINT_WORDS[words[1]]
    if (p1 == 4 or p2 == 4) and min(p1, p2) != 3:
        raise ValueError(f"points: {left}-{right}: AD is only legal against 40")
    return p1, p2


def parse_score(text: str, server: int, rules: MatchRules) -> MatchState:
    """Read the CLI score syntax, e.g. ``"1-0 4-5 30-40"``, into a validated MatchState.

    Tokens are positional, player 1 first: completed sets ``S1-S2``, then games ``G1-G2`` in the
    current set, then points. Missing trailing tokens are 0-0, so ``"1-0 4-5"`` is sets 1-0, games
    4-5 at the start of a game, and ``""`` is the first point of the match. Points are
    ``0/15/30/40/AD`` in a game (``40-40`` is deuce, ``AD-40`` advantage player 1) and plain counts
    such as ``5-6`` in a tiebreak (when the games are 6-6, or 12-12 in a ``tb7@12`` deciding set).
    """
    tokens = text.split()
    if len(tokens) > 3:
        raise ValueError(f"score: expected at most 3 tokens (sets games points), got {text!r}")
    while len(tokens) < 3:
        tokens.append("0-0")
    sets_raw = _parse_pair(tokens[0], "sets")
    games_raw = _parse_pair(tokens[1], "games")
    sets = (_parse_count(sets_raw[0], "sets"), _parse_count(sets_raw[1], "sets"))
    games = (_parse_count(games_raw[0], "games"), _parse_count(games_raw[1], "games"))
    probe = MatchState(sets=sets, games=games, points=(0, 0), server=1)
    left, right = _parse_pair(tokens[2], "points")
    if probe.is_tiebreak(rules):
        points = (_parse_count(left, "points"), _parse_count(right, "points"))
    else:
        points = _parse_game_points(left, right)
    return validate(MatchState(sets=sets, games=games, points=points, server=server), rules)
