"""What every resource shares: the client's pipeline and answer structuring."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeVar
from urllib.parse import quote

import httpx

from .._convert import ShapeError, structure
from .._retry import is_retryable, may_have_been_processed
from ..errors import APIResponseError, ValidationError

if TYPE_CHECKING:
    from .._http import HTTPPipeline
    from ..client import AsyncClient

T = TypeVar("T")


class Resource:
    def __init__(self, client: AsyncClient) -> None:
        self._client = client

    @property
    def _http(self) -> HTTPPipeline:
        return self._client._http

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
        return await self._http.policy.run(
            lambda: self._http.request_once(method, path, json=body, timeout=timeout),
            max_retries=max_retries,
            retry_if=_never_sent,
            describe=f"{method} {path}",
        )

    @staticmethod
    def _structure(data: Any, cls: type[T], method: str, path: str) -> T:
        try:
            return structure(data, cls)
        except ShapeError as exc:
            raise APIResponseError(str(exc), method=method, path=path, status_code=200) from exc


def _never_sent(exc: BaseException) -> bool:
    return is_retryable(exc) and not may_have_been_processed(exc)


def path_id(value: object, field: str) -> str:
    """An object id made safe to put in a URL path."""
    if not isinstance(value, str) or not value.strip():
        raise ValidationError(field, "must be a non-empty string")
    return quote(value.strip(), safe="")
