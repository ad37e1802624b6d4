"""The README's examples, run in order against one sandbox, as a reader would follow them.

Every fenced ```python and ```bash (or ``sh``, ``shell``, ``console``) block of README.md
runs, top to bottom, against one :class:`~ecartpay_async.sandbox.Sandbox` started here.
Other blocks (```text, a bare fence) are not code. The conventions a README example
can rely on:

- ``<!-- not run: REASON -->`` on the line before a block skips it (a ``pip install``,
  a server that runs until Ctrl-C). Say why: the reason is shown with each test run.
- Python blocks run in one asyncio session, like ``python -m asyncio``: top-level
  ``await`` and ``async with`` work, and names carry over from block to block.
  Before each block ``client`` is an open ``AsyncClient`` on the sandbox (the quick
  start's, as the sections after it assume).
- ``ECARTPAY_PUBLIC_KEY``, ``ECARTPAY_PRIVATE_KEY`` and ``ECARTPAY_BASE_URL`` point
  at the sandbox, and ``environment="sandbox"`` means it too.
- Names a reader's own program would hold are given: :func:`surroundings`.
- Both kinds run in a scratch directory holding a copy of ``examples/``; shell blocks
  run line by line with bash, and a line must exit 0.
- The README's PostgreSQL address (:data:`README_DSN`) means a database of this test's
  own, made and dropped by :mod:`pg_helpers`, so that runs sharing a server do not
  share a journal.
"""

from __future__ import annotations

import ast
import json
import os
import re
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import anyio
import attrs
import pytest

from ecartpay_async import client as client_module
from ecartpay_async.client import AsyncClient
from ecartpay_async.sandbox import Sandbox
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
def scratch(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Sandbox]:
    """The sandbox, the environment pointing at it, a scratch directory with examples/."""
    shutil.copytree(ROOT / "examples", tmp_path / "examples")
    monkeypatch.chdir(tmp_path)
    with Sandbox(webhook_secret=WEBHOOK_SECRET) as sandbox:
        monkeypatch.setenv("ECARTPAY_PUBLIC_KEY", sandbox.public_key)
        monkeypatch.setenv("ECARTPAY_PRIVATE_KEY", sandbox.private_key)
        monkeypatch.setenv("ECARTPAY_BASE_URL", sandbox.base_url)
        monkeypatch.setitem(client_module.ENVIRONMENTS, "sandbox", sandbox.base_url)
        # Shell blocks run this interpreter's `python` and `ecartpay-async`, on this tree.
        monkeypatch.setenv("PATH", os.pathsep.join(
            (str(Path(sys.executable).parent), os.environ.get("PATH", ""))
        ))
        monkeypatch.setenv("PYTHONPATH", os.pathsep.join(
            p for p in (str(ROOT), os.environ.get("PYTHONPATH")) if p
        ))
        yield sandbox


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
    scratch: Sandbox, journal_database: str, anyio_backend: str
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


async def _run_shell(block: Block, where: str, journal_database: str) -> None:
    for offset, line in enumerate(block.code.splitlines()):
        command = line.strip()
        if not command or command.startswith("#"):
            continue
        result = await anyio.run_process(
            ["bash", "-c", command.replace(README_DSN, journal_database)], check=False,
            stdin=subprocess.DEVNULL,
        )
        assert result.returncode == 0, (
            f"README.md line {block.line + offset}: `{command}` exited {result.returncode}\n"
            + result.stdout.decode(errors="replace") + result.stderr.decode(errors="replace")
        )

