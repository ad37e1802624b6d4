"""Start the loopback server and the client workers as child processes, and always stop them."""

from __future__ import annotations

import json
import subprocess
import sys
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

__all__ = ["Server", "run_worker", "server"]

_SERVER_LIFETIME = 3600.0  # a hard bound, should the harness die without closing stdin


class Server:
    """A running loopback server: its URL and its own counters."""

    def __init__(self, url: str) -> None:
        self.url = url

    def stats(self) -> dict[str, Any]:
        with urllib.request.urlopen(self.url + "/__stats", timeout=10) as answer:
            data: dict[str, Any] = json.loads(answer.read())
        return data


@contextmanager
def server(latency_ms: float, impl: str = "raw") -> Iterator[Server]:
    """A server on 127.0.0.1 answering after ``latency_ms``; stopped on exit."""
    process = subprocess.Popen(
        [
            sys.executable, "-m", "benchmarks.server", "--latency-ms", str(latency_ms),
            "--impl", impl, "--max-seconds", str(_SERVER_LIFETIME),
        ],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        port = int(process.stdout.readline())
        yield Server(f"http://127.0.0.1:{port}")
    finally:
        if process.stdin is not None:
            process.stdin.close()  # the server stops when its stdin closes
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def run_worker(
    client: str,
    url: str,
    *,
    count: int,
    concurrency: int,
    warmup: int,
    journal: str | None = None,
    timeout: float = 1800.0,
) -> dict[str, Any]:
    """Run one client in a fresh process and return its measurements."""
    command = [
        sys.executable, "-m", "benchmarks.worker", client, "--url", url,
        "--count", str(count), "--concurrency", str(concurrency), "--warmup", str(warmup),
    ]
    if journal is not None:
        command += ["--journal", journal]
    done = subprocess.run(command, capture_output=True, text=True, timeout=timeout, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"worker {client} failed:\n{done.stderr[-3000:]}")
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result
