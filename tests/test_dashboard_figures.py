"""Figure builders and table builders are pure: frames in, figures / frames out."""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go
import pytest

from presentation import figures
from presentation import tables

REFERENCE_UNIT = "遂溪县人民政府办公室"


def _scores() -> pd.DataFrame:
    """Three units of one year, amounts in 元 and rates as fractions, as unit_scores holds them."""
    return pd.DataFrame({
        "unit_name": [REFERENCE_UNIT, "遂溪县甲局", "遂溪县乙镇人民政府"],
        "unit_type": ["行政单位", "事业单位", "乡镇"],
        "department": [REFERENCE_UNIT, "遂溪县甲局", "遂溪县乙镇人民政府"],
        "year": [2024, 2024, 2024],
        "budget_issued": [8397200.18, 2_000_000.0, 0.0],
        "spent": [8374036.75, 1_500_000.0, 0.0],
        "execution_rate": [8374036.75 / 8397200.18, 0.75, None],
        "basic_share": [0.84, 0.5, None],
        "carryover": [29911.13, 500_000.0, 0.0],
        "carryover_rate": [0.0036, 0.25, None],
        "public_control_rate": [0.6606, 1.02, None],
        "sangong_budget": [340000.0, 100_000.0, 50_000.0],
        "sangong_spent": [256929.66, 120_000.0, 40_000.0],
        "sangong_control_rate": [256929.66 / 340000.0, 1.2, 0.8],
        "sangong_abroad": [None, 0.0, None],
        "sangong_vehicles": [None, 80_000.0, None],
        "sangong_reception": [None, 40_000.0, None],
        "self_score": [98.0, 95.0, 88.0],
        "self_grade": ["优", "优", "良"],
        "review_score": [97.97, 89.5, 88.0],
        "review_grade": ["优", "良", "良"],
        "inflation": [0.03, 5.5, 0.0],
        "rank": [1, 2, 3],
        "rank_in_type": [1, 1, 1],
        "rank_in_department": [1, 1, 1],
        "errors": [0, 1, 0],
        "must_resubmit": [False, True, False],
    })


def _indicators() -> pd.DataFrame:
    rows = []
    for unit, a3_self, a3_review, b6_review in ((REFERENCE_UNIT, 10, 9.97, 9), ("遂溪县甲局", 10, 7.5, 10),
                                               ("遂溪县乙镇人民政府", 8, 0, 10)):
        rows.append(dict(unit_name=unit, year=2024, code="A3", level3="部门预算资金支出率", max_score=10.0,
                         self_score=float(a3_self), review_score=float(a3_review)))
        rows.append(dict(unit_name=unit, year=2024, code="B6", level3="采购管理", max_score=10.0,
                         self_score=float(b6_review), review_score=float(b6_review)))
    return pd.DataFrame(rows)


def test_county_rate_is_sum_of_spending_over_sum_of_budget():
    totals = tables.county_totals(_scores())
    assert totals.execution_rate == pytest.approx((8374036.75 + 1_500_000) / (8397200.18 + 2_000_000))
    # not the mean of the units' rates
    assert totals.execution_rate != pytest.approx((0.99724 + 0.75) / 2, abs=1e-3)
    assert totals.sangong_control_rate == pytest.approx((256929.66 + 120_000 + 40_000) / 490_000)
    assert totals.mean_review_score == pytest.approx((97.97 + 89.5 + 88.0) / 3)


def test_ranking_table_shows_wanyuan_free_percentages_and_chinese_headers():
    table = tables.ranking_table(_scores())
    assert list(table["单位名称"]) == [REFERENCE_UNIT, "遂溪县甲局", "遂溪县乙镇人民政府"]
    assert table.loc[0, "预算资金支出率（%）"] == pytest.approx(99.72)
    assert table.loc[0, "三公经费控制率（%）"] == pytest.approx(75.57)
    assert pd.isna(table.loc[2, "预算资金支出率（%）"])
    assert table.loc[1, "需退回修改"] == "是"
    assert all(any("\u4e00" <= ch <= "\u9fff" for ch in header) for header in table.columns)


def test_lowest_execution_leaves_out_zero_budgets_and_flags_full_a3_claims():
    lowest = tables.lowest_execution_table(_scores(), _indicators(), 5)
    assert list(lowest["单位名称"]) == ["遂溪县甲局", REFERENCE_UNIT]
    assert list(lowest["A3自评满分"]) == ["是", "是"]
    assert list(lowest["A3复核得分"]) == [7.5, 9.97]
    assert lowest.loc[1, "财政下达预算数（万元）"] == pytest.approx(839.72)


def test_sangong_table_marks_overruns():
    table = tables.sangong_table(_scores())
    assert table.loc[0, "单位名称"] == "遂溪县甲局"
    assert table.loc[0, "是否超预算"] == "是"
    assert set(table.loc[1:, "是否超预算"]) == {"否"}
    assert table.loc[0, "公务用车购置及运行维护费（万元）"] == pytest.approx(8.0)
    styles = tables.overrun_styles(table)
    assert styles.shape == table.shape
    assert set(styles.loc[0]) == {tables.OVERRUN_STYLE}  # the whole overrun row is red
    assert set(styles.loc[1:].to_numpy().ravel()) == {""}


