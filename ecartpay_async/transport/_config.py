"""How the SDK's transports reach the API: limits, one CA policy, proxies chosen by URL.

Everything here is httpx's own logic, reused rather than restated:

- **Trust.** ``verify=True`` builds the context httpx would (``httpx.create_ssl_context``):
  ``SSL_CERT_FILE``, else ``SSL_CERT_DIR`` when ``trust_env``, else certifi's bundle.
  ``verify`` may also be a CA bundle file or directory, an ``ssl.SSLContext``, or
  ``False`` (no checks). One context is built per client and handed to whichever
  stack sends (aiohttp on asyncio, httpx on trio), so both trust the same roots.
- **Proxies.** ``proxy=`` sends everything through one proxy; otherwise, when
  ``trust_env``, ``HTTPS_PROXY`` / ``HTTP_PROXY`` / ``ALL_PROXY`` / ``NO_PROXY`` are read
  by httpx's ``get_environment_proxies`` and matched with its ``URLPattern``, exactly as
  ``httpx.AsyncClient`` mounts them.
"""

from __future__ import annotations

import os
import ssl
from typing import Union

import httpx
from httpx._utils import URLPattern, get_environment_proxies

__all__ = [
    "DEFAULT_LIMITS",
    "ProxyRoute",
    "TransportConfig",
    "Verify",
    "proxy_routes",
    "safe_proxy_url",
    "ssl_context",
]

#: Keep-alive expiry below the idle timeouts servers commonly use (Node and uvicorn
#: close idle connections after 5 s): a connection is dropped before the server drops it.
DEFAULT_LIMITS = httpx.Limits(
    max_connections=100, max_keepalive_connections=20, keepalive_expiry=4.0
)

Verify = Union[bool, str, "os.PathLike[str]", ssl.SSLContext]
ProxyRoute = tuple[URLPattern, "httpx.Proxy | None"]

_PROXY_SCHEMES = ("http", "https")


def ssl_context(verify: Verify, *, trust_env: bool = True) -> ssl.SSLContext:
    """The TLS context for ``verify``, by httpx's rules (certifi unless the env says otherwise)."""
    if isinstance(verify, ssl.SSLContext):
        return verify
    if isinstance(verify, bool):
        return httpx.create_ssl_context(verify=verify, trust_env=trust_env)
    path = os.fspath(verify)
    if os.path.isdir(path):
        return ssl.create_default_context(capath=path)
    return ssl.create_default_context(cafile=path)


def proxy_routes(
    proxy: str | httpx.URL | httpx.Proxy | None, *, trust_env: bool
) -> list[ProxyRoute]:
    """Which proxy (None: direct) serves which URLs, most specific pattern first."""
    if proxy is not None:
        mapping: dict[str, str | httpx.URL | httpx.Proxy | None] = {"all://": proxy}
    elif trust_env:
        mapping = dict(get_environment_proxies())
    else:
        mapping = {}
    routes = [(URLPattern(key), _proxy(value)) for key, value in mapping.items()]
    return sorted(routes, key=lambda route: route[0])


def _proxy(value: str | httpx.URL | httpx.Proxy | None) -> httpx.Proxy | None:
    if value is None:
        return None
    proxy = value if isinstance(value, httpx.Proxy) else httpx.Proxy(value)
    if proxy.url.scheme not in _PROXY_SCHEMES:
        raise ValueError(
            f"proxy {safe_proxy_url(proxy)!r}: only http:// and https:// proxies are supported"
        )
    return proxy


def safe_proxy_url(proxy: httpx.Proxy) -> str:
    """The proxy's URL as it may be shown: never its user name or password."""
    return str(proxy.url.copy_with(username=None, password=None))


class TransportConfig:
    """What every transport the SDK builds shares: limits, one TLS context, proxy routes."""

    def __init__(
        self,
        *,
        limits: httpx.Limits = DEFAULT_LIMITS,
        verify: Verify = True,
        proxy: str | httpx.URL | httpx.Proxy | None = None,
        trust_env: bool = True,
    ) -> None:
        self.limits = limits
        self.verify = verify
        self.trust_env = trust_env
        # Read now: a bad proxy setting fails at construction, not at the first payout.
        self.routes = proxy_routes(proxy, trust_env=trust_env)
        self._ssl: ssl.SSLContext | None = None

    def ssl_context(self) -> ssl.SSLContext:
        """The one context for every transport, built at first use (loading CAs takes ms)."""
        if self._ssl is None:
            self._ssl = ssl_context(self.verify, trust_env=self.trust_env)
        return self._ssl

    def proxy_for(self, url: httpx.URL) -> httpx.Proxy | None:
        """The proxy that carries requests to ``url``, or None to go direct."""
        for pattern, proxy in self.routes:
            if pattern.matches(url):
                return proxy
        return None
