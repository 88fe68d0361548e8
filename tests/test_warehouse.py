"""The warehouse is built aside, checked, and swapped in: never written in place."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import duckdb
import pytest

from pipeline.publishing import warehouse
from pipeline.run import process, run
from tests.builders import REFERENCE_UNIT, County, reference_form, unit_form
from tests.conftest import ROOT, run_pipeline

CONTENT_TABLES = [t for t in warehouse.TABLES if t != "build_info"]


def snapshot(db: Path) -> dict[str, list[tuple]]:
    with duckdb.connect(str(db), read_only=True) as con:
        return {t: con.execute(f"SELECT * FROM {t} ORDER BY ALL").fetchall() for t in CONTENT_TABLES}


def test_published_warehouse_has_the_contract_tables(county: County, tmp_path: Path, query):
    county.workbook("ref.xlsx", reference_form())
    db = tmp_path / "wh" / "performance.duckdb"
    run(county.raw, db, progress=False)
    tables = {r[0] for r in query(db, "SELECT table_name FROM information_schema.tables")}
    assert set(warehouse.TABLES) <= tables
    [(rate, review, grade)] = query(
        db, "SELECT execution_rate, review_score, review_grade FROM unit_scores WHERE unit_name = ?", REFERENCE_UNIT)
    assert round(rate, 4) == 0.9972 and review == 97.97 and grade == "优"
    assert not list(db.parent.glob(".*building*")), "no build file left behind"


def test_same_input_gives_the_same_content(county: County, tmp_path: Path, query):
    county.workbook("ref.xlsx", reference_form())
    county.workbook("cz.xlsx", unit_form("遂溪县财政局", scores={"B1": 5}))
    county.file("bad.xlsx", b"nope")
    first, second = tmp_path / "1.duckdb", tmp_path / "2.duckdb"
    run(county.raw, first, progress=False)
    run(county.raw, second, progress=False)
    assert snapshot(first) == snapshot(second)
    assert query(first, "SELECT build_id FROM build_info") == query(second, "SELECT build_id FROM build_info")


def test_failed_check_leaves_the_previous_warehouse(county: County, tmp_path: Path, monkeypatch, query):
    county.workbook("ref.xlsx", reference_form())
    db = tmp_path / "performance.duckdb"
    run(county.raw, db, progress=False)
    before = snapshot(db)
    county.workbook("cz.xlsx", unit_form("遂溪县财政局"))
    monkeypatch.setattr(warehouse, "check_build", lambda con: ["人为制造的检查失败"])
    with pytest.raises(warehouse.WarehouseCheckError, match="人为制造的检查失败"):
        run(county.raw, db, progress=False)
    assert snapshot(db) == before
    assert not list(tmp_path.glob(".*building*"))


def test_check_catches_a_missing_unit(county: County):
    county.workbook("ref.xlsx", reference_form())
    tables = process(county.raw).tables
    tables["unit_scores"] = tables["unit_scores"].clear()
    con = duckdb.connect()
    con.execute(warehouse.DDL_PATH.read_text(encoding="utf-8"))
    for name in warehouse.TABLES:
        con.register("incoming", tables[name].to_arrow())
        con.execute(f"INSERT INTO {name} BY NAME SELECT * FROM incoming")
    problems = warehouse.check_build(con)
    assert any("unit_scores有0行" in p for p in problems)


def test_reader_keeps_reading_while_a_new_build_is_published(county: County, tmp_path: Path):
    county.workbook("ref.xlsx", reference_form())
    db = tmp_path / "performance.duckdb"
    run(county.raw, db, progress=False)
    reader = duckdb.connect(str(db), read_only=True)
    try:
        county.workbook("cz.xlsx", unit_form("遂溪县财政局"))
        run(county.raw, db, progress=False)  # not blocked by the open reader
        assert reader.execute("SELECT count(*) FROM unit_scores").fetchone()[0] == 1
    finally:
        reader.close()
    with duckdb.connect(str(db), read_only=True) as fresh:
        assert fresh.execute("SELECT count(*) FROM unit_scores").fetchone()[0] == 2


def test_killed_build_leaves_the_previous_warehouse(county: County, tmp_path: Path):
    county.workbook("ref.xlsx", reference_form())
    db = tmp_path / "performance.duckdb"
    run_pipeline(county.raw, db)
    before = snapshot(db)
    for i in range(40):  # enough files that the build takes a while
        county.workbook(f"u{i}.xlsx", unit_form(f"遂溪县测试单位{i:02d}"))
    proc = subprocess.Popen([sys.executable, "-m", "pipeline", "run", "--raw", str(county.raw), "--db", str(db),
                             "--no-progress"], cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    building = warehouse.building_path(db).with_name(f".{db.name}.building-{proc.pid}")
    deadline = time.monotonic() + 120
    while not building.exists() and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.001)
    saw_build_file = building.exists()
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    assert saw_build_file, "the kill should land while the new build is being written"
    assert snapshot(db) == before  # the old warehouse opens, with its old content


def test_cli_summary_and_exit_codes(county: County, tmp_path: Path):
    county.workbook("ref.xlsx", reference_form())
    county.workbook("cz.xlsx", unit_form("遂溪县财政局", grade="差"))
    county.file("bad.xlsx", b"nope")
    done = run_pipeline(county.raw, tmp_path / "ok.duckdb")
    assert "已入库 2" in done.stdout and "错误 " in done.stdout and "已隔离 1" in done.stdout
    assert "需退回修改的单位" in done.stdout and "遂溪县财政局" in done.stdout

    missing = run_pipeline(tmp_path / "nowhere", tmp_path / "x.duckdb", check=False)
    assert missing.returncode == 2 and "找不到报送文件夹" in missing.stderr
    assert len(missing.stderr.strip().splitlines()) == 1

    blocker = tmp_path / "file-not-dir"
    blocker.write_text("x")
    unwritable = run_pipeline(county.raw, blocker / "db.duckdb", check=False)
    assert unwritable.returncode == 2 and "无法写入数据仓库路径" in unwritable.stderr


def test_previous_build_is_kept_and_can_be_published_again(county: County, tmp_path: Path):
    county.workbook("ref.xlsx", reference_form())
    db = tmp_path / "performance.duckdb"
    run(county.raw, db, progress=False)
    first = snapshot(db)
    assert not warehouse.previous_path(db).exists()
    county.workbook("cz.xlsx", unit_form("遂溪县财政局"))
    run(county.raw, db, progress=False)
    second = snapshot(db)
    assert snapshot(warehouse.previous_path(db)) == first != second

    done = subprocess.run([sys.executable, "-m", "pipeline", "rollback", "--db", str(db)],
                          cwd=ROOT, capture_output=True, text=True)
    assert done.returncode == 0 and "已回到上一次构建" in done.stdout
    assert snapshot(db) == first
    assert snapshot(warehouse.previous_path(db)) == second  # and back again, if that was a mistake


def test_rollback_without_a_previous_build_says_so(tmp_path: Path):
    done = subprocess.run([sys.executable, "-m", "pipeline", "rollback", "--db", str(tmp_path / "none.duckdb")],
                          cwd=ROOT, capture_output=True, text=True)
    assert done.returncode == 2 and "没有上一次构建可以回退" in done.stderr


def test_a_killed_runs_file_is_cleared_even_when_its_process_id_is_given_out_again(tmp_path: Path):
    """Process ids are reused (after 32 768 here): a leftover made before the process now
    holding its id started belongs to a run that is gone; a file the running process made is kept."""
    db = tmp_path / "performance.duckdb"
    db.write_bytes(b"")
    alive = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        time.sleep(0.1)  # the process exists before its own file is made, as a run's does
        own = tmp_path / f".{db.name}.building-{alive.pid}"
        own.write_bytes(b"")
        assert warehouse._running(alive.pid, os.stat(own).st_ctime)
        # the same id on a file made an hour before this process started: a dead run's
        assert not warehouse._running(alive.pid, time.time() - 3600)
        assert warehouse.clear_stale(db) == [] and own.exists()
    finally:
        alive.kill()
        alive.wait()
    assert warehouse.clear_stale(db) == [own]
