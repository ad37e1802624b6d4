"""The README's examples, run in order against one sandbox, as a reader would follow them.

Every fenced ```python and ```bash (or ``sh``, ``shell``, ``console``) block of README.md
runs, top to bottom, against one ``ecartpay-async sandbox serve`` started here.
Other blocks (```text, a bare fence) are not code. The conventions a README example
can rely on:

- ``<!-- not run: REASON -->`` on the line before a block skips it (a ``pip install``,
  a server that runs until Ctrl-C). Say why: the reason is shown with each test run.
- Python blocks run in one asyncio session, like ``python -m asyncio``: top-level
  ``await`` and ``async with`` work, and names carry over from block to block.
  Before each block ``client`` is an open ``AsyncClient`` on the sandbox (the quick
  start's, as the sections after it assume).
- ``ECARTPAY_PUBLIC_KEY``, ``ECARTPAY_PRIVATE_KEY`` and ``ECARTPAY_BASE_URL`` point
  at the sandbox, as after pasting what ``sandbox serve`` prints.
- Names a reader's own program would hold are given: :func:`surroundings`.
- Both kinds run in a scratch directory holding a copy of ``examples/``; shell blocks
  run command by command with bash (a line ending in ``\\`` continues on the next, as
  in a terminal), and each command must exit 0.
- The README's PostgreSQL address (:data:`README_DSN`) means a database of this test's
  own, made and dropped by :mod:`pg_helpers`, so that runs sharing a server do not
  share a journal.
"""

from __future__ import annotations

import ast
import json
import os
import re
import shlex
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import anyio
import attrs
import pytest

from ecartpay_async.client import AsyncClient
from ecartpay_async.sandbox.webhooks import signature

ROOT = Path(__file__).parent.parent
README_DSN = "postgresql://postgres@127.0.0.1:5432/test"
README = ROOT / "README.md"
_FENCE = re.compile(r"^```(\w*)\s*$")
_NOT_RUN = re.compile(r"<!--\s*not run:\s*(.+?)\s*-->")
_PYTHON = frozenset({"python", "py"})
_SHELL = frozenset({"bash", "sh", "shell", "console"})


@attrs.frozen
class Block:
    language: str
    line: int  # where the block's code starts in README.md
    code: str
    skip: str | None  # why it is not run


def readme_blocks(text: str) -> list[Block]:
    """Every fenced block, with the reason it is not run if it is marked so."""
    blocks: list[Block] = []
    lines = text.splitlines()
    index = 0
    while index < len(lines):
        opening = _FENCE.match(lines[index])
        if opening is None:
            index += 1
            continue
        start = index + 1
        end = start
        while end < len(lines) and lines[end].strip() != "```":
            end += 1
        previous = next((lines[i] for i in range(index - 1, -1, -1) if lines[i].strip()), "")
        marker = _NOT_RUN.search(previous)
        blocks.append(Block(opening.group(1).lower(), start + 1, "\n".join(lines[start:end]),
                            marker.group(1) if marker else None))
        index = end + 1
    return blocks


def test_the_readme_s_blocks_are_found() -> None:
    blocks = readme_blocks(README.read_text(encoding="utf-8"))
    runnable = [b for b in blocks if b.language in _PYTHON | _SHELL and b.skip is None]
    assert len(runnable) >= 5
    assert all(b.skip for b in blocks if "pip install" in b.code), "mark pip installs not run"
    # Every journal address the run uses is the one it replaces by a database of its own.
    addresses = {a for b in runnable for a in re.findall(r"postgresql://\S+", b.code)}
    assert addresses <= {README_DSN}, addresses


WEBHOOK_SECRET = "whsec_readme"


def surroundings() -> dict[str, Any]:
    """Names an example takes from the reader's own program, and what they are here."""
    # A webhook request as a web framework hands it over (signed now: its timestamp
    # must be recent): the body's bytes and the headers.
    data = {"id": "ord_1", "status": "paid", "totals": {"total": 1000}}
    timestamp, webhook_id = str(int(time.time() * 1000)), "wh_readme"
    return {
        "WEBHOOK_SECRET": WEBHOOK_SECRET,
        "raw_body_bytes": json.dumps({"event": "orders.confirmation", "data": data}).encode(),
        "request_headers": {
            "x-pay-timestamp": timestamp,
            "x-pay-webhook-id": webhook_id,
            "x-pay-signature": signature(WEBHOOK_SECRET, timestamp, webhook_id, data),
        },
    }


