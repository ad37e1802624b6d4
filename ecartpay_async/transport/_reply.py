"""An answer read whole: what every sender hands the pipeline (a :class:`._sender.Reply`)."""

from __future__ import annotations

from collections.abc import Mapping

import attrs

from .._reprs import safe_repr

__all__ = ["WholeReply"]


@safe_repr
@attrs.define  # built per answer, never changed: not frozen (cheaper to build)
class WholeReply:
    """Status, reason, headers (the stack's own case-insensitive mapping) and the body,
    read and decoded. The body stays out of its repr: the token request's answer
    carries the token."""

    status_code: int
    reason_phrase: str
    headers: Mapping[str, str] = attrs.field(repr=False)
    content: bytes = attrs.field(repr=False)
