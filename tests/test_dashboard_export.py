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
    # a real percentage: the fraction, formatted as 99.72%
    assert rate.value == pytest.approx(0.9972) and rate.number_format == "0.00%"
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
    for header in back.columns:
        if header.endswith(tables.PCT):
            back[header] = (pd.to_numeric(back[header]) * 100).round(2)
    pd.testing.assert_frame_equal(back.astype(object).where(back.notna(), None),
                                  table.astype(object).where(table.notna(), None), check_dtype=False)


def test_sheet_names_are_what_excel_accepts():
    assert export.sheet_name("a/b:c*d?[e]" + "长" * 40) == ("a_b_c_d__e_" + "长" * 40)[:31]
    assert export.sheet_name("") == "数据"


def test_every_download_uses_the_formats_of_the_years_workbook():
    """元 and 万元 with separators, rates as real percentages, scores two places: as in the 汇总表."""
    from pipeline.outputs import ranking_book

    lines = pd.DataFrame({"line": [12, 13, 24], "item": ["财政下达预算数", "支出决算数", "笔数"],
                          "amount": [8397200.18, 8374036.75, 3.0], "source_cell": ["数据表!C15", "数据表!C16", "数据表!C27"],
                          "source_value": ["8397200.18", "8374036.75", "3"]})
    table = tables.data_lines_table(lines)
    sheet = openpyxl.load_workbook(io.BytesIO(export.xlsx_bytes(table, title="数据表", notes=[]))).worksheets[0]
    headers = {c.value: c.column_letter for c in sheet[1]}
    assert sheet[f"{headers['金额（元）']}2"].number_format == ranking_book.YUAN_FORMAT == "#,##0.00"
    assert sheet[f"{headers['金额（万元）']}3"].number_format == ranking_book.YUAN_FORMAT
    assert sheet[f"{headers['笔数/个数']}4"].number_format == ranking_book.COUNT_FORMAT

    scores = pd.DataFrame({"rank": [1], "unit_name": ["甲"], "unit_type": ["行政单位"], "department": ["甲"],
                           "rank_in_type": [1], "rank_in_department": [1], "review_score": [97.966],
                           "review_grade": ["优"], "self_score": [98.0], "self_grade": ["优"], "inflation": [0.034],
                           "execution_rate": [0.99724], "sangong_control_rate": [1.0213], "errors": [0],
                           "must_resubmit": [False]})
    ranking = tables.ranking_table(scores)
    sheet = openpyxl.load_workbook(io.BytesIO(export.xlsx_bytes(ranking, title="排名", notes=[]))).worksheets[0]
    headers = {c.value: c.column_letter for c in sheet[1]}
    sangong = sheet[f"{headers['三公经费控制率（%）']}2"]
    assert sangong.value == pytest.approx(1.0213) and sangong.number_format == ranking_book.RATE_FORMAT
    assert sheet[f"{headers['复核得分']}2"].number_format == ranking_book.SCORE_FORMAT


def test_a_download_is_named_after_its_unit_year_and_filters():
    from dashboard import ui

    assert ui.download_stem("数据表", 2024, unit="遂溪县财政局") == "数据表_遂溪县财政局_2024年度"
    assert ui.download_stem("单位排名", 2024, narrowed=True) == "单位排名_2024年度_已筛选"
    assert "/" not in ui.download_stem("数据表", 2024, unit="甲/乙")


def test_a_unit_link_keeps_the_name_readable_and_the_query_intact():
    import urllib.parse

    from dashboard import ui

    assert ui.unit_link("遂溪县财政局", 2024) == "unit?year=2024&unit=遂溪县财政局"
    odd = "某局&year=1999#x"
    query = urllib.parse.parse_qs(urllib.parse.urlsplit(ui.unit_link(odd, 2024)).query)
    assert query == {"year": ["2024"], "unit": [odd]}
