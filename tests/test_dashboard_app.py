"""Every page of the dashboard under Streamlit's AppTest, on the sample warehouse."""

from __future__ import annotations

from pathlib import Path

import duckdb
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


def _frame(app: AppTest, first_header: str, *more_headers: str):
    for element in app.dataframe:
        frame = element.value
        if list(frame.columns[: 1 + len(more_headers)]) == [first_header, *more_headers]:
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
    assert [(int(r), n) for r, n, _ in expected] == list(zip(ranking["排名"].astype(int), ranking["单位名称"]))
    reference = ranking[ranking["单位名称"] == REFERENCE_UNIT].iloc[0]
    assert reference["复核得分"] == pytest.approx(97.97)
    assert reference["自评得分"] == pytest.approx(98)
    assert reference["预算资金支出率（%）"] == pytest.approx(99.72)


def test_lowest_execution_shows_a3_self_and_review_side_by_side(app, sample_warehouse):
    _open(app, "views/execution.py", year=str(YEAR))
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
    assert app.selectbox(key="unit").value == REFERENCE_UNIT
    lines = _frame(app, "行次", "项目")
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
