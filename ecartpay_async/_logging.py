"""The SDK's logs switched on with no code: ``ECARTPAY_LOG=debug|info|warning``.

The SDK logs to the ``ecartpay_async`` logger (each request at DEBUG; retries and
recoveries at INFO; pauses and stopped batches at WARNING) and, as a library should,
adds no handler of its own. With ``ECARTPAY_LOG`` set, the first ``AsyncClient``
created adds one handler that writes those records to stderr at that level (the
variable is read once, so it costs nothing per client). Records still propagate to
the application's own handlers.

Keys and tokens never reach a log record in the first place; the handler added
here also masks email addresses, which an error message may quote when it compares
a payout with the row it came from. :func:`log_to_stderr` does the same from code,
in text or as JSON lines (``payouts send --log-format json``).
"""

from __future__ import annotations

import json
import logging
import os
import re
import sys
import time
import warnings
from collections.abc import Mapping
from typing import Final, TextIO

from ._reprs import safe_repr

__all__ = ["ENV_VARIABLE", "LEVELS", "configure_logging_from_env", "log_to_stderr", "mask_emails"]

ENV_VARIABLE: Final = "ECARTPAY_LOG"
LEVELS: Final = {"debug": logging.DEBUG, "info": logging.INFO, "warning": logging.WARNING}
TEXT_FORMAT: Final = "%(asctime)s %(levelname)s %(name)s: %(message)s"

_EMAIL: Final = r"[^\s@'\"<>(),;:]+@[^\s@'\"<>(),;:]+\.[A-Za-z]{2,}"
_read_env = False


def mask_emails(text: str) -> str:
    """``text`` with every email address replaced by ``<email>``."""
    # re caches the compiled pattern; compiling it at import would cost every program.
    return re.sub(_EMAIL, "<email>", text) if "@" in text else text


def configure_logging_from_env(
    environ: Mapping[str, str] = os.environ, *, json_lines: bool = False
) -> None:
    """Apply ``ECARTPAY_LOG`` the first time this is called; later calls do nothing."""
    global _read_env
    if _read_env:
        return
    _read_env = True
    value = environ.get(ENV_VARIABLE, "").strip().lower()
    if not value:
        return
    level = LEVELS.get(value)
    if level is None:
        warnings.warn(
            f"{ENV_VARIABLE}={value!r} is not one of {', '.join(LEVELS)}; SDK logging stays off",
            stacklevel=3,
        )
        return
    log_to_stderr(level, json_lines=json_lines)


class _Text(logging.Formatter):
    """``TEXT_FORMAT``, emails masked."""

    def __init__(self) -> None:
        super().__init__(TEXT_FORMAT)

    def format(self, record: logging.LogRecord) -> str:
        return mask_emails(super().format(record))


class _JsonLines(logging.Formatter):
    """One JSON object a line: time, level, logger, message (emails masked)."""

    def format(self, record: logging.LogRecord) -> str:
        return json.dumps({
            "time": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created))
            + f".{int(record.msecs):03d}Z",
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": mask_emails(record.getMessage()),
        }, ensure_ascii=False)


@safe_repr
class _SDKHandler(logging.StreamHandler):  # type: ignore[type-arg]
    """The handler this module adds (so that calling it again replaces, not stacks)."""


def log_to_stderr(
    level: int = logging.INFO, *, json_lines: bool = False, stream: TextIO | None = None
) -> logging.Handler:
    """Write the SDK's log records at ``level`` and above to stderr (or ``stream``)."""
    logger = logging.getLogger("ecartpay_async")
    for handler in list(logger.handlers):
        if isinstance(handler, _SDKHandler):
            logger.removeHandler(handler)
    handler = _SDKHandler(stream or sys.stderr)
    handler.setFormatter(_JsonLines() if json_lines else _Text())
    logger.addHandler(handler)
    logger.setLevel(level)
    return handler
