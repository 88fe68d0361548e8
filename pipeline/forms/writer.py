"""The bureau's workbook, written cell by cell: 基本信息, 数据表, 评分表.

The layout is planned first (a pure function from values to cells, merges and cell
references) and then rendered by xlsxwriter (.xlsx) or xlwt (.xls). The template, the
sample county and the tests' fixture workbooks all go through here, so every workbook
the project produces has the same rows and columns.

Values are written as given: numbers stay numbers, strings stay strings (so a test can
put "8,374,036.75", "８３７４０３６.７５元", "-" or "见附表" into an amount cell), None
leaves the cell blank. Amounts are whatever unit the form says (元, or 万元 when
``wanyuan`` is set); this module never scales.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

import xlsxwriter

from pipeline.scoring.framework import IndicatorSpec, load_framework
from pipeline.reading.grid import column_letter
from schemas.form import (
    DATA_HEADER,
    DATA_LINES,
    INFO_FIELDS,
    REQUIRED_SHEETS,
    SCORE_GRADE_LABEL,
    SCORE_HEADER,
    SCORE_TOTAL_LABEL,
    SHEET_DATA,
    SHEET_INFO,
    SHEET_SCORES,
    SHEET_TARGETS,
    TARGET_COLUMN_KEYS,
    TARGET_HEADER,
    WANYUAN_MARK,
)

YUAN_MARK = "金额单位：元"
TITLES = {
    SHEET_INFO: "部门整体支出绩效自评 基本信息表",
    SHEET_DATA: "部门整体支出绩效自评 数据表",
    SHEET_SCORES: "部门整体支出绩效自评 评分表",
    SHEET_TARGETS: "部门整体绩效目标完成情况表",
}
# Lines printed above the header when a unit adds its own notes to the form.
EXTRA_TITLE_TEXTS = (
    "（本表由单位财务部门填报，单位负责人审核）",
    "",
    "单位负责人：          财务负责人：          填表人：",
)
TOTAL_MAX = 100

AMOUNT_FORMAT = "#,##0.00"
COUNT_FORMAT = "0"
DATE_FORMAT = "yyyy-mm-dd"
SCORE_FORMAT = "0.00"


# --------------------------------------------------------------------------- framework

Indicator = IndicatorSpec


def load_indicators(year: int, frameworks_dir: Path | None = None) -> tuple[IndicatorSpec, ...]:
    """The indicators of the year's framework, in their order on the 评分表."""
    return load_framework(year, frameworks_dir).indicators


# --------------------------------------------------------------------------- layout

@dataclass(frozen=True)
class CellRef:
    """Where a value was written. ``row`` is 1-based as Excel shows it, ``col`` 0-based."""

    sheet: str        # the form's name for the sheet (基本信息 / 数据表 / 评分表)
    sheet_name: str   # the name as written into the workbook (may carry spaces)
    row: int
    col: int

    @property
    def address(self) -> str:
        return f"{column_letter(self.col)}{self.row}"

    def __str__(self) -> str:
        return f"{self.sheet}!{self.address}"


@dataclass(frozen=True)
class FormLayout:
    """Cell references of everything a reader looks for, keyed the way the form is."""

    sheet_names: dict[str, str]                   # form name → name as written
    info_cells: dict[str, CellRef]                # 基本信息 label → value cell
    data_cells: dict[int, CellRef]                # 行次 → 金额 cell
    data_header_row: int | None                   # 1-based
    amount_unit_cell: CellRef | None              # 金额单位：元 / 万元
    score_cells: dict[str, CellRef]               # code → 自评得分 cell
    max_cells: dict[str, CellRef]                 # code → 分值 cell
    note_cells: dict[str, CellRef]                # code → 评分说明 cell
    score_header_row: int | None
    total_cell: CellRef | None                    # 合计 自评得分
    grade_cell: CellRef | None                    # 自评等级
    level1_merges: dict[str, str] = field(default_factory=dict)   # 一级指标 → "B3:B5"
    level2_merges: dict[str, str] = field(default_factory=dict)   # 二级指标 → "C3:C4"
    target_cells: dict[tuple[int, str], CellRef] = field(default_factory=dict)  # (row index, key) → cell
    target_header_row: int | None = None


@dataclass(frozen=True)
class Cell:
    row: int   # 0-based
    col: int
    value: Any
    style: str


@dataclass(frozen=True)
class Merge:
    first_row: int
    first_col: int
    last_row: int
    last_col: int
    value: Any
    style: str

    @property
    def range(self) -> str:
        return (f"{column_letter(self.first_col)}{self.first_row + 1}:"
                f"{column_letter(self.last_col)}{self.last_row + 1}")


