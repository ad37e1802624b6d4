"""``AsyncClient``: configuration and lifetime; owns the pool, the token and the resources."""

from __future__ import annotations

import functools
import os
from collections.abc import Callable
from types import TracebackType
from typing import TYPE_CHECKING, Any, Final, Literal

import attrs
import httpx

from ._auth import Secret, token_claim
from ._http import HTTPPipeline
from ._options import check_limits, check_timeout
from ._reprs import safe_repr
from ._retry import RetryPolicy
from .batch.payouts import BatchPayouts
from .errors import ConfigurationError
from .models.common import check_email
from .transport import (
    DEFAULT_LIMITS,
    DEFAULT_MAX_RESPONSE_BYTES,
    AutoTransport,
    DefaultSender,
    HttpxSender,
    Sender,
    TransportConfig,
    Verify,
)

if TYPE_CHECKING:
    import httpx2

    from .resources.orders import AsyncOrders
    from .resources.transactions import AsyncTransactions
    from .resources.webhooks import AsyncWebhooks
    from .resources.withdrawals import AsyncWithdrawals
    from .telemetry import Telemetry

__all__ = [
    "DEFAULT_LIMITS",
    "DEFAULT_MAX_RESPONSE_BYTES",
    "DEFAULT_TIMEOUT",
    "ENVIRONMENTS",
    "AsyncClient",
]

ENVIRONMENTS: Final = {
    "sandbox": "https://sandbox.ecartpay.com",
    "production": "https://ecartpay.com",
}

#: Connect fast or fail fast; give the API time to answer a payout. The largest phase
#: (30 s) also bounds each whole attempt, from connect to the answer's last byte.
DEFAULT_TIMEOUT: Final = httpx.Timeout(30.0, connect=10.0, pool=30.0)


