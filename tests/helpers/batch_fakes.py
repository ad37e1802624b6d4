"""Test helpers: an in-memory ``client.payouts``, request factories, sandbox checks."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from decimal import Decimal
from typing import TYPE_CHECKING, Any

import anyio
import anyio.lowlevel

from ecartpay_async._http import Attempt
from ecartpay_async._pause import PauseGate
from ecartpay_async.models.payouts import Payout, PayoutRequest
from ecartpay_async.resources.payouts import SendResult

if TYPE_CHECKING:
    from ecartpay_async.sandbox import Sandbox

Behaviour = Callable[[PayoutRequest, int], BaseException | None]


class FakePayouts:
    """Creates payouts in a dict; ``behaviour(request, call)`` may return an error to raise.

    ``commit_then_fail`` errors are raised after the payout is stored (an answer lost
    on the way back), others before.
    """

    def __init__(
        self,
        behaviour: Behaviour | None = None,
        *,
        commit_then_fail: bool = False,
        delay: float = 0.0,
        status: str | None = None,
    ) -> None:
        self.behaviour = behaviour
        self.commit_then_fail = commit_then_fail
        self.delay = delay
        self.status = status
        self.created: dict[str, Payout] = {}
        self.pause_gate = PauseGate()
        self.sends = 0
        self.duplicate_sends = 0  # sends for a reference_id that already had a payout
        self.lookups = 0
        self.in_flight = 0
        self.max_in_flight = 0

    async def send(
        self,
        request: PayoutRequest,
        *,
        max_retries: int | None = None,
        timeout: Any = None,
        on_attempt: Callable[[Attempt], None] | None = None,
    ) -> SendResult:
        self.sends += 1
        call = self.sends
        self.in_flight += 1
        self.max_in_flight = max(self.max_in_flight, self.in_flight)
        try:
            await anyio.sleep(self.delay)
            error = self.behaviour(request, call) if self.behaviour else None
            if error is not None and not self.commit_then_fail:
                if on_attempt:
                    code = getattr(error, "status_code", None)
                    on_attempt(Attempt("POST", "/api/payouts", 1, code, None, 0.0))
                error.attempts = 1  # as the pipeline says of its errors
                raise error
            ref = request.reference_id
            assert ref is not None
            recovered = ref in self.created
            self.duplicate_sends += recovered
            if not recovered:
                self.created[ref] = Payout(
                    id=f"po_{len(self.created) + 1}",
                    status=self.status or ("pending" if request.require_confirmation else "paid"),
                    amount=request.amount,
                    currency=request.currency,
                    reference_id=ref,
                    email=request.email,
                    fee=Decimal(0),
                )
            if error is not None:
                error.attempts = 1
                raise error
            if on_attempt:
                on_attempt(Attempt("POST", "/api/payouts", 1, 200, None, 0.0))
            return SendResult(self.created[ref], 1, recovered)
        finally:
            self.in_flight -= 1

    async def find_by_reference(
        self, reference_id: str, *, max_retries: int | None = None, timeout: Any = None
    ) -> Payout | None:
        self.lookups += 1
        await anyio.lowlevel.checkpoint()
        return self.created.get(reference_id)


def make_requests(n: int, *, prefix: str = "payroll-2026-11", currency: str = "MXN"
                  ) -> list[PayoutRequest]:
    return [
        PayoutRequest(
            email=f"person{i}@example.com",
            reference_id=f"{prefix}-{i:04d}",
            amount=Decimal(f"{100 + i}.{i % 100:02d}"),
            currency=currency,
            require_confirmation=(i % 10 == 0),
        )
        for i in range(1, n + 1)
    ]


def watch_reuses(sandbox: Sandbox) -> list[str]:
    """reference_ids the sandbox was asked to pay again: a correct client sends none.

    The sandbox would refuse such a request (its reuse rule is the last guard); this
    spy makes the test independent of that guard.
    """
    reused: list[str] = []
    original = sandbox.state._reused

    def spy(existing):  # type: ignore[no-untyped-def]
        reused.append(existing.reference_id)
        return original(existing)

    sandbox.state._reused = spy  # type: ignore[method-assign]
    return reused


def assert_paid_exactly_once(sandbox: Sandbox, requests: Sequence[PayoutRequest]) -> None:
    payouts = sandbox.state.payouts()
    by_reference = {p.reference_id: p for p in payouts}
    assert len(payouts) == len(by_reference) == len(requests)
    for request in requests:
        payout = by_reference[request.reference_id]
        assert payout.amount == request.amount  # to the cent, as Decimal
        assert payout.currency == request.currency
        assert payout.email == request.email
