"""Pure protocol rules of the stream client: error actions, backoff, requests, segments, order."""

from __future__ import annotations

import random

import pytest

from adapters.betfair.messages import ChangeMessage
from adapters.betfair.stream_config import load_stream_config
from adapters.betfair.stream_protocol import (
    ERROR_ACTIONS,
    MarketFilterSpec,
    StatusAction,
    StreamIntegrityError,
    StreamStatusError,
    action_for,
    backoff_delays,
    subscription_request,
)
from adapters.betfair.stream_state import SegmentAssembler, SubscriptionState, Verdict
from engine.config import ConfigError, load_toml


def change(
    pt: int,
    clk: str | None,
    *,
    ct: str = "UPDATE",
    segment: str | None = None,
    changes: list[dict[str, object]] | None = None,
    status: int | None = None,
) -> ChangeMessage:
    return ChangeMessage(
        op="mcm",
        id=1,
        ct=ct,
        pt=pt,
        clk=clk,
        initial_clk=None,
        changes=changes if changes is not None else [{"id": "1.1"}],
        status=status,
        segment_type=segment,
    )


# ESASwaggerSchema StatusMessage.errorCode, plus TOO_MANY_REQUESTS which the live service sends.
BETFAIR_ERROR_CODES = {
    "NO_APP_KEY",
    "INVALID_APP_KEY",
    "NO_SESSION",
    "INVALID_SESSION_INFORMATION",
    "NOT_AUTHORIZED",
    "INVALID_INPUT",
    "INVALID_CLOCK",
    "UNEXPECTED_ERROR",
    "TIMEOUT",
    "SUBSCRIPTION_LIMIT_EXCEEDED",
    "INVALID_REQUEST",
    "CONNECTION_FAILED",
    "MAX_CONNECTION_LIMIT_EXCEEDED",
    "TOO_MANY_REQUESTS",
}


def test_every_betfair_error_code_has_an_action():
    assert set(ERROR_ACTIONS) == BETFAIR_ERROR_CODES


@pytest.mark.parametrize(
    ("code", "action"),
    [
        ("INVALID_SESSION_INFORMATION", StatusAction.RELOGIN),
        ("NO_SESSION", StatusAction.RELOGIN),
        ("SUBSCRIPTION_LIMIT_EXCEEDED", StatusAction.FATAL),
        ("INVALID_APP_KEY", StatusAction.FATAL),
        ("INVALID_CLOCK", StatusAction.RESUBSCRIBE_FRESH),
        ("TOO_MANY_REQUESTS", StatusAction.RETRY_SLOW),
        ("CONNECTION_FAILED", StatusAction.RETRY),
        ("SOMETHING_NEW", StatusAction.RETRY),
        (None, StatusAction.RETRY),
    ],
)
def test_action_for_error_codes(code, action):
    assert action_for(code) is action


def test_status_error_message_names_code_and_fix():
    error = StreamStatusError("SUBSCRIPTION_LIMIT_EXCEEDED", "too many markets", True)

    assert "SUBSCRIPTION_LIMIT_EXCEEDED: too many markets" in str(error)
    assert "narrow" in str(error)
    assert error.action is StatusAction.FATAL


def test_backoff_doubles_to_the_cap_without_jitter():
    delays = backoff_delays(0.5, 4.0, 0.0)

    assert [next(delays) for _ in range(6)] == [0.5, 1.0, 2.0, 4.0, 4.0, 4.0]


def test_backoff_jitter_stays_within_bounds():
    delays = backoff_delays(1.0, 8.0, 0.25, random.Random(7))
    values = [next(delays) for _ in range(200)]

    assert all(0.75 <= v <= 10.0 for v in values)
    assert len({round(v, 6) for v in values[10:]}) > 1  # jittered at the cap too
    assert max(values[10:]) <= 8.0 * 1.25


