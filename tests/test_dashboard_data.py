"""The dashboard's data access: read-only, short-lived, cached per build, never in the way.

The warehouses here are written by executing the published contract
(pipeline/publishing/warehouse.sql) into a DuckDB file and inserting rows, so the reader is
exercised against the real schema without depending on the pipeline's writer.
"""

from __future__ import annotations

import os
import random
import subprocess
import sys
from datetime import date, datetime
from pathlib import Path

import duckdb
import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from dashboard import data
from pipeline import settings
from pipeline.scoring import metrics
from pipeline.scoring.framework import load_framework, review_score

REFERENCE_UNIT = "遂溪县人民政府办公室"
YEARS = (2022, 2023, 2024)
DEPARTMENTS = ("遂溪县人民政府办公室", "遂溪县教育局", "遂溪县卫生健康局", "遂溪县农业农村局", "遂溪县自然资源局")
UNIT_TYPES = ("行政单位", "参公事业单位", "事业单位", "乡镇")


# The sample county's framework, read from its file.
FRAMEWORK = load_framework(2024)
GRADES = dict(FRAMEWORK.grades)


def _roster() -> list[dict]:
    units = [dict(unit_code="001001", unit_name=REFERENCE_UNIT, department=REFERENCE_UNIT,
                  unit_type="行政单位", region="遂城镇")]
    names = ["教育局", "第一中学", "第二中学", "实验小学", "卫生健康局", "人民医院", "疾病预防控制中心",
             "农业农村局", "农业技术推广中心", "自然资源局", "不动产登记中心", "城月镇人民政府",
             "黄略镇人民政府", "洋青镇人民政府", "界炮镇人民政府", "档案馆", "机关事务管理局",
             "融媒体中心", "水利工程管理所"]
    for i, name in enumerate(names, start=2):
        dept = DEPARTMENTS[i % len(DEPARTMENTS)]
        unit_type = "乡镇" if name.endswith("镇人民政府") else UNIT_TYPES[i % 3]
        units.append(dict(unit_code=f"{i:03d}{i:03d}", unit_name=f"遂溪县{name}", department=dept,
                          unit_type=unit_type, region=None))
    return units


def _reference_lines() -> dict[int, float]:
    return {1: 10850997.08, 2: 9850997.08, 3: 1000000.00, 4: 8397909.75, 5: 8397200.18, 6: 0.0,
            7: 709.57, 8: 6038.13, 9: 10850997.08, 10: 8171282.08, 11: 2679715.00, 12: 8397200.18,
            13: 8374036.75, 14: 7034584.75, 15: 1339452.00, 16: 29911.13, 17: 259000.00,
            18: 171086.57, 19: 340000.00, 20: 256929.66, 21: None, 22: None, 23: None,
            24: 1, 25: 0}


def _random_lines(rng: random.Random) -> dict[int, float]:
    budget = round(rng.uniform(1_000_000, 60_000_000), 2)
    spent = round(budget * rng.uniform(0.70, 1.0), 2)
    basic = round(spent * rng.uniform(0.5, 0.9), 2)
    carried_in = round(rng.uniform(0, 200_000), 2)
    sangong_budget = round(rng.uniform(50_000, 600_000), 2)
    sangong_spent = round(sangong_budget * rng.uniform(0.5, 1.15), 2)
    with_breakdown = rng.random() < 0.6
    vehicles = round(sangong_spent * 0.6, 2) if with_breakdown else None
    reception = round(sangong_spent * 0.3, 2) if with_breakdown else None
    abroad = round(sangong_spent - vehicles - reception, 2) if with_breakdown else None
    public_budget = round(budget * 0.03, 2)
    return {1: budget, 2: budget, 3: 0.0, 4: budget, 5: budget, 6: 0.0, 7: 0.0, 8: carried_in,
            9: budget, 10: round(budget * 0.7, 2), 11: round(budget * 0.3, 2), 12: budget,
            13: spent, 14: basic, 15: round(spent - basic, 2), 16: round(budget + carried_in - spent, 2),
            17: public_budget, 18: round(public_budget * rng.uniform(0.6, 1.05), 2),
            19: sangong_budget, 20: sangong_spent, 21: abroad, 22: vehicles, 23: reception,
            24: rng.randint(0, 3), 25: rng.randint(0, 4)}


def _insert_named(con: duckdb.DuckDBPyConnection, table: str, row: dict) -> None:
    """One row by column name: the builder keeps working when the warehouse gains columns."""
    columns = ", ".join(row)
    marks = ", ".join("?" * len(row))
    con.execute(f"INSERT INTO {table} ({columns}) VALUES ({marks})", list(row.values()))


