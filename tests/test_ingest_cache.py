"""Reruns read only what changed, in parallel where it pays, and give exactly the
result of a full rebuild."""

from __future__ import annotations

from pathlib import Path

import pytest

from pipeline.reading import ingest
from pipeline.run import cache_file_for, process, run
from tests.builders import County, reference_form, unit_form
from tests.test_warehouse import snapshot


@pytest.fixture
def counted(monkeypatch):
    calls: list[str] = []
    real = ingest.parse_file

    def counting(path: str):
        calls.append(Path(path).name)
        return real(path)

    monkeypatch.setattr(ingest, "parse_file", counting)
    return calls


def small_county(county: County) -> None:
    county.workbook("ref.xlsx", reference_form())
    county.workbook("cz.xlsx", unit_form("遂溪县财政局", scores={"B1": 5}))
    county.workbook("jy.xlsx", unit_form("遂溪县教育局"), year=2023)
    county.file("bad.xlsx", b"not a workbook")


def test_rerun_reads_only_changed_files_and_matches_a_full_build(county: County, tmp_path: Path, counted):
    small_county(county)
    db = tmp_path / "performance.duckdb"
    run(county.raw, db, progress=False)
    assert sorted(counted) == ["bad.xlsx", "cz.xlsx", "jy.xlsx", "ref.xlsx"]
    assert cache_file_for(db).exists()

    counted.clear()
    published = db.stat()
    assert run(county.raw, db, progress=False) is None  # nothing changed: nothing read, nothing built
    assert counted == []
    assert (db.stat().st_ino, db.stat().st_mtime_ns) == (published.st_ino, published.st_mtime_ns)

    counted.clear()
    assert run(county.raw, db, progress=False, force=True) is not None
    assert counted == []  # rebuilt from the cache

    county.workbook("cz.xlsx", unit_form("遂溪县财政局", grade="良"))
    counted.clear()
    run(county.raw, db, progress=False)
    assert counted == ["cz.xlsx"]

    full = tmp_path / "full.duckdb"
    run(county.raw, full, progress=False, use_cache=False)
    assert snapshot(db) == snapshot(full)


def test_cache_from_other_code_is_ignored(county: County, tmp_path: Path, counted, monkeypatch):
    small_county(county)
    db = tmp_path / "performance.duckdb"
    run(county.raw, db, progress=False)
    monkeypatch.setattr(ingest, "code_fingerprint", lambda: "another version of the parser")
    counted.clear()
    run(county.raw, db, progress=False, force=True)
    assert len(counted) == 4


def test_damaged_cache_is_only_a_slower_run(county: County, tmp_path: Path):
    small_county(county)
    db = tmp_path / "performance.duckdb"
    cache_file_for(db).parent.mkdir(parents=True, exist_ok=True)
    cache_file_for(db).write_bytes(b"\x80\x05garbage")
    run(county.raw, db, progress=False)
    assert snapshot(db)["unit_scores"]


def test_identical_files_get_their_own_findings(county: County):
    form = reference_form(grade="良")
    county.workbook("a.xlsx", form)
    county.workbook("b.xlsx", form)  # byte-identical copy
    result = process(county.raw)
    per_file = {s.found.relative: [f.rule for f in s.findings if f.rule == "scores.grade_mismatch"]
                for s in result.submissions}
    assert per_file["2024/a.xlsx"] == ["scores.grade_mismatch"]
    assert per_file["2024/b.xlsx"] == ["scores.grade_mismatch"]


def test_parallel_reading_gives_the_serial_result(county: County, monkeypatch):
    small_county(county)
    for i in range(6):
        county.workbook(f"u{i}.xlsx", unit_form(f"遂溪县测试单位{i}", scores={"B2": 4}))
    serial = process(county.raw).tables
    monkeypatch.setattr(ingest, "PARALLEL_THRESHOLD", 1)
    parallel = process(county.raw).tables
    for name, frame in serial.items():
        if name != "build_info":
            assert frame.equals(parallel[name]), name


def test_roster_change_rebuilds(county: County, tmp_path: Path):
    small_county(county)
    db = tmp_path / "performance.duckdb"
    run(county.raw, db, progress=False)
    county.roster.append(("440823099", "遂溪县新设单位", "遂溪县财政局", "事业单位"))
    county.write_roster()
    assert run(county.raw, db, progress=False) is not None
    assert ("遂溪县新设单位",) in snapshot(db)["units"] or any(
        "遂溪县新设单位" in row for row in snapshot(db)["units"])
