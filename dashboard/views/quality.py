"""数据质量: one list at a time: every finding, files that could not be loaded and why, the units
still missing, the units to send back, the findings of superseded files."""

import streamlit as st

from dashboard import data, filters, levels, ui
from pipeline import settings
from presentation import tables
from presentation.queries import history_findings, open_findings
from pipeline.checking.findings import SEVERITIES, SEVERITY_LABELS

chosen = filters.current()
st.title(f"数据质量 · {chosen.year} 年度")

status = filters.apply(data.submission_status(chosen.year), chosen, grade_column=None)
in_view = set(status["unit_name"])
filtered = chosen.narrows_units

FINDINGS, FILES, MISSING, RESUBMIT, HISTORY = ("问题清单", "未入库的文件", "尚未入库的名录单位", "需退回修改的单位",
                                                "已替代文件的问题")
every_finding = data.findings(chosen.year)
if filtered:
    every_finding = every_finding[every_finding["unit_name"].isin(in_view) | every_finding["unit_name"].isna()]
# Findings of superseded files are what the unit first sent: history, listed apart, never counted.
findings, history = open_findings(every_finding), history_findings(every_finding)
view = levels.choose_view("quality_view", [FINDINGS, FILES, MISSING, RESUBMIT, *([HISTORY] if len(history) else [])])

if view == FILES:
    files = data.ingest_files(chosen.year)
    if filtered:
        files = files[files["unit_name"].isin(in_view) | files["unit_name"].isna()]
    problems = tables.problem_files_table(files)
    ui.table(problems, title="未入库的文件", key="quality_files", when_empty="所有文件均已入库。")
elif view == MISSING:
    missing = tables.not_submitted_table(status[status["in_roster"].astype(bool)])
    ui.table(missing, title="尚未入库的单位", key="quality_missing", when_empty="名录内单位均已入库。")
elif view == RESUBMIT:
    resubmit = tables.resubmit_table(status)
    ui.table(resubmit, title="需退回修改的单位", key="quality_resubmit", when_empty="没有需要退回修改的单位。")
elif view == HISTORY:
    st.caption(f"已被新版本替代的文件中的问题 {len(history)} 条：不计入问题清单的统计，也不据此退回修改。")
    ui.table(tables.findings_table(history), title="已替代文件的问题", key="quality_history")
else:
    columns = st.columns(3)
    severities = columns[0].multiselect("严重程度", list(SEVERITIES), format_func=lambda s: SEVERITY_LABELS[s],
                                        key="severity", placeholder="全部", bind="query-params")
    rules = columns[1].multiselect("规则", sorted(findings["rule"].dropna().unique()), key="rule",
                                   placeholder="全部", bind="query-params")
    named = sorted(findings["unit_name"].dropna().unique())
    if len(named) <= settings.TABLE_ROWS_IN_FULL:
        units = columns[2].multiselect("单位", named, key="units", placeholder="全部", bind="query-params")
    else:  # ten thousand names would cost the browser a second on every rerun; the table's own search finds any
        known = set(named)
        units = [u for u in st.query_params.get_all("units") if u in known]  # a link naming units still works
        columns[2].caption(f"{len(named):,} 个单位有问题：在下面问题清单的“查找”中输入单位名称。"
                           + (f"链接指定的单位：{'、'.join(units)}。" if units else ""))
    page_filters = [("严重程度", "、".join(SEVERITY_LABELS[s] for s in severities)), ("规则", "、".join(rules)),
                    ("单位", "、".join(units))]
    if severities:
        findings = findings[findings["severity"].isin(severities)]
    if rules:
        findings = findings[findings["rule"].isin(rules)]
    if units:
        findings = findings[findings["unit_name"].isin(units)]
    counts = findings["severity"].value_counts()
    st.caption("　".join(f"{SEVERITY_LABELS[s]}：{int(counts.get(s, 0))} 条" for s in SEVERITIES)
               + "（只计现行文件的问题）")
    if findings.empty:
        st.success("没有符合条件的问题。")
    else:
        ui.table(tables.findings_table(findings), title="问题清单", key="quality_findings", page_filters=page_filters)
