import json

import pytest
import structlog

from engine.cli import main
from engine.physics.calibration import match_start_state
from engine.physics.pricing import p_match
from engine.physics.rules import MatchRules


@pytest.fixture(autouse=True)
def _fresh_structlog():
    """The CLI binds structlog to the (captured) stderr of the test that ran it; start clean."""
    structlog.reset_defaults()
    yield
    structlog.reset_defaults()


BASE = ["physics", "calibrate", "--odds", "1.50", "2.80", "--tour", "ATP", "--surface", "Grass"]


def _run(capsys, argv):
    status = main(argv)
    captured = capsys.readouterr()
    return status, captured.out, captured.err


def test_calibrate_prints_one_json_object_with_the_contract_keys(capsys):
    status, out, _ = _run(capsys, [*BASE, "--best-of", "5", "--final-set", "adv"])
    assert status == 0
    assert len(out.strip().splitlines()) == 1
    payload = json.loads(out)
    assert {"p1_prematch", "pa", "pb", "devig"} <= set(payload)
    assert payload["devig"] == "power"
    assert payload["pa"] + payload["pb"] == pytest.approx(1.325, abs=1e-12)
    start = p_match(payload["pa"], payload["pb"], MatchRules(5, "adv"), match_start_state())
    assert start == pytest.approx(payload["p1_prematch"], abs=1e-9)


@pytest.mark.parametrize("method", ["power", "shin", "multiplicative"])
def test_calibrate_honours_the_devig_method(capsys, method):
    status, out, _ = _run(capsys, [*BASE, "--devig", method])
    assert status == 0
    assert json.loads(out)["devig"] == method


def test_multiplicative_gives_the_favourite_less_than_power(capsys):
    _, power, _ = _run(capsys, [*BASE, "--devig", "power"])
    _, mult, _ = _run(capsys, [*BASE, "--devig", "multiplicative"])
    assert json.loads(mult)["p1_prematch"] < json.loads(power)["p1_prematch"]


def test_calibrate_uses_a_given_sum(capsys):
    status, out, _ = _run(capsys, [*BASE, "--sum", "1.2"])
    payload = json.loads(out)
    assert status == 0
    assert payload["pa"] + payload["pb"] == pytest.approx(1.2, abs=1e-12)


@pytest.mark.parametrize(
    ("argv", "field"),
    [
        (["--odds", "1.0", "2.8", "--tour", "ATP", "--surface", "Hard"], "odds_p1"),
        (["--odds", "1.5", "0.5", "--tour", "ATP", "--surface", "Hard"], "odds_p2"),
        (["--odds", "1.5", "2.8", "--tour", "ATP", "--surface", "Carpet"], "surface"),
        (["--odds", "1.5", "2.8", "--tour", "ITF", "--surface", "Hard"], "tour"),
        (["--odds", "1.5", "2.8", "--tour", "WTA", "--surface", "Clay", "--sum", "2.1"], "sum"),
    ],
)
def test_bad_values_exit_2_with_a_one_line_message_naming_the_field(capsys, argv, field):
    status, out, err = _run(capsys, ["physics", "calibrate", *argv])
    assert status == 2
    assert out == ""
    assert len(err.strip().splitlines()) == 1
    assert field in err


@pytest.mark.parametrize(
    "argv",
    [
        ["--odds", "1.5", "--tour", "ATP", "--surface", "Hard"],
        ["--odds", "1.5", "2.8", "--tour", "ATP", "--surface", "Hard", "--best-of", "4"],
        ["--odds", "1.5", "2.8", "--tour", "ATP", "--surface", "Hard", "--devig", "fancy"],
        ["--odds", "x", "2.8", "--tour", "ATP", "--surface", "Hard"],
    ],
)
def test_malformed_options_exit_2(capsys, argv):
    status, _, err = _run(capsys, ["physics", "calibrate", *argv])
    assert status == 2
    assert len(err.strip().splitlines()) == 1
