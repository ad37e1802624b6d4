"""TransportConfig: which proxy serves which URL, and the one CA policy (no network)."""

from __future__ import annotations

import ssl
from pathlib import Path

import httpx
import pytest
import trustme

from ecartpay_async.transport import TransportConfig, ssl_context
from ecartpay_async.transport._config import safe_proxy_url


def proxy_of(config: TransportConfig, url: str) -> str | None:
    proxy = config.proxy_for(httpx.URL(url))
    return None if proxy is None else safe_proxy_url(proxy)


def test_environment_proxies_by_scheme_with_no_proxy_exceptions(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("HTTPS_PROXY", "http://secure-proxy:3128")
    monkeypatch.setenv("HTTP_PROXY", "plain-proxy:8080")  # no scheme: http:// is assumed
    monkeypatch.setenv("NO_PROXY", "internal.example, 10.0.0.1")
    config = TransportConfig()
    assert proxy_of(config, "https://ecartpay.com/api") == "http://secure-proxy:3128"
    assert proxy_of(config, "http://ecartpay.com/api") == "http://plain-proxy:8080"
    assert proxy_of(config, "https://api.internal.example/x") is None  # a subdomain
    assert proxy_of(config, "https://internal.example/x") is None
    assert proxy_of(config, "http://10.0.0.1:8000/") is None
    assert proxy_of(TransportConfig(trust_env=False), "https://ecartpay.com/") is None


def test_all_proxy_and_an_explicit_proxy_that_wins_over_the_environment(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("ALL_PROXY", "http://every:1")
    assert proxy_of(TransportConfig(), "https://ecartpay.com/") == "http://every:1"
    explicit = TransportConfig(proxy="http://user:pw@mine:2")
    assert proxy_of(explicit, "https://ecartpay.com/") == "http://mine:2"  # no credentials
    assert proxy_of(explicit, "http://127.0.0.1/") == "http://mine:2"


def test_no_proxy_star_turns_the_environment_off(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HTTPS_PROXY", "http://secure-proxy:3128")
    monkeypatch.setenv("NO_PROXY", "*")
    assert proxy_of(TransportConfig(), "https://ecartpay.com/") is None


@pytest.fixture(scope="module")
def ca_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("ca") / "ca.pem"
    trustme.CA().cert_pem.write_to_path(str(path))
    return path


def _subjects(context: ssl.SSLContext) -> list[str]:
    return [str(cert.get("subject")) for cert in context.get_ca_certs()]


def test_one_ca_policy(ca_file: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    trustme_only = _subjects(ssl.create_default_context(cafile=str(ca_file)))
    # A path, and SSL_CERT_FILE when the environment is trusted, load exactly that bundle.
    assert _subjects(ssl_context(str(ca_file))) == trustme_only
    assert _subjects(ssl_context(ca_file)) == trustme_only
    monkeypatch.setenv("SSL_CERT_FILE", str(ca_file))
    assert _subjects(ssl_context(True)) == trustme_only
    # Not trusting the environment: certifi's bundle, without the private CA.
    assert _subjects(ssl_context(True, trust_env=False)) != trustme_only
    off = ssl_context(False)
    assert off.verify_mode == ssl.CERT_NONE
    assert not off.check_hostname
    mine = ssl.create_default_context()
    assert ssl_context(mine) is mine
    # One context per client, built once, whatever stack sends.
    config = TransportConfig(verify=str(ca_file))
    assert config.ssl_context() is config.ssl_context()
