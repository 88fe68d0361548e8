"""A separate process that records decisions, for the concurrency test (spawned workers
must live in an importable module)."""

from __future__ import annotations

from pathlib import Path

from pipeline.ledger.record import record


def record_many(ledger: str, raw: str, officer: str, unit: str, codes: list[str], start) -> int:
    """Wait for the others, then record one score per code as fast as possible."""
    start.wait()
    for n, code in enumerate(codes):
        record(Path(ledger), year=2024, unit=unit, code=code, score=str(n % 2), reason=f"{officer} 第{n}条",
               officer=officer, raw=Path(raw))
    return len(codes)
