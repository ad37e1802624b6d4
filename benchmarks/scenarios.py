"""What a benchmark run measures: the scenarios, their clients, and how big each run is."""

from __future__ import annotations

from dataclasses import dataclass
from importlib.util import find_spec

__all__ = ["ALL_CLIENTS", "Entry", "Plan", "Scenario", "plan"]

# The floor, what users write today, then the SDK on every transport it offers (and on
# the httpx-aiohttp package, the alternative its default was measured against).
# Peers (the `peers` extra), one call per payout, measured when installed.
PEER_CLIENTS = (
    ("stripe", "peer-stripe-aiohttp"),
    ("openai", "peer-openai-aiohttp"),
    ("openai", "peer-openai-httpx2"),
)
ALL_CLIENTS = (
    "aiohttp", "httpx", "sdk", "sdk-send", "sdk-httpx-aiohttp", "sdk-httpx", "sdk-httpx2",
    "sdk-trio", "sdk-trio-httpx2",
    *(client for module, client in PEER_CLIENTS if find_spec(module) is not None),
)
# The smoke run (CI) needs only the dev extra (httpx2 included): no httpx-aiohttp.
SMOKE_CLIENTS = ("aiohttp", "httpx", "sdk", "sdk-send", "sdk-httpx", "sdk-httpx2", "sdk-trio")
TRANSPORT_CLIENTS = ("aiohttp", "t-aiohttp", "t-httpx-aiohttp", "t-sharded", "t-httpcore")


@dataclass(frozen=True)
class Entry:
    """One column of a scenario: a client, with or without a journal."""

    client: str
    journal: bool = False

    @property
    def key(self) -> str:
        return self.client + ("+journal" if self.journal else "")


@dataclass(frozen=True)
class Scenario:
    name: str
    latency_ms: float
    concurrency: int
    count: int
    entries: tuple[Entry, ...]
    note: str = ""

    @property
    def ideal_per_s(self) -> float | None:
        """concurrency / latency: what a client with zero cost would reach."""
        if self.latency_ms <= 0:
            return None
        return self.concurrency / (self.latency_ms / 1000.0)


@dataclass(frozen=True)
class Plan:
    scenarios: tuple[Scenario, ...]
    rounds: int
    memory_sizes: tuple[int, ...]
    import_rounds: int


def _entries(clients: tuple[str, ...]) -> tuple[Entry, ...]:
    return tuple(Entry(client) for client in clients)


def plan(*, smoke: bool, full: bool, batch: bool, rounds: int | None) -> Plan:
    """The scenarios for a smoke run (seconds), a default run (minutes), or ``--full``."""
    count0, count50 = (200, 200) if smoke else (3000, 3000)
    clients = _entries(SMOKE_CLIENTS if smoke else ALL_CLIENTS)
    journal = (Entry("sdk"), Entry("sdk", journal=True)) if batch else ()
    scenarios = [
        Scenario("latency 0 ms, concurrency 64", 0, 64, count0, clients),
        Scenario("latency 50 ms, concurrency 64", 50, 64, count50, clients),
    ]
    if not smoke:
        scenarios += [
            Scenario("latency 50 ms, concurrency 16", 50, 16, 1000, clients),
            Scenario("latency 50 ms, concurrency 256", 50, 256, 6000, clients),
            Scenario(
                "transports alone, latency 0 ms, concurrency 64", 0, 64, 3000,
                _entries(TRANSPORT_CLIENTS),
                note="each loop builds an httpx.Request and calls the transport directly",
            ),
        ]
    if journal:
        scenarios.append(
            Scenario("journal off/on, latency 50 ms, concurrency 64", 50, 64, count50, journal)
        )
    if smoke:
        sizes: tuple[int, ...] = (500, 1000)
    elif full:
        sizes = (10_000, 100_000, 1_000_000)
    else:
        sizes = (10_000, 100_000)
    return Plan(
        scenarios=tuple(scenarios),
        rounds=rounds or (1 if smoke else 3),
        memory_sizes=sizes,
        import_rounds=3 if smoke else 15,
    )
