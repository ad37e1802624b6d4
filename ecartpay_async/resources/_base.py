"""What every resource shares: the client's pipeline and answer structuring."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeVar
from urllib.parse import quote

import httpx

from .._convert import ShapeError, structure
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

    @staticmethod
    def _structure(data: Any, cls: type[T], method: str, path: str) -> T:
        try:
            return structure(data, cls)
        except ShapeError as exc:
            raise APIResponseError(str(exc), method=method, path=path, status_code=200) from exc


def path_id(value: object, field: str) -> str:
    """An object id made safe to put in a URL path."""
    if not isinstance(value, str) or not value.strip():
        raise ValidationError(field, "must be a non-empty string")
    return quote(value.strip(), safe="")
