"""绩效目标: units compared on the completion of their 绩效目标表, and missed targets without a reason."""

import streamlit as st

from dashboard import data, filters, ui
from presentation import targets as target_views

chosen = filters.current()
st.title(f"绩效目标完成情况 · {chosen.year} 年度")
scores = filters.apply(data.unit_scores(chosen.year), chosen)
rows = data.targets(chosen.year)
rows = rows[rows["unit_name"].isin(set(scores["unit_name"]))]
if scores.empty:
    ui.empty()
    st.stop()

county = target_views.county_targets(rows)
without = sorted(set(scores["unit_name"]) - set(rows["unit_name"]))
columns = st.columns(4)
columns[0].metric("填报绩效目标表的单位", f"{county.units} 家", help=f"未填报：{len(without)} 家")
columns[1].metric("绩效目标", f"{county.targets} 个", help=f"完全完成 {county.met} 个")
columns[2].metric("平均加权完成度", ui.percent(county.completion),
                  help="各单位加权完成度的平均（每个单位计一次）；无法核实的目标按未完成计")
columns[3].metric("未完成且未说明原因", f"{county.missed_without_reason} 个")

if rows.empty:
    st.info("当前筛选条件下没有单位填报绩效目标表，A1、A2 均按自评得分计。")
    st.stop()

summary = target_views.unit_completion(rows)
ui.figure(target_views.completion_by_unit(summary), key="targets_by_unit")
ui.table(target_views.completion_table(summary), title="各单位绩效目标完成情况", key="targets_units")

st.subheader("未完成且未说明原因的目标")
missed = target_views.missed_without_reason_table(rows)
if missed.empty:
    st.success("未完成的目标都写明了偏差原因。")
else:
    ui.table(missed, title="未说明原因的未完成目标", key="targets_missed")

if without:
    st.subheader("没有绩效目标表的单位")
    st.caption("这些单位的 A1、A2 无法复核，复核得分按自评得分计。")
    st.write("、".join(without))
