"""Bulk confirmation against a loopback sandbox: by reference_id or payout id, exactly once
in effect, through faults and pauses; the library on asyncio and trio, and the command."""

from __future__ import annotations

import csv
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path

import anyio
import pytest
from click.testing import CliRunner
from operator_helpers import FAST, write_rows

from ecartpay_async import PayoutRequest, ValidationError
from ecartpay_async.batch.confirm import ConfirmOutcome, ConfirmStatus, PayoutRef, to_ref
from ecartpay_async.cli import main
from ecartpay_async.sandbox import Sandbox

pytestmark = pytest.mark.end_to_end

HELD = [
    PayoutRequest(email=f"seller{i}@example.com", amount=f"{10 + i}.00", currency="MXN",
                  reference_id=f"held-{i}", require_confirmation=True)
    for i in range(6)
]
PAID = PayoutRequest(email="ana@example.com", amount="5.00", currency="MXN",
                     reference_id="paid-0")


async def hold(sandbox: Sandbox) -> dict[str, str]:
    """Send the held payouts and one paid one; their ids by reference_id."""
    async with sandbox.client() as client, client.payouts.batch([*HELD, PAID]) as batch:
        ids = {o.reference_id: o.payout.id async for o in batch if o.payout}
    assert len(ids) == 7
    return ids  # type: ignore[return-value]


def balances(sandbox: Sandbox) -> dict[str, Decimal]:
    return {r.email or "": sandbox.state.balance(r.email or "", "MXN") for r in HELD}


async def confirm_all(
    sandbox: Sandbox, refs: list[object], **options: object
) -> list[ConfirmOutcome]:
    client = sandbox.client(retry_policy=FAST)
    async with client, client.payouts.confirm_batch(refs, **options) as batch:  # type: ignore[arg-type]
        outcomes = [o async for o in batch]
    assert batch.report.total == len(outcomes)
    return sorted(outcomes, key=lambda o: o.row)


@pytest.mark.anyio
async def test_confirms_by_reference_and_by_id_once_in_effect(ecartpay_sandbox: Sandbox) -> None:
    ids = await hold(ecartpay_sandbox)
    refs: list[object] = [
        PayoutRef(reference_id="held-0"), {"reference_id": "held-1"}, HELD[2],
        ids["held-3"], {"payout_id": ids["held-4"]}, PayoutRef(payout_id=ids["held-5"]),
        PAID, PayoutRef(reference_id="nobody"),
    ]
    outcomes = await confirm_all(ecartpay_sandbox, refs, concurrency=3)
    assert [o.status for o in outcomes] == [ConfirmStatus.CONFIRMED] * 6 + [
        ConfirmStatus.ALREADY_PAID, ConfirmStatus.FAILED,
    ]
    assert "nobody" in str(outcomes[-1].error)
    assert all(o.payout is not None and o.payout.is_paid for o in outcomes[:7])
    credited = balances(ecartpay_sandbox)
    assert credited == {r.email: r.amount for r in HELD}

    # A second run does nothing new: every row counts as done, no one is paid twice.
    again = await confirm_all(ecartpay_sandbox, refs[:7])
    assert {o.status for o in again} == {ConfirmStatus.ALREADY_PAID}
    assert all(o.ok for o in again)
    assert balances(ecartpay_sandbox) == credited


@pytest.mark.anyio
async def test_report_counts_totals_and_failures(ecartpay_sandbox: Sandbox) -> None:
    await hold(ecartpay_sandbox)
    client = ecartpay_sandbox.client()
    async with client, client.payouts.confirm_batch([*HELD, "no-such-id"]) as batch:
        pass  # leaving the block confirms every row
    report = batch.report
    assert report.count(ConfirmStatus.CONFIRMED) == 6
    assert report.totals("confirmed") == {"MXN": sum((r.amount for r in HELD), Decimal(0))}
    assert report.failed == 1
    assert report.failures[0].row == 7
    assert report.failures[0].status_code == 404
    assert not report.ok


@pytest.mark.anyio
@pytest.mark.ecartpay_sandbox(seed=11)
async def test_faults_and_pauses_still_confirm_each_once(ecartpay_sandbox: Sandbox) -> None:
    await hold(ecartpay_sandbox)
    ecartpay_sandbox.faults.configure(
        "payouts.confirm:5xx=0.3,payouts.confirm:drop_after_commit=0.2,payouts.confirm:429=0.1",
        seed=11,
    )
    outcomes = await confirm_all(ecartpay_sandbox, list(HELD), concurrency=4)
    assert all(o.ok for o in outcomes), [o.error for o in outcomes]
    assert sum(ecartpay_sandbox.faults.counts.values()) > 0
    assert balances(ecartpay_sandbox) == {r.email: r.amount for r in HELD}


