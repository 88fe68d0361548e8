"""Long tables a page at a time: past pipeline.settings.TABLE_ROWS_IN_FULL rows the browser
gets one page of TABLE_PAGE_ROWS rows as a plain HTML table (no interactive grid), and search,
sort and the page number work on every row on the server. Shorter tables stay whole in the grid.

The pure functions on small frames; the pages under AppTest on the sample warehouse with
the threshold lowered (the sample county has about 60 units; a province's tables page the
same way, see test_dashboard_scale.py for one in Chromium).
"""

from __future__ import annotations

import re
import urllib.parse
from html.parser import HTMLParser
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from dashboard import ui
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


class _Page(HTMLParser):
    """A page of a long table as the browser gets it: the headers, each cell's text (as shown),
    its link (None for none), its class and its style."""

    def __init__(self, body: str):
        super().__init__()
        self.headers: list[str] = []
        self.header_classes: list[str | None] = []
        self.rows: list[list[dict]] = []
        self._cell: dict | None = None
        self.feed(body)

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "tr":
            self.rows.append([])
        elif tag in ("td", "th"):
            self._cell = {"text": "", "link": None, "target": None, "class": attrs.get("class"),
                          "style": attrs.get("style")}
        elif tag == "a" and self._cell is not None:
            self._cell.update(link=attrs.get("href"), target=attrs.get("target"))

    def handle_data(self, data):
        if self._cell is not None:
            self._cell["text"] += data

    def handle_endtag(self, tag):
        if tag == "th":
            self.headers.append(self._cell["text"])
            self.header_classes.append(self._cell["class"])
        elif tag == "td":
            self.rows[-1].append(self._cell)
        if tag in ("td", "th"):
            self._cell = None

    @property
    def cells(self) -> list[list[dict]]:
        return [row for row in self.rows if row]  # the header's row holds no td

    def column(self, header: str, part: str = "text") -> list:
        at = self.headers.index(header)
        return [row[at][part] for row in self.cells]


def _page(app: AppTest, *headers: str) -> _Page:
    """The long table whose headers start with these."""
    pages = [_Page(h.value) for h in app.html]
    return next(p for p in pages if p.headers[:len(headers)] == list(headers))


def _table(app: AppTest, *headers: str) -> pd.DataFrame:
    """The rows shown, as text (the grid's values for a short table, the page's text for a long one)."""
    grids = [d.value for d in app.dataframe if list(d.value.columns[:len(headers)]) == list(headers)]
    if grids:
        frame = grids[0]
        if "单位名称" in frame:  # the link's text is the unit: …&unit=<name>
            frame = frame.assign(单位名称=frame["单位名称"].map(lambda link: re.sub(r"^.*[?&]unit=", "", link)))
        return frame
    page = _page(app, *headers)
    return pd.DataFrame([[cell["text"] for cell in row] for row in page.cells], columns=page.headers)


def _shown(value) -> str:
    """A score or rate as the page shows it (two decimals; a blank for none)."""
    return "" if value is None or pd.isna(value) else f"{value:.2f}"


def _caption(app: AppTest) -> str:
    """The long table's own line: 共 N 行，…"""
    return next(c.value for c in app.caption if re.match(r"共 [\d,]+ 行，", c.value))