def _insert_frame(con: duckdb.DuckDBPyConnection, table: str, rows: list[list]) -> None:
    """Bulk insert (row-by-row inserts make the builder slow)."""
    columns = [c for (c,) in con.execute(
        "SELECT column_name FROM information_schema.columns WHERE table_name = ? ORDER BY ordinal_position",
        [table]).fetchall()]
    # rows give the leading columns; the rest (added later to the table) stay NULL
    frame = pd.DataFrame(rows, columns=columns[:len(rows[0])] if rows else columns)  # noqa: F841 — read below
    con.execute(f"INSERT INTO {table} BY NAME SELECT * FROM frame")


def build_synthetic_warehouse(path: Path, *, seed: int = 7, build_id: str = "synthetic-1",
                              years: tuple[int, ...] = YEARS) -> Path:
    """A warehouse with ~20 units over the given years, the reference unit's 2024 figures included."""
    rng = random.Random(seed)
    roster = _roster()
    con = duckdb.connect(str(path))
    try:
        con.execute((settings.PROJECT_ROOT / "pipeline" / "publishing" / "warehouse.sql").read_text(encoding="utf-8"))
        con.execute("INSERT INTO build_info VALUES (?, ?, ?, ?, ?)",
                    [build_id, datetime(2025, 8, 1, 9, 30), "raw", ",".join(map(str, years)), 0])
        con.executemany("INSERT INTO units VALUES (?, ?, ?, ?, ?)",
                        [[u["unit_code"], u["unit_name"], u["department"], u["unit_type"], u["region"]]
                         for u in roster])
        scores_by_year: dict[int, dict[str, dict]] = {}
        line_rows: list[list] = []
        indicator_rows: list[list] = []
        files = 0
        for year in years:
            rows = []
            for index, unit in enumerate(roster):
                name = unit["unit_name"]
                file = f"{year}/{unit['unit_code']}_{year}.xlsx"
                not_submitted = index == len(roster) - 1 or (year == years[-1] and index == len(roster) - 2)
                quarantined = index == 5 and year == years[-1]
                if not_submitted:
                    con.execute("INSERT INTO submission_status VALUES (?, ?, ?, false, false, false, true)",
                                [unit["unit_code"], name, year])
                    continue
                files += 1
                if quarantined:
                    con.execute("INSERT INTO ingest_files VALUES (?, ?, 'workbook', 'quarantined', ?, ?, ?, NULL, ?)",
                                [file, f"{files:064x}", name, year, year, "缺少工作表“评分表”"])
                    con.execute("INSERT INTO findings VALUES (?, ?, ?, 'fatal', '文件', 'sheet.missing', NULL, '评分表', ?)",
                                [file, name, year, "工作簿缺少工作表“评分表”，请按模板补齐后重新报送。"])
                    con.execute("INSERT INTO submission_status VALUES (?, ?, ?, true, false, true, true)",
                                [unit["unit_code"], name, year])
                    continue
                con.execute("INSERT INTO ingest_files VALUES (?, ?, 'workbook', 'loaded', ?, ?, ?, ?, NULL)",
                            [file, f"{files:064x}", name, year, year, date(year + 1, 7, 20)])
                lines = _reference_lines() if (name == REFERENCE_UNIT and year == 2024) else _random_lines(rng)
                amount_unit = "万元" if index % 4 == 1 else "元"
                for number, value in lines.items():
                    line_rows.append([name, year, number, f"第{number}行项目", value,
                                      f"数据表!C{number + 3}", None if value is None else f"{value}"])
                con.execute("INSERT INTO unit_info VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 13, 57, 51, 50, ?)",
                            [name, year, file, unit["unit_code"], unit["department"], unit["unit_type"],
                             date(year + 1, 7, 20), "张三", "0759-7771234", amount_unit])
                self_total = 0.0
                review_total = 0.0
                for row, indicator in enumerate(FRAMEWORK.indicators, start=5):
                    if name == REFERENCE_UNIT and year == 2024:
                        self_score = {"B2": 3.0, "B6": 9.0}.get(indicator.code, indicator.max_score)
                    else:
                        self_score = indicator.max_score if rng.random() < 0.7 else float(
                            max(0, indicator.max_score - rng.randint(1, 3)))
                    review, method = review_score(indicator, lines, self_score), indicator.method
                    if review is None:  # a 绩效目标表 rule without the sheet: judged
                        review, method = min(self_score, indicator.max_score), "judged"
                    self_total += self_score
                    review_total += review
                    indicator_rows.append([name, year, indicator.code, indicator.level1, indicator.level2,
                                 indicator.level3, indicator.max_score, self_score, review,
                                 method, None if self_score == indicator.max_score else "扣分原因见报告",
                                 f"评分表!F{row}", review,
                                 "self" if method == "judged" else "rule", None, None, None, None])
                review_total = metrics.round_score(review_total)
                errors = 1 if index == 7 else 0
                warnings = 1 if self_total > review_total + settings.INFLATION_WARNING_POINTS else 0
                if errors:
                    con.execute("INSERT INTO findings VALUES (?, ?, ?, 'error', '数据表!C16', 'identity.r13', '1', '2', ?)",
                                [file, name, year, "支出决算数不等于基本支出与项目支出之和，请核对后重新报送。"])
                if warnings:
                    con.execute("INSERT INTO findings VALUES (?, ?, ?, 'warning', '评分表 合计', 'score.inflation', ?, ?, ?)",
                                [file, name, year, f"{self_total}", f"{review_total}",
                                 "自评得分高于复核得分，请说明理由。"])
                rows.append(dict(unit=unit, name=name, year=year, file=file, lines=lines,
                                 self_score=self_total, review=review_total, errors=errors,
                                 warnings=warnings))
                con.execute("INSERT INTO submission_status VALUES (?, ?, ?, true, true, ?, true)",
                            [unit["unit_code"], name, year, errors > 0])
            ranks = {r["name"]: 1 + sum(o["review"] > r["review"] for o in rows) for r in rows}
            scores_by_year[year] = {}
            for r in rows:
                lines, unit = r["lines"], r["unit"]
                peers_type = [o for o in rows if o["unit"]["unit_type"] == unit["unit_type"]]
                peers_dept = [o for o in rows if o["unit"]["department"] == unit["department"]]
                record = dict(
                    execution_rate=metrics.execution_rate(lines[13], lines[12]),
                    sangong_control_rate=metrics.sangong_control_rate(lines[20], lines[19]),
                    review_score=r["review"], review_grade=metrics.grade(r["review"], GRADES))
                scores_by_year[year][r["name"]] = record
                _insert_named(con, "unit_scores", dict(
                    unit_code=unit["unit_code"], unit_name=r["name"], department=unit["department"],
                    unit_type=unit["unit_type"], year=year, file=r["file"],
                    budget_issued=lines[12], spent=lines[13], execution_rate=record["execution_rate"],
                    opening_budget=lines[9], basic_budget=lines[10], project_budget=lines[11],
                    opening_execution_rate=metrics.opening_execution_rate(lines[13], lines[9]),
                    basic_execution_rate=metrics.basic_execution_rate(lines[14], lines[10]),
                    project_execution_rate=metrics.project_execution_rate(lines[15], lines[11]),
                    budget_adjustment_rate=metrics.budget_adjustment_rate(lines[12], lines[9]),
                    basic_spent=lines[14], project_spent=lines[15],
                    basic_share=metrics.basic_share(lines[14], lines[13]), carryover=lines[16],
                    carryover_rate=metrics.carryover_rate(lines[16], lines[4], lines[8]),
                    public_budget=lines[17], public_spent=lines[18],
                    public_control_rate=metrics.public_control_rate(lines[18], lines[17]),
                    sangong_budget=lines[19], sangong_spent=lines[20],
                    sangong_control_rate=record["sangong_control_rate"], sangong_abroad=lines[21],
                    sangong_vehicles=lines[22], sangong_reception=lines[23],
                    self_score=r["self_score"], self_grade=metrics.grade(r["self_score"], GRADES),
                    review_score=r["review"], review_grade=record["review_grade"],
                    inflation=metrics.round_score(r["self_score"] - r["review"]), rank=ranks[r["name"]],
                    rank_in_type=1 + sum(o["review"] > r["review"] for o in peers_type),
                    rank_in_department=1 + sum(o["review"] > r["review"] for o in peers_dept),
                    low_execution_two_years=False,
                    errors=r["errors"], warnings=r["warnings"], must_resubmit=r["errors"] > 0))
                previous = scores_by_year.get(year - 1, {}).get(r["name"])
                if previous:
                    def change(key, record=record, previous=previous):
                        if record[key] is None or previous[key] is None:
                            return None
                        return record[key] - previous[key]
                    con.execute("INSERT INTO unit_changes VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                                [r["name"], year, year - 1, record["review_score"], previous["review_score"],
                                 metrics.round_score(record["review_score"] - previous["review_score"]),
                                 record["review_grade"], previous["review_grade"],
                                 change("execution_rate"), change("sangong_control_rate")])
        _insert_frame(con, "data_lines", line_rows)
        _insert_frame(con, "indicator_scores", indicator_rows)
        con.execute("INSERT INTO report_figures VALUES (?, 2024, '2024/001001_自评报告.txt', "
                    "'execution_rate', 1.0, NULL, '财政拨款资金整体支出完成率达到100%。')", [REFERENCE_UNIT])
        con.execute("UPDATE build_info SET files = ?", [files])
    finally:
        con.close()
    return path


