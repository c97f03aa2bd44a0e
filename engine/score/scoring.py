"""Tennis scoring: a mutable score that plays points under `MatchRules`, and legality checks.

Kept apart from the tick/trust logic (`engine.score.machine`) so it can be replayed in a tight
loop over hundreds of thousands of recorded points, and so the rules live in one place.

Serve rotation: the server changes after every game. In a tiebreak the player due to serve serves
the first point, then the serve changes after the first point and after every two points; the
tiebreak counts as one game for the rotation, so the player who received first in the tiebreak
serves first in the next set.
"""

from __future__ import annotations

from engine.physics.rules import MatchRules
from engine.physics.state import MatchState


class IllegalScoreError(ValueError):
    """A score that cannot occur under the rules; the message says which part and why."""


def _tiebreak_at(rules: MatchRules, sets: tuple[int, int] | list[int]) -> int | None:
    return rules.tiebreak_at(rules.is_deciding_set(sets[0], sets[1]))


def set_is_complete(games: tuple[int, int], tiebreak_at: int | None) -> bool:
    """True when `games` is a legal finished set under a set whose tiebreak starts at
    `tiebreak_at` games all (None: advantage set): 6-0…6-4, a two-game lead, or the tiebreak."""
    hi, lo = max(games), min(games)
    if tiebreak_at is not None and hi == tiebreak_at + 1 and lo == tiebreak_at:
        return True
    if hi == 6:
        return lo <= 4
    return hi > 6 and hi - lo == 2 and (tiebreak_at is None or hi <= tiebreak_at + 1)


def _check_game_in_progress(games: tuple[int, int], tiebreak_at: int | None) -> None:
    """A set in progress: under 6 games each, or level / one game apart from 6 on, and never
    past the tiebreak."""
    hi, lo = max(games), min(games)
    if hi >= 6 and hi - lo > 1:
        raise IllegalScoreError(f"games: {list(games)} is not a set in progress")
    if tiebreak_at is not None and hi > tiebreak_at:
        raise IllegalScoreError(f"games: {list(games)} is past the tiebreak at {tiebreak_at}-all")


def _check_points_in_progress(
    points: tuple[int, int], tiebreak: bool, target: int, no_ad: bool
) -> None:
    hi, lo = max(points), min(points)
    if tiebreak:
        if hi >= target and hi - lo >= 2:
            raise IllegalScoreError(f"points: {list(points)} is a finished tiebreak")
        return
    if no_ad and hi > 3:
        raise IllegalScoreError(f"points: {list(points)} is past the no-ad deciding point")
    if hi >= 4 and hi - lo >= 2:
        raise IllegalScoreError(f"points: {list(points)} is a finished game")


