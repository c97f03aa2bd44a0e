"""MatchRegistry.player_names: the names the prior's player store is asked for, in feed order."""

from engine.registry import (
    MarketInfo,
    MatchRegistry,
    RegistryConfig,
    RunnerInfo,
    ScoreMatchInfo,
)


def _market(names: tuple[str, str]) -> MarketInfo:
    runners = (RunnerInfo(11, names[0], 1), RunnerInfo(22, names[1], 2))
    return MarketInfo("1.5", "e1", "Djokovic v Haas", None, runners)


def test_runner_names_come_in_the_feed_players_order():
    registry = MatchRegistry()
    registry.add_market(_market(("Novak Djokovic", "Tommy Haas")))
    registry.add_score_match(ScoreMatchInfo("m1", ("T. Haas", "N. Djokovic"), None))

    assert registry.player_names("1.5") == ("Tommy Haas", "Novak Djokovic")


def test_feed_names_when_the_market_carries_none():
    registry = MatchRegistry(RegistryConfig(overrides={"1.6": "m2"}))
    registry.add_score_match(ScoreMatchInfo("m2", ("N. Djokovic", "T. Haas"), None))
    registry.add_market(MarketInfo("1.6", "e2", "", None, _unnamed()))

    assert registry.player_names("1.6") == ("N. Djokovic", "T. Haas")


def test_no_names_for_an_unlinked_or_unknown_market():
    registry = MatchRegistry()
    registry.add_market(_market(("Novak Djokovic", "Tommy Haas")))

    assert registry.player_names("1.5") is None  # no score-feed match yet
    assert registry.player_names("1.7") is None


def _unnamed() -> tuple[RunnerInfo, RunnerInfo]:
    return RunnerInfo(11, "", 1), RunnerInfo(22, "", 2)
