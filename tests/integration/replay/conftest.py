"""Corpus integration fixtures: the shared slam data, loaded once per session."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest

from replay.corpus.durations import DurationModel, fit_duration_model
from replay.corpus.slams import MatchInfo, MatchPoints, load_matches, load_points


@dataclass(frozen=True)
class SlamData:
    infos: list[MatchInfo]
    points: dict[str, MatchPoints]
    model: DurationModel

    def info(self, match_id: str) -> MatchInfo:
        return next(info for info in self.infos if info.match_id == match_id)

    def comparable_to_real_file(self) -> list[MatchInfo]:
        """Matches like the real stream file's (Wimbledon 2018 R16, Djokovic d. Khachanov 6-4 6-2
        6-2): ATP best-of-5 R16, favourite at 1.1-1.4 who won in straight sets."""
        return [
            info
            for info in self.infos
            if info.tour == "ATP"
            and info.round == "R16"
            and 1.1 <= min(info.odds_p1, info.odds_p2) <= 1.4
            and not info.retired
            and len(info.score.split()) == 3
            and (info.odds_p1 < info.odds_p2) == (info.winner == 1)
        ]


@pytest.fixture(scope="session")
def slam_data(shared_data: Path) -> SlamData:
    slams = shared_data / "slams"
    infos = load_matches(slams)
    points = load_points(slams, {info.match_id for info in infos})
    model = fit_duration_model((info, points[info.match_id]) for info in infos)
    return SlamData(infos=infos, points=points, model=model)
