"""Parse: staged strings → typed values. Pure.

Stage two of two. Each cell is converted on its own; a cell that fails becomes null
plus a finding naming the cell and the value found, so one bad cell never hides
another. The typed values are then validated against the pandera models of
schemas/sheets.py, a whole batch at a time (pipeline/checking/validate.py).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field

from pipeline.checking.findings import ERROR, FATAL, WARNING, Finding, finding
from pipeline.reading.normalise import (
    DigitGroupingError, FormulaErrorValue, amount_in_yuan, nfkc, parse_count, parse_date, parse_grade,
    parse_int, parse_score, parse_year, squash,
)
from pipeline.reading.staging import Cell, StagedWorkbook
from schemas.form import DATA_LINES, INFO_FIELDS, SHEET_DATA, SHEET_INFO


@dataclass(frozen=True)
class Indicator:
    code: str
    level1: str | None
    level2: str | None
    level3: str | None
    max_score: float | None
    self_score: float | None
    note: str | None
    cell: str           # the 自评得分 cell, e.g. 评分表!F5
    row_ref: str        # 评分表 第5行


@dataclass
class ParsedWorkbook:
    """A submission's typed content; `usable` is False when any finding is fatal."""

    info: dict[str, object] = field(default_factory=dict)
    info_cells: dict[str, str] = field(default_factory=dict)
    amounts: dict[int, float | None] = field(default_factory=dict)   # 行次 → 元 (24, 25: counts)
    amount_cells: dict[int, str] = field(default_factory=dict)
    amount_raw: dict[int, str | None] = field(default_factory=dict)
    line_labels: dict[int, str | None] = field(default_factory=dict)
    amount_scale: int = 1  # the 数据表's declared unit as a factor to 元 (1, 1 000, 10 000)
    indicators: list[Indicator] = field(default_factory=list)
    total: float | None = None
    total_cell: str | None = None
    grade: str | None = None
    grade_cell: str | None = None
    grade_raw: str | None = None
    sheets_found: frozenset[str] = frozenset()
    findings: list[Finding] = field(default_factory=list)
    targets: list | None = None  # 绩效目标表 rows (pipeline/reading/targets.py); None: no such sheet

    @property
    def usable(self) -> bool:
        return not any(f.severity == FATAL for f in self.findings)

    @property
    def amounts_in_wanyuan(self) -> bool:
        return self.amount_scale == 10_000

    @property
    def unit_name(self) -> str | None:
        return self.info.get("unit_name")  # type: ignore[return-value]

    @property
    def year(self) -> int | None:
        return self.info.get("year")  # type: ignore[return-value]


_INFO_PARSERS = {"text": lambda raw: nfkc(raw) or None, "year": parse_year,
                 "date": parse_date, "int": parse_int}


def _convert(cell: Cell | None, parser, severity: str, rule: str, what: str,
             findings: list[Finding]):
    """One cell through one parser; a failure is a finding and a null, never an exception."""
    if cell is None:
        return None
    try:
        return parser(cell.raw)
    except FormulaErrorValue as exc:
        findings.append(finding("data.formula_error", cell.ref, severity=severity, what=what, error=str(exc),
                                found=str(exc).split("：")[-1]))
    except DigitGroupingError as exc:
        findings.append(finding("data.digit_grouping", cell.ref, severity=severity, what=what, reason=str(exc),
                                found=cell.raw))
    except ValueError as exc:
        findings.append(finding(rule, cell.ref, severity=severity, what=what, reason=str(exc), found=cell.raw))
    return None


def parse_info(staged: StagedWorkbook, findings: list[Finding]) -> tuple[dict, dict]:
    info: dict[str, object] = {}
    cells: dict[str, str] = {}
    if SHEET_INFO not in staged.sheets_found:  # the missing sheet is its own single finding
        return {f.key: None for f in INFO_FIELDS}, cells
    for info_field in INFO_FIELDS:
        cell = staged.info.get(info_field.key)
        severity = FATAL if info_field.required else WARNING
        value = _convert(cell, _INFO_PARSERS[info_field.kind], severity,
                         f"info.{info_field.key}_invalid", info_field.label, findings)
        if info_field.kind == "text" and isinstance(value, str):
            value = value.replace("\u3000", "").strip() or None
            if info_field.key == "unit_name" and value:
                value = squash(value) or None  # no spaces, no zero-width characters
        info[info_field.key] = value
        if cell is not None:
            cells[info_field.key] = cell.ref
        if info_field.required and value is None and not any(
                f.rule == f"info.{info_field.key}_invalid" for f in findings):
            findings.append(finding(f"info.{info_field.key}_missing", cell.ref if cell else f"{SHEET_INFO}!B列",
                                    expected=info_field.label))
    return info, cells


