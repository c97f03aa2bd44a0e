"""Control API: the real aiohttp server on 127.0.0.1:0 against the in-memory EngineBoard."""

import math
from collections.abc import AsyncIterator

import aiohttp
import pytest
from prometheus_client.parser import text_string_to_metric_families

from engine.api import ApiConfig, EngineBoard, PricingInputs, start_api
from engine.clock import SimulatedClock
from engine.config import ConfigError, load_toml, parse_section, section_table
from engine.gate import GateConfig, GateInputs, GateState, evaluate
from engine.metrics import EngineMetrics
from engine.physics.pricing import price
from engine.physics.rules import MatchRules
from engine.physics.state import parse_score
from engine.prediction import PredictionRecord

TOKEN_ENV = "COURTSIDE_TEST_KILL_TOKEN"
RULES = MatchRules(best_of=5, final_set="tb7@12")


class Harness:
    def __init__(self, session, base, board, clock, metrics, kills):
        self.session, self.base, self.board = session, base, board
        self.clock, self.metrics, self.kills = clock, metrics, kills

    async def get(self, path, **kw):
        async with self.session.get(self.base + path, **kw) as resp:
            return resp.status, await resp.json(content_type=None)

    async def post(self, path, **kw):
        async with self.session.post(self.base + path, **kw) as resp:
            return resp.status, await resp.json(content_type=None)


@pytest.fixture
async def api(monkeypatch) -> AsyncIterator[Harness]:
    monkeypatch.setenv(TOKEN_ENV, "s3cret-token")
    clock = SimulatedClock(start=1_000_000.0)
    kills: list[str] = []
    board = EngineBoard(clock, on_kill=kills.append)
    metrics = EngineMetrics()
    server = await start_api(board, metrics, ApiConfig(port=0, kill_token_env=TOKEN_ENV))
    try:
        async with aiohttp.ClientSession() as session:
            yield Harness(session, f"http://127.0.0.1:{server.port}", board, clock, metrics, kills)
    finally:
        await server.close()


def _publish(board: EngineBoard) -> PredictionRecord:
    state = parse_score("1-0 4-5 30-40", 1, RULES)
    pricing = price(0.65, 0.62, RULES, state)
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
    record = PredictionRecord(
        "m1",
        87,
        1_000_000.0,
        pricing.p_match,
        pricing.expected_games_diff,
        pricing.set_score_pmf,
        gate,
        market_prob=0.7,
        score="1-0 4-5 30-40",
    )
    board.publish(
        "m1",
        {"market_id": "1.200", "tradable": True, "score": "1-0 4-5 30-40", "phase": "in_play"},
        record,
        PricingInputs(0.65, 0.62, RULES, state),
    )
    return record


async def test_metrics_serves_the_engine_registry_as_prometheus_text(api):
    api.metrics.count_gate("mto")

    async with api.session.get(api.base + "/metrics") as resp:
        text = await resp.text()
        content_type = resp.headers["Content-Type"]

    families = {f.name: f for f in text_string_to_metric_families(text)}
    assert resp.status == 200
    assert content_type.startswith("text/plain")
    sample = families["courtside_gate_decisions"].samples[0]
    assert sample.labels == {"reason": "mto"} and sample.value == 1.0


async def test_health_is_ready_only_with_every_feed_connected_and_fresh(api):
    status, body = await api.get("/health")
    assert status == 503 and body["live"] and not body["ready"]

    api.board.set_feed("market", connected=True, stale_after_s=10.0)
    api.board.set_feed("score", connected=True, stale_after_s=90.0)
    api.board.feed_message("market")
    api.board.feed_message("score")
    status, body = await api.get("/health")
    assert status == 200 and body["ready"]

    api.clock.advance(30.0)
    status, body = await api.get("/health")
    assert status == 503
    assert body["feeds"]["market"] == {
        "connected": True,
        "age_s": 30.0,
        "stale_after_s": 10.0,
        "ok": False,
    }
    assert body["feeds"]["score"]["ok"]


async def test_matches_and_match_detail_with_latest_prediction(api):
    record = _publish(api.board)

    status, listing = await api.get("/matches")
    detail_status, detail = await api.get("/matches/m1")
    missing_status, missing = await api.get("/matches/nope")

    assert status == 200
    assert listing["matches"][0]["match_id"] == "m1"
    assert listing["matches"][0]["gate"] == "emu_unproven"
    assert detail_status == 200
    assert detail["state"]["market_id"] == "1.200"
    assert detail["prediction"]["fair_prob"] == pytest.approx(record.fair_prob)
    assert detail["prediction"]["rationale"].startswith("gate=closed")
    assert missing_status == 404 and "match_id" in missing["error"]


