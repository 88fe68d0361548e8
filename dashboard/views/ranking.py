"""排名: one view at a time: the ranked table (by 复核得分, within 单位类型 and 主管部门), the
地区 / 主管部门 compared, or the scores charted (every unit for a county; the distribution or the
lowest and highest N beyond). The table comes first and alone: opening the page loads no chart
library and draws one table (docs/benchmarks.md)."""

import streamlit as st

from dashboard import filters, levels, ui
from presentation import aggregates, figures
from presentation import tables

chosen = filters.current()
st.title(f"排名 · {chosen.year} 年度")

scores = ui.filtered_scores(chosen)
text = st.text_input("按单位名称查找", key="search", placeholder="输入单位名称中的文字", bind="query-params")
ranking = tables.search(levels.cached(tables.ranking_table, scores), text)
shown = scores[scores["unit_name"].isin(ranking["单位名称"])] if text.strip() else scores

TABLE, SCORES, DISTRIBUTION, EXTREMES = "排名表", "得分图", "得分分布", "最低和最高"
compared = levels.comparison_view(scores, chosen, sort_by="review_score")
charts = [SCORES] if figures.shows_units(shown) else [DISTRIBUTION, EXTREMES]
view = levels.choose_view("ranking_view", [TABLE, *compared, *charts])
if view == TABLE:
    st.caption(f"共 {len(ranking)} 个单位，按复核得分排名（并列同名次）；类型内排名、部门内排名为全县口径，不受筛选影响。"
               + ("用“排序”和“顺序”对全部单位排序，" if ui.paged(ranking) else "点击表头可排序，")
               + "点击单位名称打开其单位详情。")
    ui.table(ranking, title="单位排名", key="ranking", page_filters=[("按单位名称查找", text.strip())],
             rate_sources=True, find=False)
elif levels.is_comparison(view):
    levels.compare(scores, chosen, value="平均复核得分", sort_by="review_score", title="平均复核得分",
                   axis_title="平均复核得分（分）", key="ranking_levels")
elif view == SCORES:
    ui.figure(levels.cached(figures.score_ranking, shown), key="ranking_chart")
elif view == DISTRIBUTION:
    ui.figure(levels.cached(figures.histogram, shown, "review_score", title="复核得分", axis_title="复核得分（分）",
                            scale=1.0, colour_by="review_grade"), key="ranking_histogram")
else:
    count = levels.extremes_count()
    low, high = levels.cached(aggregates.extremes, shown, "review_score", count)
    ui.figure(levels.cached(figures.extremes, low, high, "review_score", title=f"复核得分最低和最高的 {count} 个单位",
                            axis_title="得分（分）", scale=1.0, beside="self_score", beside_name="自评得分"),
              key="ranking_extremes")
