"""Stylized facts: known values on the real file and on a tiny hand-written stream."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import orjson
import pytest

from replay.corpus.facts import stylized_facts

REAL_FILE = "betfair/historical/tennis_wimbledon2018_1.145329255.bz2"


def _line(pt: int, rc: list[Any], definition: dict[str, Any] | None = None) -> bytes:
    change: dict[str, Any] = {"id": "1.1", "rc": rc}
    if definition is not None:
        change["marketDefinition"] = definition
    return orjson.dumps({"op": "mcm", "clk": "1", "pt": pt, "mc": [change]})


def _definition(in_play: bool, status: str = "OPEN") -> dict[str, Any]:
    runners = [
        {"id": 1, "sortPriority": 1, "status": "ACTIVE"},
        {"id": 2, "sortPriority": 2, "status": "ACTIVE"},
    ]
    return {
        "status": status,
        "inPlay": in_play,
        "betDelay": 5 if in_play else 0,
        "runners": runners,
    }


def test_real_file_facts(shared_data: Path):
    facts = stylized_facts(shared_data / REAL_FILE)
    assert facts.messages == 14198
    assert facts.msgs_per_s == pytest.approx(2.2255, abs=1e-3)
    assert facts.fav_spread_1tick_frac == pytest.approx(0.958, abs=1e-3)
    assert facts.dog_spread_median_ticks == 3
    assert facts.suspensions_inplay == 1


def test_hand_written_stream(tmp_path: Path):
    # Arrange: pre-play line (ignored), then two in-play lines 10 s apart, then a suspension
    lines = [
        _line(0, [{"id": 1, "atb": [[1.5, 10]], "atl": [[1.52, 20]]}], _definition(False)),
        _line(
            1000,
            [
                {"id": 1, "atb": [[1.5, 10]], "atl": [[1.51, 20]]},
                {"id": 2, "atb": [[2.9, 5]], "atl": [[3.0, 4]]},
            ],
            _definition(True),
        ),
        _line(11000, [{"id": 1, "trd": [[1.5, 7]], "ltp": 1.5, "tv": 7}]),
        _line(12000, [], _definition(True, "SUSPENDED")),
    ]
    path = tmp_path / "s.jsonl"
    path.write_bytes(b"\n".join(lines) + b"\n")

    # Act
    facts = stylized_facts(path)

    # Assert
    assert facts.messages == 2
    assert facts.inplay_s == pytest.approx(10.0)
    assert facts.levels_per_msg == pytest.approx(2.0)  # 4 levels then 0
    assert facts.trade_msg_frac == pytest.approx(0.5)
    assert facts.fav_spread_mean_ticks == 1.0
    assert facts.dog_spread_median_ticks == 5.0  # 2.9 -> 3.0 is five 0.02 ticks
    assert facts.fav_back_payout_median == pytest.approx(5.0)  # 10 x (1.5 - 1)
    assert facts.traded_per_s == pytest.approx(0.7)
    assert facts.suspensions_inplay == 1


def test_file_without_inplay_part_is_refused(tmp_path: Path):
    path = tmp_path / "s.jsonl"
    path.write_bytes(_line(0, [], _definition(False)) + b"\n")
    with pytest.raises(ValueError, match="no in-play"):
        stylized_facts(path)
