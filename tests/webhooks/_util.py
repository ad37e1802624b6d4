"""Helpers for the webhook tests: receivers served by uvicorn on loopback, signed bodies."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from ecartpay_async import _json
from ecartpay_async.sandbox.server import _ServerThread
from ecartpay_async.sandbox.webhooks import signature

SECRET = "whsec_receiver_tests"


@contextmanager
def served(app: Any, port: int = 0) -> Iterator[str]:
    """``app`` served by uvicorn on a loopback port (0: a free one); yields its origin.

    The socket listens before uvicorn starts, so requests made at once wait in the
    backlog instead of being refused: no startup signal is needed.
    """
    ready = threading.Event()
    ready.set()
    server = _ServerThread(app, "127.0.0.1", port)
    server.start(ready)
    try:
        yield f"http://127.0.0.1:{server.port}"
    finally:
        server.stop()


def signed(
    data: Any,
    *,
    event: str = "transfer.created",
    webhook_id: str = "wh_1",
    secret: str = SECRET,
    timestamp: int | None = None,
) -> tuple[bytes, dict[str, str]]:
    """A delivery as Ecart Pay sends it (the sandbox's own signing): body and headers."""
    ts = str(timestamp if timestamp is not None else int(time.time() * 1000))
    body = _json.stringify({"event": event, "data": data}).encode()
    headers = {
        "content-type": "application/json",
        "x-pay-timestamp": ts,
        "x-pay-webhook-id": webhook_id,
        "x-pay-signature": signature(secret, ts, webhook_id, data),
    }
    return body, headers