async def test_whatif_serve_drop_on_a_followed_match(api):
    _publish(api.board)

    status, body = await api.post("/whatif", json={"match_id": "m1", "pa_delta": -0.05})

    state = parse_score("1-0 4-5 30-40", 1, RULES)
    assert status == 200
    assert body["base"]["p_match"] == pytest.approx(price(0.65, 0.62, RULES, state).p_match)
    assert body["scenario"]["p_match"] == pytest.approx(price(0.60, 0.62, RULES, state).p_match)
    assert body["delta_p_match"] < 0
    assert body["rules"] == {"best_of": 5, "final_set": "tb7@12", "no_ad": False}


async def test_whatif_from_query_parameters_with_a_score_change(api):
    status, body = await api.get(
        "/whatif",
        params={
            "pa": "0.65",
            "pb": "0.62",
            "best_of": "3",
            "score": "0-0 5-5",
            "scenario_score": "0-0 6-5",
        },
    )

    assert status == 200
    assert body["base"]["games"] == [5, 5]
    assert body["scenario"]["games"] == [6, 5]
    expected = price(0.65, 0.62, MatchRules(), parse_score("0-0 6-5", 1, MatchRules())).p_match
    assert body["scenario"]["p_match"] == pytest.approx(expected)
    assert math.isclose(sum(body["base"]["set_score_pmf"].values()), 1.0, rel_tol=1e-9)


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"pb": 0.6}, "pa:"),
        ({"pa": "x", "pb": 0.6}, "pa:"),
        ({"pa": 0.6, "pb": 0.6, "pa_delta": -0.7}, "pa_delta:"),
        ({"pa": 0.6, "pb": 0.6, "best_of": 4}, "best_of:"),
        ({"pa": 0.6, "pb": 0.6, "final_set": "tb9"}, "final_set:"),
        ({"pa": 0.6, "pb": 0.6, "score": "7-5"}, "score:"),
        ({"pa": 0.6, "pb": 0.6, "scenario_score": "0-0 3-2 AD-15"}, "scenario_score:"),
        ({"pa": 0.6, "pb": 0.6, "server": 3}, "server:"),
        ({"pa": 0.6, "pb": 0.6, "colour": "red"}, "colour:"),
    ],
)
async def test_whatif_refuses_bad_input_with_400_naming_the_field(api, params, field):
    status, body = await api.post("/whatif", json=params)

    assert status == 400
    assert body["error"].startswith(field)


async def test_whatif_unknown_match_is_404_and_bad_json_is_400(api):
    status, _ = await api.post("/whatif", json={"match_id": "ghost"})
    bad_status, bad = await api.post("/whatif", data=b"{not json")

    assert status == 404
    assert bad_status == 400 and bad["error"].startswith("body:")


async def test_kill_needs_the_bearer_token(api):
    no_token, _ = await api.post("/kill")
    wrong, _ = await api.post("/kill", headers={"Authorization": "Bearer nope"})
    assert (no_token, wrong) == (401, 403)
    assert api.kills == []

    status, body = await api.post(
        "/kill", headers={"Authorization": "Bearer s3cret-token"}, json={"reason": "manual"}
    )
    _, health = await api.get("/health")

    assert status == 200 and body == {"killed": True, "reason": "manual"}
    assert api.kills == ["manual"]
    assert health["kill_engaged"]


async def test_kill_is_refused_when_no_token_is_configured(monkeypatch):
    monkeypatch.delenv("COURTSIDE_UNSET_TOKEN", raising=False)
    board = EngineBoard(SimulatedClock(), on_kill=lambda reason: None)
    server = await start_api(
        board, EngineMetrics(), ApiConfig(port=0, kill_token_env="COURTSIDE_UNSET_TOKEN")
    )
    try:
        async with aiohttp.ClientSession() as session:
            url = f"http://127.0.0.1:{server.port}/kill"
            async with session.post(url, headers={"Authorization": "Bearer anything"}) as resp:
                status = resp.status
    finally:
        await server.close()

    assert status == 403
    assert board.kill_reason is None


def test_api_config_defaults_to_loopback_and_refuses_bad_values():
    parsed = parse_section(section_table(load_toml(), "api"), "api", ApiConfig)

    assert parsed == ApiConfig() and parsed.host == "127.0.0.1"
    with pytest.raises(ConfigError, match=r"api\.port"):
        parse_section({"port": 70000}, "api", ApiConfig)
    with pytest.raises(ConfigError, match=r"api\.kill_token_env"):
        parse_section({"kill_token_env": "not a name"}, "api", ApiConfig)
