"""Staging: find the three sheets, their header rows and their cells. Pure.

Staging only locates and labels: it returns every cell of interest as the string the
unit wrote, with its address. Converting strings to numbers and dates is the next
stage (pipeline/reading/parse.py), so one bad cell never hides another.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass, field
from typing import NamedTuple

from pipeline.checking.findings import ERROR, FATAL, Finding, clip, finding
from pipeline.reading.normalise import declared_unit, label_key, parse_year, sheet_key, squash
from pipeline.reading.grid import Sheet, sheet_ref
from schemas.form import (
    AMOUNT_COLUMN_LABELS,
    CURRENT_YEAR_COLUMN_LABELS,
    DATA_LINE_BY_NUMBER,
    DATA_LINES,
    INFO_FIELDS,
    InfoField,
    REQUIRED_SHEETS,
    SCORE_GRADE_LABEL,
    SCORE_TOTAL_LABELS,
    SHEET_DATA,
    SHEET_INFO,
    SHEET_SCORES,
)

_CODE = re.compile(r"^[A-Za-z]\d{1,2}$")
_HEADER_SCAN_ROWS = 30
_YEAR_COLUMN = re.compile(r"^(\d{4})年?度?(?:数|金额)?$")
_UNIT_NAMES = {1: "元", 1_000: "千元", 10_000: "万元"}
# The printed 项目 labels, compared as keys; a label may belong to several 行次
# (其中：基本支出 is both 10 and 14), so a label names a set of lines.
_LINES_BY_LABEL: dict[str, set[int]] = {}
for _line in DATA_LINES:
    _LINES_BY_LABEL.setdefault(label_key(_line.label), set()).add(_line.line)
_LABEL_KEY_BY_LINE = {line.line: label_key(line.label) for line in DATA_LINES}


class Cell(NamedTuple):  # immutable, and built for hundreds of cells per file at tuple cost
    raw: str | None   # as written
    ref: str          # e.g. 数据表!C14


class StagedLine(NamedTuple):  # immutable, and built for hundreds of cells per file at tuple cost
    line: int
    label: Cell
    amount: Cell


class StagedIndicator(NamedTuple):  # immutable, and built for hundreds of cells per file at tuple cost
    code: str
    level1: str | None
    level2: str | None
    level3: str | None
    max_score: Cell
    self_score: Cell
    note: Cell
    row_ref: str      # 评分表 第5行


# Cell((raw, ref)) and the like without the call to their __new__, a Python function (about half
# the cost), in the loops that make one for every cell read
_cell = functools.partial(tuple.__new__, Cell)
_staged_line = functools.partial(tuple.__new__, StagedLine)
_staged_indicator = functools.partial(tuple.__new__, StagedIndicator)


@dataclass
class StagedWorkbook:
    info: dict[str, Cell] = field(default_factory=dict)        # InfoField.key → cell
    lines: dict[int, StagedLine] = field(default_factory=dict)  # 行次 → cells
    amount_scale: int = 1  # the 数据表's declared unit as a factor to 元: 1, 1 000 or 10 000
    indicators: list[StagedIndicator] = field(default_factory=list)
    total: Cell | None = None
    grade: Cell | None = None
    sheets_found: frozenset[str] = frozenset()
    findings: list[Finding] = field(default_factory=list)

    @property
    def usable(self) -> bool:
        return not any(f.severity == FATAL for f in self.findings)

    @property
    def amounts_in_wanyuan(self) -> bool:
        return self.amount_scale == 10_000


def _pick_sheet(wanted: str, candidates: list[Sheet], year: int | None) -> Sheet | None | list[Sheet]:
    """The one sheet among several that match an expected name: a visible one over hidden
    copies, then the one named for the evaluation year; the candidates when none can be told apart."""
    if len(candidates) > 1:
        shown = [s for s in candidates if s.visible]
        candidates = shown or candidates
    if len(candidates) > 1 and year is not None:
        named = [s for s in candidates if str(year) in sheet_key(s.name)]
        if len(named) == 1:
            return named[0]
    if len(candidates) == 1:
        return candidates[0]
    if not candidates:
        return None
    return candidates


def _sheet_year(sheet: Sheet) -> int | None:
    """评价年度 as a 基本信息 sheet states it (None when missing or not a year)."""
    return _year_of(stage_info(sheet)[0])


def _year_of(cells: dict[str, Cell]) -> int | None:
    try:
        return parse_year(cells["year"].raw) if "year" in cells else None
    except ValueError:
        return None


def find_sheets(sheets: dict[str, Sheet], year: int | None = None,
                ) -> tuple[dict[str, Sheet], list[Finding]]:
    """The required sheets by their normalised names: one fatal finding per missing sheet, and
    one when two sheets match and neither is named for the evaluation year.

    Names may carry a year or a copy mark (数据表(2024), 数据表 (2), 附表2-数据表). Without a
    year given, it is taken from the 基本信息 sheet found first.
    """
    found: dict[str, Sheet] = {}
    findings: list[Finding] = []
    year_known = year is not None
    for wanted in REQUIRED_SHEETS:
        key = sheet_key(wanted)
        candidates = [s for name, s in sheets.items() if key in sheet_key(name)]
        if len(candidates) > 1 and not year_known and SHEET_INFO in found:
            # only several candidates need the year to choose between them
            year, year_known = _sheet_year(found[SHEET_INFO]), True
        picked = _pick_sheet(wanted, candidates, year)
        if isinstance(picked, list):
            findings.append(finding(
                "sheet.ambiguous", "工作簿", count=len(picked), sheet=wanted,
                names="、".join(f"“{s.name}”" for s in picked), which_year=year or "本",
                found="、".join(s.name for s in candidates), expected=f"{wanted}({year})" if year else wanted))
        elif picked is None:
            findings.append(finding(
                "sheet.missing", "工作簿", found="、".join(sheets) or "（无工作表）", expected=wanted))
        else:
            found[wanted] = picked
    return found, findings


def _is_amount_label(key: str) -> bool:
    return key in AMOUNT_COLUMN_LABELS or bool(_YEAR_COLUMN.match(key))


def _find_data_header(sheet: Sheet) -> tuple[int, int, int | None, list[int]] | None:
    """The 数据表 header row: (row, 行次 column, 项目 column, every amount column)."""
    for r, row in enumerate(sheet.rows[:_HEADER_SCAN_ROWS]):
        keys = [label_key(v) for v in row]
        if "行次" not in keys:
            continue
        amounts = [c for c, k in enumerate(keys) if k and _is_amount_label(k)]
        if amounts:
            item = keys.index("项目") if "项目" in keys else None
            return r, keys.index("行次"), item, amounts
    return None


def _amount_column(sheet: Sheet, header_row: int, columns: list[int],
                   year: int | None) -> int | list[int]:
    """The one amount column to read, or the columns it cannot be told apart from.

    A hidden column is read only when no visible one competes; among several, the column
    named for the evaluation year (本年数, 本年, 2024年) is the one.
    """
    if len(columns) > 1:
        shown = [c for c in columns if c not in sheet.hidden_cols]
        columns = shown or columns
    if len(columns) == 1:
        return columns[0]

    def current(c: int) -> bool:
        key = label_key(sheet.get(header_row, c))
        match = _YEAR_COLUMN.match(key)
        return key in CURRENT_YEAR_COLUMN_LABELS or bool(match and year and int(match.group(1)) == year)

    named = [c for c in columns if current(c)]
    if len(named) == 1:
        return named[0]
    return columns


def _declared_scale(sheet: Sheet, header_row: int) -> tuple[int, list[Finding]]:
    """The unit the title and header cells declare for the whole table (factor to 元)."""
    declared: dict[int, list[str]] = {}
    for r in range(header_row + 1):
        for c, value in enumerate(sheet.rows[r]):
            factor = declared_unit(value)
            if factor is not None:
                declared.setdefault(factor, []).append(f"{sheet.ref(r, c, SHEET_DATA)}“{clip(value, 40)}”")
    if len(declared) > 1 or 0 in declared:
        cells = "、".join(ref for refs in declared.values() for ref in refs)
        return 1, [finding("data.unit_conflict", cells.split("“")[0], declarations=cells,
                           found=cells, expected="一处金额单位声明")]
    return (next(iter(declared)) if declared else 1), []


def _find_header(sheet: Sheet, needed: set[str]) -> tuple[int, dict[str, int]] | None:
    """The first row (within the first rows) holding every needed label; label → column (not to be changed)."""
    for r, row in enumerate(sheet.rows[:_HEADER_SCAN_ROWS]):
        columns = _label_columns(row)
        if needed <= columns.keys():
            return r, columns
    return None


@functools.lru_cache(maxsize=1 << 10)  # the title and header rows are the same in every file
def _label_columns(row: tuple[str | None, ...]) -> dict[str, int]:
    """The labels of one row as compared, each → its first column; one dict per distinct row, only read."""
    columns: dict[str, int] = {}
    for c, value in enumerate(row):
        key = label_key(value)
        if key and key not in columns:
            columns[key] = c
    return columns


_INLINE_INFO = re.compile(r"^(\w{2,6})[:：](.+)$")
_INFO_BY_LABEL = {label_key(f.label): f for f in INFO_FIELDS}


@functools.lru_cache(maxsize=1 << 14)
def _inline_info(value: str | None) -> tuple[InfoField, str] | None:
    """单位名称：遂溪县财政局 typed into one cell: the field and what follows the colon."""
    inline = _INLINE_INFO.match(squash(value))
    info_field = _INFO_BY_LABEL.get(inline.group(1)) if inline else None
    return (info_field, inline.group(2)) if info_field else None


def stage_info(sheet: Sheet) -> tuple[dict[str, Cell], list[Finding]]:
    """基本信息: label anywhere in a row, value in the next filled cell to its right."""
    wanted = _INFO_BY_LABEL
    cells: dict[str, Cell] = {}
    # Visible rows first: a hidden stale row is read only for a label no visible row has.
    hidden = sheet.hidden_rows
    order = ([r for r in range(len(sheet.rows)) if r not in hidden] + sorted(hidden)) if hidden \
        else range(len(sheet.rows))
    for r in order:
        row = sheet.rows[r] if r < len(sheet.rows) else ()
        for c, value in enumerate(row):
            if value is None:
                continue  # no label and nothing inline
            key = label_key(value)
            info_field = wanted.get(key)
            if info_field is None:
                inline = _inline_info(value)
                if inline and inline[0].key not in cells:
                    cells[inline[0].key] = Cell(inline[1], sheet.ref(r, c, SHEET_INFO))
                continue
            if info_field.key in cells:
                continue
            value_col = c + 1  # the next filled cell that is not the label again, else the next cell
            for k in range(c + 1, len(row)):
                if row[k] is not None and label_key(row[k]) != key:
                    value_col = k
                    break
            cells[info_field.key] = _cell((row[value_col] if value_col < len(row) else None,
                                           sheet_ref(SHEET_INFO, r, value_col)))
            break
    return cells, []


def stage_data(sheet: Sheet, year: int | None = None) -> tuple[dict[int, StagedLine], int, list[Finding]]:
    """数据表: rows by 行次 below the 项目 | 行次 | 金额 header; the table's unit (factor to 元)."""
    header = _find_data_header(sheet)
    if header is None:
        return {}, 1, [finding("data.header_missing", f"{SHEET_DATA}!A1", expected="项目 | 行次 | 金额")]
    header_row, line_col, item_col, amount_cols = header
    amount_col = _amount_column(sheet, header_row, amount_cols, year)
    if isinstance(amount_col, list):
        return {}, 1, [finding(
            "data.columns_ambiguous", sheet.ref(header_row, amount_cols[0], SHEET_DATA), count=len(amount_col),
            columns="、".join(f"{sheet.ref(header_row, c, SHEET_DATA)}“{sheet.get(header_row, c)}”" for c in amount_col),
            which_year=year or "本", found="、".join(str(sheet.get(header_row, c)) for c in amount_cols),
            expected=f"本年数（{year}年）" if year else "本年数")]
    item_col = 0 if item_col is None else item_col
    scale, findings = _declared_scale(sheet, header_row)

    # Each row numbered with a 行次 as its staged line, with its row number; rows shorter than
    # the columns read are padded with empty cells, so a cell is row[c].
    width = max(item_col, amount_col) + 1
    rows_by_line: dict[int, list[tuple[int, StagedLine]]] = {}
    for r, row in enumerate(sheet.rows[header_row + 1:], header_row + 1):
        line = _line_number(row[line_col] if line_col < len(row) else None)
        if line is not None:
            if len(row) < width:
                row += (None,) * (width - len(row))
            rows_by_line.setdefault(line, []).append((r, _staged_line((
                line, _cell((row[item_col], sheet_ref(SHEET_DATA, r, item_col))),
                _cell((row[amount_col], sheet_ref(SHEET_DATA, r, amount_col)))))))

    hidden = sheet.hidden_rows
    # the merged ranges that may cover an amount cell (the title's, above the header, cannot)
    merged_below = [m for m in sheet.merged if m[1] <= amount_col <= m[3] and m[2] > header_row]
    lines: dict[int, StagedLine] = {}
    for line, rows in sorted(rows_by_line.items()):
        # A hidden row is data only when no visible row claims the same 行次.
        if hidden:
            shown = [row for row in rows if row[0] not in hidden]
            rows = shown or rows
        if len(rows) > 1:
            cells = "、".join(s.amount.ref for _, s in rows)
            for _, s_line in rows:
                findings.append(finding(
                    "data.line_repeated", s_line.amount.ref, line=line, times=len(rows), cells=cells,
                    found=s_line.amount.raw, expected=f"行次{line}只填一行"))
        first_row, first = rows[0]
        findings += _label_findings(first)
        covering = sheet.merged_range(first_row, amount_col) if merged_below else None
        if covering:
            data_line = DATA_LINE_BY_NUMBER[line]
            findings.append(finding(
                "data.merged_value", first.amount.ref, line=line, label=data_line.label, merged=covering,
                severity=FATAL if data_line.required else ERROR,
                found=f"合并单元格{covering}", expected="单独填写本行金额"))
        lines[line] = first
    return lines, scale, findings


