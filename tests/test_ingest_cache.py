"""Reruns read only what changed, in parallel where it pays, and give exactly the
result of a full rebuild."""

from __future__ import annotations

import contextlib
import json
import pickle
import shutil
import sqlite3
import subprocess
import sys
import types
from pathlib import Path

import duckdb
import pytest

from pipeline import run as pipeline_run
from pipeline.reading import ingest
from pipeline.run import cache_file_for, process, run
from tests.builders import County, reference_form, unit_form
from tests.conftest import ROOT, run_pipeline
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


@pytest.fixture
def checked(monkeypatch):
    """The files check_workbook runs on (a file whose check outcome is cached is not among them)."""
    calls: list[str] = []
    real = pipeline_run.check_workbook

    def counting(found, *args):
        calls.append(found.path.name)
        return real(found, *args)

    monkeypatch.setattr(pipeline_run, "check_workbook", counting)
    return calls


def test_rerun_checks_only_changed_files_and_matches_a_full_build(county: County, tmp_path: Path, checked):
    small_county(county)
    # a value quoted back in a finding is cut short; from the cache it must come back the same
    county.workbook("long.xlsx", unit_form("遂溪县农业农村局", data={17: "约" * 500}))
    db = tmp_path / "performance.duckdb"
    run(county.raw, db, progress=False)
    assert sorted(checked) == ["bad.xlsx", "cz.xlsx", "jy.xlsx", "long.xlsx", "ref.xlsx"]

    checked.clear()
    county.workbook("cz.xlsx", unit_form("遂溪县财政局", grade="良"))
    run(county.raw, db, progress=False)
    assert checked == ["cz.xlsx"]
    full = tmp_path / "full.duckdb"
    run(county.raw, full, progress=False, use_cache=False)
    assert snapshot(db) == snapshot(full)
    assert any("已截断" in (found or "") for (found,) in duckdb.connect(str(db), read_only=True).execute(
        "SELECT found FROM findings WHERE file = '2024/long.xlsx'").fetchall())

    checked.clear()  # another roster: every file is checked again
    county.roster.append(("440823098", "遂溪县另一新设单位", "遂溪县财政局", "事业单位"))
    county.write_roster()
    run(county.raw, db, progress=False)
    assert sorted(checked) == ["bad.xlsx", "cz.xlsx", "jy.xlsx", "long.xlsx", "ref.xlsx"]


def test_tampered_check_outcome_is_only_a_miss(county: County, tmp_path: Path, checked):
    small_county(county)
    db = tmp_path / "performance.duckdb"
    run(county.raw, db, progress=False)
    marker = tmp_path / "marker"
    MARKER_PATH[:] = [marker]
    with contextlib.closing(sqlite3.connect(cache_file_for(db))) as con, con:
        keys = [key for (key,) in con.execute("SELECT key FROM checked ORDER BY key")]
        assert len(keys) == 4
        con.executemany("UPDATE checked SET outcome = ? WHERE key = ?",
                        [(pickle.dumps(Exploit()), keys[0]), ('["loaded", null]', keys[1]),
                         ("[" * 100_000, keys[2])])
    checked.clear()
    run(county.raw, db, progress=False, force=True)
    assert not marker.exists()
    assert len(checked) == 3
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


def test_parallel_reading_gives_the_serial_result(county: County, tmp_path: Path, monkeypatch, counted):
    small_county(county)
    for i in range(6):
        county.workbook(f"u{i}.xlsx", unit_form(f"遂溪县测试单位{i}", scores={"B2": 4 if i else 99}))
    serial = process(county.raw).tables
    assert len(counted) == 10
    assert "scores.above_max" in serial["findings"]["rule"].to_list()  # a finding of the validation
    counted.clear()
    monkeypatch.setattr(ingest, "PARALLEL_THRESHOLD", 1)
    monkeypatch.setattr(ingest, "CHUNK", 2)
    monkeypatch.setenv("PERF_READ_WORKERS", "2")
    cache = tmp_path / "cache.sqlite"
    parallel = process(county.raw, cache_file=cache).tables
    assert counted == []  # every file was read by the worker processes
    from_cache = process(county.raw, cache_file=cache).tables
    assert counted == []
    for name, frame in serial.items():
        if name != "build_info":
            assert frame.equals(parallel[name]), name
            assert frame.equals(from_cache[name]), name


