"""``WebhookReceiver``: an ASGI app that verifies, deduplicates and dispatches deliveries.

A plain ASGI callable, so it needs no web framework: serve it with uvicorn or
hypercorn, or mount it in Starlette (``Mount("/webhooks/ecartpay", receiver)``) or
FastAPI (``app.mount("/webhooks/ecartpay", receiver)``) and register the URL with
its trailing slash, ``https://example.com/webhooks/ecartpay/`` (both frameworks
redirect the bare path, and Ecart Pay does not follow redirects)::

    receiver = WebhookReceiver(secret=WEBHOOK_SECRET, store=SQLiteDeliveryStore("hooks.db"))

    @receiver.on("transfer.created")
    async def seller_paid(event: WebhookEvent) -> None:
        ...

Each ``POST`` goes through, in order:

1. **Size and time.** A body over ``max_body_bytes`` is refused with 413 before it is
   read whole; a body not received within ``read_timeout`` seconds (a client
   trickling it byte by byte) is answered 408 and dropped.
2. **Verification** (:func:`~.verify_webhook`): the signature is checked over the raw
   bytes before any costly work; a bad or missing signature, or a timestamp outside
   ``tolerance``, is 401; a malformed header or body (bad JSON, bad Unicode) is 400.
   No handler runs, and the log gets one line, never a traceback. Ecart Pay does not
   retry a 4xx.
3. **Capacity.** Past ``max_concurrency`` deliveries whose handlers are running, a
   delivery is answered 503 with ``Retry-After``: Ecart Pay tries it again later.
4. **Deduplication** by ``x-pay-webhook-id`` through the :class:`~.stores.DeliveryStore`:
   an id handled before is acknowledged (200) without running anything; an id whose
   handlers are running right now for another delivery gets 503, so Ecart Pay tries
   again later, when it is either done or free. The claim lasts as long as the
   handlers run (the receiver renews it), however long that is.
5. **Handlers**, in the order they were registered, for every pattern the event name
   matches (``"transfer.created"``, ``"orders.*"``, ``"*"`` for every event).

Ecart Pay waits 5 seconds for an answer. The receiver answers only after the
handlers finished, so that a 2xx means the work is done and a failure can be
retried; the handlers therefore run under a deadline, ``handler_timeout`` (4 s by
default, leaving a second for the network and the rest). A handler that raises or
runs out of time gets a 500 or a 503: the id is not recorded, and Ecart Pay's retry
runs the handlers again, so they should be safe to repeat (which they must be
anyway: a 2xx can be lost on its way back). A handler the deadline cannot stop (one
blocked in a worker thread) keeps its claim until it ends, and is logged as having
outlived Ecart Pay's budget. Work longer than the deadline belongs in a queue the
handler only feeds.
"""

from __future__ import annotations

import fnmatch
import inspect
import logging
import math
import time
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any, Final, TypeVar

import anyio

from .. import _json
from .._reprs import safe_repr
from ..errors import WebhookSignatureError
from ..models.webhooks import WebhookEvent
from ._verify import SIGNATURE_HEADER, TIMESTAMP_HEADER, WEBHOOK_ID_HEADER, verify_webhook
from .stores import Claim, DeliveryStore, MemoryDeliveryStore

__all__ = ["Handler", "WebhookReceiver"]

logger = logging.getLogger("ecartpay_async.webhooks")

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]

#: What a handler is: an async function of the verified event.
Handler = Callable[[WebhookEvent], Awaitable[object]]
H = TypeVar("H", bound=Handler)

