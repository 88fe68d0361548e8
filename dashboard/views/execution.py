"""预算执行: the pooled rates, then one view at a time: the lowest units and whether they claimed
full marks, the 地区 / 主管部门 compared, the rates charted, budget size against rate, execution
in depth (年初预算, 基本支出, 项目支出, 预算调整), the units low two years running, every unit's table.

Up to settings.PER_UNIT_CHART_LIMIT units the charts draw every unit; beyond, distributions,
the lowest and highest N and group aggregates (every pooled rate is a sum over a sum).
"""

import streamlit as st

from dashboard import data, derived, filters, levels, ui
from pipeline import settings
from presentation import aggregates, figures
from presentation import tables
from pipeline.scoring.framework import scoring_note

chosen = filters.current()
st.title(f"预算执行 · {chosen.year} 年度")
code, scoring = scoring_note(chosen.year, "execution_rate")
code = code or "A3"
st.caption(f"预算资金支出率 = 支出决算数（第13行）÷ 财政下达预算数（第12行）。{scoring}")

scores = ui.filtered_scores(chosen)
per_unit = figures.shows_units(scores)
rates = levels.cached(aggregates.pooled_rates, scores)
low_line = settings.LOW_EXECUTION_RATE
flagged = int(scores["low_execution_two_years"].fillna(False).astype(bool).sum())
columns = st.columns(6)
for column, rate in zip(columns, (*aggregates.EXECUTION_RATES, "budget_adjustment_rate")):
    column.metric(aggregates.label(rate), ui.percent(rates[rate]),
                  help=f"{aggregates.RATES[rate][0].__doc__}；各单位金额之和相除，不是各单位比率的平均")
columns[5].metric(f"连续两年低于 {low_line:.0%}", f"{flagged} 个单位")

LOWEST, EXTREMES, SIZE, DEPTH, ADJUSTMENT, TWO_YEARS, EVERY_UNIT = (
    "最低的单位", "最低和最高", "预算规模", "执行分解", "预算调整率", "连续两年偏低", "各单位")
RATES = "支出率图" if per_unit else "支出率分布"
compared = levels.comparison_view(scores, chosen)
views = [LOWEST, *compared, RATES, *([] if per_unit else [EXTREMES]), SIZE, DEPTH,
         *([] if per_unit else [ADJUSTMENT]), TWO_YEARS, EVERY_UNIT]
view = levels.choose_view("execution_view", views)


def reference_line() -> float:
    """The officer's reference rate (fraction), bound to ?ref= (in %)."""
    return st.slider("参考线（%）", min_value=50, max_value=100, value=int(round(low_line * 100)), step=1,
                     key="ref", bind="query-params", width=400) / 100


if view == LOWEST:
    count = levels.extremes_count()
    indicators = derived.read(data.indicator_scores, chosen.year, code)  # all the table needs: one indicator
    lowest = levels.cached(tables.lowest_execution_table, scores, indicators, int(count), code)
    claimed = int((lowest[f"{code}自评满分"] == "是").sum())
    st.subheader(f"支出率最低的 {int(count)} 个单位：是否自评满分")
    st.caption(f"其中 {claimed} 个单位的 {code} 自评为满分，复核按实际支出率计分。")
    ui.table(lowest, title="支出率最低的单位", key="lowest", page_filters=[("支出率最低的单位数", str(int(count)))],
             static=True)
elif levels.is_comparison(view):
    levels.compare(scores, chosen, value=aggregates.label("execution_rate") + tables.PCT,
                   title="预算资金支出率", axis_title="预算资金支出率（%，支出之和 ÷ 预算之和）",
                   reference=reference_line() * 100, key="execution_levels")
elif view == RATES:
    reference = reference_line()
    if per_unit:
        ui.figure(levels.cached(figures.execution_by_unit, scores, reference), key="execution_chart")
    else:
        ui.figure(levels.cached(figures.histogram, scores, "execution_rate", title="预算资金支出率",
                                axis_title="预算资金支出率（%）", colour_by="unit_type", reference=reference),
                  key="execution_histogram")
elif view == EXTREMES:
    left, right = st.columns(2)
    count = levels.extremes_count(left)
    with right:
        reference = reference_line()
    low, high = levels.cached(aggregates.extremes, scores, "execution_rate", count)
    ui.figure(levels.cached(figures.extremes, low, high, "execution_rate", title=f"支出率最低和最高的 {int(count)} 个单位",
                            axis_title="预算资金支出率（%）", reference=reference), key="execution_extremes")
elif view == SIZE:
    reference = reference_line()
    if per_unit:
        ui.figure(levels.cached(figures.budget_against_rate, scores, reference), key="execution_scatter")
    else:
        sized = levels.cached(aggregates.with_size_bands, scores)
        ui.figure(levels.cached(figures.box_by_group, sized, "execution_rate", "size_band", title="预算规模分档的支出率",
                                axis_title="预算资金支出率（%）", reference=reference), key="execution_bands")
elif view == DEPTH:
    st.caption("年初预算执行率 = 支出决算数 ÷ 年初支出预算数（第9行）；基本支出执行率 = 基本支出（第14行）÷ 年初基本支出预算"
               "（第10行）；项目支出执行率 = 项目支出（第15行）÷ 年初项目支出预算（第11行）；"
               "预算调整率 = （财政下达预算数 − 年初支出预算数）÷ 年初支出预算数。")
    reference = reference_line()
    left, right = st.columns([2, 3])
    with left:
        ui.figure(levels.cached(figures.execution_depth_totals, rates, reference), key="execution_depth_totals",
                  toolbar=False)
    with right:
        if per_unit:
            ui.figure(levels.cached(figures.execution_depth_by_unit, scores, reference), key="execution_depth_units")
        else:
            by, by_label = levels.grouping(scores, chosen)
            group_table = levels.cached(aggregates.group_table, scores, by)
            ui.figure(levels.cached(figures.execution_depth_by_group, group_table, by_label, reference_rate=reference),
                      key="execution_depth_groups")
elif view == ADJUSTMENT:
    ui.figure(levels.cached(figures.histogram, scores, "budget_adjustment_rate", title="预算调整率",
                            axis_title="预算调整率（%）", colour_by="unit_type"), key="execution_adjustment")
elif view == TWO_YEARS:
    st.subheader(f"连续两年支出率低于 {low_line:.0%} 的单位（{flagged} 个）")
    if flagged:
        previous = derived.scores(chosen, year=chosen.year - 1, grades=False)
        ui.table(levels.cached(aggregates.low_two_years_table, scores, previous), title="连续两年支出率偏低",
                 key="low_two_years")
    else:
        st.success(f"没有连续两年支出率低于 {low_line:.0%} 的单位。")
elif per_unit:
    ui.table(levels.cached(tables.execution_table, scores), title="预算执行", key="execution")
    st.subheader("各单位预算执行分解")
    ui.table(levels.cached(aggregates.execution_depth_table, scores), title="预算执行分解", key="execution_depth")
else:
    # One table of every unit, not two: one set of search, sort and page controls.
    ui.table(levels.cached(aggregates.execution_with_depth_table, scores), title="预算执行", key="execution")
