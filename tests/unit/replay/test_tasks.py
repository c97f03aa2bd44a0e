"""From command-line paths to replay tasks."""

from __future__ import annotations

from pathlib import Path

import pytest

from replay.tasks import discover_tasks


def test_a_corpus_day_gives_one_task_per_listed_match(repo_root: Path) -> None:
    tasks = discover_tasks([repo_root / "data" / "sample"])

    assert [t.task_id for t in tasks] == [
        "2013-wimbledon-1401",
        "2013-wimbledon-1402",
        "2013-wimbledon-2401",
        "2013-wimbledon-2402",
        "2013-wimbledon-2404",
    ]
    first = tasks[0]
    assert first.market_files[0].endswith("2013-wimbledon-1401/1.932405193.gz")
    assert first.tick_files[0].endswith("ticks.jsonl")
    assert first.match_file is not None and first.match_file.endswith("match.json")


def test_a_match_folder_and_a_stream_file(repo_root: Path, shared_data: Path) -> None:
    stream = shared_data / "betfair" / "historical" / "tennis_wimbledon2018_1.145329255.bz2"

    tasks = discover_tasks([repo_root / "data" / "sample" / "2013-wimbledon-2404", stream])

    assert tasks[0].task_id == "2013-wimbledon-2404"
    assert tasks[0].market_files[0].endswith("1.912721323.gz")
    assert tasks[1].task_id == "tennis_wimbledon2018_1.145329255.bz2"
    assert tasks[1].tick_files == ()


def test_a_repeated_task_is_refused(repo_root: Path) -> None:
    folder = repo_root / "data" / "sample" / "2013-wimbledon-2404"

    with pytest.raises(ValueError, match="appears twice"):
        discover_tasks([folder, folder])


def test_missing_and_empty_paths_are_refused(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="does not exist"):
        discover_tasks([tmp_path / "nope"])
    with pytest.raises(ValueError, match="holds no corpus"):
        discover_tasks([tmp_path])
