"""等级与得分: the counts, then one view at a time: the grades counted (self against review, a
static table: opening the page loads no chart library and no table grid), self-score against 复核得分, the grades, the
地区 / 主管部门 compared, every unit's self-score and review, indicator-level deductions, grade
flows between years. Beyond settings.PER_UNIT_CHART_LIMIT units the scatter becomes a density
and the deductions are averaged per 地区 / 主管部门 / 单位类型."""

import streamlit as st

from dashboard import data, derived, filters, levels, ui
from presentation import aggregates, figures
from presentation import tables
from pipeline.scoring.framework import grade_note

chosen = filters.current()
st.title(f"等级与得分 · {chosen.year} 年度")
st.caption(grade_note(chosen.year))

scores = ui.filtered_scores(chosen)
per_unit = figures.shows_units(scores)
inflated = int((scores["inflation"] > 0).sum())
mismatched = int((scores["self_grade"] != scores["review_grade"]).sum())
columns = st.columns(3)
columns[0].metric("自评高于复核的单位", f"{inflated} 个")
columns[1].metric("自评等级与复核等级不一致", f"{mismatched} 个")
columns[2].metric("平均高出", ui.points(scores["inflation"].mean()))

COUNTS, SCATTER, GRADES, TABLE, HEATMAP, FLOWS = ("等级对照", "自评与复核", "等级分布", "对照表", "指标扣分",
                                                  "等级流向")
compared = levels.comparison_view(scores, chosen, sort_by="review_score")
view = levels.choose_view("grades_view", [COUNTS, SCATTER, GRADES, *compared, TABLE, HEATMAP, FLOWS])

if view == COUNTS:
    left, right = st.columns([2, 3])
    left.markdown("**各等级单位数**")
    left.table(levels.cached(tables.grade_distribution, scores), hide_index=True)
    right.markdown("**自评等级（行）与复核等级（列）**：对角线上为等级一致的单位")
    right.table(levels.cached(tables.grade_crosstab, scores))
elif view == SCATTER:
    scatter = levels.cached(figures.self_against_review if per_unit else figures.self_against_review_density,
                            scores)
    ui.figure(scatter, key="grades_scatter")
elif view == GRADES:
    ui.figure(levels.cached(figures.grade_distribution, scores), key="grades_distribution", toolbar=False)
elif levels.is_comparison(view):
    levels.compare(scores, chosen, value="平均复核得分", sort_by="review_score", title="平均复核得分",
                   axis_title="平均复核得分（分）", key="grades_levels")
elif view == TABLE:
    st.subheader("自评与复核对照")
    ui.table(levels.cached(tables.inflation_table, scores), title="自评与复核对照", key="inflation")
elif view == HEATMAP:
    st.subheader("指标扣分热力图")
    basis_label = st.radio("口径", ["复核扣分（分值 − 复核得分）", "自评高出复核"], horizontal=True, key="basis",
                           bind="query-params")
    basis = "review" if basis_label.startswith("复核") else "inflation"
    indicators = levels.cached(tables.rows_of_units, derived.read(data.indicator_scores, chosen.year), scores)
    if indicators.empty:
        ui.empty("没有指标得分。")
    elif per_unit:
        ui.figure(levels.cached(figures.deduction_heatmap, indicators, basis=basis), key="grades_heatmap")
    else:
        by, by_label = levels.grouping(scores, chosen)
        ui.figure(levels.cached(figures.deduction_heatmap_by_group, indicators,
                                levels.cached(aggregates.group_of_unit, scores, by), basis=basis, label=by_label),
                  key="grades_heatmap")
else:
    st.subheader(f"复核等级流向（{chosen.year - 1} → {chosen.year}）")
    changes = derived.rows(derived.read(data.unit_changes, chosen.year), chosen)
    if changes.empty:
        ui.empty(f"{chosen.year - 1} 年没有可比数据。")
    else:
        left, right = st.columns([3, 2])
        with left:
            ui.figure(levels.cached(figures.grade_flows, changes), key="grades_flows")
        with right:
            ui.table(levels.cached(tables.grade_flow_table, changes), title="等级流向", key="grade_flows", static=True)
