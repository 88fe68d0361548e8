"""Small pure helpers shared by the outputs: labels, widths, file names, dates, numbers."""

from __future__ import annotations

import re
import unicodedata
from datetime import date, timedelta

import pandas as pd

from pipeline import settings
from pipeline.checking.findings import SEVERITY_LABELS

RESUBMIT_WORKING_DAYS = 10

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
