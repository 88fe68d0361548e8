"""Figure builders and table builders are pure: frames in, figures / frames out."""

from __future__ import annotations

import duckdb
import numpy as np
import pandas as pd
import plotly.graph_objects as go
import pytest

from pipeline import settings
from presentation import aggregates, figures
from presentation import tables

REFERENCE_UNIT = "遂溪县人民政府办公室"


def _scores() -> pd.DataFrame:
    """Three units of one year, amounts in 元 and rates as fractions, as unit_scores holds them."""
    return pd.DataFrame({
        "unit_name": [REFERENCE_UNIT, "遂溪县甲局", "遂溪县乙镇人民政府"],
        "unit_type": ["行政单位", "事业单位", "乡镇"],
        "department": [REFERENCE_UNIT, "遂溪县甲局", "遂溪县乙镇人民政府"],
        "year": [2024, 2024, 2024],
        "region": ["县直", "县直", "乙镇"],
        "budget_issued": [8397200.18, 2_000_000.0, 0.0],
        "spent": [8374036.75, 1_500_000.0, 0.0],
        "execution_rate": [8374036.75 / 8397200.18, 0.75, None],
        "opening_budget": [10_850_997.08, 2_500_000.0, 0.0],
        "basic_budget": [8_171_282.08, 1_000_000.0, 0.0],
        "project_budget": [2_679_715.0, 1_500_000.0, 0.0],
        "basic_spent": [7_034_584.75, 900_000.0, 0.0],
        "project_spent": [1_339_452.0, 600_000.0, 0.0],
        "opening_execution_rate": [8374036.75 / 10_850_997.08, 0.6, None],
        "basic_execution_rate": [7_034_584.75 / 8_171_282.08, 0.9, None],
        "project_execution_rate": [1_339_452.0 / 2_679_715.0, 0.4, None],
        "budget_adjustment_rate": [(8397200.18 - 10_850_997.08) / 10_850_997.08, -0.2, None],
        "low_execution_two_years": [False, True, False],
        "basic_share": [0.84, 0.5, None],
        "carryover": [29911.13, 500_000.0, 0.0],
        "carryover_rate": [0.0036, 0.25, None],
        "public_budget": [100_000.0, 50_000.0, None],
        "public_spent": [66_060.0, 51_000.0, None],
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


# --- at a province's size: bounded marks, groups, extremes, execution in depth -----


def _province(units: int = 10_000, seed: int = 3) -> pd.DataFrame:
    """`units` made-up units of one year over 100 地区, amounts in 元, rates as fractions."""
    rng = np.random.default_rng(seed)
    regions = np.array([f"测试{i:03d}县" for i in range(100)])
    region = regions[np.arange(units) % 100]
    budget = rng.lognormal(15, 1, units)
    opening = budget * rng.uniform(0.8, 1.2, units)
    spent = budget * rng.beta(9, 1.2, units)
    basic_budget, project_budget = opening * 0.7, opening * 0.3
    basic_spent = spent * 0.72
    project_spent = spent - basic_spent
    sangong_budget = rng.uniform(2e4, 3e5, units)
    sangong_spent = sangong_budget * rng.uniform(0.5, 1.3, units)
    review = np.clip(rng.normal(85, 6, units), 40, 100).round(2)
    self_score = np.clip(review + rng.exponential(1.5, units), 0, 100).round(2)
    grade = np.select([review >= 90, review >= 80, review >= 60], ["优", "良", "中"], "差")
    parts = sangong_spent[:, None] * np.array([0.1, 0.6, 0.3])
    return pd.DataFrame({
        "unit_name": [f"{r}第{i}单位" for i, r in enumerate(region)],
        "unit_type": np.array(["行政单位", "参公事业单位", "事业单位", "乡镇"])[np.arange(units) % 4],
        "department": [f"{r}财政局" for r in region], "region": region, "year": 2024,
        "budget_issued": budget, "spent": spent, "execution_rate": spent / budget,
        "opening_budget": opening, "basic_budget": basic_budget, "project_budget": project_budget,
        "basic_spent": basic_spent, "project_spent": project_spent,
        "opening_execution_rate": spent / opening, "basic_execution_rate": basic_spent / basic_budget,
        "project_execution_rate": project_spent / project_budget,
        "budget_adjustment_rate": (budget - opening) / opening,
        "public_budget": budget * 0.05, "public_spent": budget * 0.045, "public_control_rate": 0.9,
        "sangong_budget": sangong_budget, "sangong_spent": sangong_spent,
        "sangong_control_rate": sangong_spent / sangong_budget,
        "sangong_abroad": parts[:, 0], "sangong_vehicles": parts[:, 1], "sangong_reception": parts[:, 2],
        "self_score": self_score, "self_grade": grade, "review_score": review, "review_grade": grade,
        "inflation": self_score - review, "low_execution_two_years": spent / budget < 0.8,
        "must_resubmit": np.arange(units) % 10 == 9,
    })


def marks(figure: go.Figure) -> int:
    """What the browser draws: a bar or point per value, a box per group, a cell per heatmap value."""
    total = 0
    for trace in figure.data:
        if isinstance(trace, go.Heatmap):
            total += int(np.size(trace.z))
        elif isinstance(trace, go.Box):
            total += len(trace.q1) if trace.q1 is not None else 1
        else:
            values = trace.x if trace.orientation != "h" and trace.x is not None else trace.y
            total += 0 if values is None else len(values)
    return total


MARK_LIMIT = 400


@pytest.fixture(scope="module")
def province() -> pd.DataFrame:
    return _province()


def test_per_unit_charts_stop_at_the_setting():
    assert figures.shows_units(_province(settings.PER_UNIT_CHART_LIMIT))
    assert not figures.shows_units(_province(settings.PER_UNIT_CHART_LIMIT + 1))


def test_a_per_unit_chart_of_a_province_would_draw_every_unit(province):
    # the reason the pages switch: one bar per unit
    assert marks(figures.execution_by_unit(province)) == len(province)


def test_province_figures_draw_a_bounded_number_of_marks(province):
    count = 20
    low, high = aggregates.extremes(province, "execution_rate", count)
    by_region = aggregates.group_table(province, "region")
    indicators = pd.DataFrame({"unit_name": np.repeat(province["unit_name"].to_numpy(), 2),
                               "year": 2024, "code": ["A3", "B6"] * len(province), "level3": "",
                               "max_score": 10.0, "self_score": 10.0, "review_score": 8.0})
    built = {
        "histogram": figures.histogram(province, "execution_rate", title="t", axis_title="a",
                                       colour_by="unit_type", reference=0.9),
        "box": figures.box_by_group(province, "execution_rate", "region", title="t", axis_title="a"),
        "extremes": figures.extremes(low, high, "execution_rate", title="t", axis_title="a"),
        "groups": figures.group_bars(by_region, "地区", "预算资金支出率（%）", title="t", axis_title="a"),
        "density": figures.self_against_review_density(province),
        "heatmap": figures.deduction_heatmap_by_group(indicators, province.set_index("unit_name")["region"]),
        "composition": figures.sangong_composition_by_group(province, "region"),
        "depth": figures.execution_depth_by_group(by_region, "地区"),
        "depth_totals": figures.execution_depth_totals(aggregates.pooled_rates(province)),
    }
    for name, figure in built.items():
        assert 0 < marks(figure) <= MARK_LIMIT + (DENSITY_CELLS if name == "density" else 0), name
    assert marks(built["extremes"]) == 2 * count
    # 100 地区, drawn up to the setting; the table lists them all
    assert len(built["groups"].data[0].y) == settings.GROUP_CHART_LIMIT
    assert "另有 60 组" in built["groups"].layout.title.text
    assert len(by_region) == 100


DENSITY_CELLS = figures.DENSITY_BINS ** 2


def test_histogram_counts_every_unit_once_tails_in_the_end_bins(province):
    wild = province.assign(execution_rate=province["execution_rate"].where(province.index != 0, 30.0))
    figure = figures.histogram(wild, "execution_rate", title="t", axis_title="a", colour_by="unit_type")
    assert sum(int(sum(trace.y)) for trace in figure.data) == len(wild)
    assert {trace.name for trace in figure.data} == {"行政单位", "参公事业单位", "事业单位", "乡镇"}
    # the one 3 000 % slip does not stretch the axis: bins stay within the bulk
    assert max(max(trace.x) for trace in figure.data) < 200


def test_box_statistics_are_computed_per_group(province):
    figure = figures.box_by_group(province, "execution_rate", "unit_type", title="t", axis_title="a")
    box = figure.data[0]
    medians = dict(zip(box.y, box.median))
    expected = (province.groupby("unit_type")["execution_rate"].median() * 100).to_dict()
    assert medians == pytest.approx(expected)
    assert box.boxpoints is False  # no per-unit points


def test_extremes_are_the_lowest_and_highest_without_overlap(province):
    low, high = aggregates.extremes(province, "execution_rate", 5)
    ordered = province.sort_values("execution_rate")
    assert list(low["unit_name"]) == list(ordered["unit_name"].head(5))
    assert list(high["unit_name"]) == list(ordered["unit_name"].tail(5))[::-1]
    few_low, few_high = aggregates.extremes(_scores(), "execution_rate", 5)  # 2 units have a rate
    assert len(few_low) + len(few_high) == 2
    assert set(few_low["unit_name"]).isdisjoint(few_high["unit_name"])


def test_group_rates_are_sums_over_sums_not_means(province):
    table = aggregates.group_table(province, "region")
    first = table.iloc[0]
    units = province[province["region"] == first["地区"]]
    assert first["单位数"] == len(units)
    assert first["预算资金支出率（%）"] == pytest.approx(
        round(units["spent"].sum() / units["budget_issued"].sum() * 100, 2))
    assert first["项目支出执行率（%）"] == pytest.approx(
        round(units["project_spent"].sum() / units["project_budget"].sum() * 100, 2))
    # lowest first
    assert list(table["预算资金支出率（%）"]) == sorted(table["预算资金支出率（%）"])
    pooled = aggregates.pooled_rate(_scores(), "opening_execution_rate")
    assert pooled == pytest.approx((8374036.75 + 1_500_000) / (10_850_997.08 + 2_500_000))
    assert pooled != pytest.approx((0.7717 + 0.6) / 2, abs=1e-3)


def test_group_table_puts_units_without_a_region_in_their_own_row():
    table = aggregates.group_table(_scores().assign(region=["县直", None, "乙镇"]), "region")
    assert set(table["地区"]) == {"县直", "乙镇", aggregates.NO_GROUP}
    assert table["单位数"].sum() == 3


def test_size_bands_hold_equal_counts(province):
    bands = aggregates.size_bands(province)
    counts = bands.value_counts()
    assert len(counts) == 10 and counts.min() >= 990
    assert bands.iloc[0].endswith("万元")


def test_execution_depth_table_shows_the_four_rates_and_the_flag():
    table = aggregates.execution_depth_table(_scores())
    row = table[table["单位名称"] == REFERENCE_UNIT].iloc[0]
    assert row["年初预算执行率（%）"] == pytest.approx(77.17)
    assert row["项目支出执行率（%）"] == pytest.approx(49.98)
    assert row["预算调整率（%）"] == pytest.approx(-22.61)
    assert table.iloc[0]["单位名称"] == "遂溪县甲局"  # lowest 年初预算执行率 first
    assert table.iloc[0]["连续两年支出率低于90%"] == "是"


def test_low_two_years_lists_flagged_units_with_both_years():
    scores = _scores()
    previous = scores.assign(year=2023, execution_rate=[0.95, 0.85, None])
    table = aggregates.low_two_years_table(scores, previous)
    assert list(table["单位名称"]) == ["遂溪县甲局"]
    assert table.loc[0, "2023年预算资金支出率（%）"] == pytest.approx(85.0)
    assert table.loc[0, "2024年预算资金支出率（%）"] == pytest.approx(75.0)


def test_execution_depth_figures_at_county_and_province_size(province):
    county = figures.execution_depth_by_unit(_scores())
    assert [trace.name for trace in county.data] == ["预算资金支出率", "年初预算执行率", "基本支出执行率",
                                                     "项目支出执行率"]
    opening = dict(zip(county.data[1].y, county.data[1].x))
    assert opening[REFERENCE_UNIT] == pytest.approx(77.17)
    totals = figures.execution_depth_totals(aggregates.pooled_rates(_scores())).data[0]
    assert dict(zip(totals.x, totals.y))["项目支出执行率"] == pytest.approx(
        round((1_339_452.0 + 600_000) / (2_679_715.0 + 1_500_000) * 100, 2))
    grouped = figures.execution_depth_by_group(aggregates.group_table(province, "unit_type"), "单位类型")
    assert len(grouped.data) == 4 and all(len(trace.y) == 4 for trace in grouped.data)


def test_reference_unit_2024_execution_in_depth(sample_warehouse):
    """The reference unit's 2024 figures as the pipeline computes them from raw/."""
    with duckdb.connect(str(sample_warehouse), read_only=True) as con:
        scores = con.execute("SELECT * FROM unit_scores WHERE year = 2024").df()
    row = aggregates.execution_depth_table(scores).set_index("单位名称").loc[REFERENCE_UNIT]
    assert row["年初预算执行率（%）"] == pytest.approx(77.17)
    assert row["项目支出执行率（%）"] == pytest.approx(49.98)
