"""`courtside run` as a user meets it: refusals at start, and a clean stop on SIGTERM."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import orjson
import pytest

from engine.cli import main


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "engine.toml"
    path.write_text(text)
    return path


@pytest.mark.parametrize(
    ("toml", "message"),
    [
        ("[gate]\nmin_edge = 'big'\n", "gate.min_edge: expected a number"),
        ("[gate]\nmto_block_points = 30\n", "gate.mto_block_points: must be between"),
        ("[core]\nemu_full = 'model.pt'\n", "core.emu_full: expected an .onnx file name"),
        ("[daemon]\nmode = 'yolo'\n", "daemon.mode: 'yolo' is not one of"),
        ("[nonsense]\nx = 1\n", "nonsense: unknown section"),
        ("[gate]\nscore_stale_s = 300.0\n", "gate.score_stale_s: 300.0 exceeds scores.staleness_s"),
        ("[core]\nemu_full = 'missing.onnx'\n", "core.emu_full: model file"),
        ("[daemon]\nrehearse_match = 'nowhere'\n", "daemon.rehearse_match: nowhere/match.json"),
        ("[daemon]\nrehearse_every_ms = -2.0\n", "daemon.rehearse_every_ms: must be 0 (off)"),
        ("[daemon]\nforesight = 'yes'\n", "daemon.foresight: expected bool, got 'yes'"),
        ("[daemon]\nforesight_turn_us = -1.0\n", "daemon.foresight_turn_us: must be 0"),
        ("[gate\n", "not valid TOML"),
    ],
)
def test_a_bad_engine_toml_is_refused_with_the_key_and_reason(tmp_path, capsys, toml, message):
    path = _write(tmp_path, toml)

    status = main(["run", "--config", str(path), "--mode", "demo", "--duration", "1"])

    assert status == 2
    assert message in capsys.readouterr().err


def test_live_mode_refuses_to_start_without_credentials(tmp_path, capsys, monkeypatch):
    for name in ("BETFAIR_USERNAME", "BETFAIR_PASSWORD", "BETFAIR_APP_KEY"):
        monkeypatch.delenv(name, raising=False)
    path = _write(tmp_path, "")

    status = main(["run", "--config", str(path), "--mode", "live"])

    err = capsys.readouterr().err
    assert status == 2
    assert "--mode live: Betfair credentials are required" in err
    assert "BETFAIR_USERNAME" in err


def test_sigterm_stops_the_demo_cleanly_with_a_summary(tmp_path, repo_root):
    path = _write(tmp_path, f"[daemon]\ndemo_data = '{repo_root / 'data' / 'sample'}'\n")
    env = {k: v for k, v in os.environ.items() if not k.startswith("BETFAIR_")}
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "engine",
            "run",
            "--config",
            str(path),
            "--speed",
            "50",
            "--match",
            "2013-wimbledon-2404",
            "--api-port",
            "0",
        ],
        cwd=repo_root,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    try:
        assert process.stderr is not None
        deadline = time.monotonic() + 60.0
        for line in process.stderr:  # structured logs: wait until the demo runs
            if b"demo_running" in line or time.monotonic() > deadline:
                break
        process.send_signal(signal.SIGTERM)
        out, err = process.communicate(timeout=60.0)
    finally:
        if process.poll() is None:
            process.kill()

    assert process.returncode == 0, err.decode()[-2000:]
    summary = orjson.loads(out)
    assert summary["ended_by"] == "signal"
    assert summary["mode"] == "demo"
    assert summary["engine"]["markets_followed"] == 1


def test_paper_mode_refuses_to_start_without_a_score_feed(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("BETFAIR_USERNAME", "u")
    monkeypatch.setenv("BETFAIR_PASSWORD", "p")
    monkeypatch.setenv("BETFAIR_APP_KEY", "k")
    path = _write(tmp_path, "")

    status = main(["run", "--config", str(path), "--mode", "paper"])

    assert status == 2
    assert "scores.ws_url: --mode paper needs a live score feed" in capsys.readouterr().err
