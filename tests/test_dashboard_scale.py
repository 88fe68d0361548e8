"""The dashboard at a province's size: a warehouse of about 10 000 units, made from the
sample county's loaded rows repeated under new names in 20 地区.

Under AppTest: the 地区 level comes from the URL and narrows every table. In Chromium
(marked browser): the 预算执行 page draws distributions and extremes, not a bar per unit.
"""

from __future__ import annotations

import base64
import json
import math
import shutil
import urllib.parse
from pathlib import Path

import duckdb
import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

from dashboard import ui
from pipeline import settings
from presentation import aggregates
from tests import bench, dashboard_server

APP = Path(__file__).resolve().parent.parent / "dashboard" / "app.py"
CHROMIUM = Path("/usr/bin/chromium")
YEAR = 2024
UNITS = 10_000
REGIONS = 20


def _region(i: str) -> str:
    return f"'测试' || lpad(CAST(({i}) % {REGIONS} AS VARCHAR), 2, '0') || '县'"


@pytest.fixture(scope="module")
def province_warehouse(sample_warehouse: Path, tmp_path_factory) -> Path:
    db = tmp_path_factory.mktemp("province") / "performance.duckdb"
    shutil.copy(sample_warehouse, db)
    with duckdb.connect(str(db)) as con:
        loaded = con.execute("SELECT count(*) FROM unit_scores WHERE year = ?", [YEAR]).fetchone()[0]
        copies = math.ceil(UNITS / loaded)
        con.execute("CREATE TEMP TABLE base AS SELECT * FROM unit_scores WHERE year = ?", [YEAR])
        con.execute(f"""
            INSERT INTO unit_scores BY NAME
            SELECT base.* REPLACE (unit_name || '·' || i AS unit_name, file || '#' || i AS file,
                              spent * (0.8 + (i % 25) / 100.0) AS spent,
                              execution_rate * (0.8 + (i % 25) / 100.0) AS execution_rate)
            FROM base, range(1, {copies}) t(i)""")
        con.execute(f"""
            INSERT INTO units BY NAME
            SELECT u.unit_code || '-' || i AS unit_code, u.unit_name || '·' || i AS unit_name, u.department,
                   u.unit_type, {_region('i')} AS region
            FROM units u JOIN base b ON b.unit_name = u.unit_name, range(1, {copies}) t(i)""")
        con.execute(f"UPDATE units SET region = {_region('hash(unit_name)')}")
    return db


def _count(db: Path, sql: str, *params) -> int:
    with duckdb.connect(str(db), read_only=True) as con:
        return con.execute(sql, list(params)).fetchone()[0]


def test_the_warehouse_is_province_sized(province_warehouse):
    assert _count(province_warehouse, "SELECT count(*) FROM unit_scores WHERE year = ?", YEAR) >= UNITS
    assert _count(province_warehouse, "SELECT count(DISTINCT region) FROM units") == REGIONS


def test_region_in_the_url_narrows_the_page_and_compares_departments(province_warehouse, monkeypatch):
    monkeypatch.setenv("PERF_DB", str(province_warehouse))
    with duckdb.connect(str(province_warehouse), read_only=True) as con:
        region, inside = con.execute(
            "SELECT u.region, count(*) FROM unit_scores s JOIN units u USING (unit_name) WHERE s.year = ? "
            "GROUP BY 1 ORDER BY 1 LIMIT 1", [YEAR]).fetchone()
    app = AppTest.from_file(str(APP), default_timeout=120)
    app.query_params["year"] = str(YEAR)
    app.query_params["region"] = region
    app.run()
    app.switch_page("views/ranking.py").run()
    assert not app.exception, [e.value for e in app.exception]
    assert [m for m in app.sidebar.multiselect if m.label == "地区"][0].value == [region]
    # a region of a province may be past TABLE_ROWS_IN_FULL units: its table then comes a page at a time
    assert any(c.value.startswith(f"共 {inside} 个单位，") for c in app.caption)
    assert list(app.button_group(key="ranking_view").options)[:2] == ["排名表", "按主管部门比较"]
    app.button_group(key="ranking_view").set_value("按主管部门比较").run()
    assert not app.exception, [e.value for e in app.exception]
    assert any(h.value.startswith("按主管部门比较") for h in app.subheader)
    assert not any(h.value.startswith("按地区比较") for h in app.subheader)