def test_a_long_table_sends_one_page_and_says_how_many_rows_there_are(app, sample_warehouse):
    loaded = _fetch(sample_warehouse, "SELECT count(*) FROM unit_scores WHERE year = ?", YEAR)[0][0]
    assert loaded > IN_FULL
    _open(app, "views/ranking.py")
    assert not app.dataframe  # no interactive grid: one page of plain HTML
    ranking = _table(app, "排名")
    assert len(ranking) == PAGE
    best = _fetch(sample_warehouse, "SELECT unit_name, review_score FROM unit_scores WHERE year = ? "
                                    "ORDER BY rank, unit_name LIMIT ?", YEAR, PAGE)
    assert list(ranking["单位名称"]) == [n for n, _ in best]  # the table's own order first
    assert list(ranking["复核得分"]) == [_shown(score) for _, score in best]
    # each unit opens its 单位详情 (in a new tab, as from the grid), each rate its lines and cells
    page = _page(app, "排名")
    assert page.column("单位名称", "link") == [ui.unit_link(n, YEAR) for n, _ in best]
    assert set(page.column("单位名称", "target")) == {"_blank"}
    assert page.column(ui.RATE_SOURCES_COLUMN) == ["查看行次与单元格"] * PAGE
    assert page.column(ui.RATE_SOURCES_COLUMN, "link") == [ui.unit_link(n, YEAR, tab=ui.RATE_SOURCES_TAB)
                                                          for n, _ in best]
    # numbers right-aligned like the grid's, text left
    assert page.header_classes[page.headers.index("复核得分")] == "n"
    assert set(page.column("复核得分", "class")) == {"n"} and set(page.column("复核等级", "class")) == {None}
    # the caption says the header does not sort here: the 排序 box does, over every unit
    assert any("用“排序”和“顺序”对全部单位排序" in c.value for c in app.caption)
    assert not any("点击表头可排序" in c.value for c in app.caption)
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
    assert list(_table(app, "排名")["自评得分"]) == [_shown(s) for s in expected[:PAGE]]
    app.number_input(key="ranking_page").set_value(2).run()
    assert list(_table(app, "排名")["自评得分"]) == [_shown(s) for s in expected[PAGE:2 * PAGE]]
    assert "这是第 2 页" in _caption(app)
    # a new order starts again at its first page
    app.radio(key="ranking_order").set_value("从低到高").run()
    assert app.number_input(key="ranking_page").value == 1
    lowest = sorted(s for s in expected if s is not None and not pd.isna(s))[:PAGE]
    assert list(_table(app, "排名")["自评得分"]) == [_shown(s) for s in lowest]
    # the sort's help no longer sends the officer to the headers
    assert app.selectbox(key="ranking_sort").help == "按所选列对全部行排序"


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


def test_short_tables_stay_whole_in_the_grid(sample_warehouse, monkeypatch):
    monkeypatch.setenv("PERF_DB", str(sample_warehouse))
    app = AppTest.from_file(str(APP), default_timeout=60)
    app.query_params["year"] = str(YEAR)
    app.run()
    _open(app, "views/ranking.py")
    loaded = _fetch(sample_warehouse, "SELECT count(*) FROM unit_scores WHERE year = ?", YEAR)[0][0]
    assert loaded <= settings.TABLE_ROWS_IN_FULL
    grid = next(d.value for d in app.dataframe if d.value.columns[0] == "排名")  # sorted by a click on a header
    assert len(grid) == loaded
    assert not app.html
    assert not [n for n in app.number_input if n.key == "ranking_page"]
    assert any("点击表头可排序" in c.value for c in app.caption)


def test_a_long_pages_rows_keep_their_styles(app, sample_warehouse):
    """三公经费 colours the rows over budget red on the page as it did in the grid."""
    over = _fetch(sample_warehouse, "SELECT unit_name FROM unit_scores WHERE year = ? AND sangong_control_rate > 1 "
                                    "ORDER BY sangong_control_rate DESC, unit_name", YEAR)
    assert 0 < len(over) < PAGE
    _open(app, "views/sangong.py")
    page = _page(app, "单位名称", "单位类型", "三公经费预算数（万元）")
    assert page.column("单位名称")[:len(over)] == [n for (n,) in over]
    styles = [{cell["style"] for cell in row} for row in page.cells]
    assert styles[:len(over)] == [{tables.OVERRUN_STYLE}] * len(over)
    assert all(row == {None} for row in styles[len(over):])


def test_a_page_shows_cells_as_the_grid_formats_them_and_text_literally():
    name = "<b>甲&乙</b> \"局\""
    frame = pd.DataFrame({"单位名称": [ui.unit_link(name, YEAR), None], "预算数（万元）": [12345.678, np.nan],
                          "支出率（%）": [86.4712, 100.0], "单位数": [3, 4],
                          "说明": ["<script>x</script>", "短"], "文件": ["文" * 30, "短"]})
    config = ui._column_config(frame, linked=True)
    css = pd.DataFrame("", index=frame.index, columns=frame.columns)
    css.iloc[1] = "color: red"
    html = ui.page_html(frame, config, css)
    assert "<script>" not in html and "<b>" not in html  # text stays text
    page = _Page(html)
    assert page.headers == list(frame.columns)
    first, second = page.cells
    assert first[0]["text"] == name and first[0]["link"] == ui.unit_link(name, YEAR)
    assert urllib.parse.parse_qs(urllib.parse.urlsplit(first[0]["link"]).query)["unit"] == [name]
    assert [c["text"] for c in first[1:5]] == ["12,345.68", "86.47", "3", "<script>x</script>"]
    assert [c["text"] for c in second[:3]] == ["", "", "100.00"]  # blanks for no unit, no amount
    assert [c["class"] for c in first] == [None, "n", "n", "n", None, "w"]  # numbers right, long text wraps
    assert {c["style"] for c in first} == {None} and {c["style"] for c in second} == {"color: red"}
