"""List answers, page after page: one reading of the envelope and one walk for every list.

Ecart Pay's lists answer ``{"count", "docs", "pages"}`` and take ``page`` and
``limit``; some answer a bare array (API-NOTES). :func:`paginate` asks for page 1,
2, ... until the last page, a short page, an empty one, or one that repeats the last
(a server that ignores ``page``), so a walk always ends.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from datetime import date
from typing import TYPE_CHECKING, Any, Protocol, TypeVar

import attrs
import httpx

from ..errors import APIResponseError, ValidationError
from ..models.payouts import Page

if TYPE_CHECKING:
    from ._base import Resource

__all__ = ["check_limit", "paginate", "parse_page", "query_day", "structure_page"]


class _Identified(Protocol):
    @property
    def id(self) -> str: ...


M = TypeVar("M", bound=_Identified)


def parse_page(data: Any) -> Page:
    """A list answer as a :class:`Page`: the ``{count, docs, pages}`` envelope or a bare array."""
    if isinstance(data, list):
        return Page(docs=tuple(data))
    if isinstance(data, Mapping):
        docs = data.get("docs", data.get("data"))
        if isinstance(docs, list):
            return Page(docs=tuple(docs), count=_int_or_none(data.get("count")),
                        pages=_int_or_none(data.get("pages")))
    kind = type(data).__name__
    raise ValueError(f"expected a list or a {{count, docs, pages}} object, got {kind}")


def _int_or_none(value: object) -> int | None:
    try:
        return int(value)  # type: ignore[call-overload, no-any-return]
    except (TypeError, ValueError):
        return None


def check_limit(limit: int) -> int:
    if isinstance(limit, bool) or not isinstance(limit, int) or not 1 <= limit <= 1000:
        raise ValidationError("limit", "must be a whole number between 1 and 1000")
    return limit


def query_day(value: date | None, field: str) -> str | None:
    """A date filter as the API takes it, ``YYYY-MM-DD``."""
    if value is None:
        return None
    if not isinstance(value, date):
        raise ValidationError(field, f"must be a datetime.date, got {type(value).__name__}")
    return value.isoformat()[:10]


def structure_page(resource: Resource, data: Any, model: type[M], path: str) -> Page:
    """A list answer with each doc structured as ``model``."""
    try:
        page = parse_page(data)
    except ValueError as exc:
        raise APIResponseError(str(exc), method="GET", path=path, status_code=200) from exc
    docs = tuple(resource._structure(doc, model, "GET", path) for doc in page.docs)
    return attrs.evolve(page, docs=docs)


async def paginate(
    resource: Resource,
    path: str,
    model: type[M],
    filters: Mapping[str, Any],
    *,
    limit: int,
    max_retries: int | None,
    timeout: float | httpx.Timeout | None,
) -> AsyncIterator[M]:
    """Every ``model`` of the list at ``path``, page after page (``None`` filters are
    left out by the pipeline)."""
    params = {**filters, "limit": limit}
    page_number = 1
    previous_ids: set[str] = set()
    while True:
        data = await resource._request(
            "GET", path, params={**params, "page": page_number},
            max_retries=max_retries, timeout=timeout,
        )
        page = structure_page(resource, data, model, path)
        ids = {doc.id for doc in page.docs}
        if not page.docs or ids <= previous_ids:
            return  # empty, or a server that ignores `page` and repeats itself
        for doc in page.docs:
            yield doc
        if page.pages is not None:
            if page_number >= page.pages:
                return
        elif len(page.docs) < limit:
            return
        previous_ids = ids
        page_number += 1
