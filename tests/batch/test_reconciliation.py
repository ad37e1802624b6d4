"""Reconciliation: each row classed against a real (loopback) sandbox, with and without a
journal, through the library and the command; on asyncio and trio."""

from __future__ import annotations

import csv
import json
from decimal import Decimal
from pathlib import Path

import anyio
import pytest
from click.testing import CliRunner
from operator_helpers import FAST, write_rows

from ecartpay_async import Payout, PayoutRequest
from ecartpay_async.batch import (
    BatchValidationError,
    CsvSource,
    JournalEntry,
    JournalState,
    SQLiteJournal,
)
from ecartpay_async.batch.reconcile import (
    Difference,
    ReconcileResult,
    ReconcileStatus,
    journal_issue,
)
from ecartpay_async.cli import main
from ecartpay_async.sandbox import Sandbox

pytestmark = pytest.mark.end_to_end

SENT = [
    PayoutRequest(email="ana@example.com", amount="100.00", currency="MXN", reference_id="r-paid"),
    PayoutRequest(email="beto@example.com", amount="20.00", currency="MXN", reference_id="r-held",
                  require_confirmation=True),
    PayoutRequest(email="carla@example.com", amount="30.00", currency="USD",
                  reference_id="r-canceled"),
    PayoutRequest(email="dora@example.com", amount="10.00", currency="MXN",
                  reference_id="r-mismatch"),
]
# The file as the operator has it now: one row changed since, one never sent.
EXPECTED = [
    *SENT[:3],
    PayoutRequest(email="dora@example.com", amount="12.00", currency="MXN",
                  reference_id="r-mismatch"),
    PayoutRequest(email="eva@example.com", amount="5.00", currency="MXN",
                  reference_id="r-unsent"),
]


async def send_and_cancel(sandbox: Sandbox, journal: Path | None = None) -> None:
    async with sandbox.client() as client:
        report = await client.payouts.send_batch(SENT, journal=journal)
        assert report.failed == 0
    with sandbox.state.lock:
        for payout in sandbox.state.payouts():
            if payout.reference_id == "r-canceled":
                payout.status = "canceled"


async def reconcile(
    sandbox: Sandbox, rows: object, **options: object
) -> dict[str, ReconcileResult]:
    client = sandbox.client(retry_policy=FAST)
    async with client, client.payouts.reconcile(rows, **options) as run:  # type: ignore[arg-type]
        found = {r.reference_id: r async for r in run}
    assert run.summary.total == len(found)
    return found  # type: ignore[return-value]


@pytest.mark.anyio
async def test_each_row_is_classed(ecartpay_sandbox: Sandbox) -> None:
    await send_and_cancel(ecartpay_sandbox)
    results = await reconcile(ecartpay_sandbox, EXPECTED, concurrency=2)
    assert {ref: r.status for ref, r in results.items()} == {
        "r-paid": ReconcileStatus.PAID,
        "r-held": ReconcileStatus.PENDING,
        "r-canceled": ReconcileStatus.FAILED,
        "r-mismatch": ReconcileStatus.MISMATCHED,
        "r-unsent": ReconcileStatus.NOT_SENT,
    }
    assert results["r-mismatch"].differences == (
        Difference("amount", Decimal("12.00"), Decimal("10.00")),
    )
    assert results["r-paid"].payout is not None
    assert results["r-paid"].matched
    assert results["r-held"].matched  # held as the row asked
    assert not results["r-canceled"].matched
    assert all(r.journal_issue is None for r in results.values())


@pytest.mark.anyio
async def test_the_summary_counts_and_totals(ecartpay_sandbox: Sandbox) -> None:
    await send_and_cancel(ecartpay_sandbox)
    async with ecartpay_sandbox.client() as client, client.payouts.reconcile(EXPECTED) as run:
        pass  # leaving the block checks every row
    summary = run.summary
    assert summary.total == 5
    assert summary.count("not_sent") == 1
    assert summary.totals(ReconcileStatus.MISMATCHED) == {"MXN": Decimal("12.00")}
    assert summary.unmatched == 3
    assert not summary.matched
    assert summary.to_dict()["amounts"]["paid"] == {"MXN": "100.00"}


@pytest.mark.anyio
async def test_everything_paid_matches(ecartpay_sandbox: Sandbox) -> None:
    async with ecartpay_sandbox.client() as client:
        await client.payouts.send_batch(SENT[:1])
        async with client.payouts.reconcile(SENT[:1]) as run:
            results = [r async for r in run]
    assert [r.status for r in results] == [ReconcileStatus.PAID]
    assert run.summary.matched


