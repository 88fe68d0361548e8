"""The bureau's 复核 and 抽查 as tables, for the 复核 page and the 复核工作底稿. Pure functions of
warehouse frames and of the ledger's decisions (a frame with year, unit_name, code, score,
reason, officer, recorded_at, oldest first)."""

from __future__ import annotations

import pandas as pd

from pipeline import settings
from pipeline.scoring import metrics

from .tables import PCT, WAN, report_item_label, to_percent, to_wanyuan

SOURCE_LABELS = {"officer": "财政局复核", "rule": "按规则复算", "self": "采用自评"}
SELECTED_BY_LABELS = {"risk": "按风险", "random": "随机抽取"}
DECISION_COLUMNS = ["year", "unit_name", "code", "score", "reason", "officer", "recorded_at"]

# Report items whose table value is a column of unit_scores (rates as fractions, scores in points).
_SCORE_ROW_ITEMS = ("execution_rate", "public_control_rate", "sangong_control_rate", "basic_share",
                    "carryover_rate", "self_score")


def _score(value) -> float | None:
    return None if value is None or pd.isna(value) else round(float(value), 2)


def sample_table(sample: pd.DataFrame) -> pd.DataFrame:
    """The year's 抽查 sample, highest risk first."""
    ordered = sample.sort_values(["risk", "unit_name"], ascending=[False, True])
    return pd.DataFrame({
        "单位名称": ordered["unit_name"],
        "单位编码": ordered["unit_code"],
        "风险分": ordered["risk"].round(2),
        "风险信号": ordered["reasons"],
        "入选方式": ordered["selected_by"].map(lambda s: SELECTED_BY_LABELS.get(s, s)),
    }).reset_index(drop=True)


def comparison_table(indicators: pd.DataFrame) -> pd.DataFrame:
    """Each indicator's self, rule and officer score side by side, and which one counts."""
    officer = indicators["review_source"] == "officer"
    return pd.DataFrame({
        "代码": indicators["code"],
        "三级指标": indicators["level3"],
        "分值": indicators["max_score"].round(2),
        "自评得分": indicators["self_score"].round(2),
        "规则复核得分": indicators["rule_score"].round(2),
        "财政局复核得分": indicators["review_score"].where(officer).round(2),
        "复核得分": indicators["review_score"].round(2),
        "采用": indicators["review_source"].map(lambda s: SOURCE_LABELS.get(s, s)),
        "复核人": indicators["officer"],
        "复核理由": indicators["reason"],
        "评分说明": indicators["note"],
        "来源单元格": indicators["source_cell"],
    }).reset_index(drop=True)


def latest_decisions(decisions: pd.DataFrame) -> pd.DataFrame:
    """The latest decision per (year, unit, code), withdrawals included (score NaN)."""
    if decisions.empty:
        return pd.DataFrame(columns=DECISION_COLUMNS)
    return decisions.drop_duplicates(["year", "unit_name", "code"], keep="last").reset_index(drop=True)


def pending_table(decisions: pd.DataFrame, indicators: pd.DataFrame) -> pd.DataFrame:
    """Decisions of the ledger that the published build does not show yet (a rebuild makes them count).

    indicators: the build's indicator_scores of the same year(s).
    """
    latest = latest_decisions(decisions)
    # only the decided units' rows: a province has hundreds of thousands of indicator rows
    decided = indicators[indicators["unit_name"].isin(set(latest["unit_name"]))]
    built = {(r.year, r.unit_name, r.code): r for r in decided.itertuples(index=False)}
    rows = []
    for d in latest.itertuples(index=False):
        row = built.get((d.year, d.unit_name, d.code))
        withdrawn = d.score is None or pd.isna(d.score)
        if row is None:
            if withdrawn:
                continue
            state = "该单位本年度没有入库的报送，暂不生效"
        elif withdrawn:
            if row.review_source != "officer":
                continue
            state = "撤回，待重新构建"
        elif (row.review_source == "officer" and _score(row.review_score) == _score(d.score)
              and row.officer == d.officer and row.reason == d.reason):
            continue
        else:
            state = "待重新构建"
        rows.append({"单位名称": d.unit_name, "代码": d.code,
                     "复核得分": None if withdrawn else _score(d.score), "复核人": d.officer,
                     "理由": d.reason, "记录时间": d.recorded_at, "状态": state})
    return pd.DataFrame(rows, columns=["单位名称", "代码", "复核得分", "复核人", "理由", "记录时间", "状态"])