def test_workers_do_not_run_the_main_script(county: County, tmp_path: Path, monkeypatch, counted):
    """Streamlit's AppTest, a notebook or pytest may be `__main__`: the workers must not
    import it (a script that refuses to be imported stands in for them here)."""
    script = tmp_path / "app_script.py"
    script.write_text("raise SystemExit('the main script was imported by a worker')\n", encoding="utf-8")
    stand_in = types.ModuleType("__main__")
    stand_in.__file__ = str(script)
    monkeypatch.setitem(sys.modules, "__main__", stand_in)
    for i in range(4):
        county.workbook(f"u{i}.xlsx", unit_form(f"遂溪县测试单位{i}"))
    monkeypatch.setattr(ingest, "PARALLEL_THRESHOLD", 1)
    monkeypatch.setattr(ingest, "CHUNK", 1)
    monkeypatch.setenv("PERF_READ_WORKERS", "2")
    result = process(county.raw)
    assert counted == []
    assert result.count_states()["loaded"] == 4


@pytest.mark.slow  # the whole pipeline twice, in subprocesses
def test_settings_change_invalidates_the_cache(county: County, tmp_path: Path):
    """A copy of the code whose row limit is below the form's length reads the same files
    with the same cache: it must refuse them, not reuse what the real code parsed."""
    small_county(county)
    db = tmp_path / "performance.duckdb"
    assert run_pipeline(county.raw, db).returncode == 0
    assert cached_rows(cache_file_for(db))

    copy = tmp_path / "code"
    for part in ("pipeline", "schemas"):
        shutil.copytree(ROOT / part, copy / part, ignore=shutil.ignore_patterns("__pycache__"))
    settings = copy / "pipeline" / "settings.py"
    text = settings.read_text(encoding="utf-8")
    assert "MAX_SHEET_ROWS = 5_000" in text
    settings.write_text(text.replace("MAX_SHEET_ROWS = 5_000", "MAX_SHEET_ROWS = 10"), encoding="utf-8")
    changed = subprocess.run([sys.executable, "-m", "pipeline", "run", "--raw", str(county.raw), "--db", str(db),
                              "--no-progress"], cwd=copy, capture_output=True, text=True, timeout=600)
    assert changed.returncode == 0, changed.stderr
    with duckdb.connect(str(db), read_only=True) as con:
        rules = {r for (r,) in con.execute("SELECT DISTINCT rule FROM findings WHERE severity = 'fatal'").fetchall()}
        loaded = con.execute("SELECT count(*) FROM ingest_files WHERE state = 'loaded'").fetchone()[0]
    assert loaded == 0
    assert "file.too_large" in rules


def cached_rows(path: Path) -> list[tuple]:
    with contextlib.closing(sqlite3.connect(path)) as con:
        return con.execute("SELECT sha256, code, result FROM parsed").fetchall()


class Exploit:
    """What a pickle cache would run on load."""

    def __reduce__(self):
        return (Path.write_text, (MARKER_PATH[0], "code ran"))


MARKER_PATH: list[Path] = []


def test_tampered_cache_runs_no_code_and_is_only_a_miss(county: County, tmp_path: Path, counted):
    small_county(county)
    db = tmp_path / "performance.duckdb"
    run(county.raw, db, progress=False)
    rows = cached_rows(cache_file_for(db))
    assert len(rows) == 4 and all(json.loads(text) for _, _, text in rows)
    marker = tmp_path / "marker"
    MARKER_PATH[:] = [marker]
    (sha_a, code, _), (sha_b, _, _), (sha_c, _, _), (sha_d, _, _) = rows
    entries = {
        sha_a: pickle.dumps(Exploit()),                                        # a pickle payload
        sha_b: json.dumps({"~dataclass": ["subprocess", "Popen",                # a type that is not a result
                                          {"args": ["touch", str(marker)]}]}),
        sha_c: json.dumps({"~dataclass": ["pipeline.reading.parse", "ParsedWorkbook",  # a wrong field
                                          {"info": {}, "not_a_field": 1}]}),
        sha_d: "{" * 100_000,                                                  # nesting past the recursion limit
    }
    with contextlib.closing(sqlite3.connect(cache_file_for(db))) as con, con:
        con.executemany("UPDATE parsed SET result = ? WHERE sha256 = ?",
                        [(value, sha) for sha, value in entries.items()])
    counted.clear()
    run(county.raw, db, progress=False, force=True)
    assert not marker.exists()
    assert sorted(counted) == ["bad.xlsx", "cz.xlsx", "jy.xlsx", "ref.xlsx"]  # every tampered entry read again
    full = tmp_path / "full.duckdb"
    run(county.raw, full, progress=False, use_cache=False)
    assert snapshot(db) == snapshot(full)
    assert {sha: text for sha, _, text in cached_rows(cache_file_for(db))} == {sha: text for sha, _, text in rows}


