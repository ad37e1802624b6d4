"""Whose journal it is: the API origin, environment and account it was written for,
and the input each batch in it was run with.

A journal says which rows were paid; that is only true at the API and for the account
that paid them. A rehearsal's journal (``--sandbox --journal rehearsal.db``) reused for
production would make every row look done and pay nobody; so would a journal reused
against another sandbox account, or a batch name another file already used. So the
first run records who it is (:class:`JournalIdentity`), and every later run must be
the same, or is refused with :class:`~ecartpay_async.JournalMismatchError` before
anything is sent.

* ``origin``: the API's base URL (``https://sandbox.ecartpay.com``);
* ``environment``: ``sandbox`` or ``production``, as the client was built;
* ``account``: the ``account_id`` claim of the API's token for the run's keys;
* ``input``: a digest of the set of the input's reference_ids (:class:`InputDigest`),
  recorded per batch: the same rows in another order, or with a pending row's
  amount fixed, are the same input; a file with other reference_ids is not.

Journals written before identities existed (SQLite format 1, PostgreSQL schema
version 1) hold none: the first run that opens one with this version adopts it (the
journal then belongs to that run's origin, environment and account) and the batch
says so (:attr:`~.engine.Batch.adopted`). An input not known in advance (an async
iterator) is not recorded and not compared.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping
from typing import Any, Final

import attrs

from .._reprs import safe_repr
from ..errors import JournalMismatchError
from .validate import to_request

__all__ = [
    "UNKNOWN",
    "InputDigest",
    "JournalIdentity",
    "input_digest",
    "origin_of",
    "settle_identity",
]

#: The account of a token that does not say (recorded, and compared, as such).
UNKNOWN: Final = "(unknown)"
_MODULUS: Final = 1 << 256


@safe_repr
@attrs.frozen(slots=True)
class JournalIdentity:
    """Who a run is (see the module docstring); ``input`` is empty when unknown."""

    origin: str
    environment: str
    account: str
    input: str = ""

    def with_input(self, digest: str) -> JournalIdentity:
        return attrs.evolve(self, input=digest)


def origin_of(base_url: str) -> str:
    """The base URL as a journal records it: without a user name or password."""
    scheme, sep, rest = base_url.partition("://")
    host, slash, path = rest.partition("/")
    return f"{scheme}{sep}{host.rpartition('@')[2]}{slash}{path}"


class InputDigest:
    """A digest of a set of reference_ids, whatever their order, in constant memory."""

    def __init__(self) -> None:
        self._sum = 0
        self.count = 0

    def add(self, reference_id: str) -> None:
        digest = hashlib.sha256(reference_id.encode("utf-8", "surrogatepass")).digest()
        self._sum = (self._sum + int.from_bytes(digest, "big")) % _MODULUS
        self.count += 1

    def hexdigest(self) -> str:
        return hashlib.sha256(f"{self.count}:{self._sum:064x}".encode()).hexdigest()[:32]


def input_digest(requests: Iterable[Any]) -> str:
    """The :class:`InputDigest` of a validated finite input (it reads the input whole:
    call it off the event loop)."""
    found = InputDigest()
    for item in requests:
        request = to_request(item)
        assert request.reference_id is not None
        found.add(request.reference_id)
    return found.hexdigest()


def settle_identity(
    journal: str,
    recorded: Mapping[str, str],
    current: JournalIdentity,
    *,
    input_key: str = "input",
    input_label: str = "input",
) -> dict[str, str]:
    """What to record for ``current`` in a journal that holds ``recorded`` (name to
    value; ``input_key`` names this batch's input there). Raises
    :class:`JournalMismatchError` listing every field that differs; returns the
    fields to write (those not recorded yet)."""
    wanted = {
        "origin": current.origin,
        "environment": current.environment,
        "account": current.account,
        input_key: current.input,
    }
    changes: list[tuple[str, str, str]] = []
    missing: dict[str, str] = {}
    for name, value in wanted.items():
        if not value:
            continue  # an input not known in advance: neither recorded nor compared
        before = recorded.get(name)
        if before is None:
            missing[name] = value
        elif before != value:
            label = input_label if name == input_key else name
            changes.append((label, _shown(label, before), _shown(label, value)))
    if changes:
        raise JournalMismatchError(journal, changes)
    return missing


def _shown(name: str, value: str) -> str:
    if name.startswith("input"):
        return f"digest {value[:12]}"  # the reference_ids themselves are not shown
    return value
