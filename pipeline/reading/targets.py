"""绩效目标表 (contract section 9): stage and parse the targets sheet. Pure.

The sheet is optional in a workbook: None means the unit did not hand one in, an empty
list a sheet whose rows could not be read (with the finding that says why). Each row
keeps the cells it came from, so a finding names the exact cell.

Reading only converts what is written. Whether a 定性 value is one the framework knows,
and how complete a row is, are decided with the year's framework
(pipeline/scoring/targets.py).
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass, field
from itertools import repeat

from pipeline.checking.findings import Finding, finding
from pipeline.reading.grid import Sheet, sheet_ref
from pipeline.reading.normalise import label_key, nfkc, parse_amount, sheet_key, squash
from schemas.form import (
    QUALITATIVE,
    SHEET_TARGETS,
    TARGET_COLUMN_ALIASES,
    TARGET_COLUMN_KEYS,
    TARGET_DIRECTIONS,
)

_HEADER_SCAN_ROWS = 30
_NEEDED = {"三级指标", "指标方向", "实际完成值"}
_ERROR_VALUE = re.compile(r"^#(DIV/0!|VALUE!|REF!|N/A|NAME\?|NUM!|NULL!)$")
# A comparator typed in front of the value itself (`≥95%`), as many forms print it.
_LEADING_DIRECTION = re.compile(r"^(≥|>=|≤|<=|=|不低于|不高于|不超过|大于等于|小于等于)")
_TOTAL_LABELS = ("合计", "总计")
_GROUPED = re.compile(r"^[+-]?\d{1,3}(,\d{3})+(\.\d+)?$")


@dataclass(frozen=True)
class TargetRow:
    """One row of the 绩效目标表, typed. Numbers are as written (95% is 95 with unit %)."""

    kind: str | None            # 一级指标
    category: str | None        # 二级指标
    name: str | None            # 三级指标
    direction: str | None       # ≥ ≤ = 定性; None when blank or unknown
    direction_raw: str | None
    target: float | None        # 年度指标值, numeric
    target_raw: str | None
    unit: str | None            # 计量单位
    actual: float | None        # 实际完成值, numeric
    actual_raw: str | None      # for 定性: 达成 / 基本达成 / 部分达成 / 未达成
    weight: float | None        # 权重 as written; None when blank or not a positive number
    weight_raw: str | None
    reason: str | None          # 偏差原因
    row_ref: str                # 绩效目标表 第5行
    cells: dict[str, str] = field(default_factory=dict)  # column key → 绩效目标表!G5

    @property
    def quantified(self) -> bool:
        """A measurable target: a direction other than 定性 and a numeric 年度指标值."""
        return self.direction in ("≥", "≤", "=") and self.target is not None


def find_targets_sheet(sheets: dict[str, Sheet], year: int | None = None) -> tuple[Sheet | None, list[Finding]]:
    """The 绩效目标表 by its normalised name (a year or copy mark around it is tolerated; of
    several, the one named for the evaluation year)."""
    wanted = sheet_key(SHEET_TARGETS)
    exact = [s for name, s in sheets.items() if sheet_key(name) == wanted]
    if exact:
        return exact[0], []
    candidates = [s for name, s in sheets.items() if wanted in sheet_key(name)]
    if len(candidates) > 1 and year is not None:
        of_year = [s for s in candidates if str(year) in sheet_key(s.name)]
        candidates = of_year if len(of_year) == 1 else candidates
    if len(candidates) > 1:
        names = "、".join(s.name for s in candidates)
        return None, [finding("targets.sheet_ambiguous", "工作簿", count=len(candidates), names=names,
                              found=names, expected=SHEET_TARGETS)]
    return (candidates[0] if candidates else None), []


def _column_key(text: str | None) -> str:
    key = label_key(text)
    return TARGET_COLUMN_ALIASES.get(key, key)


def _find_header(sheet: Sheet) -> tuple[int, dict[str, int]] | None:
    """The header row by its labels (not its position): label → column (not to be changed)."""
    for r, row in enumerate(sheet.rows[:_HEADER_SCAN_ROWS]):
        columns = _header_columns(row)
        if _NEEDED <= columns.keys():
            return r, columns
    return None


@functools.lru_cache(maxsize=1 << 10)  # the title and header rows are the same in every file
def _header_columns(row: tuple[str | None, ...]) -> dict[str, int]:
    """The column labels of one row, each → its first column; one dict per distinct row, only read."""
    columns: dict[str, int] = {}
    for c, value in enumerate(row):
        key = _column_key(value)
        if key in TARGET_COLUMN_KEYS and key not in columns:
            columns[key] = c
    return columns


def _level(text: str) -> str:
    """一级/二级指标 as named (text squashed): `产出` is 产出指标, `社会效益` is 社会效益指标."""
    return text + "指标" if text and not text.endswith("指标") else text


def parse_direction(raw: str | None) -> str | None:
    """指标方向 as the contract names it: `>=`, `不低于` → ≥; None when not one of them."""
    return TARGET_DIRECTIONS.get(squash(raw))


@functools.lru_cache(maxsize=1 << 12)  # the same values (100%, 95%, 1) recur across files
def parse_target_number(raw: str | None, unit: str | None) -> tuple[float | None, str | None]:
    """A target or achieved value: (number, unit it carried). `95%` → (95, '%'); `1,200件`
    with 计量单位 件 → (1200, None). Raises ValueError (Chinese reason) for anything else."""
    text = squash(raw)
    if text == "":
        return None, None
    if _ERROR_VALUE.match(text.upper()):
        raise ValueError(f"是公式出错：{text}")
    text = _LEADING_DIRECTION.sub("", text)
    carried = None
    for mark in ("%", "％"):
        if text.endswith(mark):
            text, carried = text[: -len(mark)], "%"
    unit_text = squash(unit)
    if carried is None and unit_text and unit_text != "%" and text.endswith(unit_text):
        text = text[: -len(unit_text)]
    if text in ("-", "—", "/"):
        raise ValueError("不是数字")
    if "," in text and not _GROUPED.match(text):
        raise ValueError("的逗号不是千位分隔（每三位一个逗号）")
    value, in_wanyuan = parse_amount(text)
    if in_wanyuan:
        carried = "万元"
    return value, carried


@functools.lru_cache(maxsize=1 << 12)  # a row's cells by column key: the same rows and columns in every file
def _row_refs(row: int, keys: tuple[str, ...], cols: tuple[int, ...]) -> tuple[tuple[str, str], ...]:
    return tuple(zip(keys, map(sheet_ref, repeat(SHEET_TARGETS), repeat(row), cols)))


@functools.lru_cache(maxsize=1 << 12)  # weights repeat (10, 20) across rows and files
def _parse_weight(raw: str | None) -> float | None:
    text = squash(raw).removesuffix("%").removesuffix("％")
    if text == "":
        return None
    value, _ = parse_amount(text)
    if value is None or value <= 0:
        raise ValueError("不是大于0的数字")
    return value


def read_targets(sheets: dict[str, Sheet], year: int | None = None) -> tuple[list[TargetRow] | None, list[Finding]]:
    """The typed rows of the workbook's 绩效目标表 (None when it has none or left it blank) and the findings
    of reading it. A broken sheet is an error, never a quarantine: the sheet is optional."""
    sheet, findings = find_targets_sheet(sheets, year)
    if sheet is None:
        return ([] if findings else None), findings
    header = _find_header(sheet)
    if header is None:
        return [], [finding("targets.header_missing", f"{SHEET_TARGETS}!A1", expected="三级指标 | 指标方向 | 实际完成值")]
    header_row, columns = header
    rows: list[TargetRow] = []
    kind = category = None

    keys = tuple(TARGET_COLUMN_KEYS[label] for label in columns)
    cols = tuple(columns.values())
    # Rows shorter than the columns read are padded with empty cells, so a cell is row[c].
    width = max(cols) + 1
    for r in range(header_row + 1, len(sheet.rows)):
        row = sheet.rows[r]
        if len(row) < width:
            row += (None,) * (width - len(row))
        raw = dict(zip(keys, map(row.__getitem__, cols)))
        get = raw.get
        name_text, kind_text, category_text = squash(get("name")), squash(get("kind")), squash(get("category"))
        if kind_text in _TOTAL_LABELS or category_text in _TOTAL_LABELS or name_text in _TOTAL_LABELS:
            continue
        # 一级/二级 are merged cells in the form: blank below their first row.
        kind = _level(kind_text) or kind
        category = _level(category_text) or category
        direction_text, target_text = squash(get("direction")), squash(get("target"))
        if not (name_text or direction_text or target_text or squash(get("actual"))):
            continue  # a blank row, or a note written across the first columns
        refs = dict(_row_refs(r, keys, cols))
        row_ref = f"{SHEET_TARGETS} 第{r + 1}行"
        name = nfkc(get("name")) or None
        what = f"（{name}）" if name else ""
        unit = nfkc(get("unit")) or None

        direction_raw = get("direction")
        direction = parse_direction(direction_raw)
        if direction is None and not direction_text and (leading := _LEADING_DIRECTION.match(target_text)):
            direction = TARGET_DIRECTIONS.get(leading.group(1))
        if direction is None:
            ref = refs.get("direction", row_ref)
            findings.append(finding(
                "targets.direction_unknown", ref, case=None if direction_text else "blank", what=what,
                found=direction_raw, expected="≥ / ≤ / = / 定性"))

        target = actual = None
        if direction != QUALITATIVE:
            for key, label in (("target", "年度指标值"), ("actual", "实际完成值")):
                ref = refs.get(key, row_ref)
                try:
                    value, carried = parse_target_number(raw.get(key), unit)
                except ValueError as exc:
                    findings.append(finding(
                        f"targets.{key}_not_a_number", ref, what=what, label=label, reason=str(exc),
                        found=raw.get(key), expected="数字"))
                    continue
                if value is None and direction is not None:
                    findings.append(finding(f"targets.{key}_missing", ref, what=what, expected=label))
                if carried and not unit:
                    unit = carried
                if key == "target":
                    target = value
                else:
                    actual = value
        weight = None
        if "weight" in refs:
            try:
                weight = _parse_weight(raw.get("weight"))
            except ValueError as exc:
                findings.append(finding(
                    "targets.weight_invalid", refs["weight"], what=what, reason=str(exc),
                    found=raw.get("weight"), expected="大于0的数字"))
        rows.append(TargetRow(
            kind=kind, category=category, name=name,
            direction=direction, direction_raw=direction_raw,
            target=target, target_raw=raw.get("target"), unit=unit,
            actual=actual, actual_raw=nfkc(raw.get("actual")) or None,
            weight=weight, weight_raw=raw.get("weight"), reason=nfkc(raw.get("reason")) or None,
            row_ref=row_ref, cells=refs))
    if not rows:  # the blank sheet of the template, handed back unfilled: as if there were none
        return None, findings
    return rows, findings
