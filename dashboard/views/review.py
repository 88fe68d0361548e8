"""复核: the bureau's own review of the sampled units (contract sections 10 and 11), bureau accounts only.

One view at a time (?review_view=): the year's 抽查 sample, highest risk first, or one unit's
worksheet (opened directly by a link naming ?review_unit=): each
indicator's self, rule and officer score side by side with the evidence, records an
officer's score through the same function as `python -m pipeline review`, lists what is
recorded but not yet in the published build, and can start the rebuild (the pipeline, as
a separate process, stays the only writer of the warehouse).
"""

import subprocess
import sys
import time
from datetime import date

import streamlit as st

from dashboard import auth, data, derived, filters, levels, ui
from pipeline import settings
from pipeline.ledger.record import Refused, describe, record
from pipeline.outputs import working_paper
from presentation import review as review_tables
from presentation import tables

DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
MESSAGE_KEY = "review_message"

viewer = auth.current_viewer()
chosen = filters.current()
year = chosen.year
st.title(f"复核 · {year} 年度")
if not viewer.sees_everything:  # the page is not offered to unit accounts; this holds even for a stray link
    st.error("复核页仅供财政局账户使用。")
    st.stop()

message = st.session_state.pop(MESSAGE_KEY, None)
if message:
    (st.success if message[0] == "ok" else st.error)(message[1])

scores = derived.read(data.unit_scores, year)
if scores.empty:
    ui.empty("本年度没有入库的单位。")
    st.stop()
sample = data.review_sample(year)
decisions = data.ledger_decisions(year)
year_indicators = derived.read(data.indicator_scores, year)
pending = review_tables.pending_table(decisions, year_indicators)

SAMPLE, WORKSHEET = "抽查样本", "单位复核"
if "review_view" not in st.session_state and "review_view" not in st.query_params and \
        st.query_params.get("review_unit"):
    st.session_state["review_view"] = WORKSHEET  # a link naming a unit opens its worksheet
view = levels.choose_view("review_view", [SAMPLE, WORKSHEET])
if view == SAMPLE:
    st.caption("按评分框架中的风险信号和权重计算风险分：风险最高的一半入选，其余在各单位类型内以年度为种子随机抽取，"
               "同样的输入得到同样的样本。样本不受侧栏筛选的影响。"
               f"在“{WORKSHEET}”中逐个单位复核（样本在前）"
               + (f"；另有 {len(pending)} 项复核得分已记录、待重新构建。" if len(pending) else "。"))
    if sample.empty:
        st.info("本年度没有抽查样本（评分框架中没有 [sampling] 设置）。")
    else:
        ui.table(review_tables.sample_table(sample), title="抽查样本", key="review_sample")
    st.stop()

sampled = list(sample["unit_name"])
others = sorted(set(scores["unit_name"]) - set(sampled))
risk = dict(zip(sample["unit_name"], sample["risk"]))
if len(others) > settings.TABLE_ROWS_IN_FULL:
    # A province's ten thousand names in one list cost the browser a second on every rerun:
    # the list holds the sample, the unit chosen (or named in the link) and the units found.
    text = st.text_input("查找样本之外的单位", key="review_find", placeholder="输入单位名称中的文字",
                         help=f"样本之外还有 {len(others):,} 个单位；列表中最多列出 {settings.TABLE_PAGE_ROWS} 个查找结果").strip()
    chosen_unit = st.session_state.get("review_unit") or st.query_params.get("review_unit")
    found = [name for name in others if text and text in name][:settings.TABLE_PAGE_ROWS]
    others = [*([chosen_unit] if chosen_unit in set(others) and chosen_unit not in found else []), *found]


def unit_label(name: str) -> str:
    return f"{name}（抽查，风险 {risk[name]:.2f}）" if name in risk else name


unit = st.selectbox("复核单位（抽查样本在前）", sampled + others, format_func=unit_label, key="review_unit",
                    bind="query-params")
row = scores[scores["unit_name"] == unit].iloc[0]
indicators = data.unit_indicator_scores(unit, year)
unit_pending = pending[pending["单位名称"] == unit]

st.subheader(unit)
columns = st.columns(4)
columns[0].metric("自评得分", ui.points(row["self_score"]), help=f"自评等级：{row['self_grade']}")
columns[1].metric("复核得分（已发布）", ui.points(row["review_score"]), help=f"复核等级：{row['review_grade']}")
columns[2].metric("排名", f"第 {row['rank']} 名")
columns[3].metric("财政局改动的指标", f"{review_tables.officer_changes(indicators)} 项")

st.markdown("**各指标得分：自评、规则复核与财政局复核**")
ui.table(review_tables.comparison_table(indicators), title="复核对照", key="review_comparison")
if not unit_pending.empty:
    st.warning(f"该单位有 {len(unit_pending)} 项复核得分已记录、尚未计入已发布的数据（重新构建后生效）。")
    st.dataframe(unit_pending, hide_index=True, key="review_unit_pending")

tab_lines, tab_report, tab_targets, tab_findings, tab_history = st.tabs(
    ["数据表及来源单元格", "自评报告与表格核对", "绩效目标", "问题清单", "复核记录"])
