"""三公经费: the totals, then one view at a time: every unit (overruns first), the 地区 / 主管部门
compared, the control rate charted, the composition, the totals over the years. Beyond
settings.PER_UNIT_CHART_LIMIT units: distribution, highest and lowest N, composition by group."""

import pandas as pd
import streamlit as st

from dashboard import derived, filters, levels, ui
from presentation import aggregates, figures
from presentation import tables
from pipeline.scoring.framework import scoring_note

chosen = filters.current()
st.title(f"三公经费 · {chosen.year} 年度")
st.caption("三公经费控制率 = 三公经费实际支出数（第20行）÷ 三公经费预算数（第19行）；超过 100% 即超预算。"
           + scoring_note(chosen.year, "sangong_control_rate")[1])

scores = ui.filtered_scores(chosen)
per_unit = figures.shows_units(scores)
totals = levels.cached(tables.county_totals, scores)
columns = st.columns(4)
columns[0].metric("三公经费预算数", ui.wanyuan(totals.sangong_budget))
columns[1].metric("三公经费实际支出数", ui.wanyuan(totals.sangong_spent))
columns[2].metric("三公经费控制率（合计）", ui.percent(totals.sangong_control_rate))
overruns = int((pd.to_numeric(scores["sangong_control_rate"], errors="coerce") > 1).sum())
columns[3].metric("超预算单位", f"{overruns} 个")

EVERY_UNIT, EXTREMES, COMPOSITION, YEARS = "各单位", "最低和最高", "构成", "历年合计"
RATES = "控制率图" if per_unit else "控制率分布"
compared = levels.comparison_view(scores, chosen, sort_by="sangong_control_rate", over_is_bad=True)
views = [EVERY_UNIT, *compared, RATES, *([] if per_unit else [EXTREMES]), COMPOSITION, YEARS]
view = levels.choose_view("sangong_view", views)

if view == EVERY_UNIT:
    st.subheader("各单位三公经费（超预算的排在前面，整行标红）")
    # Only the rows on screen are coloured: a province's table goes to the browser a page at a time.
    ui.table(levels.cached(tables.sangong_table, scores), title="三公经费", key="sangong",
             row_styles=tables.overrun_styles)
elif levels.is_comparison(view):
    levels.compare(scores, chosen, value=aggregates.label("sangong_control_rate") + tables.PCT,
                   sort_by="sangong_control_rate", title="三公经费控制率",
                   axis_title="三公经费控制率（%，实际支出之和 ÷ 预算之和）", reference=100, over_is_bad=True,
                   key="sangong_levels")
elif view == RATES and per_unit:
    ui.figure(levels.cached(figures.sangong_control, scores), key="sangong_chart")
elif view == RATES:
    ui.figure(levels.cached(figures.histogram, scores, "sangong_control_rate", title="三公经费控制率",
                            axis_title="三公经费控制率（%）", colour_by="unit_type", reference=1.0),
              key="sangong_histogram")
elif view == EXTREMES:
    count = levels.extremes_count()
    low, high = levels.cached(aggregates.extremes, scores, "sangong_control_rate", count)
    ui.figure(levels.cached(figures.extremes, low, high, "sangong_control_rate", title=f"控制率最低和最高的 {count} 个单位",
                            axis_title="三公经费控制率（%）", reference=1.0, low_is_bad=False),
              key="sangong_extremes")
elif view == COMPOSITION and per_unit:
    ui.figure(levels.cached(figures.sangong_composition, scores), key="sangong_parts")
elif view == COMPOSITION:
    by, by_label = levels.grouping(scores, chosen)
    ui.figure(levels.cached(figures.sangong_composition_by_group, scores, by, label=by_label), key="sangong_parts")
else:
    history = derived.scores(chosen, year=None)
    left, right = st.columns(2)
    with left:
        ui.figure(levels.cached(figures.sangong_totals_by_year, history), key="sangong_years", toolbar=False)
    with right:
        st.subheader("历年合计（当前筛选的单位）")
        ui.table(levels.cached(tables.county_totals_by_year, history), title="历年合计", key="sangong_history",
                 static=True)
