"""Downloads: .xlsx with Chinese headers, number formats, a frozen header and a filter sheet; CSV with BOM."""

from __future__ import annotations

import csv
import io

import openpyxl
import pandas as pd
import pytest

from dashboard import export
from presentation import tables

NOTES = [("评价年度", "2024"), ("单位类型", "全部"), ("数据日期", "2025-08-01 09:30（批次 abc）")]


def _table() -> pd.DataFrame:
    scores = pd.DataFrame({
        "unit_name": ["遂溪县人民政府办公室", "遂溪县甲局"], "unit_type": ["行政单位", "事业单位"],
        "department": ["遂溪县人民政府办公室", "遂溪县甲局"], "budget_issued": [8397200.18, 1_234_567.0],
        "spent": [8374036.75, None], "execution_rate": [8374036.75 / 8397200.18, None],
        "carryover": [29911.13, 0.0], "carryover_rate": [0.0036, None], "basic_share": [0.84, None],
    })
    return tables.execution_table(scores)


def test_csv_starts_with_bom_and_round_trips():
    table = _table()
    content = export.csv_bytes(table)
    assert content.startswith(b"\xef\xbb\xbf")
    back = pd.read_csv(io.BytesIO(content), encoding="utf-8-sig")
    assert list(back.columns) == list(table.columns)
    pd.testing.assert_frame_equal(back, table, check_dtype=False)
    header = next(csv.reader(io.StringIO(content.decode("utf-8-sig"))))
    assert header[0] == "单位名称" and "预算资金支出率（%）" in header


def test_xlsx_has_chinese_headers_formats_frozen_header_and_filter_sheet():
    table = _table()
    workbook = openpyxl.load_workbook(io.BytesIO(export.xlsx_bytes(table, title="预算执行", notes=NOTES)))
    assert workbook.sheetnames == ["预算执行", "筛选条件"]
    sheet = workbook["预算执行"]
    assert [c.value for c in sheet[1]] == list(table.columns)
    assert sheet.freeze_panes == "A2"
    headers = {c.value: c.column_letter for c in sheet[1]}
    budget = sheet[f"{headers['财政下达预算数（万元）']}2"]
    assert budget.value == pytest.approx(839.72)
    assert budget.number_format == "#,##0.00"
    rate = sheet[f"{headers['预算资金支出率（%）']}2"]
    assert rate.value == pytest.approx(99.72) and rate.number_format == "0.00"
    assert sheet[f"{headers['支出决算数（万元）']}3"].value is None  # missing stays blank, not 0
    assert sheet.max_row == len(table) + 1

    notes = workbook["筛选条件"]
    assert notes.freeze_panes == "A2"
    rows = dict(notes.iter_rows(min_row=2, values_only=True))
    assert rows["表格"] == "预算执行"
    assert rows["评价年度"] == "2024"
    assert rows["数据日期"].startswith("2025-08-01")
    assert rows["行数"] == str(len(table))


def test_xlsx_values_equal_the_displayed_frame():
    table = _table()
    sheet = openpyxl.load_workbook(io.BytesIO(export.xlsx_bytes(table, title="t", notes=[]))).worksheets[0]
    back = pd.DataFrame(list(sheet.iter_rows(min_row=2, values_only=True)), columns=list(table.columns))
    pd.testing.assert_frame_equal(back.astype(object).where(back.notna(), None),
                                  table.astype(object).where(table.notna(), None), check_dtype=False)


def test_sheet_names_are_what_excel_accepts():
    assert export.sheet_name("a/b:c*d?[e]" + "长" * 40) == ("a_b_c_d__e_" + "长" * 40)[:31]
    assert export.sheet_name("") == "数据"
