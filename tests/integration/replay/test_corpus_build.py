"""The corpus build end to end: ticks accepted by the score state machine, the CLI, determinism."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from adapters.scores.tickfile import read_ticks
from engine.cli import main
from engine.score.machine import MatchScoreMachine
from engine.score.stats import TickOutcome
from replay.corpus.params import EventParams
from replay.corpus.timeline import build_ticks, build_timeline


def test_every_match_s_ticks_pass_the_score_state_machine(slam_data):
    # Arrange: every consistent match, with synthetic events injected
    rejected: list[tuple[str, object, str]] = []
    kinds: dict[str, int] = {}

    # Act
    for index, info in enumerate(slam_data.infos):
        points = slam_data.points[info.match_id]
        timeline = build_timeline(
            info, points, slam_data.model, EventParams(), np.random.default_rng(index)
        )
        for stop in timeline.stoppages:
            kinds[stop.kind] = kinds.get(stop.kind, 0) + 1
        machine = MatchScoreMachine(info.match_id)
        rejected.extend(
            (info.match_id, tick.seq, tick.type)
            for tick in build_ticks(info, points, timeline)
            if machine.apply(tick) != TickOutcome.APPLIED
        )
        if machine.status != "finished" or machine.winner != info.winner:
            rejected.append((info.match_id, "end", machine.status))

    # Assert: no tick rejected, every match ends with the official winner, events were injected
    assert rejected == []
    assert kinds.get("mto", 0) > 100
    assert kinds.get("rain", 0) > 50


def _tree_bytes(root: Path) -> dict[str, bytes]:
    return {
        str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()
    }


def test_cli_build_is_deterministic_and_complete(shared_data: Path, tmp_path: Path, capsys):
    # Arrange
    slams = str(shared_data / "slams")
    first, second = tmp_path / "a", tmp_path / "b"

    # Act: the same seed with a different worker count
    status_a = main(
        [
            "corpus",
            "build",
            "--slams",
            slams,
            "--out",
            str(first),
            "--matches",
            "3",
            "--seed",
            "7",
            "--workers",
            "2",
        ]
    )
    status_b = main(
        [
            "corpus",
            "build",
            "--slams",
            slams,
            "--out",
            str(second),
            "--matches",
            "3",
            "--seed",
            "7",
            "--workers",
            "1",
            "--no-progress",
        ]
    )

    # Assert
    assert status_a == status_b == 0
    assert "built 3 matches" in capsys.readouterr().out
    assert _tree_bytes(first) == _tree_bytes(second)
    index = [json.loads(line) for line in (first / "matches.jsonl").read_text().splitlines()]
    assert len(index) == 3
    for line in index:
        ticks = list(read_ticks(first / line["ticks"]))
        assert ticks[0].type == "match_start" and ticks[-1].type == "match_end"
        assert (first / line["stream"]).stat().st_size > 0
        static = json.loads((first / line["match"]).read_text())
        assert static["market_id"] == line["market_id"]
        assert len(static["selection_ids"]) == 2


def test_a_different_seed_gives_a_different_market(shared_data: Path, tmp_path: Path):
    slams = str(shared_data / "slams")
    assert (
        main(
            [
                "corpus",
                "build",
                "--slams",
                slams,
                "--out",
                str(tmp_path / "a"),
                "--matches",
                "1",
                "--seed",
                "1",
                "--no-progress",
            ]
        )
        == 0
    )
    assert (
        main(
            [
                "corpus",
                "build",
                "--slams",
                slams,
                "--out",
                str(tmp_path / "b"),
                "--matches",
                "1",
                "--seed",
                "2",
                "--no-progress",
            ]
        )
        == 0
    )
    assert _tree_bytes(tmp_path / "a") != _tree_bytes(tmp_path / "b")


def test_cli_refuses_bad_options(shared_data: Path, tmp_path: Path, capsys):
    slams = str(shared_data / "slams")
    assert (
        main(["corpus", "build", "--slams", slams, "--out", str(tmp_path), "--matches", "0"]) == 2
    )
    assert main(["corpus", "build", "--slams", str(tmp_path / "none"), "--out", str(tmp_path)]) == 2
    assert (
        main(
            [
                "corpus",
                "build",
                "--slams",
                slams,
                "--out",
                str(tmp_path),
                "--match-id",
                "no-such-match",
            ]
        )
        == 2
    )
    assert "no-such-match" in capsys.readouterr().err


SAMPLE_IDS = [
    "2013-wimbledon-1401",
    "2013-wimbledon-1402",
    "2013-wimbledon-2401",
    "2013-wimbledon-2402",
    "2013-wimbledon-2404",
]


def test_committed_sample_day_is_what_the_builder_makes(
    shared_data: Path, repo_root: Path, tmp_path: Path
):
    # Arrange: the command documented in data/README.md
    args = [
        "corpus",
        "build",
        "--slams",
        str(shared_data / "slams"),
        "--out",
        str(tmp_path),
        "--seed",
        "0",
        "--workers",
        "2",
        "--no-progress",
    ]
    for match_id in SAMPLE_IDS:
        args += ["--match-id", match_id]

    # Act
    status = main(args)

    # Assert
    assert status == 0
    assert _tree_bytes(tmp_path) == _tree_bytes(repo_root / "data" / "sample")


def test_duration_model_orders_the_breaks(slam_data):
    # The fitted medians follow the rules: point < game end < changeover (90 s) < set break (120 s)
    for tour in ("ATP", "WTA"):
        point, game, changeover, set_break = (
            slam_data.model.params(tour, kind)[0] for kind in ("point", "game", "changeover", "set")
        )
        assert 20 < point < game < changeover < set_break < 300


def test_cli_facts_prints_a_table(shared_data: Path, tmp_path: Path, capsys):
    real = shared_data / "betfair/historical/tennis_wimbledon2018_1.145329255.bz2"
    assert main(["corpus", "facts", str(real)]) == 0
    out = capsys.readouterr().out
    assert "| msgs_per_s | 2.225 |" in out
    assert main(["corpus", "facts", str(tmp_path / "missing.gz")]) == 2