_LINE_WHAT = {line.line: f"行次{line.line}“{line.label}”" for line in DATA_LINES}  # a line as findings name it


def parse_amounts(staged: StagedWorkbook, findings: list[Finding]) -> tuple[dict, dict, dict, dict]:
    amounts: dict[int, float | None] = {}
    cells: dict[int, str] = {}
    raws: dict[int, str | None] = {}
    labels: dict[int, str | None] = {}
    if SHEET_DATA not in staged.sheets_found or any(
            f.severity == FATAL and f.rule.startswith("data.") and f.location.startswith(SHEET_DATA)
            and f.rule in ("data.header_missing", "data.columns_ambiguous") for f in staged.findings):
        # No 数据表 or no column to read: that is one finding, not one per 行次.
        return {d.line: None for d in DATA_LINES}, cells, raws, labels
    scale = staged.amount_scale

    def amount(raw):
        return amount_in_yuan(raw, scale)

    for data_line in DATA_LINES:
        staged_line = staged.lines.get(data_line.line)
        if staged_line is None:
            amounts[data_line.line] = None
            if data_line.required:
                findings.append(finding("data.line_missing", "数据表", line=data_line.line, label=data_line.label,
                                        expected=f"行次{data_line.line} {data_line.label}"))
            continue
        cell = staged_line.amount
        cells[data_line.line], raws[data_line.line] = cell.ref, cell.raw
        labels[data_line.line] = staged_line.label.raw
        what = _LINE_WHAT[data_line.line]
        parser = parse_count if data_line.is_count else amount
        severity = FATAL if data_line.required else ERROR
        value = _convert(cell, parser, severity, "data.not_a_number", what, findings)
        if value is None and data_line.required and not any(
                f.location == cell.ref for f in findings):
            findings.append(finding("data.amount_missing", cell.ref, what=what, expected="金额"))
        amounts[data_line.line] = value
    return amounts, cells, raws, labels


@functools.lru_cache(maxsize=256)  # the framework's few 代码, in every file
def _score_whats(code: str) -> tuple[str, str]:
    """An indicator's 分值 and 自评得分 as findings name them."""
    return f"指标{code}分值", f"指标{code}自评得分"


def parse_scores(staged: StagedWorkbook, findings: list[Finding]) -> list[Indicator]:
    indicators = []
    for staged_ind in staged.indicators:
        max_what, self_what = _score_whats(staged_ind.code)
        max_score = _convert(staged_ind.max_score, parse_score, ERROR, "scores.not_a_number", max_what, findings)
        self_score = _convert(staged_ind.self_score, parse_score, ERROR, "scores.not_a_number", self_what, findings)
        indicators.append(Indicator(
            staged_ind.code, staged_ind.level1, staged_ind.level2, staged_ind.level3,
            max_score, self_score, (staged_ind.note.raw or "").strip() or None,
            staged_ind.self_score.ref, staged_ind.row_ref))
    return indicators


def parse_workbook(staged: StagedWorkbook) -> ParsedWorkbook:
    """Typed content of a staged workbook, with a finding for every cell that would not convert.

    The pandera models are applied afterwards, to a whole batch at once (pipeline/checking/validate.py).
    """
    findings = list(staged.findings)
    parsed = ParsedWorkbook(amount_scale=staged.amount_scale, sheets_found=staged.sheets_found)
    parsed.info, parsed.info_cells = parse_info(staged, findings)
    parsed.amounts, parsed.amount_cells, parsed.amount_raw, parsed.line_labels = parse_amounts(staged, findings)
    parsed.indicators = parse_scores(staged, findings)
    if staged.total is not None:
        parsed.total = _convert(staged.total, parse_score, ERROR, "scores.not_a_number", "合计", findings)
        parsed.total_cell = staged.total.ref
    if staged.grade is not None:
        parsed.grade_raw = staged.grade.raw
        parsed.grade = _convert(staged.grade, parse_grade, ERROR, "scores.grade_invalid", "自评等级", findings)
        parsed.grade_cell = staged.grade.ref
    parsed.findings = findings
    return parsed
