"""A 数据表 as a model: what the unit meant, and the layout it was typed into.

Tests build the reference workbook with the form writer, then replace its 数据表 with one
written from this model by openpyxl, the way units rearrange the sheet in Excel, WPS or
LibreOffice. Each mutation changes the layout and says what the unit meant: the figure
of every 行次 in 元 (None for a line left empty on purpose, UNKNOWN when no figure can
be said to be meant, such as an Excel error value).
"""

from __future__ import annotations

import copy
import random
import re
from dataclasses import dataclass, field
from pathlib import Path

import openpyxl
from openpyxl.cell.cell import TYPE_ERROR

from pipeline.forms.writer import write_workbook
from schemas.form import DATA_LINE_BY_NUMBER, DATA_LINES, SHEET_DATA

UNKNOWN = "unknown"


@dataclass
class Column:
    header: str
    values: dict[int, object]        # row index in DataModel.rows → what is typed
    hidden: bool = False
    number_format: str | None = None
    is_value: bool = False           # the column of the evaluation year's figures


@dataclass
class Row:
    printed: int | str | None        # the 行次 printed in the row
    label: str
    hidden: bool = False


@dataclass
class DataModel:
    title: list[str]                 # cells above the header, one per row, in column A
    rows: list[Row]
    columns: list[Column]            # amount columns (and extra ones), left to right after 行次
    meant: dict[int, object]         # 行次 → 元 the unit meant (None, a number, or UNKNOWN)
    merges: list[tuple[int, int, int, int]] = field(default_factory=list)  # amount-area ranges
    copies: list[tuple[str, "DataModel"]] = field(default_factory=list)   # further sheets
    applied: list[str] = field(default_factory=list)

    @property
    def value_column(self) -> Column:
        return next(c for c in self.columns if c.is_value)


def reference_model(data: dict[int, float]) -> DataModel:
    rows = [Row(d.line, d.label) for d in DATA_LINES]
    values = {i: data.get(d.line) for i, d in enumerate(DATA_LINES)}
    return DataModel(title=["2024年度部门整体支出绩效自评数据表", "金额单位：元"], rows=rows,
                     columns=[Column("金额", values, is_value=True)],
                     meant={d.line: data.get(d.line) for d in DATA_LINES})


def row_of(model: DataModel, line: int) -> int:
    return next(i for i, r in enumerate(model.rows) if r.printed == line and not r.hidden)


# ---------------------------------------------------------------- mutations

def note_mentions_wanyuan(m: DataModel, rnd: random.Random) -> None:
    m.title.insert(rnd.randrange(len(m.title) + 1), "注：10万元以上的项目须另附明细，金额以元为单位填列")


def header_moved_down(m: DataModel, rnd: random.Random) -> None:
    m.title[:0] = ["", "附表2"] [: rnd.randint(1, 2)]


def extra_column(m: DataModel, rnd: random.Random) -> None:
    m.columns.insert(rnd.randrange(len(m.columns) + 1), Column("备注", {0: "按决算报表填列", 3: "含上年结转"}))


def number_formats(m: DataModel, rnd: random.Random) -> None:
    m.value_column.number_format = rnd.choice(["#,##0.00", '#,##0.00"元"', "0.00_ ", "@"])


def text_numbers(m: DataModel, rnd: random.Random) -> None:
    column = m.value_column
    for i, row in enumerate(m.rows):
        value = column.values.get(i)
        if isinstance(value, float) and not DATA_LINE_BY_NUMBER.get(row.printed, DATA_LINES[0]).is_count:
            # as many decimals as the value has: a 万元 or 千元 table carries up to six
            text = f"{value:,.6f}".rstrip("0").rstrip(".")
            choices = [text, text.translate(str.maketrans("0123456789.,", "０１２３４５６７８９．，"))]
            if not any(unit in "".join(m.title) + column.header for unit in ("万元", "千元")):
                choices.append(f"{value:.2f}元")  # “…元” in a 万元 table would mean 元, and is its own case
            column.values[i] = rnd.choice(choices)


def prior_year_column(m: DataModel, rnd: random.Random) -> None:
    """上年数 beside the year's column; the year's column named 本年数 or 2024年, or left 金额."""
    column = m.value_column
    # a unit declared in the header (金额（万元）) stays declared: renaming must not change what is meant
    declared = re.search(r"[（(][^（()）]*元[)）]$", column.header)
    suffix = declared.group(0) if declared else ""
    column.header = rnd.choice(["本年数", "2024年", "金额"]) + suffix
    prior = Column("上年数" + suffix, {i: (v * 0.9 if isinstance(v, float) else v) for i, v in column.values.items()})
    m.columns.insert(m.columns.index(column) + rnd.choice([0, 1]), prior)


def hidden_old_column(m: DataModel, rnd: random.Random) -> None:
    column = m.value_column
    stale = Column("金额", {i: (v + 1000 if isinstance(v, float) else v) for i, v in column.values.items()},
                   hidden=True)
    m.columns.insert(m.columns.index(column), stale)


