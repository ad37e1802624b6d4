"""Fault injection: what can go wrong with a request, how often, and the seeded dice.

A spec is a string such as ``"5xx=0.1,429=0.05,reset=0.03,latency_ms=50"`` or the
equivalent mapping. A key may be scoped to one endpoint with a prefix,
``"payouts.create:drop_after_commit=0.2"`` (mapping form:
``{"payouts.create": {"drop_after_commit": 0.2}}``); scoped keys override global ones
for that endpoint only. Endpoint names are listed in :data:`ENDPOINTS`.

Fault kinds (probabilities; their sum per endpoint must not exceed 1):

=====================  ==========================================================
``500``                500 with a JSON error body, nothing done
``502``                502 with an HTML page (a proxy's), nothing done
``503``                503 with ``Retry-After``, nothing done
``5xx``                shorthand: split evenly between 500, 502 and 503
``429``                429 with ``Retry-After``, nothing done
``reset``              connection reset (TCP RST) before the request is processed
``drop_after_commit``  the request is processed, then the connection closes unanswered
``slow_after_commit``  the request is processed, the answer waits ``slow_ms``
``500_after_commit``   the request is processed, then a 500 is answered
``truncated``          the request is processed, the answer's body is cut in half
=====================  ==========================================================

Other keys: ``latency_ms`` and ``jitter_ms`` (every request waits latency plus a
uniform 0..jitter), ``retry_after`` (seconds sent in ``Retry-After``, default 1) and
``slow_ms`` (default 30000).

Under a seed the n-th faultable request gets the n-th draw, so a run is repeatable
when its requests arrive in the same order.
"""

from __future__ import annotations

import random
import re
import threading
from collections import Counter
from collections.abc import Mapping
from types import MappingProxyType
from typing import Any, Final, Union

from attrs import field, frozen

from ._reprs import safe_repr

__all__ = ["ENDPOINTS", "FAULT_KINDS", "Decision", "FaultInjector", "FaultSpec", "endpoint_for"]

#: Every fault kind, in the fixed order the dice walk through them.
FAULT_KINDS: Final = (
    "500",
    "502",
    "503",
    "429",
    "reset",
    "drop_after_commit",
    "slow_after_commit",
    "500_after_commit",
    "truncated",
)
#: Kinds that let the request reach the application (its effects are committed).
AFTER_COMMIT: Final = frozenset(
    {"drop_after_commit", "slow_after_commit", "500_after_commit", "truncated"}
)

_PARAMETERS: Final = {"latency_ms": 0.0, "jitter_ms": 0.0, "retry_after": 1.0, "slow_ms": 30000.0}

#: Endpoint names used to scope faults, with the requests they match.
ENDPOINTS: Final[tuple[tuple[str, str, re.Pattern[str]], ...]] = tuple(
    (name, method, re.compile(pattern))
    for name, method, pattern in (
        ("token", "POST", r"/api/authorizations/token"),
        ("payouts.create", "POST", r"/api/payouts"),
        ("payouts.list", "GET", r"/api/payouts"),
        ("payouts.retrieve", "GET", r"/api/payouts/[^/]+"),
        ("payouts.update", "PUT", r"/api/payouts/[^/]+"),
        ("payouts.confirm", "PUT", r"/api/payouts/[^/]+/confirm"),
        ("orders.create", "POST", r"/api/orders"),
        ("orders.retrieve", "GET", r"/api/orders/[^/]+"),
        ("orders.refund", "POST", r"/api/orders/[^/]+/refund"),
        ("webhooks.create", "POST", r"/api/webhooks"),
    )
)
_ENDPOINT_NAMES: Final = frozenset(name for name, _, _ in ENDPOINTS)


def endpoint_for(method: str, path: str) -> str | None:
    """The endpoint name of a request, or None when it matches no API endpoint."""
    path = path.rstrip("/") or "/"
    for name, verb, pattern in ENDPOINTS:
        if verb == method and pattern.fullmatch(path):
            return name
    return None


Settings = Mapping[str, float]
SpecLike = Union["FaultSpec", str, Mapping[str, Any], None]


def _normalize(key: str, value: object) -> dict[str, float]:
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        raise ValueError(f"fault {key!r}: expected a number, got {value!r}")
    try:
        number = float(value)
    except ValueError:
        raise ValueError(f"fault {key!r}: {value!r} is not a number") from None
    if key == "5xx":
        return {"500": number / 3, "502": number / 3, "503": number / 3}
    if key in FAULT_KINDS:
        if not 0.0 <= number <= 1.0:
            raise ValueError(f"fault {key!r}: probability must be within 0..1, got {value!r}")
        return {key: number}
    if key in _PARAMETERS:
        if number < 0:
            raise ValueError(f"fault {key!r}: must not be negative, got {value!r}")
        return {key: number}
    known = ", ".join(("5xx", *FAULT_KINDS, *_PARAMETERS))
    raise ValueError(f"unknown fault {key!r}; expected one of {known}")


def _check_total(settings: Settings, where: str) -> None:
    total = sum(settings.get(kind, 0.0) for kind in FAULT_KINDS)
    if total > 1.0 + 1e-9:
        raise ValueError(f"fault probabilities {where}add up to {total:g}, more than 1")


