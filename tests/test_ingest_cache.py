"""Reruns read only what changed, in parallel where it pays, and give exactly the
result of a full rebuild."""

from __future__ import annotations

import contextlib
import gc
import json
import os
import pickle
import shutil
import signal
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
import types
from pathlib import Path

import duckdb
import pytest

from pipeline import run as pipeline_run
from pipeline.reading import ingest
from pipeline.run import cache_file_for, process, run
from pipeline.settings import read_workers
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


def test_reading_a_file_leaves_the_garbage_collector_as_it_was(county: County):
    """parse_file holds the cyclic collector off while it reads, and hands it back as it found it."""
    good = str(county.workbook("ref.xlsx", reference_form()))
    broken = county.raw / "2024" / "broken.xlsx"
    broken.write_bytes(b"PK not a zip")
    was = gc.isenabled()
    try:
        for enabled in (True, False):
            (gc.enable if enabled else gc.disable)()
            for path in (good, str(broken)):
                ingest.parse_file(path)
                assert gc.isenabled() is enabled
    finally:
        (gc.enable if was else gc.disable)()


@pytest.fixture
def shared_reading(monkeypatch):
    """Reading shared with worker processes even for a handful of files, two files a batch."""
    monkeypatch.setattr(ingest, "PARALLEL_THRESHOLD", 1)
    monkeypatch.setattr(ingest, "_BATCH_MIN", 2)
    monkeypatch.setenv("PERF_READ_WORKERS", "2")


def test_parallel_reading_gives_the_serial_result(county: County, tmp_path: Path, monkeypatch, counted):
    small_county(county)
    for i in range(6):
        county.workbook(f"u{i}.xlsx", unit_form(f"遂溪县测试单位{i}", scores={"B2": 4 if i else 99}))
    monkeypatch.setenv("PERF_READ_WORKERS", "1")
    serial = process(county.raw).tables
    assert len(counted) == 10
    assert "scores.above_max" in serial["findings"]["rule"].to_list()  # a finding of the validation
    counted.clear()
    monkeypatch.setattr(ingest, "PARALLEL_THRESHOLD", 1)
    monkeypatch.setattr(ingest, "_BATCH_MIN", 2)
    monkeypatch.setenv("PERF_READ_WORKERS", "2")
    cache = tmp_path / "cache.sqlite"
    parallel = process(county.raw, cache_file=cache).tables
    assert 0 < len(counted) < 10  # this process read some files, the worker the others
    counted.clear()
    from_cache = process(county.raw, cache_file=cache).tables
    assert counted == []
    for name, frame in serial.items():
        if name != "build_info":
            assert frame.equals(parallel[name]), name
            assert frame.equals(from_cache[name]), name


def test_parallel_and_serial_runs_publish_the_same_warehouse(county: County, tmp_path: Path, monkeypatch):
    small_county(county)
    form = unit_form("遂溪县测试单位", scores={"B2": 99}, data={17: "约" * 500})
    county.workbook("twice-a.xlsx", form)
    county.workbook("twice-b.xlsx", form)  # byte-identical: read once, a finding each
    county.workbook("old.xls", unit_form("遂溪县农业农村局"), xls=True)
    county.file("empty.xlsx", b"")
    county.workbook("gbk.xlsx", unit_form("遂溪县水务局"))
    folder = os.fsencode(county.raw / "2024")  # a name in GBK bytes, as a zip from Chinese Windows leaves it
    os.rename(os.path.join(folder, b"gbk.xlsx"), os.path.join(folder, "遂溪县水务局.xlsx".encode("gbk")))
    for i in range(12):
        year = 2023 + i % 2
        county.workbook(f"u{i:02}.xlsx", unit_form(f"遂溪县测试单位{i}", year=year, grade="良" if i % 3 else "优",
                                                   scores={"B1": 5 + i % 4}), year=year)
    monkeypatch.setenv("PERF_READ_WORKERS", "1")
    serial = tmp_path / "serial" / "performance.duckdb"
    run(county.raw, serial, progress=False)

    monkeypatch.setattr(ingest, "PARALLEL_THRESHOLD", 1)
    monkeypatch.setattr(ingest, "_BATCH_MIN", 2)
    monkeypatch.setenv("PERF_READ_WORKERS", "3")  # this process and two workers
    texts: list[str | None] = []
    paths = sorted(str(p) for p in county.raw.rglob("*.xls*"))
    ingest.parse_all(paths, texts=texts)
    assert sum(t is not None for t in texts) >= 4  # the workers' first two batches at least
    parallel = tmp_path / "parallel" / "performance.duckdb"
    run(county.raw, parallel, progress=False)
    tables = snapshot(serial)
    assert tables == snapshot(parallel)
    rules = {(row[0], row[5]) for row in tables["findings"]}
    assert {("2024/bad.xlsx", "file.unreadable"), ("2024/twice-b.xlsx", "scores.above_max"),
            ("2024/遂溪县水务局.xlsx", "targets.sheet_missing")} <= rules


