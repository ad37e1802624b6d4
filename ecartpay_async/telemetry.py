"""OpenTelemetry spans and metrics for API calls and payout batches (the ``otel`` extra).

::

    async with AsyncClient(telemetry=True) as client:     # opentelemetry-api installed
        await client.payouts.send_batch(requests)

Turned on per client, never by itself: ``telemetry=True`` uses the global tracer and
meter providers your application set up; ``telemetry=Telemetry(tracer_provider=...,
meter_provider=...)`` names others. Without an OpenTelemetry SDK configured every
call is a no-op. This module is imported only when telemetry is on, so
``import ecartpay_async`` never loads OpenTelemetry.

Spans (tracer ``ecartpay_async``):

* ``ecartpay.payouts.batch``, around each ``client.payouts.batch`` / ``send_batch``;
  attributes: rows per final status (``ecartpay.batch.paid``, ...), the pauses the
  server asked for (``ecartpay.batch.pauses``, ``ecartpay.batch.paused_seconds``),
  and when it stopped early ``ecartpay.batch.aborted`` with the error's type.
* ``{METHOD} {route}`` (kind CLIENT) for every HTTP attempt, a child of the current
  span (so of the batch's): ``http.request.method``, ``url.template`` (the route with
  ids replaced, ``/api/payouts/{id}/confirm``), ``http.response.status_code``,
  ``ecartpay.attempt`` (1 for the first try), ``error.type`` for a failed attempt,
  and ``ecartpay.retry_reason`` when the failure is one the SDK retries.

Metrics (meter ``ecartpay_async``):

* ``ecartpay.client.request.duration`` (histogram, s): per attempt, by method, route
  and status;
* ``ecartpay.client.retries`` (counter): attempts after a call's first, by route;
* ``ecartpay.client.pauses`` (counter): answers asking the client to slow down
  (429, 503), which pause every request of the client when they carry Retry-After;
* ``ecartpay.payouts`` (counter): batch rows by final status (``outcome``).

No attribute carries a key, a token, an email address, a reference_id or an amount:
routes are templates and errors are named by type only.
"""

from __future__ import annotations

import re
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from typing import TYPE_CHECKING, Any, Final

from opentelemetry import metrics, trace
from opentelemetry.trace import SpanKind, Status, StatusCode

from ._http import Attempt
from ._version import __version__
from .batch.engine import Batch, BatchOptions, Requests
from .batch.rows import PayoutSender
from .rules import is_retryable, status_meaning

if TYPE_CHECKING:
    from opentelemetry.trace import Span
    from typing_extensions import Unpack

    from ._pause import PauseStats
    from .batch import BatchReport

__all__ = ["Telemetry", "TracedBatch", "route_template"]

_NAME: Final = "ecartpay_async"
# /api/<collection>/<id>/<action>: the second segment after /api is an object id
# (unless it is one of the collection's own sub-routes, such as /api/transactions/summary).
_ID_SEGMENT: Final = re.compile(r"^(/api/[^/]+)/([^/]+)(/.*)?$")
_FIXED_ROUTES: Final = frozenset({"summary", "token"})
#: Answers that ask a client to slow down.
_SLOW_DOWN: Final = frozenset({429, 503})


def route_template(path: str) -> str:
    """``/api/payouts/6523.../confirm`` -> ``/api/payouts/{id}/confirm``."""
    match = _ID_SEGMENT.match(path)
    if match is None or match.group(2) in _FIXED_ROUTES:
        return path
    return f"{match.group(1)}/{{id}}{match.group(3) or ''}"


def _retry_reason(attempt: Attempt) -> str | None:
    """Why this attempt calls for another, in words with no data in them."""
    if attempt.error is not None:
        return type(attempt.error).__name__ if is_retryable(attempt.error) else None
    status = attempt.status_code
    if status is not None and status >= 400 and status_meaning(status).retry:
        return f"http {status}"
    return None


