"""Small pure helpers shared by the outputs: labels, widths, file names, dates, numbers."""

from __future__ import annotations

import re
import unicodedata
from datetime import date, timedelta

import pandas as pd

from pipeline import settings
from pipeline.findings import SEVERITY_LABELS

RESUBMIT_WORKING_DAYS = 10

RULE_LABELS = {
    "file.unreadable": "文件无法打开",
    "file.encrypted": "文件已加密",
    "file.too_large": "文件超出大小上限",
    "file.lock_file": "临时锁定文件",
    "file.superseded": "被新版本替代",
    "file.unknown_kind": "无法识别的文件",
    "sheet.missing": "缺少工作表",
    "framework.missing": "缺少当年评分框架",
    "data.not_a_number": "金额不是数字",
    "data.amount_missing": "金额未填写",
    "data.negative": "金额为负数",
    "data.header_missing": "数据表表头缺失",
    "data.label_mismatch": "数据表项目名称不符",
    "data.line_missing": "数据表缺少行次",
    "data.line_repeated": "数据表行次重复",
    "budget.unbalanced": "年初预算收支不平衡",
    "info.late": "逾期报送",
    "info.year_mismatch": "评价年度填写有误",
    "roster.unknown_unit": "单位不在名录中",
    "roster.code_mismatch": "单位编码与名录不符",
    "scores.above_max": "自评得分超过分值",
    "scores.grade_invalid": "自评等级无效",
    "scores.grade_mismatch": "自评等级与得分不符",
    "scores.grade_missing": "自评等级未填写",
    "scores.header_missing": "评分表表头缺失",
    "scores.indicator_missing": "评分表缺少指标",
    "scores.indicator_unknown": "评分表有未知指标",
    "scores.max_mismatch": "指标分值与框架不符",
    "scores.not_a_number": "自评得分不是数字",
    "scores.note_missing": "扣分未说明原因",
    "scores.self_missing": "自评得分未填写",
    "scores.total_mismatch": "自评合计与各项之和不符",
    "scores.total_missing": "自评合计未填写",
    "review.self_score_above_review": "自评高于复核",
    "report.missing": "未报送自评报告",
    "report.unmatched": "自评报告无法对应单位",
    "report.unreadable": "自评报告无法读取",
}

_PATTERN_LABELS = (
    (re.compile(r"^identity\.r(\d+)$"), "勾稽关系不符（行次{0}）"),
    (re.compile(r"^report\.mismatch\..+$"), "自评报告与表格不一致"),
    (re.compile(r"^info\.\w+_missing$"), "基本信息缺项"),
    (re.compile(r"^info\.\w+_invalid$"), "基本信息填写有误"),
    (re.compile(r"^scores?\.\w+$"), "评分表填写有误"),
)


def rule_label(rule: str) -> str:
    """A rule id in words: identity.r13 → 勾稽关系不符（行次13）; unknown ids are shown as they are."""
    if rule in RULE_LABELS:
        return RULE_LABELS[rule]
    for pattern, label in _PATTERN_LABELS:
        match = pattern.match(rule)
        if match:
            return label.format(*match.groups())
    return rule


def severity_label(severity: str) -> str:
    return SEVERITY_LABELS.get(severity, severity)


def display_width(text: object) -> int:
    """Columns the text takes in a spreadsheet: CJK and other wide characters count 2."""
    return sum(2 if unicodedata.east_asian_width(c) in ("W", "F") else 1 for c in str(text))


_WINDOWS_FORBIDDEN = re.compile(r'[<>:"/\\|?*\x00-\x1f]')
_WINDOWS_RESERVED = {"CON", "PRN", "AUX", "NUL", *(f"COM{i}" for i in range(1, 10)),
                     *(f"LPT{i}" for i in range(1, 10))}
MAX_NAME_CHARS = 80


def safe_file_stem(text: str) -> str:
    """A file name stem any Windows, macOS or Linux folder and any zip tool accepts."""
    cleaned = _WINDOWS_FORBIDDEN.sub("_", unicodedata.normalize("NFC", str(text)))
    cleaned = re.sub(r"\s+", " ", cleaned).strip().rstrip(". ") or "未命名"
    if cleaned.split(".")[0].upper() in _WINDOWS_RESERVED:
        cleaned = "_" + cleaned
    return cleaned[:MAX_NAME_CHARS]


def add_working_days(start: date, days: int) -> date:
    """start + days working days (Monday to Friday; public holidays are not known here)."""
    current = start
    remaining = days
    while remaining > 0:
        current += timedelta(days=1)
        if current.weekday() < 5:
            remaining -= 1
    return current


def chinese_date(day: date) -> str:
    return f"{day.year}年{day.month}月{day.day}日"


def is_missing(value: object) -> bool:
    if value is None or value is pd.NA or value is pd.NaT:
        return True
    try:
        return bool(pd.isna(value))
    except (TypeError, ValueError):
        return False


def text_or_dash(value: object) -> str:
    return "—" if is_missing(value) or str(value).strip() == "" else str(value)


def wanyuan(value: float | None) -> str:
    """An amount in 元 shown in 万元: 8,397,200.18 → 839.72 万元."""
    return "—" if is_missing(value) else f"{value / settings.WANYUAN:,.2f} 万元"


def percent(value: float | None) -> str:
    return "—" if is_missing(value) else f"{value * 100:.2f}%"


def points(value: float | None) -> str:
    return "—" if is_missing(value) else f"{value:.2f} 分"