# --- the tests ---------------------------------------------------------------------

APP = settings.PROJECT_ROOT / "dashboard" / "app.py"


@pytest.fixture
def warehouse(tmp_path, monkeypatch) -> Path:
    path = tmp_path / "warehouse" / "performance.duckdb"
    path.parent.mkdir()
    build_synthetic_warehouse(path, years=(2023, 2024), build_id="build-a")
    monkeypatch.setenv("PERF_DB", str(path))
    return path


def _publish(path: Path, **build) -> None:
    """Publish a new build the way the pipeline does: write beside it, then os.replace."""
    staging = path.with_name("performance.duckdb.new")
    build_synthetic_warehouse(staging, **build)
    os.replace(staging, path)


def test_reads_the_warehouse_named_by_perf_db(warehouse):
    assert data.warehouse_path() == warehouse
    assert data.build_info()["build_id"] == "build-a"
    assert data.years() == [2023, 2024]
    scores = data.unit_scores(2024)
    assert REFERENCE_UNIT in set(scores["unit_name"])
    reference = scores[scores["unit_name"] == REFERENCE_UNIT].iloc[0]
    assert reference["execution_rate"] == pytest.approx(0.99724, abs=5e-6)  # a fraction, as stored


def test_a_new_build_shows_without_restart(warehouse):
    assert data.build_info()["build_id"] == "build-a"
    assert data.years() == [2023, 2024]
    _publish(warehouse, years=(2022, 2023, 2024), build_id="build-b", seed=11)
    assert data.build_info()["build_id"] == "build-b"
    assert data.years() == [2022, 2023, 2024]


