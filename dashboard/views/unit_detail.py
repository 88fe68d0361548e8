"""单位详情: every figure of one unit with its source cell, its scores, its findings, its trend."""

import pandas as pd
import streamlit as st

from dashboard import data, filters, ui
from pipeline import settings
from presentation import figures
from presentation import tables
from presentation import targets as target_views

chosen = filters.current()
scores = filters.apply(data.unit_scores(chosen.year), chosen)
st.title(f"单位详情 · {chosen.year} 年度")
if scores.empty:
    ui.empty()
    st.stop()
names = sorted(scores["unit_name"])
unit = st.selectbox("单位", names, key="unit", bind="query-params")
row = scores[scores["unit_name"] == unit].iloc[0]

st.subheader(unit)
st.caption(f"{row['unit_type'] or ''} · 主管部门：{row['department'] or ''} · 文件：{row['file']}")
columns = st.columns(5)
columns[0].metric("复核得分", ui.points(row["review_score"]), help="复核等级：" + str(row["review_grade"]))
columns[1].metric("自评得分", ui.points(row["self_score"]), help="自评等级：" + str(row["self_grade"]))
columns[2].metric("排名", f"第 {row['rank']} 名", help=f"类型内第 {row['rank_in_type']} 名，部门内第 "
                                                     f"{row['rank_in_department']} 名")
columns[3].metric("预算资金支出率", ui.percent(row["execution_rate"]))
columns[4].metric("三公经费控制率", ui.percent(row["sangong_control_rate"]))
depth = st.columns(5)
for column, rate in zip(depth, ("opening_execution_rate", "basic_execution_rate", "project_execution_rate",
                                "budget_adjustment_rate")):
    column.metric(tables.REPORT_ITEM_LABELS[rate], ui.percent(None if pd.isna(row[rate]) else row[rate]))
depth[4].metric("年初支出预算数", ui.wanyuan(None if pd.isna(row["opening_budget"]) else row["opening_budget"]))
if row["low_execution_two_years"]:
    st.warning(f"预算资金支出率连续两年低于 {settings.LOW_EXECUTION_RATE:.0%}。")
if row["must_resubmit"]:
    st.error(f"该单位的报送有 {row['errors']} 个错误，需退回修改。")

info = data.unit_info(unit, chosen.year)
if not info.empty:
    record = info.iloc[0]

    def shown(value) -> str:
        if value is None or pd.isna(value):
            return "—"
        if hasattr(value, "strftime"):
            return value.strftime("%Y-%m-%d")
        return str(int(value)) if isinstance(value, float) and value.is_integer() else str(value)

    with st.expander("基本信息", expanded=False):
        st.markdown(
            f"单位编码：{shown(record['unit_code'])}　填报日期：{shown(record['filed_on'])}　"
            f"联系人：{shown(record['contact'])}　联系电话：{shown(record['phone'])}\n\n"
            f"内设机构数：{shown(record['offices'])}　编制数：{shown(record['establishment'])}　"
            f"在职人数：{shown(record['staff'])}　退休人数：{shown(record['retired'])}　"
            f"数据表填报单位：{shown(record['amount_unit'])}")

tab_lines, tab_scores, tab_targets, tab_findings, tab_trend = st.tabs(
    ["数据表", "指标得分", "绩效目标", "问题清单", "历年趋势"])
with tab_lines:
    ui.table(tables.data_lines_table(data.data_lines(unit, chosen.year)), title="数据表", key="unit_lines")
    report = data.report_figures(unit, chosen.year)
    if not report.empty:
        st.markdown("**自评报告中的数字**")
        ui.table(tables.report_figures_table(report), title="自评报告数字", key="unit_report")
with tab_scores:
    ui.table(tables.indicator_table(data.unit_indicator_scores(unit, chosen.year)), title="指标得分",
             key="unit_scores")
with tab_targets:
    unit_targets = data.unit_targets(unit, chosen.year)
    if unit_targets.empty:
        st.info("该单位没有报送绩效目标表，A1、A2 无法复核，复核得分按自评得分计。")
    else:
        completion = target_views.unit_completion(unit_targets.assign(unit_type=row["unit_type"])).iloc[0]
        st.caption(f"加权完成度 {ui.percent(completion['completion'])}；{int(completion['missed'])} 个目标未完全完成，"
                   f"其中 {int(completion['missed_without_reason'])} 个未说明原因。")
        ui.table(target_views.unit_targets_table(unit_targets), title="绩效目标", key="unit_targets")
with tab_findings:
    unit_findings = data.unit_findings(unit, chosen.year)
    if unit_findings.empty:
        st.success("没有发现问题。")
    else:
        ui.table(tables.findings_table(unit_findings), title="问题清单", key="unit_findings")
with tab_trend:
    history = data.unit_history(unit)
    ui.figure(figures.unit_trend(history), key="unit_trend")
    ui.table(tables.unit_trend_table(history), title="历年趋势", key="unit_history")