@pytest.fixture
def scratch(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, str]]:
    """``sandbox serve`` running, its printed ``export`` lines applied as a reader pastes
    them (no other ECARTPAY_ setting), a scratch directory with examples/."""
    shutil.copytree(ROOT / "examples", tmp_path / "examples")
    monkeypatch.chdir(tmp_path)
    for name in [n for n in os.environ if n.startswith("ECARTPAY_")]:
        monkeypatch.delenv(name)
    # Shell blocks run this interpreter's `python` and `ecartpay-async`, on this tree.
    monkeypatch.setenv("PATH", os.pathsep.join(
        (str(Path(sys.executable).parent), os.environ.get("PATH", ""))
    ))
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join(
        p for p in (str(ROOT), os.environ.get("PYTHONPATH")) if p
    ))
    server = subprocess.Popen(
        ["ecartpay-async", "sandbox", "serve", "--port", "0", "--webhook-secret", WEBHOOK_SECRET],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    try:
        assert server.stdout is not None
        exported: dict[str, str] = {}
        for line in server.stdout:  # what a reader pastes: `export NAME=value` lines
            words = shlex.split(line, comments=True)
            if words and words[0] == "export":
                name, _, value = words[1].partition("=")
                exported[name] = value
            if "ECARTPAY_PRIVATE_KEY" in exported:
                break
        assert {"ECARTPAY_BASE_URL", "ECARTPAY_PUBLIC_KEY"} <= set(exported), exported
        for name, value in exported.items():
            monkeypatch.setenv(name, value)
        yield exported
    finally:
        server.send_signal(signal.SIGINT)
        try:
            server.communicate(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()
            server.communicate()


@pytest.fixture
def journal_database() -> Iterator[str]:
    """A database of this test's own for the README's journal commands."""
    import pg_helpers  # (skips this test, saying why, where there is no PostgreSQL)

    name = f"{pg_helpers.RUN_DATABASE}_readme"
    try:
        yield pg_helpers.create_database(name)
    finally:
        pg_helpers.drop_database(name)


@pytest.mark.slow
@pytest.mark.parametrize("anyio_backend", ["asyncio"])
async def test_the_readme_runs_in_order_on_one_sandbox(
    scratch: dict[str, str], journal_database: str, anyio_backend: str
) -> None:
    namespace: dict[str, Any] = {"__name__": "readme", **surroundings()}
    ran = 0
    async with AsyncClient() as session_client:
        for block in readme_blocks(README.read_text(encoding="utf-8")):
            if block.skip is not None:
                continue
            where = f"README.md line {block.line}"
            if block.language in _PYTHON:
                namespace["client"] = session_client
                await _run_python(block, namespace, where)
            elif block.language in _SHELL:
                await _run_shell(block, where, journal_database)
            else:
                continue
            ran += 1
    assert ran >= 5


async def _run_python(block: Block, namespace: dict[str, Any], where: str) -> None:
    code = compile(block.code, where, "exec", flags=ast.PyCF_ALLOW_TOP_LEVEL_AWAIT)
    result = eval(code, namespace)
    if result is not None:  # a block with top-level await is a coroutine
        await result


def shell_commands(code: str) -> Iterator[tuple[int, str]]:
    """Each command of a shell block and its line offset; ``\\`` continues a line."""
    start, parts = 0, []
    for offset, line in enumerate(code.splitlines()):
        if not parts:
            start = offset
        if line.rstrip().endswith("\\"):
            parts.append(line.rstrip()[:-1])
            continue
        command = " ".join([*parts, line]).strip()
        parts = []
        if command and not command.startswith("#"):
            yield start, command


async def _run_shell(block: Block, where: str, journal_database: str) -> None:
    for offset, command in shell_commands(block.code):
        result = await anyio.run_process(
            ["bash", "-c", command.replace(README_DSN, journal_database)], check=False,
            stdin=subprocess.DEVNULL,
        )
        assert result.returncode == 0, (
            f"README.md line {block.line + offset}: `{command}` exited {result.returncode}\n"
            + result.stdout.decode(errors="replace") + result.stderr.decode(errors="replace")
        )


def test_the_readme_s_pytest_example_passes_under_pytest(tmp_path: Path) -> None:
    """The fixture example, saved as the file it names, passes as a reader runs it."""
    block = next(b for b in readme_blocks(README.read_text(encoding="utf-8"))
                 if b.code.startswith("# test_payroll.py"))
    (tmp_path / "test_payroll.py").write_text(block.code + "\n", encoding="utf-8")
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "test_payroll.py"],
        capture_output=True, text=True, cwd=tmp_path, timeout=120,
        env={k: v for k, v in os.environ.items() if not k.startswith(("ECARTPAY_", "PYTEST_"))},
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert " failed" not in result.stdout
    assert "skipped" not in result.stdout  # an async test without a runner is skipped
