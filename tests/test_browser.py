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
        ("sangong", "sangong", {"year": YEAR}, f"三公经费 · {YEAR} 年度", ("三公经费控制率", "三公经费历年合计")),
        ("grades", "grades", {"year": YEAR}, f"等级与得分 · {YEAR} 年度", ("指标扣分热力图", "自评得分与复核得分")),
        ("unit", "unit", {"year": YEAR, "unit": REFERENCE_UNIT}, f"单位详情 · {YEAR} 年度",
         (REFERENCE_UNIT, f"{review:.2f} 分")),
        ("quality", "quality", {"year": YEAR}, f"数据质量 · {YEAR} 年度", ("问题清单", "尚未入库的名录单位")),
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


def _download(page, label: str) -> bytes:
    with page.expect_download(timeout=30_000) as download_info:
        page.get_by_role("button", name=label).first.click()
    return Path(download_info.value.path()).read_bytes()


def test_sidebar_filter_drives_url_and_downloads(server, page, sample_warehouse):
    """Pick a grade in the sidebar: the address keeps it, other pages keep it, the download holds those rows."""
    with duckdb.connect(str(sample_warehouse), read_only=True) as con:
        grade, count = con.execute(
            "SELECT review_grade, count(*) FROM unit_scores WHERE year = ? GROUP BY review_grade "
            "ORDER BY count(*) DESC, review_grade LIMIT 1", [YEAR]).fetchone()
    _open(page, server, "ranking", {"year": YEAR}, f"排名 · {YEAR} 年度")
    page.locator('[data-testid="stSidebar"] [data-testid="stMultiSelect"]').filter(has_text="复核等级").click()
    page.get_by_role("option", name=grade, exact=True).click()
    page.keyboard.press("Escape")
    page.wait_for_url(lambda url: "grade=" in url, timeout=30_000)
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
        for xlsx_value, csv_value in zip(xlsx_row, csv_row):
            if isinstance(xlsx_value, (int, float)):
                assert xlsx_value == pytest.approx(float(csv_value))
            else:
                assert str(xlsx_value) == csv_value
    assert sheet.freeze_panes == "A2"
    notes = dict(workbook["筛选条件"].iter_rows(min_row=2, values_only=True))
    assert notes["评价年度"] == str(YEAR)
    assert notes["表格"] == "支出率最低的单位"

