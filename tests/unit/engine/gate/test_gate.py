"""Trust gate decisions (DESIGN.md §6): every check, the priority order and the rationale."""

import dataclasses

import pytest

from engine.config import ConfigError, load_toml, parse_section, section_table
from engine.gate import PRIORITY, GateConfig, GateInputs, GateReason, GateState, GateStats, evaluate

CONFIG = GateConfig()


def _proven_state(error: float = 0.004, depth: float = 2000.0) -> GateState:
    state = GateState(CONFIG)
    for _ in range(CONFIG.emu_error_window):
        state.observe_point(0.50 + error, 0.50)
    for _ in range(50):
        state.observe_depth(depth)
    return state


def _good(**changes: object) -> GateInputs:
    base = GateInputs(
        fair_prob=0.60,
        market_prob=0.55,
        has_score_feed=True,
        suspended=False,
        score_trusted=True,
        depth=2000.0,
        cum_size=5000.0,
        distress=0.05,
        stream_age_s=0.2,
        score_age_s=10.0,
    )
    return dataclasses.replace(base, **changes)  # type: ignore[arg-type]


def test_opens_when_the_emulator_is_proven_and_the_edge_is_large_enough():
    decision = evaluate(CONFIG, _proven_state(), _good())

    assert decision.open
    assert decision.reason is GateReason.OPEN
    assert decision.failing == ()
    assert decision.edge == pytest.approx(0.05)
    assert decision.required_edge == CONFIG.min_edge


def test_the_edge_must_exceed_the_requirement_in_either_direction():
    state = _proven_state()

    small = evaluate(CONFIG, state, _good(fair_prob=0.56))
    lay_side = evaluate(CONFIG, state, _good(fair_prob=0.50))

    assert small.reason is GateReason.NO_EDGE
    assert lay_side.open and lay_side.edge == pytest.approx(-0.05)


def test_emulator_error_above_one_ppt_closes_the_gate():
    decision = evaluate(CONFIG, _proven_state(error=0.015), _good())

    assert decision.reason is GateReason.EMU_ERROR
    assert decision.emu_error == pytest.approx(0.015)


def test_an_emulator_without_enough_points_is_unproven():
    state = GateState(CONFIG)
    for _ in range(CONFIG.emu_min_points - 1):
        state.observe_point(0.5, 0.5)
    state.observe_point(None, 0.5)  # no emulator output on this point: no evidence

    assert evaluate(CONFIG, state, _good()).reason is GateReason.EMU_UNPROVEN


@pytest.mark.parametrize(
    ("pts", "mto_running", "reason", "required"),
    [
        (None, True, GateReason.MTO, 0.02),
        (0, False, GateReason.MTO, 0.04),
        (5, False, GateReason.MTO, 0.04),
        (6, False, GateReason.OPEN, 0.04),
        (19, False, GateReason.OPEN, 0.04),
        (20, False, GateReason.OPEN, 0.02),
    ],
)
def test_mto_blocks_for_six_points_then_demands_a_larger_edge_until_point_20(
    pts, mto_running, reason, required
):
    decision = evaluate(
        CONFIG, _proven_state(), _good(pts_since_mto=pts, mto_running=mto_running, fair_prob=0.60)
    )

    assert decision.reason is reason
    assert decision.required_edge == pytest.approx(required)


def test_post_mto_edge_between_base_and_larger_requirement_is_refused():
    decision = evaluate(CONFIG, _proven_state(), _good(pts_since_mto=10, fair_prob=0.58))

    assert decision.reason is GateReason.NO_EDGE
    assert decision.edge == pytest.approx(0.03)


def test_liquidity_collapse_needs_both_thin_depth_and_little_cumulative_size():
    state = _proven_state(depth=2000.0)

    collapsed = evaluate(CONFIG, state, _good(depth=400.0, cum_size=80.0))
    thin_but_sized = evaluate(CONFIG, state, _good(depth=400.0, cum_size=150.0))
    small_but_normal_depth = evaluate(CONFIG, state, _good(depth=600.0, cum_size=80.0))

    assert collapsed.reason is GateReason.LIQUIDITY_COLLAPSE
    assert thin_but_sized.open
    assert small_but_normal_depth.open


