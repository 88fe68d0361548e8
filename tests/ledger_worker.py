"""A separate process that records decisions, for the concurrency test:
`python -m tests.ledger_worker LEDGER RAW OFFICER UNIT START CODE…` waits until the file
START exists (so that every officer begins at once), then records one score per code.

A plain process, not a multiprocessing worker: what `__main__` is in the test run (pytest,
or a Streamlit app test that replaced it) does not matter."""

from __future__ import annotations

import sys
import time
from pathlib import Path

from pipeline.ledger.record import record


def record_many(ledger: str, raw: str, officer: str, unit: str, codes: list[str], start: Path) -> int:
    """Wait for the others, then record one score per code as fast as possible."""
    while not start.exists():
        time.sleep(0.01)
    for n, code in enumerate(codes):
        record(Path(ledger), year=2024, unit=unit, code=code, score=str(n % 2), reason=f"{officer} 第{n}条",
               officer=officer, raw=Path(raw))
    return len(codes)


if __name__ == "__main__":
    ledger, raw, officer, unit, start, *codes = sys.argv[1:]
    print(record_many(ledger, raw, officer, unit, codes, Path(start)))
