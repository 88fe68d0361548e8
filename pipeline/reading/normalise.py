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

# Spaces of every width, and the invisible characters a paste from a web page or a chat
# brings along (zero-width spaces and joiners, soft hyphens, direction marks, BOM).
_SPACES = re.compile(r"[\s\u3000\u00a0\u2002\u2003\u2009\u200b-\u200f\u2060\u00ad\u202a-\u202e\ufeff]+")
_WHERE_OF = re.compile(r"^(?:其中[:：]?)+")
_TRAILING_UNIT = re.compile(r"(?:[(（](?:单位[:：]?)?([万千]?元|笔|个|人|分|%|％)[)）])+$")
_TRAILING_COLON = re.compile(r"[:：]+$")
# The last character of any text _TRAILING_UNIT or _TRAILING_COLON strips (_WHERE_OF strips 其中…)
_STRIPPED_ENDS = (")", "）", ":", "：")
# A comma may only group digits in threes before the point: 8,397,200.18.
_GROUPED = re.compile(r"^[+-]?\d{1,3}(,\d{3})+(\.\d*)?$")
# Excel's error values, as a cell shows them; grid marks a cached error as 〔公式出错：#DIV/0!〕.
ERROR_VALUES = ("#DIV/0!", "#VALUE!", "#REF!", "#N/A", "#NAME?", "#NUM!", "#NULL!", "#SPILL!", "#CALC!")
FORMULA_ERROR = "公式出错"
_ERROR_VALUE = re.compile(r"(#(?:DIV/0!|VALUE!|REF!|N/A|NAME\?|NUM!|NULL!|SPILL!|CALC!))", re.I)
# Units an amount may be stated in, and their factor to 元.
UNIT_FACTORS = {"元": 1, "千元": 1_000, "万元": 10_000}
_STATED_UNIT = re.compile(r"^(.*?)(万元|千元|元)$")
# A declaration of the whole table's unit: 金额单位：万元, 单位：千元, （万元）, 金额（万元）.
# Only these shapes declare; a sentence that mentions 万元 declares nothing.
_DECLARATION_ANYWHERE = re.compile(r"(?:金额)?单位[:：](?:人民币)?([万千]?元)(?![\u4e00-\u9fff])")
_DECLARATION_WHOLE = re.compile(r"^(?:金额|本年数|本年|上年数|上年|\d{4}年(?:度)?(?:数)?|决算数|预算数)?"
                                r"[(（](?:金额)?(?:单位[:：]?)?(?:人民币)?([万千]?元)[)）]$")
# Head counts and office counts above this are not counts (a phone number, an ID).
MAX_HEAD_COUNT = 100_000


class AmountError(ValueError):
    """An amount cell that is not a number; the message is the reason, in Chinese."""


class FormulaErrorValue(AmountError):
    """The cell shows one of Excel's error values (#DIV/0! …)."""


class DigitGroupingError(AmountError):
    """A comma that does not group digits in threes: 250000,00 or 8,397,200,18."""
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
    if not key.endswith(_STRIPPED_ENDS) and not key.startswith("其中"):
        return key  # none of the three patterns can match: most values, read once each
    while True:  # until nothing is left to strip, so that label_key is idempotent
        stripped = _TRAILING_UNIT.sub("", _WHERE_OF.sub("", _TRAILING_COLON.sub("", key)))
        if stripped == key:
            return key
        key = stripped


def sheet_key(name: str) -> str:
    """A sheet name as compared: NFKC, no spaces."""
    return squash(name)


def formula_error(raw: str | None) -> str | None:
    """The Excel error value a cell shows (#DIV/0! …), or None."""
    text = squash(raw).upper()
    if not text:
        return None
    if text in ERROR_VALUES or (text.startswith("〔") and FORMULA_ERROR in text):
        match = _ERROR_VALUE.search(text)
        return match.group(1) if match else text
    return None