def test_shared_reading_gives_every_result_in_order(county: County, tmp_path: Path, monkeypatch, shared_reading):
    """The worker's first batch done before this process reads a file: the worker is then
    handed the last batch, and every result comes back where the serial reading puts it."""
    county.workbook("a.xlsx", unit_form("遂溪县测试单位", scores={"B2": 99}))
    county.workbook("b.xlsx", unit_form("遂溪县另一单位", grade="良"))
    county.file("bad.xlsx", b"not a workbook")
    paths = [str(county.raw / "2024" / name) for name in ("a.xlsx", "bad.xlsx", "b.xlsx", "a.xlsx", "b.xlsx")]
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(scratch))

    def first_batch_written() -> None:
        for _ in range(1200):
            if list(scratch.glob("*/0.txt")):
                return
            time.sleep(0.05)
        raise AssertionError("the worker wrote nothing")

    texts: list[str | None] = []
    shared = ingest.parse_all(paths, texts=texts, meanwhile=first_batch_written)
    assert [t is not None for t in texts] == [True, True, False, True, True]  # batches 0–1 and 3–4
    assert [ingest.encode(r) for r in shared] == [ingest.encode(ingest.parse_file(p)) for p in paths]
    assert [texts[i] for i in (0, 1, 3, 4)] == [ingest.encode(shared[i]) for i in (0, 1, 3, 4)]
    assert list(scratch.iterdir()) == []


def test_read_workers_setting(monkeypatch):
    for setting, processes in (("3", 3), ("1", 1), ("0", 1), ("many", 1)):
        monkeypatch.setenv("PERF_READ_WORKERS", setting)
        assert read_workers() == processes, setting
    monkeypatch.setenv("PERF_READ_WORKERS", "auto")  # one a core, or one alone on a busy machine
    assert read_workers() in {1, len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()}


def worker_processes() -> list[int]:
    """Process ids of this process's reading workers."""
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        with contextlib.suppress(OSError):
            parent = int(stat.read_text().rsplit(")", 1)[1].split()[1])
            if parent == os.getpid() and b"pipeline.reading.ingest" in (stat.parent / "cmdline").read_bytes():
                found.append(int(stat.parent.name))
    return found


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="finds the worker under /proc")
def test_a_killed_worker_is_reported_not_waited_for(county: County, tmp_path: Path, monkeypatch, shared_reading):
    """A worker killed from outside (as the kernel does when memory runs out) while it reads:
    the run stops with the files it was reading named, no worker or scratch folder left."""
    blocked = county.raw / "2024" / "0-blocked.xlsx"
    blocked.parent.mkdir(parents=True)
    os.mkfifo(blocked)  # opening it waits for a writer that never comes: the worker is caught reading it
    county.workbook("u.xlsx", unit_form("遂溪县测试单位"))
    paths = [str(blocked)] + [str(county.raw / "2024" / "u.xlsx")] * 9  # the first batch is the worker's
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(scratch))
    outcome: list[BaseException] = []

    def read() -> None:
        try:
            ingest.parse_all(paths)
        except BaseException as exc:
            outcome.append(exc)

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    for _ in range(600):
        if workers := worker_processes():
            break
        time.sleep(0.1)
    assert len(workers) == 1
    os.kill(workers[0], signal.SIGKILL)
    reader.join(120)
    assert not reader.is_alive(), "the main process still waits for a killed worker"
    [error] = outcome
    assert isinstance(error, ingest.ReadingFailed)
    assert "异常退出（退出码 -9）" in str(error) and str(blocked) in str(error)
    assert worker_processes() == []
    assert list(scratch.iterdir()) == []


def test_a_dead_worker_stops_the_run_with_a_clear_message(county: County, tmp_path: Path, monkeypatch,
                                                          shared_reading):
    small_county(county)
    dies = [sys.executable, "-c", "import sys; sys.stdin.readline(); sys.exit(3)"]  # at its first batch
    monkeypatch.setattr(ingest, "_worker_command", lambda folder: (dies, dict(os.environ)))
    db = tmp_path / "performance.duckdb"
    with pytest.raises(pipeline_run.RunError, match=r"工作进程异常退出（退出码 3）"):
        run(county.raw, db, progress=False)
    assert not db.exists()


def test_a_worker_gone_before_its_first_batch_is_reported(county: County, tmp_path: Path, monkeypatch,
                                                          shared_reading):
    """Handing a batch to a worker that has already ended (killed as it started) fails to
    write: the run still stops with the worker's exit and its files named."""
    small_county(county)
    ends = [sys.executable, "-c", "import sys; sys.exit(3)"]
    monkeypatch.setattr(ingest, "_worker_command", lambda folder: (ends, dict(os.environ)))
    popen = subprocess.Popen

    def started_and_ended(*args, **kwargs):
        proc = popen(*args, **kwargs)
        proc.wait()
        return proc

    monkeypatch.setattr(subprocess, "Popen", started_and_ended)
    with pytest.raises(pipeline_run.RunError, match=r"工作进程异常退出（退出码 3）.*没有读完"):
        run(county.raw, tmp_path / "performance.duckdb", progress=False)


def test_workers_do_not_run_the_main_script(county: County, tmp_path: Path, monkeypatch, counted, shared_reading):
    """Streamlit's AppTest, a notebook or pytest may be `__main__`: the workers must not
    import it (a script that refuses to be imported stands in for them here)."""
    script = tmp_path / "app_script.py"
    script.write_text("raise SystemExit('the main script was imported by a worker')\n", encoding="utf-8")
    stand_in = types.ModuleType("__main__")
    stand_in.__file__ = str(script)
    monkeypatch.setitem(sys.modules, "__main__", stand_in)
    for i in range(4):
        county.workbook(f"u{i}.xlsx", unit_form(f"遂溪县测试单位{i}"))
    result = process(county.raw)
    assert len(counted) < 4  # a worker read some
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