def test_subscription_request_resumes_only_with_both_clocks():
    body = {"marketFilter": MarketFilterSpec().market_filter()}

    fresh = subscription_request(
        "marketSubscription",
        3,
        body,
        initial_clk="a",
        clk=None,
        heartbeat_ms=5000,
        conflate_ms=None,
        segmentation=True,
    )
    resume = subscription_request(
        "marketSubscription",
        4,
        body,
        initial_clk="a",
        clk="b",
        heartbeat_ms=5000,
        conflate_ms=0,
        segmentation=True,
    )

    assert "initialClk" not in fresh and "clk" not in fresh and "conflateMs" not in fresh
    assert (resume["initialClk"], resume["clk"], resume["conflateMs"]) == ("a", "b", 0)
    assert resume["marketFilter"] == {
        "eventTypeIds": ["2"],
        "marketTypes": ["MATCH_ODDS"],
        "turnInPlayEnabled": True,
    }


def test_tennis_data_filter_asks_for_full_depth_and_trades():
    data_filter = MarketFilterSpec().market_data_filter()

    assert set(data_filter["fields"]) == {
        "EX_ALL_OFFERS",
        "EX_TRADED",
        "EX_TRADED_VOL",
        "EX_LTP",
        "EX_MARKET_DEF",
    }


def test_segments_are_merged_with_the_last_clock():
    assembler = SegmentAssembler()

    first = assembler.feed(
        change(1, None, ct="SUB_IMAGE", segment="SEG_START", changes=[{"id": "1.1"}])
    )
    middle = assembler.feed(change(1, None, segment="SEG", changes=[{"id": "1.2"}]))
    merged = assembler.feed(change(2, "k", segment="SEG_END", changes=[{"id": "1.3"}]))

    assert first is None and middle is None
    assert merged is not None
    assert [c["id"] for c in merged.changes] == ["1.1", "1.2", "1.3"]
    assert (merged.ct, merged.clk, merged.segment_type) == ("SUB_IMAGE", "k", None)
    assert not assembler.pending


@pytest.mark.parametrize(
    "sequence",
    [["SEG"], ["SEG_END"], ["SEG_START", None], ["SEG_START", "SEG_START"], ["BOGUS"]],
)
def test_broken_segment_sequences_are_integrity_errors(sequence):
    assembler = SegmentAssembler()

    with pytest.raises(StreamIntegrityError):
        for segment in sequence:
            assembler.feed(change(1, None, segment=segment))


def test_state_drops_an_exact_duplicate_and_keeps_the_clock():
    state = SubscriptionState("marketSubscription", {})

    assert state.observe(change(10, "c1"))[0] is Verdict.DELIVER
    assert state.observe(change(10, "c1"))[0] is Verdict.DUPLICATE
    assert state.observe(change(10, "c2"))[0] is Verdict.DELIVER
    assert state.clk == "c2"


def test_state_refuses_publish_time_going_backwards():
    state = SubscriptionState("marketSubscription", {})
    state.observe(change(20, "c1"))

    with pytest.raises(StreamIntegrityError, match="backwards"):
        state.observe(change(19, "c2"))


def test_heartbeat_moves_the_clock_but_delivers_nothing():
    state = SubscriptionState("marketSubscription", {})
    state.observe(change(5, "c1"))

    verdict, message = state.observe(change(1, "c2", ct="HEARTBEAT", changes=[]))

    assert (verdict, message, state.clk) == (Verdict.HEARTBEAT, None, "c2")


def test_stale_status_is_tracked_until_fresh_data():
    state = SubscriptionState("marketSubscription", {})

    state.observe(change(1, "a", status=503))
    stale = state.stale
    state.observe(change(2, "b"))

    assert stale is True
    assert state.stale is False


def test_forget_position_makes_the_next_subscription_fresh():
    state = SubscriptionState("marketSubscription", {}, initial_clk="i", clk="c")

    state.forget_position()

    assert not state.resumable


def test_engine_toml_stream_section_loads(repo_root):
    config = load_stream_config(load_toml(repo_root / "engine.toml"))

    assert config.market_filter.event_type_ids == ("2",)
    assert config.tls is True


def test_unknown_stream_key_is_refused_with_its_dotted_name():
    with pytest.raises(ConfigError, match=r"stream\.hearbeat_ms"):
        load_stream_config({"stream": {"hearbeat_ms": 100}})


def test_bad_backoff_is_refused():
    with pytest.raises(ConfigError, match=r"stream\.backoff_max_s"):
        load_stream_config({"stream": {"backoff_initial_s": 5.0, "backoff_max_s": 1.0}})