def test_without_a_region_the_pages_compare_regions_and_drill_down(province_warehouse, monkeypatch):
    monkeypatch.setenv("PERF_DB", str(province_warehouse))
    app = AppTest.from_file(str(APP), default_timeout=120)
    app.query_params["year"] = str(YEAR)
    app.query_params["execution_view"] = "按地区比较"
    app.run()
    app.switch_page("views/execution.py").run()
    assert not app.exception, [e.value for e in app.exception]
    regions = next(d.value for d in app.dataframe if d.value.columns[0] == "地区")
    assert f"按地区比较（{len(regions)} 个地区）" in [h.value for h in app.subheader]
    # a loaded unit missing from the roster has no 地区: it is counted under its own row, not lost
    assert set(regions["地区"]) - {aggregates.NO_GROUP} == {f"测试{i:02d}县" for i in range(REGIONS)}
    assert regions["单位数"].sum() == _count(province_warehouse, "SELECT count(*) FROM unit_scores WHERE year = ?",
                                            YEAR)
    # the lowest pooled rate first
    assert list(regions["预算资金支出率（%）"]) == sorted(regions["预算资金支出率（%）"])
    target = regions.iloc[0]["地区"]
    app.selectbox(key="execution_levels_region_drill").select(target).run()
    assert not app.exception, [e.value for e in app.exception]
    assert [m for m in app.sidebar.multiselect if m.label == "地区"][0].value == [target]
    assert app.query_params.get("region") in ([target], target)
    # one level down, the page stays on the comparison, now of the 主管部门
    assert any(h.value.startswith("按主管部门比较") for h in app.subheader)
    assert app.button_group(key="execution_view").value == "按主管部门比较"


def _values_sent(spec: str) -> int:
    """How many values a chart's JSON hands Plotly in its traces (x, y, z, text, box statistics…)."""
    def count(value) -> int:
        if isinstance(value, list):
            return sum(count(v) for v in value) if value and isinstance(value[0], list) else len(value)
        if isinstance(value, dict) and "bdata" in value:  # a packed numeric array: "shape" is "rows, columns"
            if "shape" in value:
                return int(np.prod([int(n) for n in str(value["shape"]).split(",")]))
            return len(base64.b64decode(value["bdata"])) // np.dtype(value["dtype"]).itemsize
        return 0

    return sum(count(v) for trace in json.loads(spec)["data"] for v in trace.values())


CHART_PAGES = {"views/ranking.py": "ranking_view", "views/execution.py": "execution_view",
               "views/sangong.py": "sangong_view", "views/grades.py": "grades_view",
               "views/targets.py": "targets_view"}
# what a province's chart may send: bins, boxes, groups (up to settings.GROUP_CHART_LIMIT), extremes
VALUES_PER_CHART = 2_000


@pytest.mark.parametrize("page", list(CHART_PAGES))
def test_every_view_of_a_province_page_sends_one_chart_of_aggregates(province_warehouse, monkeypatch, page):
    monkeypatch.setenv("PERF_DB", str(province_warehouse))
    key = CHART_PAGES[page]
    app = AppTest.from_file(str(APP), default_timeout=120)
    app.query_params["year"] = str(YEAR)
    app.run()
    app.switch_page(page).run()
    assert not app.exception, [e.value for e in app.exception]
    views = list(app.button_group(key=key).options)
    assert len(views) >= 3
    for view in views:
        app.button_group(key=key).set_value(view).run()
        assert not app.exception, (view, [e.value for e in app.exception])
        charts = app.get("plotly_chart")
        assert len(charts) <= 2, view
        for chart in charts:
            assert _values_sent(chart.proto.spec) <= VALUES_PER_CHART, (view, chart.proto.id)


@pytest.mark.browser
@pytest.mark.skipif(not CHROMIUM.exists(), reason="Debian chromium is not installed (apt-get install chromium)")
def test_a_province_page_in_chromium_draws_no_bar_per_unit(province_warehouse):
    from playwright.sync_api import sync_playwright

    base, server = dashboard_server.start({"PERF_DB": str(province_warehouse)})
    try:
        with sync_playwright() as playwright:
            browser = bench.launch_chromium(playwright)
            try:
                context = browser.new_context(viewport={"width": 1440, "height": 1000}, locale="zh-CN")
                context.add_init_script(bench.TRACK_MUTATIONS)
                page = context.new_page()
                facts = bench.settle(page, f"{base}/execution?{urllib.parse.urlencode({'year': YEAR, 'n': 12, 'execution_view': '最低和最高'})}",
                                     f"预算执行 · {YEAR} 年度")
                assert page.locator('[data-testid="stException"]').count() == 0
                content = page.content()
                assert "支出率最低和最高的 12 个单位" in content and "按地区比较" in content
                # one chart of the page's views: 12 + 12 extremes, not 10 000 bars
                assert 0 < facts["bars"] < 100
                assert facts["height"] < 20_000
                assert settings.PER_UNIT_CHART_LIMIT < UNITS
            finally:
                browser.close()
    finally:
        dashboard_server.stop(server)


def test_the_level_compared_follows_the_filters():
    from dashboard.filters import Filters

    roster = {"甲县财政局": "甲县", "甲县教育局": "甲县", "乙县财政局": "乙县"}
    assert Filters(year=YEAR, region_of=roster).compare_by() == "region"
    assert Filters(year=YEAR, regions=("甲县", "乙县"), region_of=roster).compare_by() == "region"
    assert Filters(year=YEAR, regions=("甲县",), region_of=roster).compare_by() == "department"
    assert Filters(year=YEAR, regions=("甲县",), departments=("甲县财政局",),
                   region_of=roster).compare_by() is None
    # a roster without 地区: 主管部门 first
    assert Filters(year=YEAR).compare_by() == "department"
    assert ("地区", "甲县") in Filters(year=YEAR, regions=("甲县",), region_of=roster).describe()
    assert "地区" not in dict(Filters(year=YEAR).describe())


