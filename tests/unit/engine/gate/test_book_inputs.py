"""Gate inputs from the real Wimbledon 2018 stream file replayed through the market cache."""

import bz2
import statistics

import orjson
import pytest

from engine.gate import GateConfig, GateState
from engine.gate.book import liquidity, market_prob
from engine.market.book import RunnerBook
from engine.market.cache import MarketCache
from engine.strategy import BookView

FILE = "betfair/historical/tennis_wimbledon2018_1.145329255.bz2"
MARKET, DJOKOVIC, KHACHANOV = "1.145329255", 2249229, 7659623


def test_real_in_play_book_feeds_the_gate_liquidity_rule_and_market_probability(shared_data):
    config = GateConfig()
    state = GateState(config)
    cache = MarketCache()
    depths: list[float] = []
    overrounds: list[float] = []
    thin = collapsed = 0
    last_view = None
    with bz2.open(shared_data / FILE, "rb") as handle:
        for line in handle:
            message = orjson.loads(line)
            for change in message.get("mc", []):
                cache.apply(change, message["pt"])
            book = cache.get(MARKET)
            if book is None or not book.inplay:
                continue
            runner = book.runner(DJOKOVIC)
            assert runner is not None
            depth, cum_size = liquidity(runner, config.depth_levels)
            state.observe_depth(depth)
            depths.append(depth)
            median = state.depth.median
            assert median is not None
            if state.depth.count >= config.depth_median_min_samples:
                below = depth < config.collapse_depth_fraction * median
                thin += below
                collapsed += below and cum_size < config.collapse_min_cum_size
            p1, p2 = market_prob(runner), market_prob(book.runner(KHACHANOV) or RunnerBook(0))
            if p1 is not None and p2 is not None:
                overrounds.append(p1 + p2)
            last_view = BookView.from_market(book)

    assert len(depths) > 10_000
    # the log-binned running median agrees with the exact median of the whole series
    assert state.depth.median == pytest.approx(statistics.median_low(depths), rel=0.01)
    # thin books are common in play; a collapse also needs an (almost) empty ladder, which is rare
    assert thin >= 10 * collapsed > 0
    # the two runners' mid probabilities add up to about one
    assert min(overrounds) > 0.95 and max(overrounds) < 1.06
    assert statistics.median(overrounds) == pytest.approx(1.0, abs=0.005)
    assert last_view is not None and last_view.commission == 0.05
    assert {q.selection_id for q in last_view.runners} == {DJOKOVIC, KHACHANOV}


def test_market_prob_uses_one_side_when_only_one_is_offered_and_none_when_empty():
    runner = RunnerBook(1)
    assert market_prob(runner) is None
    assert liquidity(runner) == (0.0, 0.0)

    runner.atb.apply([[2.0, 10.0], [1.98, 5.0]])
    assert market_prob(runner) == 0.5
    runner.atl.apply([[2.5, 4.0]])
    assert market_prob(runner) == pytest.approx(0.5 * (0.5 + 0.4))
    assert liquidity(runner, levels=1) == (14.0, 19.0)