def parse_amount_stated(raw: str | None) -> tuple[float | None, int | None]:
    """An amount cell and the unit the cell itself states, as a factor to 元.

    Returns (value, factor): value None for an empty cell; factor 1 for `…元`, 1 000 for
    `…千元`, 10 000 for `…万元`, None when the cell states no unit. `-`, `—` and `/`
    mean 0. Raises AmountError (a ValueError) for anything that is not a number.
    """
    if raw.__class__ is str and raw.isascii() and _NUMBER.match(raw):
        # a plain number, as most amount cells are: squash leaves it as it is (NFKC changes no
        # ASCII digit, and the pattern allows no space but a final newline, which float ignores)
        return float(raw), None
    text = squash(raw)
    if text == "":
        return None, None
    if _NUMBER.match(text):
        return float(text), None
    if text in _ZERO_MARKS:
        return 0.0, None
    error = formula_error(text)
    if error:
        raise FormulaErrorValue(f"{FORMULA_ERROR}：{error}")
    factor = None
    stated = _STATED_UNIT.match(text)
    if stated:
        text, factor = stated.group(1), UNIT_FACTORS[stated.group(2)]
    text = text.removeprefix("人民币")
    if text.startswith("¥") or text.startswith("￥"):
        text = text[1:]
    negative = text.startswith("(") and text.endswith(")")
    if negative:
        text = text[1:-1]
    text = text.replace("，", ",")
    if "," in text:
        if not _GROUPED.match(text):
            raise DigitGroupingError("逗号不是每三位一个的千分位（小数点应写作“.”）")
        text = text.replace(",", "")
    if not _NUMBER.match(text):
        raise AmountError("不是数字")
    try:
        value = float(Decimal(text))
    except InvalidOperation as exc:  # pragma: no cover - the regex already guards
        raise AmountError("不是数字") from exc
    return (-value if negative else value), factor


def parse_amount(raw: str | None) -> tuple[float | None, bool]:
    """An amount cell: (value, whether the cell itself says 万元)."""
    value, factor = parse_amount_stated(raw)
    return value, factor == WANYUAN


def amount_in_yuan(raw: str | None, form_in_wanyuan: bool | int) -> float | None:
    """An amount cell converted to 元.

    The table's unit (True or 10 000 for a 万元 table, 1 000 for 千元, False or 1 for 元)
    applies unless the cell states its own: `…元` in a 万元 table is read in 元, and
    `…万元` in a 元 table in 万元.
    """
    value, stated = parse_amount_stated(raw)
    if value is None:
        return None
    table = WANYUAN if form_in_wanyuan is True else (form_in_wanyuan or 1)
    factor = stated if stated is not None else table
    return value if factor == 1 else round(value * factor, 2)


@functools.lru_cache(maxsize=1 << 12)  # titles and header cells repeat in every file
def declared_unit(text: str | None) -> int | None:
    """The unit a title or header cell declares for the whole table, as a factor to 元.

    `金额单位：万元`, `单位：千元`, `（万元）`, `金额（万元）` declare; a sentence that
    merely mentions 万元 (`10万元以上的项目须…`) declares nothing (None).
    """
    key = squash(text)
    if "元" not in key:
        return None
    found = {UNIT_FACTORS[m.group(1)] for m in _DECLARATION_ANYWHERE.finditer(key)}
    whole = _DECLARATION_WHOLE.match(key)
    if whole:
        found.add(UNIT_FACTORS[whole.group(1)])
    if len(found) == 1:
        return found.pop()
    return 0 if found else None  # 0: one cell declaring two units


def parse_count(raw: str | None) -> int | None:
    """A count (追加预算笔数, 新增项目数): a whole number ≥ 0; `-` means 0."""
    text = squash(raw)
    for unit in ("笔", "个", "项"):
        text = text.removesuffix(unit)
    value, stated = parse_amount_stated(text)
    if value is None:
        return None
    if stated is not None:
        raise AmountError("是金额，这一行应填笔数或个数")
    if value != int(value):
        raise ValueError("不是整数")
    return int(value)


@functools.lru_cache(maxsize=1 << 12)  # scores repeat (10, 9.5, 8) across rows and files
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
    if _NUMBER.match(text) and 10_000 < float(text) < 80_000:  # an Excel serial: 1927 to 2118
        return _EXCEL_EPOCH + dt.timedelta(days=int(float(text)))
    raise ValueError("不是日期")


def parse_int(raw: str | None) -> int | None:
    """A head count such as 编制数: a whole number."""
    text = squash(raw).removesuffix("人").removesuffix("个")
    if text == "":
        return None
    if not _NUMBER.match(text) or float(text) != int(float(text)):
        raise ValueError("不是整数")
    value = int(Decimal(text))
    if abs(value) > MAX_HEAD_COUNT:
        raise ValueError(f"超出合理范围（应为不超过{MAX_HEAD_COUNT:,}的人数或个数）")
    return value


def parse_grade(raw: str | None) -> str | None:
    """自评等级: 优 / 良 / 中 / 差; `优秀` means 优."""
    text = squash(raw)
    if text == "":
        return None
    text = GRADE_ALIASES.get(text, text)
    if text not in GRADES:
        raise ValueError("不是等级（优、良、中、差）")
    return text
