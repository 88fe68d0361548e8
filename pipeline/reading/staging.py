"""Staging: find the three sheets, their header rows and their cells. Pure.

Staging only locates and labels: it returns every cell of interest as the string the
unit wrote, with its address. Converting strings to numbers and dates is the next
stage (pipeline/reading/parse.py), so one bad cell never hides another.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from pipeline.checking.findings import FATAL, WARNING, Finding, clip
from pipeline.reading.normalise import label_key, sheet_key, squash
from pipeline.reading.grid import Sheet
from schemas.form import (
    DATA_LINE_BY_NUMBER,
    INFO_FIELDS,
    REQUIRED_SHEETS,
    SCORE_GRADE_LABEL,
    SCORE_TOTAL_LABEL,
    SHEET_DATA,
    SHEET_INFO,
    SHEET_SCORES,
)

_CODE = re.compile(r"^[A-Za-z]\d{1,2}$")
_HEADER_SCAN_ROWS = 30


@dataclass(frozen=True)
class Cell:
    raw: str | None   # as written
    ref: str          # e.g. 数据表!C14


@dataclass(frozen=True)
class StagedLine:
    line: int
    label: Cell
    amount: Cell


@dataclass(frozen=True)
class StagedIndicator:
    code: str
    level1: str | None
    level2: str | None
    level3: str | None
    max_score: Cell
    self_score: Cell
    note: Cell
    row_ref: str      # 评分表 第5行


@dataclass
class StagedWorkbook:
    info: dict[str, Cell] = field(default_factory=dict)        # InfoField.key → cell
    lines: dict[int, StagedLine] = field(default_factory=dict)  # 行次 → cells
    amounts_in_wanyuan: bool = False
    indicators: list[StagedIndicator] = field(default_factory=list)
    total: Cell | None = None
    grade: Cell | None = None
    sheets_found: frozenset[str] = frozenset()
    findings: list[Finding] = field(default_factory=list)

    @property
    def usable(self) -> bool:
        return not any(f.severity == FATAL for f in self.findings)


def find_sheets(sheets: dict[str, Sheet]) -> tuple[dict[str, Sheet], list[Finding]]:
    """The three required sheets by their normalised names; a fatal finding per missing one."""
    by_key = {sheet_key(name): sheet for name, sheet in sheets.items()}
    found: dict[str, Sheet] = {}
    findings: list[Finding] = []
    for wanted in REQUIRED_SHEETS:
        sheet = by_key.get(sheet_key(wanted))
        if sheet is None:  # tolerate a prefix/suffix such as 附表2-数据表 or 数据表（2024）
            candidates = [s for k, s in by_key.items() if sheet_key(wanted) in k]
            sheet = candidates[0] if len(candidates) == 1 else None
        if sheet is None:
            findings.append(Finding(
                FATAL, "sheet.missing", "工作簿",
                f"工作簿缺少“{wanted}”工作表，无法读取。请使用财政局下发的模板重新填报。",
                found="、".join(sheets) or "（无工作表）", expected=wanted))
        else:
            found[wanted] = sheet
    return found, findings


def _find_header(sheet: Sheet, needed: set[str]) -> tuple[int, dict[str, int]] | None:
    """The first row (within the first rows) holding every needed label; label → column."""
    for r, row in enumerate(sheet.rows[:_HEADER_SCAN_ROWS]):
        columns: dict[str, int] = {}
        for c, value in enumerate(row):
            key = label_key(value)
            if key and key not in columns:
                columns[key] = c
        if needed <= columns.keys():
            return r, columns
    return None


def stage_info(sheet: Sheet) -> tuple[dict[str, Cell], list[Finding]]:
    """基本信息: label anywhere in a row, value in the next filled cell to its right."""
    wanted = {label_key(f.label): f for f in INFO_FIELDS}
    cells: dict[str, Cell] = {}
    for r, row in enumerate(sheet.rows):
        for c, value in enumerate(row):
            info_field = wanted.get(label_key(value))
            if info_field is None or info_field.key in cells:
                continue
            value_col = next((k for k in range(c + 1, len(row))
                              if row[k] is not None and label_key(row[k]) != label_key(value)), c + 1)
            cells[info_field.key] = Cell(sheet.get(r, value_col), sheet.ref(r, value_col, SHEET_INFO))
            break
    return cells, []


def stage_data(sheet: Sheet) -> tuple[dict[int, StagedLine], bool, list[Finding]]:
    """数据表: rows by 行次 below the 项目 | 行次 | 金额 header; whether amounts are in 万元."""
    header = _find_header(sheet, {"行次", "金额"})
    if header is None:
        return {}, False, [Finding(
            FATAL, "data.header_missing", f"{SHEET_DATA}!A1",
            "数据表找不到“项目 | 行次 | 金额”表头行，无法读取金额。请使用模板的表头。",
            expected="项目 | 行次 | 金额")]
    header_row, columns = header
    line_col, amount_col = columns["行次"], columns["金额"]
    item_col = columns.get("项目", 0)
    above = [squash(v) for row in sheet.rows[: header_row + 1] for v in row if v]
    in_wanyuan = any("万元" in v and ("单位" in v or v.startswith("金额")) for v in above)

    lines: dict[int, StagedLine] = {}
    findings: list[Finding] = []
    for r in range(header_row + 1, len(sheet.rows)):
        line_text = squash(sheet.get(r, line_col))
        if not line_text:
            continue
        try:
            line = int(float(line_text))
        except ValueError:
            continue  # a note row below the table
        if line not in DATA_LINE_BY_NUMBER:
            continue
        staged = StagedLine(
            line,
            Cell(sheet.get(r, item_col), sheet.ref(r, item_col, SHEET_DATA)),
            Cell(sheet.get(r, amount_col), sheet.ref(r, amount_col, SHEET_DATA)),
        )
        if line in lines:
            findings.append(Finding(
                WARNING, "data.line_repeated", staged.amount.ref,
                f"行次{line}出现了两次，已采用第一次出现的{lines[line].amount.ref}。",
                found=str(line)))
            continue
        expected_label = DATA_LINE_BY_NUMBER[line].label
        if staged.label.raw and label_key(staged.label.raw) != label_key(expected_label):
            findings.append(Finding(
                WARNING, "data.label_mismatch", staged.label.ref,
                f"行次{line}的项目名称“{clip(staged.label.raw)}”与模板“{expected_label}”不一致，请确认金额填在了正确的行次。",
                found=staged.label.raw, expected=expected_label))
        lines[line] = staged
    return lines, in_wanyuan, findings


def stage_scores(sheet: Sheet) -> tuple[list[StagedIndicator], Cell | None, Cell | None, list[Finding]]:
    """评分表: indicator rows by 代码 (一级/二级 carried down), then 合计 and 自评等级."""
    header = _find_header(sheet, {"代码", "分值", "自评得分"})
    if header is None:
        return [], None, None, [Finding(
            FATAL, "scores.header_missing", f"{SHEET_SCORES}!A1",
            "评分表找不到“代码 | 一级指标 | 二级指标 | 三级指标 | 分值 | 自评得分 | 评分说明”表头行。",
            expected="代码 | 分值 | 自评得分")]
    header_row, columns = header
    code_col, max_col, self_col = columns["代码"], columns["分值"], columns["自评得分"]
    l1_col, l2_col, l3_col = (columns.get(k) for k in ("一级指标", "二级指标", "三级指标"))
    note_col = columns.get("评分说明", self_col + 1)

    indicators: list[StagedIndicator] = []
    total = grade = None
    level1 = level2 = None
    for r in range(header_row + 1, len(sheet.rows)):
        row_keys = [label_key(v) for v in sheet.rows[r]]
        if SCORE_TOTAL_LABEL in row_keys[: self_col]:
            total = Cell(sheet.get(r, self_col), sheet.ref(r, self_col, SHEET_SCORES))
            continue
        if SCORE_GRADE_LABEL in row_keys or "等级" in row_keys[: self_col]:
            value_col = self_col
            if label_key(sheet.get(r, self_col)) in ("", SCORE_GRADE_LABEL, "等级"):
                value_col = next((c for c in range(len(sheet.rows[r]))
                                  if row_keys[c] not in ("", SCORE_GRADE_LABEL, "等级")), self_col)
            grade = Cell(sheet.get(r, value_col), sheet.ref(r, value_col, SHEET_SCORES))
            continue
        code = squash(sheet.get(r, code_col)).upper()
        if not _CODE.match(code):
            continue
        # 一级/二级 are merged cells in the form: blank below their first row.
        level1 = squash(sheet.get(r, l1_col)) or level1 if l1_col is not None else None
        level2 = squash(sheet.get(r, l2_col)) or level2 if l2_col is not None else None
        indicators.append(StagedIndicator(
            code=code,
            level1=level1,
            level2=level2,
            level3=squash(sheet.get(r, l3_col)) if l3_col is not None else None,
            max_score=Cell(sheet.get(r, max_col), sheet.ref(r, max_col, SHEET_SCORES)),
            self_score=Cell(sheet.get(r, self_col), sheet.ref(r, self_col, SHEET_SCORES)),
            note=Cell(sheet.get(r, note_col), sheet.ref(r, note_col, SHEET_SCORES)),
            row_ref=f"{SHEET_SCORES} 第{r + 1}行",
        ))
    return indicators, total, grade, []


def stage_workbook(sheets: dict[str, Sheet]) -> StagedWorkbook:
    """Locate every cell of interest in the three sheets; fatal findings when that fails."""
    found, findings = find_sheets(sheets)
    staged = StagedWorkbook(findings=findings, sheets_found=frozenset(found))
    if SHEET_INFO in found:
        staged.info, more = stage_info(found[SHEET_INFO])
        staged.findings += more
    if SHEET_DATA in found:
        staged.lines, staged.amounts_in_wanyuan, more = stage_data(found[SHEET_DATA])
        staged.findings += more
    if SHEET_SCORES in found:
        staged.indicators, staged.total, staged.grade, more = stage_scores(found[SHEET_SCORES])
        staged.findings += more
    return staged
