"""Running the sandbox: threads, loops, in-process, the pytest fixture, secrets, the CLI."""

from __future__ import annotations

import logging
import os
import signal
import subprocess
import sys
import threading

import httpx
import pytest

from ecartpay_async.sandbox import Sandbox

from .conftest import TLS, Receiver, token_for

pytestmark = pytest.mark.end_to_end


def test_sync_context_and_plain_client() -> None:
    with Sandbox(public_key="pk", private_key="sk") as sb:
        assert sb.base_url.startswith("http://127.0.0.1:")
        with httpx.Client(base_url=sb.base_url, verify=TLS) as http:
            assert http.post("/api/authorizations/token", auth=("pk", "sk")).status_code == 200
        with pytest.raises(RuntimeError, match="already running"):
            sb.start()
    assert not sb.running
    with pytest.raises(RuntimeError, match="not running"):
        _ = sb.base_url


def test_restart_and_busy_port() -> None:
    sb = Sandbox()
    sb.start()
    port = int(sb.base_url.rsplit(":", 1)[1])
    try:
        with pytest.raises(OSError):
            Sandbox(port=port).start()
    finally:
        sb.stop()
    sb.start()  # the same Sandbox serves again, state kept
    sb.stop()
    sb.stop()  # idempotent


def test_bad_options() -> None:
    with pytest.raises(ValueError, match="reuse_behavior"):
        Sandbox(reuse_behavior="maybe")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="list_shape"):
        Sandbox(list_shape="tree")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="unknown fault"):
        Sandbox(faults="nope=1")
    with pytest.raises(ValueError, match="balances"):
        Sandbox(balances={"MXN": "1.001"})
    with pytest.raises(RuntimeError, match="async with"):
        Sandbox(in_process=True).start()


@pytest.mark.anyio
async def test_in_process_mode_needs_no_socket() -> None:
    async with Sandbox(in_process=True) as sb:
        assert sb.base_url == "http://sandbox.local"
        async with sb.http_client() as http:
            token = await token_for(http, sb)
            listed = await http.get("/api/payouts", headers={"Authorization": token})
            assert listed.json() == {"count": 0, "docs": [], "pages": 0}


@pytest.mark.anyio
async def test_in_process_webhooks_are_delivered(receiver: Receiver) -> None:
    async with Sandbox(in_process=True) as sb, sb.http_client() as http:
        auth = {"Authorization": await token_for(http, sb)}
        await http.post("/api/webhooks", json={"url": receiver.url, "events": ["*"]}, headers=auth)
        await http.post(
            "/api/orders",
            headers=auth,
            json={
                "customer_id": "c",
                "currency": "MXN",
                "items": [{"name": "x", "quantity": 1, "price": 10}],
            },
        )
        (delivery,) = await sb.wait_for_deliveries(1)
        assert delivery.status == "delivered"


@pytest.mark.anyio
async def test_no_secret_in_reprs_or_logs(
    caplog: pytest.LogCaptureFixture, receiver: Receiver
) -> None:
    caplog.set_level(logging.DEBUG)
    async with Sandbox(faults="payouts.list:truncated=1") as sb:
        async with httpx.AsyncClient(base_url=sb.base_url, verify=TLS) as http:
            token = await token_for(http, sb)
            auth = {"Authorization": token}
            await http.post(
                "/api/webhooks", json={"url": receiver.url, "events": ["*"]}, headers=auth
            )
            await http.post(
                "/api/payouts",
                headers=auth,
                json={
                    "email": "a@example.com",
                    "reference_id": "r",
                    "amount": 1,
                    "currency": "MXN",
                },
            )
            await http.get("/api/payouts", headers=auth)
            await http.get("/api/payouts", headers={"Authorization": token + "x"})
            state = (await http.get("/_sandbox/state")).text
            await sb.wait_for_deliveries(1)
        texts = [
            caplog.text,
            repr(sb),
            str(sb),
            repr(sb.state.merchant),
            state,
            repr(sb.state.deliveries()),
            repr(sb.faults.spec),
        ]
    for secret in (sb.private_key, sb.webhook_secret, token):
        for text in texts:
            assert secret not in text


def test_fixture_in_a_sync_test(ecartpay_sandbox: Sandbox) -> None:
    with httpx.Client(base_url=ecartpay_sandbox.base_url, verify=TLS) as http:
        response = http.post(
            "/api/authorizations/token",
            auth=(ecartpay_sandbox.public_key, ecartpay_sandbox.private_key),
        )
    assert response.status_code == 200


@pytest.mark.clock
@pytest.mark.anyio
@pytest.mark.ecartpay_sandbox(token_ttl=5, reuse_behavior="reject_409")
async def test_fixture_in_an_async_test_with_options(ecartpay_sandbox: Sandbox) -> None:
    assert ecartpay_sandbox.state.token_ttl == 5
    assert ecartpay_sandbox.state.reuse_behavior == "reject_409"
    async with httpx.AsyncClient(base_url=ecartpay_sandbox.base_url, verify=TLS) as http:
        await token_for(http, ecartpay_sandbox)


def serve(*args: str) -> subprocess.Popen[str]:
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    return subprocess.Popen(
        [sys.executable, "-m", "ecartpay_async.sandbox", "serve", "--port", "0", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )


def printed_settings(process: subprocess.Popen[str]) -> dict[str, str]:
    assert process.stdout is not None
    watchdog = threading.Timer(20, process.kill)  # a server that never starts fails the test
    watchdog.start()
    try:
        settings: dict[str, str] = {}
        for line in process.stdout:
            key, sep, value = line.strip().partition("=")
            if sep:
                settings[key] = value
            if "ECARTPAY_WEBHOOK_SECRET" in settings:  # the last line printed
                return settings
        raise AssertionError(f"no settings printed; stderr: {process.stderr.read()}")  # type: ignore[union-attr]
    finally:
        watchdog.cancel()


@pytest.mark.parametrize("stop_signal", [signal.SIGINT, signal.SIGTERM])
def test_cli_serve_prints_what_to_use_and_stops_cleanly(stop_signal: int) -> None:
    process = serve("--token-ttl", "60", "--seed", "1", "--latency-ms", "1")
    try:
        settings = printed_settings(process)
        with httpx.Client(base_url=settings["ECARTPAY_BASE_URL"], verify=TLS) as http:
            answer = http.post(
                "/api/authorizations/token",
                auth=(settings["ECARTPAY_PUBLIC_KEY"], settings["ECARTPAY_PRIVATE_KEY"]),
            )
            assert answer.status_code == 200
        process.send_signal(stop_signal)
        assert process.wait(timeout=20) == 0
    finally:
        process.kill()
        process.communicate()


def test_cli_rejects_half_a_key_pair_and_bad_faults() -> None:
    for args in (["--public-key", "k"], ["--faults", "nope=1"]):
        result = subprocess.run(
            [sys.executable, "-m", "ecartpay_async.sandbox", "serve", "--port", "0", *args],
            capture_output=True,
            text=True,
            timeout=30,
            check=False,
        )
        assert result.returncode == 2
        assert "Error" in result.stderr
