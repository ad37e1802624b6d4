"""``payouts send`` before and after money: whose journal, what balance, what was paid now.

* a journal belongs to one origin, account and file: a sandbox rehearsal's journal
  never silences a production run, nor one against another sandbox account, nor
  another file; each is refused before anything is sent, exit 2, in one line;
* the available balance is read before the first payout and a batch it cannot cover
  is refused (exit 2, the shortfall per currency) unless ``--allow-short``;
* ``--balance CUR=AMOUNT`` funds the sandbox: ``--sandbox``, ``sandbox serve`` and the
  pytest fixture;
* the summary tells "paid now" from "already paid earlier", with or without a
  journal, and a batch already paid whole exits 4 unless ``--expect-done``.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import sqlite3
import subprocess
import sys
import textwrap
from decimal import Decimal
from pathlib import Path

import httpx
from click.testing import CliRunner, Result

from ecartpay_async.cli import main
from ecartpay_async.sandbox import Sandbox

HEADER = "email,amount,currency,reference_id,require_confirmation\n"
ROWS = "ana@example.com,10.00,MXN,r-1,no\nbeto@example.com,5,MXN,r-2,no\n"


def run(args: list[str], sandbox: Sandbox | None = None, **env: str) -> Result:
    environment = dict(env)
    if sandbox is not None:
        environment["ECARTPAY_PUBLIC_KEY"] = sandbox.public_key
        environment["ECARTPAY_PRIVATE_KEY"] = sandbox.private_key
        args = [*args, "--base-url", sandbox.base_url]
    return CliRunner().invoke(main, args, env=environment)


def rows_file(tmp_path: Path, body: str = ROWS, name: str = "rows.csv") -> Path:
    path = tmp_path / name
    path.write_text(HEADER + body, encoding="utf-8")
    return path


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def one_line(text: str, *words: str) -> str:
    [line] = [line for line in text.splitlines() if all(word in line for word in words)]
    return line


# -- whose journal --------------------------------------------------------------------------


def test_a_rehearsal_journal_is_refused_by_a_production_run(tmp_path: Path) -> None:
    path, journal = rows_file(tmp_path), str(tmp_path / "rehearsal.db")
    rehearsal = run(["payouts", "send", str(path), "--sandbox", "--journal", journal])
    assert rehearsal.exit_code == 0, rehearsal.output
    production = run(
        ["payouts", "send", str(path), "--environment", "production", "--yes",
         "--journal", journal],
        ECARTPAY_PUBLIC_KEY="pk_live", ECARTPAY_PRIVATE_KEY="sk_live",
    )
    assert production.exit_code == 2, production.output
    line = one_line(production.stderr, "origin", "https://ecartpay.com")
    assert "origin 'http://sandbox.local' in the journal, 'https://ecartpay.com' in this run" in (
        line)
    assert "nothing was sent" in line
    assert "already paid" not in production.stdout


def test_a_journal_reused_against_another_sandbox_account_is_refused(tmp_path: Path) -> None:
    path, journal = rows_file(tmp_path), str(tmp_path / "run.db")
    port = free_port()  # the same origin for both: only the account differs
    with Sandbox(port=port, public_key="pub_ana", private_key="k") as ana:
        first = run(["payouts", "send", str(path), "--journal", journal], ana)
    assert first.exit_code == 0, first.output
    with Sandbox(port=port, public_key="pub_beto", private_key="k") as beto:
        second = run(["payouts", "send", str(path), "--journal", journal], beto)
        assert beto.state.payouts() == []
    assert second.exit_code == 2, second.output
    line = one_line(second.stderr, "account")
    assert "origin" not in line
    assert "nothing was sent" in line


def test_a_journal_brought_back_with_another_file_is_refused(tmp_path: Path) -> None:
    journal = str(tmp_path / "run.db")
    march = rows_file(tmp_path, name="march.csv")
    april = rows_file(tmp_path, ROWS.replace("r-", "april-"), name="april.csv")
    with Sandbox() as sb:
        assert run(["payouts", "send", str(march), "--journal", journal], sb).exit_code == 0
        again = run(["payouts", "send", str(april), "--journal", journal], sb)
        assert len(sb.state.payouts()) == 2
    assert again.exit_code == 2, again.output
    assert "input" in one_line(again.stderr, "nothing was sent")


# -- paid now, already paid earlier --------------------------------------------------------


def test_a_rerun_without_a_journal_tells_earlier_payouts_from_new_ones(tmp_path: Path) -> None:
    with Sandbox() as sb:
        first = run(["payouts", "send", str(rows_file(tmp_path))], sb)
        assert first.exit_code == 0, first.output
        assert "paid now: 2 rows, 15.00 MXN; already paid earlier: 0 rows" in first.stdout
        again = run(["payouts", "send", str(rows_file(tmp_path))], sb)
        grown = rows_file(tmp_path, ROWS + "carla@example.com,7.25,MXN,r-3,no\n", "grown.csv")
        third = run(["payouts", "send", str(grown)], sb)
        assert len(sb.state.payouts()) == 3
    assert again.exit_code == 4, again.output
    assert "paid now: 0 rows, -; already paid earlier: 2 rows, 15.00 MXN" in again.stdout
    assert "every row (2) was already paid by an earlier run" in again.stdout
    assert third.exit_code == 0, third.output
    assert "paid now: 1 row, 7.25 MXN; already paid earlier: 2 rows, 15.00 MXN" in third.stdout


def test_expect_done_makes_a_finished_batch_exit_0(tmp_path: Path) -> None:
    path, journal = rows_file(tmp_path), str(tmp_path / "run.db")
    with Sandbox() as sb:
        assert run(["payouts", "send", str(path), "--journal", journal], sb).exit_code == 0
        again = run(["payouts", "send", str(path), "--journal", journal], sb)
        expected = run(["payouts", "send", str(path), "--journal", journal, "--expect-done"],
                       sb)
    assert again.exit_code == 4
    assert one_line(again.stdout, "already paid by an earlier run").endswith(
        "(--expect-done to exit 0)")
    assert expected.exit_code == 0, expected.output


# -- balance before money --------------------------------------------------------------------


def test_a_batch_the_balance_cannot_cover_is_refused(tmp_path: Path) -> None:
    body = ROWS + "carla@example.com,100,COP,r-3,no\n"
    result = run(["payouts", "send", str(rows_file(tmp_path, body)), "--sandbox",
                  "--balance", "MXN=12.50", "--balance", "COP=40"])
    assert result.exit_code == 2, result.output
    line = one_line(result.stderr, "short")
    assert "COP short by 60.00 (needs 100.00, has 40.00)" in line
    assert "MXN short by 2.50 (needs 15.00, has 12.50)" in line
    assert "nothing was sent" in line
    assert "sandbox: 0 payouts recorded" in result.stdout


def test_allow_short_sends_anyway(tmp_path: Path) -> None:
    result = run(["payouts", "send", str(rows_file(tmp_path)), "--sandbox",
                  "--balance", "MXN=12.50", "--allow-short"])
    assert "sending anyway (--allow-short)" in result.stderr
    assert "sandbox: 1 payout recorded" in result.stdout  # the second row overdrew
    assert result.exit_code == 3, result.output


def test_a_resumed_batch_needs_only_what_is_left_to_send(tmp_path: Path) -> None:
    path, journal = rows_file(tmp_path), str(tmp_path / "run.db")
    with Sandbox(balances={"MXN": "10"}) as sb:
        first = run(["payouts", "send", str(path), "--journal", journal, "--allow-short"], sb)
        assert first.exit_code == 3, first.output  # r-2 found the balance empty
        refused = run(["payouts", "send", str(path), "--journal", journal], sb)
        assert refused.exit_code == 2, refused.output
        assert "MXN short by 5.00 (needs 5.00, has 0.00)" in refused.stderr  # r-1 is done
        sb.state.upsert_account({"email": sb.state.merchant.email, "credit": {"MXN": "5"}})
        resumed = run(["payouts", "send", str(path), "--journal", journal], sb)
        assert len(sb.state.payouts()) == 2
    assert resumed.exit_code == 0, resumed.output
    assert "paid now: 1 row, 5.00 MXN; already paid earlier: 1 row, 10.00 MXN" in resumed.stdout


def test_balance_needs_the_sandbox(tmp_path: Path) -> None:
    result = run(["payouts", "send", str(rows_file(tmp_path)), "--balance", "MXN=1"])
    assert result.exit_code == 2
    assert result.stderr.strip() == (
        "error: --balance sets the --sandbox emulator's balance; add --sandbox")
    bad = run(["payouts", "send", str(rows_file(tmp_path)), "--sandbox", "--balance", "MXN"])
    assert bad.exit_code == 2
    assert "expected CURRENCY=AMOUNT" in bad.stderr


def test_the_dry_run_shows_the_sandbox_balance_given(tmp_path: Path) -> None:
    result = run(["payouts", "send", str(rows_file(tmp_path)), "--sandbox", "--dry-run",
                  "--balance", "MXN=12.50"])
    assert result.exit_code == 0, result.output
    assert "-2.50 (short)" in result.stdout


def test_sandbox_serve_takes_a_balance(tmp_path: Path) -> None:
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "ecartpay_async", "sandbox", "serve", "--port", str(port),
         "--balance", "MXN=123.45", "--balance", "clp=5000"],
        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
    )
    try:
        assert process.stdout is not None
        said: dict[str, str] = {}
        for line in process.stdout:
            name, _, value = line.strip().removeprefix("export ").partition("=")
            said[name] = value
            if name == "ECARTPAY_PRIVATE_KEY":
                break
        with httpx.Client(base_url=said["ECARTPAY_BASE_URL"]) as http:
            token = http.post("/api/authorizations/token", auth=(
                said["ECARTPAY_PUBLIC_KEY"], said["ECARTPAY_PRIVATE_KEY"])).json()["token"]
            state = http.get("/_sandbox/state").json()
            assert token
        [merchant] = [a for a in state["accounts"]
                      if a["email"] == "merchant@sandbox.ecartpay.test"]
        assert Decimal(str(merchant["balances"]["MXN"])) == Decimal("123.45")
        assert Decimal(str(merchant["balances"]["CLP"])) == Decimal("5000")
        assert Decimal(str(merchant["balances"]["COP"])) == Decimal("200000000000")
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=30)


def test_the_pytest_fixture_takes_a_balance(tmp_path: Path) -> None:
    (tmp_path / "test_funded.py").write_text(textwrap.dedent("""
        from decimal import Decimal

        import pytest

        def test_option(ecartpay_sandbox):
            state = ecartpay_sandbox.state
            assert state.balance(state.merchant.email, "MXN") == Decimal("77.00")
            assert state.balance(state.merchant.email, "COP") == Decimal("200000000000")

        @pytest.mark.ecartpay_sandbox(balances={"MXN": "5"})
        def test_marker(ecartpay_sandbox):
            state = ecartpay_sandbox.state
            assert state.balance(state.merchant.email, "MXN") == Decimal("5.00")
    """), encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST_")}
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "test_funded.py",
         "--ecartpay-balance", "MXN=77"],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120, check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "2 passed" in result.stdout


def test_a_journal_from_an_earlier_version_is_adopted_and_says_so(tmp_path: Path) -> None:
    path, journal = rows_file(tmp_path), tmp_path / "old.db"
    with Sandbox() as sb:
        first = run(["payouts", "send", str(path), "--journal", str(journal)], sb)
        assert first.exit_code == 0, first.output
        with contextlib.closing(sqlite3.connect(journal)) as conn:  # as version 1 left it
            conn.execute("DROP TABLE identity")
            conn.execute("PRAGMA user_version=1")
            conn.commit()
        again = run(["payouts", "send", str(path), "--journal", str(journal), "--expect-done"],
                    sb)
        third = run(["payouts", "send", str(path), "--journal", str(journal), "--expect-done"],
                    sb)
        origin = sb.base_url
    assert again.exit_code == 0, again.output
    assert one_line(again.stderr, "recorded no origin or account").endswith(
        f"it now belongs to this run's origin {origin} and its account")
    assert "recorded no origin" not in third.stderr  # adopted once


class _NoSummary:
    """A client whose API does not answer the balance (404 on the summary)."""

    def with_options(self, **options: object) -> _NoSummary:
        return self

    @property
    def transactions(self) -> _NoSummary:
        return self

    async def summary(self, currency: str) -> object:
        from ecartpay_async import NotFoundError

        raise NotFoundError("Not Found", status_code=404, method="GET",
                            path="/api/transactions/summary")


def test_a_balance_the_api_does_not_answer_is_noted_and_the_run_goes_on() -> None:
    import io

    import anyio
    from rich.console import Console

    from ecartpay_async.cli.balance import balance_check

    err = io.StringIO()
    check = balance_check(_NoSummary(), Console(file=err, width=200),  # type: ignore[arg-type]
                          allow_short=False)
    anyio.run(check, {"MXN": Decimal("15.00")})  # does not raise: nothing to refuse with
    assert err.getvalue().startswith("balance: not checked (404 GET /api/transactions/summary")