@functools.lru_cache(maxsize=1 << 12)
def _line_number(text: str | None) -> int | None:
    """The 行次 a cell of the 行次 column names, None for a blank, a note or a number of no line."""
    line_text = squash(text)
    if not line_text:
        return None
    try:
        line = int(float(line_text))
    except ValueError:
        return None  # a note row below the table
    return line if line in DATA_LINE_BY_NUMBER else None


def _label_findings(staged: StagedLine) -> list[Finding]:
    """A 项目 label against its printed 行次: another line's label is a shifted row (fatal),
    a label of no line is worth a look."""
    line, raw = staged.line, staged.label.raw
    key = label_key(raw)
    if not key:
        return []
    if key == _LABEL_KEY_BY_LINE[line]:
        return []
    expected_label = DATA_LINE_BY_NUMBER[line].label
    others = _LINES_BY_LABEL.get(key)
    if others:
        other = "、".join(f"行次{n}" for n in sorted(others))
        return [finding(
            "data.line_shifted", staged.label.ref, label=clip(raw), lines=other, line=line,
            template_label=expected_label, found=f"行次{line} {clip(raw)}", expected=f"{other} {clip(raw)}")]
    return [finding("data.label_mismatch", staged.label.ref, line=line, found=raw, expected=expected_label)]


