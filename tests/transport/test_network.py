"""Proxies and CA trust, the httpx way, on every transport, against real loopback peers.

A forward proxy (absolute URIs) and a CONNECT proxy that count what they carry; a
TLS server whose certificate comes from a private CA made here (``trustme``),
trusted through ``verify=`` and through ``SSL_CERT_FILE``, refused by default. Each
runs on asyncio (aiohttp) and trio (httpx's transport).
"""

from __future__ import annotations

import base64
import socket
import ssl
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import anyio
import anyio.lowlevel
import httpx
import pytest
import trustme

from ecartpay_async import (
    APIConnectionError,
    APIProxyError,
    AsyncClient,
    ConfigurationError,
    Payout,
    RetryPolicy,
)

from .loopback import Api, LoopbackServer, proxy, serve

pytestmark = pytest.mark.anyio


async def no_wait(seconds: float) -> None:
    await anyio.lowlevel.checkpoint()


#: The token request is retried on connection errors: without the backoff's real waits.
NO_WAIT = RetryPolicy(sleep=no_wait)


@pytest.fixture(scope="module")
def ca() -> trustme.CA:
    return trustme.CA()


@pytest.fixture(scope="module")
def ca_file(ca: trustme.CA, tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("ca") / "ca.pem"
    ca.cert_pem.write_to_path(str(path))
    return path


@pytest.fixture
def tls_api(ca: trustme.CA) -> Iterator[tuple[LoopbackServer, Api]]:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("127.0.0.1").configure_cert(context)
    api = Api()
    with serve(api, tls=context) as server:
        yield server, api


@pytest.fixture
def api() -> Iterator[tuple[LoopbackServer, Api]]:
    api = Api()
    with serve(api) as server:
        yield server, api


async def pay(client: AsyncClient, reference: str) -> Payout:
    return await client.payouts.create(
        email="ana@example.com", reference_id=reference, amount=Decimal("10.00"),
        currency="MXN", max_retries=0,
    )


def free_port() -> int:
    with socket.socket() as probe:  # free a moment ago, nothing listening now
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


# -- CA trust ---------------------------------------------------------------------------


async def test_private_ca_trusted_through_verify(
    anyio_backend: str, tls_api: tuple[LoopbackServer, Api], ca_file: Path
) -> None:
    server, api = tls_api
    async with AsyncClient("pub", "priv", base_url=server.url, verify=str(ca_file)) as client:
        assert (await pay(client, "tls-verify")).status == "paid"
    assert api.posts == 1


async def test_private_ca_trusted_through_ssl_cert_file(
    anyio_backend: str, tls_api: tuple[LoopbackServer, Api], ca_file: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    server, api = tls_api
    monkeypatch.setenv("SSL_CERT_FILE", str(ca_file))
    async with AsyncClient("pub", "priv", base_url=server.url) as client:
        assert (await pay(client, "tls-env")).status == "paid"
    assert api.posts == 1


async def test_private_ca_is_refused_by_default_and_nothing_is_sent(
    anyio_backend: str, tls_api: tuple[LoopbackServer, Api], ca_file: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    server, api = tls_api
    monkeypatch.setenv("SSL_CERT_FILE", str(ca_file))
    # trust_env=False ignores SSL_CERT_FILE: certifi's CAs alone do not know this one.
    async with AsyncClient("pub", "priv", base_url=server.url, trust_env=False,
                           retry_policy=NO_WAIT) as client:
        with pytest.raises(APIConnectionError, match=r"(?i)certificate") as caught:
            await pay(client, "tls-refused")
    assert caught.value.maybe_processed is False
    assert api.posts == 0


async def test_verify_takes_an_ssl_context(
    anyio_backend: str, tls_api: tuple[LoopbackServer, Api], ca_file: Path
) -> None:
    server, _ = tls_api
    context = ssl.create_default_context(cafile=str(ca_file))
    async with AsyncClient("pub", "priv", base_url=server.url, verify=context) as client:
        assert (await pay(client, "tls-context")).status == "paid"


# -- proxies ----------------------------------------------------------------------------


async def test_explicit_proxy_forwards_with_its_credentials(
    anyio_backend: str, api: tuple[LoopbackServer, Api]
) -> None:
    server, created = api
    with proxy() as carrier:
        url = f"http://bob:s3cret@127.0.0.1:{carrier.port}"
        async with AsyncClient("pub", "priv", base_url=server.url, proxy=url) as client:
            assert (await pay(client, "proxy-explicit")).status == "paid"
    assert carrier.forwarded >= 1
    # Absolute URIs: forwarded, not tunnelled (later requests may share the connection).
    assert all(target.startswith(f"POST {server.url}/api/") for target in carrier.targets)
    expected = "Basic " + base64.b64encode(b"bob:s3cret").decode()
    assert carrier.authorizations
    assert set(carrier.authorizations) == {expected}
    assert created.posts == 1


@pytest.mark.parametrize("variable", ["HTTP_PROXY", "ALL_PROXY", "http_proxy"])
async def test_environment_proxy_is_honoured(
    anyio_backend: str, api: tuple[LoopbackServer, Api], monkeypatch: pytest.MonkeyPatch,
    variable: str,
) -> None:
    server, _ = api
    with proxy() as carrier:
        monkeypatch.setenv(variable, carrier.url)
        async with AsyncClient("pub", "priv", base_url=server.url) as client:
            assert (await pay(client, "proxy-env")).status == "paid"
    assert carrier.forwarded >= 1


@pytest.mark.parametrize("bypass", ["no_proxy", "trust_env"])
async def test_no_proxy_and_trust_env_false_go_direct(
    anyio_backend: str, api: tuple[LoopbackServer, Api], monkeypatch: pytest.MonkeyPatch,
    bypass: str,
) -> None:
    server, created = api
    with proxy() as carrier:
        monkeypatch.setenv("HTTP_PROXY", carrier.url)
        if bypass == "no_proxy":
            monkeypatch.setenv("NO_PROXY", "127.0.0.1")
        async with AsyncClient("pub", "priv", base_url=server.url,
                               trust_env=bypass != "trust_env") as client:
            assert (await pay(client, "proxy-bypass")).status == "paid"
    assert carrier.targets == []
    assert created.posts == 1


async def test_https_goes_through_a_connect_tunnel(
    anyio_backend: str, tls_api: tuple[LoopbackServer, Api], ca_file: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    server, created = tls_api
    with proxy() as carrier:
        monkeypatch.setenv("HTTPS_PROXY", carrier.url)
        async with AsyncClient("pub", "priv", base_url=server.url,
                               verify=str(ca_file)) as client:
            assert (await pay(client, "proxy-tunnel")).status == "paid"
    assert carrier.tunnels >= 1
    assert carrier.targets[0] == f"CONNECT 127.0.0.1:{server.port}"
    assert created.posts == 1


async def test_a_refused_certificate_through_a_tunnel_is_not_blamed_on_the_proxy(
    anyio_backend: str, tls_api: tuple[LoopbackServer, Api]
) -> None:
    server, created = tls_api
    with proxy() as carrier:
        async with AsyncClient("pub", "priv", base_url=server.url, proxy=carrier.url,
                               trust_env=False, retry_policy=NO_WAIT) as client:
            with pytest.raises(APIConnectionError, match=r"(?i)certificate") as caught:
                await pay(client, "tunnel-untrusted")
    assert not isinstance(caught.value, APIProxyError)
    assert caught.value.maybe_processed is False
    assert carrier.tunnels >= 1  # the token request, retried: a refused handshake sent nothing
    assert created.posts == 0


async def test_unreachable_proxy_is_a_proxy_error_without_credentials(
    anyio_backend: str, api: tuple[LoopbackServer, Api]
) -> None:
    server, created = api
    port = free_port()
    url = f"http://bob:s3cret@127.0.0.1:{port}"
    async with AsyncClient("pub", "priv", base_url=server.url, proxy=url,
                           retry_policy=NO_WAIT) as client:
        with pytest.raises(APIProxyError) as caught:
            await pay(client, "proxy-down")
    error = caught.value
    assert error.proxy == f"http://127.0.0.1:{port}"
    assert error.proxy in str(error)
    assert error.maybe_processed is False
    chain: list[BaseException] = []
    link: BaseException | None = error
    while link is not None:
        chain.append(link)
        link = link.__cause__ or link.__context__
    assert all("s3cret" not in f"{e} {e!r}" for e in chain)
    assert created.posts == 0


async def test_proxy_refusing_the_tunnel_is_a_proxy_error(anyio_backend: str) -> None:
    with proxy(refuse=407) as carrier:
        origin = f"https://127.0.0.1:{free_port()}"
        async with AsyncClient("pub", "priv", base_url=origin, proxy=carrier.url,
                               retry_policy=NO_WAIT) as client:
            with pytest.raises(APIProxyError, match="407") as caught:
                await pay(client, "proxy-refused")
    assert caught.value.proxy == carrier.url
    assert caught.value.maybe_processed is False


def test_bad_proxy_settings_fail_at_construction(monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(ConfigurationError, match="http_client"):
        AsyncClient("pub", "priv", proxy="http://127.0.0.1:3128", http_client=httpx.AsyncClient())
    with pytest.raises(ConfigurationError, match="proxy"):
        AsyncClient("pub", "priv", proxy="socks5://127.0.0.1:1080")
    monkeypatch.setenv("HTTPS_PROXY", "ftp://127.0.0.1:21")
    with pytest.raises(ConfigurationError, match="proxy"):
        AsyncClient("pub", "priv")
