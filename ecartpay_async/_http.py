"""The one request pipeline: build, authorize, send, classify, retry.

Every API call is described by one :class:`RequestOptions` (method, path, body,
timeout, max_retries, and what may be done after a failure: ``resend`` is
``"may_resend"``, ``"look_up_first"`` or ``"never"``) and runs through the one retry
loop, :meth:`HTTPPipeline.call`: the token request, payout creation and confirmation,
lookups, lists, orders, webhooks. :meth:`HTTPPipeline.request` is its shorthand for a
plain request answered with JSON. The pipeline never logs or raises a header, a key or
a token.

One translation: whatever stack sent the request (aiohttp, an httpx or httpx2 client
or transport), its failure reaches the pipeline as an httpx-family transport error and
:func:`_connection_error` makes it the SDK's; an answer's status is classified in
:func:`_status_error` only (which :mod:`.errors` class, with the API's request id).

What an answer or a failure means (retry? pause everything? may it have been
processed?) is decided in :mod:`.rules`; how long to wait in :mod:`._retry`; the pause
itself is the client's one :class:`~._pause.PauseGate`, which this pipeline sets and
waits at.
"""

from __future__ import annotations

import logging
import platform
import re
import time
from collections.abc import Awaitable, Callable, Mapping
from contextvars import ContextVar
from decimal import Decimal
from typing import Any, Generic, Literal, TypeVar

import attrs
import httpx

from . import _json
from ._auth import Secret, TokenCache, basic_credentials
from ._options import check_timeout
from ._pause import PauseGate
from ._reprs import safe_repr
from ._retry import RetryPolicy, parse_retry_after
from ._version import __version__
from .errors import (
    APIConnectionError,
    APIError,
    APIProxyError,
    APIResponseError,
    APIStatusError,
    APITimeoutError,
    AuthenticationError,
    ClientClosedError,
    EcartPayError,
    RateLimitError,
    ResponseTooLargeError,
    declared_status,
    status_error_class,
)
from .rules import (
    TOKEN_PATH,
    is_retryable,
    may_have_been_processed,
    retry_token_request,
    status_meaning,
)
from .transport import Reply, ResponseTooLarge, Sender

__all__ = [
    "Answer",
    "Attempt",
    "Call",
    "HTTPPipeline",
    "RawResponse",
    "RequestOptions",
    "Resend",
    "Sender",
    "capture_answers",
    "user_agent",
]

T = TypeVar("T")

logger = logging.getLogger("ecartpay_async")

# Response headers safe to keep on an error (none of them can carry a secret).
_KEPT_HEADERS = ("retry-after", "content-type", "date", "x-request-id", "cf-ray")
_TAGS = re.compile(r"<[^>]*>")
_SPACES = re.compile(r"\s+")
_DEBUG = logging.DEBUG

def user_agent() -> str:
    return (
        f"ecartpay-async/{__version__} Python/{platform.python_version()} "
        f"httpx/{httpx.__version__}"
    )


@safe_repr
@attrs.frozen
class Attempt:
    """One HTTP attempt, as reported to an ``on_attempt`` observer."""

    method: str
    path: str
    number: int
    status_code: int | None
    error: BaseException | None
    duration: float


AttemptObserver = Callable[[Attempt], None]

#: What the loop may do after a failure that may have reached the server:
#: ``may_resend`` send again (the request is idempotent: GET, PUT of fields);
#: ``look_up_first`` ask ``look_up`` what the earlier attempt did, and send again only
#: if it did nothing (a payout, by reference_id; a confirmation, by the payout's state);
#: ``never`` give up (no idempotency key: an order, a webhook registration). Every kind
#: is sent again after a failure that proves the request never left.
Resend = Literal["may_resend", "look_up_first", "never"]


@safe_repr
@attrs.define  # not frozen: built per call and never changed (frozen costs ~0.7 µs a call)
class RequestOptions(Generic[T]):
    """Everything the one retry loop needs to know about one API call."""

    method: str
    path: str
    json: Any = None
    params: Mapping[str, Any] | None = None
    resend: Resend = "may_resend"
    timeout: float | httpx.Timeout | None = None
    max_retries: int | None = None
    on_attempt: AttemptObserver | None = None
    #: What an earlier attempt left behind (None: nothing): asked before resending
    #: (``look_up_first``) and after an error answer that ``settles`` names.
    look_up: Callable[[], Awaitable[T | None]] | None = None
    #: An error answer a look-up may settle (a reference_id already used; a
    #: confirmation refused after an earlier attempt); given the attempt number.
    settles: Callable[[APIStatusError, int], bool] | None = None
    #: Replaces the retry rule for ``may_resend`` (the token request's own).
    retry_if: Callable[[BaseException], bool] | None = None
    describe: str | None = None
    #: Sent instead of the token (the token request sends the key pair).
    authorization: Secret | None = None


