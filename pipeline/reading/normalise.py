"""Normalisation of what units type into cells (contract section 5). Pure functions.

Every parser returns the value or raises ValueError with a short Chinese reason; the
caller knows the cell and turns the reason into a finding.
"""

from __future__ import annotations

import datetime as dt
import functools
import re
import unicodedata
from decimal import Decimal, InvalidOperation

from pipeline.settings import WANYUAN
from schemas.form import GRADE_ALIASES, GRADES

_SPACES = re.compile(r"[\s\u3000\u00a0\u2002\u2003\u2009\u200b\ufeff]+")
_WHERE_OF = re.compile(r"^(?:其中[:：]?)+")
_TRAILING_UNIT = re.compile(r"(?:[(（](万?元|笔|个|人|%|％)[)）])+$")
_ZERO_MARKS = {"-", "—", "–", "/", "－", "——", "--"}
_NUMBER = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)$")


@functools.lru_cache(maxsize=1 << 16)
def nfkc(text: str | None) -> str:
    """NFKC (full-width digits and punctuation become half-width), spaces removed at the ends."""
    if text is None:
        return ""
    return unicodedata.normalize("NFKC", str(text)).strip()


@functools.lru_cache(maxsize=1 << 16)
def squash(text: str | None) -> str:
    """NFKC with every space removed, including U+3000 and non-breaking spaces."""
    return _SPACES.sub("", nfkc(text))


@functools.lru_cache(maxsize=1 << 16)  # forms repeat the same labels in every file
def label_key(text: str | None) -> str:
    """A label as compared: no spaces, no 其中： prefix, no trailing unit such as （元）."""
    key = squash(text)
    key = _WHERE_OF.sub("", key)
    key = _TRAILING_UNIT.sub("", key)
    return key


def sheet_key(name: str) -> str:
    """A sheet name as compared: NFKC, no spaces."""
    return squash(name)


def parse_amount(raw: str | None) -> tuple[float | None, bool]:
    """An amount cell in 元 (or in 万元 when it says so).

    Returns (value, in_wanyuan): value None for an empty cell; in_wanyuan when the cell
    itself carries 万元 (`837.40万元`), so the caller multiplies by 10 000. `-`, `—`
    and `/` mean 0. Raises ValueError for anything that is not a number.
    """
    text = squash(raw)
    if text == "":
        return None, False
    if text in _ZERO_MARKS:
        return 0.0, False
    in_wanyuan = False
    if text.endswith("万元"):
        text, in_wanyuan = text[:-2], True
    elif text.endswith("元"):
        text = text[:-1]
    text = text.replace(",", "").replace("，", "")
    if text.startswith("¥") or text.startswith("￥"):
        text = text[1:]
    negative = text.startswith("(") and text.endswith(")")
    if negative:
        text = text[1:-1]
    if not _NUMBER.match(text):
        raise ValueError("不是数字")
    try:
        value = float(Decimal(text))
    except InvalidOperation as exc:  # pragma: no cover - the regex already guards
        raise ValueError("不是数字") from exc
    return (-value if negative else value), in_wanyuan


def amount_in_yuan(raw: str | None, form_in_wanyuan: bool) -> float | None:
    """An amount cell converted to 元: ×10 000 for a 万元 form or a `…万元` cell."""
    value, cell_wanyuan = parse_amount(raw)
    if value is None:
        return None
    if form_in_wanyuan or cell_wanyuan:
        return round(value * WANYUAN, 2)
    return value


def parse_count(raw: str | None) -> int | None:
    """A count (追加预算笔数, 新增项目数): a whole number ≥ 0; `-` means 0."""
    text = squash(raw)
    for unit in ("笔", "个", "项"):
        text = text.removesuffix(unit)
    value, _ = parse_amount(text)
    if value is None:
        return None
    if value != int(value):
        raise ValueError("不是整数")
    return int(value)


def parse_score(raw: str | None) -> float | None:
    """A score in points: `9`, `9.5`, `9.5分`."""
    text = squash(raw).removesuffix("分")
    if text == "":
        return None
    if not _NUMBER.match(text):
        raise ValueError("不是数字")
    return float(text)


def parse_year(raw: str | None) -> int | None:
    """评价年度: `2024`, `2024年`, `2024年度`, or an Excel number 2024.0."""
    text = squash(raw).removesuffix("年度").removesuffix("年")
    if text == "":
        return None
    try:
        value = float(text)
    except ValueError as exc:
        raise ValueError("不是年份") from exc
    if value != int(value) or not 2000 <= value <= 2100:
        raise ValueError("不是年份")
    return int(value)


_DATE_PATTERNS = (
    re.compile(r"^(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})(?:[T ]?\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?)?$"),
    re.compile(r"^(\d{4})年(\d{1,2})月(\d{1,2})日?$"),
    re.compile(r"^(\d{4})(\d{2})(\d{2})$"),
)
_EXCEL_EPOCH = dt.date(1899, 12, 30)


def parse_date(raw: str | None) -> dt.date | None:
    """填报日期: an Excel date, `2025-07-28`, `2025年7月28日`, `2025/7/28`, or an Excel serial."""
    text = squash(raw)
    if text == "":
        return None
    for pattern in _DATE_PATTERNS:
        match = pattern.match(text)
        if match:
            year, month, day = (int(g) for g in match.groups())
            try:
                return dt.date(year, month, day)
            except ValueError as exc:
                raise ValueError("日期不存在") from exc
    if _NUMBER.match(text) and 20000 < float(text) < 80000:
        return _EXCEL_EPOCH + dt.timedelta(days=int(float(text)))
    raise ValueError("不是日期")


def parse_int(raw: str | None) -> int | None:
    """A head count such as 编制数: a whole number."""
    text = squash(raw).removesuffix("人").removesuffix("个")
    if text == "":
        return None
    if not _NUMBER.match(text) or float(text) != int(float(text)):
        raise ValueError("不是整数")
    return int(float(text))


def parse_grade(raw: str | None) -> str | None:
    """自评等级: 优 / 良 / 中 / 差; `优秀` means 优."""
    text = squash(raw)
    if text == "":
        return None
    text = GRADE_ALIASES.get(text, text)
    if text not in GRADES:
        raise ValueError("不是等级（优、良、中、差）")
    return text