def test_the_pipeline_can_replace_and_write_while_the_app_is_running(warehouse):
    before = data.unit_scores(2024)
    # Another process opens the published file read-write (no lock is left behind by the app) …
    writer = subprocess.run(
        [sys.executable, "-c",
         "import duckdb, sys; con = duckdb.connect(sys.argv[1]); "
         "con.execute(\"UPDATE build_info SET build_id = 'build-a2'\"); con.close()", str(warehouse)],
        capture_output=True, text=True, timeout=60, check=False)
    assert writer.returncode == 0, writer.stderr
    # … and a replaced file is read afresh.
    assert data.build_info()["build_id"] == "build-a2"
    _publish(warehouse, years=(2024,), build_id="build-c", seed=3)
    assert data.build_info()["build_id"] == "build-c"
    assert data.years() == [2024]
    assert len(data.unit_scores(2024)) == len(before)


def test_connections_are_read_only(warehouse):
    with pytest.raises(duckdb.Error):
        data.read_query(warehouse, "DELETE FROM units")
    assert len(data.read_query(warehouse, "SELECT * FROM units")) == 20


def test_values_are_parameters_not_sql(warehouse):
    hostile = "遂溪县'; DROP TABLE units; --"
    assert data.unit_history(hostile).empty
    assert data.data_lines(hostile, 2024).empty
    assert len(data.read_query(warehouse, "SELECT * FROM units")) == 20


def test_missing_warehouse_is_reported_not_raised_as_a_traceback(tmp_path, monkeypatch):
    monkeypatch.setenv("PERF_DB", str(tmp_path / "absent.duckdb"))
    with pytest.raises(data.WarehouseUnavailable) as raised:
        data.build_info()
    assert raised.value.reason == "文件不存在"
    app = AppTest.from_file(str(APP), default_timeout=30).run()
    assert not app.exception
    assert "make pipeline" in " ".join(m.value for m in app.markdown)


@pytest.mark.slow
def test_page_follows_a_new_build_on_rerun(warehouse):
    app = AppTest.from_file(str(APP), default_timeout=30).run()
    assert not app.exception
    year = next(w for w in app.sidebar if getattr(w, "key", None) == "year")
    assert list(year.options) == ["2024", "2023"]
    _publish(warehouse, years=(2022, 2023, 2024), build_id="build-b", seed=11)
    app = AppTest.from_file(str(APP), default_timeout=30).run()
    year = next(w for w in app.sidebar if getattr(w, "key", None) == "year")
    assert list(year.options) == ["2024", "2023", "2022"]
    assert any("build-b" in c.value for c in app.sidebar if type(c).__name__ == "Caption")
