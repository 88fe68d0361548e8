"""The dashboard in a real browser: `streamlit run` on a free port, every page in headless Chromium.

Screenshots land in tests/artifacts/ (one per page) so a person can look at them.
"""

from __future__ import annotations

import csv as csv_module
import io
import urllib.parse
import urllib.request
from pathlib import Path

import duckdb
import pytest

from tests import dashboard_server

ROOT = Path(__file__).resolve().parent.parent
ARTIFACTS = ROOT / "tests" / "artifacts"
CHROMIUM = Path("/usr/bin/chromium")
REFERENCE_UNIT = "遂溪县人民政府办公室"
YEAR = 2024

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not CHROMIUM.exists(), reason="Debian chromium is not installed (apt-get install chromium)"),
]


@pytest.fixture(scope="module")
def server(sample_warehouse: Path):
    base, process = dashboard_server.start({"PERF_DB": str(sample_warehouse)})
    try:
        yield base
    finally:
        dashboard_server.stop(process)


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True,
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                  "--disable-component-update", "--no-first-run", "--disable-sync"])
        try:
            yield chromium
        finally:
            chromium.close()


@pytest.fixture()
def page(browser):
    context = browser.new_context(viewport={"width": 1440, "height": 1800}, locale="zh-CN",
                                  accept_downloads=True)
    page = context.new_page()
    try:
        yield page
    finally:
        context.close()


def _lowest_execution_unit(db: Path, year: int) -> str:
    with duckdb.connect(str(db), read_only=True) as con:
        return con.execute("SELECT unit_name FROM unit_scores WHERE year = ? AND execution_rate IS NOT NULL "
                           "ORDER BY execution_rate, unit_name LIMIT 1", [year]).fetchone()[0]


def _review_score(db: Path, unit: str, year: int) -> float:
    with duckdb.connect(str(db), read_only=True) as con:
        return con.execute("SELECT review_score FROM unit_scores WHERE unit_name = ? AND year = ?",
                           [unit, year]).fetchone()[0]


# Done when the script has finished (no running indicator), every lazily loaded element
# has replaced its skeleton and every plotly chart has drawn its SVG.
_RENDERED = """() => {
    if (document.querySelector('[data-testid="stStatusWidget"]')) return false;
    if (document.querySelector('[data-testid="stSkeleton"]')) return false;
    const charts = [...document.querySelectorAll('[data-testid="stPlotlyChart"]')];
    return charts.every(chart => chart.querySelector('.main-svg'));
}"""


def _open(page, base: str, path: str, params: dict, title: str) -> None:
    page.goto(f"{base}/{path}?{urllib.parse.urlencode(params)}", wait_until="domcontentloaded")
    page.get_by_role("heading", name=title).first.wait_for(timeout=30_000)
    # Streamlit shows a running indicator while the script runs; the page is complete after it.
    page.wait_for_function(_RENDERED, timeout=30_000)
    page.wait_for_timeout(500)


_SHOWN = "text => document.documentElement.outerHTML.includes(text)"


def _assert_page(page, name: str, *texts: str) -> None:
    for text in texts:
        # a table may fill in a moment after the script has finished (seconds on a busy machine)
        try:
            page.wait_for_function(_SHOWN, arg=text, timeout=60_000)
        except Exception:  # Playwright's timeout: the assertion below says what is missing
            break
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)
    assert page.locator('[data-testid="stException"]').count() == 0, f"exception box on {name}"
    content = page.content()
    for text in texts:
        assert text in content, f"{text!r} not shown on {name}"


def test_a_deep_link_is_the_first_request(server, page):
    """A colleague's link to a page must work even as the server's very first request."""
    _open(page, server, "ranking", {"year": YEAR}, f"排名 · {YEAR} 年度")
    _assert_page(page, "ranking_first_request", REFERENCE_UNIT, "筛选")
    assert page.get_by_role("link", name="数据质量").count() >= 1


