"""One view at a time: the chart pages, 数据质量 and 复核 draw the view chosen in their selector (kept in
the address as ?<page>_view=), not every chart and table at once; every view stays reachable.

Under AppTest on the sample warehouse (a county: per-unit charts); test_dashboard_scale.py runs
the same views on a province's warehouse.
"""

from __future__ import annotations

import urllib.parse
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from pipeline import settings
from presentation import aggregates

APP = Path(__file__).resolve().parent.parent / "dashboard" / "app.py"
YEAR = 2024
# page → its selector's key and the views a county's page offers, in order (the first is the default)
VIEWS = {
    "views/ranking.py": ("ranking_view", ["排名表", "按地区比较", "得分图"]),
    "views/execution.py": ("execution_view", ["最低的单位", "按地区比较", "支出率图", "预算规模", "执行分解",
                                              "连续两年偏低", "各单位"]),
    "views/sangong.py": ("sangong_view", ["各单位", "按地区比较", "控制率图", "构成", "历年合计"]),
    "views/grades.py": ("grades_view", ["等级对照", "自评与复核", "等级分布", "按地区比较", "对照表", "指标扣分", "等级流向"]),
    "views/targets.py": ("targets_view", ["各单位", "完成度图", "未说明原因的目标", "没有目标表的单位"]),
    "views/quality.py": ("quality_view", ["问题清单", "未入库的文件", "尚未入库的名录单位", "需退回修改的单位",
                                          "已替代文件的问题"]),
    "views/rectification.py": ("rectification_view", ["各单位", "单位的报送版本与整改"]),
}
# the most charts one view sends (a chart and its companion: 执行分解's totals beside its rates)
CHARTS_PER_VIEW = 2


@pytest.fixture
def app(sample_warehouse: Path, monkeypatch) -> AppTest:
    monkeypatch.setenv("PERF_DB", str(sample_warehouse))
    app = AppTest.from_file(str(APP), default_timeout=60)
    app.query_params["year"] = str(YEAR)
    return app


def _charts(app: AppTest) -> list[str]:
    return [chart.proto.id.rsplit("-", 1)[-1] for chart in app.get("plotly_chart")]


@pytest.mark.parametrize("page", list(VIEWS))
def test_every_view_opens_and_draws_only_its_own_charts(app, page):
    key, views = VIEWS[page]
    app.run()
    app.switch_page(page).run()
    assert not app.exception, [e.value for e in app.exception]
    selector = app.button_group(key=key)
    assert list(selector.options) == views and selector.value == views[0]
    drawn: dict[str, list[str]] = {}
    for view in views:
        selector = app.button_group(key=key).set_value(view)
        app.run()
        assert not app.exception, (view, [e.value for e in app.exception])
        assert app.button_group(key=key).value == view
        drawn[view] = _charts(app)
        assert len(drawn[view]) <= CHARTS_PER_VIEW, (view, drawn[view])
    # no chart is drawn by two views, and what one view shows is not sent with another
    charts = [chart for shown in drawn.values() for chart in shown]
    assert len(charts) == len(set(charts))


def test_a_link_opens_its_view_and_a_view_the_page_lacks_opens_the_first(app):
    app.query_params["sangong_view"] = "历年合计"
    app.run()
    app.switch_page("views/sangong.py").run()
    assert app.button_group(key="sangong_view").value == "历年合计"
    assert "历年合计（当前筛选的单位）" in [h.value for h in app.subheader]
    assert not app.dataframe and next(t.value for t in app.table if "评价年度" in t.value.columns).shape[0] >= 1
    assert _charts(app) == ["sangong_years"]
    # a province's view in a county's link: the county's first view, not an empty page
    app.query_params["execution_view"] = "最低和最高"
    app.switch_page("views/execution.py").run()
    assert not app.exception, [e.value for e in app.exception]
    assert app.button_group(key="execution_view").value == "最低的单位"
    assert any(h.value.startswith("支出率最低的") for h in app.subheader)


def test_drilling_down_keeps_the_comparison_view(app):
    app.query_params["ranking_view"] = "按地区比较"
    app.run()
    app.switch_page("views/ranking.py").run()
    regions = next(d.value for d in app.dataframe if d.value.columns[0] == "地区")
    # the 地区 with the most units (the sample's 县直: many 主管部门 to compare)
    region = regions[regions["地区"] != aggregates.NO_GROUP].sort_values("单位数").iloc[-1]["地区"]
    app.selectbox(key="ranking_levels_region_drill").select(region).run()
    assert not app.exception, [e.value for e in app.exception]
    assert app.button_group(key="ranking_view").value == "按主管部门比较"
    assert any(h.value.startswith("按主管部门比较") for h in app.subheader)


