"""The book summary the engine hands the token builder, on real cached books."""

from engine.core.book_features import mid_odds, summarise
from engine.features.liquidity import MIN_HISTORY, is_collapse
from engine.market.cache import MarketCache


def _book(atb: list[list[float]], atl: list[list[float]], status: str = "OPEN"):
    cache = MarketCache()
    definition = {
        "status": status,
        "inPlay": True,
        "marketType": "MATCH_ODDS",
        "runners": [{"id": 1, "sortPriority": 1}, {"id": 2, "sortPriority": 2}],
    }
    cache.apply(
        {
            "id": "1.1",
            "img": True,
            "marketDefinition": definition,
            "rc": [{"id": 1, "atb": atb, "atl": atl}, {"id": 2, "atb": [[2.0, 10.0]]}],
        },
        1,
    )
    book = cache.get("1.1")
    assert book is not None
    return book


def test_summary_reads_prices_depth_and_the_fifty_pound_fill_beyond_three_levels():
    book = _book([[1.9, 10.0], [1.88, 10.0], [1.86, 10.0], [1.84, 40.0]], [[1.92, 100.0]])
    history: list[float] = []

    summary = summarise(book, book.runner(1), book.runner(2), stake=50.0, depth_history=history)

    assert (summary.back_price, summary.lay_price) == (1.9, 1.92)
    assert summary.back_depth == 30.0  # best three levels only
    assert summary.back_price_50 is not None  # the fill reaches the fourth level
    assert summary.spread_ticks == 2  # 1.90 -> 1.91 -> 1.92
    assert summary.p2_back_price == 2.0
    assert not summary.suspended and not summary.liq_collapse
    assert history == [130.0]


def test_suspended_is_the_status_and_collapse_needs_history():
    book = _book([[1.9, 1.0]], [[1.92, 1.0]], status="SUSPENDED")
    history = [100.0] * MIN_HISTORY

    summary = summarise(book, book.runner(1), None, stake=50.0, depth_history=history)

    assert summary.suspended
    assert summary.liq_collapse  # 2 < 25% of the median 100
    assert not is_collapse(1.0, [100.0] * (MIN_HISTORY - 2))


def test_mid_odds_is_the_mid_of_implied_probabilities():
    book = _book([[2.0, 5.0]], [[2.5, 5.0]])

    assert mid_odds(book.runner(1)) == 2.0 / (0.5 + 0.4)


def test_depth_history_is_kept_sorted_and_collapse_follows_the_shared_rule():
    sizes = [50.0, 400.0, 10.0, 300.0, 200.0, 60.0, 5.0, 250.0]
    history: list[float] = []
    seen: list[float] = []  # the same depths in arrival order
    flags = []

    for size in sizes:
        book = _book([[1.9, size]], [[1.92, size]])
        summary = summarise(book, book.runner(1), None, stake=50.0, depth_history=history)
        seen.append(2 * size)
        flags.append(summary.liq_collapse)

        assert history == sorted(seen)
        assert summary.liq_collapse == is_collapse(2 * size, seen)
    assert flags == [False] * 6 + [True, False]  # 10 < 25% of the median 120, then 500 is not
