"""排名: the ranked table (by 复核得分, within 单位类型 and 主管部门) and a chart of scores."""

import streamlit as st

from dashboard import filters, ui
from presentation import figures
from presentation import tables

chosen = filters.current()
st.title(f"排名 · {chosen.year} 年度")
st.caption("按复核得分排名（并列同名次）；类型内排名、部门内排名为全县口径，不受筛选影响。点击表头可排序。")

scores = ui.filtered_scores(chosen)
text = st.text_input("按单位名称查找", key="search", placeholder="输入单位名称中的文字", bind="query-params")
ranking = tables.search(tables.ranking_table(scores), text)
st.caption(f"共 {len(ranking)} 个单位。点击单位名称打开其单位详情。")
ui.table(ranking, title="单位排名", key="ranking", page_filters=[("按单位名称查找", text.strip())],
         rate_sources=True)
shown = scores[scores["unit_name"].isin(ranking["单位名称"])]
ui.figure(figures.score_ranking(shown), key="ranking_chart")