def test_every_page_renders_in_chromium(server, page, sample_warehouse):
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    lowest = _lowest_execution_unit(sample_warehouse, YEAR)
    review = _review_score(sample_warehouse, REFERENCE_UNIT, YEAR)
    pages = [
        ("overview", "", {"year": YEAR}, f"总览 · {YEAR} 年度", ("报送情况", "预算资金支出率", "等级分布")),
        ("ranking", "ranking", {"year": YEAR}, f"排名 · {YEAR} 年度", (REFERENCE_UNIT, "复核得分")),
        ("execution", "execution", {"year": YEAR}, f"预算执行 · {YEAR} 年度", ("是否自评满分", lowest)),
        # a page's other views open from the link (?<page>_view=)
        ("sangong", "sangong", {"year": YEAR, "sangong_view": "历年合计"}, f"三公经费 · {YEAR} 年度",
         ("三公经费控制率", "三公经费历年合计")),
        ("grades", "grades", {"year": YEAR, "grades_view": "指标扣分"}, f"等级与得分 · {YEAR} 年度",
         ("指标扣分热力图", "各指标复核扣分")),
        ("unit", "unit", {"year": YEAR, "unit": REFERENCE_UNIT}, f"单位详情 · {YEAR} 年度",
         (REFERENCE_UNIT, f"{review:.2f} 分")),
        ("quality", "quality", {"year": YEAR}, f"数据质量 · {YEAR} 年度", ("问题清单", "尚未入库的名录单位")),
        ("rectification", "rectification", {"year": YEAR, "rectification_view": "单位的报送版本与整改",
                                            "rectification_unit": "遂溪县应急管理局"},
         f"退回与整改 · {YEAR} 年度", ("逾期未改正", "报送版本", "还改动了2处数字")),
        ("exports", "exports", {"year": YEAR}, f"导出材料 · {YEAR} 年度",
         ("生成汇总表和退回修改通知", "全县部门整体支出绩效自评情况")),
    ]
    for name, path, params, title, texts in pages:
        _open(page, server, path, params, title)
        _assert_page(page, name, *texts)


def test_url_reproduces_the_view(server, page, sample_warehouse):
    with duckdb.connect(str(sample_warehouse), read_only=True) as con:
        years = [y for (y,) in con.execute("SELECT DISTINCT year FROM unit_scores ORDER BY year").fetchall()]
    earliest = years[0]
    _open(page, server, "ranking", {"year": earliest}, f"排名 · {earliest} 年度")
    _assert_page(page, f"ranking_{earliest}", f"排名 · {earliest} 年度")
    # Moving to another page keeps the chosen year, in the view and in the address.
    page.get_by_role("link", name="预算执行").first.click()
    page.get_by_role("heading", name=f"预算执行 · {earliest} 年度").first.wait_for(timeout=30_000)
    assert f"year={earliest}" in page.url


def test_a_view_chosen_on_the_page_goes_into_the_link(server, page):
    """A page draws one view at a time; the one chosen is in the address, so the link opens it."""
    _open(page, server, "execution", {"year": YEAR}, f"预算执行 · {YEAR} 年度")
    assert page.locator('[data-testid="stPlotlyChart"]').count() == 0  # the lowest units: a table
    page.locator(".st-key-execution_view").get_by_text("执行分解", exact=True).click()
    page.get_by_text("预算执行分解（当前筛选的全部单位合计）").first.wait_for(timeout=30_000)
    page.wait_for_function(_RENDERED, timeout=30_000)
    assert "execution_view=" in page.url
    assert urllib.parse.parse_qs(urllib.parse.urlsplit(page.url).query)["execution_view"] == ["执行分解"]
    assert page.locator('[data-testid="stPlotlyChart"]').count() == 2
    assert page.get_by_text("是否自评满分").count() == 0  # the view left is no longer drawn


def _download(page, label: str) -> bytes:
    return _download_named(page, label)[1]