def _frozen_settings(settings: Settings) -> Settings:
    return MappingProxyType(dict(settings))


def _frozen_endpoints(endpoints: Mapping[str, Settings]) -> Mapping[str, Settings]:
    return MappingProxyType({name: _frozen_settings(s) for name, s in endpoints.items()})


@safe_repr
@frozen
class FaultSpec:
    """A parsed fault specification: global settings plus per-endpoint overrides."""

    settings: Settings = field(factory=dict, converter=_frozen_settings)
    endpoints: Mapping[str, Settings] = field(factory=dict, converter=_frozen_endpoints)

    @classmethod
    def parse(cls, spec: SpecLike) -> FaultSpec:
        """Read a spec string, a mapping, a FaultSpec (returned as is) or None (no faults)."""
        if spec is None:
            return cls()
        if isinstance(spec, FaultSpec):
            return spec
        items: list[tuple[str, object]]
        if isinstance(spec, str):
            items = []
            for part in filter(None, (p.strip() for p in spec.split(","))):
                name, sep, text = part.partition("=")
                if not sep:
                    raise ValueError(f"fault spec item {part!r} is not key=value")
                items.append((name.strip(), text.strip()))
        else:
            items = []
            for name, given in spec.items():
                if isinstance(given, Mapping):
                    items.extend((f"{name}:{k}", v) for k, v in given.items())
                else:
                    items.append((name, given))
        settings: dict[str, float] = {}
        endpoints: dict[str, dict[str, float]] = {}
        for key, value in items:
            scope, sep, name = key.rpartition(":")
            if not sep:
                settings.update(_normalize(name, value))
                continue
            if scope not in _ENDPOINT_NAMES:
                raise ValueError(f"unknown endpoint {scope!r} in fault spec")
            endpoints.setdefault(scope, {}).update(_normalize(name, value))
        _check_total(settings, "")
        for scope, scoped in endpoints.items():
            _check_total({**settings, **scoped}, f"for {scope} ")
        return cls(settings, endpoints)

    def resolve(self, endpoint: str | None) -> Settings:
        """The settings in force for one endpoint (global overlaid with its own)."""
        scoped = self.endpoints.get(endpoint or "")
        return {**self.settings, **scoped} if scoped else self.settings

    def to_json(self) -> dict[str, Any]:
        """The mapping form, which :meth:`parse` reads back."""
        out: dict[str, Any] = dict(self.settings)
        out.update({name: dict(scoped) for name, scoped in self.endpoints.items()})
        return out

    def __str__(self) -> str:
        parts = [f"{k}={v:g}" for k, v in self.settings.items()]
        for name, scoped in self.endpoints.items():
            parts.extend(f"{name}:{k}={v:g}" for k, v in scoped.items())
        return ",".join(parts)


@safe_repr
@frozen
class Decision:
    """What happens to one request: a fault kind (or None) and the delay before it."""

    kind: str | None
    delay: float
    retry_after: int
    slow: float


class FaultInjector:
    """Holds the spec in force and a seeded RNG; decides each request's fate."""

    def __init__(
        self, spec: SpecLike = None, *, seed: int | None = None, latency_ms: float = 0
    ) -> None:
        self._lock = threading.Lock()
        self._base_latency = float(latency_ms)
        self._spec = FaultSpec.parse(spec)
        self._rng = random.Random(seed)
        #: How many times each fault kind was injected since the last reset.
        self.counts: Counter[str] = Counter()
        #: How many requests reached each API endpoint (``"payouts.create"``) since the
        #: last reset, faulted or not: what a test counts to see a client's traffic.
        self.requests: Counter[str] = Counter()

    @property
    def spec(self) -> FaultSpec:
        return self._spec

    def configure(self, spec: SpecLike, *, seed: int | None = None) -> None:
        """Replace the spec (and reseed when ``seed`` is given) while serving."""
        parsed = FaultSpec.parse(spec)
        with self._lock:
            self._spec = parsed
            if seed is not None:
                self._rng.seed(seed)

    def reset_counts(self) -> None:
        with self._lock:
            self.counts.clear()
            self.requests.clear()

    def decide(self, endpoint: str | None) -> Decision:
        settings = self._spec.resolve(endpoint)
        with self._lock:
            if endpoint is not None:
                self.requests[endpoint] += 1
            roll = self._rng.random()
            jitter = settings.get("jitter_ms", 0.0) * self._rng.random()
            kind = None
            cumulative = 0.0
            for candidate in FAULT_KINDS:
                cumulative += settings.get(candidate, 0.0)
                if roll < cumulative:
                    kind = candidate
                    self.counts[candidate] += 1
                    break
        delay_ms = self._base_latency + settings.get("latency_ms", 0.0) + jitter
        return Decision(
            kind=kind,
            delay=delay_ms / 1000,
            retry_after=int(settings.get("retry_after", _PARAMETERS["retry_after"])),
            slow=settings.get("slow_ms", _PARAMETERS["slow_ms"]) / 1000,
        )
