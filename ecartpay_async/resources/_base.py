"""What every resource shares: the client's pipeline, answer structuring, raw responses."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from typing import TYPE_CHECKING, Any, Generic, TypeVar
from urllib.parse import quote

import httpx

from .. import _convert
from .._convert import ShapeError, structure, structure_payout
from .._http import Answer, RawResponse, RequestOptions, capture_answers
from ..errors import APIResponseError, ValidationError
from ..models.payouts import Payout

if TYPE_CHECKING:
    from .._http import HTTPPipeline
    from ..client import AsyncClient

T = TypeVar("T")
R = TypeVar("R", bound="Resource")


class Resource:
    def __init__(self, client: AsyncClient) -> None:
        self._client = client
        self._http: HTTPPipeline = client._http

    @property
    def with_raw_response(self) -> WithRawResponse[Any]:
        """The same methods, answering a :class:`~ecartpay_async.RawResponse`:
        ``status_code`` and ``headers`` of the answer that produced the value, and
        ``parsed``, what the plain method returns::

            raw = await client.payouts.with_raw_response.retrieve(payout_id)
            raw.status_code, raw.headers["content-type"], raw.parsed.status
        """
        return WithRawResponse(self)

    async def _request(
        self,
        method: str,
        path: str,
        *,
        json: Any = None,
        params: Mapping[str, Any] | None = None,
        max_retries: int | None = None,
        timeout: float | httpx.Timeout | None = None,
    ) -> Any:
        return await self._http.request(
            method, path, json=json, params=params, max_retries=max_retries, timeout=timeout
        )

    async def _send_once(
        self,
        method: str,
        path: str,
        body: Any,
        max_retries: int | None,
        timeout: float | httpx.Timeout | None,
    ) -> Any:
        """Send a request that has no idempotency key: retried only after a failure that
        proves it never reached the server (a refused connection, a 429), never after one
        that may have (a timeout, a lost connection, a 5xx), which is raised instead."""
        options: RequestOptions[Any] = RequestOptions(
            method, path, json=body, resend="never", max_retries=max_retries, timeout=timeout,
        )
        outcome = await self._http.call(options, lambda answer: answer.data)
        return outcome.value

    @staticmethod
    def _structure(data: Any, cls: type[T], method: str, path: str) -> T:
        """``cls`` from an answer's data; a shape that does not fit is APIResponseError."""
        try:
            return structure(data, cls)
        except ShapeError as exc:
            raise APIResponseError(str(exc), method=method, path=path, status_code=200) from exc

    @staticmethod
    def _payout(answer: Answer) -> Payout:
        """The payout an answer carries: the documented shape read in one pass, any
        other by the converter's rules (its usual shapes without cattrs)."""
        payout = _convert.read_payout(answer.content)
        if payout is not None:
            return payout
        try:
            return structure_payout(answer.data, Payout)
        except ShapeError as exc:
            raise APIResponseError(
                str(exc), method=answer.method, path=answer.path, status_code=answer.status_code
            ) from exc


class WithRawResponse(Generic[R]):
    """A resource's methods, each answering a :class:`RawResponse` of its value."""

    def __init__(self, resource: R) -> None:
        self._resource = resource

    def __getattr__(self, name: str) -> Callable[..., Awaitable[RawResponse[Any]]]:
        method = getattr(self._resource, name)
        if name.startswith("_") or not callable(method):
            raise AttributeError(name)

        async def raw(*args: Any, **kwargs: Any) -> RawResponse[Any]:
            with capture_answers() as answers:
                parsed = method(*args, **kwargs)
                if not isinstance(parsed, Awaitable):
                    raise TypeError(f"{name}() is not a single request: it has no raw form")
                parsed = await parsed
            if not answers:
                raise TypeError(f"{name}() sent no request: it has no raw form")
            last = answers[-1]
            return RawResponse(last.status_code, last.headers, parsed)

        return raw


def path_id(value: object, field: str) -> str:
    """An object id made safe to put in a URL path."""
    if not isinstance(value, str) or not value.strip():
        raise ValidationError(field, "must be a non-empty string")
    return quote(value.strip(), safe="")
