"""Plain inputs of the feature builders: score state, running counters, fair price, book summary.

Everything here is a small frozen value so that training (tensorise from aligned rows) and the
engine (live points) feed the builders the same things.
Counters are advanced by pure update functions.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from engine.physics.rules import MatchRules


@dataclass(frozen=True, slots=True)
class ScoreInputs:
    """A score state: sets, games in the set, points in the game (3-3 deuce, 4-3 advantage) or in
    the tiebreak, and who serves (1 or 2). In a token it is the state the NEXT point is played
    from (see the timing contract in engine/features/match.py)."""

    server: int
    p1_sets: int
    p2_sets: int
    p1_games: int
    p2_games: int
    p1_points: int
    p2_points: int
    in_tiebreak: bool
    rules: MatchRules = field(default_factory=MatchRules)

    def __post_init__(self) -> None:
        if self.server not in (1, 2):
            raise ValueError(f"server: must be 1 or 2, got {self.server!r}")
        for name in ("p1_sets", "p2_sets", "p1_games", "p2_games", "p1_points", "p2_points"):
            value = getattr(self, name)
            if not isinstance(value, int) or value < 0:
                raise ValueError(f"{name}: must be a non-negative integer, got {value!r}")
        if max(self.p1_sets, self.p2_sets) >= self.rules.sets_to_win:
            raise ValueError("p1_sets/p2_sets: the match is already over")


@dataclass(frozen=True, slots=True)
class PlayerServeCounts:
    """One player's serve record so far in the match."""

    points: int = 0
    won: int = 0
    detail_points: int = 0  # serve points whose serve number is known
    first_in: int = 0
    first_won: int = 0
    second_points: int = 0
    second_won: int = 0
    aces: int = 0
    double_faults: int = 0


@dataclass(frozen=True, slots=True)
class MatchCounters:
    """Running counters over the points already played (nothing about the current point)."""

    p1: PlayerServeCounts = field(default_factory=PlayerServeCounts)
    p2: PlayerServeCounts = field(default_factory=PlayerServeCounts)
    points_played: int = 0
    p1_points_won: int = 0
    p1_recent_share: float = 0.5
    last_winner: int = 0  # 0 before the first point
    streak: int = 0  # + run of player-1 points, - run of player-2 points


RECENT_ALPHA = 0.2


def _update_player(
    counts: PlayerServeCounts,
    won: bool,
    serve_no: int | None,
    ace: bool,
    double_fault: bool,
) -> PlayerServeCounts:
    detail = serve_no in (1, 2)
    first = serve_no == 1
    second = serve_no == 2
    return PlayerServeCounts(
        points=counts.points + 1,
        won=counts.won + int(won),
        detail_points=counts.detail_points + int(detail),
        first_in=counts.first_in + int(first),
        first_won=counts.first_won + int(first and won),
        second_points=counts.second_points + int(second),
        second_won=counts.second_won + int(second and won),
        aces=counts.aces + int(detail and ace),
        double_faults=counts.double_faults + int(detail and double_fault),
    )


def update_counters(
    counters: MatchCounters,
    *,
    server: int,
    winner: int,
    serve_no: int | None = None,
    ace: bool = False,
    double_fault: bool = False,
) -> MatchCounters:
    """Counters after one more point. serve_no is 1/2 (serve that started the point; a double
    fault counts as a second serve) or None when the feed does not say."""
    if server not in (1, 2):
        raise ValueError(f"server: must be 1 or 2, got {server!r}")
    if winner not in (1, 2):
        raise ValueError(f"winner: must be 1 or 2, got {winner!r}")
    if serve_no not in (None, 1, 2):
        raise ValueError(f"serve_no: must be 1, 2 or None, got {serve_no!r}")
    server_won = winner == server
    p1 = counters.p1
    p2 = counters.p2
    if server == 1:
        p1 = _update_player(p1, server_won, serve_no, ace, double_fault)
    else:
        p2 = _update_player(p2, server_won, serve_no, ace, double_fault)
    p1_won = winner == 1
    if counters.streak > 0 and p1_won:
        streak = counters.streak + 1
    elif counters.streak < 0 and not p1_won:
        streak = counters.streak - 1
    else:
        streak = 1 if p1_won else -1
    return MatchCounters(
        p1=p1,
        p2=p2,
        points_played=counters.points_played + 1,
        p1_points_won=counters.p1_points_won + int(p1_won),
        p1_recent_share=(1 - RECENT_ALPHA) * counters.p1_recent_share + RECENT_ALPHA * p1_won,
        last_winner=winner,
        streak=streak,
    )


@dataclass(frozen=True, slots=True)
class FairInputs:
    """Physics output for this point: P(player 1 wins) now, at the previous point (None on the
    first point) and the two what-if values for the point about to be played."""

    fair_prob: float
    prev_fair_prob: float | None
    fair_if_p1_wins: float
    fair_if_p1_loses: float


@dataclass(frozen=True, slots=True)
class BookSummary:
    """Summary of the MATCH_ODDS book as last seen before the point's outcome is known.

    Prices are decimal odds (None when the side is empty); sizes in £. `traded` is the market's
    cumulative matched volume on player 1; `spread_ticks` is best lay minus best back in ladder
    ticks.
    """

    back_price: float | None
    lay_price: float | None
    back_size: float = 0.0
    lay_size: float = 0.0
    back_price_50: float | None = None
    lay_price_50: float | None = None
    back_depth: float = 0.0
    lay_depth: float = 0.0
    ltp: float | None = None
    traded: float = 0.0
    p2_back_price: float | None = None
    p2_lay_price: float | None = None
    spread_ticks: int = 0
    suspended: bool = False
    liq_collapse: bool = False


@dataclass(frozen=True, slots=True)
class PointInputs:
    """Everything the token of one point is built from.

    prev_market_prob is the emulator label (market probability) of the previous point: the token
    only ever carries LAGGED market information so that it never contains the value it predicts.
    engine/features/match.py (MatchFeatures) assembles these with the timing contract.
    """

    score: ScoreInputs
    counters: MatchCounters
    fair: FairInputs
    pts_since_mto: int | None = None
    book: BookSummary | None = None
    prev_book: BookSummary | None = None
    prev_market_prob: float | None = None


def price_for_stake(levels: Sequence[tuple[float, float]], stake: float) -> float | None:
    """Volume-weighted price to fill `stake` £ against `levels` (best first, (price, size)).

    None when the book cannot fill the stake. This is the blueprint's `price_for_£50` with stake 50.
    """
    if stake <= 0:
        raise ValueError(f"stake: must be positive, got {stake!r}")
    remaining = stake
    cost = 0.0
    for price, size in levels:
        if size <= 0:
            continue
        take = min(size, remaining)
        cost += take * price
        remaining -= take
        if remaining <= 1e-12:
            return cost / stake
    return None