def hidden_stale_row(m: DataModel, rnd: random.Random) -> None:
    line = rnd.choice([1, 4, 12, 13, 17, 19])
    at = row_of(m, line)
    m.rows.insert(at, Row(line, m.rows[at].label, hidden=True))
    for column in m.columns:
        shifted = {(i + 1 if i >= at else i): v for i, v in column.values.items()}
        value = column.values.get(at)
        shifted[at] = value + 500 if isinstance(value, float) else value
        column.values = shifted


def duplicate_visible_row(m: DataModel, rnd: random.Random) -> None:
    line = rnd.choice([12, 13])
    at = row_of(m, line)
    m.rows.insert(at + 1, Row(line, m.rows[at].label))
    for column in m.columns:
        shifted = {(i + 1 if i > at else i): v for i, v in column.values.items()}
        value = column.values.get(at)
        shifted[at + 1] = value - 100 if isinstance(value, float) else value
        column.values = shifted
    m.meant[line] = UNKNOWN  # two figures for one line: neither is certainly the one


def merged_value_cells(m: DataModel, rnd: random.Random) -> None:
    line = rnd.choice([14, 17, 19])
    at = row_of(m, line)
    m.merges.append((at, m.columns.index(m.value_column), at + 1, m.columns.index(m.value_column)))


def declared_unit(m: DataModel, rnd: random.Random) -> None:
    """The table declared in 万元 or 千元 and every amount typed in that unit."""
    factor, unit = rnd.choice([(10_000, "万元"), (1_000, "千元")])
    where = rnd.choice(["title", "header", "both"])
    column = m.value_column
    if where in ("title", "both"):
        m.title = [t for t in m.title if "金额单位" not in t] + [
            rnd.choice([f"金额单位：{unit}", f"单位：{unit}", f"（{unit}）"])]
    else:
        m.title = [t for t in m.title if "金额单位" not in t]
    if where in ("header", "both"):
        column.header = f"金额（{unit}）" if unit == "万元" else f"金额({unit})"
    for i, row in enumerate(m.rows):
        value = column.values.get(i)
        line = DATA_LINE_BY_NUMBER.get(row.printed) if isinstance(row.printed, int) else None
        if isinstance(value, str) and not value.endswith("元"):
            # a number typed as text is retyped in the declared unit too (one that states 元 keeps it)
            plain = value.translate(str.maketrans("０１２３４５６７８９．，", "0123456789.,")).replace(",", "")
            value = float(plain) if re.fullmatch(r"-?\d+(\.\d+)?", plain) else value
        if isinstance(value, (int, float)) and not isinstance(value, bool) and line and not line.is_count:
            typed = round(value / factor, 6)
            column.values[i] = typed
            if not row.hidden and m.meant.get(row.printed) is not UNKNOWN:
                m.meant[row.printed] = round(typed * factor, 2)
    # one amount typed with its own unit, over whatever the cell held: read in the unit it states
    at = row_of(m, 18)
    column.values[at] = "171086.57元"
    m.meant[18] = 171086.57


def comma_decimal(m: DataModel, rnd: random.Random) -> None:
    line = rnd.choice([17, 19, 20])
    at = row_of(m, line)
    value = m.value_column.values[at]
    if isinstance(value, float):
        m.value_column.values[at] = f"{value:.2f}".replace(".", ",")


def renumbered_rows(m: DataModel, rnd: random.Random) -> None:
    """An optional row deleted and the 行次 below renumbered: 项目 and 行次 no longer agree."""
    line = rnd.choice([21, 22, 23])
    at = row_of(m, line)
    del m.rows[at]
    for column in m.columns:
        column.values = {(i - 1 if i > at else i): v for i, v in column.values.items() if i != at}
    for row in m.rows[at:]:
        if isinstance(row.printed, int) and not row.hidden:
            row.printed -= 1
    m.meant[line] = None


def error_value(m: DataModel, rnd: random.Random) -> None:
    line = rnd.choice([21, 13, 18])
    m.value_column.values[row_of(m, line)] = rnd.choice(["#DIV/0!", "#VALUE!", "#REF!", "#N/A"])
    m.meant[line] = UNKNOWN


def corrected_copy(m: DataModel, rnd: random.Random) -> None:
    """A copy of the sheet with corrected figures: 数据表 (2) (which one is meant cannot be
    told) or 数据表(2024) (the year's, so that one is meant)."""
    copy_model = copy.deepcopy(m)
    copy_model.copies = []
    column = copy_model.value_column
    at = row_of(copy_model, 20)
    typed = column.values.get(at)
    changed = isinstance(typed, (int, float)) and isinstance(m.meant.get(20), float)
    if changed:
        column.values[at] = typed + 1.0
        copy_model.meant[20] = m.meant[20] + 1.0 * (m.meant[20] / typed if typed else 1.0)
    name = rnd.choice(["数据表 (2)", "数据表(2024)"])
    m.copies.append((name, copy_model))
    if name == "数据表(2024)":
        m.meant = dict(copy_model.meant)
    elif changed:
        m.meant[20] = UNKNOWN  # two sheets with two figures, neither named for the year


