"""总览: who submitted, how the county spends, which grades, what changed since last year.

Every count names its units: 未报送, 需退回修改, 不在名录, 超预算 and 自评高于复核 open as lists
(?list=…, so the list is in the link too), each unit linked to its 单位详情. A unit account
sees its own figures against the county's instead (本单位).
"""

import pandas as pd
import streamlit as st

from dashboard import auth, data, derived, filters, levels, ui
from presentation import figures
from presentation import tables
from pipeline.scoring.framework import scoring_note

LIST_KEY = "list"
chosen = filters.current()
viewer = auth.current_viewer()
st.title(f"总览 · {chosen.year} 年度")


def own_unit_view(unit: str) -> None:
    """本单位: the unit's figures beside the county's average, quartiles and its rank of N."""
    profile = data.county_profile(chosen.year)
    mine = data.unit_scores(chosen.year)
    st.subheader(f"本单位：{unit}")
    if mine.empty:
        ui.explain_own_absence(unit, chosen.year)
        return
    row = mine.iloc[0]
    units = int(profile["county"]["units"] or 0)
    st.caption(f"全县 {units} 个已入库单位。下表中的全县数字是全部已入库单位的平均数和四分位数，不含其他单位的名称。")
    columns = st.columns(3)
    columns[0].metric("复核得分", ui.points(row["review_score"]), help=f"复核等级：{row['review_grade']}")
    columns[1].metric("全县排名", f"第 {row['rank']} 名",
                      help=f"类型内第 {row['rank_in_type']} 名，部门内第 {row['rank_in_department']} 名")
    columns[1].caption(f"共 {units} 个已入库单位")
    columns[2].metric("全县平均复核得分", ui.points(profile["review_score"]["mean"]),
                      delta=None if pd.isna(row["review_score"]) else
                      f"{row['review_score'] - profile['review_score']['mean']:+.2f} 分（本单位相对全县平均）",
                      delta_color="off")
    ui.static_table(tables.own_against_county_table(row, profile))
    if row["must_resubmit"]:
        st.error(f"本单位的报送有 {row['errors']} 个须改正的错误，需修改后重新报送；详见“单位详情”的问题清单。")
    county_grades = [g for g, n in profile["grades"].items() for _ in range(n)]
    st.markdown(f"**全县复核等级分布**（本单位：{row['review_grade']}）")
    ui.figure(figures.grade_distribution(pd.DataFrame({"self_grade": [None] * len(county_grades),
                                                       "review_grade": county_grades})),
              key="overview_county_grades", toolbar=False)
    st.page_link("views/unit_detail.py", label="到“单位详情”查看本单位的全部数字、来源单元格和问题",
                 icon=":material/arrow_forward:", query_params={"year": chosen.year, "unit": unit})


if not viewer.sees_everything:
    own_unit_view(viewer.unit)
    st.stop()

status = derived.rows(derived.read(data.submission_status, chosen.year), chosen, grades=False)
counts = levels.cached(tables.submission_counts, status)
scores = ui.filtered_scores(chosen)
overruns = levels.cached(tables.overrun_table, scores)
inflated = levels.cached(tables.inflated_table, scores)

st.subheader("报送情况")
columns = st.columns(5)
columns[0].metric("名录单位", f"{counts.in_roster} 个",
                  help=f"名录内已报送 {counts.submitted_in_roster} 个 + 未报送 {counts.not_submitted} 个")
columns[1].metric("已报送", f"{counts.submitted} 个",
                  help=f"名录内 {counts.submitted_in_roster} 个 + 不在名录 {counts.outside_roster} 个")
columns[2].metric("已入库", f"{counts.loaded} 个")
columns[3].metric("需退回修改", f"{counts.must_resubmit} 个")
columns[4].metric("未报送", f"{counts.not_submitted} 个")
# one line under the five figures: each element costs the browser time on every visit
st.caption(f"名录 {counts.in_roster} 个 = 名录内已报送 {counts.submitted_in_roster} 个 + 未报送 {counts.not_submitted} 个；"
           f"已报送 {counts.submitted} 个 = 名录内 {counts.submitted_in_roster} 个 + 不在名录 {counts.outside_roster} 个。"
           + ("报送情况只按单位类型和主管部门筛选（未入库的单位没有等级）。" if chosen.grades else ""))

