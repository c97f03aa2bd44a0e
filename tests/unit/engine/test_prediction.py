"""Per-point prediction records: bands from the log-variance head and JSON round trip."""

import dataclasses
import math

import orjson
import pytest

from engine.gate import GateConfig, GateInputs, GateState, evaluate
from engine.physics.pricing import price
from engine.physics.rules import MatchRules
from engine.physics.state import parse_score
from engine.prediction import EmulatorPrice, PredictionRecord, band_from_logvar


def test_band_is_price_plus_minus_1_96_sigma_clipped_to_unit_interval():
    sigma = 0.02
    low, high = band_from_logvar(0.6, math.log(sigma**2))

    assert low == pytest.approx(0.6 - 1.959964 * sigma, abs=1e-6)
    assert high == pytest.approx(0.6 + 1.959964 * sigma, abs=1e-6)
    clipped_low, clipped_high = band_from_logvar(0.98, math.log(0.05**2))
    assert clipped_low == pytest.approx(0.98 - 0.098, abs=1e-3)
    assert clipped_high == 1.0
    assert band_from_logvar(0.5, float("nan")) == (0.0, 1.0)
    assert band_from_logvar(0.5, 1e6) == (0.0, 1.0)


def _record() -> PredictionRecord:
    rules = MatchRules(best_of=5, final_set="tb7@12")
    state = parse_score("1-0 4-5 30-40", 1, rules)
    pricing = price(0.65, 0.62, rules, state)
    gate = evaluate(
        GateConfig(),
        GateState(GateConfig()),
        GateInputs(
            pricing.p_match,
            0.7,
            has_score_feed=True,
            suspended=False,
            stream_age_s=0.1,
            score_age_s=1.0,
            score_trusted=True,
        ),
    )
    return PredictionRecord(
        match_id="2018-wimbledon-1701",
        point_index=87,
        ts=1531044000.25,
        fair_prob=pricing.p_match,
        expected_games_diff=pricing.expected_games_diff,
        set_score_pmf=pricing.set_score_pmf,
        gate=gate,
        market_prob=0.7,
        emu_full=EmulatorPrice.from_output("gru_full", 0.69, math.log(0.01**2), 0.1),
        emu_lite=EmulatorPrice.from_output("gru_lite", 0.68, math.log(0.02**2), 0.2),
        fair_if_point_won=pricing.if_point_won,
        fair_if_point_lost=pricing.if_point_lost,
        score="1-0 4-5 30-40",
    )


def test_record_serialises_to_json_with_bands_pmf_gate_and_rationale():
    record = _record()

    data = orjson.loads(record.to_json())

    assert data["match_id"] == "2018-wimbledon-1701"
    assert data["point_index"] == 87
    assert data["fair_prob"] == pytest.approx(record.fair_prob)
    assert set(data["set_score_pmf"]) == {"3-0", "3-1", "3-2", "0-3", "1-3", "2-3"}
    assert sum(data["set_score_pmf"].values()) == pytest.approx(1.0)
    assert data["emu_full"]["band"] == pytest.approx([0.69 - 0.0196, 0.69 + 0.0196], abs=1e-4)
    assert data["distress"] == 0.1
    assert data["gate"]["open"] is False
    assert data["gate"]["reason"] == "emu_unproven"
    assert data["rationale"].startswith("gate=closed reason=emu_unproven")
    assert "extra" not in data


def test_distress_falls_back_to_the_lite_emulator_and_none_without_emulators():
    record = _record()
    lite_only = PredictionRecord(
        record.match_id, 1, 0.0, 0.5, 0.0, {}, record.gate, emu_lite=record.emu_lite
    )
    none = PredictionRecord(record.match_id, 1, 0.0, 0.5, 0.0, {}, record.gate)

    assert lite_only.distress == 0.2
    assert none.distress is None
    assert orjson.loads(none.to_json())["emu_full"] is None


def test_with_emu_lite_carries_every_other_field_like_dataclasses_replace():
    record = dataclasses.replace(_record(), emu_lite=None, extra={"note": "kept"})
    lite = EmulatorPrice.from_output("gru_lite", 0.61, math.log(0.03**2), 0.3)

    updated = record.with_emu_lite(lite)

    assert updated == dataclasses.replace(record, emu_lite=lite)
    assert updated.emu_lite is lite and record.emu_lite is None
    for field in dataclasses.fields(PredictionRecord):  # a new field must be carried too
        if field.name != "emu_lite":
            assert getattr(updated, field.name) is getattr(record, field.name)
