"""Every page of the dashboard under Streamlit's AppTest, on the sample warehouse."""

from __future__ import annotations

import urllib.parse
from pathlib import Path

import duckdb
import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

APP = Path(__file__).resolve().parent.parent / "dashboard" / "app.py"
PAGES = {
    "views/overview.py": "总览",
    "views/ranking.py": "排名",
    "views/execution.py": "预算执行",
    "views/sangong.py": "三公经费",
    "views/grades.py": "等级与得分",
    "views/unit_detail.py": "单位详情",
    "views/quality.py": "数据质量",
    "views/rectification.py": "退回与整改",
    "views/review.py": "复核",
    "views/targets.py": "绩效目标完成情况",
}
REFERENCE_UNIT = "遂溪县人民政府办公室"
YEAR = 2024
TIMEOUT = 30


def _fetch(db: Path, sql: str, *params):
    with duckdb.connect(str(db), read_only=True) as con:
        return con.execute(sql, list(params)).fetchall()


@pytest.fixture
def app(sample_warehouse: Path, monkeypatch) -> AppTest:
    monkeypatch.setenv("PERF_DB", str(sample_warehouse))
    return AppTest.from_file(str(APP), default_timeout=TIMEOUT)


def _open(app: AppTest, page: str, **query) -> AppTest:
    for key, value in query.items():
        app.query_params[key] = value
    app.run()
    if page != "views/overview.py":
        app.switch_page(page).run()
    assert not app.exception, [e.value for e in app.exception]
    return app


def unit_of_link(value):
    """The unit a 单位名称 link opens (unit?year=…&unit=…), checked to be a 单位详情 link."""
    if not isinstance(value, str) or not value.startswith("unit?"):
        return value
    query = urllib.parse.parse_qs(urllib.parse.urlsplit(value).query)
    assert set(query) == {"year", "unit"}, value
    return query["unit"][0]


def _frame(app: AppTest, first_header: str, *more_headers: str):
    for element in [*app.dataframe, *app.table]:  # an interactive grid or a static table
        frame = element.value
        if list(frame.columns[: 1 + len(more_headers)]) == [first_header, *more_headers]:
            if "单位名称" in frame:
                frame = frame.assign(单位名称=frame["单位名称"].map(unit_of_link))
            return frame
    raise AssertionError(f"no table starting with {first_header}")


@pytest.mark.parametrize("page", list(PAGES))
def test_page_runs_without_exception(app, page):
    _open(app, page, year=str(YEAR))
    assert any(PAGES[page] in title.value for title in app.title)
    assert not app.error


@pytest.mark.parametrize("page", list(PAGES))
def test_page_runs_for_the_first_year_and_a_narrow_filter(app, page, sample_warehouse):
    """The first year has no previous year to compare with; 差 may match no unit at all."""
    (earliest,), = _fetch(sample_warehouse, "SELECT min(year) FROM submission_status")
    _open(app, page, year=str(earliest), grade="差")
    assert any(f"{earliest} 年度" in title.value for title in app.title)
    assert not app.error


def test_ranking_lists_every_loaded_unit_in_warehouse_order(app, sample_warehouse):
    _open(app, "views/ranking.py", year=str(YEAR))
    ranking = _frame(app, "排名", "单位名称")
    expected = _fetch(sample_warehouse, "SELECT rank, unit_name, review_score FROM unit_scores WHERE year = ? "
                                        "ORDER BY rank, unit_name", YEAR)
    # a unit not on the roster is listed after the ranked ones, without a rank (contract section 8)
    assert [(None if r is None else int(r), n) for r, n, _ in expected] == [
        (None if pd.isna(r) else int(r), n) for r, n in zip(ranking["排名"], ranking["单位名称"])]
    reference = ranking[ranking["单位名称"] == REFERENCE_UNIT].iloc[0]
    assert reference["复核得分"] == pytest.approx(97.97)
    assert reference["自评得分"] == pytest.approx(98)
    assert reference["预算资金支出率（%）"] == pytest.approx(99.72)


