"""Downloads of a displayed table: .xlsx and CSV, built from the very DataFrame shown.

The workbook uses the Excel formats of the year's 汇总表 (pipeline.outputs.ranking_book),
one set for every file the bureau hands out: amounts (header "（万元）" or "（元）") with
thousands separators and two decimals; rates (header "（%）") written as fractions and
formatted as percentages, so Excel computes with 99.72% as 0.9972; scores and other
decimals two places; whole numbers none. The CSV keeps the table exactly as displayed.
"""

from __future__ import annotations

import io
import math
from datetime import date, datetime

import pandas as pd
import xlsxwriter

from pipeline.outputs.common import safe_file_stem
from pipeline.outputs.ranking_book import COUNT_FORMAT, RATE_FORMAT, SCORE_FORMAT, YUAN_FORMAT
from presentation.tables import PCT, WAN, YUAN

CSV_ENCODING = "utf-8-sig"  # Excel on Chinese Windows needs the BOM to read UTF-8
NOTES_SHEET = "筛选条件"
MAX_SHEET_NAME = 31  # Excel's limit on sheet names
_FORBIDDEN_IN_SHEET_NAME = set('[]:*?/\\')


def csv_bytes(table: pd.DataFrame) -> bytes:
    return table.to_csv(index=False).encode(CSV_ENCODING)


def sheet_name(title: str) -> str:
    cleaned = "".join("_" if c in _FORBIDDEN_IN_SHEET_NAME else c for c in title).strip() or "数据"
    return cleaned[:MAX_SHEET_NAME]


def safe_stem(text: str) -> str:
    """A download's file name stem that every operating system accepts."""
    return safe_file_stem(text)


def is_rate(header: str) -> bool:
    return header.endswith(PCT)


def number_format(header: str, values: pd.Series) -> str | None:
    if header.endswith(WAN) or header.endswith(YUAN):
        return YUAN_FORMAT
    if is_rate(header):
        return RATE_FORMAT
    if pd.api.types.is_integer_dtype(values):
        return COUNT_FORMAT
    if pd.api.types.is_float_dtype(values) or "百分点" in header:
        return SCORE_FORMAT
    return None


def _cell(value):
    """A DataFrame value as xlsxwriter writes it (missing → blank cell)."""
    if value is None or value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, float) and math.isnan(value):
        return None
    if isinstance(value, pd.Timestamp):
        return value.to_pydatetime()
    if hasattr(value, "item") and not isinstance(value, (str, bytes)):
        return value.item()
    return value


def xlsx_bytes(table: pd.DataFrame, *, title: str, notes: list[tuple[str, str]]) -> bytes:
    """The table on its own sheet (header frozen), and a second sheet with the filters and data date."""
    buffer = io.BytesIO()
    workbook = xlsxwriter.Workbook(buffer, {"in_memory": True, "strings_to_numbers": False,
                                            "strings_to_formulas": False, "strings_to_urls": False})
    header_format = workbook.add_format({"bold": True, "bg_color": "#DDEBF7", "border": 1,
                                         "text_wrap": True, "valign": "vcenter"})
    date_format = workbook.add_format({"num_format": "yyyy-mm-dd"})
    datetime_format = workbook.add_format({"num_format": "yyyy-mm-dd hh:mm"})
    sheet = workbook.add_worksheet(sheet_name(title))
    for column_index, header in enumerate(table.columns):
        header = str(header)
        sheet.write_string(0, column_index, header, header_format)
        pattern = number_format(header, table[header])
        column_format = workbook.add_format({"num_format": pattern}) if pattern else None
        width = max([len(header) * 2 + 2] + [min(60, len(str(v)) * 2) for v in table[header].head(200)])
        sheet.set_column(column_index, column_index, min(max(width, 8), 60), column_format)
        # Shown as 99.72 under a "（%）" header; a real percentage in Excel is the fraction.
        scale = 100 if is_rate(header) else 1
        for row_index, value in enumerate(table[header].tolist(), start=1):
            value = _cell(value)
            if scale != 1 and isinstance(value, (int, float)) and not isinstance(value, bool):
                value = round(value / scale, 6)
            if value is None:
                continue
            if isinstance(value, datetime):
                sheet.write_datetime(row_index, column_index, value, datetime_format)
            elif isinstance(value, date):
                sheet.write_datetime(row_index, column_index, datetime(value.year, value.month, value.day),
                                     date_format)
            elif isinstance(value, bool):
                sheet.write_string(row_index, column_index, "是" if value else "否")
            elif isinstance(value, (int, float)):
                sheet.write_number(row_index, column_index, value, column_format)
            else:
                sheet.write_string(row_index, column_index, str(value))
    sheet.freeze_panes(1, 0)
    if len(table.columns):
        sheet.autofilter(0, 0, max(len(table), 1), len(table.columns) - 1)

    notes_sheet = workbook.add_worksheet(NOTES_SHEET)
    notes_sheet.write_string(0, 0, "项目", header_format)
    notes_sheet.write_string(0, 1, "内容", header_format)
    rows = [("表格", title), *notes, ("行数", str(len(table)))]
    for row_index, (label, value) in enumerate(rows, start=1):
        notes_sheet.write_string(row_index, 0, label)
        notes_sheet.write_string(row_index, 1, value)
    notes_sheet.set_column(0, 0, 16)
    notes_sheet.set_column(1, 1, 80)
    notes_sheet.freeze_panes(1, 0)
    workbook.close()
    return buffer.getvalue()