def stage_scores(sheet: Sheet) -> tuple[list[StagedIndicator], Cell | None, Cell | None, list[Finding]]:
    """评分表: indicator rows by 代码 (一级/二级 carried down), then 合计 and 自评等级."""
    header = _find_header(sheet, {"代码", "分值", "自评得分"})
    if header is None:
        return [], None, None, [finding("scores.header_missing", f"{SHEET_SCORES}!A1", expected="代码 | 分值 | 自评得分")]
    header_row, columns = header
    code_col, max_col, self_col = columns["代码"], columns["分值"], columns["自评得分"]
    l1_col, l2_col, l3_col = (columns.get(k) for k in ("一级指标", "二级指标", "三级指标"))
    note_col = columns.get("评分说明", self_col + 1)

    indicators: list[StagedIndicator] = []
    total = grade = None
    visible_codes = {squash(sheet.get(r, code_col)).upper() for r in range(header_row + 1, len(sheet.rows))
                     if r not in sheet.hidden_rows} if sheet.hidden_rows else set()
    level1 = level2 = None
    # Rows shorter than the columns read are padded with empty cells, so a cell is row[c].
    width = max(c for c in (code_col, max_col, self_col, note_col, l1_col, l2_col, l3_col) if c is not None) + 1
    for r in range(header_row + 1, len(sheet.rows)):
        row = sheet.rows[r]
        row_keys = list(map(label_key, row))
        if len(row) < width:
            row += (None,) * (width - len(row))
        if not SCORE_TOTAL_LABELS.isdisjoint(row_keys[: self_col]):
            total = Cell(row[self_col], sheet_ref(SHEET_SCORES, r, self_col))
            continue
        if SCORE_GRADE_LABEL in row_keys or "等级" in row_keys[: self_col]:
            value_col = self_col
            if label_key(sheet.get(r, self_col)) in ("", SCORE_GRADE_LABEL, "等级"):
                value_col = next((c for c in range(len(sheet.rows[r]))
                                  if row_keys[c] not in ("", SCORE_GRADE_LABEL, "等级")), self_col)
            grade = Cell(sheet.get(r, value_col), sheet.ref(r, value_col, SHEET_SCORES))
            continue
        code = squash(row[code_col]).upper()
        if not _CODE.match(code) or (r in sheet.hidden_rows and code in visible_codes):
            continue  # a hidden stale row gives way to the visible row of the same 代码
        # 一级/二级 are merged cells in the form: blank below their first row.
        level1 = squash(row[l1_col]) or level1 if l1_col is not None else None
        level2 = squash(row[l2_col]) or level2 if l2_col is not None else None
        indicators.append(_staged_indicator((  # code, level1, level2, level3, max_score, self_score, note, row_ref
            code, level1, level2, squash(row[l3_col]) if l3_col is not None else None,
            _cell((row[max_col], sheet_ref(SHEET_SCORES, r, max_col))),
            _cell((row[self_col], sheet_ref(SHEET_SCORES, r, self_col))),
            _cell((row[note_col], sheet_ref(SHEET_SCORES, r, note_col))),
            f"{SHEET_SCORES} 第{r + 1}行")))
    return indicators, total, grade, []


def stage_workbook(sheets: dict[str, Sheet]) -> StagedWorkbook:
    """Locate every cell of interest in the three sheets; fatal findings when that fails."""
    found, findings = find_sheets(sheets)
    staged = StagedWorkbook(findings=findings, sheets_found=frozenset(found))
    year = None
    if SHEET_INFO in found:
        staged.info, more = stage_info(found[SHEET_INFO])
        staged.findings += more
        year = _year_of(staged.info)
    if SHEET_DATA in found:
        staged.lines, staged.amount_scale, more = stage_data(found[SHEET_DATA], year)
        staged.findings += more
    if SHEET_SCORES in found:
        staged.indicators, staged.total, staged.grade, more = stage_scores(found[SHEET_SCORES])
        staged.findings += more
    return staged