def test_every_ranked_unit_links_to_its_detail_and_its_rates_sources(app, sample_warehouse):
    _open(app, "views/ranking.py", year=str(YEAR))
    raw = next(e.value for e in app.dataframe if list(e.value.columns[:2]) == ["排名", "单位名称"])
    row = raw.iloc[0]
    unit = unit_of_link(row["单位名称"])
    sources = urllib.parse.parse_qs(urllib.parse.urlsplit(row["比率来源"]).query)
    assert urllib.parse.urlsplit(row["比率来源"]).path == "unit"
    assert sources == {"year": [str(YEAR)], "tab": ["比率的来源"], "unit": [unit]}


def test_lowest_execution_shows_a3_self_and_review_side_by_side(app, sample_warehouse):
    _open(app, "views/execution.py", year=str(YEAR), n="5")  # N of the lowest units, from the address
    lowest = _frame(app, "单位名称", "财政下达预算数（万元）", "支出决算数（万元）")
    expected = _fetch(sample_warehouse, """
        SELECT s.unit_name, s.execution_rate, s.budget_issued, a.self_score, a.review_score, a.max_score
        FROM unit_scores s JOIN indicator_scores a ON a.unit_name = s.unit_name AND a.year = s.year
        WHERE s.year = ? AND a.code = 'A3' AND s.execution_rate IS NOT NULL
        ORDER BY s.execution_rate, s.unit_name LIMIT 5""", YEAR)
    assert list(lowest["单位名称"]) == [row[0] for row in expected]
    for (_name, rate, budget, a3_self, a3_review, a3_max), (_, shown) in zip(expected, lowest.iterrows()):
        assert shown["预算资金支出率（%）"] == pytest.approx(round(rate * 100, 2))
        assert shown["财政下达预算数（万元）"] == pytest.approx(round(budget / 10_000, 2))
        assert shown["A3自评得分"] == pytest.approx(a3_self)
        assert shown["A3复核得分"] == pytest.approx(a3_review)
        assert shown["A3自评满分"] == ("是" if a3_self >= a3_max else "否")


def test_year_and_filters_come_from_the_url(app, sample_warehouse):
    (earliest,), = _fetch(sample_warehouse, "SELECT min(year) FROM unit_scores")
    (unit_type, count), = _fetch(sample_warehouse, """
        SELECT unit_type, count(*) FROM unit_scores WHERE year = ? GROUP BY unit_type
        ORDER BY count(*) DESC, unit_type LIMIT 1""", earliest)
    _open(app, "views/ranking.py", year=str(earliest), type=unit_type)
    assert any(f"{earliest} 年度" in title.value for title in app.title)
    ranking = _frame(app, "排名", "单位名称")
    assert len(ranking) == count
    assert set(ranking["单位类型"]) == {unit_type}


def test_grade_in_the_url_filters_the_ranking(app, sample_warehouse):
    _open(app, "views/ranking.py", year=str(YEAR), grade="良")
    good = _frame(app, "排名", "单位名称") if app.dataframe else None
    (expected,), = _fetch(sample_warehouse, "SELECT count(*) FROM unit_scores WHERE year = ? "
                                            "AND review_grade = '良'", YEAR)
    if expected == 0:
        assert any("没有数据" in i.value for i in app.info)
    else:
        assert len(good) == expected
        assert set(good["复核等级"]) == {"良"}


def test_unit_detail_shows_every_figure_with_its_source_cell(app, sample_warehouse):
    _open(app, "views/unit_detail.py", year=str(YEAR), unit=REFERENCE_UNIT)
    assert app.selectbox(key="unit_choice").value == REFERENCE_UNIT
    assert app.query_params["unit"] == REFERENCE_UNIT
    lines = _frame(app, "行次", "项目")
    # the unit's fixed tables are static; only a findings list (to search and sort) keeps the grid
    assert any(list(t.value.columns[:2]) == ["行次", "项目"] for t in app.table)
    assert all("问题类型" in d.value.columns for d in app.dataframe)
    expected = _fetch(sample_warehouse, "SELECT line, source_cell FROM data_lines WHERE unit_name = ? AND year = ? "
                                        "ORDER BY line", REFERENCE_UNIT, YEAR)
    assert list(zip(lines["行次"].astype(int), lines["来源单元格"])) == [(int(a), b) for a, b in expected]
    r13 = lines[lines["行次"] == 13].iloc[0]
    assert r13["金额（元）"] == pytest.approx(8374036.75)
    assert r13["金额（万元）"] == pytest.approx(837.40)
    scores = _frame(app, "代码", "一级指标")
    a3 = scores[scores["代码"] == "A3"].iloc[0]
    assert (a3["自评得分"], a3["复核得分"]) == (pytest.approx(10), pytest.approx(9.97))