@dataclass(frozen=True)
class SheetPlan:
    role: str | None          # the form sheet it is, or None for an unrelated sheet
    name: str
    cells: tuple[Cell, ...]
    merges: tuple[Merge, ...]
    widths: tuple[tuple[int, float], ...]


@dataclass(frozen=True)
class FormPlan:
    sheets: tuple[SheetPlan, ...]
    layout: FormLayout
    created: dt.datetime


def _split_score(entry: Any) -> tuple[Any, Any]:
    if isinstance(entry, tuple):
        score, note = (entry + (None, None))[:2]
        return score, note
    return entry, None


def _extra_rows(extra_title_rows: int | Mapping[str, int], role: str) -> list[str]:
    n = extra_title_rows.get(role, 0) if isinstance(extra_title_rows, Mapping) else extra_title_rows
    return [EXTRA_TITLE_TEXTS[i % len(EXTRA_TITLE_TEXTS)] for i in range(n)]


def _runs(values: Sequence[str]) -> list[tuple[int, int, str]]:
    """Consecutive runs of equal values: (start, end inclusive, value)."""
    runs: list[tuple[int, int, str]] = []
    for i, v in enumerate(values):
        if runs and runs[-1][2] == v and runs[-1][1] == i - 1:
            runs[-1] = (runs[-1][0], i, v)
        else:
            runs.append((i, i, v))
    return runs


def _sheet_top(role: str, last_col: int, extra: list[str]) -> tuple[list[Cell], list[Merge], int]:
    """The merged title row and any extra lines below it: (cells, merges, first free row)."""
    cells = [Cell(row, 0, text, "plain") for row, text in enumerate(extra, start=1)]
    return cells, [Merge(0, 0, 0, last_col, TITLES[role], "title")], 1 + len(extra)


def _info_sheet(name, info, labels, extra) -> tuple[SheetPlan, dict[str, CellRef]]:
    cells, merges, row = _sheet_top(SHEET_INFO, 1, extra)
    row += 1  # the blank row between title and fields
    refs: dict[str, CellRef] = {}
    for f in INFO_FIELDS:
        cells.append(Cell(row, 0, labels.get(f.label, f.label), "label"))
        value = info.get(f.label)
        style = {"date": "date", "int": "count", "year": "count"}.get(f.kind, "text")
        cells.append(Cell(row, 1, value, style))
        refs[f.label] = CellRef(SHEET_INFO, name, row + 1, 1)
        row += 1
    return SheetPlan(SHEET_INFO, name, tuple(cells), tuple(merges), ((0, 16), (1, 36))), refs


def _data_sheet(name, data, labels, wanyuan, extra):
    cells, merges, row = _sheet_top(SHEET_DATA, 2, extra)
    cells.append(Cell(row, 0, WANYUAN_MARK if wanyuan else YUAN_MARK, "plain"))
    unit_ref = CellRef(SHEET_DATA, name, row + 1, 0)
    row += 1
    header_row = row + 1
    for col, text in enumerate(DATA_HEADER):
        cells.append(Cell(row, col, text, "header"))
    row += 1
    refs: dict[int, CellRef] = {}
    for line in DATA_LINES:
        cells.append(Cell(row, 0, labels.get(line.line, line.label), "label"))
        cells.append(Cell(row, 1, line.line, "line"))
        cells.append(Cell(row, 2, data.get(line.line), "count" if line.is_count else "amount"))
        refs[line.line] = CellRef(SHEET_DATA, name, row + 1, 2)
        row += 1
    widths = ((0, 34), (1, 8), (2, 20))
    return SheetPlan(SHEET_DATA, name, tuple(cells), tuple(merges), widths), refs, unit_ref, header_row


