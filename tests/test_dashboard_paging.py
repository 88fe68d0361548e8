"""Long tables a page at a time: past presentation.settings.TABLE_ROWS_IN_FULL rows the browser
gets one page, and search, sort and the page number work on every row on the server.

The pure functions on small frames; the pages under AppTest on the sample warehouse with
the threshold lowered (the sample county has about 60 units; a province's tables page the
same way, see test_dashboard_scale.py for one in Chromium).
"""

from __future__ import annotations

import re
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from pipeline import settings
from presentation import tables

APP = Path(__file__).resolve().parent.parent / "dashboard" / "app.py"
YEAR = 2024
IN_FULL = 20
PAGE = 8
EXECUTION = ("单位名称", "单位类型", "主管部门", "财政下达预算数（万元）")  # the 预算执行 table's first headers


def _fetch(db: Path, sql: str, *params):
    with duckdb.connect(str(db), read_only=True) as con:
        return con.execute(sql, list(params)).fetchall()


# ---------------------------------------------------------------- the pure functions

FRAME = pd.DataFrame({
    "单位名称": ["甲镇政府", "乙局", "丙镇卫生院", "丁局", "Alpha站"],
    "主管部门": ["甲镇", "财政局", "卫健局", "镇管委", "水利局"],
    "复核得分": [81.5, np.nan, 92.0, 81.5, 70.0],
})


def test_find_looks_in_every_text_column_not_in_numbers():
    assert list(tables.find_rows(FRAME, "镇")["单位名称"]) == ["甲镇政府", "丙镇卫生院", "丁局"]
    assert list(tables.find_rows(FRAME, "alpha")["单位名称"]) == ["Alpha站"]  # Latin letters in either case
    assert tables.find_rows(FRAME, "81.5").empty
    assert tables.find_rows(FRAME, "  ") is FRAME


def test_order_keeps_ties_in_table_order_and_blanks_last_both_ways():
    up = tables.order_rows(FRAME, "复核得分")
    assert list(up["单位名称"]) == ["Alpha站", "甲镇政府", "丁局", "丙镇卫生院", "乙局"]
    down = tables.order_rows(FRAME, "复核得分", descending=True)
    assert list(down["单位名称"]) == ["丙镇卫生院", "甲镇政府", "丁局", "Alpha站", "乙局"]
    assert list(tables.order_rows(FRAME, "单位名称")["单位名称"]) == sorted(FRAME["单位名称"])
    assert tables.order_rows(FRAME, None) is FRAME


def test_pages_cover_every_row_once():
    frame = pd.DataFrame({"n": range(23)})
    assert tables.page_count(23, 10) == 3 and tables.page_count(0, 10) == 1 and tables.page_count(20, 10) == 2
    pages = [tables.page_rows(frame, page, 10)["n"].tolist() for page in range(1, 4)]
    assert sum(pages, []) == list(range(23))
    assert tables.page_rows(frame, 9, 10)["n"].tolist() == pages[-1]  # past the end: the last page


# ---------------------------------------------------------------- the pages under AppTest


@pytest.fixture
def app(sample_warehouse: Path, monkeypatch) -> AppTest:
    monkeypatch.setenv("PERF_DB", str(sample_warehouse))
    monkeypatch.setattr(settings, "TABLE_ROWS_IN_FULL", IN_FULL)
    monkeypatch.setattr(settings, "TABLE_PAGE_ROWS", PAGE)
    app = AppTest.from_file(str(APP), default_timeout=60)
    app.query_params["year"] = str(YEAR)
    app.run()
    return app


def _open(app: AppTest, page: str) -> AppTest:
    app.switch_page(page).run()
    assert not app.exception, [e.value for e in app.exception]
    return app


def _table(app: AppTest, *headers: str) -> pd.DataFrame:
    frame = next(d.value for d in app.dataframe if list(d.value.columns[:len(headers)]) == list(headers))
    if "单位名称" in frame:  # the link's text is the unit: …&unit=<name>
        frame = frame.assign(单位名称=frame["单位名称"].map(lambda link: re.sub(r"^.*[?&]unit=", "", link)))
    return frame


def _caption(app: AppTest) -> str:
    """The long table's own line: 共 N 行，…"""
    return next(c.value for c in app.caption if re.match(r"共 [\d,]+ 行，", c.value))


