"""``Sandbox``: the emulator, served on a loopback port from its own thread, or in-process.

On a port, uvicorn runs in a background thread with its own asyncio event loop, so
the sandbox works the same whether the caller runs asyncio, trio, or no loop at all,
and connection faults happen on a real socket. In-process, the app is called through
``httpx.ASGITransport`` in the caller's loop: faster, no socket, and connection
faults emulated by raising httpx's exceptions (see :mod:`.middleware`).
"""

from __future__ import annotations

import asyncio
import contextlib
import secrets
import socket
import threading
from collections.abc import Mapping
from contextlib import AsyncExitStack
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any

import anyio
import anyio.to_thread
import httpx
import uvicorn

from . import wire
from ._reprs import safe_repr
from .app import build_app
from .faults import FaultInjector, SpecLike
from .fees import FeeSchedule
from .profile import SandboxProfile, load_profile
from .records import Delivery
from .state import LIST_SHAPES, REUSE_BEHAVIORS, ListShape, ReuseBehavior, SandboxState
from .validate import ErrorStyle
from .webhooks import WebhookDispatcher

if TYPE_CHECKING:
    from ..client import AsyncClient

__all__ = ["Sandbox"]

_IN_PROCESS_ORIGIN = "http://sandbox.local"


def _bind(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    # IPPROTO_TCP explicitly: asyncio sets TCP_NODELAY only on sockets whose proto says
    # TCP, and without it every answer waits 40 ms for a delayed ACK.
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host, port))
        sock.listen(2048)
    except OSError:
        sock.close()
        raise
    return sock


class _Server(uvicorn.Server):
    """uvicorn's Server, stopped by an event instead of its 0.1-s poll and shut down
    without its fixed 0.1-s sleeps: with a sandbox per test, those add up."""

    GRACE = 2.0

    def __init__(self, config: uvicorn.Config) -> None:
        super().__init__(config)
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop = asyncio.Event()

    def request_stop(self) -> None:
        """Thread-safe."""
        self.should_exit = True
        if self._loop is not None:
            self._loop.call_soon_threadsafe(self._stop.set)

    async def main_loop(self) -> None:
        self._loop = asyncio.get_running_loop()
        while not self.should_exit:
            await self.on_tick(0)  # refreshes the Date header
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(self._stop.wait(), 1.0)

    async def shutdown(self, sockets: list[socket.socket] | None = None) -> None:
        for server in self.servers:
            server.close()
        for sock in sockets or []:
            sock.close()
        state = self.server_state
        for connection in list(state.connections):
            connection.shutdown()  # closes idle keep-alive connections at once
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.GRACE
        # uvicorn signals neither set emptying, so poll (briefly: 5 ms).
        while (state.connections or state.tasks) and loop.time() < deadline:  # noqa: ASYNC110
            await asyncio.sleep(0.005)
        for task in state.tasks:
            task.cancel()
        for connection in list(state.connections):
            connection.transport.abort()
        for server in self.servers:
            await server.wait_closed()
        await self.lifespan.shutdown()


class _ServerThread:
    """uvicorn on a pre-bound socket in a thread; the socket is bound before the thread
    starts, so port 0 is resolved and a busy port fails in the caller."""

    def __init__(self, app: Any, host: str, port: int) -> None:
        self._sock = _bind(host, port)
        self.port: int = self._sock.getsockname()[1]
        config = uvicorn.Config(
            app,
            log_config=None,
            log_level="warning",
            access_log=False,
            lifespan="on",
        )
        self._server = _Server(config)
        self._thread = threading.Thread(
            target=self._run, name=f"ecartpay-sandbox:{self.port}", daemon=True
        )
        self._failure: BaseException | None = None

    def _run(self) -> None:
        try:
            self._server.run(sockets=[self._sock])
        except BaseException as exc:  # uvicorn exits with SystemExit on startup failure
            self._failure = exc
        finally:
            self._sock.close()

    def start(self, started: threading.Event) -> None:
        self._thread.start()
        while not started.wait(0.01):
            if not self._thread.is_alive():
                raise RuntimeError("the sandbox server failed to start") from self._failure

    def stop(self) -> None:
        self._server.request_stop()
        self._thread.join()


