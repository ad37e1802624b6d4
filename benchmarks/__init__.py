"""Throughput benchmarks: this SDK side by side with hand-written aiohttp and httpx loops.

Run ``python -m benchmarks`` (``--smoke`` for the quick CI run); see ``benchmarks/README.md``.
"""
