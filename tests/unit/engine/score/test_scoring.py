"""Tennis scoring rules: games, sets, every final-set rule, no-ad, tiebreak serve rotation and
the legality checks used for snapshots."""

from __future__ import annotations

import pytest

from engine.physics.rules import MatchRules
from engine.score.scoring import IllegalScoreError, Score, set_is_complete


def _hold(score: Score, games: int = 1) -> None:
    """The current server wins `games` games to love."""
    for _ in range(games):
        server = score.server
        for _point in range(4):
            score.play_point(server)


def _win_set_6_0(score: Score, player: int) -> None:
    for _ in range(6):
        for _point in range(4):
            score.play_point(player)


def test_advantage_game_needs_a_two_point_lead_and_counts_raw_points() -> None:
    # Arrange
    score = Score(MatchRules(), first_server=1)
    for winner in (1, 1, 1, 2, 2, 2, 1, 2, 1, 2):  # 40-40, AD, deuce, AD, deuce…
        score.play_point(winner)

    # Act
    before = score.points.copy()
    score.play_point(2)
    score.play_point(2)

    # Assert
    assert before == [5, 5]
    assert score.games == [0, 1]
    assert score.points == [0, 0]
    assert score.server == 2


def test_no_ad_game_ends_on_the_deciding_point() -> None:
    # Arrange
    score = Score(MatchRules(no_ad=True), first_server=1)
    for winner in (1, 1, 1, 2, 2, 2):
        score.play_point(winner)

    # Act
    score.play_point(2)

    # Assert
    assert score.games == [0, 1]


def test_tiebreak_rotation_and_next_set_server() -> None:
    """A serves game 13 → A serves tiebreak point 1, B points 2-3, A 4-5, B 6-7; B, who received
    first in the tiebreak, serves the first game of the next set."""
    # Arrange
    score = Score(MatchRules(best_of=3), first_server=1)
    _hold(score, 12)
    assert score.tiebreak and score.games == [6, 6]
    servers = []

    # Act
    for _ in range(7):
        servers.append(score.server)
        score.play_point(1)

    # Assert
    assert servers == [1, 2, 2, 1, 1, 2, 2]
    assert score.set_scores == [(7, 6)]
    assert score.sets == [1, 0]
    assert score.server == 2
    assert not score.tiebreak


def test_long_tiebreak_needs_a_two_point_lead() -> None:
    # Arrange
    score = Score(MatchRules(best_of=3), first_server=2)
    _hold(score, 12)
    for winner in (1, 2) * 8:  # 8-8
        score.play_point(winner)

    # Act
    score.play_point(2)
    still_playing = score.tiebreak
    score.play_point(2)

    # Assert
    assert still_playing
    assert score.set_scores == [(6, 7)]


@pytest.mark.parametrize(
    ("final_set", "tiebreak_games", "target"),
    [("tb7@6", 6, 7), ("tb10@6", 6, 10), ("tb7@12", 12, 7)],
)
def test_deciding_set_tiebreak_rules(final_set: str, tiebreak_games: int, target: int) -> None:
    # Arrange: one set each, then holds to the deciding-set tiebreak
    score = Score(MatchRules(best_of=3, final_set=final_set), first_server=1)  # type: ignore[arg-type]
    _win_set_6_0(score, 1)
    _win_set_6_0(score, 2)
    _hold(score, 2 * tiebreak_games)
    assert score.tiebreak and score.tiebreak_target == target

    # Act: player 2 wins target - 1 points, then the last
    for _ in range(target - 1):
        score.play_point(2)
    before_last = score.winner
    score.play_point(2)

    # Assert
    assert before_last is None
    assert score.winner == 2
    assert score.set_scores[-1] == (tiebreak_games, tiebreak_games + 1)


