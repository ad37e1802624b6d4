"""The Starlette application: Ecart Pay's routes under ``/api/``, control under ``/_sandbox/``.

Handlers only translate HTTP to :class:`~.state.SandboxState` calls and back; every
rule lives in the state. Errors answer ``{"message", "statusCode"}`` like the API, with
that status as the HTTP status, or (``error_style="openapi"``) as the OpenAPI file
shows: HTTP 500, the status in the body. Payouts answer without ``email`` (the
documented shape) unless ``payout_email`` is set.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from decimal import Decimal
from typing import Any

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from . import wire
from .faults import FaultInjector
from .middleware import FaultMiddleware
from .records import Account, Payout
from .state import SandboxState
from .validate import SandboxHTTPError, answer_status, bad_request, parse_json
from .webhooks import WebhookDispatcher

__all__ = ["build_app"]

Handler = Callable[[Request], Awaitable[Any]]


def json_response(content: Any, status: int = 200) -> Response:
    return Response(wire.dumps(content), status_code=status, media_type="application/json")


def _exact(value: Any) -> Any:
    """Floats (fault rates, clock readings) as Decimals, which the JSON writer takes."""
    if isinstance(value, float):
        return Decimal(repr(value))
    if isinstance(value, dict):
        return {k: _exact(v) for k, v in value.items()}
    return value


def _basic_credentials(header: str | None) -> tuple[str, str]:
    scheme, _, encoded = (header or "").partition(" ")
    if scheme.lower() != "basic" or not encoded:
        raise SandboxHTTPError(401, "Unauthorized: Basic credentials are required")
    try:
        public_key, sep, private_key = (
            base64.b64decode(encoded, validate=True).decode().partition(":")
        )
    except (binascii.Error, UnicodeDecodeError):
        sep = ""
    if not sep:
        raise SandboxHTTPError(401, "Unauthorized: malformed Basic credentials")
    return public_key, private_key


def build_app(
    state: SandboxState,
    injector: FaultInjector,
    dispatcher: WebhookDispatcher,
    *,
    in_process: bool = False,
    on_startup: Callable[[], None] | None = None,
) -> tuple[FaultMiddleware, Starlette]:
    """The served ASGI app (faults outermost) and the Starlette app inside it."""

    def api(handler: Callable[[Request], Awaitable[Any]]) -> Handler:
        # Every emitted webhook leaves with the answer, from the server's own loop.
        async def endpoint(request: Request) -> Any:
            try:
                return await handler(request)
            finally:
                dispatcher.submit(state.take_outbox())

        return endpoint

    async def body(request: Request, *, required: bool = True) -> Any:
        return parse_json(await request.body(), required=required)

    async def token(request: Request) -> Response:
        public_key, private_key = _basic_credentials(request.headers.get("authorization"))
        return json_response({"token": state.issue_token(public_key, private_key)})

    def authed(handler: Callable[[Account, Request], Awaitable[Any]]) -> Handler:
        # The account's handlers return records; their JSON is the answer.
        async def endpoint(request: Request) -> Response:
            who = state.authenticate(request.headers.get("authorization"))
            return json_response(answer(await handler(who, request)))

        return api(endpoint)

    def answer(record: Any) -> Any:
        # A payout answers in the documented shape: without `email` unless asked for.
        if isinstance(record, Payout):
            return record.to_json(email=state.payout_email)
        return record.to_json()

    async def payouts_create(who: Account, request: Request) -> Any:
        return state.create_payout(who, await body(request))

    def page_response(items: list[Any], count: int, pages: int) -> Response:
        if state.list_shape == "array":
            return json_response(items)
        return json_response({"count": count, "docs": items, "pages": pages})

    async def payouts_list(request: Request) -> Response:
        who = state.authenticate(request.headers.get("authorization"))
        docs, count, pages = state.list_payouts(who, dict(request.query_params))
        return page_response([answer(p) for p in docs], count, pages)

    async def payouts_retrieve(who: Account, request: Request) -> Any:
        return state.get_payout(who, request.path_params["id"])

    async def payouts_update(who: Account, request: Request) -> Any:
        return state.update_payout(who, request.path_params["id"], await body(request))

    async def payouts_confirm(who: Account, request: Request) -> Any:
        raw = await body(request, required=False)
        return state.confirm_payout(who, request.path_params["id"], raw)

    async def orders_create(who: Account, request: Request) -> Any:
        link_base = str(request.base_url).rstrip("/")
        return state.create_order(who, await body(request), link_base)

    async def orders_retrieve(who: Account, request: Request) -> Any:
        return state.get_order(who, request.path_params["id"])

    async def orders_refund(who: Account, request: Request) -> Any:
        return state.refund_order(who, request.path_params["id"], await body(request))

    async def webhooks_create(who: Account, request: Request) -> Any:
        return state.register_webhook(who, await body(request))

    Reader = Callable[[Account, Request], Any]

    def reader(read: Reader) -> Handler:
        # The read-only money endpoints answer JSON documents, not records.
        async def endpoint(request: Request) -> Response:
            who = state.authenticate(request.headers.get("authorization"))
            return json_response(read(who, request))

        return api(endpoint)

    def lister(read: Reader) -> Handler:
        async def endpoint(request: Request) -> Response:
            who = state.authenticate(request.headers.get("authorization"))
            docs, count, pages = read(who, request)
            return page_response(list(docs), count, pages)

        return api(endpoint)

    def transactions_list(who: Account, request: Request) -> Any:
        return state.list_transactions(who, dict(request.query_params))

    def transactions_summary(who: Account, request: Request) -> Any:
        return state.transaction_summary(who, dict(request.query_params))

    def transactions_retrieve(who: Account, request: Request) -> Any:
        return state.get_transaction(who, request.path_params["id"])

    def withdrawals_list(who: Account, request: Request) -> Any:
        return state.list_withdrawals(who, dict(request.query_params))

    # -- control ----------------------------------------------------------------------

    async def control_state(request: Request) -> Response:
        snapshot = state.snapshot()
        snapshot["faults"] = _exact(injector.spec.to_json())
        snapshot["faults_injected"] = dict(injector.counts)
        return json_response(snapshot)

    async def control_reset(request: Request) -> Response:
        state.reset()
        injector.reset_counts()
        return json_response({"reset": True})

    async def control_accounts(request: Request) -> Response:
        found, created = state.upsert_account(await body(request))
        answer = found.to_json()
        if created:
            # The only place generated keys are ever shown: to their creator.
            answer["public_key"] = found.public_key
            answer["private_key"] = found.private_key
        return json_response(answer, 201 if created else 200)

    async def control_faults_get(request: Request) -> Response:
        return json_response(
            {
                "spec": _exact(injector.spec.to_json()),
                "text": str(injector.spec),
                "counts": dict(injector.counts),
            }
        )

    async def control_faults_put(request: Request) -> Response:
        raw = await body(request)
        seed = raw.get("seed")
        if seed is not None and (isinstance(seed, bool) or not isinstance(seed, int)):
            bad_request("seed must be an integer")
        try:
            injector.configure(raw.get("spec"), seed=seed)
        except ValueError as exc:
            bad_request(f"spec: {exc}")
        return await control_faults_get(request)

    async def control_options(request: Request) -> Response:
        state.set_options(await body(request))
        return json_response(state.snapshot()["options"])

    async def control_clock(request: Request) -> Response:
        raw = await body(request)
        seconds = raw.get("advance")
        if isinstance(seconds, bool) or not isinstance(seconds, (int, Decimal)) or seconds < 0:
            bad_request("advance must be a non-negative number of seconds")
        state.advance_clock(float(seconds))
        return json_response({"now": _exact(state.now())})

    async def control_pay_order(request: Request) -> Response:
        return json_response(state.pay_order(request.path_params["id"]).to_json())

    async def control_withdraw(request: Request) -> Response:
        return json_response(state.withdraw(await body(request)).to_json(), 201)

    async def control_redeliver(request: Request) -> Response:
        return json_response(state.redeliver(request.path_params["id"]).to_json())

    async def sandbox_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, SandboxHTTPError)
        return json_response(exc.to_json(), answer_status(state.error_style, exc.status))

    async def http_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, HTTPException)
        return json_response(
            {"message": exc.detail, "statusCode": exc.status_code}, exc.status_code
        )

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        async with dispatcher.running():
            if on_startup is not None:
                on_startup()
            yield

    routes = [
        Route("/api/authorizations/token", api(token), methods=["POST"]),
        Route("/api/payouts", authed(payouts_create), methods=["POST"]),
        Route("/api/payouts", api(payouts_list), methods=["GET"]),
        Route("/api/payouts/{id}", authed(payouts_retrieve), methods=["GET"]),
        Route("/api/payouts/{id}", authed(payouts_update), methods=["PUT"]),
        Route("/api/payouts/{id}/confirm", authed(payouts_confirm), methods=["PUT"]),
        Route("/api/orders", authed(orders_create), methods=["POST"]),
        Route("/api/orders/{id}", authed(orders_retrieve), methods=["GET"]),
        Route("/api/orders/{id}/refund", authed(orders_refund), methods=["POST"]),
        Route("/api/webhooks", authed(webhooks_create), methods=["POST"]),
        Route("/api/transactions", lister(transactions_list), methods=["GET"]),
        Route("/api/transactions/summary", reader(transactions_summary), methods=["GET"]),
        Route("/api/transactions/{id}", reader(transactions_retrieve), methods=["GET"]),
        Route("/api/withdrawals", lister(withdrawals_list), methods=["GET"]),
        Route("/_sandbox/state", control_state, methods=["GET"]),
        Route("/_sandbox/reset", control_reset, methods=["POST"]),
        Route("/_sandbox/accounts", control_accounts, methods=["POST"]),
        Route("/_sandbox/faults", control_faults_get, methods=["GET"]),
        Route("/_sandbox/faults", control_faults_put, methods=["PUT"]),
        Route("/_sandbox/options", control_options, methods=["PUT"]),
        Route("/_sandbox/clock", control_clock, methods=["POST"]),
        Route("/_sandbox/orders/{id}/pay", api(control_pay_order), methods=["POST"]),
        Route("/_sandbox/withdrawals", api(control_withdraw), methods=["POST"]),
        Route("/_sandbox/deliveries/{id}/redeliver", api(control_redeliver), methods=["POST"]),
    ]
    starlette = Starlette(
        routes=routes,
        exception_handlers={SandboxHTTPError: sandbox_error, HTTPException: http_error},
        lifespan=lifespan,
    )
    return FaultMiddleware(starlette, injector, in_process=in_process), starlette