def test_no_collapse_judgement_before_the_median_has_enough_samples():
    state = GateState(CONFIG)
    for _ in range(CONFIG.emu_error_window):
        state.observe_point(0.5, 0.5)
    state.observe_depth(2000.0)

    assert evaluate(CONFIG, state, _good(depth=1.0, cum_size=1.0)).open


@pytest.mark.parametrize(
    ("changes", "reason"),
    [
        ({"has_score_feed": False}, GateReason.NO_SCORE_FEED),
        ({"suspended": True}, GateReason.SUSPENDED),
        ({"stream_age_s": 30.0}, GateReason.STALE_STREAM),
        ({"stream_age_s": None}, GateReason.STALE_STREAM),
        ({"score_age_s": 120.0}, GateReason.STALE_SCORE),
        ({"score_age_s": None}, GateReason.STALE_SCORE),
        ({"score_trusted": False}, GateReason.UNTRUSTED_SCORE),
        ({"distress": 0.5}, GateReason.DISTRESS),
        ({"market_prob": None}, GateReason.NO_PRICE),
        ({"fair_prob": None}, GateReason.NO_PRICE),
        ({"fair_prob": float("nan")}, GateReason.NO_EDGE),
    ],
)
def test_each_blocking_condition_closes_the_gate_with_its_reason(changes, reason):
    decision = evaluate(CONFIG, _proven_state(), _good(**changes))

    assert not decision.open
    assert decision.reason is reason
    assert decision.failing == (reason,)


def test_the_first_reason_in_priority_order_is_reported_and_all_failures_are_listed():
    decision = evaluate(
        CONFIG,
        _proven_state(error=0.03),
        _good(score_trusted=False, pts_since_mto=2, distress=0.9, fair_prob=0.55),
    )

    assert decision.reason is GateReason.UNTRUSTED_SCORE
    assert decision.failing == (
        GateReason.UNTRUSTED_SCORE,
        GateReason.MTO,
        GateReason.DISTRESS,
        GateReason.EMU_ERROR,
        GateReason.NO_EDGE,
    )
    assert list(PRIORITY).index(GateReason.NO_SCORE_FEED) == 0
    assert PRIORITY[-1] is GateReason.NO_EDGE


def test_rationale_is_a_short_structured_line():
    decision = evaluate(CONFIG, _proven_state(), _good(pts_since_mto=3, fair_prob=0.571))

    text = decision.rationale()

    assert text.startswith("gate=closed reason=mto failing=mto,no_edge pts_since_mto=3 ")
    assert "edge=+2.1ppt required=4.0ppt emu_err=0.40ppt" in text
    assert decision.as_dict()["reason"] == "mto"
    assert all("=" in part for part in text.split(" "))


def test_defaults_are_fail_closed():
    decision = evaluate(CONFIG, _proven_state(), GateInputs(0.6, 0.5))

    assert decision.failing == (
        GateReason.NO_SCORE_FEED,
        GateReason.SUSPENDED,
        GateReason.STALE_STREAM,
        GateReason.STALE_SCORE,
        GateReason.UNTRUSTED_SCORE,
        GateReason.LIQUIDITY_COLLAPSE,
    )


def test_decisions_are_counted_by_reason():
    stats = GateStats()
    state = _proven_state()
    for inputs in (_good(), _good(suspended=True), _good(suspended=True)):
        stats.count(evaluate(CONFIG, state, inputs).reason)

    assert stats.as_dict() == {"open": 1, "suspended": 2}
    assert stats.total(GateReason.MTO) == 0


def test_repository_engine_toml_gate_table_parses_to_the_defaults():
    table = section_table(load_toml(), "gate")

    assert parse_section(table, "gate", GateConfig) == GateConfig()


@pytest.mark.parametrize(
    ("table", "message"),
    [
        ({"emu_error_max": "1ppt"}, "gate.emu_error_max: expected a number"),
        ({"bogus": 1}, "gate.bogus: unknown setting"),
        ({"mto_block_points": 30}, "gate.mto_block_points"),
        ({"emu_min_points": 50}, "gate.emu_min_points"),
        ({"distress_threshold": 0.0}, "gate.distress_threshold"),
    ],
)
def test_bad_gate_config_is_refused_with_the_dotted_key(table, message):
    with pytest.raises(ConfigError, match=message):
        parse_section(table, "gate", GateConfig)