_UNREAD: Any = object()


@safe_repr
class Answer:
    """One 2xx answer as the pipeline read it: status, headers and body, and ``data``,
    the body decoded as JSON at its first use (a parser may read ``content`` itself,
    in one pass). A body that is not JSON raises :class:`APIResponseError` there,
    inside the attempt, like any answer that does not parse."""

    __slots__ = ("_data", "content", "headers", "method", "path", "status_code")

    def __init__(
        self, status_code: int, headers: Mapping[str, str], content: bytes, method: str, path: str
    ) -> None:
        self.status_code = status_code
        self.headers = headers
        self.content = content
        self.method = method
        self.path = path
        self._data = _UNREAD

    @property
    def data(self) -> Any:
        data = self._data
        if data is _UNREAD:
            data = self._data = _decode_json(self)
        return data

    def __repr__(self) -> str:  # the body stays out: the token request's carries the token
        return f"<Answer {self.status_code} to {self.method} {self.path}>"


@safe_repr
@attrs.frozen
class RawResponse(Generic[T]):
    """An answer with its HTTP details: ``status_code``, ``headers`` (response headers;
    never a request's), and ``parsed``, what the plain method returns."""

    status_code: int
    headers: Mapping[str, str]
    parsed: T

    @property
    def request_id(self) -> str | None:
        """The API's id for the request, when the answer carries one."""
        return self.headers.get("x-request-id")


# The answers of the calls run under ``with_raw_response`` (None: nobody listens).
_captured: ContextVar[list[Answer] | None] = ContextVar("ecartpay_answers", default=None)


class capture_answers:
    """Collect the answers the pipeline reads within the block (for raw responses)."""

    def __enter__(self) -> list[Answer]:
        self._answers: list[Answer] = []
        self._token = _captured.set(self._answers)
        return self._answers

    def __exit__(self, *exc: object) -> None:
        _captured.reset(self._token)


class _Shared:
    """What every client derived by ``with_options`` shares: pool, token, pause gate."""

    def __init__(self, sender: Sender, tokens: TokenCache | None, gate: PauseGate) -> None:
        self.sender = sender
        self.tokens = tokens
        self.gate = gate
        #: Told of every attempt of every call (telemetry); see HTTPPipeline.observers.
        self.observers: list[AttemptObserver] = []
        self.closed = False


