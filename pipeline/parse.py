"""Parse: staged strings → typed frames, validated by the pandera models. Pure.

Stage two of two. Each cell is converted on its own; a cell that fails becomes null
plus a finding naming the cell and the value found. The typed frames are then
validated lazily against schemas/sheets.py, whose failures become findings too.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pandera.polars as pa
import polars as pl

from pipeline.findings import ERROR, FATAL, WARNING, Finding
from pipeline.normalise import (
    amount_in_yuan, nfkc, parse_count, parse_date, parse_grade, parse_int, parse_score, parse_year,
)
from pipeline.staging import Cell, StagedWorkbook
from schemas.form import DATA_LINES, INFO_FIELDS, SHEET_INFO
from schemas.sheets import CHECK_FINDINGS, DataSheet, InfoSheet, ScoreSheet


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
    amounts_in_wanyuan: bool = False
    indicators: list[Indicator] = field(default_factory=list)
    total: float | None = None
    total_cell: str | None = None
    grade: str | None = None
    grade_cell: str | None = None
    grade_raw: str | None = None
    sheets_found: frozenset[str] = frozenset()
    findings: list[Finding] = field(default_factory=list)

    @property
    def usable(self) -> bool:
        return not any(f.severity == FATAL for f in self.findings)

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
    except ValueError as exc:
        findings.append(Finding(
            severity, rule, cell.ref,
            f"{cell.ref}的{what}“{cell.raw}”{exc}，请填写正确的数值。",
            found=cell.raw))
        return None


def parse_info(staged: StagedWorkbook, findings: list[Finding]) -> tuple[dict, dict]:
    info: dict[str, object] = {}
    cells: dict[str, str] = {}
    for info_field in INFO_FIELDS:
        cell = staged.info.get(info_field.key)
        severity = FATAL if info_field.required else WARNING
        value = _convert(cell, _INFO_PARSERS[info_field.kind], severity,
                         f"info.{info_field.key}_invalid", info_field.label, findings)
        if info_field.kind == "text" and isinstance(value, str):
            value = value.replace("\u3000", "").strip() or None
            if info_field.key == "unit_name" and value:
                value = "".join(value.split())
        info[info_field.key] = value
        if cell is not None:
            cells[info_field.key] = cell.ref
        if info_field.required and value is None and not any(
                f.rule == f"info.{info_field.key}_invalid" for f in findings):
            findings.append(Finding(
                FATAL, f"info.{info_field.key}_missing", cell.ref if cell else f"{SHEET_INFO}!B列",
                f"基本信息未填写{info_field.label}，无法确认这是哪个单位、哪一年度的自评表。请补填后重新报送。",
                expected=info_field.label))
    return info, cells


def parse_amounts(staged: StagedWorkbook, findings: list[Finding]) -> tuple[dict, dict, dict, dict]:
    amounts: dict[int, float | None] = {}
    cells: dict[int, str] = {}
    raws: dict[int, str | None] = {}
    labels: dict[int, str | None] = {}
    for data_line in DATA_LINES:
        staged_line = staged.lines.get(data_line.line)
        if staged_line is None:
            amounts[data_line.line] = None
            if data_line.required:
                findings.append(Finding(
                    FATAL, "data.line_missing", "数据表",
                    f"数据表缺少行次{data_line.line}“{data_line.label}”，无法计算。请按模板补齐全部行次。",
                    expected=f"行次{data_line.line} {data_line.label}"))
            continue
        cell = staged_line.amount
        cells[data_line.line], raws[data_line.line] = cell.ref, cell.raw
        labels[data_line.line] = staged_line.label.raw
        what = f"行次{data_line.line}“{data_line.label}”"
        if data_line.is_count:
            parser = parse_count
        else:
            def parser(raw, _w=staged.amounts_in_wanyuan):
                return amount_in_yuan(raw, _w)
        severity = FATAL if data_line.required else ERROR
        value = _convert(cell, parser, severity, "data.not_a_number", what, findings)
        if value is None and data_line.required and not any(
                f.location == cell.ref for f in findings):
            findings.append(Finding(
                FATAL, "data.amount_missing", cell.ref,
                f"{cell.ref}（{what}）未填写，必填金额不能为空；金额为零请填0。",
                expected="金额"))
        amounts[data_line.line] = value
    return amounts, cells, raws, labels


def parse_scores(staged: StagedWorkbook, findings: list[Finding]) -> list[Indicator]:
    indicators = []
    for staged_ind in staged.indicators:
        what = f"指标{staged_ind.code}"
        max_score = _convert(staged_ind.max_score, parse_score, ERROR, "scores.not_a_number",
                             f"{what}分值", findings)
        self_score = _convert(staged_ind.self_score, parse_score, ERROR, "scores.not_a_number",
                              f"{what}自评得分", findings)
        indicators.append(Indicator(
            staged_ind.code, staged_ind.level1, staged_ind.level2, staged_ind.level3,
            max_score, self_score, (staged_ind.note.raw or "").strip() or None,
            staged_ind.self_score.ref, staged_ind.row_ref))
    return indicators


def _pandera_findings(schema: type[pa.DataFrameModel], frame: pl.DataFrame,
                      cells: list[str], column_cells: dict[str, str] | None = None) -> list[Finding]:
    """Validate lazily; every failure case becomes a finding at its cell."""
    try:
        schema.validate(frame, lazy=True)
        return []
    except pa.errors.SchemaErrors as exc:
        cases = exc.failure_cases
    findings = []
    for case in cases.iter_rows(named=True):
        check = str(case["check"]).split("(")[0]
        column = case["column"] if case["schema_context"] == "Column" else None
        spec = (CHECK_FINDINGS.get((schema.__name__, column, check))
                or CHECK_FINDINGS.get((schema.__name__, None, check)))
        if spec is None:
            spec = (ERROR, f"schema.{check}", f"{column or ''}不符合填报要求：{check}。")
        severity, rule, template = spec
        index = case["index"]
        if column_cells and column in column_cells:
            location = column_cells[column]
        elif index is not None and index < len(cells):
            location = cells[index]
        else:
            location = schema.__name__
        found = case["failure_case"]
        if column is None and index is not None and index < len(frame):
            row = frame.row(index, named=True)
            found = row.get("self_score", found)
        found_text = _fmt_number(found)
        findings.append(Finding(severity, rule, location, f"{location} " + template.format(found=found_text),
                                found=found_text))
    return findings


def _fmt_number(value) -> str:
    try:
        number = float(value)
    except (TypeError, ValueError):
        return str(value)
    return str(int(number)) if number.is_integer() else str(number)


def typed_frames(parsed: "ParsedWorkbook") -> tuple[pl.DataFrame, pl.DataFrame, pl.DataFrame]:
    """The typed frames the pandera models validate, built from a parsed workbook."""
    info = pl.DataFrame([{k: parsed.info.get(k) for k in InfoSheet.to_schema().columns}],
                        schema={"unit_name": pl.String, "year": pl.Int64, "unit_code": pl.String,
                                "department": pl.String, "unit_type": pl.String,
                                "filed_on": pl.Date, "contact": pl.String, "phone": pl.String,
                                "offices": pl.Int64, "establishment": pl.Int64,
                                "staff": pl.Int64, "retired": pl.Int64})
    lines = sorted(parsed.amount_cells)
    data = pl.DataFrame({
        "line": lines,
        "item": [parsed.line_labels.get(n) for n in lines],
        "amount": [None if parsed.amounts.get(n) is None else float(parsed.amounts[n]) for n in lines],
        "cell": [parsed.amount_cells[n] for n in lines],
    }, schema={"line": pl.Int64, "item": pl.String, "amount": pl.Float64, "cell": pl.String})
    scores = pl.DataFrame({
        "code": [i.code for i in parsed.indicators],
        "max_score": [i.max_score for i in parsed.indicators],
        "self_score": [i.self_score for i in parsed.indicators],
        "note": [i.note for i in parsed.indicators],
        "cell": [i.cell for i in parsed.indicators],
    }, schema={"code": pl.String, "max_score": pl.Float64, "self_score": pl.Float64,
               "note": pl.String, "cell": pl.String})
    return info, data, scores


def parse_workbook(staged: StagedWorkbook) -> ParsedWorkbook:
    """Typed content of a staged workbook, with every finding of both stages."""
    findings = list(staged.findings)
    parsed = ParsedWorkbook(amounts_in_wanyuan=staged.amounts_in_wanyuan, sheets_found=staged.sheets_found)
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

    info, data, scores = typed_frames(parsed)
    if parsed.info.get("unit_name") and parsed.info.get("year"):
        findings += _pandera_findings(InfoSheet, info, [SHEET_INFO], parsed.info_cells)
    findings += _pandera_findings(DataSheet, data, data["cell"].to_list())
    findings += _pandera_findings(ScoreSheet, scores, scores["cell"].to_list())
    parsed.findings = findings
    return parsed