#: Ecart Pay's budget for an answer, and the part of it the handlers get by default.
ECARTPAY_ANSWER_BUDGET: Final = 5.0
DEFAULT_HANDLER_TIMEOUT: Final = 4.0
DEFAULT_MAX_BODY_BYTES: Final = 1024 * 1024
#: Seconds a whole body may take to arrive: Ecart Pay's bodies are small and its
#: budget is 5 s, so only a stranger trickling bytes needs longer.
DEFAULT_READ_TIMEOUT: Final = 3.0
#: Deliveries whose handlers may run at once before the next is asked to come back.
DEFAULT_MAX_CONCURRENCY: Final = 64
#: Seconds a claim outlives the handlers' deadline before another delivery may take it:
#: 4 + 5 s lapse before Ecart Pay's first retry (10 s later), so a worker that died
#: holding a claim never makes the retry wait. A live worker renews its claim.
_LEASE_MARGIN: Final = 5.0
_SIGNED_HEADERS: Final = frozenset((TIMESTAMP_HEADER, WEBHOOK_ID_HEADER, SIGNATURE_HEADER))


class _Refused(Exception):
    """A delivery answered without running handlers: its status and reason."""

    def __init__(
        self, status: int, reason: str, headers: tuple[tuple[bytes, bytes], ...] = ()
    ) -> None:
        super().__init__(reason)
        self.status = status
        self.reason = reason
        self.headers = headers


