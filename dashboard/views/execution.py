"""预算执行: execution rate by unit against a reference line, budget size against rate, the lowest units."""

import streamlit as st

from dashboard import data, filters, ui
from presentation import figures
from presentation import tables

chosen = filters.current()
st.title(f"预算执行 · {chosen.year} 年度")
st.caption("预算资金支出率 = 支出决算数（第13行）÷ 财政下达预算数（第12行）。A3“部门预算资金支出率”满分 10 分，"
           "复核得分 = min(支出率, 100%) × 10。")

scores = ui.filtered_scores(chosen)
left, right = st.columns(2)
count = left.number_input("支出率最低的单位数", min_value=1, max_value=max(1, len(scores)),
                          value=min(5, len(scores)), step=1, key="n", bind="query-params")
reference = right.slider("参考线（%）", min_value=50, max_value=100, value=90, step=1, key="ref", bind="query-params")

st.subheader(f"支出率最低的 {int(count)} 个单位：是否自评满分")
indicators = data.indicator_scores(chosen.year)
lowest = tables.lowest_execution_table(scores, indicators, int(count))
ui.table(lowest, title="支出率最低的单位", key="lowest", page_filters=[("支出率最低的单位数", str(int(count)))])
claimed = int((lowest["A3自评满分"] == "是").sum())
st.markdown(f"其中 **{claimed}** 个单位的 A3 自评为满分（10 分），复核按实际支出率计分。")

ui.figure(figures.execution_by_unit(scores, reference / 100), key="execution_chart")
ui.figure(figures.budget_against_rate(scores, reference / 100), key="execution_scatter")
st.subheader("各单位预算执行")
ui.table(tables.execution_table(scores), title="预算执行", key="execution")
