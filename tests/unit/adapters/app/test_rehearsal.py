"""The daemon's rehearsal wiring (adapters.app.rehearsal): the script read from a recorded match
folder, the loop timer, and the configuration keys."""

from __future__ import annotations

import asyncio
import shutil
from pathlib import Path

import pytest

from adapters.app.rehearsal import RehearsalTimer, load_rehearsal_script, rehearsal_summary
from adapters.app.settings import parse_settings
from adapters.scores.tickfile import read_ticks
from engine.core.rehearsal import Rehearsal
from engine.metrics import EngineMetrics, Stage
from engine.score.ticks import MatchStart, Point

MATCH = "2013-wimbledon-1401"


def test_the_script_is_every_tick_with_a_trimmed_book_before_each_point(repo_root):
    folder = repo_root / "data" / "sample" / MATCH

    script = load_rehearsal_script(folder)

    ticks = list(read_ticks(folder / "ticks.jsonl"))
    assert [s.tick for s in script.steps] == ticks
    assert script.match_id == MATCH and script.points == sum(isinstance(t, Point) for t in ticks)
    for step in script.steps:
        if not isinstance(step.tick, (Point, MatchStart)):
            assert step.book is None
            continue
        assert step.book is not None and step.book_pt <= step.tick.ts * 1000.0
        (image,) = step.book
        assert image["img"] is True and image["id"] == "1.932405193"
        assert "marketDefinition" in image
        for runner in image["rc"]:
            assert "trd" not in runner
            backs, lays = runner.get("atb", []), runner.get("atl", [])
            assert len(backs) <= 10 and len(lays) <= 10
            assert backs == sorted(backs, key=lambda level: -level[0])  # best first
            assert lays == sorted(lays, key=lambda level: level[0])
    points = [s for s in script.steps if isinstance(s.tick, Point)]
    assert all(s.book is not None for s in points[1:])  # the market is recorded before play


def test_a_missing_match_folder_names_the_key(tmp_path):
    with pytest.raises(FileNotFoundError, match=r"daemon\.rehearse_match"):
        load_rehearsal_script(tmp_path / "nowhere")


def test_a_folder_without_points_is_refused_with_the_key(repo_root, tmp_path):
    source = repo_root / "data" / "sample" / MATCH
    shutil.copytree(source, tmp_path / MATCH)
    ticks = (tmp_path / MATCH / "ticks.jsonl").read_text().splitlines()
    (tmp_path / MATCH / "ticks.jsonl").write_text(ticks[0] + "\n")  # the match start only

    with pytest.raises(ValueError, match=r"daemon\.rehearse_match: .*at least one point"):
        load_rehearsal_script(tmp_path / MATCH)


class _CountingRehearsal:
    def __init__(self, fail_after: int) -> None:
        self.points = 0
        self.fail_after = fail_after

    def play(self) -> bool:
        if self.points >= self.fail_after:
            return False
        self.points += 1
        return True


def test_the_timer_plays_until_stopped():
    rehearsal = _CountingRehearsal(fail_after=10**9)
    timer = RehearsalTimer(rehearsal, 0.001)  # type: ignore[arg-type]

    async def run() -> int:
        timer.start()
        await asyncio.sleep(0.05)
        timer.stop()
        played = rehearsal.points
        await asyncio.sleep(0.02)
        assert rehearsal.points == played  # nothing after stop
        return played

    assert asyncio.run(run()) >= 5
    assert not timer.running


def test_the_timer_stops_by_itself_once_rehearsing_has_stopped():
    rehearsal = _CountingRehearsal(fail_after=3)
    timer = RehearsalTimer(rehearsal, 0.001)  # type: ignore[arg-type]

    async def run() -> None:
        timer.start()
        await asyncio.sleep(0.05)

    asyncio.run(run())

    assert rehearsal.points == 3 and not timer.running


def test_the_timer_plays_nothing_while_no_match_is_in_play():
    rehearsal = _CountingRehearsal(fail_after=10**9)
    in_play = [False]
    timer = RehearsalTimer(rehearsal, 0.001, lambda: in_play[0], idle_s=0.005)  # type: ignore[arg-type]

    async def run() -> tuple[int, int]:
        timer.start()
        await asyncio.sleep(0.05)
        idle = rehearsal.points
        in_play[0] = True  # a match starts
        await asyncio.sleep(0.05)
        timer.stop()
        return idle, rehearsal.points

    idle, playing = asyncio.run(run())

    assert idle == 0 and timer.idle_waits >= 3
    assert playing >= 5


def test_the_summary_reports_what_was_played(repo_root):
    metrics = EngineMetrics()
    rehearsal = Rehearsal(
        lambda clock, sink: (_ for _ in ()).throw(RuntimeError("x")),
        load_rehearsal_script(repo_root / "data" / "sample" / MATCH),
        metrics.stage_timer(Stage.REHEARSAL),
        metrics.rehearsals.labels("played"),
        metrics.rehearsals.labels("failed"),
    )
    rehearsal.play()

    assert rehearsal_summary(None) == {"every_ms": 0.0}
    assert rehearsal_summary(RehearsalTimer(rehearsal, 0.002)) == {
        "every_ms": 2.0,
        "points": 0,
        "passes": 0,
        "intents_discarded": 0,
        "idle_waits": 0,
        "broken": True,
    }


@pytest.mark.parametrize(
    ("daemon", "reason"),
    [
        ({"rehearse_every_ms": -1.0}, r"rehearse_every_ms: must be 0 \(off\) or a positive"),
        ({"rehearse_every_ms": float("nan")}, "rehearse_every_ms"),
        ({"rehearse_match": ""}, "rehearse_match: a recorded match folder is needed"),
    ],
)
def test_inconsistent_rehearsal_keys_are_refused_at_start(daemon, reason):
    with pytest.raises(ValueError, match=reason):
        parse_settings({"daemon": daemon})


def test_rehearsing_can_be_switched_off_without_a_match():
    settings = parse_settings({"daemon": {"rehearse_every_ms": 0.0, "rehearse_match": ""}})

    assert settings.daemon.rehearse_every_ms == 0.0


def test_the_default_match_ships_with_the_repository(repo_root):
    default = parse_settings({}).daemon.rehearse_match

    assert Path(repo_root / default / "match.json").is_file()