def test_one_changed_file_rewrites_one_cache_entry(county: County, tmp_path: Path):
    small_county(county)
    db = tmp_path / "performance.duckdb"
    run(county.raw, db, progress=False)
    before = {sha: text for sha, _, text in cached_rows(cache_file_for(db))}
    county.workbook("cz.xlsx", unit_form("遂溪县财政局", grade="良"))
    run(county.raw, db, progress=False)
    after = {sha: text for sha, _, text in cached_rows(cache_file_for(db))}
    assert len(after) == 4
    assert len(set(after) - set(before)) == 1 and len(set(before) - set(after)) == 1
    assert all(before[sha] == after[sha] for sha in set(before) & set(after))


@pytest.mark.slow  # a fresh interpreter imports the reading and checking code
def test_the_fingerprint_covers_every_module_a_parse_imports():
    """Every pipeline or schemas module a worker and the validation load is hashed."""
    probe = ("import sys, json; from pipeline.reading import ingest; import pipeline.checking.validate; "
             "print(json.dumps(sorted(m.__file__ for m in list(sys.modules.values()) "
             "if getattr(m, '__file__', None) and m.__name__.split('.')[0] in ('pipeline', 'schemas'))))")
    loaded = json.loads(subprocess.run([sys.executable, "-c", probe], cwd=ROOT, capture_output=True, text=True,
                                       check=True, timeout=300).stdout)
    hashed = {str(p) for p in ingest.code_files()}
    assert loaded and set(loaded) <= hashed, set(loaded) - hashed


def test_roster_change_rebuilds(county: County, tmp_path: Path):
    small_county(county)
    db = tmp_path / "performance.duckdb"
    run(county.raw, db, progress=False)
    county.roster.append(("440823099", "遂溪县新设单位", "遂溪县财政局", "事业单位"))
    county.write_roster()
    assert run(county.raw, db, progress=False) is not None
    assert ("遂溪县新设单位",) in snapshot(db)["units"] or any(
        "遂溪县新设单位" in row for row in snapshot(db)["units"])


def test_entries_written_in_batches_give_the_one_batch_result(county: County, tmp_path: Path, monkeypatch):
    """New cache entries are written every FLUSH_ENTRIES (so their JSON is not all held at
    once); a batch boundary changes neither the cache's content nor the warehouse."""
    small_county(county)
    whole, batched = tmp_path / "whole" / "performance.duckdb", tmp_path / "batched" / "performance.duckdb"
    run(county.raw, whole, progress=False)
    monkeypatch.setattr(ingest, "FLUSH_ENTRIES", 1)
    run(county.raw, batched, progress=False)
    assert sorted(cached_rows(cache_file_for(batched))) == sorted(cached_rows(cache_file_for(whole)))
    with contextlib.closing(sqlite3.connect(cache_file_for(batched))) as con:
        assert con.execute("SELECT count(*) FROM checked").fetchone()[0] == 4
    county.workbook("cz.xlsx", unit_form("遂溪县财政局", grade="良"))
    run(county.raw, batched, progress=False)
    run(county.raw, whole, progress=False, use_cache=False, force=True)
    assert snapshot(batched) == snapshot(whole)
    assert len(cached_rows(cache_file_for(batched))) == 4
