"""退回与整改 (contract section 12) as tables: the units, their versions, what each version
changed and the rectification items with their status. Pure functions of warehouse frames."""

from __future__ import annotations

import pandas as pd

from pipeline.checking.findings import SEVERITY_LABELS, rule_label
from pipeline.checking.resubmission import FIXED, OPEN, OVERDUE, STATUS_LABELS, UNREQUESTED_RULE
from presentation.tables import STATE_LABELS, as_date, yes_no

# Overdue units first, then those with open items, then the rest.
STATUS_ORDER = {OVERDUE: 0, OPEN: 1, FIXED: 2}


def unit_overview(items: pd.DataFrame, files: pd.DataFrame, findings: pd.DataFrame) -> pd.DataFrame:
    """One row per unit with rectification items or more than one version; overdue units first.

    items: rectifications of the year; files: ingest_files of the year (workbooks); findings: of the year."""
    workbooks = files[(files["kind"] == "workbook") & files["unit_name"].notna()]
    versions = workbooks.groupby("unit_name").size()
    units = sorted(set(items["unit_name"]) | set(versions[versions > 1].index))
    unrequested = findings[findings["rule"] == UNREQUESTED_RULE].groupby("unit_name").size()
    mine = items[items["unit_name"].isin(units)]
    counts = mine.groupby(["unit_name", "status"]).size().unstack(fill_value=0)
    waiting = mine[mine["status"] != FIXED].dropna(subset=["deadline"])
    deadlines = waiting.groupby("unit_name")["deadline"].min()

    def per_unit(values: pd.Series) -> list[int]:
        return [int(n) for n in values.reindex(units, fill_value=0)]

    def status_count(status: str) -> list[int]:
        return per_unit(counts[status]) if status in counts else [0] * len(units)

    table = pd.DataFrame({
        "单位名称": pd.Series(units, dtype=object),
        "报送版本数": per_unit(versions),
        "整改事项": per_unit(mine.groupby("unit_name").size()),
        "已改正": status_count(FIXED),
        "未改正": status_count(OPEN),
        "逾期未改正": status_count(OVERDUE),
        "重新报送截止日期": [deadlines.get(unit) for unit in units],
        "未要求的改动": per_unit(unrequested),
    })
    table["重新报送截止日期"] = as_date(table["重新报送截止日期"])
    return table.sort_values(["逾期未改正", "未改正", "单位名称"], ascending=[False, False, True]).reset_index(drop=True)


def versions_table(files: pd.DataFrame, unit: str) -> pd.DataFrame:
    """A unit's workbooks in the order they were filed (填报日期, then file name)."""
    mine = files[(files["kind"] == "workbook") & (files["unit_name"] == unit)]
    mine = mine.sort_values(["filed_on", "file"], na_position="first")
    return pd.DataFrame({
        "版本": range(1, len(mine) + 1),
        "填报日期": as_date(mine["filed_on"]),
        "文件": mine["file"],
        "状态": mine["state"].map(lambda s: STATE_LABELS.get(s, s)),
        "说明": mine["reason"],
    }).reset_index(drop=True)


def changes_table(changes: pd.DataFrame) -> pd.DataFrame:
    """Every changed cell of a unit's resubmissions."""
    return pd.DataFrame({
        "修改后的文件": changes["to_file"],
        "位置": changes["location"],
        "项目": changes["item"],
        "修改前": changes["before"],
        "修改后": changes["after"],
        "是否要求修改": yes_no(changes["requested"]),
        "修改前的文件": changes["from_file"],
    }).reset_index(drop=True)


def items_table(items: pd.DataFrame) -> pd.DataFrame:
    """Rectification items, overdue first."""
    ordered = items.assign(_order=items["status"].map(STATUS_ORDER)).sort_values(
        ["_order", "unit_name", "first_file", "location"])
    return pd.DataFrame({
        "状态": ordered["status"].map(lambda s: STATUS_LABELS.get(s, s)),
        "单位名称": ordered["unit_name"],
        "位置": ordered["location"],
        "问题类型": ordered["rule"].map(rule_label),
        "严重程度": ordered["severity"].map(lambda s: SEVERITY_LABELS.get(s, s)),
        "首次出现": ordered["first_file"],
        "首次填报日期": as_date(ordered["first_seen"]),
        "通知轮次": ordered["notice_round"].astype("Int64"),
        "重新报送截止日期": as_date(ordered["deadline"]),
        "改正的文件": ordered["fixed_file"],
        "说明": ordered["message"],
    }).reset_index(drop=True)