def test_a_long_table_sends_one_page_and_says_how_many_rows_there_are(app, sample_warehouse):
    loaded = _fetch(sample_warehouse, "SELECT count(*) FROM unit_scores WHERE year = ?", YEAR)[0][0]
    assert loaded > IN_FULL
    _open(app, "views/ranking.py")
    ranking = _table(app, "排名")
    assert len(ranking) == PAGE
    best = [n for (n,) in _fetch(sample_warehouse, "SELECT unit_name FROM unit_scores WHERE year = ? "
                                                   "ORDER BY rank, unit_name LIMIT ?", YEAR, PAGE)]
    assert list(ranking["单位名称"]) == best  # the table's own order first
    pages = -(-loaded // PAGE)
    assert _caption(app) == (f"共 {loaded:,} 行，每页 {PAGE} 行，这是第 1 页（第 1–{PAGE} 行）。"
                                                  f"下载的 Excel 和 CSV 包含全部 {loaded:,} 行。")
    assert app.number_input(key="ranking_page").max == pages
    # the page has its own search box (by unit name); the table adds none
    assert [t.key for t in app.text_input] == ["search"]


def test_sorting_orders_every_row_not_only_the_page_shown(app, sample_warehouse):
    _open(app, "views/ranking.py")
    app.selectbox(key="ranking_sort").select("自评得分").run()
    app.radio(key="ranking_order").set_value("从高到低").run()
    assert not app.exception
    expected = [s for (s,) in _fetch(sample_warehouse, "SELECT round(self_score, 2) FROM unit_scores WHERE year = ? "
                                                        "ORDER BY self_score DESC NULLS LAST", YEAR)]
    assert list(_table(app, "排名")["自评得分"]) == expected[:PAGE]
    app.number_input(key="ranking_page").set_value(2).run()
    assert list(_table(app, "排名")["自评得分"]) == expected[PAGE:2 * PAGE]
    assert "这是第 2 页" in _caption(app)
    # a new order starts again at its first page
    app.radio(key="ranking_order").set_value("从低到高").run()
    assert app.number_input(key="ranking_page").value == 1
    lowest = sorted(s for s in expected if s is not None and not pd.isna(s))[:PAGE]
    assert list(_table(app, "排名")["自评得分"]) == lowest


def test_search_finds_units_beyond_the_first_page_and_narrows_the_download(app, sample_warehouse):
    app.query_params["execution_view"] = "各单位"  # the page's view of every unit
    _open(app, "views/execution.py")
    assert app.text_input(key="execution_find")  # a table without a search box of the page's own
    last = _table(app, *EXECUTION)["单位名称"].tolist()
    everyone = [n for (n,) in _fetch(sample_warehouse, "SELECT unit_name FROM unit_scores WHERE year = ? "
                                                       "ORDER BY execution_rate NULLS LAST, unit_name", YEAR)]
    wanted = everyone[-1]  # the highest rate: never on the first page of the lowest-first table
    assert wanted not in last
    app.text_input(key="execution_find").input(wanted).run()
    assert not app.exception
    found = _table(app, *EXECUTION)
    assert wanted in list(found["单位名称"])
    # every row found has the text in one of its text columns (a unit, or its 主管部门)
    assert all(any(wanted in str(v) for v in row) for row in found[["单位名称", "单位类型", "主管部门"]].itertuples())
    caption = _caption(app)
    assert f"查找“{wanted}”得到 {len(found):,} 行" in caption and f"包含查找到的 {len(found):,} 行" in caption
    app.text_input(key="execution_find").input("没有这样的单位").run()
    assert "没有包含“没有这样的单位”的行" in _caption(app)


def test_a_link_with_search_and_sort_opens_that_view(sample_warehouse, monkeypatch):
    monkeypatch.setenv("PERF_DB", str(sample_warehouse))
    monkeypatch.setattr(settings, "TABLE_ROWS_IN_FULL", IN_FULL)
    monkeypatch.setattr(settings, "TABLE_PAGE_ROWS", PAGE)
    app = AppTest.from_file(str(APP), default_timeout=60)
    for key, value in {"year": str(YEAR), "execution_find": "镇", "execution_sort": "单位名称",
                       "execution_order": "从高到低", "execution_view": "各单位"}.items():
        app.query_params[key] = value
    app.run()
    _open(app, "views/execution.py")
    assert app.text_input(key="execution_find").value == "镇"
    towns = [n for (n,) in _fetch(sample_warehouse, "SELECT unit_name FROM unit_scores WHERE year = ? AND "
                                                    "concat_ws(' ', unit_name, unit_type, department) LIKE '%镇%'",
                                  YEAR)]
    shown = _table(app, *EXECUTION)["单位名称"].tolist()
    assert shown == sorted(towns, reverse=True)[:PAGE]
    assert f"查找“镇”得到 {len(towns):,} 行" in _caption(app)


def test_short_tables_stay_whole(sample_warehouse, monkeypatch):
    monkeypatch.setenv("PERF_DB", str(sample_warehouse))
    app = AppTest.from_file(str(APP), default_timeout=60)
    app.query_params["year"] = str(YEAR)
    app.run()
    _open(app, "views/ranking.py")
    loaded = _fetch(sample_warehouse, "SELECT count(*) FROM unit_scores WHERE year = ?", YEAR)[0][0]
    assert loaded <= settings.TABLE_ROWS_IN_FULL
    assert len(_table(app, "排名")) == loaded
    assert not [n for n in app.number_input if n.key == "ranking_page"]