def _score_sheet(name, indicators, scores, max_overrides, total, grade, extra):
    cells, merges, row = _sheet_top(SHEET_SCORES, len(SCORE_HEADER) - 1, extra)
    header_row = row + 1
    for col, text in enumerate(SCORE_HEADER):
        cells.append(Cell(row, col, text, "header"))
    row += 1
    first = row
    score_refs: dict[str, CellRef] = {}
    max_refs: dict[str, CellRef] = {}
    note_refs: dict[str, CellRef] = {}
    for i, ind in enumerate(indicators):
        r = first + i
        score, note = _split_score(scores.get(ind.code))
        cells += [
            Cell(r, 0, ind.code, "label"),
            Cell(r, 3, ind.level3, "label"),
            Cell(r, 4, max_overrides.get(ind.code, ind.max_score), "score"),
            Cell(r, 5, score, "score"),
            Cell(r, 6, note, "note"),
        ]
        score_refs[ind.code] = CellRef(SHEET_SCORES, name, r + 1, 5)
        max_refs[ind.code] = CellRef(SHEET_SCORES, name, r + 1, 4)
        note_refs[ind.code] = CellRef(SHEET_SCORES, name, r + 1, 6)
    level_merges: list[dict[str, str]] = [{}, {}]
    # 一级 runs bound the 二级 runs: a 二级 name reused under another 一级 is a new run.
    keys1 = [ind.level1 for ind in indicators]
    keys2 = [(ind.level1, ind.level2) for ind in indicators]
    for col, keys, named in ((1, keys1, level_merges[0]), (2, keys2, level_merges[1])):
        for start, end, key in _runs(keys):
            text = key if isinstance(key, str) else key[1]
            if end > start:
                m = Merge(first + start, col, first + end, col, text, "level")
                merges.append(m)
                named.setdefault(text, m.range)
            else:
                cells.append(Cell(first + start, col, text, "level"))
    row = first + len(indicators)
    cells += [
        Cell(row, 0, SCORE_TOTAL_LABEL, "label"),
        Cell(row, 4, TOTAL_MAX, "score"),
        Cell(row, 5, total, "score"),
    ]
    total_ref = CellRef(SHEET_SCORES, name, row + 1, 5)
    row += 1
    cells += [Cell(row, 0, SCORE_GRADE_LABEL, "label"), Cell(row, 5, grade, "text")]
    grade_ref = CellRef(SHEET_SCORES, name, row + 1, 5)
    widths = ((0, 8), (1, 12), (2, 18), (3, 30), (4, 8), (5, 10), (6, 40))
    plan = SheetPlan(SHEET_SCORES, name, tuple(cells), tuple(merges), widths)
    return plan, score_refs, max_refs, note_refs, total_ref, grade_ref, header_row, level_merges


def _targets_sheet(name, rows, notes, extra):
    """绩效目标表: notes above the header, one row per target, 一级/二级 merged over their runs."""
    last_col = len(TARGET_HEADER) - 1
    cells, merges, row = _sheet_top(SHEET_TARGETS, last_col, extra)
    for text in notes:
        cells.append(Cell(row, 0, text, "plain"))
        row += 1
    header_row = row + 1
    for col, text in enumerate(TARGET_HEADER):
        cells.append(Cell(row, col, text, "header"))
    row += 1
    first = row
    keys = [TARGET_COLUMN_KEYS[label] for label in TARGET_HEADER]
    refs: dict[tuple[int, str], CellRef] = {}
    for i, values in enumerate(rows):
        for col, key in enumerate(keys):
            refs[(i, key)] = CellRef(SHEET_TARGETS, name, first + i + 1, col)
            if col < 2:
                continue
            style = "note" if key == "reason" else "text"
            cells.append(Cell(first + i, col, values.get(key), style))
    for col, key in ((0, "kind"), (1, "category")):
        # 一级 runs bound the 二级 runs, as on the 评分表.
        run_keys = [(r.get("kind"), r.get(key)) for r in rows] if col else [r.get("kind") for r in rows]
        for start, end, value in _runs(run_keys):
            text = value[1] if isinstance(value, tuple) else value
            if end > start and text is not None:
                merges.append(Merge(first + start, col, first + end, col, text, "level"))
            else:
                for i in range(start, end + 1):
                    cells.append(Cell(first + i, col, text, "level"))
    widths = ((0, 12), (1, 16), (2, 30), (3, 9), (4, 12), (5, 9), (6, 12), (7, 8), (8, 40))
    return SheetPlan(SHEET_TARGETS, name, tuple(cells), tuple(merges), widths), refs, header_row


def _extra_sheet(name: str, rows: Iterable[Sequence[Any]]) -> SheetPlan:
    cells = tuple(
        Cell(r, c, v, "plain") for r, values in enumerate(rows) for c, v in enumerate(values)
    )
    return SheetPlan(None, name, cells, (), ())


def default_created(info: Mapping[str, Any], framework_year: int | None) -> dt.datetime:
    """A creation time taken from the form itself, so the same form gives the same bytes."""
    filed = info.get("填报日期")
    if isinstance(filed, dt.datetime):
        return filed.replace(microsecond=0, tzinfo=None)
    if isinstance(filed, dt.date):
        return dt.datetime(filed.year, filed.month, filed.day, 9, 0, 0)
    year = info.get("评价年度")
    year = year if isinstance(year, int) else framework_year or 2000
    return dt.datetime(year + 1, 1, 1, 9, 0, 0)


