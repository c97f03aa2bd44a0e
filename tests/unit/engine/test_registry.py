"""Match registry: name variants from real data, start-time tolerance, overrides, tradability."""

import bz2
import csv
from datetime import UTC, datetime

import orjson
import pytest

from engine.config import ConfigError, load_toml, parse_section, section_table
from engine.registry import (
    MarketInfo,
    MatchRegistry,
    RegistryConfig,
    RunnerInfo,
    ScoreMatchInfo,
    market_info_from_definition,
    normalise_name,
    same_player,
)

BETFAIR_FILE = "betfair/historical/tennis_wimbledon2018_1.145329255.bz2"


def _wimbledon_market(shared_data) -> MarketInfo:
    with bz2.open(shared_data / BETFAIR_FILE, "rb") as handle:
        first = orjson.loads(handle.readline())
    change = first["mc"][0]
    return market_info_from_definition(change["id"], change["marketDefinition"])


def _ts(text: str) -> float:
    return datetime.fromisoformat(text).replace(tzinfo=UTC).timestamp()


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("Novak Djokovic", "N. Djokovic"),
        ("Novak Djokovic", "Djokovic N."),
        ("Novak Djokovic", "Djokovic, Novak"),
        ("Juan Martin del Potro", "Del Potro J.M."),
        ("Pablo Carreño Busta", "Carreno-Busta P."),
        ("Jo-Wilfried Tsonga", "Tsonga J.W."),
        ("Stan Wawrinka", "Stanislas Wawrinka"),
        ("Karolina Pliskova", "Pliskova Ka."),
        ("A.Medina Garrigues", "Anabel Medina Garrigues"),
        ("Victor Estrella", "Estrella Burgos V."),
        ("Alex Bogomolov Jr.", "Alex Bogomolov"),
        ("Na Li", "Li N."),
    ],
)
def test_spelling_variants_of_one_player_match(a, b):
    assert same_player(a, b)
    assert same_player(b, a)


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("Andy Murray", "Jamie Murray"),
        ("Murray A.", "Jamie Murray"),
        ("Karolina Pliskova", "Pliskova Kr."),
        ("Andrey Kuznetsov", "Kuznetsov Al."),
        ("Novak Djokovic", "Karen Khachanov"),
        ("", "Novak Djokovic"),
    ],
)
def test_different_players_do_not_match(a, b):
    assert not same_player(a, b)


def test_normalise_strips_accents_hyphens_and_reads_abbreviations():
    assert normalise_name("Pablo Carreño-Busta") == normalise_name("pablo carreno busta")
    assert normalise_name("Lu Y.H.").initials == ("y", "h")


def test_every_slam_match_links_its_betting_names_except_three_known_renamings(shared_data):
    """tennis-data.co.uk names (bookmaker style, 'Torro Flor M.T.') against the point-by-point
    names of the same match: the only misses are players listed under a different name."""
    misses: set[str] = set()
    crossed = 0
    checked = 0
    with (shared_data / "slams" / "matches.csv").open(newline="") as handle:
        for row in csv.DictReader(handle):
            if not row["odds_td_winner"] or not row["odds_td_loser"]:
                continue
            checked += 1
            p1, p2 = row["player1"], row["player2"]
            winner, loser = (p1, p2) if row["winner"] == "1" else (p2, p1)
            for name, alias in ((winner, row["odds_td_winner"]), (loser, row["odds_td_loser"])):
                if not same_player(name, alias):
                    misses.add(f"{name} / {alias}")
            crossed += same_player(winner, row["odds_td_loser"])
            crossed += same_player(loser, row["odds_td_winner"])

    assert checked > 3000
    assert crossed == 0
    assert misses == {
        "Alexandr Dolgopolov / Dolgopolov O.",
        "Aleksandr Nedovesov / Nedovyesov A.",
        "Tatjana Maria / Malek T.",
    }