@pytest.mark.clock
@pytest.mark.anyio
async def test_scheduled_confirmations(ecartpay_sandbox: Sandbox) -> None:
    await hold(ecartpay_sandbox)
    when = datetime.now(timezone.utc).replace(microsecond=0) + timedelta(days=3)
    outcomes = await confirm_all(ecartpay_sandbox, list(HELD[:2]), available_at=when)
    assert [o.status for o in outcomes] == [ConfirmStatus.SCHEDULED] * 2
    assert all(o.payout is not None and o.payout.available_at == when for o in outcomes)
    with pytest.raises(ValidationError, match="available_at"):
        ecartpay_sandbox.client().payouts.confirm_batch(HELD, when.replace(tzinfo=None))


def test_rows_name_a_payout_or_are_refused() -> None:
    assert to_ref(" p1 ") == PayoutRef(payout_id="p1")
    assert to_ref({"id": "p2", "reference_id": "r"}) == PayoutRef(payout_id="p2", reference_id="r")
    with pytest.raises(ValidationError, match="payout_id or a reference_id"):
        to_ref({"email": "ana@example.com"})
    with pytest.raises(ValidationError, match="expected a payout id"):
        to_ref(42)


def invoke(sandbox: Sandbox, *args: str) -> object:
    env = {"ECARTPAY_PUBLIC_KEY": sandbox.public_key, "ECARTPAY_PRIVATE_KEY": sandbox.private_key}
    return CliRunner().invoke(main, [*args, "--base-url", sandbox.base_url], env=env)


def test_the_command_confirms_the_sent_file(ecartpay_sandbox: Sandbox, tmp_path: Path) -> None:
    anyio.run(hold, ecartpay_sandbox)
    rows = [(r.email or "", str(r.amount), r.currency, r.reference_id or "", True) for r in HELD]
    file = write_rows(tmp_path / "sent.csv", rows)
    report = tmp_path / "confirm.csv"
    result = invoke(ecartpay_sandbox, "payouts", "confirm", "--from", str(file), "--report",
                    str(report), "--concurrency", "3")
    assert result.exit_code == 0, result.output  # type: ignore[attr-defined]
    assert "confirmed" in result.stdout  # type: ignore[attr-defined]
    with report.open(encoding="utf-8") as handle:
        lines = list(csv.DictReader(handle))
    assert sorted(r["reference_id"] for r in lines) == sorted(r.reference_id for r in HELD)
    assert {r["status"] for r in lines} == {"confirmed"}
    assert {r["payout_status"] for r in lines} == {"paid"}

    again = invoke(ecartpay_sandbox, "payouts", "confirm", "--from", str(file))
    assert again.exit_code == 0, again.output  # type: ignore[attr-defined]
    assert "already_paid" in again.stdout  # type: ignore[attr-defined]


def test_the_command_refuses_bad_files_and_usage(ecartpay_sandbox: Sandbox,
                                                  tmp_path: Path) -> None:
    no_column = tmp_path / "bad.csv"
    no_column.write_text("email,amount\nana@example.com,1\n", encoding="utf-8")
    result = invoke(ecartpay_sandbox, "payouts", "confirm", "--from", str(no_column))
    assert result.exit_code == 2  # type: ignore[attr-defined]
    assert "payout_id or reference_id column" in result.output  # type: ignore[attr-defined]
    empty_row = tmp_path / "gap.csv"
    empty_row.write_text("payout_id,reference_id,note\np1,,x\n,,y\n", encoding="utf-8")
    result = invoke(ecartpay_sandbox, "payouts", "confirm", "--from", str(empty_row))
    assert result.exit_code == 2  # type: ignore[attr-defined]
    assert "line 3" in result.output  # type: ignore[attr-defined]
    both = invoke(ecartpay_sandbox, "payouts", "confirm", "p1", "--from", str(empty_row))
    assert both.exit_code == 2  # type: ignore[attr-defined]
    as_json = invoke(ecartpay_sandbox, "payouts", "confirm", "--from", str(empty_row), "--json")
    assert as_json.exit_code == 2  # type: ignore[attr-defined]
    assert "--report FILE.jsonl" in as_json.output  # type: ignore[attr-defined]
    assert ecartpay_sandbox.state.payouts() == []