BENIGN = (note_mentions_wanyuan, header_moved_down, extra_column, number_formats, text_numbers,
          hidden_old_column, hidden_stale_row)
MUTATIONS = BENIGN + (prior_year_column, duplicate_visible_row, merged_value_cells, declared_unit,
                      comma_decimal, renumbered_rows, error_value, corrected_copy)


def mutate(model: DataModel, mutations, seed: int) -> DataModel:
    rnd = random.Random(seed)
    model = copy.deepcopy(model)
    # A copy of the sheet is made last, once: it carries every other change of the original,
    # and what was meant is then read from the copy when it is the year's.
    copies = [m for m in mutations if m is corrected_copy][:1]
    for mutation in [m for m in mutations if m is not corrected_copy] + copies:
        mutation(model, rnd)
        model.applied.append(mutation.__name__)
    return model


# ---------------------------------------------------------------- writing

def write_sheet(ws, model: DataModel) -> None:
    for r, text in enumerate(model.title, start=1):
        if text:
            ws.cell(row=r, column=1, value=text)
    header = len(model.title) + 1
    ws.cell(row=header, column=1, value="项目")
    ws.cell(row=header, column=2, value="行次")
    for c, column in enumerate(model.columns, start=3):
        ws.cell(row=header, column=c, value=column.header)
        if column.hidden:
            ws.column_dimensions[openpyxl.utils.get_column_letter(c)].hidden = True
    for i, row in enumerate(model.rows):
        r = header + 1 + i
        ws.cell(row=r, column=1, value=row.label)
        ws.cell(row=r, column=2, value=row.printed)
        if row.hidden:
            ws.row_dimensions[r].hidden = True
        for c, column in enumerate(model.columns, start=3):
            value = column.values.get(i)
            if value is None:
                continue
            cell = ws.cell(row=r, column=c, value=value)
            if isinstance(value, str) and value.startswith("#") and value.endswith(("!", "A")):
                cell.data_type = TYPE_ERROR
            if column.number_format:
                cell.number_format = column.number_format
    for r0, c0, r1, c1 in model.merges:
        ws.merge_cells(start_row=header + 1 + r0, start_column=3 + c0, end_row=header + 1 + r1, end_column=3 + c1)


def write_model_workbook(path: Path, form: dict, model: DataModel) -> Path:
    """The form writer's workbook with its 数据表 replaced by the model (and its copies)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    write_workbook(path, **copy.deepcopy(form))
    book = openpyxl.load_workbook(path)
    index = book.sheetnames.index(SHEET_DATA)
    del book[SHEET_DATA]
    write_sheet(book.create_sheet(SHEET_DATA, index), model)
    for name, copy_model in model.copies:
        write_sheet(book.create_sheet(name), copy_model)
    book.save(path)
    return path


_XLS_ERROR_CODES = {"#NULL!": 0x00, "#DIV/0!": 0x07, "#VALUE!": 0x0F, "#REF!": 0x17, "#NAME?": 0x1D,
                    "#NUM!": 0x24, "#N/A": 0x2A}


def save_as_xls(source: Path, target: Path) -> Path:
    """An .xlsx written again as Excel 97-2003 (.xls), as an older office PC saves it: the same
    cells, error values, hidden rows, columns and sheets, and merged ranges."""
    import datetime as dt

    import xlwt

    book = openpyxl.load_workbook(source)
    out = xlwt.Workbook(encoding="utf-8")
    styles: dict[str, object] = {}
    for ws in book.worksheets:
        sheet = out.add_sheet(ws.title, cell_overwrite_ok=True)
        if ws.sheet_state != "visible":
            sheet.visibility = 1
        for row in ws.iter_rows():
            for cell in row:
                value = cell.value
                if value is None:
                    continue
                r, c = cell.row - 1, cell.column - 1
                if cell.data_type == TYPE_ERROR:
                    sheet.row(r).set_cell_error(c, _XLS_ERROR_CODES.get(str(value), 0x0F))
                    continue
                if isinstance(value, dt.date) and not isinstance(value, dt.datetime):
                    value = dt.datetime(value.year, value.month, value.day)
                style = styles.setdefault(cell.number_format, xlwt.easyxf(num_format_str=cell.number_format))
                sheet.write(r, c, value, style)
        for number, dimension in ws.row_dimensions.items():
            if dimension.hidden:
                sheet.row(number - 1).hidden = True
        for letter, dimension in ws.column_dimensions.items():
            if dimension.hidden:
                first = openpyxl.utils.column_index_from_string(letter)
                for col in range(dimension.min or first, (dimension.max or first) + 1):
                    sheet.col(col - 1).hidden = True
        for merged in ws.merged_cells.ranges:
            sheet.merge(merged.min_row - 1, merged.max_row - 1, merged.min_col - 1, merged.max_col - 1)
    target.parent.mkdir(parents=True, exist_ok=True)
    out.save(str(target))
    return target