class HTTPPipeline:
    def __init__(
        self,
        *,
        base_url: str,
        public_key: Secret,
        private_key: Secret,
        sender: Sender,
        timeout: httpx.Timeout,
        policy: RetryPolicy,
        headers: Mapping[str, str] | None = None,
        shared: _Shared | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout
        self.policy = policy
        self._public_key = public_key
        self._private_key = private_key
        self._clock = clock
        self._headers = {
            "User-Agent": user_agent(),
            "Accept": "application/json",
            **(headers or {}),
        }
        # Only the root pipeline closes the pool; derived ones (with_options) borrow it.
        self._root = shared is None
        self._timeouts = timeout.as_dict()
        self._json_headers = {**self._headers, "Content-Type": "application/json"}
        # The gate reads this pipeline's clock at each call (tests put it on fake time).
        self._shared = shared or _Shared(sender, None, PauseGate(clock=lambda: self._clock()))
        if self._shared.tokens is None:
            self._shared.tokens = TokenCache(self._fetch_token)

    def derive(
        self, *, timeout: httpx.Timeout | None = None, policy: RetryPolicy | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> HTTPPipeline:
        """A pipeline with other options sharing this one's pool, token and pause gate."""
        return HTTPPipeline(
            base_url=self.base_url,
            public_key=self._public_key,
            private_key=self._private_key,
            sender=self._shared.sender,
            timeout=timeout or self.timeout,
            policy=policy or self.policy,
            headers={**self._headers, **(headers or {})},
            shared=self._shared,
            clock=self._clock,
        )

    @property
    def observers(self) -> list[AttemptObserver]:
        """Callables told of every attempt of this client and of those derived from it."""
        return self._shared.observers

    @property
    def tokens(self) -> TokenCache:
        assert self._shared.tokens is not None
        return self._shared.tokens

    @property
    def pause_gate(self) -> PauseGate:
        """The pause gate shared by this client, its derived clients and their batches."""
        return self._shared.gate

    @property
    def closed(self) -> bool:
        return self._shared.closed

    async def aclose(self) -> None:
        """Close the pool (the root pipeline only); every later call then raises."""
        if self._root and not self._shared.closed:
            self._shared.closed = True
            await self._shared.sender.aclose()

    # -- the public entry points -------------------------------------------------

    async def request(
        self,
        method: str,
        path: str,
        *,
        json: Any = None,
        params: Mapping[str, Any] | None = None,
        max_retries: int | None = None,
        timeout: float | httpx.Timeout | None = None,
        on_attempt: AttemptObserver | None = None,
    ) -> Any:
        """A request that may be sent again (GET, PUT of fields): its decoded JSON answer."""
        options: RequestOptions[Any] = RequestOptions(
            method, path, json=json, params=params, max_retries=max_retries,
            timeout=timeout, on_attempt=on_attempt,
        )
        outcome = await self.call(options, _data)
        return outcome.value

    async def call(
        self, options: RequestOptions[T], parse: Callable[[Answer], T]
    ) -> Call[T]:
        """The one retry loop: attempt, classify, look up, wait, attempt again.

        ``parse`` turns a 2xx answer into the call's value (inside the attempt: an
        answer that does not parse is a failure the rules judge like any other).
        """
        if self._shared.closed:
            raise ClientClosedError(f"{options.method} {options.path}: the client is closed")
        call = Call(self, options, parse)
        try:
            # The first attempt runs bare: almost every call succeeds at once, and each
            # coroutine level costs CPU at every suspension of the request below it.
            try:
                return await call.attempt()
            except Exception as exc:
                retries = options.max_retries
                if retries is None:
                    retries = self.policy.max_retries
                retry_if = _retry_rule(options)
                if retries == 0 or not retry_if(exc):
                    raise
                first_error = exc
            return await self.policy.retry(
                call.attempt, first_error, retries=retries, retry_if=retry_if,
                describe=options.describe or f"{options.method} {options.path}",
            )
        except EcartPayError as exc:
            exc.attempts = call.sent  # this call's, not those of a look-up or token inside it
            raise

    # -- the steps ---------------------------------------------------------------

    def _translated(
        self, exc: Exception, options: RequestOptions[Any], number: int, started: float
    ) -> APIError | None:
        """The one translation of a sender's failure into the SDK's error, reported as
        the attempt's outcome; None for anything that is no transport failure (raised
        as it is)."""
        names = _httpx_names(exc)
        if "TransportError" not in names and "DecodingError" not in names:
            return None
        method, path = options.method, options.path
        error = _connection_error(exc, names, method, path)
        self._report(options.on_attempt, method, path, number, None, error, started)
        return error

    def _report(
        self,
        on_attempt: AttemptObserver | None,
        method: str,
        path: str,
        number: int,
        status: int | None,
        error: BaseException | None,
        started: float,
    ) -> None:
        duration = self._clock() - started
        if logger.isEnabledFor(_DEBUG):
            outcome = status if error is None else type(error).__name__
            logger.debug(
                "%s %s -> %s (attempt %d, %.1f ms)", method, path, outcome, number, duration * 1e3
            )
        observers = self._shared.observers
        if on_attempt is not None or observers:
            attempt = Attempt(method, path, number, status, error, duration)
            if on_attempt is not None:
                on_attempt(attempt)
            for observer in observers:
                observer(attempt)

    def _pause_from(self, response: Reply) -> None:
        # Every request of this client waits, not just the one that was told.
        wait = parse_retry_after(response.headers.get("retry-after"))
        if wait:
            self._shared.gate.pause(min(wait, self.policy.max_retry_after))

    # -- the token request ---------------------------------------------------------

    async def _fetch_token(self) -> Secret:
        basic = basic_credentials(self._public_key, self._private_key)

        def token_of(answer: Answer) -> Secret:
            data = answer.data
            token = data.get("token") if isinstance(data, Mapping) else None
            if not isinstance(token, str) or not token:
                raise APIResponseError(
                    "token answer has no 'token'", method="POST", path=TOKEN_PATH,
                    status_code=answer.status_code,
                )
            return Secret(token)

        options: RequestOptions[Secret] = RequestOptions(
            "POST", TOKEN_PATH, authorization=basic, retry_if=retry_token_request,
            describe="token request",
        )
        outcome = await self.call(options, token_of)
        return outcome.value


@safe_repr
class Call(Generic[T]):
    """One call's way through the retry loop (:meth:`HTTPPipeline.call`), and what the
    loop returns: ``value``, the ``attempts`` it took, whether a look-up found it
    (``recovered``) instead of an answer to the request itself, and whether it was
    ``existing`` before this call (found after a refusal the look-up settles, with no
    attempt of this call that may have reached the server).

    Each :meth:`attempt` looks up first when an earlier attempt may have reached the
    server and ``resend`` says so, then sends (with the token, refreshed and replayed
    once if it was refused) and parses. (One small object per call, which is also its
    outcome; one coroutine level per attempt, not one per step.)"""

    __slots__ = (
        "attempts", "existing", "options", "parse", "pipeline", "reached", "recovered",
        "sent", "uncertain", "value",
    )

    value: T

    def __init__(
        self, pipeline: HTTPPipeline, options: RequestOptions[T], parse: Callable[[Answer], T]
    ) -> None:
        self.pipeline = pipeline
        self.options = options
        self.parse = parse
        self.attempts = 0
        self.sent = 0  # the number of the last attempt handed to the sender
        self.uncertain = False  # an earlier attempt may have reached the server
        self.reached = False  # some attempt may have reached it (never reset by a look-up)
        self.recovered = False
        self.existing = False

    def __repr__(self) -> str:
        return f"<Call {self.options.method} {self.options.path}, {self.attempts} attempts>"

    def _found(self, value: T, *, existing: bool = False) -> Call[T]:
        self.value = value
        self.recovered = True
        self.existing = existing
        return self

    async def attempt(self) -> Call[T]:
        options = self.options
        look_up = options.look_up
        if self.uncertain and options.resend == "look_up_first" and look_up is not None:
            found = await look_up()
            if found is not None:
                return self._found(found)
            # Nothing was done as of now: only a new failure that may have reached
            # the server calls for another look-up (a refused connection in between
            # does not).
            self.uncertain = False
        self.attempts += 1
        attempts = self.attempts
        pipeline = self.pipeline
        shared = pipeline._shared
        try:
            json = options.json
            content = None if json is None else _dumps(json)
            method, path, params, timeout = (
                options.method, options.path, options.params, options.timeout
            )
            url = pipeline.base_url + path
            headers = pipeline._headers if content is None else pipeline._json_headers
            timeouts = pipeline._timeouts if timeout is None else _phases(timeout)
            query = None if not params else {k: v for k, v in params.items() if v is not None}
            # The key pair (the token request) or the token; a refused token is
            # refreshed and the request replayed once.
            tokens = None if options.authorization is not None else shared.tokens
            replayed = False
            while True:
                # A Secret until the sender puts it in the request: no frame here holds
                # it as text (error trackers record frame locals).
                authorization = options.authorization
                if tokens is not None:
                    authorization = tokens.valid() or await tokens.get()
                assert authorization is not None
                gate = shared.gate
                if gate.ever_paused:  # every request waits while the server asked to
                    await gate.wait(pipeline.policy.sleep)
                self.sent = attempts
                started = pipeline._clock()
                try:
                    response = await shared.sender.send(
                        method, url, query, headers, authorization, content, timeouts
                    )
                except Exception as exc:
                    error = pipeline._translated(exc, options, attempts, started)
                    if error is None:
                        raise
                    raise error from exc
                status = response.status_code
                if status >= 500:  # a refusal its body declares is no server failure
                    status = declared_status(status, response.content)
                on_attempt = options.on_attempt
                # Reported only to listeners (a call less per request when none listens).
                if on_attempt is not None or shared.observers or logger.isEnabledFor(_DEBUG):
                    pipeline._report(on_attempt, method, path, attempts, status, None, started)
                if status >= 400 and status_meaning(status).pause:
                    pipeline._pause_from(response)
                if status != 401 or tokens is None or replayed:
                    break
                # The token expired or was revoked.
                tokens.invalidate(authorization)
                replayed = True
            if not 200 <= status < 300:
                raise _status_error(response, method, path)
            answer = Answer(status, response.headers, response.content, method, path)
            captured = _captured.get()
            if captured is not None:  # with_raw_response: the caller wants it too
                captured.append(answer)
            self.value = self.parse(answer)
            return self
        except APIStatusError as exc:
            settles = options.settles
            if look_up is not None and settles is not None and settles(exc, attempts):
                found = await look_up()
                if found is not None:
                    return self._found(found, existing=not self.reached)
            self._failed(exc)
            raise
        except Exception as exc:
            self._failed(exc)
            raise

    def _failed(self, exc: Exception) -> None:
        self.uncertain = self.uncertain or may_have_been_processed(exc)
        self.reached = self.reached or self.uncertain


def _phases(timeout: float | httpx.Timeout) -> dict[str, float | None]:
    """A per-call ``timeout=`` as the phases every sender reads (the one place a
    per-call timeout is interpreted; the client's own is read once, at construction)."""
    check_timeout(timeout)  # a per-call timeout of 0 would fail after sending
    if isinstance(timeout, httpx.Timeout):
        return timeout.as_dict()
    return httpx.Timeout(timeout).as_dict()


def _data(answer: Answer) -> Any:
    return answer.data


def _decode_json(answer: Answer) -> Any:
    """A 2xx answer's body as JSON (None for an empty body); else APIResponseError."""
    content = answer.content
    if not content.strip():
        return None
    try:
        return _loads(content)
    except (ValueError, UnicodeDecodeError):
        raise APIResponseError(
            f"answer is not valid JSON: {_excerpt(content)!r}",
            method=answer.method,
            path=answer.path,
            status_code=answer.status_code,
            body=_excerpt(content),
        ) from None


def _retry_rule(options: RequestOptions[Any]) -> Callable[[BaseException], bool]:
    """Which failures the loop answers with another attempt, by ``options.resend``."""
    if options.retry_if is not None:
        return options.retry_if
    if options.resend == "never" or (
        options.resend == "look_up_first" and options.look_up is None
    ):
        # Nothing to look the request up by: send again only what never left.
        return _never_sent
    return is_retryable


def _never_sent(exc: BaseException) -> bool:
    return is_retryable(exc) and not may_have_been_processed(exc)


def _decoder() -> Callable[[bytes], Any]:
    """msgspec's C decoder when installed (a payout answer in ~1.3 µs against ~10 µs),
    numbers with a fraction read straight to exact Decimals as ``_json.loads`` reads
    them; imported at the first answer, not with the SDK."""
    try:
        import msgspec
    except ImportError:
        return _json.loads
    decode = msgspec.json.Decoder(float_hook=Decimal).decode

    def loads(content: bytes) -> Any:
        try:
            return decode(content)
        except msgspec.DecodeError:
            # What msgspec refuses and the stdlib reads (NaN, Infinity), or fails on:
            # the stdlib decides, so both paths read every answer alike.
            return _json.loads(content)

    return loads


def _first_loads(content: bytes) -> Any:
    global _loads
    _loads = _decoder()
    return _loads(content)


_loads: Callable[[bytes], Any] = _first_loads


def _encoder() -> Callable[[Any], bytes]:
    """msgspec's C encoder for the flat bodies the SDK sends most (a payout: text,
    Decimals, booleans), where it writes exactly what ``_json.dumps`` writes; anything
    else (nesting, a Decimal str() would write with an exponent, a float, an unknown
    type) goes to ``_json.dumps``, whose rules stay the only ones."""
    try:
        import msgspec
    except ImportError:
        return _json.dumps
    encode = msgspec.json.Encoder(decimal_format="number").encode

    def dumps(obj: Any) -> bytes:
        if type(obj) is not dict:
            return _json.dumps(obj)
        for key, value in obj.items():
            kind = type(value)
            if type(key) is not str:
                return _json.dumps(obj)
            if kind is Decimal:
                # str() (msgspec's text) and format "f" (_json's) agree unless str()
                # writes an exponent (an "e" under a context with capitals=0); _json
                # refuses what is not finite.
                text = str(value)
                if "E" in text or "e" in text or not value.is_finite():
                    return _json.dumps(obj)
            elif kind is not str and kind is not bool and kind is not int and value is not None:
                return _json.dumps(obj)
        return encode(obj)

    return dumps


def _first_dumps(obj: Any) -> bytes:
    global _dumps
    _dumps = _encoder()
    return _dumps(obj)


_dumps: Callable[[Any], bytes] = _first_dumps


def _excerpt(content: bytes, limit: int = 200) -> str:
    text = content[: limit * 4].decode("utf-8", errors="replace")
    text = _SPACES.sub(" ", _TAGS.sub(" ", text)).strip()
    return text[:limit] + ("…" if len(text) > limit else "")


_NAMES: dict[type, frozenset[str]] = {}


def _httpx_names(exc: BaseException) -> frozenset[str]:
    """The httpx exception classes ``exc`` is, by name, for either httpx generation
    (httpx2 has the same classes under another module; the SDK's own extend httpx's)."""
    kind = type(exc)
    names = _NAMES.get(kind)
    if names is None:
        names = _NAMES[kind] = frozenset(
            c.__name__ for c in kind.__mro__
            if c.__module__.partition(".")[0] in ("httpx", "httpx2")
        )
    return names


def _connection_error(
    exc: BaseException, names: frozenset[str], method: str, path: str
) -> APIError:
    """The one translation of a transport failure, from any stack, into the SDK's error,
    with whether the server may have acted on it. Every stack's failure arrives as an
    httpx-family exception: httpx's and httpx2's own, aiohttp's through the table in
    :mod:`.transport._errors`."""
    name = type(exc).__name__
    detail = _detail(exc)
    where = f"{name} on {method} {path}: {detail}"
    if isinstance(exc, ResponseTooLarge):
        return ResponseTooLargeError(
            where, limit=exc.limit, method=method, path=path, status_code=exc.status_code,
        )
    if "DecodingError" in names:  # a body its Content-Encoding cannot decode
        return APIResponseError(where, method=method, path=path)
    if "ProxyError" in names:
        return APIProxyError(where, proxy=getattr(exc, "proxy", ""), method=method, path=path)
    if "TimeoutException" in names:
        error: APIConnectionError = APITimeoutError(where, method=method, path=path)
    else:
        error = APIConnectionError(where, method=method, path=path)
    # Only failures before a byte left prove the server never saw the request: no
    # connection (ConnectError, ConnectTimeout), none free (PoolTimeout). Anything
    # later (a timeout mid-answer, the overall deadline, a reset, a stale keep-alive
    # connection that died under the request) may have been processed: a payout is
    # looked up before it is sent again.
    error.maybe_processed = names.isdisjoint(("ConnectError", "ConnectTimeout", "PoolTimeout"))
    return error


def _detail(exc: BaseException) -> str:
    """The first non-empty message down the cause chain (httpcore on trio leaves its own
    empty and puts the reason, such as a refused certificate, a few causes down)."""
    link: BaseException | None = exc
    for _ in range(5):
        if link is None:
            break
        if str(link):
            return str(link)
        link = link.__cause__ or link.__context__
    return "no detail"


def _status_error(response: Reply, method: str, path: str) -> APIStatusError:
    status = response.status_code
    body: Any
    try:
        body = _json.loads(response.content) if response.content.strip() else None
    except (ValueError, UnicodeDecodeError):
        body = _excerpt(response.content)
    message = None
    if isinstance(body, Mapping):
        message = body.get("message") or body.get("error") or body.get("detail")
        if isinstance(message, list) and all(isinstance(m, str) for m in message):
            message = "; ".join(message)  # a validation answer listing every problem
    elif isinstance(body, str) and body:
        message = body
    if not isinstance(message, str) or not message:
        message = response.reason_phrase or f"HTTP {status}"
    headers = {k: response.headers[k] for k in _KEPT_HEADERS if k in response.headers}
    declared = declared_status(status, body)
    cls = status_error_class(declared)
    kwargs: dict[str, Any] = {
        "status_code": declared, "body": body, "method": method, "path": path,
        "headers": headers, "http_status": status,
    }
    if cls is RateLimitError:
        return RateLimitError(
            message, retry_after=parse_retry_after(headers.get("retry-after")), **kwargs
        )
    if cls is AuthenticationError and path == TOKEN_PATH:
        message = f"the API refused the key pair ({message})"
    return cls(message, **kwargs)

