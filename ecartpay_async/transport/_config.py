"""How the SDK's transports reach the API: limits, one CA policy, proxies chosen by URL.

Everything here is httpx's own logic, reused rather than restated:

- **Trust.** ``verify=True`` builds the context httpx would (``httpx.create_ssl_context``):
  ``SSL_CERT_FILE``, else ``SSL_CERT_DIR`` when ``trust_env``, else certifi's bundle.
  ``verify`` may also be a CA bundle file or directory, an ``ssl.SSLContext``, or
  ``False`` (no checks). One context is built per client and handed to whichever
  stack sends (aiohttp on asyncio, httpx on trio), so both trust the same roots.
- **Proxies.** ``proxy=`` sends everything through one proxy; otherwise, when
  ``trust_env``, ``HTTPS_PROXY`` / ``HTTP_PROXY`` / ``ALL_PROXY`` / ``NO_PROXY`` are read
  by the standard library (``urllib.request.getproxies_environment`` and
  ``proxy_bypass_environment``), the public rules every Python HTTP client follows;
  no private module of httpx is used.
"""

from __future__ import annotations

import os
import ssl
import urllib.request
from typing import Union

import httpx

__all__ = [
    "DEFAULT_LIMITS",
    "TransportConfig",
    "Verify",
    "environment_proxies",
    "safe_proxy_url",
    "ssl_context",
]

#: The one default: enough keep-alive connections for a 64-wide batch with room to
#: spare; idle ones are dropped after 4 s, below the idle timeouts servers commonly use
#: (Node and uvicorn close idle connections after 5 s), before the server drops them.
DEFAULT_LIMITS = httpx.Limits(
    max_connections=128, max_keepalive_connections=128, keepalive_expiry=4.0
)

Verify = Union[bool, str, "os.PathLike[str]", ssl.SSLContext]

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


def environment_proxies() -> tuple[dict[str, str], str]:
    """The proxy per URL scheme (``all`` for any) and the ``NO_PROXY`` list, from the
    environment as the standard library reads it (either case of each name)."""
    found = urllib.request.getproxies_environment()
    no_proxy = found.pop("no", "")
    return {k: v for k, v in found.items() if k in ("http", "https", "all") and v}, no_proxy


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
        self._explicit = _proxy(proxy)
        self._by_scheme: dict[str, httpx.Proxy] = {}
        self._no_proxy = ""
        if proxy is None and trust_env:
            found, self._no_proxy = environment_proxies()
            for scheme, url in found.items():
                # A bare host:port means an http:// proxy, as curl and httpx read it.
                self._by_scheme[scheme] = httpx.Proxy(url if "://" in url else f"http://{url}")
                _proxy(self._by_scheme[scheme])  # only http(s) proxies
        self._ssl: ssl.SSLContext | None = None

    @property
    def uses_proxies(self) -> bool:
        """Whether any request may go through a proxy (else every one goes direct)."""
        return self._explicit is not None or bool(self._by_scheme)

    def ssl_context(self) -> ssl.SSLContext:
        """The one context for every transport, built at first use (loading CAs takes ms)."""
        if self._ssl is None:
            self._ssl = ssl_context(self.verify, trust_env=self.trust_env)
        return self._ssl

    def proxy_for(self, url: httpx.URL | str) -> httpx.Proxy | None:
        """The proxy that carries requests to ``url``, or None to go direct."""
        if self._explicit is not None:
            return self._explicit
        if not self._by_scheme:
            return None
        url = url if isinstance(url, httpx.URL) else httpx.URL(url)
        proxy = self._by_scheme.get(url.scheme) or self._by_scheme.get("all")
        if proxy is None:
            return None
        host = url.host if url.port is None else f"{url.host}:{url.port}"
        # The environment's rule on every platform (typeshed lists it only off Windows
        # and macOS, where proxy_bypass also reads the system's settings).
        bypass = urllib.request.proxy_bypass_environment  # type: ignore[attr-defined]
        if self._no_proxy and bypass(host, {"no": self._no_proxy}):
            return None
        return proxy
