"""The README's chart: payouts per second against concurrency, one line per client.

Drawn from the 50 ms scenarios of a run (each concurrency measured) with the ideal,
concurrency / latency, for reference. matplotlib comes with the ``bench`` extra; without
it the chart is skipped and the tables say everything.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

__all__ = ["draw"]

LATENCY_MS = 50


def draw(results: dict[str, Any], path: Path) -> bool:
    """Write the chart to ``path``; False when matplotlib or the data is missing."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
        from matplotlib.ticker import NullLocator
    except ImportError:
        return False
    scenarios = sorted(
        (s for s in results["scenarios"]
         if s["latency_ms"] == LATENCY_MS and "aiohttp" in s["clients"]),
        key=lambda s: s["concurrency"],
    )
    if len(scenarios) < 2:
        return False
    figure, axes = plt.subplots(figsize=(8, 5), dpi=100)
    levels = [s["concurrency"] for s in scenarios]
    axes.plot(levels, [c * 1000 / LATENCY_MS for c in levels], "k:", label="ideal (c / latency)")
    # More lines than one color cycle has: each its own color, peers dashed.
    colors = plt.get_cmap("tab20").colors
    for index, key in enumerate(scenarios[-1]["clients"]):
        points = [(s["concurrency"], s["clients"][key]["payouts_per_s"])
                  for s in scenarios if key in s["clients"]]
        label = scenarios[-1]["clients"][key]["label"]
        axes.plot(*zip(*points, strict=True), marker="o", label=label,
                  color=colors[(2 * index) % 20 + (2 * index) // 20 % 2],
                  linestyle="--" if key.startswith("peer-") else "-")
    machine = results["machine"]
    axes.set(
        xscale="log", yscale="log", xlabel="payouts in flight (concurrency)",
        ylabel="payouts per second",
        title=f"{LATENCY_MS} ms server latency, loopback; {machine['cpu']}, "
              f"{machine['cores']} cores, Python {machine['python']}",
    )
    axes.set_xticks(levels, [str(c) for c in levels])
    axes.xaxis.set_minor_locator(NullLocator())
    axes.title.set_fontsize(9)
    axes.grid(True, which="both", alpha=0.3)
    axes.legend(fontsize=8)
    figure.tight_layout()
    figure.savefig(path)
    plt.close(figure)
    return True
