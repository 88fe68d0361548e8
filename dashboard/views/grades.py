"""等级与得分: self-score against 复核得分, indicator-level deductions, grade flows between years."""

import streamlit as st

from dashboard import data, filters, ui
from presentation import figures
from presentation import tables

chosen = filters.current()
st.title(f"等级与得分 · {chosen.year} 年度")

scores = ui.filtered_scores(chosen)
inflated = int((scores["inflation"] > 0).sum())
mismatched = int((scores["self_grade"] != scores["review_grade"]).sum())
columns = st.columns(3)
columns[0].metric("自评高于复核的单位", f"{inflated} 个")
columns[1].metric("自评等级与复核等级不一致", f"{mismatched} 个")
columns[2].metric("平均高出", ui.points(scores["inflation"].mean()))

left, right = st.columns([3, 2])
with left:
    ui.figure(figures.self_against_review(scores), key="grades_scatter")
with right:
    ui.figure(figures.grade_distribution(scores), key="grades_distribution")
st.subheader("自评与复核对照")
ui.table(tables.inflation_table(scores), title="自评与复核对照", key="inflation")

st.subheader("指标扣分热力图")
basis_label = st.radio("口径", ["复核扣分（分值 − 复核得分）", "自评高出复核"], horizontal=True, key="basis",
                       bind="query-params")
basis = "review" if basis_label.startswith("复核") else "inflation"
indicators = data.indicator_scores(chosen.year)
indicators = indicators[indicators["unit_name"].isin(scores["unit_name"])]
if indicators.empty:
    ui.empty("没有指标得分。")
else:
    ui.figure(figures.deduction_heatmap(indicators, basis=basis), key="grades_heatmap")

st.subheader(f"复核等级流向（{chosen.year - 1} → {chosen.year}）")
changes = filters.apply(data.unit_changes(chosen.year), chosen)
if changes.empty:
    ui.empty(f"{chosen.year - 1} 年没有可比数据。")
else:
    left, right = st.columns([3, 2])
    with left:
        ui.figure(figures.grade_flows(changes), key="grades_flows")
    with right:
        ui.table(tables.grade_flow_table(changes), title="等级流向", key="grade_flows")