def plan_form(
    *,
    info: Mapping[str, Any] | None = None,
    data: Mapping[int, Any] | None = None,
    scores: Mapping[str, Any] | None = None,
    total: Any = None,
    grade: Any = None,
    framework_year: int | None = None,
    indicators: Sequence[Indicator] | None = None,
    wanyuan: bool = False,
    sheets: Sequence[str] = REQUIRED_SHEETS,
    extra_title_rows: int | Mapping[str, int] = 0,
    sheet_name_overrides: Mapping[str, str] | None = None,
    info_label_overrides: Mapping[str, str] | None = None,
    data_label_overrides: Mapping[int, str] | None = None,
    max_overrides: Mapping[str, Any] | None = None,
    extra_sheets: Mapping[str, Sequence[Sequence[Any]]] | None = None,
    created: dt.datetime | None = None,
    targets: Sequence[Mapping[str, Any]] | None = None,
    target_notes: Sequence[str] = (),
) -> FormPlan:
    """Every cell of the workbook and where each value went, without touching a file.

    ``scores`` maps an indicator code to ``(自评得分, 评分说明)`` or to a bare score.
    ``sheets`` lists the form sheets to include, in order (leave one out to make a
    workbook with a sheet missing). ``sheet_name_overrides`` renames a form sheet as
    written (e.g. {"数据表": " 数据表 "}). ``extra_sheets`` adds unrelated sheets after
    the form sheets. ``targets`` adds a 绩效目标表 after the form sheets: one mapping per
    row with the keys of TARGET_COLUMN_KEYS (kind, category, name, direction, target,
    unit, actual, weight, reason); ``target_notes`` are lines above its header.
    """
    info = dict(info or {})
    data = dict(data or {})
    scores = dict(scores or {})
    names = {s: (sheet_name_overrides or {}).get(s, s) for s in (*REQUIRED_SHEETS, SHEET_TARGETS)}
    if indicators is None:
        if framework_year is None:
            year = info.get("评价年度")
            framework_year = year if isinstance(year, int) else None
        if framework_year is None:
            raise ValueError("give framework_year or indicators to lay out the 评分表")
        indicators = load_indicators(framework_year)
    unknown = set(sheets) - set(REQUIRED_SHEETS)
    if unknown:
        raise ValueError(f"not a form sheet: {sorted(unknown)}")

    plans: list[SheetPlan] = []
    info_refs: dict[str, CellRef] = {}
    data_refs: dict[int, CellRef] = {}
    unit_ref = data_header = score_header = total_ref = grade_ref = None
    score_refs: dict[str, CellRef] = {}
    max_refs: dict[str, CellRef] = {}
    note_refs: dict[str, CellRef] = {}
    level_merges: list[dict[str, str]] = [{}, {}]
    for role in sheets:
        extra = _extra_rows(extra_title_rows, role)
        if role == SHEET_INFO:
            plan, info_refs = _info_sheet(names[role], info, info_label_overrides or {}, extra)
        elif role == SHEET_DATA:
            plan, data_refs, unit_ref, data_header = _data_sheet(
                names[role], data, data_label_overrides or {}, wanyuan, extra)
        else:
            (plan, score_refs, max_refs, note_refs, total_ref, grade_ref, score_header,
             level_merges) = _score_sheet(names[role], indicators, scores, max_overrides or {},
                                          total, grade, extra)
        plans.append(plan)
    target_refs: dict[tuple[int, str], CellRef] = {}
    target_header = None
    if targets is not None:
        plan, target_refs, target_header = _targets_sheet(
            names[SHEET_TARGETS], [dict(r) for r in targets], target_notes,
            _extra_rows(extra_title_rows, SHEET_TARGETS))
        plans.append(plan)
    for name, rows in (extra_sheets or {}).items():
        plans.append(_extra_sheet(name, rows))

    layout = FormLayout(
        sheet_names={s: names[s] for s in (*sheets, *((SHEET_TARGETS,) if targets is not None else ()))},
        info_cells=info_refs,
        data_cells=data_refs,
        data_header_row=data_header,
        amount_unit_cell=unit_ref,
        score_cells=score_refs,
        max_cells=max_refs,
        note_cells=note_refs,
        score_header_row=score_header,
        total_cell=total_ref,
        grade_cell=grade_ref,
        level1_merges=level_merges[0],
        level2_merges=level_merges[1],
        target_cells=target_refs,
        target_header_row=target_header,
    )
    return FormPlan(tuple(plans), layout, created or default_created(info, framework_year))


