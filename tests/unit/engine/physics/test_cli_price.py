"""`courtside physics price`: the JSON contract and exit status 2 on bad input."""

import subprocess
import sys

import orjson
import pytest

from engine.cli import main
from engine.physics.pricing import price
from engine.physics.rules import MatchRules
from engine.physics.state import MatchState

KEYS = {
    "p_match",
    "p_set",
    "p_game",
    "if_point_won",
    "if_point_lost",
    "expected_games_diff",
    "set_score_pmf",
}
CONTRACT = [
    "physics",
    "price",
    "--pa",
    "0.65",
    "--pb",
    "0.62",
    "--best-of",
    "3",
    "--final-set",
    "tb7@6",
    "--score",
    "1-0 4-5 30-40",
    "--server",
    "1",
]


def test_price_prints_one_json_object_with_the_contract_keys(capsys):
    status = main(CONTRACT)

    out = capsys.readouterr().out
    assert status == 0
    assert len(out.strip().splitlines()) == 1
    payload = orjson.loads(out)
    assert set(payload) == KEYS
    expected = price(0.65, 0.62, MatchRules(3, "tb7@6"), MatchState((1, 0), (4, 5), (2, 3), 1))
    assert payload["p_match"] == expected.p_match
    assert payload["set_score_pmf"] == expected.set_score_pmf
    assert set(payload["set_score_pmf"]) == {"2-0", "2-1", "1-2", "0-2"}


def test_price_no_ad_and_defaults(capsys):
    status = main(["physics", "price", "--pa", "0.6", "--pb", "0.6", "--no-ad"])

    payload = orjson.loads(capsys.readouterr().out)
    assert status == 0
    assert payload["p_match"] == pytest.approx(0.5, abs=1e-12)


@pytest.mark.parametrize(
    ("extra", "field"),
    [
        (["--pa", "1.2", "--pb", "0.6"], "pa"),
        (["--pa", "0.6", "--pb", "0"], "pb"),
        (["--pa", "abc", "--pb", "0.6"], "--pa"),
        (["--pa", "0.6", "--pb", "0.6", "--score", "1-0 7-5"], "games"),
        (["--pa", "0.6", "--pb", "0.6", "--score", "0-0 1-1 50-0"], "points"),
        (["--pa", "0.6", "--pb", "0.6", "--score", "3-0", "--best-of", "5"], "sets"),
        (["--pa", "0.6", "--pb", "0.6", "--server", "3"], "server"),
        (["--pa", "0.6", "--pb", "0.6", "--best-of", "4"], "--best-of"),
        (["--pa", "0.6", "--pb", "0.6", "--final-set", "tb9@6"], "--final-set"),
    ],
)
def test_bad_values_exit_2_with_one_line_naming_the_field(capsys, extra, field):
    status = main(["physics", "price", *extra])

    captured = capsys.readouterr()
    assert status == 2
    assert captured.out == ""
    assert len(captured.err.strip().splitlines()) == 1
    assert field in captured.err


def test_console_script_contract_in_a_fresh_process():
    result = subprocess.run(
        [sys.executable, "-m", "engine", *CONTRACT], capture_output=True, text=True, check=False
    )

    assert result.returncode == 0, result.stderr
    assert set(orjson.loads(result.stdout)) == KEYS


def test_physics_lists_its_sub_commands(capsys):
    status = main(["physics", "--help"])

    out = capsys.readouterr().out
    assert status == 0
    for name in ("price", "calibrate", "eval"):
        assert name in out
