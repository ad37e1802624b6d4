"""The transport failures the SDK itself detects, as httpx exceptions the pipeline maps.

They extend httpx's own classes so that code catching ``httpx.TransportError`` (the
pipeline, a user's ``transport=``) sees them where it expects transport failures:

- :class:`AttemptTimeout`: the whole attempt overran its deadline (a server trickling
  bytes defeats per-phase timeouts, never this one). May have been processed.
- :class:`ResponseTooLarge`: the answer, decoded, went past ``max_response_bytes``.
  The request was sent, so it may have been processed.
- :class:`ProxyFailed`: the proxy could not be reached or refused to connect onward;
  the request never reached the API. Names the proxy without its credentials.
"""

from __future__ import annotations

import httpx

__all__ = ["AttemptTimeout", "ProxyFailed", "ResponseTooLarge"]


class AttemptTimeout(httpx.TimeoutException):
    """No complete answer within the attempt's overall deadline."""

    def __init__(self, deadline: float, *, request: httpx.Request | None = None) -> None:
        super().__init__(f"no complete answer within {deadline:g} s", request=request)
        self.deadline = deadline


class ResponseTooLarge(httpx.TransportError):
    """The decoded answer exceeded ``limit`` bytes; reading stopped there."""

    def __init__(
        self, limit: int, status_code: int, *, request: httpx.Request | None = None
    ) -> None:
        super().__init__(
            f"answer larger than max_response_bytes={limit} (status {status_code})",
            request=request,
        )
        self.limit = limit
        self.status_code = status_code


class ProxyFailed(httpx.ProxyError):
    """The proxy ``proxy`` (a URL without credentials) refused or failed."""

    def __init__(self, proxy: str, detail: str, *, request: httpx.Request) -> None:
        super().__init__(f"proxy {proxy} failed: {detail}", request=request)
        self.proxy = proxy
