from typing import Any

from engine.market import LevelChange, MarketCache, TradeDelta

MARKET = "1.234"


def _definition(status: str = "OPEN", inplay: bool = False, **extra: Any) -> dict[str, Any]:
    runners = extra.pop(
        "runners",
        [{"id": 11, "status": "ACTIVE", "sortPriority": 1}, {"id": 22, "status": "ACTIVE"}],
    )
    return {
        "status": status,
        "inPlay": inplay,
        "betDelay": 5 if inplay else 0,
        "marketBaseRate": 5.0,
        "version": 7,
        "runners": runners,
        **extra,
    }


def _cache_with_market() -> MarketCache:
    cache = MarketCache()
    cache.apply({"id": MARKET, "img": True, "marketDefinition": _definition()}, 1000)
    return cache


def test_definition_sets_market_fields_and_creates_runners_in_order():
    cache = MarketCache()

    update = cache.apply({"id": MARKET, "marketDefinition": _definition(inplay=True)}, 1000)

    assert update is not None
    assert update.image and update.definition_changed
    assert update.status_changed and update.inplay_changed
    book = cache.get(MARKET)
    assert book is not None
    assert (book.status, book.inplay, book.bet_delay, book.market_base_rate, book.version) == (
        "OPEN",
        True,
        5,
        5.0,
        7,
    )
    assert list(book.runners) == [(11, 0.0), (22, 0.0)]
    assert book.runner(11).sort_priority == 1  # type: ignore[union-attr]


def test_suspension_flags_status_change_and_removed_runner_keeps_its_status():
    cache = _cache_with_market()
    runners = [{"id": 11, "status": "ACTIVE"}, {"id": 22, "status": "REMOVED", "removalDate": "x"}]

    update = cache.apply(
        {"id": MARKET, "marketDefinition": _definition("SUSPENDED", runners=runners)}, 1001
    )

    assert update is not None and update.status_changed and not update.inplay_changed
    book = cache.get(MARKET)
    assert book is not None and book.status == "SUSPENDED" and not book.open
    assert book.runner(22).status == "REMOVED"  # type: ignore[union-attr]
    assert book.runner(22).removal_date == "x"  # type: ignore[union-attr]


def test_runner_changes_update_ladders_ltp_tv_and_best_changed():
    cache = _cache_with_market()

    update = cache.apply(
        {
            "id": MARKET,
            "tv": 100.0,
            "rc": [
                {"id": 11, "atb": [[1.9, 10], [1.8, 4]], "atl": [[2.0, 7]], "ltp": 1.9, "tv": 50},
                {"id": 22, "spn": 2.1, "spf": 2.2},
            ],
        },
        1002,
    )

    assert update is not None and not update.image
    assert update.best_changed == [(11, 0.0)]
    book = cache.get(MARKET)
    assert book is not None and book.tv == 100.0
    runner = book.runner(11)
    assert runner is not None
    assert runner.back_levels(3) == [(1.9, 10.0), (1.8, 4.0)]
    assert runner.lay_levels(3) == [(2.0, 7.0)]
    assert runner.best_back() == (1.9, 10.0) and runner.best_lay() == (2.0, 7.0)
    assert (runner.ltp, runner.tv) == (1.9, 50.0)
    assert (book.runner(22).spn, book.runner(22).spf) == (2.1, 2.2)  # type: ignore[union-attr]

    deeper = cache.apply({"id": MARKET, "rc": [{"id": 11, "atb": [[1.7, 1]]}]}, 1003)
    assert deeper is not None and deeper.best_changed == []


def test_traded_volume_is_cumulative_per_price_and_increments_are_reported():
    cache = _cache_with_market()
    cache.apply({"id": MARKET, "rc": [{"id": 11, "trd": [[1.9, 10.0], [2.0, 5.0]]}]}, 1001)

    update = cache.apply({"id": MARKET, "rc": [{"id": 11, "trd": [[1.9, 12.5], [2.0, 5.0]]}]}, 1002)

    assert update is not None
    assert update.traded == [(11, 0.0)]
    assert update.trades == [TradeDelta((11, 0.0), 1.9, 2.5)]
    runner = cache.get(MARKET).runner(11)  # type: ignore[union-attr]
    assert runner is not None
    assert list(runner.trd.levels()) == [(1.9, 12.5), (2.0, 5.0)]
    assert runner.traded_total() == 17.5
    assert cache.get(MARKET).traded_total() == 17.5  # type: ignore[union-attr]

    cleared = cache.apply({"id": MARKET, "rc": [{"id": 11, "trd": []}]}, 1003)
    assert cleared is not None and cleared.trades == [] and not runner.trd


