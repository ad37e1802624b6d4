"""Logs an operator can use: ``ECARTPAY_LOG`` with no code, ``payouts send --log-format
json`` for log pipelines; never a key, a token or an email in them."""

from __future__ import annotations

import io
import json
import logging
import subprocess
from collections.abc import Iterator
from pathlib import Path

import anyio
import pytest
from operator_helpers import cli_env, command, write_rows

from ecartpay_async import _logging
from ecartpay_async.sandbox import Sandbox


@pytest.fixture
def fresh_logging(monkeypatch: pytest.MonkeyPatch) -> Iterator[logging.Logger]:
    """The SDK's logger as a new process has it, restored afterwards."""
    logger = logging.getLogger("ecartpay_async")
    monkeypatch.setattr(_logging, "_read_env", False)
    handlers, level = list(logger.handlers), logger.level
    yield logger
    logger.handlers[:] = handlers
    logger.setLevel(level)


def test_the_variable_turns_logging_on_once(fresh_logging: logging.Logger) -> None:
    _logging.configure_logging_from_env({"ECARTPAY_LOG": "Info"})
    _logging.configure_logging_from_env({"ECARTPAY_LOG": "debug"})  # read once: ignored
    ours = [h for h in fresh_logging.handlers if isinstance(h, _logging._SDKHandler)]
    assert len(ours) == 1
    assert fresh_logging.level == logging.INFO


def test_an_unknown_level_warns_and_stays_off(fresh_logging: logging.Logger) -> None:
    with pytest.warns(UserWarning, match="ECARTPAY_LOG='loud'"):
        _logging.configure_logging_from_env({"ECARTPAY_LOG": "loud"})
    assert not any(isinstance(h, _logging._SDKHandler) for h in fresh_logging.handlers)


def test_emails_are_masked_in_text_and_json(fresh_logging: logging.Logger) -> None:
    for json_lines in (False, True):
        stream = io.StringIO()
        _logging.log_to_stderr(logging.WARNING, json_lines=json_lines, stream=stream)
        fresh_logging.warning("conflict: requested %r, found %r", "ana@example.com", "b@x.mx")
        fresh_logging.info("not shown at warning")
        line = stream.getvalue()
        assert "@" not in line
        assert line.count("<email>") == 2
        assert "not shown" not in line
        if json_lines:
            assert json.loads(line)["level"] == "warning"
    assert len([h for h in fresh_logging.handlers if isinstance(h, _logging._SDKHandler)]) == 1


async def _send_one(sandbox: Sandbox) -> None:
    async with sandbox.client() as client:
        await client.payouts.create(email="ana@example.com", amount="10.00", currency="MXN",
                                    reference_id="log-1")


# A server that echoes the recipient's email (the documented answer has none), so that
# the lookup sees the other recipient and the error, masked, names both addresses.
@pytest.mark.ecartpay_sandbox(payout_email=True)
def test_the_command_logs_json_lines_with_no_secret_or_email(
    ecartpay_sandbox: Sandbox, tmp_path: Path
) -> None:
    # log-1 was paid to ana; the file now says beto: a conflict, and a stopped batch.
    anyio.run(_send_one, ecartpay_sandbox)
    file = write_rows(tmp_path / "rows.csv", [
        ("carla@example.com", "5.00", "MXN", "log-0", False),
        ("beto@example.com", "10.00", "MXN", "log-1", False),
    ])
    result = subprocess.run(
        command("payouts", "send", str(file), "--log-format", "json", "--concurrency", "1",
                "--base-url", ecartpay_sandbox.base_url),
        env=cli_env(ecartpay_sandbox, ECARTPAY_LOG="debug"), stdin=subprocess.DEVNULL,
        capture_output=True, text=True, timeout=60,
    )
    assert result.returncode == 3, result.stderr
    records = [json.loads(line) for line in result.stderr.splitlines()]
    logs = [r for r in records if "level" in r]
    rows = {r["reference_id"]: r for r in records if r.get("event") == "payout"}
    batch = [r for r in records if r.get("event") == "batch"]
    assert any("POST /api/payouts -> 200" in r["message"] for r in logs)
    assert any(r["level"] == "warning" and "batch stopping" in r["message"] for r in logs)
    assert rows["log-0"]["status"] == "paid"
    assert rows["log-0"]["attempts"] == 1
    assert rows["log-0"]["latency_ms"] > 0
    assert rows["log-1"]["status"] == "failed"
    assert rows["log-1"]["error_type"] == "IdempotencyConflictError"
    assert "<email>" in rows["log-1"]["error"]
    assert len({r["run_id"] for r in records if "run_id" in r}) == 1
    assert batch[0]["counts"] == {"paid": 1, "failed": 1}
    assert "@" not in result.stderr
    assert ecartpay_sandbox.private_key not in result.stderr + result.stdout
    assert "eyJ" not in result.stderr  # no JWT


def test_the_variable_needs_no_code(ecartpay_sandbox: Sandbox, tmp_path: Path) -> None:
    file = write_rows(tmp_path / "rows.csv", [("ana@example.com", "5.00", "MXN", "v-1", False)])
    result = subprocess.run(
        command("payouts", "send", str(file), "--base-url", ecartpay_sandbox.base_url),
        env=cli_env(ecartpay_sandbox, ECARTPAY_LOG="debug"), stdin=subprocess.DEVNULL,
        capture_output=True, text=True, timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert "DEBUG ecartpay_async: POST /api/payouts -> 200 (attempt 1" in result.stderr
    assert ecartpay_sandbox.private_key not in result.stderr
