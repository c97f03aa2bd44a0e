"""`courtside replay` / `courtside report` argument handling (one-line errors, exit status 2)."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest

from engine.cli import main
from replay.cli import ProgressBar


def test_replay_refuses_zero_workers(repo_root: Path, capsys: pytest.CaptureFixture[str]) -> None:
    status = main(["replay", str(repo_root / "data" / "sample"), "--workers", "0"])

    assert status == 2
    assert "workers: must be at least 1" in capsys.readouterr().err


def test_replay_refuses_a_missing_path(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    status = main(["replay", str(tmp_path / "nothing"), "--out", str(tmp_path / "out")])

    assert status == 2
    assert "does not exist" in capsys.readouterr().err


def test_report_refuses_a_folder_without_a_run(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    status = main(["report", str(tmp_path)])

    assert status == 2
    assert "has no run.json" in capsys.readouterr().err


def test_replay_of_a_stream_file_without_scores_follows_the_market(
    shared_data: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # the real Wimbledon 2018 market has no score feed: followed, never priced, nothing traded
    stream = shared_data / "betfair" / "historical" / "tennis_wimbledon2018_1.145329255.bz2"

    status = main(["replay", str(stream), "--out", str(tmp_path), "--no-html"])

    assert status == 0
    assert '"points_priced": 0' in capsys.readouterr().out
    result = json.loads((tmp_path / "tasks" / stream.name / "result.json").read_text())
    assert result["engine"]["markets_followed"] == 1
    assert result["engine"]["matches_linked"] == 0  # no score-feed match to link: never judged
    assert result["events"] == result["sources"][0]["events"] > 15_000


def test_progress_bar_draws_tasks_events_and_rate() -> None:
    stream = io.StringIO()
    bar = ProgressBar(tasks=2, stream=stream, force=True)

    bar(1500, 0)
    bar(500, 2)
    bar.close()

    last = stream.getvalue().rstrip("\n").split("\r")[-1]
    assert last.startswith("[########################] 2/2 tasks 2,000 events")
    assert last.endswith("ev/s")


def test_progress_bar_is_silent_off_a_tty() -> None:
    stream = io.StringIO()
    bar = ProgressBar(tasks=1, stream=stream)

    bar(10, 1)
    bar.close()

    assert stream.getvalue() == ""