lines = data.data_lines(unit, year)
figures = data.report_figures(unit, year)
targets = data.unit_targets(unit, year)
findings = data.unit_findings(unit, year)
with tab_lines:
    ui.table(tables.data_lines_table(lines), title="数据表", key="review_lines")
with tab_report:
    claims = review_tables.claims_table(figures, lines, row, indicators)
    if claims.empty:
        st.info("自评报告中没有可与表格核对的数字（或未报送自评报告）。")
    else:
        ui.table(claims, title="自评报告核对", key="review_claims")
with tab_targets:
    shown_targets = review_tables.targets_table(targets)
    if shown_targets.empty or shown_targets.shape[1] == 0:
        st.info("没有绩效目标表。")
    else:
        ui.table(shown_targets, title="绩效目标", key="review_targets")
with tab_findings:
    if findings.empty:
        st.success("没有发现问题。")
    else:
        ui.table(tables.findings_table(findings), title="问题清单", key="review_findings")
with tab_history:
    history = decisions[decisions["unit_name"] == unit]
    if history.empty:
        st.info("该单位本年度还没有复核记录。")
    else:
        st.dataframe(review_tables.decision_history_table(history), hide_index=True, key="review_history")

st.subheader("记录复核得分")
codes = list(indicators["code"])
names = dict(zip(indicators["code"], indicators["level3"]))
maxima = dict(zip(indicators["code"], indicators["max_score"]))
signed_in = auth.auth_mode() != auth.MODE_NONE
with st.form("review_form", clear_on_submit=False):
    left, right = st.columns([1, 2])
    code = left.selectbox("指标", codes, format_func=lambda c: f"{c} {names[c]}（分值 {maxima[c]:g}）",
                          key="review_code")
    action = right.radio("操作", ["记录复核得分", "撤回复核得分"], horizontal=True, key="review_action")
    score = left.text_input("复核得分", key="review_score", help="0 到分值，最多两位小数")
    officer = right.text_input("复核人", value=viewer.name, key="review_officer", disabled=signed_in,
                               help="登录时为当前用户")
    reason = st.text_area("理由", key="review_reason", help="必须填写：依据什么、为何给这个分数")
    submitted = st.form_submit_button("记录", icon=":material/edit_note:")
if submitted:
    try:
        decision = record(settings.ledger_path(), year=year, unit=unit, code=code, score=score, reason=reason,
                          officer=viewer.name if signed_in else officer, withdraw=action == "撤回复核得分",
                          raw=settings.raw_dir(), db=settings.db_path())
    except Refused as refusal:
        st.session_state[MESSAGE_KEY] = ("error", f"未记录：{refusal}")
    else:
        st.session_state[MESSAGE_KEY] = ("ok", f"已记录：{describe(decision)}。重新构建后生效。")
    st.rerun()

st.subheader("待生效的复核得分与重新构建")
if pending.empty:
    st.success("复核记录中的得分都已计入已发布的数据。")
else:
    st.write(f"本年度共 {len(pending)} 项复核得分已记录、尚未计入已发布的数据：")
    st.dataframe(pending, hide_index=True, key="review_pending")
st.caption(f"复核记录：`{settings.ledger_path()}`。重新构建由流水线在单独的进程中完成（与 `make pipeline` 相同），"
           "只有复核记录变化时通常只需几秒。")
if st.button("重新构建数据仓库", key="review_rebuild", icon=":material/autorenew:"):
    command = [sys.executable, "-m", "pipeline", "run", "--raw", str(settings.raw_dir()), "--db",
               str(settings.db_path()), "--ledger", str(settings.ledger_path()), "--no-progress"]
    started = time.perf_counter()
    with st.spinner("正在重新构建……"):
        done = subprocess.run(command, cwd=settings.PROJECT_ROOT, capture_output=True, text=True, timeout=1800)
    seconds = time.perf_counter() - started
    auth.append_audit(auth.audit_record("rebuild", viewer, page="复核", year=year, returncode=done.returncode,
                                        seconds=round(seconds, 1)))
    if done.returncode == 0:
        st.session_state[MESSAGE_KEY] = ("ok", f"已重新构建数据仓库（用时 {seconds:.1f} 秒）。"
                                               + (done.stdout.splitlines() or [""])[0])
    else:
        st.session_state[MESSAGE_KEY] = ("error", "重新构建未完成：" + (done.stderr.strip() or done.stdout.strip())[-500:])
    st.rerun()

st.subheader("复核工作底稿")
paper = working_paper.PaperData(
    year=year, unit_name=unit, scores=row,
    sample=sample[sample["unit_name"] == unit].iloc[0] if unit in risk else None,
    lines=lines, indicators=indicators, figures=figures, targets=targets, findings=findings,
    pending=unit_pending)
ui.audited_download_button("下载复核工作底稿（Word）", lambda: working_paper.paper_docx(paper, date.today()),
                           file_name=working_paper.file_name(paper), mime=DOCX, key="review_paper",
                           table="复核工作底稿", rows=1)