@safe_repr
class WebhookReceiver:
    """An ASGI app for Ecart Pay webhook deliveries (see the module docstring).

    ``secret`` is the account's webhook secret; ``store`` remembers handled webhook
    ids (a :class:`~.stores.MemoryDeliveryStore` by default); ``handler_timeout``
    bounds the handlers of one delivery in seconds (under Ecart Pay's 5-second
    budget); ``max_body_bytes`` bounds a body and ``read_timeout`` the seconds it may
    take to arrive; ``max_concurrency`` caps the deliveries whose handlers run at
    once; ``tolerance`` is how far, in seconds, a delivery's timestamp may be from now.
    """

    def __init__(
        self,
        secret: str,
        *,
        store: DeliveryStore | None = None,
        handler_timeout: float = DEFAULT_HANDLER_TIMEOUT,
        max_body_bytes: int = DEFAULT_MAX_BODY_BYTES,
        read_timeout: float = DEFAULT_READ_TIMEOUT,
        max_concurrency: int = DEFAULT_MAX_CONCURRENCY,
        tolerance: int = 300,
    ) -> None:
        if not isinstance(secret, str) or not secret:
            raise ValueError("secret must be the non-empty webhook secret")
        if not 0 < handler_timeout < ECARTPAY_ANSWER_BUDGET:
            raise ValueError(
                f"handler_timeout must be between 0 and {ECARTPAY_ANSWER_BUDGET:g} seconds "
                "(Ecart Pay stops waiting for an answer after that)"
            )
        if max_body_bytes < 1:
            raise ValueError("max_body_bytes must be at least 1")
        if not 0 < read_timeout < math.inf:
            raise ValueError("read_timeout must be a positive, finite number of seconds")
        if max_concurrency < 1:
            raise ValueError("max_concurrency must be at least 1")
        self._secret = secret
        self.store: DeliveryStore = store if store is not None else MemoryDeliveryStore()
        self.handler_timeout = handler_timeout
        self.max_body_bytes = max_body_bytes
        self.read_timeout = read_timeout
        self.max_concurrency = max_concurrency
        self.tolerance = tolerance
        self._handlers: list[tuple[str, Handler]] = []
        #: Ids whose handlers run in this process now (a redelivery meets them here
        #: before the store, and the capacity counts them).
        self._running: set[str] = set()

    def __repr__(self) -> str:
        patterns = sorted({pattern for pattern, _ in self._handlers})
        return f"WebhookReceiver(handlers for {patterns}, store={type(self.store).__name__})"

    # -- registration -------------------------------------------------------------------

    def on(self, *events: str) -> Callable[[H], H]:
        """Register an async handler for events by name or ``fnmatch`` pattern::

            @receiver.on("transfer.created")
            async def paid(event: WebhookEvent) -> None: ...

            @receiver.on("*")                      # every event: the catch-all
            async def audit(event: WebhookEvent) -> None: ...
        """
        if not events or not all(isinstance(e, str) and e for e in events):
            raise ValueError("on() takes one or more event names, such as 'transfer.created'")

        def register(handler: H) -> H:
            is_async = inspect.iscoroutinefunction(handler)  # a flag: no type narrowing
            if not is_async:
                raise TypeError(f"{handler!r} must be an async function (async def)")
            self._handlers.extend((event, handler) for event in events)
            return handler

        return register

    def handlers_for(self, event: str) -> list[Handler]:
        """The handlers an event runs, in registration order (each handler once)."""
        found: list[Handler] = []
        for pattern, handler in self._handlers:
            if fnmatch.fnmatchcase(event, pattern) and handler not in found:
                found.append(handler)
        return found

    # -- the ASGI app --------------------------------------------------------------------

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await self._lifespan(receive, send)
            return
        if scope["type"] != "http":
            raise RuntimeError(f"WebhookReceiver serves HTTP, not {scope['type']!r}")
        if scope["method"] != "POST":
            await _answer(send, 405, {"error": "deliveries are POST requests"},
                          ((b"allow", b"POST"),))
            return
        try:
            body = await self._read_body_in_time(scope, receive)
            event = self._verify(body, scope)
        except _Refused as refused:
            # One line, no traceback: a stranger's mistake is not the server's error.
            logger.warning("webhook delivery refused (%d): %s", refused.status, refused.reason)
            await _answer(send, refused.status, {"error": refused.reason}, refused.headers)
            return
        status, answer = await self.handle(event)
        extra = ((b"retry-after", b"10"),) if status == 503 else ()
        await _answer(send, status, answer, extra)

    async def handle(self, event: WebhookEvent) -> tuple[int, dict[str, str]]:
        """Deduplicate and run the handlers of a verified event: the status and answer."""
        if event.id in self._running:
            return 503, {"error": "this delivery is being handled; retry later"}
        if len(self._running) >= self.max_concurrency:
            logger.warning("webhook %s (%s): %d deliveries are being handled; asked to retry",
                           event.id, event.event, len(self._running))
            return 503, {"error": "too many deliveries at once; retry later"}
        # Taken before the first await: a second delivery of the id meets it at once.
        self._running.add(event.id)
        try:
            claim = await self.store.claim(event.id, lease=self._lease)
            if claim is Claim.DONE:
                return 200, {"status": "duplicate", "webhook_id": event.id}
            if claim is Claim.BUSY:
                return 503, {"error": "this delivery is being handled; retry later"}
            async with anyio.create_task_group() as claim_keeper:
                claim_keeper.start_soon(self._keep_claim, event.id)
                try:
                    answer = await self._run_handlers(event)
                finally:
                    claim_keeper.cancel_scope.cancel()
            return answer
        finally:
            self._running.discard(event.id)

    @property
    def _lease(self) -> float:
        return self.handler_timeout + _LEASE_MARGIN

    async def _keep_claim(self, webhook_id: str) -> None:
        """Renew the claim while the handlers run, so that it never lapses under them."""
        renew = getattr(self.store, "renew", None)
        if renew is None:
            return
        while True:
            await anyio.sleep(self._lease / 3)
            try:
                await renew(webhook_id, lease=self._lease)
            except Exception as exc:
                logger.warning("webhook %s: could not renew its claim (%s)", webhook_id,
                               type(exc).__name__)
                return

    async def _run_handlers(self, event: WebhookEvent) -> tuple[int, dict[str, str]]:
        started = time.monotonic()
        current = ""
        finished = False
        try:
            with anyio.move_on_after(self.handler_timeout) as deadline:
                for handler in self.handlers_for(event.event):
                    current = _handler_name(handler)
                    await handler(event)
                finished = True
        except Exception as exc:
            await self._release(event.id)
            # The handler's name and traceback, never the body (it holds personal data).
            logger.error("webhook %s (%s): handler %s raised %s; Ecart Pay will retry",
                         event.id, event.event, current, type(exc).__name__, exc_info=exc)
            return 500, {"error": f"a handler failed ({type(exc).__name__})"}
        except BaseException:  # cancelled (the server stopping): let the retry take the id
            await self._release(event.id)
            raise
        finally:
            elapsed = time.monotonic() - started
            if elapsed > ECARTPAY_ANSWER_BUDGET:
                logger.warning("webhook %s (%s): handlers ran %.1f s, past Ecart Pay's %g s "
                               "budget; it counts the delivery as failed and sends it again",
                               event.id, event.event, elapsed, ECARTPAY_ANSWER_BUDGET)
        if deadline.cancelled_caught and not finished:
            await self._release(event.id)
            logger.warning("webhook %s (%s): handler %s ran past %.1f s; the id stays unhandled",
                           event.id, event.event, current, self.handler_timeout)
            return 503, {"error": f"handlers did not finish in {self.handler_timeout:g} s"}
        with anyio.CancelScope(shield=True):
            await self.store.complete(event.id)
        logger.debug("webhook %s (%s) handled in %.3f s", event.id, event.event, elapsed)
        return 200, {"status": "processed", "webhook_id": event.id}

    async def _release(self, webhook_id: str) -> None:
        with anyio.CancelScope(shield=True):
            await self.store.release(webhook_id)

    async def _read_body_in_time(self, scope: Scope, receive: Receive) -> bytes:
        """The whole body within ``read_timeout``: a client trickling it is dropped."""
        try:
            with anyio.fail_after(self.read_timeout):
                return await self._read_body(scope, receive)
        except TimeoutError:
            raise _Refused(408, f"the body did not arrive within {self.read_timeout:g} s",
                           ((b"connection", b"close"),)) from None

    async def _read_body(self, scope: Scope, receive: Receive) -> bytes:
        declared = _header(scope, b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.max_body_bytes:
            raise _Refused(413, f"the body is larger than {self.max_body_bytes} bytes")
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                raise _Refused(400, "the client went away before sending the whole body")
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.max_body_bytes:
                raise _Refused(413, f"the body is larger than {self.max_body_bytes} bytes")
            chunks.append(chunk)
            if not message.get("more_body", False):
                return b"".join(chunks)

    def _verify(self, body: bytes, scope: Scope) -> WebhookEvent:
        headers: dict[str, str] = {}
        for raw_name, raw_value in scope["headers"]:
            name = raw_name.decode("latin-1").lower()
            if name in _SIGNED_HEADERS and name in headers:
                raise _Refused(400, f"the {name} header is given more than once")
            headers[name] = raw_value.decode("latin-1")
        try:
            return verify_webhook(body, headers, self._secret, tolerance=self.tolerance)
        except WebhookSignatureError as exc:
            status = 401 if exc.check in ("signature", "timestamp") else 400
            raise _Refused(status, str(exc)) from None

    async def _lifespan(self, receive: Receive, send: Send) -> None:
        # Served on its own (not mounted), the receiver closes its store on shutdown.
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                close = getattr(self.store, "aclose", None)
                if close is not None:
                    await close()
                await send({"type": "lifespan.shutdown.complete"})
                return


def _handler_name(handler: Handler) -> str:
    module = getattr(handler, "__module__", None) or ""
    name = getattr(handler, "__qualname__", None) or repr(handler)
    return f"{module}.{name}" if module else name


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope["headers"]:
        if key.lower() == name:
            return str(value.decode("latin-1")).strip()
    return None


async def _answer(
    send: Send,
    status: int,
    content: dict[str, str],
    headers: tuple[tuple[bytes, bytes], ...] = (),
) -> None:
    body = _json.dumps(content)
    await send({
        "type": "http.response.start",
        "status": status,
        "headers": [
            (b"content-type", b"application/json"),
            (b"content-length", str(len(body)).encode()),
            *headers,
        ],
    })
    await send({"type": "http.response.body", "body": body})