class Score:
    """A match score that plays points. Counts are indexed 0 (player 1) and 1 (player 2).

    `server` is who serves the next point (1 or 2). `winner` is set once the score is complete.
    """

    __slots__ = (
        "_game_server",
        "_tb_target",
        "games",
        "points",
        "rules",
        "set_scores",
        "sets",
        "tiebreak",
        "winner",
    )

    def __init__(self, rules: MatchRules, first_server: int) -> None:
        self.rules = rules
        self.sets = [0, 0]
        self.games = [0, 0]
        self.points = [0, 0]
        self.set_scores: list[tuple[int, int]] = []
        self.winner: int | None = None
        self._game_server = first_server
        self.tiebreak = False
        self._tb_target = 7

    # -------------------------------------------------------------------------------- queries

    @property
    def server(self) -> int:
        """Who serves the next point."""
        if not self.tiebreak:
            return self._game_server
        played = self.points[0] + self.points[1]
        return self._game_server if ((played + 1) >> 1) & 1 == 0 else 3 - self._game_server

    @property
    def tiebreak_target(self) -> int:
        """Points needed to win the current tiebreak (meaningful while `tiebreak`)."""
        return self._tb_target

    @property
    def is_complete(self) -> bool:
        return self.winner is not None

    @property
    def points_played(self) -> bool:
        """Whether any point has been played (walkovers are only possible before the first)."""
        return bool(self.set_scores) or any(self.games) or any(self.points)

    def pricing_state(self) -> MatchState:
        """The score as the pricing chain's input: the state the next point is played from."""
        return MatchState(
            sets=(self.sets[0], self.sets[1]),
            games=(self.games[0], self.games[1]),
            points=(self.points[0], self.points[1]),
            server=self.server,
        )

    def key(self) -> tuple[tuple[int, int], tuple[int, int], tuple[int, int], int, bool]:
        """(sets, games, points, server, tiebreak) — comparable with a recorded state."""
        return (
            (self.sets[0], self.sets[1]),
            (self.games[0], self.games[1]),
            (self.points[0], self.points[1]),
            self.server,
            self.tiebreak,
        )

    def copy(self) -> Score:
        """An independent score in the same state (to play a point hypothetically)."""
        twin = Score(self.rules, self._game_server)
        twin.sets = self.sets.copy()
        twin.games = self.games.copy()
        twin.points = self.points.copy()
        twin.set_scores = self.set_scores.copy()
        twin.winner = self.winner
        twin.tiebreak = self.tiebreak
        twin._tb_target = self._tb_target
        return twin

    # ------------------------------------------------------------------------------ transitions

    def play_point(self, winner: int) -> None:
        """Score one point won by `winner` (1 or 2). The caller checks the match is not over."""
        w = winner - 1
        points = self.points
        points[w] += 1
        won = points[w]
        lost = points[1 - w]
        if self.tiebreak:
            if won >= self._tb_target and won - lost >= 2:
                self._win_game(w)
        elif won >= 4 and (self.rules.no_ad or won - lost >= 2):
            self._win_game(w)

    def _win_game(self, w: int) -> None:
        self.points[0] = self.points[1] = 0
        self._game_server = 3 - self._game_server
        games = self.games
        games[w] += 1
        if self.tiebreak or (games[w] >= 6 and games[w] - games[1 - w] >= 2):
            self._win_set(w)
            return
        tiebreak_at = _tiebreak_at(self.rules, self.sets)
        if tiebreak_at is not None and games[0] == games[1] == tiebreak_at:
            self.tiebreak = True
            self._tb_target = self.rules.tiebreak_target(
                self.rules.is_deciding_set(self.sets[0], self.sets[1])
            )

    def _win_set(self, w: int) -> None:
        self.set_scores.append((self.games[0], self.games[1]))
        self.games[0] = self.games[1] = 0
        self.tiebreak = False
        self.sets[w] += 1
        if self.sets[w] == self.rules.sets_to_win:
            self.winner = w + 1

    # ------------------------------------------------------------------------------ snapshots

    @classmethod
    def from_state(
        cls,
        rules: MatchRules,
        *,
        sets: tuple[int, int],
        games: tuple[int, int],
        points: tuple[int, int],
        server: int,
        set_scores: tuple[tuple[int, int], ...],
    ) -> Score:
        """Build a score from a snapshot, refusing any state the rules cannot produce."""
        _check_set_history(rules, sets, set_scores)
        score = cls(rules, server)
        score.sets = [sets[0], sets[1]]
        score.set_scores = list(set_scores)
        if max(sets) == rules.sets_to_win:
            if any(games) or any(points):
                raise IllegalScoreError("games: a finished match has no game in progress")
            score.winner = 1 if sets[0] > sets[1] else 2
            return score
        tiebreak_at = _tiebreak_at(rules, sets)
        _check_game_in_progress(games, tiebreak_at)
        tiebreak = tiebreak_at is not None and games[0] == games[1] == tiebreak_at
        target = rules.tiebreak_target(rules.is_deciding_set(sets[0], sets[1]))
        _check_points_in_progress(points, tiebreak, target, rules.no_ad)
        score.games = [games[0], games[1]]
        score.points = [points[0], points[1]]
        score.tiebreak = tiebreak
        score._tb_target = target
        if tiebreak:
            played = points[0] + points[1]
            first_serves_next = ((played + 1) >> 1) & 1 == 0
            score._game_server = server if first_serves_next else 3 - server
        return score


def _check_set_history(
    rules: MatchRules, sets: tuple[int, int], set_scores: tuple[tuple[int, int], ...]
) -> None:
    if max(sets) > rules.sets_to_win or min(sets) == rules.sets_to_win:
        raise IllegalScoreError(f"sets: {list(sets)} is impossible in a best of {rules.best_of}")
    if len(set_scores) != sets[0] + sets[1]:
        raise IllegalScoreError(
            f"set_scores: {len(set_scores)} completed sets listed for sets {list(sets)}"
        )
    won = [0, 0]
    for index, games in enumerate(set_scores):
        if max(won) == rules.sets_to_win:
            raise IllegalScoreError(f"set_scores[{index}]: played after the match was won")
        tiebreak_at = _tiebreak_at(rules, won)
        if games[0] == games[1] or not set_is_complete(games, tiebreak_at):
            raise IllegalScoreError(f"set_scores[{index}]: {list(games)} is not a finished set")
        won[0 if games[0] > games[1] else 1] += 1
    if (won[0], won[1]) != (sets[0], sets[1]):
        raise IllegalScoreError(f"sets: {list(sets)} disagrees with set_scores (won {won})")
