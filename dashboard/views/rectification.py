"""退回与整改: which units were sent back, what each resubmission changed, what is fixed,
what is still open and who is past the deadline (overdue units first). One view at a time:
the units, or one unit's versions, changed cells and items (?rectification_view=)."""

import streamlit as st

from dashboard import data, derived, filters, levels, ui
from pipeline.checking.resubmission import FIXED, OPEN, OVERDUE, STATUS_LABELS, UNREQUESTED_RULE
from presentation import rectification as tables
from presentation import tables as shared

chosen = filters.current()
st.title(f"退回与整改 · {chosen.year} 年度")

status = derived.rows(derived.read(data.submission_status, chosen.year), chosen, grades=False)
items = levels.cached(shared.rows_of_units, derived.read(data.rectifications, chosen.year), status)
files = levels.cached(shared.rows_of_units, derived.read(data.ingest_files, chosen.year), status)
findings = levels.cached(shared.rows_of_units, derived.read(data.findings, chosen.year), status)
changes = levels.cached(shared.rows_of_units, derived.read(data.submission_changes, chosen.year), status)

counts = items["status"].value_counts()
columns = st.columns(4)
columns[0].metric("整改事项", f"{len(items)} 项", help="各版本中的错误和致命问题，同一规则同一位置算一项")
for column, state in zip(columns[1:], (FIXED, OPEN, OVERDUE)):
    column.metric(STATUS_LABELS[state], f"{int(counts.get(state, 0))} 项")
as_of = items["as_of"].dropna()
if not as_of.empty:
    st.caption(f"状态判定日期：{as_of.iloc[0]:%Y-%m-%d}（输入中最晚的填报日期或通知日期）。"
               "逾期未改正：台账中首次要求改正该问题的通知所定的重新报送截止日期已过，最新版本仍有该问题。")

overview = levels.cached(tables.unit_overview, items, files, findings)
if overview.empty:
    st.success("本年度没有退回修改的单位，也没有重新报送的材料。")
    st.stop()
UNITS, ONE_UNIT = "各单位", "单位的报送版本与整改"
view = levels.choose_view("rectification_view", [UNITS, ONE_UNIT])
if view == UNITS:
    ui.table(overview, title="退回与整改", key="rectification_units")
    st.stop()

unit = st.selectbox("单位", list(overview["单位名称"]), key="rectification_unit", bind="query-params")
st.markdown("**报送版本**（按填报日期）")
ui.table(tables.versions_table(files, unit), title="报送版本", key="rectification_versions")

mine = changes[changes["unit_name"] == unit]
st.markdown("**各版本改动的单元格**")
if mine.empty:
    st.info("没有两个可读取的版本可供比较。")
else:
    ui.table(tables.changes_table(mine), title="改动的单元格", key="rectification_changes")
unrequested = findings[(findings["unit_name"] == unit) & (findings["rule"] == UNREQUESTED_RULE)]
for message in unrequested["message"]:
    st.warning(message)

st.markdown("**整改事项**")
unit_items = items[items["unit_name"] == unit]
ui.table(tables.items_table(unit_items), title="整改事项", key="rectification_items", when_empty="该单位没有须改正的问题。")