def _download_named(page, label: str) -> tuple[str, bytes]:
    with page.expect_download(timeout=30_000) as download_info:
        page.get_by_role("button", name=label).first.click()
    download = download_info.value
    return download.suggested_filename, Path(download.path()).read_bytes()


def test_sidebar_filter_drives_url_and_downloads(server, page, sample_warehouse):
    """Pick a grade in the sidebar: the address keeps it, other pages keep it, the download holds those rows."""
    with duckdb.connect(str(sample_warehouse), read_only=True) as con:
        grade, count = con.execute(
            "SELECT review_grade, count(*) FROM unit_scores WHERE year = ? GROUP BY review_grade "
            "ORDER BY count(*) DESC, review_grade LIMIT 1", [YEAR]).fetchone()
    _open(page, server, "ranking", {"year": YEAR}, f"排名 · {YEAR} 年度")
    box = page.locator('[data-testid="stSidebar"] [data-testid="stMultiSelect"]').filter(has_text="复核等级")
    box.click()
    page.get_by_role("option", name=grade, exact=True).click()
    page.keyboard.press("Escape")
    # the rerun the choice starts writes the address with replaceState, which is no navigation:
    # read the address itself rather than wait for one
    page.wait_for_function("() => new URLSearchParams(location.search).has('grade')", timeout=30_000)
    page.wait_for_function(_RENDERED, timeout=30_000)
    page.wait_for_timeout(500)
    assert urllib.parse.parse_qs(urllib.parse.urlparse(page.url).query)["grade"] == [grade]

    csv = _download(page, "下载 CSV")
    assert csv.startswith(b"\xef\xbb\xbf")
    header, *rows = list(csv_module.reader(io.StringIO(csv.decode("utf-8-sig"))))
    assert header[:2] == ["排名", "单位名称"]
    assert len(rows) == count
    assert {row[header.index("复核等级")] for row in rows} == {grade}

    page.get_by_role("link", name="预算执行").first.click()
    page.get_by_role("heading", name=f"预算执行 · {YEAR} 年度").first.wait_for(timeout=30_000)
    query = urllib.parse.parse_qs(urllib.parse.urlparse(page.url).query)
    assert query.get("grade") == [grade]


def test_xlsx_download_matches_the_csv(server, page, sample_warehouse):
    import openpyxl

    _open(page, server, "execution", {"year": YEAR}, f"预算执行 · {YEAR} 年度")
    csv_rows = list(csv_module.reader(io.StringIO(_download(page, "下载 CSV").decode("utf-8-sig"))))
    workbook = openpyxl.load_workbook(io.BytesIO(_download(page, "下载 Excel")))
    sheet = workbook.worksheets[0]
    xlsx_rows = [["" if v is None else v for v in row] for row in sheet.iter_rows(values_only=True)]
    assert xlsx_rows[0] == csv_rows[0]
    assert len(xlsx_rows) == len(csv_rows)
    for xlsx_row, csv_row in zip(xlsx_rows[1:], csv_rows[1:]):
        for header, xlsx_value, csv_value in zip(csv_rows[0], xlsx_row, csv_row):
            if isinstance(xlsx_value, (int, float)):
                # rates are real percentages in Excel (0.9972 shown as 99.72%), as displayed in the CSV
                scale = 100 if header.endswith("（%）") else 1
                assert xlsx_value * scale == pytest.approx(float(csv_value))
            else:
                assert str(xlsx_value) == csv_value
    formats = {sheet.cell(1, c).value: sheet.cell(2, c).number_format for c in range(1, sheet.max_column + 1)}
    assert formats["预算资金支出率（%）"] == "0.00%"
    assert formats["财政下达预算数（万元）"] == "#,##0.00"
    assert sheet.freeze_panes == "A2"
    notes = dict(workbook["筛选条件"].iter_rows(min_row=2, values_only=True))
    assert notes["评价年度"] == str(YEAR)
    assert notes["表格"] == "支出率最低的单位"