def decision_history_table(decisions: pd.DataFrame) -> pd.DataFrame:
    """Every decision ever recorded for the rows given, newest first."""
    ordered = decisions.iloc[::-1]
    return pd.DataFrame({
        "记录时间": ordered["recorded_at"],
        "单位名称": ordered["unit_name"],
        "代码": ordered["code"],
        "复核得分": ordered["score"].map(lambda s: "撤回" if s is None or pd.isna(s) else f"{s:.2f}"),
        "复核人": ordered["officer"],
        "理由": ordered["reason"],
    }).reset_index(drop=True)


def _table_value(item: str, lines: pd.DataFrame, score_row: pd.Series | None,
                 indicators: pd.DataFrame) -> float | None:
    if item.startswith("r") and item[1:].isdigit():
        found = lines.loc[lines["line"] == int(item[1:]), "amount"]
        return None if found.empty or pd.isna(found.iloc[0]) else float(found.iloc[0])
    if item in _SCORE_ROW_ITEMS and score_row is not None and item in score_row:
        value = score_row[item]
        return None if pd.isna(value) else float(value)
    if item.startswith("score."):
        found = indicators.loc[indicators["code"] == item.removeprefix("score."), "self_score"]
        return None if found.empty or pd.isna(found.iloc[0]) else float(found.iloc[0])
    return None


def _agrees(item: str, stated: float, table: float) -> bool:
    if item.endswith(("_rate", "_share")):
        return abs(stated - table) <= settings.REPORT_RATE_TOLERANCE
    if item.startswith("r"):
        return abs(stated - table) <= settings.REPORT_AMOUNT_TOLERANCE
    return metrics.round_score(stated) == metrics.round_score(table)


def claims_table(figures: pd.DataFrame, lines: pd.DataFrame, score_row: pd.Series | None,
                 indicators: pd.DataFrame) -> pd.DataFrame:
    """Each figure the 自评报告 states, beside the table's value and the sentence it came from."""
    rows = []
    for f in figures.itertuples(index=False):
        if pd.isna(f.value):
            continue
        table = _table_value(f.item, lines, score_row, indicators)
        rate = f.item.endswith(("_rate", "_share"))
        amount = f.item.startswith("r") and f.item[1:].isdigit()

        def shown(value: float | None, rate: bool = rate, amount: bool = amount) -> str:
            if value is None:
                return "—"
            if rate:
                return f"{value * 100:.2f}%"
            if amount:
                return f"{value:,.2f} 元"
            return f"{value:g}"

        verdict = "表中无对应数" if table is None else ("一致" if _agrees(f.item, f.value, table) else "不一致")
        rows.append({"项目": report_item_label(f.item), "报告所述": shown(f.value), "表格数": shown(table),
                     "核对": verdict, "原句": f.sentence})
    return pd.DataFrame(rows, columns=["项目", "报告所述", "表格数", "核对", "原句"])


def evidence_lines_table(lines: pd.DataFrame) -> pd.DataFrame:
    """The unit's figures with the cells they came from."""
    return pd.DataFrame({
        "行次": lines["line"].astype("Int64"),
        "项目": lines["item"],
        "金额" + WAN: to_wanyuan(lines["amount"]),
        "来源单元格": lines["source_cell"],
        "填报原值": lines["source_value"],
    }).reset_index(drop=True)


def targets_table(targets: pd.DataFrame) -> pd.DataFrame:
    """绩效目标表 rows as read (whatever columns the build has of them)."""
    labels = {"kind": "一级指标", "category": "二级指标", "name": "三级指标", "direction": "指标方向",
              "target": "年度指标值", "unit": "计量单位", "actual": "实际完成值", "weight": "权重",
              "completion": "完成度" + PCT, "reason": "偏差原因", "location": "位置"}
    shown = {label: targets[column] for column, label in labels.items() if column in targets}
    if "完成度" + PCT in shown:
        shown["完成度" + PCT] = to_percent(shown["完成度" + PCT])
    return pd.DataFrame(shown).reset_index(drop=True)


def officer_changes(indicators: pd.DataFrame) -> int:
    """How many indicators carry an officer's score that differs from the rule's."""
    if indicators.empty or "review_source" not in indicators:
        return 0
    officer = indicators[indicators["review_source"] == "officer"]
    return int(((officer["review_score"] - officer["rule_score"]).abs() > 0.005).sum())