class Telemetry:
    """The client's OpenTelemetry instruments; an attempt observer of its pipeline."""

    def __init__(
        self,
        *,
        tracer_provider: trace.TracerProvider | None = None,
        meter_provider: metrics.MeterProvider | None = None,
    ) -> None:
        self._tracer = trace.get_tracer(_NAME, __version__, tracer_provider=tracer_provider)
        meter = metrics.get_meter(_NAME, __version__, meter_provider=meter_provider)
        self._duration = meter.create_histogram(
            "ecartpay.client.request.duration", unit="s",
            description="Duration of each HTTP attempt to the Ecart Pay API",
        )
        self._retries = meter.create_counter(
            "ecartpay.client.retries", unit="{retry}",
            description="HTTP attempts after the first of a call",
        )
        self._pauses = meter.create_counter(
            "ecartpay.client.pauses", unit="{pause}",
            description="Answers asking the client to slow down (429, 503)",
        )
        self._payouts = meter.create_counter(
            "ecartpay.payouts", unit="{payout}",
            description="Batch rows by final status",
        )

    def __call__(self, attempt: Attempt) -> None:
        """One finished HTTP attempt: its span and its measurements."""
        route = route_template(attempt.path)
        ended = time.time_ns()
        attributes: dict[str, Any] = {
            "http.request.method": attempt.method,
            "url.template": route,
            "ecartpay.attempt": attempt.number,
        }
        status = attempt.status_code
        if status is not None:
            attributes["http.response.status_code"] = status
        error_type = None
        if attempt.error is not None:
            error_type = type(attempt.error).__name__
        elif status is not None and status >= 400:
            error_type = str(status)
        if error_type is not None:
            attributes["error.type"] = error_type
        reason = _retry_reason(attempt)
        if reason is not None:
            attributes["ecartpay.retry_reason"] = reason
        span = self._tracer.start_span(
            f"{attempt.method} {route}", kind=SpanKind.CLIENT,
            start_time=ended - int(attempt.duration * 1e9), attributes=attributes,
        )
        if error_type is not None:
            span.set_status(Status(StatusCode.ERROR))
        span.end(end_time=ended)

        measured: dict[str, Any] = {"http.request.method": attempt.method, "url.template": route}
        if status is not None:
            measured["http.response.status_code"] = status
        self._duration.record(attempt.duration, measured)
        if attempt.number > 1:
            self._retries.add(1, {"http.request.method": attempt.method, "url.template": route})
        if status in _SLOW_DOWN:
            self._pauses.add(1, {"http.response.status_code": status})

    def batch(
        self, payouts: PayoutSender, requests: Requests, **options: Unpack[BatchOptions]
    ) -> Batch:
        """A batch whose rows' API calls are children of one batch span."""
        return TracedBatch(self, payouts, requests, **options)

    @contextmanager
    def batch_span(self) -> Iterator[Span]:
        """The span around a batch, current while its workers start (they inherit it)."""
        with self._tracer.start_as_current_span(
            "ecartpay.payouts.batch", kind=SpanKind.INTERNAL, end_on_exit=True,
            # An exception's text may quote a row (an email): its type says enough.
            record_exception=False, set_status_on_exception=False,
        ) as span:
            yield span

    def finish_batch(self, span: Span, report: BatchReport, pauses: PauseStats) -> None:
        """Put a finished batch's counts on its span and in the payouts counter."""
        span.set_attribute("ecartpay.batch.rows", report.total)
        span.set_attribute("ecartpay.batch.pauses", pauses.pauses)
        span.set_attribute("ecartpay.batch.paused_seconds", round(pauses.paused_seconds, 3))
        for status, count in report.counts.items():
            span.set_attribute(f"ecartpay.batch.{status}", count)
            self._payouts.add(count, {"outcome": str(status)})
        if report.aborted:
            error = report.abort_error
            span.set_attribute(
                "ecartpay.batch.aborted", type(error).__name__ if error else "stopped"
            )
            span.set_status(Status(StatusCode.ERROR))


class TracedBatch(Batch):
    """A :class:`Batch` inside an ``ecartpay.payouts.batch`` span.

    The span is current while the batch starts its workers, so each worker (which
    inherits the context it was started in) parents its API calls' spans to it.
    """

    def __init__(
        self,
        telemetry: Telemetry,
        payouts: PayoutSender,
        requests: Requests,
        **options: Unpack[BatchOptions],
    ) -> None:
        super().__init__(payouts, requests, **options)
        self._telemetry = telemetry

    @asynccontextmanager
    async def __asynccontextmanager__(self) -> AsyncIterator[Batch]:
        with self._telemetry.batch_span() as span:
            try:
                async with super().__asynccontextmanager__() as batch:
                    yield batch
            finally:
                self._telemetry.finish_batch(span, self.report, self.pauses)
