"""Player-disjoint splits: no player in two splits, deterministic, drops counted."""

import random

import pytest

from training.splits import MatchPlayers, player_key, split_by_player


def _draw(n_players=64, rounds=3, seed=1):
    """Several knock-out draws over the same players: a connected player graph."""
    rng = random.Random(seed)
    players = [f"Player {i}" for i in range(n_players)]
    matches = []
    for r in range(rounds):
        alive = players[:]
        rng.shuffle(alive)
        stage = 0
        while len(alive) > 1:
            nxt = []
            for a, b in zip(alive[::2], alive[1::2], strict=True):
                matches.append(MatchPlayers(f"t{r}-s{stage}-{a}-{b}", a, b))
                nxt.append(a if rng.random() < 0.5 else b)
            alive = nxt
            stage += 1
    return matches


def _players_by_split(matches, assignment):
    out: dict[str, set[int]] = {}
    for m in matches:
        if m.match_id in assignment:
            for p in (m.p1, m.p2):
                out.setdefault(player_key(p), set()).add(assignment[m.match_id])
    return out


def test_no_player_is_in_two_splits():
    matches = _draw()
    result = split_by_player(matches)
    per_player = _players_by_split(matches, result.assignment)
    assert all(len(splits) == 1 for splits in per_player.values())


def test_every_match_is_kept_or_reported_dropped():
    matches = _draw()
    result = split_by_player(matches)
    assert len(result.assignment) + len(result.dropped) == len(matches)
    assert set(result.assignment).isdisjoint(result.dropped)
    counts = result.counts()
    assert counts[0] > counts[1] > 0 and counts[2] > 0


def test_split_is_deterministic_and_independent_of_input_order():
    matches = _draw()
    shuffled = matches[:]
    random.Random(7).shuffle(shuffled)
    assert split_by_player(matches).assignment == split_by_player(shuffled).assignment
    assert split_by_player(matches, seed=1).assignment != split_by_player(matches).assignment


def test_names_compare_case_and_space_insensitively():
    matches = [
        MatchPlayers("m1", "Roger Federer", "A"),
        MatchPlayers("m2", "roger  federer", "B"),
    ]
    result = split_by_player(matches, shares=(1.0, 1.0, 1.0))
    per_player = _players_by_split(matches, result.assignment)
    assert len(per_player["roger federer"]) == 1


def test_bad_shares_and_duplicate_ids_are_refused():
    with pytest.raises(ValueError, match="shares"):
        split_by_player([], shares=(1.0, -1.0, 0.0))
    twice = [MatchPlayers("m", "a", "b"), MatchPlayers("m", "c", "d")]
    with pytest.raises(ValueError, match="duplicate"):
        split_by_player(twice)
