"""The tables shown on the pages, as pure functions of warehouse frames.

Each function returns the very DataFrame that is displayed and downloaded: Chinese
headers, amounts converted from 元 to 万元 (two decimals, header says 万元), rates
converted from fractions to percentages (two decimals, header says %). Aggregates
call pipeline.metrics, never a formula of their own.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from pipeline import settings
from pipeline.scoring import metrics
from pipeline.scoring.framework import formula_basis, method_label
from pipeline.checking.findings import SEVERITY_LABELS, rule_label
from schemas.form import DATA_LINE_BY_NUMBER, GRADES

WAN = "（万元）"
YUAN = "（元）"
PCT = "（%）"

STATE_LABELS = {"loaded": "已入库", "quarantined": "已隔离", "superseded": "已被替代", "skipped": "已跳过"}


def file_state_label(state: object) -> str:
    """ingest_files.state in words; blank when the finding names no known file."""
    return STATE_LABELS.get(state, "") if isinstance(state, str) else ""


KIND_LABELS = {"workbook": "工作簿", "report": "自评报告", "other": "其他"}


def to_wanyuan(values: pd.Series) -> pd.Series:
    """元 → 万元, two decimals."""
    return (pd.to_numeric(values, errors="coerce") / settings.WANYUAN).round(2)


def to_percent(values: pd.Series) -> pd.Series:
    """Fraction → percentage points, two decimals (0.99724 → 99.72)."""
    return (pd.to_numeric(values, errors="coerce") * 100).round(2)


def as_date(values: pd.Series) -> pd.Series:
    """Dates without a time of day (a 填报日期 is a day)."""
    converted = pd.to_datetime(values, errors="coerce")
    return converted.dt.date.where(converted.notna(), None)


def yes_no(values: pd.Series) -> pd.Series:
    return values.map(lambda v: "是" if bool(v) else "否")


def _total(values: pd.Series) -> float | None:
    present = pd.to_numeric(values, errors="coerce").dropna()
    return float(present.sum()) if len(present) else None


def _mean(values: pd.Series) -> float | None:
    present = pd.to_numeric(values, errors="coerce").dropna()
    return float(present.mean()) if len(present) else None


@dataclass(frozen=True)
class CountyTotals:
    """County-wide figures of the units in view. Amounts in 元, rates as fractions."""
    units: int
    budget_issued: float | None
    spent: float | None
    execution_rate: float | None
    sangong_budget: float | None
    sangong_spent: float | None
    sangong_control_rate: float | None
    mean_self_score: float | None
    mean_review_score: float | None


def county_totals(scores: pd.DataFrame) -> CountyTotals:
    """Sum of spending over sum of budget (not the mean of the units' rates)."""
    budget, spent = _total(scores["budget_issued"]), _total(scores["spent"])
    sangong_budget, sangong_spent = _total(scores["sangong_budget"]), _total(scores["sangong_spent"])
    return CountyTotals(
        units=len(scores),
        budget_issued=budget,
        spent=spent,
        execution_rate=metrics.execution_rate(spent, budget),
        sangong_budget=sangong_budget,
        sangong_spent=sangong_spent,
        sangong_control_rate=metrics.sangong_control_rate(sangong_spent, sangong_budget),
        mean_self_score=_mean(scores["self_score"]),
        mean_review_score=_mean(scores["review_score"]),
    )


@dataclass(frozen=True)
class SubmissionCounts:
    """名录单位 = 名录内已报送 + 未报送; 已报送 = 名录内已报送 + 名录外报送."""
    in_roster: int
    submitted: int
    loaded: int
    must_resubmit: int
    not_submitted: int
    submitted_in_roster: int = 0
    outside_roster: int = 0


def submission_counts(status: pd.DataFrame) -> SubmissionCounts:
    in_roster = status["in_roster"].astype(bool)
    submitted = status["submitted"].astype(bool)
    return SubmissionCounts(
        in_roster=int(in_roster.sum()),
        submitted=int(submitted.sum()),
        loaded=int(status["loaded"].astype(bool).sum()),
        must_resubmit=int(status["must_resubmit"].astype(bool).sum()),
        not_submitted=int((in_roster & ~submitted).sum()),
        submitted_in_roster=int((in_roster & submitted).sum()),
        outside_roster=int((~in_roster & submitted).sum()),
    )


def status_list_table(status: pd.DataFrame, which: str) -> pd.DataFrame:
    """The units behind one count of 报送情况: not_submitted / must_resubmit / outside_roster."""
    in_roster = status["in_roster"].astype(bool)
    submitted = status["submitted"].astype(bool)
    chosen = {
        "not_submitted": in_roster & ~submitted,
        "must_resubmit": status["must_resubmit"].astype(bool),
        "outside_roster": ~in_roster & submitted,
    }[which]
    rows = status[chosen]
    situation = [
        "不在名录中（请核对名录或单位名称）" if not r.in_roster else
        "未报送" if not r.submitted else
        "已报送但未能入库，须重新报送" if not r.loaded else
        "已入库，有须改正的错误，须退回修改" if r.must_resubmit else "已入库"
        for r in rows.itertuples(index=False)
    ]
    return pd.DataFrame({
        "单位编码": rows["unit_code"],
        "单位名称": rows["unit_name"],
        "单位类型": rows["unit_type"],
        "主管部门": rows["department"],
        "情况": situation,
    }).reset_index(drop=True)


def overrun_table(scores: pd.DataFrame) -> pd.DataFrame:
    """Units whose 三公经费 spent more than budgeted (控制率 > 100%), worst first."""
    rate = pd.to_numeric(scores["sangong_control_rate"], errors="coerce")
    over = scores[rate > 1].sort_values(["sangong_control_rate", "unit_name"], ascending=[False, True])
    return pd.DataFrame({
        "单位名称": over["unit_name"],
        "三公经费预算数" + WAN: to_wanyuan(over["sangong_budget"]),
        "三公经费实际支出数" + WAN: to_wanyuan(over["sangong_spent"]),
        "三公经费控制率" + PCT: to_percent(over["sangong_control_rate"]),
        "复核等级": over["review_grade"],
    }).reset_index(drop=True)


def inflated_table(scores: pd.DataFrame) -> pd.DataFrame:
    """Units whose 自评得分 is above 复核得分, largest gap first."""
    inflated = scores[pd.to_numeric(scores["inflation"], errors="coerce") > 0]
    return inflation_table(inflated)


def county_totals_by_year(scores: pd.DataFrame) -> pd.DataFrame:
    """三公 and budget totals per year of the units in view."""
    rows = []
    for year, group in scores.groupby("year", sort=True):
        totals = county_totals(group)
        rows.append({
            "评价年度": int(year),
            "单位数": totals.units,
            "财政下达预算数" + WAN: _wan_scalar(totals.budget_issued),
            "支出决算数" + WAN: _wan_scalar(totals.spent),
            "预算资金支出率" + PCT: _pct_scalar(totals.execution_rate),
            "三公经费预算数" + WAN: _wan_scalar(totals.sangong_budget),
            "三公经费实际支出数" + WAN: _wan_scalar(totals.sangong_spent),
            "三公经费控制率" + PCT: _pct_scalar(totals.sangong_control_rate),
        })
    return pd.DataFrame(rows)


def _wan_scalar(value: float | None) -> float | None:
    return None if value is None else round(value / settings.WANYUAN, 2)


def _pct_scalar(value: float | None) -> float | None:
    return None if value is None else round(value * 100, 2)


def ranking_table(scores: pd.DataFrame) -> pd.DataFrame:
    """Who first: rank, name, score and whether the unit must be sent back, then the detail."""
    ordered = scores.sort_values(["rank", "unit_name"], na_position="last")
    return pd.DataFrame({
        "排名": ordered["rank"].astype("Int64"),
        "单位名称": ordered["unit_name"],
        "复核得分": ordered["review_score"].round(2),
        "复核等级": ordered["review_grade"],
        "需退回修改": yes_no(ordered["must_resubmit"]),
        "自评得分": ordered["self_score"].round(2),
        "自评等级": ordered["self_grade"],
        "自评高出复核（分）": ordered["inflation"].round(2),
        "预算资金支出率" + PCT: to_percent(ordered["execution_rate"]),
        "三公经费控制率" + PCT: to_percent(ordered["sangong_control_rate"]),
        "错误数": ordered["errors"].astype("Int64"),
        "单位类型": ordered["unit_type"],
        "主管部门": ordered["department"],
        "类型内排名": ordered["rank_in_type"].astype("Int64"),
        "部门内排名": ordered["rank_in_department"].astype("Int64"),
    }).reset_index(drop=True)


def search(table: pd.DataFrame, text: str, column: str = "单位名称") -> pd.DataFrame:
    text = (text or "").strip()
    if not text:
        return table
    return table[table[column].astype(str).str.contains(text, regex=False)].reset_index(drop=True)


def text_columns(table: pd.DataFrame) -> list[str]:
    """The columns a search looks in: those holding text (names, types, departments, grades…)."""
    return [c for c in table.columns if pd.api.types.is_object_dtype(table[c]) or
            pd.api.types.is_string_dtype(table[c])]


def find_rows(table: pd.DataFrame, text: str) -> pd.DataFrame:
    """Rows with `text` in any text column (Latin letters in either case), in the table's order."""
    text = (text or "").strip()
    if not text or table.empty:
        return table
    hit = np.zeros(len(table), dtype=bool)
    for column in text_columns(table):
        hit |= table[column].astype("string").str.contains(text, case=False, regex=False).fillna(False).to_numpy()
    return table[hit].reset_index(drop=True)


def order_rows(table: pd.DataFrame, column: str | None, descending: bool = False) -> pd.DataFrame:
    """The table sorted by one column (blanks last, ties in the table's own order); as it is
    when no column is named."""
    if not column or column not in table.columns:
        return table
    values = table[column].reset_index(drop=True)
    if not (pd.api.types.is_numeric_dtype(values) or pd.api.types.is_bool_dtype(values)):
        values = values.astype("string")
    order = values.sort_values(ascending=not descending, na_position="last", kind="stable").index
    return table.iloc[order].reset_index(drop=True)


def page_count(rows: int, size: int | None = None) -> int:
    """Pages of `size` rows (settings.TABLE_PAGE_ROWS) needed for `rows` rows (at least one, an empty page)."""
    size = size or settings.TABLE_PAGE_ROWS
    return max(1, -(-rows // size))


def page_rows(table: pd.DataFrame, page: int, size: int | None = None) -> pd.DataFrame:
    """Rows of the page-th page (from 1); a page past the end is the last one."""
    size = size or settings.TABLE_PAGE_ROWS
    page = min(max(int(page), 1), page_count(len(table), size))
    return table.iloc[(page - 1) * size:page * size]


def execution_table(scores: pd.DataFrame) -> pd.DataFrame:
    ordered = scores.sort_values(["execution_rate", "unit_name"], na_position="last")
    return pd.DataFrame({
        "单位名称": ordered["unit_name"],
        "单位类型": ordered["unit_type"],
        "主管部门": ordered["department"],
        "财政下达预算数" + WAN: to_wanyuan(ordered["budget_issued"]),
        "支出决算数" + WAN: to_wanyuan(ordered["spent"]),
        "预算资金支出率" + PCT: to_percent(ordered["execution_rate"]),
        "结转和结余" + WAN: to_wanyuan(ordered["carryover"]),
        "结转结余率" + PCT: to_percent(ordered["carryover_rate"]),
        "基本支出占比" + PCT: to_percent(ordered["basic_share"]),
    }).reset_index(drop=True)


def lowest_execution_table(scores: pd.DataFrame, indicators: pd.DataFrame, count: int,
                           code: str = "A3") -> pd.DataFrame:
    """The units with the lowest 预算资金支出率, with what they claimed for it (A3) and what 复核 gives.

    Units whose budget is 0 (rate not applicable) are left out: they have no share to rank.
    """
    ranked = scores.dropna(subset=["execution_rate"]).sort_values(["execution_rate", "unit_name"]).head(count)
    a3 = indicators[indicators["code"] == code][["unit_name", "max_score", "self_score", "review_score"]]
    a3 = a3.rename(columns={"max_score": "a3_max", "self_score": "a3_self", "review_score": "a3_review"})
    merged = ranked.merge(a3, on="unit_name", how="left")
    full_marks = (merged["a3_self"].notna() & (merged["a3_self"] >= merged["a3_max"]))
    return pd.DataFrame({
        "单位名称": merged["unit_name"],
        "财政下达预算数" + WAN: to_wanyuan(merged["budget_issued"]),
        "支出决算数" + WAN: to_wanyuan(merged["spent"]),
        "预算资金支出率" + PCT: to_percent(merged["execution_rate"]),
        f"{code}分值": merged["a3_max"].round(2),
        f"{code}自评得分": merged["a3_self"].round(2),
        f"{code}复核得分": merged["a3_review"].round(2),
        f"{code}自评满分": yes_no(full_marks),
        "自评得分": merged["self_score"].round(2),
        "复核得分": merged["review_score"].round(2),
        "复核等级": merged["review_grade"],
    })


def sangong_table(scores: pd.DataFrame) -> pd.DataFrame:
    ordered = scores.sort_values(["sangong_control_rate", "unit_name"], ascending=[False, True],
                                 na_position="last")
    overrun = pd.to_numeric(ordered["sangong_control_rate"], errors="coerce") > 1
    return pd.DataFrame({
        "单位名称": ordered["unit_name"],
        "单位类型": ordered["unit_type"],
        "三公经费预算数" + WAN: to_wanyuan(ordered["sangong_budget"]),
        "三公经费实际支出数" + WAN: to_wanyuan(ordered["sangong_spent"]),
        "三公经费控制率" + PCT: to_percent(ordered["sangong_control_rate"]),
        "是否超预算": yes_no(overrun),
        "因公出国（境）费" + WAN: to_wanyuan(ordered["sangong_abroad"]),
        "公务用车购置及运行维护费" + WAN: to_wanyuan(ordered["sangong_vehicles"]),
        "公务接待费" + WAN: to_wanyuan(ordered["sangong_reception"]),
        "公用经费控制率" + PCT: to_percent(ordered["public_control_rate"]),
    }).reset_index(drop=True)


def inflation_table(scores: pd.DataFrame) -> pd.DataFrame:
    ordered = scores.sort_values(["inflation", "unit_name"], ascending=[False, True], na_position="last")
    return pd.DataFrame({
        "单位名称": ordered["unit_name"],
        "自评得分": ordered["self_score"].round(2),
        "自评等级": ordered["self_grade"],
        "复核得分": ordered["review_score"].round(2),
        "复核等级": ordered["review_grade"],
        "自评高出复核（分）": ordered["inflation"].round(2),
        "等级是否一致": yes_no(ordered["self_grade"] == ordered["review_grade"]),
    }).reset_index(drop=True)


def rows_of_units(frame: pd.DataFrame, scores: pd.DataFrame) -> pd.DataFrame:
    """The rows of `frame` (indicator scores, targets…) that belong to the units in `scores`."""
    return frame[frame["unit_name"].isin(scores["unit_name"])].reset_index(drop=True)


def deductions(indicators: pd.DataFrame, *, basis: str = "review") -> pd.DataFrame:
    """Points off per unit and indicator: 分值 − 复核得分 (basis review) or 自评 − 复核 (basis inflation)."""
    frame = indicators.copy()
    if basis == "review":
        frame["points"] = frame["max_score"] - frame["review_score"]
    else:
        frame["points"] = frame["self_score"] - frame["review_score"]
    frame["points"] = frame["points"].round(2)
    return frame[["unit_name", "code", "level3", "points"]]


def deduction_matrix(indicators: pd.DataFrame, *, basis: str = "review") -> pd.DataFrame:
    points = deductions(indicators, basis=basis)
    matrix = points.pivot_table(index="unit_name", columns="code", values="points", aggfunc="sum")
    matrix = matrix.reindex(sorted(matrix.columns), axis=1)
    matrix = matrix.loc[matrix.sum(axis=1).sort_values(ascending=False).index]
    matrix.index.name = "单位名称"
    return matrix.reset_index()


def grade_flow_table(changes: pd.DataFrame) -> pd.DataFrame:
    """Units per (上年复核等级, 本年复核等级)."""
    known = changes.dropna(subset=["previous_review_grade", "review_grade"])
    counts = known.groupby(["previous_review_grade", "review_grade"]).size().reset_index(name="单位数")
    # in the order 优 良 中 差, not the characters' code order (中 优 差 良)
    rank = {grade: index for index, grade in enumerate(GRADES)}
    counts = counts.sort_values(["previous_review_grade", "review_grade"],
                                key=lambda column: column.map(lambda g: rank.get(g, len(rank))))
    return counts.rename(columns={"previous_review_grade": "上年复核等级",
                                  "review_grade": "本年复核等级"}).reset_index(drop=True)


def changes_table(changes: pd.DataFrame, limit: int | None = None) -> pd.DataFrame:
    ordered = changes.copy()
    ordered["_size"] = ordered["review_score_change"].abs()
    ordered = ordered.sort_values(["_size", "unit_name"], ascending=[False, True], na_position="last")
    if limit is not None:
        ordered = ordered.head(limit)
    return pd.DataFrame({
        "单位名称": ordered["unit_name"],
        "上年复核得分": ordered["previous_review_score"].round(2),
        "本年复核得分": ordered["review_score"].round(2),
        "得分变化（分）": ordered["review_score_change"].round(2),
        "上年复核等级": ordered["previous_review_grade"],
        "本年复核等级": ordered["review_grade"],
        "支出率变化（百分点）": to_percent(ordered["execution_rate_change"]),
        "三公控制率变化（百分点）": to_percent(ordered["sangong_control_rate_change"]),
    }).reset_index(drop=True)


def grade_distribution(scores: pd.DataFrame) -> pd.DataFrame:
    """Units per grade, 自评 and 复核 side by side, in the order 优 良 中 差."""
    self_counts = scores["self_grade"].value_counts()
    review_counts = scores["review_grade"].value_counts()
    return pd.DataFrame({
        "等级": list(GRADES),
        "自评等级单位数": [int(self_counts.get(g, 0)) for g in GRADES],
        "复核等级单位数": [int(review_counts.get(g, 0)) for g in GRADES],
    })


def grade_crosstab(scores: pd.DataFrame) -> pd.DataFrame:
    """Units by 自评等级 (rows) and 复核等级 (columns), 优 良 中 差 both ways, with totals: how
    many units graded themselves one grade and were reviewed another."""
    counts = pd.crosstab(scores["self_grade"], scores["review_grade"])
    table = counts.reindex(index=list(GRADES), columns=list(GRADES), fill_value=0).astype(int)
    table.columns = [f"复核{g}" for g in GRADES]
    table["合计"] = table.sum(axis=1)
    table.loc["合计"] = table.sum(axis=0)
    table.index = [f"自评{g}" for g in GRADES] + ["合计"]
    table.index.name = "单位数"
    return table


def data_lines_table(lines: pd.DataFrame, count_lines: frozenset[int] = frozenset({24, 25})) -> pd.DataFrame:
    is_count = lines["line"].isin(count_lines)
    amounts = lines["amount"].where(~is_count)
    counts = lines["amount"].where(is_count)
    return pd.DataFrame({
        "行次": lines["line"].astype("Int64"),
        "项目": lines["item"],
        "金额" + WAN: to_wanyuan(amounts),
        "金额" + YUAN: pd.to_numeric(amounts, errors="coerce").round(2),
        "笔数/个数": pd.to_numeric(counts, errors="coerce").astype("Int64"),
        "来源单元格": lines["source_cell"],
        "填报原值": lines["source_value"],
    }).reset_index(drop=True)


def basis_column(indicators: pd.DataFrame) -> pd.Series:
    """在职人员控制率 104 % → 3.0 / 5 for each formula indicator; blank for the others."""
    if "metric" not in indicators:
        return pd.Series([None] * len(indicators), index=indicators.index, dtype=object)
    return pd.Series([
        formula_basis(None if pd.isna(metric) else metric, None if pd.isna(value) else float(value), score, top)
        for metric, value, score, top in zip(indicators["metric"], indicators["metric_value"],
                                             indicators["review_score"], indicators["max_score"])
    ], index=indicators.index, dtype=object)


def indicator_table(indicators: pd.DataFrame) -> pd.DataFrame:
    from presentation.review import SOURCE_LABELS

    table = pd.DataFrame({
        "代码": indicators["code"],
        "一级指标": indicators["level1"],
        "二级指标": indicators["level2"],
        "三级指标": indicators["level3"],
        "分值": indicators["max_score"].round(2),
        "自评得分": indicators["self_score"].round(2),
        "复核得分": indicators["review_score"].round(2),
        "自评高出复核（分）": (indicators["self_score"] - indicators["review_score"]).round(2),
        "复核方法": indicators["rule"].map(method_label),
        "复核依据": basis_column(indicators),
        "评分说明": indicators["note"],
        "来源单元格": indicators["source_cell"],
    }).reset_index(drop=True)
    if "review_source" in indicators:  # where 复核得分 comes from, and the officer's reason (section 10)
        table.insert(7, "复核得分来源", indicators["review_source"].map(lambda s: SOURCE_LABELS.get(s, s)).to_numpy())
        table.insert(8, "复核理由", indicators["reason"].to_numpy())
    return table


def findings_table(findings: pd.DataFrame) -> pd.DataFrame:
    """Every finding with its cell; 文件状态 says whether its file is the one that counts."""
    states = findings["file_state"] if "file_state" in findings else pd.Series(None, index=findings.index)
    return pd.DataFrame({
        "严重程度": findings["severity"].map(lambda s: SEVERITY_LABELS.get(s, s)),
        "单位名称": findings["unit_name"],
        "位置": findings["location"],
        "问题类型": findings["rule"].map(rule_label),
        "说明": findings["message"],
        "填报值": findings["found"],
        "应为": findings["expected"],
        "文件状态": states.map(file_state_label),
        "评价年度": findings["year"].astype("Int64"),
        "规则": findings["rule"],
        "文件": findings["file"],
    }).reset_index(drop=True)


def problem_files_table(files: pd.DataFrame) -> pd.DataFrame:
    """Files not loaded: quarantined, superseded or skipped, with the reason."""
    problems = files[files["state"] != "loaded"]
    return pd.DataFrame({
        "状态": problems["state"].map(lambda s: STATE_LABELS.get(s, s)),
        "文件": problems["file"],
        "类型": problems["kind"].map(lambda k: KIND_LABELS.get(k, k)),
        "单位名称": problems["unit_name"],
        "评价年度": problems["year"].astype("Int64"),
        "填报日期": as_date(problems["filed_on"]),
        "原因": problems["reason"],
    }).reset_index(drop=True)


def not_submitted_table(status: pd.DataFrame) -> pd.DataFrame:
    """Roster units with nothing loaded: not submitted at all, or only quarantined files."""
    missing = status[~status["loaded"].astype(bool)]
    return pd.DataFrame({
        "单位编码": missing["unit_code"],
        "单位名称": missing["unit_name"],
        "单位类型": missing["unit_type"],
        "主管部门": missing["department"],
        "情况": missing["submitted"].map(lambda s: "已报送但未能入库（需重新报送）" if s else "未报送"),
    }).reset_index(drop=True)


def resubmit_table(status: pd.DataFrame) -> pd.DataFrame:
    must = status[status["must_resubmit"].astype(bool)]
    return pd.DataFrame({
        "单位编码": must["unit_code"],
        "单位名称": must["unit_name"],
        "单位类型": must["unit_type"],
        "主管部门": must["department"],
        "已入库": yes_no(must["loaded"]),
    }).reset_index(drop=True)


def unit_trend_table(history: pd.DataFrame) -> pd.DataFrame:
    return pd.DataFrame({
        "评价年度": history["year"].astype("Int64"),
        "排名": history["rank"].astype("Int64"),
        "自评得分": history["self_score"].round(2),
        "复核得分": history["review_score"].round(2),
        "复核等级": history["review_grade"],
        "财政下达预算数" + WAN: to_wanyuan(history["budget_issued"]),
        "支出决算数" + WAN: to_wanyuan(history["spent"]),
        "预算资金支出率" + PCT: to_percent(history["execution_rate"]),
        "三公经费控制率" + PCT: to_percent(history["sangong_control_rate"]),
        "公用经费控制率" + PCT: to_percent(history["public_control_rate"]),
    }).reset_index(drop=True)


REPORT_ITEM_LABELS = {
    "execution_rate": "预算资金支出率", "public_control_rate": "公用经费控制率",
    "sangong_control_rate": "三公经费控制率", "basic_share": "基本支出占比", "carryover_rate": "结转结余率",
    "self_score": "自评得分（合计）", "self_grade": "自评等级", "unit_name": "单位名称", "filed_on": "填报日期",
    "budget_issued": "财政下达预算数", "spent": "支出决算数", "opening_budget": "年初支出预算数",
    "basic_budget": "年初基本支出预算", "project_budget": "年初项目支出预算", "basic_spent": "基本支出",
    "project_spent": "项目支出", "opening_execution_rate": "年初预算执行率", "basic_execution_rate": "基本支出执行率",
    "project_execution_rate": "项目支出执行率", "budget_adjustment_rate": "预算调整率",
    "low_execution_two_years": f"连续两年支出率低于{settings.LOW_EXECUTION_RATE:.0%}",
    "review_score": "复核得分", "review_grade": "复核等级",
    "region": "地区", "department": "主管部门", "unit_type": "单位类型",
}


def report_item_label(item: str) -> str:
    """execution_rate → 预算资金支出率, r13 → 第13行 支出决算数, score.A3 → A3 自评得分."""
    if item in REPORT_ITEM_LABELS:
        return REPORT_ITEM_LABELS[item]
    if item.startswith("r") and item[1:].isdigit() and int(item[1:]) in DATA_LINE_BY_NUMBER:
        return f"第{int(item[1:])}行 {DATA_LINE_BY_NUMBER[int(item[1:])].label}"
    if item.startswith("score."):
        return f"{item.removeprefix('score.')} 自评得分"
    return item


def _report_kind(item: str) -> str:
    if item.endswith(("_rate", "_share")):
        return "rate"
    if item.startswith("r") and item[1:].isdigit():
        line = DATA_LINE_BY_NUMBER.get(int(item[1:]))
        return "count" if line is not None and line.is_count else "amount"
    if item.startswith("score.") or item == "self_score":
        return "score"
    return "text"


def report_figures_table(figures: pd.DataFrame) -> pd.DataFrame:
    """What the narrative report states, each figure in the unit its kind is shown in."""
    kinds = figures["item"].map(_report_kind)
    values = pd.to_numeric(figures["value"], errors="coerce")
    return pd.DataFrame({
        "项目": figures["item"].map(report_item_label),
        "报告所述金额" + WAN: to_wanyuan(values.where(kinds == "amount")),
        "报告所述比率" + PCT: to_percent(values.where(kinds == "rate")),
        "报告所述得分或笔数": values.where(kinds.isin(["score", "count"])).round(2),
        "报告所述文字": figures["text_value"],
        "原句": figures["sentence"],
        "文件": figures["file"],
    }).reset_index(drop=True)


OVERRUN_STYLE = "background-color: #ffebee; color: #b71c1c"


def overrun_styles(frame: pd.DataFrame) -> pd.DataFrame:
    """The CSS of every cell of the 三公 table: rows over budget in red. Built for the whole
    frame at once, not row by row (which takes seconds for thousands of rows)."""
    over = (frame["是否超预算"] == "是").to_numpy()[:, None]
    return pd.DataFrame(np.where(np.broadcast_to(over, frame.shape), OVERRUN_STYLE, ""),
                        index=frame.index, columns=frame.columns)


PROFILE_ITEMS = (("复核得分", "review_score", "score"), ("自评得分", "self_score", "score"),
                 ("预算资金支出率" + PCT, "execution_rate", "rate"),
                 ("三公经费控制率" + PCT, "sangong_control_rate", "rate"),
                 ("公用经费控制率" + PCT, "public_control_rate", "rate"))


def own_against_county_table(row: pd.Series, profile: dict) -> pd.DataFrame:
    """One unit's figures beside the county's mean and quartiles (rates in %, scores in 分)."""
    def shown(value, kind: str):
        if value is None or pd.isna(value):
            return None
        return round(float(value) * (100 if kind == "rate" else 1), 2)

    rows = []
    for label, column, kind in PROFILE_ITEMS:
        county = profile[column]
        rows.append({
            "项目": label,
            "本单位": shown(row[column], kind),
            "全县平均": shown(county["mean"], kind),
            "全县下四分位": shown(county["p25"], kind),
            "全县中位数": shown(county["median"], kind),
            "全县上四分位": shown(county["p75"], kind),
            "参与单位数": int(county["n"] or 0),
        })
    return pd.DataFrame(rows)