# --------------------------------------------------------------------------- xlsx

_XLSX_STYLES = {
    "title": {"bold": True, "font_size": 14, "align": "center", "valign": "vcenter"},
    "header": {"bold": True, "border": 1, "align": "center", "bg_color": "#D9E1F2"},
    "label": {"border": 1},
    "level": {"border": 1, "align": "center", "valign": "vcenter"},
    "line": {"border": 1, "align": "center"},
    "text": {"border": 1},
    "note": {"border": 1, "text_wrap": True},
    "amount": {"border": 1, "num_format": AMOUNT_FORMAT},
    "count": {"border": 1, "num_format": COUNT_FORMAT},
    "score": {"border": 1, "num_format": "General"},
    "date": {"border": 1, "num_format": DATE_FORMAT},
    "plain": {},
}


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float, Decimal)) and not isinstance(value, bool)


def _write_xlsx_cell(ws, row: int, col: int, value: Any, fmt) -> None:
    if value is None:
        ws.write_blank(row, col, None, fmt)
    elif isinstance(value, str):
        ws.write_string(row, col, value, fmt)
    elif isinstance(value, bool):
        ws.write_boolean(row, col, value, fmt)
    elif _is_number(value):
        ws.write_number(row, col, float(value), fmt)
    elif isinstance(value, (dt.date, dt.datetime)):
        ws.write_datetime(row, col, value, fmt)
    else:
        ws.write_string(row, col, str(value), fmt)


def render_xlsx(workbook: xlsxwriter.Workbook, plan: FormPlan) -> dict[str, Any]:
    """Add the plan's sheets to an open xlsxwriter workbook; returns worksheets by name."""
    formats = {k: workbook.add_format(v) for k, v in _XLSX_STYLES.items()}
    workbook.set_properties({
        "title": "部门整体支出绩效自评表",
        "created": plan.created,
    })
    worksheets: dict[str, Any] = {}
    for sheet in plan.sheets:
        ws = workbook.add_worksheet(sheet.name)
        worksheets[sheet.name] = ws
        for col, width in sheet.widths:
            ws.set_column(col, col, width)
        for m in sheet.merges:
            value = "" if m.value is None else m.value
            ws.merge_range(m.first_row, m.first_col, m.last_row, m.last_col, value,
                           formats[m.style])
        for c in sheet.cells:
            _write_xlsx_cell(ws, c.row, c.col, c.value, formats[c.style])
    return worksheets


def write_workbook(path: Path | str, **form: Any) -> FormLayout:
    """Write a workbook in the bureau's layout to ``path``; returns where each value went.

    Takes the keyword arguments of :func:`plan_form`. Same arguments, same bytes.
    """
    plan = plan_form(**form)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    workbook = xlsxwriter.Workbook(str(path))
    render_xlsx(workbook, plan)
    workbook.close()
    return plan.layout


# --------------------------------------------------------------------------- xls

def write_xls_workbook(path: Path | str, **form: Any) -> FormLayout:
    """The same layout as an Excel 97-2003 .xls (xlwt), as older office PCs still send."""
    import xlwt  # only the sample county and tests write .xls

    plan = plan_form(**form)
    book = xlwt.Workbook(encoding="utf-8")
    styles = {
        "title": xlwt.easyxf("font: bold on, height 280; align: horiz center"),
        "header": xlwt.easyxf("font: bold on; align: horiz center"),
        "amount": xlwt.easyxf(num_format_str=AMOUNT_FORMAT),
        "count": xlwt.easyxf(num_format_str=COUNT_FORMAT),
        "date": xlwt.easyxf(num_format_str=DATE_FORMAT),
    }
    plain = xlwt.easyxf("")
    for sheet in plan.sheets:
        ws = book.add_sheet(sheet.name, cell_overwrite_ok=True)
        for col, width in sheet.widths:
            ws.col(col).width = int(width * 256)
        for m in sheet.merges:
            value = "" if m.value is None else m.value
            ws.write_merge(m.first_row, m.last_row, m.first_col, m.last_col, value,
                           styles.get(m.style, plain))
        for c in sheet.cells:
            value = c.value
            if value is None:
                continue
            if isinstance(value, Decimal):
                value = float(value)
            if isinstance(value, dt.date) and not isinstance(value, dt.datetime):
                value = dt.datetime(value.year, value.month, value.day)
            ws.write(c.row, c.col, value, styles.get(c.style, plain))
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    book.save(str(path))
    return plan.layout


def form_layout(**form: Any) -> FormLayout:
    """Where :func:`write_workbook` would put each value, for the same arguments."""
    return plan_form(**form).layout
