import subprocess
import sys

from engine.cli import COMMANDS, main


def test_unknown_option_exits_2_with_one_line(capsys):
    status = main(["--no-such-option"])
    err = capsys.readouterr().err
    assert status == 2
    assert len(err.strip().splitlines()) == 1
    assert "no-such-option" in err


def test_unknown_command_exits_2(capsys):
    status = main(["frobnicate"])
    assert status == 2
    assert "frobnicate" in capsys.readouterr().err


def test_no_command_prints_help_and_exits_2(capsys):
    status = main([])
    assert status == 2
    err = capsys.readouterr().err
    for name in COMMANDS:
        assert name in err


def test_python_dash_m_engine_runs_the_same_cli():
    result = subprocess.run(
        [sys.executable, "-m", "engine", "--version"], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0
    assert result.stdout.startswith("courtside ")


def test_top_level_option_value_is_not_taken_for_the_command(capsys):
    status = main(["--log-level", "WARNING", "physics", "price", "--pa", "0.65", "--pb", "0.62"])
    assert status == 0
    assert '"p_match"' in capsys.readouterr().out
