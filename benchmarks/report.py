"""Turn raw worker runs into medians, ratios, target checks and a printable table."""

from __future__ import annotations

import statistics
from typing import Any

from .clients import CLIENTS
from .scenarios import Scenario

__all__ = ["summarize_scenario", "table", "targets"]

SDK_DEFAULT = "sdk"


def _median(values: list[float]) -> float:
    return statistics.median(values) if values else float("nan")


def summarize_scenario(scenario: Scenario, runs: dict[str, list[dict[str, Any]]],
                       server_cpu_us: list[float]) -> dict[str, Any]:
    """Medians per client over the rounds, and the SDK's ratios to the two loops."""
    ideal = scenario.ideal_per_s
    clients: dict[str, Any] = {}
    for key, results in runs.items():
        rates = [r["count"] / r["wall_s"] for r in results]
        cpu = [r["cpu_s"] / r["count"] * 1e6 for r in results]
        rate = _median(rates)
        clients[key] = {
            "label": CLIENTS[key.split("+")[0]].label + (" + journal" if "+" in key else ""),
            "payouts_per_s": round(rate, 1),
            "cpu_us_per_payout": round(_median(cpu), 1),
            "efficiency": None if ideal is None else round(rate / ideal, 3),
            "peak_rss_mb": round(max(r["maxrss_kb"] for r in results) / 1024, 1),
            "all_paid": all(r["ok"] == r["count"] for r in results),
            "rounds": [
                {"payouts_per_s": round(a, 1), "cpu_us_per_payout": round(b, 1)}
                for a, b in zip(rates, cpu, strict=True)
            ],
        }
    ratios: dict[str, Any] = {}
    floor, today = clients.get("aiohttp"), clients.get("httpx")
    for key, row in clients.items():
        if not key.startswith("sdk"):
            continue
        entry: dict[str, float] = {}
        if floor:
            entry["throughput_vs_aiohttp"] = round(row["payouts_per_s"] / floor["payouts_per_s"], 2)
            entry["cpu_vs_aiohttp"] = round(
                row["cpu_us_per_payout"] / floor["cpu_us_per_payout"], 2
            )
        if today:
            entry["throughput_vs_httpx"] = round(row["payouts_per_s"] / today["payouts_per_s"], 2)
        ratios[key] = entry
    return {
        "name": scenario.name,
        "latency_ms": scenario.latency_ms,
        "concurrency": scenario.concurrency,
        "count": scenario.count,
        "ideal_per_s": ideal,
        "note": scenario.note,
        "server_cpu_us_per_request": round(_median(server_cpu_us), 1),
        "clients": clients,
        "ratios": ratios,
    }


def _scenario(results: dict[str, Any], latency: float, concurrency: int) -> dict[str, Any] | None:
    for s in results["scenarios"]:
        if (s["latency_ms"], s["concurrency"]) == (latency, concurrency) and "aiohttp" in s[
            "clients"
        ] and SDK_DEFAULT in s["clients"]:
            return s  # type: ignore[no-any-return]
    return None


def _target(name: str, measured: float | None, limit: float, higher_is_better: bool,
            detail: str = "") -> dict[str, Any]:
    met = None
    if measured is not None:
        met = measured >= limit if higher_is_better else measured <= limit
    return {"target": name, "measured": measured, "limit": limit, "met": met, "detail": detail}


