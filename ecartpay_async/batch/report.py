"""The batch report: counts and Decimal totals per status and currency, retries, failures.

:class:`ReportBuilder` folds outcomes in as they happen and keeps only aggregates, so a
batch of a million rows reports in constant memory: latencies go to a log-scale
histogram (1 % resolution) and failures to a list capped at ``max_failures`` (the rest
are counted).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from decimal import Decimal
from typing import Any, Final, TypeVar

import attrs

from .._reprs import safe_repr
from ..errors import APIStatusError, BatchAbortedError
from .outcome import Outcome, OutcomeStatus

__all__ = [
    "BatchReport",
    "Failure",
    "LatencyHistogram",
    "ReportBuilder",
    "add_amount",
    "tallies_json",
]

S = TypeVar("S")

_FAILED: Final = OutcomeStatus.FAILED  # read per row: faster than the Enum member (3.11)
_ZERO: Final = Decimal(0)
#: Latencies held before they are filed in the histogram (memory stays flat).
_LATENCIES_PER_FILING: Final = 256


def add_amount(
    amounts: dict[S, dict[str, Decimal]], status: S, currency: str, amount: Decimal
) -> None:
    """Add ``amount`` to the total of ``status`` rows in ``currency``."""
    per = amounts.setdefault(status, {})
    per[currency] = per.get(currency, _ZERO) + amount


def tallies_json(
    counts: Mapping[S, int], amounts: Mapping[S, Mapping[str, Decimal]]
) -> dict[str, Any]:
    """Rows and amounts per status, JSON-friendly: amounts are strings, so no float creeps in."""
    return {
        "counts": {str(s): n for s, n in counts.items()},
        "amounts": {str(s): {c: str(a) for c, a in per.items()} for s, per in amounts.items()},
    }


#: Failures kept with their reasons; a batch with more is broken and says so by count.
MAX_FAILURES: Final = 10_000


@safe_repr
@attrs.frozen(slots=True)
class Failure:
    """A failed row: where it was, and why (``reason`` is the error's safe message)."""

    row: int
    reference_id: str | None
    error_type: str
    reason: str
    status_code: int | None = None

    @classmethod
    def of(cls, outcome: Outcome) -> Failure:
        error = outcome.error
        return cls(
            row=outcome.row,
            reference_id=outcome.reference_id,
            error_type=type(error).__name__ if error is not None else "",
            reason=describe_error(error) if error is not None else failed_payout_reason(outcome),
            status_code=error.status_code if isinstance(error, APIStatusError) else None,
        )


def describe_error(error: BaseException) -> str:
    """One line for an error: its message (SDK errors never carry a secret)."""
    text = str(error).strip() or type(error).__name__
    return " ".join(text.split())


def failed_payout_reason(outcome: Outcome) -> str:
    status = outcome.payout.status if outcome.payout is not None else "unknown"
    return f"the API reports the payout as {status}"


class LatencyHistogram:
    """Seconds, bucketed on a log scale with 1 % wide buckets: small and good enough."""

    _BASE: Final = 1.01
    _FLOOR: Final = 1e-6
    # math.log(x, base) is log(x) / log(base): the divisor computed once, same buckets.
    _LOG_BASE: Final = math.log(_BASE)

    def __init__(self) -> None:
        self._buckets: dict[int, int] = {}
        self.count = 0

    def add(self, seconds: float) -> None:
        self.add_all((seconds,))

    def add_all(self, samples: Iterable[float]) -> None:
        """File many samples in one loop (a batch files its rows' latencies in bursts:
        one loop runs hot where a call per row would run cold between two answers)."""
        floor, log_base, log, ceil = self._FLOOR, self._LOG_BASE, math.log, math.ceil
        buckets = self._buckets
        count = 0
        for seconds in samples:
            index = ceil(log(seconds / floor) / log_base) if seconds > floor else 0
            buckets[index] = buckets.get(index, 0) + 1
            count += 1
        self.count += count

    def percentile(self, fraction: float) -> float | None:
        """The value at or below which ``fraction`` of samples lie (bucket upper bound)."""
        if not self.count:
            return None
        rank = max(1, math.ceil(fraction * self.count))
        seen = 0
        for index in sorted(self._buckets):
            seen += self._buckets[index]
            if seen >= rank:
                return float(self._FLOOR * self._BASE**index)
        raise AssertionError("unreachable: rank never exceeds count")


@safe_repr
@attrs.frozen(slots=True)
class BatchReport:
    """What a batch did. Every input row is counted under exactly one status.

    ``amounts[status][currency]`` sums the requested amounts. ``attempts`` counts the
    HTTP attempts of every create, ``retries`` those beyond each row's first, and
    ``recovered`` the payouts found by reference_id lookup instead of answered by a
    create. Latency percentiles are in seconds, per row sent (retries included).
    ``abort_reason`` says why the batch stopped early, or is None.
    """

    total: int
    counts: Mapping[OutcomeStatus, int]
    amounts: Mapping[OutcomeStatus, Mapping[str, Decimal]]
    attempts: int
    retries: int
    recovered: int
    failures: tuple[Failure, ...]
    failures_omitted: int
    duration: float
    latency_p50: float | None
    latency_p90: float | None
    latency_p99: float | None
    abort_reason: str | None = None
    abort_error: BaseException | None = attrs.field(default=None, eq=False, repr=False)
    concurrency_decreases: int = 0

    def count(self, status: OutcomeStatus | str) -> int:
        return self.counts.get(OutcomeStatus(status), 0)

    @property
    def paid(self) -> int:
        return self.count(OutcomeStatus.PAID)

    @property
    def pending(self) -> int:
        return self.count(OutcomeStatus.PENDING)

    @property
    def failed(self) -> int:
        return self.count(OutcomeStatus.FAILED)

    @property
    def skipped(self) -> int:
        return self.count(OutcomeStatus.SKIPPED)

    @property
    def not_attempted(self) -> int:
        return self.count(OutcomeStatus.NOT_ATTEMPTED)

    @property
    def aborted(self) -> bool:
        return self.abort_reason is not None

    @property
    def ok(self) -> bool:
        """Every row paid, pending or skipped, and the batch ran to its end."""
        return not self.aborted and self.failed == 0 and self.not_attempted == 0

    @property
    def rate(self) -> float:
        """Rows finished per second (skipped ones included)."""
        return self.total / self.duration if self.duration > 0 else 0.0

    def totals(self, status: OutcomeStatus | str) -> Mapping[str, Decimal]:
        return self.amounts.get(OutcomeStatus(status), {})

    def raise_if_aborted(self) -> None:
        """Raise :class:`BatchAbortedError` if the batch stopped early."""
        if self.abort_reason is not None:
            raise BatchAbortedError(self.abort_reason, self.abort_error)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-friendly view; amounts are strings so that no float creeps in."""
        return {
            "total": self.total,
            **tallies_json(self.counts, self.amounts),
            "attempts": self.attempts,
            "retries": self.retries,
            "recovered": self.recovered,
            "failures": [attrs.asdict(f) for f in self.failures],
            "failures_omitted": self.failures_omitted,
            "duration": round(self.duration, 3),
            "latency": {
                "p50": self.latency_p50, "p90": self.latency_p90, "p99": self.latency_p99,
            },
            "abort_reason": self.abort_reason,
            "concurrency_decreases": self.concurrency_decreases,
        }


class ReportBuilder:
    """Folds outcomes into aggregates; :meth:`build` freezes them into a report."""

    def __init__(self, *, max_failures: int = MAX_FAILURES) -> None:
        self._counts: dict[OutcomeStatus, int] = {}
        self._amounts: dict[OutcomeStatus, dict[str, Decimal]] = {}
        self._failures: list[Failure] = []
        self._max_failures = max_failures
        self._failures_omitted = 0
        self._latency = LatencyHistogram()
        self._latencies: list[float] = []  # filed in the histogram in bursts
        self.total = 0
        self.attempts = 0
        self.retries = 0
        self.recovered = 0

    def add(self, outcome: Outcome, latency: float | None = None) -> None:
        status = outcome.status
        self.total += 1
        counts = self._counts
        counts[status] = counts.get(status, 0) + 1
        request = outcome.request
        if request is not None:
            add_amount(self._amounts, status, request.currency, request.amount)
        attempts = outcome.attempts
        self.attempts += attempts
        if attempts > 1:
            self.retries += attempts - 1
        if outcome.recovered:
            self.recovered += 1
        if latency is not None and (outcome.attempts or outcome.recovered):
            # Only rows that reached the API: a row that failed before its first
            # attempt (no token) has no latency to speak of.
            latencies = self._latencies
            latencies.append(latency)
            if len(latencies) >= _LATENCIES_PER_FILING:
                self._file_latencies()
        if status is _FAILED:
            if len(self._failures) < self._max_failures:
                self._failures.append(Failure.of(outcome))
            else:
                self._failures_omitted += 1

    def _file_latencies(self) -> None:
        self._latency.add_all(self._latencies)
        self._latencies.clear()

    def count(self, status: OutcomeStatus) -> int:
        return self._counts.get(status, 0)

    def build(
        self,
        *,
        duration: float,
        abort_reason: str | None = None,
        abort_error: BaseException | None = None,
        concurrency_decreases: int = 0,
    ) -> BatchReport:
        self._file_latencies()
        ordered = [s for s in OutcomeStatus if s in self._counts]
        return BatchReport(
            total=self.total,
            counts={s: self._counts[s] for s in ordered},
            amounts={s: dict(sorted(self._amounts[s].items())) for s in ordered
                     if s in self._amounts},
            attempts=self.attempts,
            retries=self.retries,
            recovered=self.recovered,
            failures=tuple(sorted(self._failures, key=lambda f: f.row)),
            failures_omitted=self._failures_omitted,
            duration=duration,
            latency_p50=self._latency.percentile(0.50),
            latency_p90=self._latency.percentile(0.90),
            latency_p99=self._latency.percentile(0.99),
            abort_reason=abort_reason,
            abort_error=abort_error,
            concurrency_decreases=concurrency_decreases,
        )
