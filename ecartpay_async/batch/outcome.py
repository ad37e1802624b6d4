"""What a batch says about each row: :class:`Outcome` and its :class:`OutcomeStatus`."""

from __future__ import annotations

import enum

import attrs

from .._reprs import safe_repr
from ..models.payouts import Payout, PayoutRequest

__all__ = ["Outcome", "OutcomeStatus"]


class OutcomeStatus(str, enum.Enum):
    """Where a row ended.

    ``paid`` and ``pending`` mean the payout exists (``pending`` waits for a
    confirmation or for its date); ``failed`` means it was refused or could not be
    sent (``error`` says why); ``skipped`` means an earlier run made its payout
    ("already paid earlier": the journal shows the row done, or the API already had
    its reference_id); ``not_attempted`` means the batch stopped before sending it.
    """

    PAID = "paid"
    PENDING = "pending"
    FAILED = "failed"
    SKIPPED = "skipped"
    NOT_ATTEMPTED = "not_attempted"

    def __str__(self) -> str:
        return self.value


@safe_repr
@attrs.frozen(slots=True)
class Outcome:
    """One row of a batch, reported once it is final.

    ``row`` is the row's position in the input, 1 for the first. ``request`` is None
    only for a row of an unbounded source that could not be read as a payout (its
    ``error`` is the :class:`~ecartpay_async.ValidationError`). ``attempts`` counts
    the HTTP attempts of the create; ``recovered`` is True when the payout was found
    by its reference_id rather than answered by the create. ``latency`` is the
    seconds the row spent sending (retries included), None for a row never sent.
    ``by_peer`` marks a ``skipped`` row that another worker sharing the journal
    finished during this run (not an earlier run).
    """

    row: int
    status: OutcomeStatus
    request: PayoutRequest | None
    payout: Payout | None = None
    error: BaseException | None = None
    attempts: int = 0
    recovered: bool = False
    latency: float | None = None
    by_peer: bool = False

    @property
    def reference_id(self) -> str | None:
        return None if self.request is None else self.request.reference_id

    @property
    def ok(self) -> bool:
        """True unless the row failed or was not attempted."""
        return self.status not in (OutcomeStatus.FAILED, OutcomeStatus.NOT_ATTEMPTED)
