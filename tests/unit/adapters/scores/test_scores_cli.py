"""`courtside scores check|show|serve` through the real CLI dispatcher."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
from pathlib import Path

import pytest
import structlog
from aiohttp import ClientSession

from adapters.scores.tickfile import read_ticks, write_ticks
from engine.cli import main
from engine.physics.rules import MatchRules
from engine.score.synthetic import simulate_match_ticks
from engine.score.ticks import ScoreTick, encode_tick, parse_tick

TICKS = list(simulate_match_ticks("m1", MatchRules(best_of=3), seed=5))


@pytest.fixture(autouse=True)
def _restore_logging():
    """main() points structlog at pytest's captured stderr; undo that after each test."""
    yield
    structlog.reset_defaults()


def test_check_reports_a_clean_file_and_exits_0(tmp_path: Path, capsys) -> None:
    # Arrange
    path = tmp_path / "ok.jsonl.gz"
    write_ticks(path, TICKS)

    # Act
    status = main(["scores", "check", str(path)])

    # Assert
    summary = json.loads(capsys.readouterr().out)
    assert status == 0
    assert summary["ok"] is True
    assert summary["ticks"] == len(TICKS)
    assert summary["outcomes"] == {
        "applied": {"match_start": 1, "point": len(TICKS) - 2, "match_end": 1}
    }
    match = summary["matches"]["m1"]
    assert match["status"] == "finished" and match["trusted"] is True
    assert match["winner"] == TICKS[-1].winner  # type: ignore[union-attr]


def test_check_exits_1_and_explains_a_gap_and_a_bad_line(tmp_path: Path, capsys) -> None:
    # Arrange: line 2 is garbage, the tick with seq 10 is missing
    lines = [encode_tick(t) for t in TICKS[:30] if t.seq != 10]
    lines.insert(1, b'{"v": 1, "type": "point"')
    path = tmp_path / "bad.jsonl"
    path.write_bytes(b"\n".join(lines) + b"\n")

    # Act
    status = main(["scores", "check", str(path)])

    # Assert
    summary = json.loads(capsys.readouterr().out)
    assert status == 1
    assert summary["malformed"] == {"tick": 1}
    assert summary["outcomes"]["gap"] == {"gap": 1}
    assert summary["matches"]["m1"]["trusted"] is False
    assert summary["matches"]["m1"]["untrusted_reason"].startswith("seq 11 point: gap")


def test_check_missing_file_is_a_usage_error(tmp_path: Path, capsys) -> None:
    status = main(["scores", "check", str(tmp_path / "nope.jsonl")])
    assert status == 2
    assert "not found" in capsys.readouterr().err


def test_show_prints_the_score_after_each_tick(tmp_path: Path, capsys) -> None:
    # Arrange
    path = tmp_path / "m.jsonl"
    write_ticks(path, TICKS[:6])

    # Act
    status = main(["scores", "show", str(path)])

    # Assert
    rows = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert status == 0
    assert [r["seq"] for r in rows] == [1, 2, 3, 4, 5, 6]
    assert rows[0]["score"] == "0-0 0-0" and rows[0]["type"] == "match_start"
    assert all(r["outcome"] == "applied" for r in rows)
    assert rows[-1]["score"].count(" ") >= 1


@pytest.mark.parametrize(
    ("games", "points", "text"), [((0, 0), (3, 3), "0-0 40-40"), ((0, 0), (5, 4), "0-0 AD-40")]
)
def test_format_score_words(games, points, text) -> None:
    from adapters.scores.cli import format_score
    from engine.score.machine import MatchScoreMachine
    from engine.score.ticks import Snapshot, SnapshotScore

    machine = MatchScoreMachine("x")
    machine.apply(
        Snapshot(
            "x",
            1,
            1.0,
            MatchRules(),
            ("A", "B"),
            SnapshotScore((0, 0), games, points, 1, ()),
            "in_play",
            None,
        )
    )
    assert format_score(machine) == text


async def test_serve_publishes_a_file_to_a_subscriber(tmp_path: Path, repo_root: Path) -> None:
    # Arrange
    path = tmp_path / "m.jsonl"
    write_ticks(path, TICKS)
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "engine",
        "scores",
        "serve",
        str(path),
        "--linger",
        "30",
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        cwd=repo_root,
    )
    assert proc.stdout is not None
    received: list[ScoreTick] = []
    try:
        first = json.loads(await asyncio.wait_for(proc.stdout.readline(), 30))
        # Act
        async with ClientSession() as session, session.ws_connect(first["url"]) as ws:
            await ws.send_str('{"op": "subscribe", "matches": ["m1"], "from_seq": {"m1": 3}}')
            while len(received) < len(TICKS) - 3:
                msg = await asyncio.wait_for(ws.receive_str(), 30)
                body = json.loads(msg)
                if "v" in body:
                    received.append(parse_tick(body))
    finally:
        proc.terminate()
        await proc.wait()

    # Assert
    assert received == list(read_ticks(path))[3:]


def test_listen_follows_a_served_file_to_the_end(tmp_path: Path, repo_root: Path, capsys) -> None:
    # Arrange: `scores serve` in a child process, `scores listen` in this one
    path = tmp_path / "m.jsonl"
    write_ticks(path, TICKS)
    proc = subprocess.Popen(
        [sys.executable, "-m", "engine", "scores", "serve", str(path), "--linger", "60"],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        cwd=repo_root,
        text=True,
    )
    try:
        assert proc.stdout is not None
        url = json.loads(proc.stdout.readline())["url"]

        # Act
        status = main(["scores", "listen", url, "--matches", "m1", "--count", str(len(TICKS))])
    finally:
        proc.terminate()
        proc.wait(timeout=30)

    # Assert
    rows = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert status == 0
    assert [r["seq"] for r in rows] == [t.seq for t in TICKS]
    assert {r["outcome"] for r in rows} == {"applied"}
    assert rows[-1]["phase"] == "finished"


def test_listen_refuses_a_non_websocket_url(capsys) -> None:
    status = main(["scores", "listen", "http://127.0.0.1:1/scores"])
    assert status == 2
    assert "url: must start with ws://" in capsys.readouterr().err