def test_the_landing_page_counts_the_grades_without_a_chart(app, sample_warehouse):
    import duckdb

    app.run()
    assert not app.exception, [e.value for e in app.exception]
    assert _charts(app) == []  # a first visit loads no plotly
    # nor the table grid: its summaries are static tables (docs/benchmarks.md)
    assert not app.dataframe
    grades = next(d.value for d in app.table if list(d.value.columns) == ["等级", "自评等级单位数", "复核等级单位数"])
    with duckdb.connect(str(sample_warehouse), read_only=True) as con:
        expected = dict(con.execute("SELECT review_grade, count(*) FROM unit_scores WHERE year = ? GROUP BY 1",
                                    [YEAR]).fetchall())
    assert dict(zip(grades["等级"], grades["复核等级单位数"])) == {g: expected.get(g, 0) for g in grades["等级"]}
    link = next(p.proto for p in app.get("page_link") if "等级分布图" in p.proto.label)
    assert link.page == "grades"
    assert urllib.parse.parse_qs(link.query_string) == {"year": [str(YEAR)], "grades_view": ["等级分布"]}


def test_the_grades_page_opens_on_the_grades_counted_self_against_review(app, sample_warehouse):
    import duckdb

    app.run()
    app.switch_page("views/grades.py").run()
    assert not app.exception, [e.value for e in app.exception]
    assert _charts(app) == [] and not app.dataframe  # no chart library, no table grid on opening
    crosstab = next(t.value for t in app.table if "复核优" in t.value.columns)
    with duckdb.connect(str(sample_warehouse), read_only=True) as con:
        pairs = con.execute("SELECT self_grade, review_grade, count(*) FROM unit_scores WHERE year = ? "
                            "GROUP BY 1, 2", [YEAR]).fetchall()
    for self_grade, review_grade, count in pairs:
        assert crosstab.loc[f"自评{self_grade}", f"复核{review_grade}"] == count
    assert crosstab.loc["合计", "合计"] == sum(count for *_, count in pairs)


def test_an_empty_list_is_one_line_of_good_news_not_an_empty_table(app):
    """2022 of the sample county has no unit to send back: the view says so instead of a table."""
    app.query_params["year"] = "2022"
    app.query_params["quality_view"] = "需退回修改的单位"
    app.run()
    app.switch_page("views/quality.py").run()
    assert not app.exception, [e.value for e in app.exception]
    assert "没有需要退回修改的单位。" in [s.value for s in app.success]
    assert len(app.dataframe) == 0
    app.query_params["year"] = str(YEAR)  # 2024 has units to send back: the same view is a table
    app.run()
    assert len(app.dataframe) == 1 and "没有需要退回修改的单位。" not in [s.value for s in app.success]


def test_a_static_table_shows_cells_as_the_grid_formats_them_and_text_literally():
    import pandas as pd

    from dashboard import ui

    name = "A*(B)_局 [甲]"
    frame = pd.DataFrame({"单位名称": [ui.unit_link(name, YEAR)], "预算数（万元）": [12345.678],
                          "支出率（%）": [86.4712], "单位数": [3], "说明": ["$1 :red[x]"]})
    config = ui._column_config(frame, linked=True)
    html = ui.static_cells(frame, config).to_html()
    # Markdown: the name is escaped text, the address has the characters that would end the link encoded
    assert r"[A\*\(B\)\_局 \[甲\]](unit?year=2024&unit=A*%28B%29_局%20%5B甲%5D)" in html
    assert r"12\,345\.68" in html and r"86\.47" in html and ">3<" in html
    assert r"\$1 \:red\[x\]" in html  # no LaTeX, no colour directive
    assert "text-align: right" in html
    # the values themselves are kept (AppTest and downloads read them)
    assert ui.static_cells(frame, config).data.equals(frame)


def test_the_execution_pages_lowest_units_are_a_static_table_with_downloads(app):
    app.run()
    app.switch_page("views/execution.py").run()
    assert not app.exception, [e.value for e in app.exception]
    assert not app.dataframe  # no table grid: the lowest N are a fixed, short list
    lowest = next(t.value for t in app.table if "A3自评满分" in t.value.columns)
    assert len(lowest) == settings.EXTREMES_DEFAULT
    assert [b.label for b in app.get("download_button")] == ["下载 Excel", "下载 CSV"]
