"""Running the sandbox: threads, loops, in-process, the pytest fixture, secrets, the CLI."""

from __future__ import annotations

import logging
import os
import shlex
import signal
import subprocess
import sys
import threading
from pathlib import Path

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
        lines: list[str] = []
        for line in process.stdout:
            lines.append(line)
            words = shlex.split(line, comments=True)  # what a shell makes of the line
            if words:
                assert words[0] == "export", line
                key, _, value = words[1].partition("=")
                settings[key] = value
            if "ECARTPAY_WEBHOOK_SECRET" in settings:  # the last line printed
                settings["_printed"] = "".join(lines)
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


README = Path(__file__).parent.parent.parent / "README.md"
#: Runs a README block as ``python -m asyncio`` would: top-level await allowed.
_RUN_BLOCK = (
    "import ast, asyncio, sys\n"
    "code = compile(sys.stdin.read(), 'README', 'exec', flags=ast.PyCF_ALLOW_TOP_LEVEL_AWAIT)\n"
    "result = eval(code, {'__name__': 'readme'})\n"
    "if result is not None: asyncio.run(result)\n"
)


def _quick_start() -> str:
    text = README.read_text(encoding="utf-8")
    section = text.split("## Quick start", 1)[1]
    return section.split("```python\n", 1)[1].split("```", 1)[0]


def test_serve_prints_exports_a_shell_takes_and_the_quick_start_runs_after_them(
    tmp_path: Path,
) -> None:
    process = serve("--token-ttl", "60")
    try:
        printed = printed_settings(process)["_printed"]
        assert "export ECARTPAY_BASE_URL=" in printed
        # The lines pasted into a shell, then the README's Quick start as written: no
        # other setting of the reader's (the ECARTPAY_* variables come from the paste).
        env = {k: v for k, v in os.environ.items() if not k.startswith("ECARTPAY_")}
        script = tmp_path / "paste.sh"
        script.write_text(printed + f'\nexec "{sys.executable}" -c "$RUN" < quick.py\n')
        (tmp_path / "quick.py").write_text(_quick_start(), encoding="utf-8")
        result = subprocess.run(
            ["bash", str(script)], capture_output=True, text=True, timeout=60, cwd=tmp_path,
            env={**env, "RUN": _RUN_BLOCK},
        )
        assert result.returncode == 0, result.stderr
        assert " paid 1250.00" in result.stdout
    finally:
        process.kill()
        process.communicate()


def test_serve_without_the_sandbox_extra_names_it_in_one_line(tmp_path: Path) -> None:
    from ecartpay_async.sandbox.cli import MISSING_EXTRA

    code = (
        "import sys; sys.modules['uvicorn'] = None; sys.modules['starlette'] = None\n"
        "from ecartpay_async.cli import main\n"
        "main(['sandbox', 'serve', '--port', '0'], prog_name='ecartpay-async')\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            cwd=tmp_path, timeout=60)
    assert (result.returncode, result.stdout) == (2, "")
    assert result.stderr.splitlines() == [MISSING_EXTRA]


@pytest.mark.parametrize("latency", ["nan", "inf"])
def test_serve_refuses_a_latency_it_cannot_wait(latency: str) -> None:
    from click.testing import CliRunner

    from ecartpay_async.sandbox.cli import serve

    result = CliRunner().invoke(serve, ["--latency-ms", latency])
    assert result.exit_code == 2
    assert "--latency-ms" in result.output
    assert "must be a finite number" in result.output