def _rendered(page) -> None:
    page.wait_for_function(_RENDERED, timeout=30_000)
    page.wait_for_timeout(500)


def _query(url: str) -> dict:
    return {k: v[0] for k, v in urllib.parse.parse_qs(urllib.parse.urlparse(url).query).items()}


def test_clicking_a_unit_in_a_table_opens_its_detail(server, page, sample_warehouse):
    with duckdb.connect(str(sample_warehouse), read_only=True) as con:
        first, count = con.execute("SELECT arg_min(unit_name, rank), count(rank) FROM unit_scores WHERE year = ?",
                                   [YEAR]).fetchone()
    _open(page, server, "ranking", {"year": YEAR}, f"排名 · {YEAR} 年度")
    grid = page.locator('[data-testid="stDataFrame"]').first.bounding_box()
    # 单位名称 is pinned as the first column; the first row is the top-ranked unit.
    x, y = grid["x"] + 30, grid["y"] + 35 + 17
    page.mouse.move(x, y)
    page.wait_for_timeout(500)
    with page.context.expect_page(timeout=30_000) as opened:
        page.mouse.click(x, y)
    detail = opened.value
    detail.get_by_role("heading", name=f"单位详情 · {YEAR} 年度").first.wait_for(timeout=30_000)
    _rendered(detail)
    assert _query(detail.url) == {"year": str(YEAR), "unit": first}
    content = detail.content()
    assert "第 1 名" in content and f"共 {count} 个已入库单位" in content
    detail.screenshot(path=str(ARTIFACTS / "unit_from_click.png"), full_page=True)
    # from a rate to the lines and cells it is computed from
    detail.get_by_role("tab", name="比率的来源").click()
    detail.wait_for_url(lambda url: "tab=" in url, timeout=30_000)
    _rendered(detail)
    assert "r13" in detail.content() and "支出决算数" in detail.content()


def test_the_landing_pages_static_tables_link_each_unit_to_its_detail(server, page, sample_warehouse):
    """总览's summaries are plain tables (no grid to load, nothing redrawn after the page looks
    done); a unit's name in them still opens its 单位详情."""
    _open(page, server, "", {"year": YEAR}, f"总览 · {YEAR} 年度")
    assert page.locator('[data-testid="stDataFrame"]').count() == 0
    lowest = _lowest_execution_unit(sample_warehouse, YEAR)
    link = page.locator('[data-testid="stTable"] a').filter(has_text=lowest).first
    assert link.text_content() == lowest
    assert _query(link.get_attribute("href")) == {"year": str(YEAR), "unit": lowest}
    with page.context.expect_page(timeout=30_000) as opened:
        link.click()
    detail = opened.value
    detail.get_by_role("heading", name=f"单位详情 · {YEAR} 年度").first.wait_for(timeout=30_000)
    _rendered(detail)
    assert _query(detail.url) == {"year": str(YEAR), "unit": lowest}
    assert lowest in detail.content()


def test_deep_links_say_what_is_not_available(server, page, sample_warehouse):
    with duckdb.connect(str(sample_warehouse), read_only=True) as con:
        quarantined, = con.execute("SELECT min(unit_name) FROM ingest_files WHERE year = ? AND state = 'quarantined' "
                                   "AND kind = 'workbook'", [YEAR]).fetchone()
        latest, = con.execute("SELECT max(year) FROM unit_scores").fetchone()
    _open(page, server, "unit", {"year": YEAR, "unit": quarantined}, f"单位详情 · {YEAR} 年度")
    assert "已被隔离" in page.content() and quarantined in page.content()
    assert _query(page.url)["unit"] == quarantined

    _open(page, server, "unit", {"year": YEAR, "unit": "遂溪县并不存在局"}, f"单位详情 · {YEAR} 年度")
    assert "没有名为“遂溪县并不存在局”的单位" in page.content()
    assert _query(page.url)["unit"] == "遂溪县并不存在局"

    page.goto(f"{server}/nosuchpage?year={YEAR}", wait_until="domcontentloaded")
    page.get_by_text("链接中的页面“nosuchpage”不存在").first.wait_for(timeout=30_000)

    _open(page, server, "ranking", {"year": 2031}, f"排名 · {latest} 年度")
    assert "“2031”在数据仓库中没有记录" in page.content()

    page.goto(f"{server}/ranking", wait_until="domcontentloaded")
    page.get_by_role("heading", name=f"排名 · {latest} 年度").first.wait_for(timeout=30_000)
    page.wait_for_url(lambda url: "year=" in url, timeout=30_000)
    assert _query(page.url)["year"] == str(latest)  # the default year is written into the link