def test_execution_chart_marks_units_below_the_reference_line():
    figure = figures.execution_by_unit(_scores(), reference_rate=0.9)
    bar = figure.data[0]
    assert isinstance(bar, go.Bar)
    # zero-budget unit has no rate: left out, not shown as 0 %
    assert list(bar.y) == [REFERENCE_UNIT, "遂溪县甲局"]
    assert list(bar.x) == pytest.approx([99.72, 75.0])
    assert bar.marker.color[1] == figures.OVER_COLOUR and bar.marker.color[0] == figures.UNDER_COLOUR
    assert figure.layout.shapes[0].x0 == pytest.approx(90)
    assert "（%）" in figure.layout.xaxis.title.text
    assert "Noto Sans CJK SC" in figure.layout.font.family


def test_score_ranking_puts_best_on_top_with_self_scores_beside():
    figure = figures.score_ranking(_scores())
    bars, markers = figure.data
    assert list(bars.y)[-1] == REFERENCE_UNIT  # plotly draws the last category on top
    assert dict(zip(markers.y, markers.x))[REFERENCE_UNIT] == 98.0
    assert bars.marker.color[-1] == figures.GRADE_COLOURS["优"]


def test_budget_scatter_uses_wanyuan_on_a_log_axis():
    figure = figures.budget_against_rate(_scores())
    points = [trace for trace in figure.data if "markers" in trace.mode]
    xs = sorted(x for trace in points for x in trace.x)
    assert xs == pytest.approx([200.0, 839.72])
    assert figure.layout.xaxis.type == "log"
    assert "万元" in figure.layout.xaxis.title.text
    assert figure.layout.xaxis.dtick == 1  # 1, 10, 100 … not 2 3 4 … 1000


def test_budget_scatter_names_the_units_below_the_reference_line():
    scores = _scores()
    figure = figures.budget_against_rate(scores, reference_rate=0.999)
    labels = [t for trace in figure.data if trace.mode == "text" for t in trace.text]
    below = scores[scores["execution_rate"] < 0.999].dropna(subset=["budget_issued"])
    below = below[below["budget_issued"] > 0]
    assert sorted(labels) == sorted(below["unit_name"]) and labels


def test_grade_flow_table_lists_grades_best_first():
    changes = pd.DataFrame({"previous_review_grade": ["良", "中", "优", "差", "优"],
                            "review_grade": ["优", "良", "中", "中", "优"]})
    table = tables.grade_flow_table(changes)
    assert list(table["上年复核等级"]) == ["优", "优", "良", "中", "差"]
    assert list(table["本年复核等级"][:2]) == ["优", "中"]


def test_a_single_unit_counts_in_whole_units_and_its_trend_starts_at_zero():
    figure = figures.grade_distribution(_scores().iloc[[0]])
    assert figure.layout.yaxis.dtick == 1 and figure.layout.yaxis.tickformat == ",d"
    history = pd.concat([_scores().iloc[[0]].assign(year=2023, review_score=95.1), _scores().iloc[[0]]])
    trend = figures.unit_trend(history)
    assert list(trend.layout.yaxis.range) == [0, 105] and trend.layout.yaxis2.range[0] == 0


def test_sangong_composition_only_for_units_that_gave_the_breakdown():
    figure = figures.sangong_composition(_scores())
    assert [trace.name for trace in figure.data] == ["因公出国（境）费", "公务用车购置及运行维护费", "公务接待费"]
    assert all(list(trace.y) == ["遂溪县甲局"] for trace in figure.data)
    assert [list(trace.x)[0] for trace in figure.data] == pytest.approx([0.0, 8.0, 4.0])


def test_sangong_totals_by_year_sum_every_unit():
    two_years = pd.concat([_scores(), _scores().assign(year=2023, sangong_spent=[10_000.0, 20_000.0, 30_000.0])])
    figure = figures.sangong_totals_by_year(two_years)
    budget, spent = figure.data
    assert list(budget.x) == ["2023", "2024"]
    assert list(spent.y) == pytest.approx([6.0, 41.69])


def test_self_against_review_colours_inflated_units():
    figure = figures.self_against_review(_scores())
    points = figure.data[1]
    assert list(points.text) == [REFERENCE_UNIT, "遂溪县甲局", "遂溪县乙镇人民政府"]
    assert list(points.marker.color) == [figures.OVER_COLOUR, figures.OVER_COLOUR, figures.UNDER_COLOUR]
    over_100 = _scores().assign(self_score=[100.61, 95.0, 88.0])
    assert figures.self_against_review(over_100).layout.yaxis.range[1] > 100.61