LISTS = {
    "not_submitted": (f"未报送（{counts.not_submitted}）", "未报送的单位"),
    "must_resubmit": (f"需退回修改（{counts.must_resubmit}）", "需退回修改的单位"),
    "outside_roster": (f"不在名录（{counts.outside_roster}）", "不在名录的报送单位"),
    "overrun": (f"三公超预算（{len(overruns)}）", "三公经费超预算的单位"),
    "inflated": (f"自评高于复核（{len(inflated)}）", "自评高于复核的单位"),
}


def _list_chosen() -> None:
    chosen_list = st.session_state.get("list_choice")
    if chosen_list:
        st.query_params[LIST_KEY] = chosen_list
    else:
        st.query_params.pop(LIST_KEY, None)


requested_list = st.query_params.get(LIST_KEY)
if requested_list in LISTS:
    st.session_state["list_choice"] = requested_list
which = st.segmented_control("查看名单", options=list(LISTS), format_func=lambda k: LISTS[k][0], key="list_choice",
                             on_change=_list_chosen)
if which:
    if which == "overrun":
        shown = overruns
    elif which == "inflated":
        shown = inflated
    else:
        shown = levels.cached(tables.status_list_table, status, which)
    ui.table(shown, title=LISTS[which][1], key=f"overview_list_{which}", when_empty="没有这样的单位。")

totals = levels.cached(tables.county_totals, scores)
st.subheader(f"全县汇总（{totals.units} 个已入库单位）")
columns = st.columns(4)
columns[0].metric("预算资金支出率", ui.percent(totals.execution_rate),
                  help="全部单位支出决算数之和 ÷ 财政下达预算数之和")
columns[1].metric("三公经费控制率", ui.percent(totals.sangong_control_rate),
                  help="三公经费实际支出数之和 ÷ 三公经费预算数之和")
columns[2].metric("平均自评得分", ui.points(totals.mean_self_score))
columns[3].metric("平均复核得分", ui.points(totals.mean_review_score),
                  delta=None if totals.mean_review_score is None or totals.mean_self_score is None
                  else f"{totals.mean_review_score - totals.mean_self_score:+.2f} 分（相对自评）",
                  delta_color="off")
st.caption(f"支出 {ui.wanyuan(totals.spent)} / 预算 {ui.wanyuan(totals.budget_issued)}；"
           f"三公经费实际 {ui.wanyuan(totals.sangong_spent)} / 预算 {ui.wanyuan(totals.sangong_budget)}。")

left, right = st.columns([2, 3])
with left:
    # The landing page draws no chart: a first visit need not load Plotly (docs/benchmarks.md);
    # the chart of these counts is one click away.
    st.subheader("等级分布：自评与复核")
    ui.static_table(levels.cached(tables.grade_distribution, scores))
    st.page_link("views/grades.py", label="到“等级与得分”查看等级分布图", icon=":material/bar_chart:",
                 query_params={"year": chosen.year, "grades_view": "等级分布"})
with right:
    st.subheader("与上年相比变化最大的单位")
    changes = derived.rows(derived.read(data.unit_changes, chosen.year), chosen)
    if changes.empty:
        ui.empty(f"{chosen.year - 1} 年没有可比数据。")
    else:
        ui.table(levels.cached(tables.changes_table, changes, limit=10), title="复核得分变化最大的单位", key="overview_changes",
                 static=True)

execution_code = scoring_note(chosen.year, "execution_rate")[0] or "A3"
st.subheader(f"支出率最低的 5 个单位：{execution_code} 是否自评满分")
lowest = levels.cached(tables.lowest_execution_table, scores,
                       derived.read(data.indicator_scores, chosen.year, execution_code), 5, execution_code)
ui.table(lowest, title="支出率最低的5个单位", key="overview_lowest", static=True)
st.page_link("views/execution.py", label="到“预算执行”查看全部单位", icon=":material/arrow_forward:",
             query_params={"year": chosen.year, "execution_view": "各单位"})