def test_image_replaces_the_cached_market():
    cache = _cache_with_market()
    cache.apply({"id": MARKET, "rc": [{"id": 11, "atb": [[1.9, 10]]}]}, 1001)

    update = cache.apply(
        {
            "id": MARKET,
            "img": True,
            "marketDefinition": _definition(runners=[{"id": 33, "status": "ACTIVE"}]),
        },
        1002,
    )

    assert update is not None and update.image
    book = cache.get(MARKET)
    assert book is not None and list(book.runners) == [(33, 0.0)]
    assert cache.counters.images == 2


def test_first_sight_of_a_market_without_img_is_an_image():
    cache = MarketCache()

    update = cache.apply({"id": MARKET, "rc": [{"id": 5, "atl": [[3.0, 2]]}]}, 1)

    assert update is not None and update.image
    assert cache.counters.runners_without_definition == 1
    assert cache.counters.unknown_runners == 0
    assert cache.get(MARKET).runner(5).lay_levels(1) == [(3.0, 2.0)]  # type: ignore[union-attr]


def test_runner_missing_from_the_definition_is_created_and_counted():
    cache = _cache_with_market()

    update = cache.apply({"id": MARKET, "rc": [{"id": 99, "atb": [[4.0, 1]]}]}, 1001)

    assert update is not None and update.unknown_runners == [(99, 0.0)]
    assert cache.counters.unknown_runners == 1
    runner = cache.get(MARKET).runner(99)  # type: ignore[union-attr]
    assert runner is not None and runner.status is None and runner.back_levels() == [(4.0, 1.0)]


def test_handicap_runners_are_distinct_keys():
    cache = MarketCache()
    runners = [{"id": 7, "hc": -1.5, "status": "ACTIVE"}, {"id": 7, "hc": 1.5, "status": "ACTIVE"}]
    cache.apply({"id": MARKET, "marketDefinition": _definition(runners=runners)}, 1)

    cache.apply({"id": MARKET, "rc": [{"id": 7, "hc": 1.5, "atb": [[2.0, 3]]}]}, 2)

    book = cache.get(MARKET)
    assert book is not None
    assert book.runner(7, 1.5).back_levels() == [(2.0, 3.0)]  # type: ignore[union-attr]
    assert book.runner(7, -1.5).back_levels() == []  # type: ignore[union-attr]


def test_runner_changes_with_and_without_hc_zero_reach_the_same_runner():
    cache = MarketCache()
    runners = [{"id": 7, "hc": 0.0, "status": "ACTIVE"}, {"id": 7, "hc": 1.5, "status": "ACTIVE"}]
    cache.apply({"id": MARKET, "marketDefinition": _definition(runners=runners)}, 1)

    first = cache.apply({"id": MARKET, "rc": [{"id": 7, "atb": [[2.0, 3]]}]}, 2)
    second = cache.apply({"id": MARKET, "rc": [{"id": 7, "hc": 0.0, "atb": [[2.0, 4]]}]}, 3)
    third = cache.apply({"id": MARKET, "rc": [{"id": 7, "atb": [[2.0, 5]]}]}, 4)
    cache.apply({"id": MARKET, "rc": [{"id": 7, "hc": 1.5, "atl": [[3.0, 1]]}]}, 5)

    book = cache.get(MARKET)
    assert book is not None and len(book) == 2
    assert book.runner(7).back_levels() == [(2.0, 5.0)]  # type: ignore[union-attr]
    assert book.runner(7, 1.5).lay_levels() == [(3.0, 1.0)]  # type: ignore[union-attr]
    assert book.runner(7, 1.5).back_levels() == []  # type: ignore[union-attr]
    updates = [u for u in (first, second, third) if u is not None]
    assert [u.best_changed for u in updates] == [[(7, 0.0)]] * 3
    assert cache.counters.unknown_runners == 0


def test_a_new_image_forgets_the_runners_of_the_old_book():
    cache = _cache_with_market()
    cache.apply({"id": MARKET, "rc": [{"id": 11, "atb": [[2.0, 3]]}]}, 2)

    cache.apply({"id": MARKET, "img": True, "rc": [{"id": 11, "atl": [[2.5, 1]]}]}, 3)

    book = cache.get(MARKET)
    assert book is not None
    runner = book.runner(11)
    assert runner is not None
    assert (runner.back_levels(), runner.lay_levels()) == ([], [(2.5, 1.0)])
    assert cache.counters.runners_without_definition == 1