def test_overview_county_rate_is_sum_over_sum(app, sample_warehouse):
    _open(app, "views/overview.py", year=str(YEAR))
    (spent, budget), = _fetch(sample_warehouse, "SELECT sum(spent), sum(budget_issued) FROM unit_scores "
                                                "WHERE year = ?", YEAR)
    shown = {metric.label: metric.value for metric in app.metric}
    assert shown["预算资金支出率"] == f"{spent / budget * 100:.2f}%"
    (in_roster,), = _fetch(sample_warehouse, "SELECT count(*) FROM submission_status WHERE year = ? AND in_roster",
                           YEAR)
    assert shown["名录单位"] == f"{in_roster} 个"


def _texts(app: AppTest) -> str:
    return " ".join(e.value for kind in (app.warning, app.error, app.info, app.success) for e in kind)


def test_a_link_to_a_quarantined_unit_says_so_and_keeps_the_unit(app, sample_warehouse):
    (unit, reason), = _fetch(sample_warehouse, "SELECT unit_name, reason FROM ingest_files WHERE year = ? AND "
                             "state = 'quarantined' AND kind = 'workbook' AND unit_name IS NOT NULL "
                             "ORDER BY unit_name LIMIT 1", YEAR)
    _open(app, "views/unit_detail.py", year=str(YEAR), unit=unit)
    assert app.query_params["unit"] == unit
    assert app.selectbox(key="unit_choice").value is None  # no other unit shown in its place
    assert "已被隔离" in _texts(app) and unit in _texts(app)
    assert not any(m.label == "复核得分" for m in app.metric)


def test_a_link_to_a_unit_outside_the_filters_or_unknown_says_why(app, sample_warehouse):
    (unit, unit_type), = _fetch(sample_warehouse, "SELECT unit_name, unit_type FROM unit_scores WHERE year = ? "
                                "ORDER BY unit_name LIMIT 1", YEAR)
    (other_type,), = _fetch(sample_warehouse, "SELECT min(unit_type) FROM unit_scores WHERE year = ? "
                            "AND unit_type <> ?", YEAR, unit_type)
    _open(app, "views/unit_detail.py", year=str(YEAR), unit=unit, type=other_type)
    assert "不在当前侧栏筛选范围内" in _texts(app) and app.query_params["unit"] == unit
    app.query_params.pop("type", None)
    fresh = AppTest.from_file(str(APP), default_timeout=TIMEOUT)
    _open(fresh, "views/unit_detail.py", year=str(YEAR), unit="遂溪县并不存在局")
    assert "没有名为“遂溪县并不存在局”的单位" in _texts(fresh)


def test_an_unknown_year_is_named_not_silently_replaced(app, sample_warehouse):
    (latest,), = _fetch(sample_warehouse, "SELECT max(year) FROM unit_scores")
    _open(app, "views/ranking.py", year="2031")
    assert "“2031”在数据仓库中没有记录" in _texts(app)
    assert any(f"{latest} 年度" in t.value for t in app.title)


def test_the_default_year_is_written_into_the_link(app, sample_warehouse):
    (latest,), = _fetch(sample_warehouse, "SELECT max(year) FROM unit_scores")
    _open(app, "views/ranking.py")
    assert app.query_params["year"] == str(latest)


def test_overview_counts_open_as_lists_of_units(app, sample_warehouse):
    outside = {n for (n,) in _fetch(sample_warehouse, "SELECT unit_name FROM submission_status WHERE year = ? "
                                    "AND submitted AND NOT in_roster", YEAR)}
    assert outside, "the sample county has a submission from outside the roster"
    _open(app, "views/overview.py", year=str(YEAR), list="outside_roster")
    listed = _frame(app, "单位编码", "单位名称")
    assert set(listed["单位名称"]) == outside
    fresh = AppTest.from_file(str(APP), default_timeout=TIMEOUT)
    _open(fresh, "views/overview.py", year=str(YEAR), list="must_resubmit")
    expected = {n for (n,) in _fetch(sample_warehouse, "SELECT unit_name FROM submission_status WHERE year = ? "
                                     "AND must_resubmit", YEAR)}
    assert set(_frame(fresh, "单位编码", "单位名称")["单位名称"]) == expected


