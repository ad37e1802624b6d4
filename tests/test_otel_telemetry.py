"""OpenTelemetry: a span per API attempt inside a span per batch, and the metrics; checked
with the SDK's in-memory exporters against a faulty loopback sandbox, on asyncio and trio.
No attribute may carry a key, a token or an email."""

from __future__ import annotations

import sys
from typing import Any

import pytest
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import InMemoryMetricReader
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from operator_helpers import FAST

from ecartpay_async import AsyncClient, ConfigurationError, PayoutRequest
from ecartpay_async.sandbox import Sandbox
from ecartpay_async.telemetry import Telemetry, route_template

REQUESTS = [
    PayoutRequest(email=f"worker{i}@example.com", amount=f"{i + 1}.00", currency="MXN",
                  reference_id=f"otel-{i}", require_confirmation=i == 0)
    for i in range(12)
]


class Recorder:
    def __init__(self) -> None:
        self.spans = InMemorySpanExporter()
        tracer_provider = TracerProvider()
        tracer_provider.add_span_processor(SimpleSpanProcessor(self.spans))
        self.reader = InMemoryMetricReader()
        meter_provider = MeterProvider(metric_readers=[self.reader])
        self.telemetry = Telemetry(tracer_provider=tracer_provider,
                                   meter_provider=meter_provider)

    def finished(self) -> tuple[ReadableSpan, ...]:
        return tuple(self.spans.get_finished_spans())

    def points(self) -> dict[str, list[Any]]:
        data = self.reader.get_metrics_data()
        found: dict[str, list[Any]] = {}
        for resource in data.resource_metrics if data else ():
            for scope in resource.scope_metrics:
                for metric in scope.metrics:
                    found.setdefault(metric.name, []).extend(metric.data.data_points)
        return found


@pytest.fixture
def recorder() -> Recorder:
    return Recorder()


def all_attribute_text(recorder: Recorder) -> str:
    values = [str(v) for span in recorder.finished() for v in (span.attributes or {}).values()]
    values += [span.name for span in recorder.finished()]
    values += [str(v) for points in recorder.points().values() for p in points
               for v in p.attributes.values()]
    return "\n".join(values)


@pytest.mark.anyio
@pytest.mark.ecartpay_sandbox(seed=4)
async def test_spans_nest_in_the_batch_and_metrics_count(
    ecartpay_sandbox: Sandbox, recorder: Recorder
) -> None:
    ecartpay_sandbox.faults.configure("payouts.create:5xx=0.25,payouts.create:429=0.1", seed=4)
    async with ecartpay_sandbox.client(telemetry=recorder.telemetry, retry_policy=FAST) as client:
        report = await client.payouts.send_batch(REQUESTS, concurrency=4)
    assert report.failed == 0

    spans = recorder.finished()
    batches = [s for s in spans if s.name == "ecartpay.payouts.batch"]
    assert len(batches) == 1
    batch = batches[0]
    calls = [s for s in spans if s is not batch]
    assert calls
    assert all(s.parent is not None for s in calls)
    assert {s.parent.span_id for s in calls if s.parent} == {batch.context.span_id}
    creates = [s for s in calls if s.name == "POST /api/payouts"]
    assert {s.attributes["url.template"] for s in creates} == {"/api/payouts"}
    assert all(s.attributes["http.request.method"] == "POST" for s in creates)
    failed = [s for s in creates if s.attributes.get("http.response.status_code", 200) >= 500]
    assert failed, "the faults should have failed some attempts"
    assert all(s.attributes["ecartpay.retry_reason"].startswith("http 5") for s in failed)
    assert all(s.attributes["error.type"] == str(s.attributes["http.response.status_code"])
               for s in failed)
    assert max(s.attributes["ecartpay.attempt"] for s in creates) > 1
    assert batch.attributes["ecartpay.batch.rows"] == 12
    assert batch.attributes["ecartpay.batch.paid"] == 11
    assert batch.attributes["ecartpay.batch.pending"] == 1

    points = recorder.points()
    outcomes = {p.attributes["outcome"]: p.value for p in points["ecartpay.payouts"]}
    assert outcomes == {"paid": 11, "pending": 1}
    assert sum(p.value for p in points["ecartpay.client.retries"]) == report.retries
    durations = points["ecartpay.client.request.duration"]
    assert sum(p.count for p in durations) == len(calls)
    slow_downs = [s for s in calls if s.attributes.get("http.response.status_code") in (429, 503)]
    assert slow_downs
    assert sum(p.value for p in points.get("ecartpay.client.pauses", [])) == len(slow_downs)


@pytest.mark.anyio
async def test_routes_are_templates_and_nothing_secret_is_recorded(
    ecartpay_sandbox: Sandbox, recorder: Recorder
) -> None:
    async with ecartpay_sandbox.client(telemetry=recorder.telemetry) as client:
        report = await client.payouts.send_batch(REQUESTS[:2])
        held = next(p for p in ecartpay_sandbox.state.payouts() if p.reference_id == "otel-0")
        await client.payouts.confirm(held.id)
        await client.with_options(max_retries=0).payouts.retrieve(held.id)
        token = (await client._http.tokens.get()).get()
    assert report.pending == 1
    names = {s.name for s in recorder.finished()}
    assert "PUT /api/payouts/{id}/confirm" in names
    assert "GET /api/payouts/{id}" in names  # a derived client reports too
    text = all_attribute_text(recorder)
    assert held.id not in text
    for secret in (ecartpay_sandbox.private_key, ecartpay_sandbox.public_key, token):
        assert secret not in text
    assert "@" not in text
    assert "otel-" not in text  # no reference_id either


def test_route_templates() -> None:
    assert route_template("/api/payouts") == "/api/payouts"
    assert route_template("/api/payouts/abc123") == "/api/payouts/{id}"
    assert route_template("/api/payouts/abc/confirm") == "/api/payouts/{id}/confirm"
    assert route_template("/api/transactions/summary") == "/api/transactions/summary"
    assert route_template("/api/authorizations/token") == "/api/authorizations/token"


def test_telemetry_is_off_unless_asked(monkeypatch: pytest.MonkeyPatch) -> None:
    client = AsyncClient("pk", "sk")
    assert client.telemetry is None
    assert client._http.observers == []
    on = AsyncClient("pk", "sk", telemetry=True)
    assert isinstance(on.telemetry, Telemetry)
    assert on.with_options(timeout=5).telemetry is on.telemetry
    monkeypatch.setitem(sys.modules, "ecartpay_async.telemetry", None)
    with pytest.raises(ConfigurationError, match=r"ecartpay-async\[otel\]"):
        AsyncClient("pk", "sk", telemetry=True)
