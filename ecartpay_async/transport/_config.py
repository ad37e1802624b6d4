"""What the SDK's transports share: default limits, the TLS context, their constructor."""

from __future__ import annotations

import ssl

import httpx

__all__ = ["DEFAULT_LIMITS", "ConfiguredTransport", "ssl_context"]

#: httpx's own defaults; the SDK's client passes its own (``client.DEFAULT_LIMITS``).
DEFAULT_LIMITS = httpx.Limits(max_connections=100, max_keepalive_connections=20)


def ssl_context(verify: ssl.SSLContext | bool) -> ssl.SSLContext:
    """The context for ``verify``: the caller's, the system CAs, or (False) no checks."""
    if isinstance(verify, ssl.SSLContext):
        return verify
    context = ssl.create_default_context()
    if not verify:
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
    return context


class ConfiguredTransport(httpx.AsyncBaseTransport):
    """A transport configured like ``httpx.AsyncHTTPTransport``: ``limits`` and ``verify``."""

    def __init__(
        self,
        *,
        limits: httpx.Limits = DEFAULT_LIMITS,
        verify: ssl.SSLContext | bool = True,
    ) -> None:
        self._limits = limits
        self._verify = verify
        self._closed = False