def test_real_betfair_market_links_to_a_feed_match_with_bookmaker_style_names(shared_data):
    market = _wimbledon_market(shared_data)
    registry = MatchRegistry()
    feed_match = ScoreMatchInfo("wimb18-r16-djokovic", ("Djokovic N.", "K. Khachanov"), None)

    unlinked = registry.add_market(market)
    made = registry.add_score_match(feed_match)

    assert market.market_id == "1.145329255"
    assert [r.name for r in market.runners] == ["Karen Khachanov", "Novak Djokovic"]
    assert market.start_ts == _ts("2018-07-08T10:00:00")
    assert not unlinked.tradable and unlinked.how == "no_score_match"
    link = registry.link("1.145329255")
    assert made == [link]
    assert link is not None and link.tradable and link.how == "names"
    assert link.selections == (2249229, 7659623)  # feed player 1 (Djokovic) first
    assert registry.market_for_match("wimb18-r16-djokovic") == "1.145329255"


def _market(market_id: str, names: tuple[str, str], start: str) -> MarketInfo:
    runners = (RunnerInfo(11, names[0], 1), RunnerInfo(22, names[1], 2))
    return MarketInfo(market_id, "e1", f"{names[0]} v {names[1]}", _ts(start), runners)


def test_start_time_outside_the_tolerance_is_not_linked_and_closest_wins():
    registry = MatchRegistry(RegistryConfig(start_tolerance_s=3 * 3600))
    registry.add_score_match(
        ScoreMatchInfo("old", ("Andy Murray", "Rafael Nadal"), _ts("2024-01-01T10:00"))
    )
    registry.add_score_match(
        ScoreMatchInfo("near", ("A. Murray", "R. Nadal"), _ts("2024-01-02T11:00"))
    )
    registry.add_score_match(
        ScoreMatchInfo("far", ("Murray A.", "Nadal R."), _ts("2024-01-02T13:30"))
    )

    link = registry.add_market(_market("1.1", ("Rafael Nadal", "Andy Murray"), "2024-01-02T10:30"))

    assert link.match_id == "near"
    assert link.selections == (22, 11)


def test_two_equally_close_candidates_are_ambiguous_and_not_tradable():
    registry = MatchRegistry()
    registry.add_score_match(ScoreMatchInfo("a", ("K. Pliskova", "S. Halep"), None))
    registry.add_score_match(ScoreMatchInfo("b", ("Pliskova K.", "Halep S."), None))

    link = registry.add_market(
        _market("1.2", ("Karolina Pliskova", "Simona Halep"), "2024-01-02T10:30")
    )

    assert link.how == "ambiguous"
    assert not link.tradable


def test_override_links_despite_names_and_can_reverse_the_runner_order():
    config = RegistryConfig(overrides={"1.3": "m3", "1.4": "m4:reversed"})
    registry = MatchRegistry(config)
    registry.add_score_match(ScoreMatchInfo("m3", ("Dolgopolov O.", "Ivo Karlovic"), None))
    registry.add_score_match(ScoreMatchInfo("m4", ("Tatjana Maria", "Paula Ormaechea"), None))

    by_names_fallback = registry.add_market(
        _market("1.3", ("Alexandr Dolgopolov", "Ivo Karlovic"), "2024-01-02T10:30")
    )
    reversed_link = registry.add_market(
        _market("1.4", ("Malek T.", "Ormaechea P."), "2024-01-02T10:30")
    )
    missing = MatchRegistry(RegistryConfig(overrides={"1.5": "nope"})).add_market(
        _market("1.5", ("A B", "C D"), "2024-01-02T10:30")
    )

    assert by_names_fallback.how == "override" and by_names_fallback.selections == (11, 22)
    assert reversed_link.selections == (22, 11)
    assert missing.how == "override_unknown_match" and not missing.tradable


def test_repository_config_parses_and_bad_overrides_are_refused():
    table = section_table(load_toml(), "registry")

    assert parse_section(table, "registry", RegistryConfig) == RegistryConfig()
    with pytest.raises(ConfigError, match=r"registry\.overrides\.1\.9"):
        parse_section({"overrides": {"1.9": ":reversed"}}, "registry", RegistryConfig)
    with pytest.raises(ConfigError, match=r"registry\.overrides\.1\.9: expected str"):
        parse_section({"overrides": {"1.9": 5}}, "registry", RegistryConfig)
