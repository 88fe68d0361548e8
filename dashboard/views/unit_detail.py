"""单位详情: every figure of one unit with its source cell, its scores, its findings, its trend.

The unit comes from the link (?year=2024&unit=…) and stays there. A unit that cannot be
shown (not loaded this year, left out by the sidebar's filters, or unknown) is not replaced
by another: the page says which unit was asked for and why it is not shown.
"""

import pandas as pd
import streamlit as st

from dashboard import auth, data, filters, ui
from pipeline import settings
from pipeline.scoring import metrics
from presentation import figures
from presentation import tables
from presentation import targets as target_views
from presentation.queries import is_history

UNIT_KEY = "unit"
TAB_KEY = "tab"
TABS = ["数据表", ui.RATE_SOURCES_TAB, "指标得分", "绩效目标", "问题清单", "历年趋势"]
# The rates shown at the top: unit_scores columns named after their metric.
RATES = ("execution_rate", "sangong_control_rate", "public_control_rate")


def rate_lines(metric: str) -> list[int]:
    """The data lines a rate is computed from, numerator first, as the metric registry names them."""
    return [int(ref[1:]) for ref in metrics.METRICS[metric].inputs if ref.startswith("r")]


def _choose(names: list[str], requested: str | None) -> None:
    def chosen() -> None:
        st.query_params[UNIT_KEY] = st.session_state["unit_choice"]
    index = names.index(requested) if requested in names else None
    st.selectbox("单位", names, index=index, key="unit_choice", on_change=chosen, placeholder="选择或输入单位名称",
                 help="按名称排序，可输入文字查找")


chosen = filters.current()
viewer = auth.current_viewer()
st.title(f"单位详情 · {chosen.year} 年度")
year_scores = data.unit_scores(chosen.year)
scores = filters.apply(year_scores, chosen)
requested = st.query_params.get(UNIT_KEY)
if requested is None and not viewer.sees_everything:
    requested = viewer.unit
    st.query_params[UNIT_KEY] = requested
_choose(sorted(scores["unit_name"]), requested)
if not requested:
    st.info("请选择一个单位；在任何表格中点击单位名称也可打开其单位详情。")
    st.stop()
if requested not in set(scores["unit_name"]):
    ui.explain_absence(requested, chosen.year)
    st.stop()
unit = requested
row = scores[scores["unit_name"] == unit].iloc[0]
ranked = int(year_scores["rank"].notna().sum())

st.subheader(unit)
st.caption(f"{row['unit_type'] or ''} · 主管部门：{row['department'] or ''} · 文件：{row['file']}")
if row["must_resubmit"]:
    st.error(f"该单位的报送有 {row['errors']} 个须改正的错误，需退回修改（见“问题清单”）。")
columns = st.columns(5)
columns[0].metric("复核得分", ui.points(row["review_score"]), help="复核等级：" + str(row["review_grade"]))
columns[1].metric("自评得分", ui.points(row["self_score"]), help="自评等级：" + str(row["self_grade"]))
def place(rank) -> str:
    """第 N 名; a unit outside the roster is listed apart, not ranked."""
    return "未排名" if pd.isna(rank) else f"第 {int(rank)} 名"


columns[2].metric("排名", place(row["rank"]),
                  help=f"类型内{place(row['rank_in_type'])}，部门内{place(row['rank_in_department'])}")
columns[2].caption(f"共 {ranked} 个已入库单位")
columns[3].metric("预算资金支出率", ui.percent(row["execution_rate"]), help="来源见“比率的来源”")
columns[4].metric("三公经费控制率", ui.percent(row["sangong_control_rate"]), help="来源见“比率的来源”")
depth = st.columns(5)
for column, rate in zip(depth, ("opening_execution_rate", "basic_execution_rate", "project_execution_rate",
                                "budget_adjustment_rate")):
    column.metric(tables.REPORT_ITEM_LABELS[rate], ui.percent(None if pd.isna(row[rate]) else row[rate]))
depth[4].metric("年初支出预算数", ui.wanyuan(None if pd.isna(row["opening_budget"]) else row["opening_budget"]))
if row["low_execution_two_years"]:
    st.warning(f"预算资金支出率连续两年低于 {settings.LOW_EXECUTION_RATE:.0%}。")

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

lines = data.data_lines(unit, chosen.year)
tab_lines, tab_rates, tab_scores, tab_targets, tab_findings, tab_trend = st.tabs(TABS, key=TAB_KEY, bind="query-params")
with tab_lines:
    # the form's lines, its report's figures, a rate's lines, the scores and the years: fixed and
    # short, static tables; the findings, a list to search, keep the grid
    ui.table(tables.data_lines_table(lines), title="数据表", key="unit_lines", unit=unit, static=True)
    report = data.report_figures(unit, chosen.year)
    if not report.empty:
        st.markdown("**自评报告中的数字**")
        ui.table(tables.report_figures_table(report), title="自评报告数字", key="unit_report", unit=unit,
                 static=True)
with tab_rates:
    st.caption("每个比率 = 分子行次 ÷ 分母行次；行次、金额和来源单元格取自该单位的数据表。")
    for column in RATES:
        label, wanted = metrics.METRICS[column].label, rate_lines(column)
        st.markdown(f"**{label}：{ui.percent(row[column])}**　{metrics.METRICS[column].definition}")
        ui.table(tables.data_lines_table(lines[lines["line"].isin(wanted)]), title=f"{label}的来源",
                 key=f"unit_rate_{column}", unit=unit, static=True)
with tab_scores:
    ui.table(tables.indicator_table(data.unit_indicator_scores(unit, chosen.year)), title="指标得分",
             key="unit_scores", unit=unit, static=True)
with tab_targets:
    unit_targets = data.unit_targets(unit, chosen.year)
    if unit_targets.empty:
        st.info("该单位没有报送绩效目标表，A1、A2 无法复核，复核得分按自评得分计。")
    else:
        completion = target_views.unit_completion(unit_targets.assign(unit_type=row["unit_type"])).iloc[0]
        st.caption(f"加权完成度 {ui.percent(completion['completion'])}；{int(completion['missed'])} 个目标未完全完成，"
                   f"其中 {int(completion['missed_without_reason'])} 个未说明原因。")
        ui.table(target_views.unit_targets_table(unit_targets), title="绩效目标", key="unit_targets", static=True)
with tab_findings:
    unit_findings = data.unit_findings(unit, chosen.year)
    history = is_history(unit_findings)
    if unit_findings.empty:
        st.success("没有发现问题。")
    else:
        current = unit_findings[~history]
        if current.empty:
            st.success("现行文件没有发现问题。")
        else:
            ui.table(tables.findings_table(current), title="问题清单", key="unit_findings", unit=unit)
        if history.any():
            st.markdown("**历史记录：已被新版本替代的文件中的问题**（仅供查阅，不计入错误数，也不据此退回修改）")
            ui.table(tables.findings_table(unit_findings[history]), title="已替代文件的问题", key="unit_history_findings",
                     unit=unit)
with tab_trend:
    history_scores = data.unit_history(unit)
    ui.figure(figures.unit_trend(history_scores), key="unit_trend")
    ui.table(tables.unit_trend_table(history_scores), title="历年趋势", key="unit_history", unit=unit, static=True)
