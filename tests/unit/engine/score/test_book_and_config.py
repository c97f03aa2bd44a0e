"""ScoreBook routing/resume/staleness, and the [scores] section of engine.toml."""

from __future__ import annotations

from pathlib import Path

import pytest

from engine.config import ConfigError
from engine.physics.rules import MatchRules
from engine.score.book import ScoreBook
from engine.score.config import ScoresConfig, load_scores_config
from engine.score.stats import TickOutcome
from engine.score.synthetic import simulate_match_ticks
from engine.score.ticks import Point


def test_book_routes_by_match_and_reports_resume_points_and_untrusted_matches() -> None:
    # Arrange
    book = ScoreBook()
    a = list(simulate_match_ticks("A", seed=1))[:5]
    b = list(simulate_match_ticks("B", MatchRules(best_of=5), seed=2))[:3]
    for tick in [*a, *b]:
        book.apply(tick, received_at=float(tick.seq))

    # Act: match B loses a tick
    book.apply(Point("B", 5, 9.0, 1, 1), received_at=100.0)

    # Assert
    assert len(book) == 2
    assert book.resume_seqs() == {"A": 5}
    assert book.needing_snapshot() == ["B"]
    assert book.stale(now=100.0, max_age_s=30.0) == ["A"]
    assert book.stats.total(TickOutcome.APPLIED) == 8
    assert book.stats.total(TickOutcome.GAP) == 1


def test_scores_section_of_the_shipped_engine_toml_loads() -> None:
    assert load_scores_config() == ScoresConfig()


def test_scores_section_refuses_unknown_keys_and_bad_values(tmp_path: Path) -> None:
    # Arrange
    unknown = tmp_path / "unknown.toml"
    unknown.write_text("[scores]\nws_uri = 'ws://x'\n")
    bad_url = tmp_path / "bad_url.toml"
    bad_url.write_text("[scores]\nws_url = 'http://x'\n")
    bad_backoff = tmp_path / "bad_backoff.toml"
    bad_backoff.write_text("[scores]\nbackoff_initial_s = 5.0\nbackoff_max_s = 1.0\n")

    # Act / Assert
    with pytest.raises(ConfigError, match=r"^scores\.ws_uri: unknown setting"):
        load_scores_config(unknown)
    with pytest.raises(ConfigError, match=r"^scores\.ws_url:"):
        load_scores_config(bad_url)
    with pytest.raises(ConfigError, match=r"^scores\.backoff_max_s:"):
        load_scores_config(bad_backoff)