@safe_repr
class AsyncClient:
    """The Ecart Pay API, asynchronously.

    ::

        async with AsyncClient(environment="sandbox") as client:
            payout = await client.payouts.create(
                email="ana@example.com", reference_id="payroll-2026-11-0001",
                amount=Decimal("1250.00"), currency="MXN",
            )

    Keys default to ``ECARTPAY_PUBLIC_KEY`` / ``ECARTPAY_PRIVATE_KEY``. ``base_url`` is
    an origin such as ``http://127.0.0.1:8000`` (the SDK adds ``/api/...``) and wins
    over ``environment``.

    The network, as httpx means it: ``proxy="http://user:pass@proxy:3128"`` sends
    every request through that proxy; otherwise, with ``trust_env`` (the default),
    ``HTTPS_PROXY`` / ``HTTP_PROXY`` / ``ALL_PROXY`` / ``NO_PROXY`` decide.
    ``verify`` is True (certifi's CAs, or ``SSL_CERT_FILE`` / ``SSL_CERT_DIR`` when
    ``trust_env``), a CA bundle path, an ``ssl.SSLContext``, or False. ``timeout``
    (seconds or an ``httpx.Timeout``) sets the phases, and its largest value bounds
    each whole attempt from connect to the last byte. ``max_response_bytes`` bounds an
    answer after decoding. The SDK sends through aiohttp on asyncio and through
    httpx's own transport on trio, with the same proxies and the same CA trust.

    Pass ``http_client`` to send through your own ``httpx.AsyncClient`` or
    ``httpx2.AsyncClient`` (its transport, proxies, event hooks, mocks); the SDK then
    never closes it. ``transport=`` puts any httpx or httpx2 transport under the SDK's
    own sender; the client closes it. Anything else is a ``TypeError``. Both carry
    their own proxy and TLS settings, so ``proxy=`` and ``verify=`` cannot be combined
    with them. ``max_retries`` and ``timeout`` can also
    be set per call and per derived client (:meth:`with_options`). ``retry_policy``
    tunes the backoff; the number of retries always comes from ``max_retries``.
    ``telemetry=True`` (the ``otel`` extra) adds OpenTelemetry spans and metrics, see
    :mod:`ecartpay_async.telemetry`; ``ECARTPAY_LOG=debug|info|warning`` turns the
    SDK's logging to stderr on.
    """

    def __init__(
        self,
        public_key: str | None = None,
        private_key: str | None = None,
        *,
        environment: Literal["sandbox", "production"] | None = None,
        base_url: str | None = None,
        timeout: float | httpx.Timeout = DEFAULT_TIMEOUT,
        max_retries: int = 2,
        http_client: httpx.AsyncClient | httpx2.AsyncClient | None = None,
        limits: httpx.Limits | None = None,
        transport: httpx.AsyncBaseTransport | httpx2.AsyncBaseTransport | None = None,
        proxy: str | httpx.URL | httpx.Proxy | None = None,
        verify: Verify = True,
        trust_env: bool = True,
        max_response_bytes: int = DEFAULT_MAX_RESPONSE_BYTES,
        retry_policy: RetryPolicy | None = None,
        default_headers: dict[str, str] | None = None,
        account_email: str | None = None,
        telemetry: bool | Telemetry = False,
        _pipeline: HTTPPipeline | None = None,
    ) -> None:
        from ._logging import configure_logging_from_env  # here: keeps the import cost

        configure_logging_from_env()  # ECARTPAY_LOG=debug|info|warning, read once
        # As the command line reads them: an argument wins over the environment variables.
        environment, base_url = _from_environment(environment, base_url)
        self.environment = environment
        self.account_email = None if account_email is None else check_email(
            account_email, field="account_email"
        )
        #: OpenTelemetry spans and metrics, or None (see ecartpay_async.telemetry).
        self.telemetry: Telemetry | None = None
        if _pipeline is not None:  # with_options(): share everything but the options
            self._http = _pipeline
            self.base_url = _pipeline.base_url
            # The shared pipeline already reports to it; batches need it for their span.
            self.telemetry = None if isinstance(telemetry, bool) else telemetry
        else:
            self.base_url = _resolve_base_url(environment, base_url)
            public = _key(public_key, "ECARTPAY_PUBLIC_KEY", "public_key")
            private = _key(private_key, "ECARTPAY_PRIVATE_KEY", "private_key")
            if sum(x is not None for x in (http_client, limits, transport)) > 1:
                raise ConfigurationError("give at most one of http_client=, limits=, transport=")
            if max_retries < 0:
                raise ConfigurationError("max_retries must be >= 0")
            check_limits(limits)
            if not isinstance(max_response_bytes, int) or max_response_bytes <= 0:
                raise ConfigurationError("max_response_bytes must be a positive number of bytes")
            if (http_client is not None or transport is not None) and (
                proxy is not None or verify is not True
            ):
                raise ConfigurationError(
                    "proxy= and verify= configure the SDK's own transport: set them on the "
                    "http_client= or transport= you pass instead"
                )
            policy = retry_policy or RetryPolicy()
            if max_retries != policy.max_retries:
                policy = _evolve(policy, max_retries=max_retries)
            self._http = HTTPPipeline(
                base_url=self.base_url,
                public_key=public,
                private_key=private,
                sender=_make_sender(
                    http_client, transport, max_response_bytes,
                    lambda: _transport_config(limits, verify, proxy, trust_env),
                ),
                timeout=_as_timeout(timeout),
                policy=policy,
                headers=default_headers,
            )
            self.telemetry = _telemetry(telemetry)
            if self.telemetry is not None:
                self._http.observers.append(self.telemetry)
        self.payouts = BatchPayouts(self)

    @functools.cached_property
    def orders(self) -> AsyncOrders:
        """Orders (marketplace sales that split revenue with sellers); loaded on first use."""
        from .resources.orders import AsyncOrders

        return AsyncOrders(self)

    # Made on first use: most clients only ever send payouts.
    @functools.cached_property
    def webhooks(self) -> AsyncWebhooks:
        from .resources.webhooks import AsyncWebhooks

        return AsyncWebhooks(self)

    @functools.cached_property
    def transactions(self) -> AsyncTransactions:
        from .resources.transactions import AsyncTransactions

        return AsyncTransactions(self)

    @functools.cached_property
    def withdrawals(self) -> AsyncWithdrawals:
        from .resources.withdrawals import AsyncWithdrawals

        return AsyncWithdrawals(self)

    @property
    def max_retries(self) -> int:
        return self._http.policy.max_retries

    @property
    def timeout(self) -> httpx.Timeout:
        return self._http.timeout

    def with_options(
        self,
        *,
        timeout: float | httpx.Timeout | None = None,
        max_retries: int | None = None,
        default_headers: dict[str, str] | None = None,
    ) -> AsyncClient:
        """A client with other options that shares this one's pool and token."""
        policy = None
        if max_retries is not None:
            if max_retries < 0:
                raise ConfigurationError("max_retries must be >= 0")
            policy = _evolve(self._http.policy, max_retries=max_retries)
        pipeline = self._http.derive(
            timeout=None if timeout is None else _as_timeout(timeout),
            policy=policy,
            headers=default_headers,
        )
        return AsyncClient(
            environment=self.environment,
            account_email=self.account_email,
            telemetry=self.telemetry or False,
            _pipeline=pipeline,
        )

    async def account_id(self) -> str | None:
        """The account the keys belong to: the ``account_id`` claim of the API's token
        (a token request if none is cached); None if the token does not carry it."""
        return token_claim(await self._http.tokens.get(), "account_id")

    async def aclose(self) -> None:
        """Close the connection pool, unless it was lent by the caller or by a parent client."""
        await self._http.aclose()

    async def __aenter__(self) -> AsyncClient:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    def __repr__(self) -> str:
        return f"AsyncClient(base_url={self.base_url!r}, max_retries={self.max_retries})"