@pytest.mark.anyio
async def test_where_the_journal_and_ecart_pay_disagree(
    ecartpay_sandbox: Sandbox, tmp_path: Path
) -> None:
    journal_path = tmp_path / "run.db"
    await send_and_cancel(ecartpay_sandbox, journal_path)
    ghost = PayoutRequest(email="gus@example.com", amount="7.00", currency="MXN",
                          reference_id="r-ghost")
    outside = PayoutRequest(email="hugo@example.com", amount="8.00", currency="MXN",
                            reference_id="r-outside")
    async with SQLiteJournal(journal_path) as journal:
        # The journal claims a payout Ecart Pay never made, and a refusal (nothing sent).
        await journal.register([("r-ghost", "x"), ("r-outside", "y")])
        await journal.begin("r-ghost", "x", "an-old-run")
        await journal.finish("r-ghost", JournalState.PAID, payout_id="p-ghost",
                             payout_status="paid")
        await journal.begin("r-outside", "y", "an-old-run")
        await journal.finish("r-outside", JournalState.FAILED, error="refused")
    async with ecartpay_sandbox.client() as client:
        await client.payouts.send(outside)  # sent behind the journal's back
        await client.payouts.send(EXPECTED[4])  # never in the journal at all
    results = await reconcile(ecartpay_sandbox, [*SENT, ghost, outside, EXPECTED[4]],
                              journal=journal_path)
    issues = {ref: r.journal_issue for ref, r in results.items() if r.journal_issue}
    assert set(issues) == {"r-ghost", "r-outside", "r-unsent", "r-canceled"}
    assert issues["r-canceled"] == "the journal says paid, Ecart Pay says canceled"
    assert "journal says paid" in issues["r-ghost"]
    assert "no payout with this reference_id" in issues["r-ghost"]
    assert "journal says not sent" in issues["r-outside"]
    assert "no record of this row" in issues["r-unsent"]
    assert results["r-ghost"].status is ReconcileStatus.NOT_SENT
    assert results["r-paid"].journal is not None
    assert results["r-paid"].journal.state is JournalState.PAID
    assert results["r-paid"].matched
    assert not results["r-outside"].matched  # paid, but the journal disagrees


@pytest.mark.anyio
async def test_lookups_ride_out_faults_and_pauses(ecartpay_sandbox: Sandbox) -> None:
    await send_and_cancel(ecartpay_sandbox)
    ecartpay_sandbox.faults.configure("payouts.list:5xx=0.3,payouts.list:429=0.1", seed=5)
    results = await reconcile(ecartpay_sandbox, EXPECTED, concurrency=3)
    assert results["r-paid"].status is ReconcileStatus.PAID
    assert results["r-unsent"].status is ReconcileStatus.NOT_SENT
    assert all(r.status is not ReconcileStatus.UNKNOWN for r in results.values())
    assert sum(ecartpay_sandbox.faults.counts.values()) > 0


@pytest.mark.anyio
async def test_refused_credentials_stop_asking(ecartpay_sandbox: Sandbox) -> None:
    async with ecartpay_sandbox.client(max_retries=0) as good:
        bad = good.__class__("pub_wrong", "priv_wrong", base_url=ecartpay_sandbox.base_url)
    async with bad, bad.payouts.reconcile(EXPECTED) as run:
        results = [r async for r in run]
    assert {r.status for r in results} == {ReconcileStatus.UNKNOWN}
    assert all("refused" in str(r.error) for r in results)


@pytest.mark.anyio
async def test_an_unreadable_row_is_unknown_not_a_crash(ecartpay_sandbox: Sandbox) -> None:
    client = ecartpay_sandbox.client()
    async with client, client.payouts.reconcile([{"amount": "1", "currency": "MXN"}]) as run:
        results = [r async for r in run]
    assert results[0].status is ReconcileStatus.UNKNOWN
    assert "row 1" in str(results[0].error)


def run_cli(sandbox: Sandbox, *args: str) -> object:
    env = {"ECARTPAY_PUBLIC_KEY": sandbox.public_key, "ECARTPAY_PRIVATE_KEY": sandbox.private_key}
    return CliRunner().invoke(main, [*args, "--base-url", sandbox.base_url], env=env)


