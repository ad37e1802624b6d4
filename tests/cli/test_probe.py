"""``ecartpay-async probe`` against the sandbox in each of its behaviours: the profile it
writes, loaded back, makes the emulator answer as the probed one did."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from ecartpay_async.cli import main
from ecartpay_async.sandbox import Sandbox, SandboxProfile
from ecartpay_async.sandbox.profile import ProfileSettings, load_profile
from ecartpay_async.sandbox.state import REUSE_BEHAVIORS

RECIPIENT = "probe-recipient@example.com"


def probe(sandbox: Sandbox, output: Path, *extra: str, base_url: str | None = None) -> Result:
    env = {"ECARTPAY_PUBLIC_KEY": sandbox.public_key,
           "ECARTPAY_PRIVATE_KEY": sandbox.private_key}
    return CliRunner().invoke(
        main, ["probe", "--email", RECIPIENT, "--output", str(output),
               "--base-url", base_url or sandbox.base_url, *extra], env=env)


def probed_settings(sandbox: Sandbox, output: Path) -> ProfileSettings:
    result = probe(sandbox, output, "--yes")
    assert result.exit_code == 0, result.output
    return load_profile(output).settings


@pytest.mark.parametrize("reuse_behavior", REUSE_BEHAVIORS)
@pytest.mark.parametrize("list_shape", ["envelope", "array"])
def test_the_profile_reproduces_each_duplicate_reference_behaviour(
    tmp_path: Path, reuse_behavior: str, list_shape: str
) -> None:
    with Sandbox(reuse_behavior=reuse_behavior, list_shape=list_shape,  # type: ignore[arg-type]
                 token_ttl=1234) as real:
        settings = probed_settings(real, tmp_path / "profile.json")
        spent = [p.amount for p in real.state.payouts()]
    assert (settings.reuse_behavior, settings.reuse_conflict_behavior) == (
        reuse_behavior, reuse_behavior)
    assert (settings.list_shape, settings.token_ttl, settings.error_style) == (
        list_shape, 1234, "http")
    assert sum(spent) <= 3 * min(spent)  # a few minor units, held
    assert {p.status for p in real.state.payouts()} == {"pending"}
    # Loaded back, the emulator answers as the probed API did: probing it finds the same.
    with Sandbox(profile=tmp_path / "profile.json") as replay:
        assert probed_settings(replay, tmp_path / "again.json") == settings


def test_a_conflict_answered_apart_from_a_plain_reuse_is_reproduced(tmp_path: Path) -> None:
    profile = SandboxProfile(ProfileSettings(reuse_behavior="return_original",
                                             reuse_conflict_behavior="reject_409"))
    with Sandbox(profile=profile) as real:
        settings = probed_settings(real, tmp_path / "profile.json")
    assert (settings.reuse_behavior, settings.reuse_conflict_behavior) == (
        "return_original", "reject_409")
    with Sandbox(profile=tmp_path / "profile.json") as replay:
        assert probed_settings(replay, tmp_path / "again.json") == settings


def test_it_says_what_it_will_send_asks_and_never_shows_keys(tmp_path: Path) -> None:
    with Sandbox() as sb:
        refused = probe(sb, tmp_path / "p.json")  # no terminal, no --yes: nothing sent
        assert refused.exit_code == 2
        assert sb.state.payouts() == []
        assert sb.state.tokens_issued == 0
        assert "POST /api/payouts" in refused.stderr
        assert RECIPIENT in refused.stderr
        assert "--yes" in refused.stderr
        sent = probe(sb, tmp_path / "p.json", "--yes")
    assert sent.exit_code == 0, sent.output
    assert "reused reference_id, same payment" in sent.stdout
    written = (tmp_path / "p.json").read_text(encoding="utf-8")
    for secret in (sb.public_key, sb.private_key):
        assert secret not in sent.output
        assert secret not in written
    assert json.loads(written)["format"] == "ecartpay-sandbox-profile/1"


@pytest.mark.parametrize("args", [["--environment", "production"],
                                  ["--base-url", "https://ecartpay.com"]])
def test_it_refuses_production(tmp_path: Path, args: list[str]) -> None:
    env = {"ECARTPAY_PUBLIC_KEY": "pk", "ECARTPAY_PRIVATE_KEY": "sk"}
    result = CliRunner().invoke(main, ["probe", "--email", RECIPIENT, "--yes", *args,
                                       "--output", str(tmp_path / "p.json")], env=env)
    assert result.exit_code == 2
    assert "refuses the production" in result.stderr
    assert not (tmp_path / "p.json").exists()


def test_sandbox_serve_takes_the_profile(tmp_path: Path) -> None:
    profile = tmp_path / "profile.json"
    SandboxProfile(ProfileSettings(reuse_behavior="reject_409", list_shape="array",
                                   token_ttl=77, extra={"from_a_newer_probe": 1})).save(profile)
    process = subprocess.Popen(
        [sys.executable, "-m", "ecartpay_async.sandbox", "serve", "--port", "0",
         "--profile", str(profile)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    watchdog = threading.Timer(30, process.kill)
    watchdog.start()
    try:
        assert process.stdout is not None
        settings: dict[str, str] = {}
        for line in process.stdout:
            if line.startswith("export "):
                key, _, value = line[len("export "):].strip().partition("=")
                settings[key] = value
            if "ECARTPAY_WEBHOOK_SECRET" in settings:
                break
        env = {"ECARTPAY_PUBLIC_KEY": settings["ECARTPAY_PUBLIC_KEY"],
               "ECARTPAY_PRIVATE_KEY": settings["ECARTPAY_PRIVATE_KEY"]}
        result = CliRunner().invoke(
            main, ["probe", "--email", RECIPIENT, "--yes", "--output", str(tmp_path / "o.json"),
                   "--base-url", settings["ECARTPAY_BASE_URL"]], env=env)
        assert result.exit_code == 0, result.output
        found = load_profile(tmp_path / "o.json").settings
        assert (found.reuse_behavior, found.list_shape, found.token_ttl) == (
            "reject_409", "array", 77)
    finally:
        watchdog.cancel()
        process.kill()
        process.communicate()


def test_a_bad_profile_is_refused_with_its_reason(tmp_path: Path) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text('{"format": "ecartpay-sandbox-profile/1", '
                   '"settings": {"reuse_behavior": "shrug"}}', encoding="utf-8")
    with pytest.raises(ValueError, match="reuse_behavior must be one of"):
        Sandbox(profile=bad)
    bad.write_text("{}", encoding="utf-8")
    with pytest.raises(ValueError, match="not a sandbox profile"):
        Sandbox(profile=bad)


def test_a_retry_after_and_an_unreadable_list_are_reported_as_seen(tmp_path: Path) -> None:
    # The list answers 429 with Retry-After every time: the probe says so, and leaves
    # the list's shape out of the profile (the emulator keeps its default).
    with Sandbox(faults="payouts.list:429=1,retry_after=7", seed=1) as sb:
        result = probe(sb, tmp_path / "p.json", "--yes")
    assert result.exit_code == 0, result.output
    profile = load_profile(tmp_path / "p.json")
    assert "Retry-After 7" in profile.findings["Retry-After"]
    assert profile.settings.list_shape is None
    assert "list_shape" not in json.loads((tmp_path / "p.json").read_text())["settings"]


def test_answers_the_emulator_cannot_replay_are_named_and_left_out() -> None:
    import httpx

    from ecartpay_async.cli import probe as module

    second = httpx.Response(200, json={"id": "another-payout"})
    assert module._reuse_behavior(second, "original") is None
    assert "A SECOND PAYOUT" in module._unmatched(second)
    # The OpenAPI file's error shape: HTTP 500 with a body saying 400.
    openapi = httpx.Response(500, json={"message": "reference_id used", "statusCode": 400})
    assert module._reuse_behavior(openapi, "original") == "reject_400"
    assert module._error_style(openapi) == "openapi"
    assert module._error_style(httpx.Response(422, json={})) == "http"
    assert module._reuse_behavior(httpx.Response(422, json={}), "original") is None