def test_best_display_and_best_views_back_the_book_when_full_depth_is_absent():
    cache = MarketCache()

    cache.apply(
        {
            "id": MARKET,
            "rc": [
                {"id": 1, "batb": [[0, 2.0, 5], [1, 1.98, 2]], "batl": [[0, 2.04, 1]]},
                {"id": 2, "bdatb": [[0, 3.0, 1]], "batb": [[0, 2.9, 9]]},
            ],
        },
        1,
    )

    book = cache.get(MARKET)
    assert book is not None
    assert book.runner(1).back_levels(3) == [(2.0, 5.0), (1.98, 2.0)]  # type: ignore[union-attr]
    assert book.runner(1).lay_levels(3) == [(2.04, 1.0)]  # type: ignore[union-attr]
    assert book.runner(2).back_levels(3) == [(3.0, 1.0)]  # type: ignore[union-attr]


def test_malformed_changes_are_counted_and_never_raise():
    cache = _cache_with_market()

    assert cache.apply({"rc": []}, 1) is None
    assert cache.apply({"id": 5}, 1) is None
    assert cache.apply(["not", "a", "dict"], 1) is None  # type: ignore[arg-type]
    bad = cache.apply({"id": MARKET, "rc": [{"id": 11, "atb": [[1.5, "x"]]}]}, 1001)
    bad_def = cache.apply({"id": MARKET, "marketDefinition": ["x"]}, 1002)
    bad_rc = cache.apply({"id": MARKET, "rc": [{"atb": []}]}, 1003)

    assert bad is not None and bad.malformed
    assert bad_def is not None and bad_def.malformed
    assert bad_rc is not None and bad_rc.malformed
    assert cache.counters.malformed == 6
    good = cache.apply({"id": MARKET, "rc": [{"id": 11, "atb": [[1.5, 3]]}]}, 1004)
    assert good is not None and not good.malformed
    assert cache.get(MARKET).runner(11).back_levels() == [(1.5, 3.0)]  # type: ignore[union-attr]


def test_out_of_order_and_conflated_changes_are_counted():
    cache = _cache_with_market()

    cache.apply({"id": MARKET, "con": True}, 2000)
    cache.apply({"id": MARKET}, 1500)

    assert cache.counters.conflated == 1
    assert cache.counters.out_of_order == 1
    assert cache.get(MARKET).publish_time == 1500  # type: ignore[union-attr]


def test_off_ladder_levels_are_counted_on_update_and_cache():
    cache = _cache_with_market()

    update = cache.apply({"id": MARKET, "rc": [{"id": 11, "atb": [[2.01, 1], [2.0, 3]]}]}, 1001)

    assert update is not None and update.off_ladder == 1
    assert cache.counters.off_ladder_levels == 1
    assert cache.get(MARKET).runner(11).back_levels() == [(2.01, 1.0), (2.0, 3.0)]  # type: ignore[union-attr]


def test_off_ladder_last_traded_price_is_kept_and_counted():
    cache = _cache_with_market()

    update = cache.apply({"id": MARKET, "rc": [{"id": 11, "ltp": 2.01}, {"id": 22, "ltp": 2}]}, 1)

    assert update is not None and update.off_ladder_ltp == 1
    assert cache.counters.off_ladder_ltp == 1
    assert cache.get(MARKET).runner(11).ltp == 2.01  # type: ignore[union-attr]


def test_level_changes_are_recorded_only_when_asked_for():
    plain = _cache_with_market()
    recording = MarketCache(record_level_changes=True)
    recording.apply({"id": MARKET, "img": True, "marketDefinition": _definition()}, 1000)
    change = {"id": MARKET, "rc": [{"id": 11, "atb": [[1.9, 10]], "atl": [[2.0, 3]]}]}
    plain.apply(change, 1001)
    recording.apply(change, 1001)

    untracked = plain.apply({"id": MARKET, "rc": [{"id": 11, "atb": [[1.9, 4]]}]}, 1002)
    tracked = recording.apply({"id": MARKET, "rc": [{"id": 11, "atb": [[1.9, 4]]}]}, 1002)

    assert untracked is not None and untracked.level_changes is None
    assert tracked is not None
    assert tracked.level_changes == [LevelChange((11, 0.0), "B", 1.9, 10.0, 4.0)]


def test_remove_and_clear_forget_markets():
    cache = _cache_with_market()
    cache.apply({"id": "1.999", "rc": []}, 1)

    removed = cache.remove(MARKET)

    assert removed is not None and removed.market_id == MARKET
    assert MARKET not in cache and len(cache) == 1
    cache.clear()
    assert list(cache) == []