def test_deduction_heatmap_counts_points_off_per_indicator():
    figure = figures.deduction_heatmap(_indicators())
    heat = figure.data[0]
    assert list(heat.x) == ["A3", "B6"]
    rows = dict(zip(heat.y, heat.z.tolist()))
    assert rows["遂溪县乙镇人民政府"] == pytest.approx([10.0, 0.0])
    assert rows[REFERENCE_UNIT] == pytest.approx([0.03, 1.0])
    assert list(heat.y)[0] == "遂溪县乙镇人民政府"  # most points off first
    inflation = figures.deduction_heatmap(_indicators(), basis="inflation").data[0]
    assert dict(zip(inflation.y, inflation.z.tolist()))["遂溪县乙镇人民政府"] == pytest.approx([8.0, 0.0])


def test_grade_flows_link_last_year_to_this_year():
    changes = pd.DataFrame({
        "unit_name": ["甲", "乙", "丙"],
        "previous_review_grade": ["优", "优", "良"],
        "review_grade": ["优", "良", "良"],
    })
    sankey = figures.grade_flows(changes).data[0]
    links = sorted(zip(sankey.link.source, sankey.link.target, sankey.link.value))
    assert links == [(0, 4, 1), (0, 5, 1), (1, 5, 1)]
    assert sankey.node.label[0] == "上年 优" and sankey.node.label[5] == "本年 良"


def test_grade_distribution_counts_self_and_review():
    self_bars, review_bars = figures.grade_distribution(_scores()).data
    assert list(self_bars.y) == [2, 1, 0, 0]
    assert list(review_bars.y) == [1, 2, 0, 0]


def test_unit_trend_has_scores_and_rate_on_two_axes():
    history = pd.concat([_scores().iloc[[0]].assign(year=2023, execution_rate=0.95), _scores().iloc[[0]]])
    figure = figures.unit_trend(history)
    assert [trace.name for trace in figure.data] == ["复核得分（分）", "自评得分（分）", "预算资金支出率（%）"]
    assert list(figure.data[2].y) == pytest.approx([95.0, 99.72])
    assert figure.data[2].yaxis == "y2"


def test_data_lines_table_splits_amounts_from_counts():
    lines = pd.DataFrame({"line": [13, 24], "item": ["支出决算数", "追加预算笔数（笔）"],
                          "amount": [8374036.75, 1.0], "source_cell": ["数据表!C16", "数据表!C27"],
                          "source_value": ["8,374,036.75", "1"]})
    table = tables.data_lines_table(lines)
    assert table.loc[0, "金额（万元）"] == pytest.approx(837.40)
    assert table.loc[0, "金额（元）"] == pytest.approx(8374036.75)
    assert pd.isna(table.loc[1, "金额（万元）"]) and table.loc[1, "笔数/个数"] == 1
    assert list(table["来源单元格"]) == ["数据表!C16", "数据表!C27"]


def test_report_figures_are_shown_in_their_own_units():
    figures_ = pd.DataFrame({
        "item": ["execution_rate", "r13", "score.A3", "self_grade", "r24"],
        "value": [1.0, 8374036.75, 10.0, None, 1.0],
        "text_value": [None, None, None, "优", None],
        "sentence": ["句一", "句二", "句三", "句四", "句五"],
        "file": ["报告.txt"] * 5,
    })
    table = tables.report_figures_table(figures_)
    assert list(table["项目"]) == ["预算资金支出率", "第13行 支出决算数", "A3 自评得分", "自评等级",
                                 "第24行 追加预算笔数（笔）"]
    assert table.loc[0, "报告所述比率（%）"] == pytest.approx(100.0)
    assert table.loc[1, "报告所述金额（万元）"] == pytest.approx(837.40)
    assert pd.isna(table.loc[1, "报告所述比率（%）"])
    assert table.loc[2, "报告所述得分或笔数"] == 10.0 and table.loc[4, "报告所述得分或笔数"] == 1.0
    assert table.loc[3, "报告所述文字"] == "优"


def test_filing_dates_lose_their_time_of_day():
    files = pd.DataFrame({"state": ["quarantined", "loaded"], "file": ["a.xlsx", "b.xlsx"],
                          "kind": ["workbook", "workbook"], "unit_name": ["甲", "乙"], "year": [2024, 2024],
                          "filed_on": pd.to_datetime(["2025-07-19", "2025-07-20"]), "reason": ["缺表", None]})
    table = tables.problem_files_table(files)
    assert len(table) == 1 and table.loc[0, "状态"] == "已隔离"
    assert str(table.loc[0, "填报日期"]) == "2025-07-19"


def test_findings_table_names_each_rule_in_words():
    findings = pd.DataFrame({
        "severity": ["error", "warning"], "unit_name": ["遂溪县甲局", "遂溪县乙局"], "year": [2024, 2024],
        "location": ["数据表!C16", "自评报告 第57段"], "rule": ["identity.r13", "report.mismatch.execution_rate"],
        "message": ["…", "…"], "found": ["1", "100%"], "expected": ["2", "99.72%"], "file": ["a.xlsx", "a.txt"],
    })
    table = tables.findings_table(findings)
    assert list(table["问题类型"]) == ["勾稽关系不符（行次13）", "自评报告与表格不一致"]
    assert list(table["规则"]) == ["identity.r13", "report.mismatch.execution_rate"]  # ids kept for filtering
    assert list(table["严重程度"]) == ["错误", "提示"]