def test_quality_counts_no_error_of_a_superseded_file(app, sample_warehouse):
    superseded = {n for (n,) in _fetch(sample_warehouse, """
        SELECT DISTINCT f.unit_name FROM findings f JOIN ingest_files i ON i.file = f.file
        WHERE i.state = 'superseded' AND i.year = ? AND f.severity = 'error'""", YEAR)}
    loaded_clean = {n for (n,) in _fetch(sample_warehouse, "SELECT unit_name FROM unit_scores WHERE year = ? "
                                         "AND errors = 0", YEAR)}
    charged = superseded & loaded_clean
    assert charged
    _open(app, "views/quality.py", year=str(YEAR))
    app.multiselect(key="severity").set_value(["error"]).run()
    listed = _frame(app, "严重程度", "单位名称")
    assert set(listed["严重程度"]) == {"错误"}
    assert not charged & set(listed["单位名称"])
    assert set(listed["文件状态"]) <= {"已入库", "已隔离", "已跳过", ""}


def test_missing_warehouse_says_run_make_pipeline(tmp_path, monkeypatch):
    monkeypatch.setenv("PERF_DB", str(tmp_path / "nowhere" / "performance.duckdb"))
    app = AppTest.from_file(str(APP), default_timeout=TIMEOUT).run()
    assert not app.exception
    text = " ".join(m.value for m in app.markdown) + " ".join(w.value for w in app.warning)
    assert "make pipeline" in text
    assert "尚未找到数据仓库" in text


def test_unreadable_warehouse_gives_a_message_not_a_traceback(tmp_path, monkeypatch):
    broken = tmp_path / "performance.duckdb"
    broken.write_bytes(b"this is not a duckdb file" * 100)
    monkeypatch.setenv("PERF_DB", str(broken))
    app = AppTest.from_file(str(APP), default_timeout=TIMEOUT).run()
    assert not app.exception
    assert any("无法读取" in e.value for e in app.error)
    assert "make pipeline" in " ".join(m.value for m in app.markdown)



def test_usage_statistics_are_off():
    import tomllib

    config = tomllib.loads((APP.parent.parent / ".streamlit" / "config.toml").read_text(encoding="utf-8"))
    assert config["browser"]["gatherUsageStats"] is False


def test_targets_page_compares_units_and_lists_missed_targets_without_reason(app, sample_warehouse):
    _open(app, "views/targets.py", year=str(YEAR))
    compared = _frame(app, "单位名称", "单位类型", "目标数")
    expected = dict(_fetch(sample_warehouse, "SELECT unit_name, count(*) FROM targets WHERE year = ? GROUP BY 1", YEAR))
    assert dict(zip(compared["单位名称"], compared["目标数"].astype(int))) == expected
    assert REFERENCE_UNIT not in set(compared["单位名称"])
    app.button_group(key="targets_view").set_value("未说明原因的目标").run()
    assert not app.exception, [e.value for e in app.exception]
    missed = _frame(app, "单位名称", "三级指标", "指标方向")
    rows = _fetch(sample_warehouse, """SELECT unit_name, name FROM targets WHERE year = ?
        AND (completion IS NULL OR completion < 1) AND (reason IS NULL OR trim(reason) = '')""", YEAR)
    assert sorted(zip(missed["单位名称"], missed["三级指标"])) == sorted(rows) and rows


def test_unit_detail_shows_the_unit_s_targets(app, sample_warehouse):
    (unit, count), = _fetch(sample_warehouse, """SELECT unit_name, count(*) FROM targets WHERE year = ?
        GROUP BY 1 ORDER BY 1 LIMIT 1""", YEAR)
    _open(app, "views/unit_detail.py", year=str(YEAR), unit=unit)
    shown = _frame(app, "一级指标", "二级指标", "三级指标")
    assert len(shown) == count and shown["完成度（%）"].between(0, 100).all()


def test_unit_detail_says_when_there_is_no_targets_sheet(app):
    _open(app, "views/unit_detail.py", year=str(YEAR), unit=REFERENCE_UNIT)
    assert any("没有报送绩效目标表" in i.value for i in app.info)