def test_advantage_final_set_has_no_tiebreak() -> None:
    # Arrange
    score = Score(MatchRules(best_of=5, final_set="adv"), first_server=1)
    for player in (1, 2, 1, 2):
        _win_set_6_0(score, player)

    # Act
    _hold(score, 30)  # 15-15 in the fifth

    # Assert
    assert score.games == [15, 15]
    assert not score.tiebreak
    assert score.winner is None


def test_non_deciding_sets_of_an_advantage_match_still_have_tiebreaks() -> None:
    # Arrange
    score = Score(MatchRules(best_of=5, final_set="adv"), first_server=1)

    # Act
    _hold(score, 12)

    # Assert
    assert score.tiebreak


@pytest.mark.parametrize(
    ("games", "tiebreak_at", "complete"),
    [
        ((6, 4), 6, True),
        ((6, 5), 6, False),
        ((7, 5), 6, True),
        ((7, 6), 6, True),
        ((8, 6), 6, False),
        ((9, 7), None, True),
        ((9, 2), None, False),
        ((13, 12), 12, True),
        ((12, 10), 12, True),
        ((7, 6), 12, False),
    ],
)
def test_set_is_complete(games: tuple[int, int], tiebreak_at: int | None, complete: bool) -> None:
    assert set_is_complete(games, tiebreak_at) is complete


def test_from_state_restores_the_tiebreak_rotation() -> None:
    # Arrange: 6-6, 3 points played and player 2 to serve point 4: so player 2 served point 1
    # (points 2-3 were player 1's) and also serves point 5; points 6-7 are player 1's
    score = Score.from_state(
        MatchRules(), sets=(0, 0), games=(6, 6), points=(2, 1), server=2, set_scores=()
    )

    # Act
    servers = []
    for _ in range(4):
        servers.append(score.server)
        score.play_point(1)

    # Assert
    assert servers == [2, 2, 1, 1]


@pytest.mark.parametrize(
    ("state", "message"),
    [
        (dict(sets=(2, 0), games=(0, 0), points=(0, 0), set_scores=((6, 0),)), "set_scores:"),
        (dict(sets=(1, 0), games=(0, 0), points=(0, 0), set_scores=((6, 5),)), "set_scores[0]"),
        (dict(sets=(1, 0), games=(0, 0), points=(0, 0), set_scores=((4, 6),)), "sets:"),
        (dict(sets=(0, 0), games=(6, 3), points=(0, 0), set_scores=()), "games:"),
        (dict(sets=(0, 0), games=(7, 6), points=(0, 0), set_scores=()), "games:"),
        (dict(sets=(0, 0), games=(1, 1), points=(5, 3), set_scores=()), "points:"),
        (dict(sets=(0, 0), games=(6, 6), points=(7, 5), set_scores=()), "points:"),
        (dict(sets=(3, 0), games=(0, 0), points=(0, 0), set_scores=()), "sets:"),
        (
            dict(sets=(2, 0), games=(1, 0), points=(0, 0), set_scores=((6, 0), (6, 0))),
            "games: a finished match",
        ),
    ],
)
def test_from_state_refuses_impossible_scores(state: dict[str, object], message: str) -> None:
    with pytest.raises(IllegalScoreError) as info:
        Score.from_state(MatchRules(best_of=3), server=1, **state)  # type: ignore[arg-type]
    assert str(info.value).startswith(message)


def test_from_state_accepts_a_finished_match_and_sets_the_winner() -> None:
    # Act
    score = Score.from_state(
        MatchRules(best_of=3),
        sets=(1, 2),
        games=(0, 0),
        points=(0, 0),
        server=1,
        set_scores=((6, 4), (3, 6), (6, 7)),
    )

    # Assert
    assert score.winner == 2


def test_no_ad_state_past_the_deciding_point_is_illegal() -> None:
    with pytest.raises(IllegalScoreError, match="points"):
        Score.from_state(
            MatchRules(no_ad=True),
            sets=(0, 0),
            games=(0, 0),
            points=(4, 3),
            server=1,
            set_scores=(),
        )
