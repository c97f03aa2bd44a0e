import json

import structlog

from engine.logs import configure_logging


def test_json_logs_redact_secrets(capsys):
    configure_logging("INFO", json=True)
    structlog.get_logger().info("login", username="alice", password="hunter2", app_key="abc")
    line = capsys.readouterr().err.strip().splitlines()[-1]
    record = json.loads(line)
    assert record["event"] == "login"
    assert record["username"] == "alice"
    assert record["password"] == "***"
    assert record["app_key"] == "***"
    assert "hunter2" not in line


def test_logs_follow_stderr_replaced_after_configuration(monkeypatch):
    import io
    import sys

    configure_logging("INFO", json=True)
    replacement = io.StringIO()
    monkeypatch.setattr(sys, "stderr", replacement)
    structlog.get_logger().warning("late")
    assert json.loads(replacement.getvalue())["event"] == "late"
