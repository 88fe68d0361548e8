"""绩效目标: the counts, then one view at a time: every unit's completion of its 绩效目标表, the
completion charted (the distribution and the lowest and highest N beyond
settings.PER_UNIT_CHART_LIMIT units), missed targets without a reason, units without a 绩效目标表."""

import streamlit as st

from dashboard import data, derived, filters, levels, ui
from presentation import aggregates, figures, tables
from presentation import targets as target_views

chosen = filters.current()
st.title(f"绩效目标完成情况 · {chosen.year} 年度")
scores = derived.scores(chosen)
if scores.empty:
    ui.empty()
    st.stop()
rows = levels.cached(tables.rows_of_units, derived.read(data.targets, chosen.year), scores)

county = levels.cached(target_views.county_targets, rows)
without = levels.cached(target_views.units_without_targets, scores, rows)
columns = st.columns(4)
columns[0].metric("填报绩效目标表的单位", f"{county.units} 家", help=f"未填报：{len(without)} 家")
columns[1].metric("绩效目标", f"{county.targets} 个", help=f"完全完成 {county.met} 个")
columns[2].metric("平均加权完成度", ui.percent(county.completion),
                  help="各单位加权完成度的平均（每个单位计一次）；无法核实的目标按未完成计")
columns[3].metric("未完成且未说明原因", f"{county.missed_without_reason} 个")

if rows.empty:
    st.info("当前筛选条件下没有单位填报绩效目标表，A1、A2 均按自评得分计。")
    st.stop()

summary = levels.cached(target_views.unit_completion, rows)
per_unit = figures.shows_units(summary)
EVERY_UNIT, EXTREMES, MISSED, WITHOUT = "各单位", "最低和最高", "未说明原因的目标", "没有目标表的单位"
CHART = "完成度图" if per_unit else "完成度分布"
views = [EVERY_UNIT, CHART, *([] if per_unit else [EXTREMES]), MISSED, *([WITHOUT] if len(without) else [])]
view = levels.choose_view("targets_view", views)

if view == EVERY_UNIT:
    ui.table(levels.cached(target_views.completion_table, summary), title="各单位绩效目标完成情况", key="targets_units")
elif view == CHART and per_unit:
    ui.figure(levels.cached(target_views.completion_by_unit, summary), key="targets_by_unit")
elif view == CHART:
    ui.figure(levels.cached(figures.histogram, summary, "completion", title="绩效目标加权完成度",
                            axis_title="加权完成度（%）", colour_by="unit_type"), key="targets_histogram")
elif view == EXTREMES:
    count = levels.extremes_count()
    low, high = levels.cached(aggregates.extremes, summary, "completion", count)
    ui.figure(levels.cached(figures.extremes, low, high, "completion", title=f"加权完成度最低和最高的 {count} 个单位",
                            axis_title="加权完成度（%）"), key="targets_extremes")
elif view == MISSED:
    st.subheader("未完成且未说明原因的目标")
    missed = levels.cached(target_views.missed_without_reason_table, rows)
    ui.table(missed, title="未说明原因的未完成目标", key="targets_missed", when_empty="未完成的目标都写明了偏差原因。")
else:
    st.subheader("没有绩效目标表的单位")
    st.caption("这些单位的 A1、A2 无法复核，复核得分按自评得分计。")
    if figures.shows_units(without):
        st.write("、".join(without["单位名称"]))
    else:
        ui.table(without, title="没有绩效目标表的单位", key="targets_without")