def targets(results: dict[str, Any]) -> list[dict[str, Any]]:
    """The issue's targets, each with its measured value (None when not measurable yet)."""
    out = []
    s50 = _scenario(results, 50, 64)
    r50 = s50["ratios"].get(SDK_DEFAULT, {}) if s50 else {}
    out.append(_target("50 ms, c64: SDK / aiohttp loop throughput", r50.get(
        "throughput_vs_aiohttp"), 0.97, True))
    out.append(_target("50 ms, c64: SDK / httpx loop throughput", r50.get(
        "throughput_vs_httpx"), 3.0, True))
    s0 = _scenario(results, 0, 64)
    r0 = s0["ratios"] if s0 else {}
    out.append(_target("0 ms, c64: SDK send_batch / aiohttp loop CPU per payout", r0.get(
        SDK_DEFAULT, {}).get("cpu_vs_aiohttp"), 1.4, False))
    out.append(_target("0 ms, c64: SDK bare send loop / aiohttp loop CPU per payout", r0.get(
        "sdk-send", {}).get("cpu_vs_aiohttp"), 1.3, False))
    trio = None
    if s50 and "sdk-trio" in s50["clients"]:
        trio = round(s50["clients"]["sdk-trio"]["payouts_per_s"]
                     / s50["clients"][SDK_DEFAULT]["payouts_per_s"], 2)
    out.append(_target("50 ms, c64: SDK on trio / SDK on asyncio throughput", trio, 0.9, True))
    s256 = _scenario(results, 50, 256)
    r256 = s256["ratios"].get(SDK_DEFAULT, {}) if s256 else {}
    out.append(_target("50 ms, c256: SDK / aiohttp loop throughput", r256.get(
        "throughput_vs_aiohttp"), 0.9, True, "" if s256 else "default run only"))
    memory = results.get("memory", {}).get("peak_rss_mb", {})
    sizes = sorted(int(n) for n in memory)
    growth = None
    detail = "needs the 10 k and 1 M runs (--full)"
    if len(sizes) >= 2 and sizes[0] == 10_000:
        growth = round(memory[str(sizes[-1])] - memory[str(sizes[0])], 1)
        detail = f"{sizes[-1]:,} vs 10,000 requests" + (
            "" if sizes[-1] == 1_000_000 else " (1 M needs --full)")
    out.append(_target("peak RSS growth, MB above 10 k", growth, 20.0, False, detail))
    journal = next((s for s in results["scenarios"] if "sdk+journal" in s["clients"]), None)
    ratio = None
    if journal:
        on = journal["clients"]["sdk+journal"]["payouts_per_s"]
        ratio = round(on / journal["clients"]["sdk"]["payouts_per_s"], 2)
    out.append(_target("50 ms: journal on / off throughput", ratio, 0.90, True,
                       "" if journal else "needs send_batch(journal=)"))
    imports = results.get("import", {})
    out.append(_target("import ecartpay_async / import httpx", imports.get("ratio"), 1.2, False))
    return out


def _fmt(value: Any, spec: str = "") -> str:
    if value is None:
        return "-"
    return format(value, spec)


def table(results: dict[str, Any]) -> str:
    """The results as plain-text tables (also pasted into benchmarks/README.md)."""
    m = results["machine"]
    lines = [
        f"Machine: {m['cpu']}, {m['cores']} cores; Python {m['python']}; "
        + ", ".join(f"{k} {v}" for k, v in m["libraries"].items())
        + f"; commit {m['commit']}; mode {results['mode']}, {results['rounds']} round(s), medians",
        f"SDK batch path: {results['sdk_batch_path']}",
        "",
    ]
    for s in results["scenarios"]:
        ideal = f", ideal {s['ideal_per_s']:.0f}/s" if s["ideal_per_s"] else ""
        lines.append(
            f"## {s['name']} ({s['count']} payouts per run, 1000 for httpx-pool clients{ideal}; "
            f"server {s['server_cpu_us_per_request']} µs CPU/request)"
        )
        if s["note"]:
            lines.append(f"   ({s['note']})")
        lines.append(
            f"| {'client':38} | {'payouts/s':>9} | {'CPU µs/payout':>13} | {'efficiency':>10} "
            f"| {'peak RSS MB':>11} | {'vs aiohttp':>10} | {'vs httpx':>8} |"
        )
        lines.append("|" + "|".join("-" * w for w in (40, 11, 15, 12, 13, 12, 10)) + "|")
        for key, row in s["clients"].items():
            ratio = s["ratios"].get(key, {})
            lines.append(
                f"| {row['label'][:38]:38} | {row['payouts_per_s']:>9.0f} "
                f"| {row['cpu_us_per_payout']:>13.0f} | {_fmt(row['efficiency'], '>10.2f'):>10} "
                f"| {row['peak_rss_mb']:>11.1f} "
                f"| {_fmt(ratio.get('throughput_vs_aiohttp'), '.2f'):>10} "
                f"| {_fmt(ratio.get('throughput_vs_httpx'), '.2f'):>8} |"
                + ("" if row["all_paid"] else "  (NOT ALL PAID)")
            )
        lines.append("")
    memory = results.get("memory")
    if memory:
        lines.append(f"## memory: {memory['client']}, latency 0, concurrency 64, from a generator")
        for n, mb in memory["peak_rss_mb"].items():
            lines.append(f"   {int(n):>9,} requests: peak RSS {mb} MB ({memory['rate'][n]:.0f}/s)")
        lines.append("")
    imports = results.get("import")
    if imports:
        lines.append(
            f"## import: ecartpay_async {imports['ecartpay_async_ms']} ms, httpx "
            f"{imports['httpx_ms']} ms (ratio {imports['ratio']}, median of {imports['rounds']}); "
            f"heavy modules loaded: {imports['heavy_modules_loaded'] or 'none'}"
        )
        lines.append("")
    lines.append("## targets")
    for t in results["targets"]:
        verdict = {True: "met", False: "MISSED", None: "not measured"}[t["met"]]
        detail = f" ({t['detail']})" if t["detail"] else ""
        lines.append(
            f"   {t['target']}: {_fmt(t['measured'])} (limit {t['limit']}) {verdict}{detail}"
        )
    return "\n".join(lines)
