"""The loopback exchange: clk tokens, recording timeline, identity endpoints, routes, CLI."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
from pathlib import Path

import aiohttp
import orjson
import pytest
from aiohttp import web

from adapters.betfair.loopback.images import ImageComposer
from adapters.betfair.loopback.recording import ClockTokens, RecordedChange, Recording
from adapters.betfair.loopback.server import LoopbackConfig, LoopbackExchange
from adapters.betfair.loopback.tls import generate_self_signed
from adapters.betfair.session import (
    BetfairConfig,
    BetfairSession,
    Credentials,
    LoginRefusedError,
    load_betfair_config,
    resolve_credentials,
)
from engine.config import ConfigError
from engine.market import MarketCache

TENNIS = Path("betfair/historical/tennis_wimbledon2018_1.145329255.bz2")
APP_KEY = "loopback-app-key"


def definition(event_type: str, market_type: str) -> dict[str, object]:
    return {"eventTypeId": event_type, "marketType": market_type, "turnInPlayEnabled": True}


@pytest.fixture
def small_recording() -> Recording:
    return Recording(
        [
            RecordedChange(
                1000, [{"id": "1.1", "marketDefinition": definition("2", "MATCH_ODDS")}]
            ),
            RecordedChange(
                1500, [{"id": "1.2", "marketDefinition": definition("2", "SET_WINNER")}]
            ),
            RecordedChange(
                90000, [{"id": "1.3", "marketDefinition": definition("1", "MATCH_ODDS")}]
            ),
            RecordedChange(91000, [{"id": "1.1", "rc": []}]),
        ]
    )


def test_clock_tokens_round_trip_and_refuse_foreign_tokens():
    tokens = ClockTokens("abc", "m")
    other = ClockTokens("xyz", "m")

    assert tokens.position(tokens.initial(), tokens.at(42)) == 42
    assert tokens.position(other.initial(), other.at(42)) is None
    assert tokens.position(tokens.initial(), "!!not base64!!") is None
    assert tokens.position(tokens.initial(), other.at(3)) is None


def test_market_filter_selects_tennis_match_odds(small_recording):
    selected = small_recording.matching_markets(
        {"eventTypeIds": ["2"], "marketTypes": ["MATCH_ODDS"], "turnInPlayEnabled": True}
    )

    assert selected == {"1.1"}
    assert small_recording.matching_markets({}) == {"1.1", "1.2", "1.3"}
    assert small_recording.matching_markets({"marketIds": ["1.3"]}) == {"1.3"}


def test_offsets_scale_by_speed_and_cap_long_gaps(small_recording):
    offsets = small_recording.offsets_s(speed=10.0, max_gap_ms=2000)

    assert offsets == pytest.approx([0.0, 0.05, 0.25, 0.35])
    assert small_recording.offsets_s(speed=0, max_gap_ms=2000) == [0.0] * 4


def test_recording_loads_the_real_file(shared_data):
    recording = Recording.load(shared_data / TENNIS)

    assert len(recording) == 15788
    assert set(recording.markets) == {"1.145329255"}
    assert recording.markets["1.145329255"].market_type == "MATCH_ODDS"


async def test_identity_endpoints_answer_betfairlightweight_interactive_login(small_recording):
    async with LoopbackExchange(small_recording) as exchange:
        session = BetfairSession(
            BetfairConfig(login="interactive", identity_url=exchange.identity_url),
            Credentials("loopback", "loopback", APP_KEY),
        )
        token = await session.session_token()
        valid_after_login = exchange.sessions.valid(token)
        await session.keep_alive()
        await session.close()
        valid_after_logout = exchange.sessions.valid(token)

    assert valid_after_login is True
    assert session.keep_alives == 1
    assert valid_after_logout is False


async def test_certificate_login_over_tls(small_recording, tmp_path):
    client_cert = generate_self_signed(tmp_path / "client")
    async with LoopbackExchange(small_recording, LoopbackConfig(tls=True)) as exchange:
        session = BetfairSession(
            BetfairConfig(
                login="certificate",
                cert_file=str(client_cert.cert_file),
                key_file=str(client_cert.key_file),
                identity_url=exchange.identity_url,
                identity_ca_file=exchange.ca_file,
            ),
            Credentials("loopback", "loopback", APP_KEY),
        )
        token = await session.relogin()
        valid = exchange.sessions.valid(token)
        await session.close()

    assert exchange.identity_url.startswith("https://")
    assert valid is True


async def test_wrong_password_is_a_refused_login(small_recording):
    async with LoopbackExchange(small_recording) as exchange:
        session = BetfairSession(
            BetfairConfig(login="interactive", identity_url=exchange.identity_url),
            Credentials("loopback", "wrong", APP_KEY),
        )
        with pytest.raises(LoginRefusedError, match="INVALID_USERNAME_OR_PASSWORD"):
            await session.session_token()
        await session.close()


def test_credentials_come_from_env_or_files_and_never_print(tmp_path):
    secret_file = tmp_path / "pw"
    secret_file.write_text("s3cret\n")
    config = BetfairConfig(password_file=str(secret_file))

    credentials = resolve_credentials(config, {"BETFAIR_USERNAME": "u", "BETFAIR_APP_KEY": "k"})

    assert (credentials.username, credentials.password, credentials.app_key) == ("u", "s3cret", "k")
    assert "s3cret" not in repr(credentials)


def test_missing_credential_names_the_setting_not_the_value():
    with pytest.raises(ValueError, match=r"betfair\.app_key_env: .*BETFAIR_APP_KEY"):
        resolve_credentials(BetfairConfig(), {"BETFAIR_USERNAME": "u", "BETFAIR_PASSWORD": "p"})


def test_certificate_login_without_a_certificate_is_refused():
    with pytest.raises(ValueError, match=r"betfair\.cert_file"):
        BetfairSession(BetfairConfig(), Credentials("u", "p", "k"))


def test_betfair_section_refuses_unknown_keys():
    with pytest.raises(ConfigError, match=r"betfair\.password:"):
        load_betfair_config({"betfair": {"password": "in the file"}})


async def test_route_registrars_join_the_http_side(small_recording):
    seen = []

    def register(app: web.Application, exchange: LoopbackExchange) -> None:
        seen.append(exchange)

        async def catalogue(_request: web.Request) -> web.Response:
            return web.json_response(sorted(exchange.recording.markets))

        app.router.add_get("/catalogue", catalogue)

    async with (
        LoopbackExchange(small_recording, route_registrars=[register]) as exchange,
        aiohttp.ClientSession() as http,
        http.get(f"http://127.0.0.1:{exchange.http_port}/catalogue") as response,
    ):
        body = await response.json()

    assert seen == [exchange]
    assert body == ["1.1", "1.2", "1.3"]


async def test_order_changes_published_reach_order_subscribers(small_recording):
    async with LoopbackExchange(small_recording) as exchange:
        reader, writer = await asyncio.open_connection("127.0.0.1", exchange.port)
        await reader.readuntil(b"\r\n")
        token = exchange.issue_session()
        writer.write(
            orjson.dumps({"op": "authentication", "id": 1, "appKey": APP_KEY, "session": token})
            + b"\r\n"
            + orjson.dumps({"op": "orderSubscription", "id": 2, "heartbeatMs": 500})
            + b"\r\n"
        )
        replies = [orjson.loads(await reader.readuntil(b"\r\n")) for _ in range(3)]
        exchange.stream.publish_order_changes([{"id": "1.1", "orc": []}], pt=123)
        published = orjson.loads(await reader.readuntil(b"\r\n"))
        writer.close()

    assert [r.get("statusCode") for r in replies[:2]] == ["SUCCESS", "SUCCESS"]
    assert replies[2]["ct"] == "SUB_IMAGE"
    assert published["oc"] == [{"id": "1.1", "orc": []}]
    assert published["pt"] == 123


async def test_requests_before_authentication_are_refused(small_recording):
    async with LoopbackExchange(small_recording) as exchange:
        reader, writer = await asyncio.open_connection("127.0.0.1", exchange.port)
        await reader.readuntil(b"\r\n")
        writer.write(b'{"op":"marketSubscription","id":1}\r\n')
        reply = orjson.loads(await reader.readuntil(b"\r\n"))
        writer.close()

    assert (reply["statusCode"], reply["errorCode"], reply["connectionClosed"]) == (
        "FAILURE",
        "NO_SESSION",
        True,
    )


def test_serve_cli_prints_the_port_and_stops_on_sigint(shared_data, repo_root):
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "engine",
            "stream",
            "serve",
            str(shared_data / TENNIS),
            "--port",
            "0",
            "--speed",
            "10",
        ],
        cwd=repo_root,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        env={**os.environ, "PYTHONPATH": str(repo_root)},
    )
    try:
        assert process.stdout is not None
        line = orjson.loads(process.stdout.readline())
        process.send_signal(signal.SIGINT)
        status = process.wait(timeout=20)
    finally:
        if process.poll() is None:
            process.kill()

    assert line["port"] > 0 and line["http_port"] > 0
    assert line["tls"] is False
    assert status == 0


def test_serve_cli_refuses_a_missing_file(repo_root, tmp_path):
    result = subprocess.run(
        [sys.executable, "-m", "engine", "stream", "serve", str(tmp_path / "nope.bz2")],
        cwd=repo_root,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )

    assert result.returncode == 2
    assert "file:" in result.stderr


def cache_state(cache: MarketCache) -> dict[str, object]:
    return {
        book.market_id: (
            book.status,
            book.inplay,
            book.version,
            book.tv,
            {
                key: (
                    runner.status,
                    runner.ltp,
                    runner.tv,
                    sorted(runner.atb.levels()),
                    sorted(runner.atl.levels()),
                    sorted(runner.trd.levels()),
                )
                for key, runner in book.runners.items()
            },
        )
        for book in cache
    }


@pytest.mark.parametrize("position", [1, 400, 6000, 15788])
def test_composed_image_rebuilds_the_cache_of_the_deltas(shared_data, position):
    recording = Recording.load(shared_data / TENNIS)
    by_deltas, composer = MarketCache(), ImageComposer()
    for message in recording.messages[:position]:
        for change in message.changes:
            by_deltas.apply(change, message.pt)
        composer.apply(message.changes)
    by_image = MarketCache()

    for change in composer.images(set(recording.markets)):
        by_image.apply(change, 0)

    assert cache_state(by_image) == cache_state(by_deltas)
    assert all(change["img"] is True for change in composer.images({"1.145329255"}))
