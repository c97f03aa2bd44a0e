"""An independent point-by-point simulator checks `price` from in-play states.

The simulator shares no code with the chain: it plays points with the rules written out directly
(serve alternates every game; in a tiebreak the serve changes after the first point and then every
two points; the player who received first in a tiebreak serves first in the next set). Seeded, so
the test is deterministic; tolerances are 4.5 standard errors.
"""

import math
import zlib

import numba
import numpy as np
import pytest

from engine.physics.pricing import price
from engine.physics.rules import MatchRules
from engine.physics.state import MatchState

N_SIMS = 150_000
FINAL_CODE = {"adv": 0, "tb7@6": 1, "tb7@12": 2, "tb10@6": 3}


@numba.njit(cache=True)
def simulate(pa, pb, best_of, final_code, no_ad, start, n, seed):
    """Rows: [p1 won match, p1 won current game, p1 won current set, games diff, sets1, sets2]."""
    np.random.seed(seed)
    need = best_of // 2 + 1
    out = np.zeros((n, 6))
    for k in range(n):
        sets = [start[0], start[1]]
        games = [start[2], start[3]]
        pts = [start[4], start[5]]
        server = start[6]
        diff = start[2] - start[3]
        game_result = -1
        set_result = -1
        tb_first = -1
        while True:
            deciding = sets[0] == need - 1 and sets[1] == need - 1
            tb_at = 6
            target = 7
            if deciding:
                if final_code == 0:
                    tb_at = -1
                elif final_code == 2:
                    tb_at = 12
                elif final_code == 3:
                    target = 10
            in_tb = games[0] == tb_at and games[1] == tb_at
            if in_tb and tb_first < 0:
                changes = (pts[0] + pts[1] + 1) // 2
                tb_first = server if changes % 2 == 0 else 3 - server
            p1_point = pa if server == 1 else 1.0 - pb
            w = 0 if np.random.random() < p1_point else 1
            pts[w] += 1
            if in_tb:
                over = pts[w] >= target and pts[w] - pts[1 - w] >= 2
                if not over and (pts[0] + pts[1]) % 2 == 1:
                    server = 3 - server
            elif no_ad == 1:
                over = pts[w] >= 4
            else:
                over = pts[w] >= 4 and pts[w] - pts[1 - w] >= 2
            if not over:
                continue
            pts[0] = 0
            pts[1] = 0
            games[w] += 1
            diff += 1 if w == 0 else -1
            if game_result < 0:
                game_result = 1 if w == 0 else 0
            if in_tb:
                server = 3 - tb_first
                tb_first = -1
                set_over = True
            else:
                server = 3 - server
                set_over = games[w] >= 6 and games[w] - games[1 - w] >= 2
            if not set_over:
                continue
            sets[w] += 1
            games[0] = 0
            games[1] = 0
            if set_result < 0:
                set_result = 1 if w == 0 else 0
            if sets[w] == need:
                break
        out[k, 0] = 1.0 if sets[0] == need else 0.0
        out[k, 1] = game_result
        out[k, 2] = set_result
        out[k, 3] = diff
        out[k, 4] = sets[0]
        out[k, 5] = sets[1]
    return out


CASES = [
    # (pa, pb, rules, sets, games, points, server) — starts, deuce, advantage, tiebreaks, deciders
    (0.65, 0.62, MatchRules(3, "tb7@6"), (0, 0), (0, 0), (0, 0), 1),
    (0.65, 0.62, MatchRules(3, "tb7@6"), (1, 0), (4, 5), (2, 3), 1),
    (0.65, 0.62, MatchRules(3, "tb7@6"), (0, 1), (6, 6), (5, 6), 2),
    (0.65, 0.62, MatchRules(3, "tb7@6"), (1, 1), (6, 6), (3, 3), 1),
    (0.70, 0.60, MatchRules(3, "tb7@6"), (1, 1), (5, 6), (4, 3), 2),
    (0.60, 0.66, MatchRules(3, "tb7@6"), (0, 0), (3, 3), (3, 3), 2),
    (0.65, 0.62, MatchRules(5, "adv"), (2, 2), (15, 14), (5, 4), 2),
    (0.65, 0.62, MatchRules(5, "adv"), (2, 2), (5, 5), (0, 0), 1),
    (0.62, 0.64, MatchRules(5, "adv"), (2, 1), (3, 4), (3, 3), 1),
    (0.65, 0.62, MatchRules(5, "adv"), (0, 0), (0, 0), (0, 0), 2),
    (0.65, 0.62, MatchRules(5, "tb7@12"), (2, 2), (11, 12), (1, 3), 1),
    (0.65, 0.62, MatchRules(5, "tb7@12"), (2, 2), (12, 12), (6, 5), 2),
    (0.66, 0.63, MatchRules(5, "tb7@12"), (2, 2), (6, 6), (0, 0), 1),
    (0.65, 0.62, MatchRules(5, "tb10@6"), (2, 2), (6, 6), (8, 9), 1),
    (0.65, 0.62, MatchRules(5, "tb10@6"), (2, 2), (6, 6), (0, 0), 2),
    (0.65, 0.62, MatchRules(5, "tb10@6"), (1, 2), (6, 6), (9, 9), 1),
    (0.65, 0.62, MatchRules(5, "tb7@6"), (1, 2), (6, 6), (9, 8), 2),
    (0.55, 0.72, MatchRules(5, "tb7@6"), (0, 1), (2, 1), (1, 0), 2),
    (0.65, 0.62, MatchRules(3, "tb7@6", no_ad=True), (0, 0), (2, 2), (3, 3), 1),
    (0.65, 0.62, MatchRules(3, "tb10@6", no_ad=True), (1, 1), (6, 6), (2, 2), 2),
    (0.58, 0.61, MatchRules(5, "adv", no_ad=True), (1, 0), (4, 4), (3, 2), 2),
]


def _within(estimate_samples, expected, *, label):
    mean = float(np.mean(estimate_samples))
    se = float(np.std(estimate_samples)) / math.sqrt(len(estimate_samples))
    tolerance = 4.5 * max(se, 1e-3 / math.sqrt(len(estimate_samples)))
    assert abs(mean - expected) <= tolerance, f"{label}: simulated {mean} vs chain {expected}"


@pytest.mark.parametrize("case", CASES, ids=lambda c: f"{c[2].best_of}-{c[2].final_set}-{c[3:]}")
def test_chain_agrees_with_simulation(case):
    pa, pb, rules, sets, games, points, server = case
    state = MatchState(sets=sets, games=games, points=points, server=server)
    start = np.array(state.as_row(), dtype=np.int64)
    seed = zlib.crc32(repr(case).encode())  # stable across processes, unlike hash()

    sims = simulate(
        pa, pb, rules.best_of, FINAL_CODE[rules.final_set], int(rules.no_ad), start, N_SIMS, seed
    )
    result = price(pa, pb, rules, state)

    _within(sims[:, 0], result.p_match, label="p_match")
    _within(sims[:, 1], result.p_game, label="p_game")
    _within(sims[:, 2], result.p_set, label="p_set")
    _within(sims[:, 3], result.expected_games_diff, label="expected_games_diff")
    for key, probability in result.set_score_pmf.items():
        a, b = (int(x) for x in key.split("-"))
        hits = (sims[:, 4] == a) & (sims[:, 5] == b)
        _within(hits.astype(float), probability, label=f"set score {key}")