@safe_repr
class Sandbox:
    """A stateful Ecart Pay emulator with fault injection.

    ``async with Sandbox() as sb`` (asyncio or trio) or ``with Sandbox() as sb`` serves
    it on ``sb.base_url``; ``sb.client()`` is an ``AsyncClient`` ready to use it;
    ``sb.state`` is the live :class:`SandboxState` for assertions. Options:

    - ``faults``, ``seed``, ``latency_ms``: fault injection (:mod:`.faults`).
    - ``token_ttl``: token lifetime in seconds (3600).
    - ``auto_register``: unknown payout recipients get an account (True).
    - ``reuse_behavior``: a reused reference_id is answered with ``"reject_400"``
      (default), ``"reject_409"`` or ``"return_original"`` (the first payout).
    - ``list_shape``: ``GET /api/payouts`` answers the ``"envelope"``
      ``{count, docs, pages}`` (default) or a bare ``"array"``.
    - ``balances``: the merchant's starting balances, ``{"MXN": "50000"}`` (only the
      currencies named; default :data:`~.state.DEFAULT_BALANCES`, about the same value
      in each currency: 1,000,000,000 MXN, 200,000,000,000 COP).
    - ``payout_email``: payout answers carry the recipient's ``email`` (False: the
      documented shape has none).
    - ``error_style``: ``"http"`` (default) answers an error with its status, or
      ``"openapi"`` as Ecart Pay's OpenAPI file shows: HTTP 500 with the status in the
      body's ``statusCode``.
    - ``email``, ``public_key``, ``private_key``: the merchant (keys generated if None).
    - ``fees``: the :class:`FeeSchedule` taken when an order is paid.
    - ``webhook_secret`` (generated if None), ``webhook_retry_scale`` (1.0; tests 0.01).
    - ``host``, ``port`` (0 picks a free port), ``in_process`` (no socket).
    - ``profile``: a :class:`~.profile.SandboxProfile` or its JSON file, written by
      ``ecartpay-async probe``: behave as the probed API did (its settings win).
    """

    def __init__(
        self,
        *,
        faults: SpecLike = None,
        seed: int | None = None,
        latency_ms: float = 0,
        token_ttl: int = 3600,
        auto_register: bool = True,
        reuse_behavior: ReuseBehavior = "reject_400",
        list_shape: ListShape = "envelope",
        balances: Mapping[str, object] | None = None,
        payout_email: bool = False,
        error_style: ErrorStyle = "http",
        email: str = "merchant@sandbox.ecartpay.test",
        public_key: str | None = None,
        private_key: str | None = None,
        fees: FeeSchedule | None = None,
        webhook_secret: str | None = None,
        webhook_retry_scale: float = 1.0,
        host: str = "127.0.0.1",
        port: int = 0,
        in_process: bool = False,
        profile: SandboxProfile | str | Path | None = None,
    ) -> None:
        settings = None if profile is None else load_profile(profile).settings
        if settings is not None:  # the probed API's answers win over the defaults
            reuse_behavior = settings.reuse_behavior or reuse_behavior  # type: ignore[assignment]
            list_shape = settings.list_shape or list_shape  # type: ignore[assignment]
            token_ttl = settings.token_ttl or token_ttl
            if settings.payout_email is not None:
                payout_email = settings.payout_email
            error_style = settings.error_style or error_style  # type: ignore[assignment]
        if reuse_behavior not in REUSE_BEHAVIORS:
            raise ValueError(f"reuse_behavior must be one of {', '.join(REUSE_BEHAVIORS)}")
        if list_shape not in LIST_SHAPES:
            raise ValueError(f"list_shape must be one of {', '.join(LIST_SHAPES)}")
        self.public_key = public_key or f"pub_sandbox_{secrets.token_hex(12)}"
        self._private_key = private_key or f"priv_sandbox_{secrets.token_hex(24)}"
        self._webhook_secret = webhook_secret or f"whsec_{secrets.token_hex(24)}"
        self.in_process = in_process
        self._host = host
        self._port = port
        self.state = SandboxState(
            public_key=self.public_key,
            private_key=self._private_key,
            email=email,
            balances=balances,
            webhook_secret=self._webhook_secret,
            token_ttl=token_ttl,
            auto_register=auto_register,
            reuse_behavior=reuse_behavior,
            list_shape=list_shape,
            payout_email=payout_email,
            error_style=error_style,
            fees=fees,
            seed=seed,
        )
        if settings is not None and settings.reuse_conflict_behavior is not None:
            self.state.reuse_conflict_behavior = settings.reuse_conflict_behavior  # type: ignore[assignment]
        #: The fault injector: ``sb.faults.configure(spec)``, ``sb.faults.counts``.
        self.faults = FaultInjector(faults, seed=seed, latency_ms=latency_ms)
        dispatcher = WebhookDispatcher(self.state, retry_scale=webhook_retry_scale)
        self._started = threading.Event()
        self.app, self._starlette = build_app(
            self.state, self.faults, dispatcher, in_process=in_process, on_startup=self._started.set
        )
        self._server: _ServerThread | None = None
        self._lifespan: AsyncExitStack | None = None
        self._http_clients: list[httpx.AsyncClient] = []

    def __repr__(self) -> str:
        where = self.base_url if self.running else "not running"
        return f"<Sandbox {where}{' in-process' if self.in_process else ''}>"

    @property
    def private_key(self) -> str:
        return self._private_key

    @property
    def webhook_secret(self) -> str:
        """The merchant's secret for verifying webhook signatures."""
        return self._webhook_secret

    @property
    def running(self) -> bool:
        return self._server is not None or self._lifespan is not None

    @property
    def base_url(self) -> str:
        """The origin to give a client, such as ``http://127.0.0.1:54321`` (no ``/api``)."""
        if self.in_process:
            return _IN_PROCESS_ORIGIN
        if self._server is None:
            raise RuntimeError("the sandbox is not running; use `with`/`async with` or start()")
        host = f"[{self._host}]" if ":" in self._host else self._host
        return f"http://{host}:{self._server.port}"

    # -- lifetime ---------------------------------------------------------------------

    def start(self) -> None:
        """Serve on the port (blocks until it accepts requests). Not for in-process use."""
        if self.in_process:
            raise RuntimeError("an in-process sandbox runs in the caller's loop: use `async with`")
        if self._server is not None:
            raise RuntimeError("the sandbox is already running")
        self._started.clear()
        self.app.closing = False
        server = _ServerThread(self.app, self._host, self._port)
        server.start(self._started)
        self._server = server

    def stop(self) -> None:
        """Stop serving and wait for the server thread to end."""
        server, self._server = self._server, None
        if server is not None:
            self.app.closing = True
            server.stop()

    def __enter__(self) -> Sandbox:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    async def __aenter__(self) -> Sandbox:
        if self.in_process:
            stack = AsyncExitStack()
            await stack.enter_async_context(
                self._starlette.router.lifespan_context(self._starlette)
            )
            self._lifespan = stack
        else:
            await anyio.to_thread.run_sync(self.start)
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        clients, self._http_clients = self._http_clients, []
        try:
            for client in clients:
                await client.aclose()
        finally:
            if self._lifespan is not None:
                stack, self._lifespan = self._lifespan, None
                await stack.aclose()
            else:
                await anyio.to_thread.run_sync(self.stop)

    # -- clients ----------------------------------------------------------------------

    def http_client(self, **options: Any) -> httpx.AsyncClient:
        """A plain ``httpx.AsyncClient`` aimed at the sandbox (through the ASGI transport
        when in-process); the caller closes it."""
        if self.in_process:
            options.setdefault("transport", httpx.ASGITransport(app=self.app))
        return httpx.AsyncClient(base_url=self.base_url, **options)

    def client(self, **options: Any) -> AsyncClient:
        """An ``ecartpay_async.AsyncClient`` with this sandbox's keys and address.

        In-process, its ``http_client`` goes through the ASGI transport and is closed
        with the sandbox; the ``AsyncClient`` itself is the caller's to close.
        """
        from ..client import AsyncClient

        if self.in_process and "http_client" not in options:
            http_client = self.http_client()
            self._http_clients.append(http_client)
            options["http_client"] = http_client
        return AsyncClient(
            public_key=self.public_key,
            private_key=self._private_key,
            base_url=self.base_url,
            **options,
        )

    # -- helpers for tests ------------------------------------------------------------

    async def pay_order(self, order_id: str) -> dict[str, Any]:
        """Pay an order as a customer would (``POST /_sandbox/orders/{id}/pay``); the
        order's JSON comes back with amounts as Decimals."""
        async with self.http_client() as http:
            response = await http.post(f"/_sandbox/orders/{order_id}/pay")
        if response.status_code != 200:
            raise RuntimeError(f"paying order {order_id} failed: {response.text}")
        answer: dict[str, Any] = wire.loads(response.content)
        return answer

    async def redeliver(self, delivery_id: str) -> None:
        """Send a finished delivery again with the same webhook id, as Ecart Pay does
        when a receiver's answer was lost (``POST /_sandbox/deliveries/{id}/redeliver``)."""
        async with self.http_client() as http:
            response = await http.post(f"/_sandbox/deliveries/{delivery_id}/redeliver")
        if response.status_code != 200:
            raise RuntimeError(f"redelivering {delivery_id} failed: {response.text}")

    async def wait_for_deliveries(
        self, count: int = 1, *, event: str | None = None, timeout: float = 10.0
    ) -> list[Delivery]:
        """Wait until ``count`` webhook deliveries (of ``event``, if given) are finished."""
        with anyio.fail_after(timeout):
            while True:
                done = [
                    d
                    for d in self.state.deliveries()
                    if d.status != "pending" and (event is None or d.event == event)
                ]
                if len(done) >= count:
                    return done
                await anyio.sleep(0.01)
