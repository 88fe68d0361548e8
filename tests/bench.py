"""Benchmark: `make bench`. Times the pipeline on a generated batch the size of a few
counties and reports files per second and peak memory against the targets below.

Run with BENCH_UNITS=<n> to change the batch (default 600 workbooks: ten counties).
"""

from __future__ import annotations

import os
import resource
import shutil
import sys
import tempfile
import time
from pathlib import Path

from pipeline.form_writer import write_workbook
from pipeline.run import process
from pipeline.warehouse import publish
from tests.builders import ROSTER, County, unit_form

TARGET_FILES_PER_SECOND = 25.0      # a province (≈ 20 000 workbooks) in under 15 minutes
TARGET_PEAK_RSS_MB = 2048


def build_batch(raw: Path, units: int) -> None:
    roster = [(f"B{i:06d}", f"遂溪县基准测试单位{i:05d}", "遂溪县财政局", "事业单位") for i in range(units)]
    County(raw, roster=roster + ROSTER)
    form = unit_form(roster[0][1])
    for i, (_, name, _, _) in enumerate(roster):
        form["info"]["单位名称"] = name
        write_workbook(raw / "2024" / f"{i:05d}.xlsx", **form)


def main() -> int:
    units = int(os.environ.get("BENCH_UNITS", "600"))
    work = Path(tempfile.mkdtemp(prefix="perf-bench-"))
    try:
        raw = work / "raw"
        started = time.perf_counter()
        build_batch(raw, units)
        generated = time.perf_counter() - started

        started = time.perf_counter()
        result = process(raw, progress=False)
        processed = time.perf_counter() - started
        started = time.perf_counter()
        publish(result.tables, work / "performance.duckdb")
        published = time.perf_counter() - started

        peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        rate = units / processed
        print(f"workbooks: {units} (generated in {generated:.1f} s)")
        print(f"process:   {processed:.2f} s  = {rate:.1f} workbooks/s  (target ≥ {TARGET_FILES_PER_SECOND})")
        print(f"publish:   {published:.2f} s  ({(work / 'performance.duckdb').stat().st_size / 1e6:.1f} MB)")
        print(f"peak RSS:  {peak_mb:.0f} MB  (target ≤ {TARGET_PEAK_RSS_MB})")
        ok = rate >= TARGET_FILES_PER_SECOND and peak_mb <= TARGET_PEAK_RSS_MB
        print("result:    " + ("within targets" if ok else "OUTSIDE TARGETS"))
        return 0 if ok else 1
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