def test_page_controls_are_in_the_link_and_the_download_names_them(server, page, sample_warehouse):
    with duckdb.connect(str(sample_warehouse), read_only=True) as con:
        towns = sorted(n for (n,) in con.execute("SELECT unit_name FROM unit_scores WHERE year = ? AND "
                                                  "unit_name LIKE '%镇%'", [YEAR]).fetchall())
    _open(page, server, "ranking", {"year": YEAR, "search": "镇"}, f"排名 · {YEAR} 年度")
    assert page.get_by_label("按单位名称查找").input_value() == "镇"
    name, content = _download_named(page, "下载 CSV")
    assert name == f"单位排名_{YEAR}年度_已筛选.csv"
    header, *rows = list(csv_module.reader(io.StringIO(content.decode("utf-8-sig"))))
    assert sorted(row[header.index("单位名称")] for row in rows) == towns
    import openpyxl

    name, content = _download_named(page, "下载 Excel")
    notes = dict(openpyxl.load_workbook(io.BytesIO(content))["筛选条件"].iter_rows(min_row=2, values_only=True))
    assert notes["按单位名称查找"] == "镇" and notes["行数"] == str(len(towns))


def test_a_units_table_downloads_under_its_name_with_the_workbooks_formats(server, page):
    import openpyxl

    _open(page, server, "unit", {"year": YEAR, "unit": REFERENCE_UNIT}, f"单位详情 · {YEAR} 年度")
    name, content = _download_named(page, "下载 Excel")
    assert name == f"数据表_{REFERENCE_UNIT}_{YEAR}年度.xlsx"
    workbook = openpyxl.load_workbook(io.BytesIO(content))
    sheet = workbook.worksheets[0]
    headers = [c.value for c in sheet[1]]
    r13 = next(row for row in sheet.iter_rows(min_row=2) if row[0].value == 13)
    assert r13[headers.index("金额（元）")].value == pytest.approx(8374036.75)
    assert r13[headers.index("金额（元）")].number_format == "#,##0.00"
    notes = dict(workbook["筛选条件"].iter_rows(min_row=2, values_only=True))
    assert notes["单位"] == REFERENCE_UNIT and notes["评价年度"] == str(YEAR)


def test_the_bench_counts_a_change_inside_a_canvas_as_the_pages_last(browser):
    """The table grid's hidden copy of its cells lives inside its <canvas>: the browser bench
    counts it like any change (the page is not done before it), and tells it apart."""
    from tests import bench

    context = browser.new_context()
    try:
        context.add_init_script(bench.TRACK_MUTATIONS)
        page = context.new_page()
        page.goto("data:text/html,<p id='shown'>x</p><canvas id='grid'></canvas>")
        page.evaluate("""() => new Promise(done => {
            document.getElementById('shown').textContent = 'drawn';
            const canvas = document.getElementById('grid');
            canvas.width = 200;  // the canvas's own size is drawn: a visible change
            setTimeout(() => { canvas.appendChild(document.createElement('table')); setTimeout(done, 50); }, 300);
        })""")
        last, visible = page.evaluate("[window.__lastChange, window.__lastVisible]")
        assert visible > 0 and last >= visible + 250
    finally:
        context.close()