def _from_environment(
    environment: str | None, base_url: str | None
) -> tuple[Literal["sandbox", "production"], str | None]:
    """``environment`` and ``base_url``, completed from ``ECARTPAY_ENVIRONMENT`` and
    ``ECARTPAY_BASE_URL`` when not given: an explicit ``environment`` also keeps the
    variable's base URL out, so ``environment="production"`` in code means production."""
    if base_url is None and environment is None:
        base_url = os.environ.get("ECARTPAY_BASE_URL", "").strip() or None
    if environment is None:
        environment = os.environ.get("ECARTPAY_ENVIRONMENT", "").strip() or "sandbox"
    if environment not in ENVIRONMENTS:
        raise ConfigurationError(
            f"environment must be 'sandbox' or 'production', got {environment!r}"
        )
    return environment, base_url  # type: ignore[return-value]  # one of ENVIRONMENTS


def _resolve_base_url(environment: str, base_url: str | None) -> str:
    if base_url is not None:
        try:
            url: httpx.URL | None = httpx.URL(base_url)
        except httpx.InvalidURL:
            url = None
        if (
            url is None or url.scheme not in ("http", "https") or not url.host
            or url.query or url.fragment
        ):
            raise ConfigurationError(f"base_url must be an http(s) origin, got {base_url!r}",
                                     field="base_url")
        return base_url.rstrip("/")
    try:
        return ENVIRONMENTS[environment]
    except KeyError:
        raise ConfigurationError(
            f"environment must be 'sandbox' or 'production', got {environment!r}"
        ) from None


def _key(value: str | None, env_var: str, name: str) -> Secret:
    value = value if value is not None else os.environ.get(env_var)
    if not value or not value.strip():
        raise ConfigurationError(f"no {name}: pass {name}= or set {env_var}", field=name)
    return Secret(value.strip())


def _telemetry(telemetry: bool | Telemetry) -> Telemetry | None:
    if telemetry is False:
        return None
    try:
        from .telemetry import Telemetry
    except ImportError:
        raise ConfigurationError(
            "telemetry needs OpenTelemetry: pip install 'ecartpay-async[otel]'"
        ) from None
    return Telemetry() if telemetry is True else telemetry


def _as_timeout(timeout: float | httpx.Timeout) -> httpx.Timeout:
    check_timeout(timeout)
    return timeout if isinstance(timeout, httpx.Timeout) else httpx.Timeout(timeout)


def _evolve(policy: RetryPolicy, **changes: Any) -> RetryPolicy:
    return attrs.evolve(policy, **changes)


def _transport_config(
    limits: httpx.Limits | None,
    verify: Verify,
    proxy: str | httpx.URL | httpx.Proxy | None,
    trust_env: bool,
) -> TransportConfig:
    try:
        return TransportConfig(
            limits=limits or DEFAULT_LIMITS, verify=verify, proxy=proxy, trust_env=trust_env
        )
    except (ValueError, httpx.InvalidURL) as exc:  # a malformed proxy URL, here or in the env
        raise ConfigurationError(f"proxy: {exc}") from None


def _make_sender(
    http_client: object | None,
    transport: object | None,
    max_response_bytes: int,
    config: Callable[[], TransportConfig],
) -> Sender:
    if http_client is not None:
        # httpx or httpx2; anything else is a TypeError naming both.
        return HttpxSender(
            http_client, client=True, owned=False, max_response_bytes=max_response_bytes
        )
    if transport is not None:
        return HttpxSender(
            transport, client=False, owned=True, max_response_bytes=max_response_bytes
        )
    # The SDK's own stack: aiohttp driven directly on asyncio, httpx's transport in
    # shards on trio (benchmarks/README.md).
    return DefaultSender(AutoTransport(config()), max_response_bytes=max_response_bytes)
