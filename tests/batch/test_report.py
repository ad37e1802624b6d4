"""The report: every row counted once, Decimal totals, bounded memory."""

from __future__ import annotations

import json
import math
import random
from decimal import Decimal

from ecartpay_async.batch import Outcome, OutcomeStatus
from ecartpay_async.batch.report import LatencyHistogram, ReportBuilder
from ecartpay_async.errors import BadRequestError
from ecartpay_async.models.payouts import PayoutRequest


def request(i: int, amount: str = "10.10", currency: str = "MXN") -> PayoutRequest:
    return PayoutRequest(email=f"p{i}@example.com", reference_id=f"r{i}", amount=amount,
                         currency=currency)


def test_counts_totals_retries_and_failures() -> None:
    builder = ReportBuilder(max_failures=2)
    builder.add(Outcome(1, OutcomeStatus.PAID, request(1), attempts=1), 0.01)
    builder.add(Outcome(2, OutcomeStatus.PAID, request(2, "0.20"), attempts=3, recovered=True),
                0.02)
    builder.add(Outcome(3, OutcomeStatus.PENDING, request(3, "5", "USD"), attempts=1), 0.03)
    error = BadRequestError("no such recipient", status_code=400, method="POST",
                            path="/api/payouts")
    for row in (6, 4, 5):
        builder.add(Outcome(row, OutcomeStatus.FAILED, request(row), error=error, attempts=1))
    builder.add(Outcome(7, OutcomeStatus.SKIPPED, request(7)))
    report = builder.build(duration=2.0)
    assert report.total == 7
    assert (report.paid, report.pending, report.failed, report.skipped) == (2, 1, 3, 1)
    assert report.totals("paid") == {"MXN": Decimal("10.30")}
    assert report.totals(OutcomeStatus.PENDING) == {"USD": Decimal("5.00")}
    assert report.attempts == 8
    assert report.retries == 2
    assert report.recovered == 1
    assert [f.row for f in report.failures] == [4, 6]  # capped, sorted by row
    assert report.failures_omitted == 1
    assert report.failures[0].status_code == 400
    assert "no such recipient" in report.failures[0].reason
    assert not report.ok
    assert report.rate == 3.5
    data = report.to_dict()
    assert data["amounts"]["paid"] == {"MXN": "10.30"}
    json.dumps(data)  # plain JSON, no Decimal or float amounts


def test_a_failed_payout_without_an_error_has_a_reason() -> None:
    from ecartpay_async.models.payouts import Payout

    builder = ReportBuilder()
    payout = Payout(id="po", status="rejected", amount=Decimal(1), currency="MXN")
    builder.add(Outcome(1, OutcomeStatus.FAILED, request(1), payout=payout))
    assert builder.build(duration=1).failures[0].reason == "the API reports the payout as rejected"


def test_latency_percentiles_are_within_one_percent() -> None:
    histogram = LatencyHistogram()
    for ms in range(1, 1001):
        histogram.add(ms / 1000)
    for fraction, exact in ((0.5, 0.5), (0.9, 0.9), (0.99, 0.99)):
        value = histogram.percentile(fraction)
        assert value is not None
        assert exact <= value <= exact * 1.011
    assert LatencyHistogram().percentile(0.5) is None


def test_latency_buckets_are_the_log_scale_ones():
    # One logarithm per sample (the divisor precomputed) files every latency in the
    # bucket math.log(seconds / floor, 1.01) names, as two logarithms did.
    generator = random.Random(18)
    samples = [10 ** generator.uniform(-8, 3) for _ in range(20_000)]
    samples += [0.0, 1e-6, 1e-6 * 1.01, 2e-6, 0.05, 30.0]
    for seconds in samples:
        histogram = LatencyHistogram()
        histogram.add(seconds)
        expected = max(0, math.ceil(math.log(max(seconds, 1e-6) / 1e-6, 1.01)))
        assert histogram.percentile(1.0) == 1e-6 * 1.01**expected, seconds


def test_latencies_filed_in_bursts_are_every_rows() -> None:
    # The builder files latencies in bursts; every row's is in the report, however
    # many are still waiting to be filed when it is built (a snapshot too).
    generator = random.Random(7)
    latencies = [generator.uniform(0.001, 2.0) for _ in range(1000)]
    one_by_one = LatencyHistogram()
    builder = ReportBuilder()
    for row, seconds in enumerate(latencies, 1):
        one_by_one.add(seconds)
        builder.add(Outcome(row, OutcomeStatus.PAID, request(row), attempts=1), seconds)
        if row in (1, 255, 256, 700):
            snapshot = builder.build(duration=1)
            assert snapshot.latency_p99 is not None
    report = builder.build(duration=1)
    assert (report.latency_p50, report.latency_p90, report.latency_p99) == (
        one_by_one.percentile(0.5), one_by_one.percentile(0.9), one_by_one.percentile(0.99)
    )
