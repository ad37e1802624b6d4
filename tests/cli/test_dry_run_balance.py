"""``payouts send --dry-run`` shows the balance when the API answers one it can read,
and one dim line (never a wait, never a failure) when it cannot."""

from __future__ import annotations

import socket
from decimal import Decimal
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from ecartpay_async.cli import balance, main
from ecartpay_async.sandbox import Sandbox

ROWS = ("email,amount,currency,reference_id\n"
        "ana@example.com,1500.00,MXN,r-1\n"
        "beto@example.com,2500,CLP,r-2\n")
BASE = "https://api.ecartpay.test"


@pytest.fixture
def csv_file(tmp_path: Path) -> Path:
    path = tmp_path / "rows.csv"
    path.write_text(ROWS, encoding="utf-8")
    return path


def dry_run(csv_file: Path, *args: str, **env: str) -> Result:
    environment = {"ECARTPAY_PUBLIC_KEY": "", "ECARTPAY_PRIVATE_KEY": "", **env}
    result = CliRunner().invoke(main, ["payouts", "send", str(csv_file), "--dry-run", *args],
                                env=environment)
    assert result.exit_code == 0, result.output
    assert "2 valid rows" in result.stdout
    return result


def test_the_embedded_sandbox_shows_its_balances(csv_file):
    out = dry_run(csv_file, "--sandbox").stdout
    assert "available" in out
    assert "999,998,500.00" in out  # MXN: the sandbox's 1,000,000,000 less 1,500.00
    assert "999,997,500" in out  # CLP, no minor unit


def test_a_served_api_with_keys_shows_the_merchants_balance(csv_file):
    with Sandbox(balances={"MXN": "1000.00", "CLP": 5000}) as sb:
        out = dry_run(csv_file, "--base-url", sb.base_url,
                      ECARTPAY_PUBLIC_KEY=sb.public_key, ECARTPAY_PRIVATE_KEY=sb.private_key,
                      ).stdout
        assert sb.state.payouts() == []  # a dry run sends nothing
    assert "1,000.00" in out
    assert "-500.00 (short)" in out  # the batch needs more MXN than there is
    assert "2,500" in out
    assert sb.private_key not in out


def test_without_keys_one_line_says_why(csv_file):
    out = dry_run(csv_file).stdout
    assert "balance: not available (no Ecart Pay keys: set the environment variables" in out
    assert "public_key" not in out  # the SDK's argument name is not the operator's word


def test_a_server_that_never_answers_does_not_hold_the_dry_run(csv_file, monkeypatch):
    monkeypatch.setattr(balance, "BALANCE_DEADLINE", 0.2)
    with socket.socket() as silent:  # accepts connections (backlog), never answers
        silent.bind(("127.0.0.1", 0))
        silent.listen()
        port = silent.getsockname()[1]
        out = dry_run(csv_file, "--base-url", f"http://127.0.0.1:{port}",
                      ECARTPAY_PUBLIC_KEY="pk", ECARTPAY_PRIVATE_KEY="sk").stdout
    assert "balance: not available (no answer within 0.2 s)" in out


def test_a_refused_connection_is_one_line(csv_file):
    with socket.socket() as closed:
        closed.bind(("127.0.0.1", 0))
        port = closed.getsockname()[1]  # bound, not listening: connections are refused
        out = dry_run(csv_file, "--base-url", f"http://127.0.0.1:{port}",
                      ECARTPAY_PUBLIC_KEY="pk", ECARTPAY_PRIVATE_KEY="sk").stdout
    assert "balance: not available (ConnectError" in out



@pytest.mark.anyio
async def test_answers_it_cannot_read(mocked):
    router, client = mocked
    route = router.get("/api/transactions/summary")
    route.respond(200, text="<html>maintenance</html>", headers={"content-type": "text/html"})
    found = await balance.fetch_balances(client, ["MXN"])
    assert found.unavailable is not None
    assert found.available == {}

    route.respond(200, json={"currency": "MXN", "pay_ins": 10})
    found = await balance.fetch_balances(client, ["MXN"])
    assert found.unavailable == "the MXN summary has no balance"

    route.respond(500, json={"message": "boom", "statusCode": 500})
    found = await balance.fetch_balances(client, ["MXN"])
    assert found.unavailable is not None
    assert route.call_count == 3  # no retries: a courtesy, not a task

    route.respond(200, json={"currency": "MXN", "balance": 12.5})
    assert await balance.fetch_balances(client, ["MXN"]) == balance.Balances(
        available={"MXN": Decimal("12.5")})