def test_region_filter_applies_to_any_frame_with_unit_names():
    import pandas as pd

    from dashboard import filters

    roster = pd.DataFrame({"unit_name": ["甲局", "乙局", "丙局"], "department": ["甲部门", "乙部门", "甲部门"],
                           "region": ["甲县", "乙县", "乙县"]})
    chosen = filters.Filters(year=YEAR, regions=("乙县",), region_of=dict(zip(roster["unit_name"], roster["region"])))
    findings = pd.DataFrame({"unit_name": ["甲局", "乙局", "丙局", "名录外"], "rule": ["r"] * 4})
    assert list(filters.apply(findings, chosen, grade_column=None)["unit_name"]) == ["乙局", "丙局"]
    assert list(filters.with_region(findings, chosen)["region"].fillna("")) == ["甲县", "乙县", "乙县", ""]
    assert chosen.narrows_units
    assert filters.departments_in(("甲县",), roster, ["甲部门", "乙部门"]) == ["甲部门"]
    assert filters.departments_in((), roster, ["甲部门", "乙部门"]) == ["甲部门", "乙部门"]


@pytest.mark.browser
@pytest.mark.skipif(not CHROMIUM.exists(), reason="Debian chromium is not installed (apt-get install chromium)")
def test_a_province_table_in_chromium_is_a_page_searched_and_sorted_on_the_server(province_warehouse):
    """The 三公 table of 10 000 units: one page of rows in the browser as a plain table (no grid),
    sorted as the link says, its units linked to their 单位详情, a unit from the far end found by
    typing its name, and the download holding every row found."""
    import csv
    import io
    from playwright.sync_api import sync_playwright

    with duckdb.connect(str(province_warehouse), read_only=True) as con:
        loaded = con.execute("SELECT count(*) FROM unit_scores WHERE year = ?", [YEAR]).fetchone()[0]
        # the lowest control rate: the very last row of the table sorted highest first
        wanted = con.execute("SELECT unit_name FROM unit_scores WHERE year = ? AND sangong_control_rate IS NOT NULL "
                             "ORDER BY sangong_control_rate, unit_name LIMIT 1", [YEAR]).fetchone()[0]
        matching = con.execute("SELECT count(*) FROM unit_scores WHERE year = ? AND "
                               "concat_ws(' ', unit_name, unit_type) LIKE ?", [YEAR, f"%{wanted}%"]).fetchone()[0]
    assert loaded > settings.TABLE_ROWS_IN_FULL
    rate = "三公经费控制率（%）"
    base, server = dashboard_server.start({"PERF_DB": str(province_warehouse)})
    try:
        with sync_playwright() as playwright:
            browser = bench.launch_chromium(playwright)
            try:
                context = browser.new_context(viewport={"width": 1440, "height": 1000}, locale="zh-CN",
                                              accept_downloads=True)
                context.add_init_script(bench.TRACK_MUTATIONS)
                page = context.new_page()
                query = {"year": YEAR, "sangong_sort": rate, "sangong_order": "从高到低"}
                bench.settle(page, f"{base}/sangong?{urllib.parse.urlencode(query)}", f"三公经费 · {YEAR} 年度")
                assert page.locator('[data-testid="stException"]').count() == 0
                pages = -(-loaded // settings.TABLE_PAGE_ROWS)
                assert page.get_by_text(f"共 {loaded:,} 行，每页 {settings.TABLE_PAGE_ROWS} 行，这是第 1 页").count() == 1
                assert page.get_by_text(f"页（共 {pages} 页）").count() == 1
                assert page.locator('[data-testid="stDataFrame"]').count() == 0
                rows = page.locator('[data-testid="stHtml"] tbody tr')
                assert rows.count() == settings.TABLE_PAGE_ROWS
                shown = [float(r) for r in rows.locator("td:nth-child(5)").all_text_contents() if r]
                assert shown == sorted(shown, reverse=True)  # the order the link asks for
                first = rows.first.locator("a")
                assert first.get_attribute("href") == ui.unit_link(first.text_content(), YEAR)

                box = page.get_by_label("查找", exact=True)
                box.fill(wanted)
                box.press("Enter")
                page.get_by_text(f"查找“{wanted}”得到 {matching:,} 行").wait_for(timeout=120_000)
                page.wait_for_function(bench.SETTLED, arg=[f"三公经费 · {YEAR} 年度", bench.QUIET_MS],
                                       timeout=120_000, polling=100)
                assert "sangong_find=" in page.url  # the search is in the link too
                with page.expect_download(timeout=60_000) as download_info:
                    page.locator(".st-key-sangong_csv").get_by_role("button", name="下载 CSV").click()
                download = download_info.value
                rows = list(csv.DictReader(io.StringIO(Path(download.path()).read_text(encoding="utf-8-sig"))))
                assert download.suggested_filename.endswith("_已筛选.csv")
                assert len(rows) == matching and wanted in [row["单位名称"] for row in rows]
                rates = [float(row[rate]) for row in rows if row[rate]]
                assert rates == sorted(rates, reverse=True)
            finally:
                browser.close()
    finally:
        dashboard_server.stop(server)
