"""总览: who submitted, how the county spends, which grades, what changed since last year."""

import streamlit as st

from dashboard import data, filters, ui
from presentation import figures
from presentation import tables
from pipeline.scoring.framework import scoring_note

chosen = filters.current()
st.title(f"总览 · {chosen.year} 年度")

status = filters.apply(data.submission_status(chosen.year), chosen, grade_column=None)
counts = tables.submission_counts(status)
st.subheader("报送情况")
columns = st.columns(5)
columns[0].metric("名录单位", f"{counts.in_roster} 个")
columns[1].metric("已报送", f"{counts.submitted} 个")
columns[2].metric("已入库", f"{counts.loaded} 个")
columns[3].metric("需退回修改", f"{counts.must_resubmit} 个")
columns[4].metric("未报送", f"{counts.not_submitted} 个")
if chosen.grades:
    st.caption("报送情况只按单位类型和主管部门筛选（未入库的单位没有等级）。")

scores = ui.filtered_scores(chosen)
totals = tables.county_totals(scores)
st.subheader(f"全县汇总（{totals.units} 个已入库单位）")
columns = st.columns(4)
columns[0].metric("预算资金支出率", ui.percent(totals.execution_rate),
                  help="全部单位支出决算数之和 ÷ 财政下达预算数之和")
columns[0].caption(f"支出 {ui.wanyuan(totals.spent)} / 预算 {ui.wanyuan(totals.budget_issued)}")
columns[1].metric("三公经费控制率", ui.percent(totals.sangong_control_rate),
                  help="三公经费实际支出数之和 ÷ 三公经费预算数之和")
columns[1].caption(f"实际 {ui.wanyuan(totals.sangong_spent)} / 预算 {ui.wanyuan(totals.sangong_budget)}")
columns[2].metric("平均自评得分", ui.points(totals.mean_self_score))
columns[3].metric("平均复核得分", ui.points(totals.mean_review_score),
                  delta=None if totals.mean_review_score is None or totals.mean_self_score is None
                  else f"{totals.mean_review_score - totals.mean_self_score:+.2f} 分（相对自评）",
                  delta_color="off")

left, right = st.columns([2, 3])
with left:
    ui.figure(figures.grade_distribution(scores), key="overview_grades")
with right:
    st.subheader("与上年相比变化最大的单位")
    changes = filters.apply(data.unit_changes(chosen.year), chosen)
    if changes.empty:
        ui.empty(f"{chosen.year - 1} 年没有可比数据。")
    else:
        ui.table(tables.changes_table(changes, limit=10), title="复核得分变化最大的单位", key="overview_changes")

execution_code = scoring_note(chosen.year, "execution_rate")[0] or "A3"
st.subheader(f"支出率最低的 5 个单位：{execution_code} 是否自评满分")
lowest = tables.lowest_execution_table(scores, data.indicator_scores(chosen.year), 5, execution_code)
ui.table(lowest, title="支出率最低的5个单位", key="overview_lowest")
st.page_link("views/execution.py", label="到“预算执行”查看全部单位与参考线", icon=":material/arrow_forward:")
