"""Validation of parsed workbooks against the pandera models, a whole batch at once. Pure.

The typed values of every workbook in the batch are stacked into one frame per sheet
(a `submission` column says which workbook each row came from) and validated lazily
in a single pass, so a province's worth of files costs three validations, not three
per file. Every failure case comes back as a finding at its cell, on its workbook.
"""

from __future__ import annotations

from collections.abc import Sequence

from schemas.pandera_polars import pa
import polars as pl

from pipeline.checking.findings import Finding, finding
from pipeline.reading.parse import ParsedWorkbook
from schemas.form import SHEET_INFO
from schemas.sheets import CHECK_FINDINGS, DataSheet, InfoSheet, ScoreSheet, TargetSheet

def frame_schema(model: type[pa.DataFrameModel]) -> dict[str, pl.DataType]:
    """The polars columns of a model, in its order: the pandera model is their one definition."""
    return {name: column.dtype.type for name, column in model.to_schema().columns.items()}


INFO_SCHEMA, DATA_SCHEMA, SCORE_SCHEMA = (frame_schema(m) for m in (InfoSheet, DataSheet, ScoreSheet))
TARGET_SCHEMA = frame_schema(TargetSheet)


def target_frame(batch: Sequence[ParsedWorkbook]) -> pl.DataFrame:
    """The 绩效目标表 rows of the batch, typed for TargetSheet (workbooks without one add none)."""
    rows = [(n, r.kind, r.category, r.name, r.direction, r.target, r.actual, r.weight,
             r.cells.get("kind", r.row_ref), r.cells.get("category", r.row_ref))
            for n, parsed in enumerate(batch) for r in (parsed.targets or [])]
    return pl.DataFrame(rows, schema=TARGET_SCHEMA, orient="row")


def typed_frames(batch: Sequence[ParsedWorkbook]) -> tuple[pl.DataFrame, pl.DataFrame, pl.DataFrame]:
    """The typed frames the pandera models validate: one row per workbook (基本信息),
    per 行次 (数据表) and per indicator (评分表), stacked over the batch."""
    info_rows, data_rows, score_rows = [], [], []
    for n, parsed in enumerate(batch):
        # 基本信息 is only checked once it names a unit and a year; without them the
        # workbook is already quarantined with its own fatal finding.
        if parsed.info.get("unit_name") and parsed.info.get("year"):
            info_rows.append({"submission": n, **{k: parsed.info.get(k) for k in list(INFO_SCHEMA)[1:]}})
        for line in sorted(parsed.amount_cells):
            amount = parsed.amounts.get(line)
            data_rows.append((n, line, parsed.line_labels.get(line), None if amount is None else float(amount),
                              parsed.amount_cells[line]))
        for ind in parsed.indicators:
            score_rows.append((n, ind.code, ind.max_score, ind.self_score, ind.note, ind.cell))
    return (pl.DataFrame(info_rows, schema=INFO_SCHEMA, orient="row"),
            pl.DataFrame(data_rows, schema=DATA_SCHEMA, orient="row"),
            pl.DataFrame(score_rows, schema=SCORE_SCHEMA, orient="row"))


def _fmt_number(value) -> str:
    try:
        number = float(value)
    except (TypeError, ValueError):
        return str(value)
    return str(int(number)) if number.is_integer() else str(number)


def schema_findings(schema: type[pa.DataFrameModel], frame: pl.DataFrame,
                    batch: Sequence[ParsedWorkbook]) -> list[tuple[int, Finding]]:
    """(submission, finding) for every failure case of one model over one stacked frame."""
    try:
        schema.validate(frame, lazy=True)
        return []
    except pa.errors.SchemaErrors as exc:
        cases = exc.failure_cases
    results = []
    for case in cases.iter_rows(named=True):
        index = case["index"]
        if index is None:  # a frame-level failure (a wrong dtype): a bug, not a unit's error
            raise RuntimeError(f"{schema.__name__}: {case['check']} {case['failure_case']}")
        row = frame.row(index, named=True)
        submission = row["submission"]
        check = str(case["check"]).split("(")[0]
        column = case["column"] if case["schema_context"] == "Column" else None
        rule, wording, fields = (
            CHECK_FINDINGS.get((schema.__name__, column, check))
            or CHECK_FINDINGS.get((schema.__name__, None, check))
            or (f"schema.{check}", None, {"column": column or "", "check": check}))
        if column == "category" and "category_cell" in row:
            location = row["category_cell"]
        elif "cell" in row:
            location = row["cell"]
        else:
            location = batch[submission].info_cells.get(column or "", SHEET_INFO)
        found = row.get("self_score") if check == "self_score_within_max" else case["failure_case"]
        if check == "multiple_fields_uniqueness":
            found = row.get("line", row.get("code"))
        found_text = _fmt_number(found)
        results.append((submission, finding(rule, location, case=wording, found=found_text, **fields)))
    return results


def validate_batch(batch: Sequence[ParsedWorkbook]) -> None:
    """Validate every workbook of the batch; each one's findings are appended to it."""
    if not batch:
        return
    info, data, scores = typed_frames(batch)
    found: list[tuple[int, Finding]] = []
    for schema, frame in ((InfoSheet, info), (DataSheet, data), (ScoreSheet, scores),
                          (TargetSheet, target_frame(batch))):
        found += schema_findings(schema, frame, batch)
    found.sort(key=lambda pair: (pair[0], pair[1].location, pair[1].rule))
    for submission, one in found:
        batch[submission].findings.append(one)