def test_the_command_reports_and_exits_1_on_differences(
    ecartpay_sandbox: Sandbox, tmp_path: Path
) -> None:
    journal = tmp_path / "run.db"
    anyio.run(send_and_cancel, ecartpay_sandbox, journal)
    rows = [(r.email or "", str(r.amount), r.currency, r.reference_id or "",
             r.require_confirmation) for r in EXPECTED]
    file = write_rows(tmp_path / "rows.csv", rows)
    report = tmp_path / "reconcile.csv"
    result = run_cli(ecartpay_sandbox, "payouts", "reconcile", str(file), "--journal",
                     str(journal), "--report", str(report), "--concurrency", "4")
    assert result.exit_code == 1, result.output  # type: ignore[attr-defined]
    output = result.stdout  # type: ignore[attr-defined]
    assert "mismatched" in output
    assert "not_sent" in output
    assert "amount: expected 12.00, found 10.00" in output
    with report.open(encoding="utf-8") as handle:
        by_ref = {r["reference_id"]: r for r in csv.DictReader(handle)}
    assert by_ref["r-paid"]["status"] == "paid"
    assert by_ref["r-paid"]["matched"] == "True"
    assert by_ref["r-paid"]["journal_state"] == "paid"
    assert by_ref["r-mismatch"]["differences"] == "amount: expected 12.00, found 10.00"
    assert by_ref["r-unsent"]["journal_state"] == ""

    jsonl = tmp_path / "reconcile.jsonl"
    sent_rows = write_rows(tmp_path / "paid.csv", rows[:1])
    result = run_cli(ecartpay_sandbox, "payouts", "reconcile", str(sent_rows), "--report",
                     str(jsonl))
    assert result.exit_code == 0, result.output  # type: ignore[attr-defined]
    assert "all 1 row match" in result.stdout  # type: ignore[attr-defined]
    lines = [json.loads(line) for line in jsonl.read_text(encoding="utf-8").splitlines()]
    assert [(r["reference_id"], r["status"], r["matched"]) for r in lines] == [
        ("r-paid", "paid", True)
    ]


def test_the_command_refuses_bad_input(ecartpay_sandbox: Sandbox, tmp_path: Path) -> None:
    file = write_rows(tmp_path / "rows.csv", [("ana@example.com", "1.005", "MXN", "r", False)])
    result = run_cli(ecartpay_sandbox, "payouts", "reconcile", str(file))
    assert result.exit_code == 2  # type: ignore[attr-defined]
    good = write_rows(tmp_path / "good.csv", [("ana@example.com", "1.00", "MXN", "r", False)])
    result = run_cli(ecartpay_sandbox, "payouts", "reconcile", str(good), "--journal",
                     str(tmp_path / "missing.db"))
    assert result.exit_code == 2  # type: ignore[attr-defined]
    assert "no journal at" in result.output  # type: ignore[attr-defined]


def _payout(payout_id: str, status: str) -> Payout:
    return Payout(id=payout_id, status=status, amount=Decimal("1.00"), currency="MXN",
                  reference_id="r")


def _entry(state: JournalState, payout_id: str | None = None) -> JournalEntry:
    return JournalEntry("r", "f", state, payout_id=payout_id)


@pytest.mark.parametrize(
    ("entry", "payout", "issue"),
    [
        (None, None, None),
        (_entry(JournalState.SENDING), None, None),  # interrupted: claims nothing
        (_entry(JournalState.SENDING), _payout("p1", "paid"), None),
        (_entry(JournalState.PENDING_CONFIRMATION, "p1"), _payout("p1", "paid"), None),
        (_entry(JournalState.PAID, "p1"), _payout("p1", "paid"), None),
        (_entry(JournalState.FAILED, "p1"), _payout("p1", "failed"), None),
        (_entry(JournalState.PAID, "p1"), _payout("p2", "paid"),
         "the journal records payout p1, Ecart Pay has p2"),
        (_entry(JournalState.PAID, "p1"), _payout("p1", "pending"),
         "the journal says paid, Ecart Pay says pending"),
        (_entry(JournalState.PENDING), _payout("p1", "paid"),
         "the journal says not sent (pending), but Ecart Pay has payout p1 (paid)"),
        (_entry(JournalState.PENDING_CONFIRMATION, "p1"), None,
         "the journal says pending_confirmation (payout p1), but Ecart Pay has no payout "
         "with this reference_id"),
        (None, _payout("p1", "paid"),
         "the journal has no record of this row, but Ecart Pay has payout p1"),
    ],
)
def test_journal_issue_table(
    entry: JournalEntry | None, payout: Payout | None, issue: str | None
) -> None:
    assert journal_issue(entry, payout) == issue


@pytest.mark.anyio
async def test_a_bad_file_is_refused_before_any_lookup(
    ecartpay_sandbox: Sandbox, tmp_path: Path
) -> None:
    bad = write_rows(tmp_path / "bad.csv", [("ana@example.com", "1.005", "MXN", "r-1", False)])
    client = ecartpay_sandbox.client()
    with pytest.raises(BatchValidationError, match="line 2"):
        async with client, client.payouts.reconcile(CsvSource(bad)):
            pass
