"""The form writer: what lands in which cell, merged cells, formats, .xls, same bytes."""

from __future__ import annotations

import datetime as dt

import openpyxl
import pytest
from python_calamine import CalamineWorkbook

from pipeline.forms.writer import (
    column_letter,
    form_layout,
    load_indicators,
    write_workbook,
    write_xls_workbook,
)
from pipeline.scoring.framework import read_framework_file
from pipeline.settings import FRAMEWORKS_DIR
from schemas.form import DATA_HEADER, DATA_LINES, INFO_FIELDS, SCORE_HEADER, WANYUAN_MARK

INFO = {
    "单位名称": "遂溪县人民政府办公室", "单位编码": "101001", "主管部门": "遂溪县人民政府办公室",
    "单位类型": "行政单位", "评价年度": 2024, "填报日期": dt.date(2025, 7, 28), "联系人": "陈伟",
    "联系电话": "0759-7712345", "内设机构数": 13, "编制数": 57, "在职人数": 51, "退休人数": 50,
}
DATA = {
    1: 10850997.08, 2: 9850997.08, 3: 1000000.00, 4: 8397909.75, 5: 8397200.18, 6: 0.00,
    7: 709.57, 8: 6038.13, 9: 10850997.08, 10: 8171282.08, 11: 2679715.00, 12: 8397200.18,
    13: 8374036.75, 14: 7034584.75, 15: 1339452.00, 16: 29911.13, 17: 259000.00,
    18: 171086.57, 19: 340000.00, 20: 256929.66, 24: 1, 25: 0,
}
SCORES = {"A1": 20, "A2": 20, "A3": 10, "B1": 2, "B2": (3, "追加预算1笔，扣1分"), "B3": 3,
          "B4": 3, "B5": 15, "B6": (9, "采购合同未在两个工作日内备案，扣1分"), "B7": 10,
          "B8": 2, "B9": 1}


def form(**overrides):
    base = dict(info=INFO, data=DATA, scores=SCORES, total=98, grade="优", framework_year=2024)
    return {**base, **overrides}


def grid(path, sheet):
    return CalamineWorkbook.from_path(str(path)).get_sheet_by_name(sheet).to_python()


def at(rows, ref):
    """The value at a CellRef in a calamine grid (rows trimmed at the right are blank)."""
    row = rows[ref.row - 1]
    return row[ref.col] if ref.col < len(row) else ""


def framework_rows(year):
    return read_framework_file(FRAMEWORKS_DIR / f"{year}.toml")["indicator"]


def test_column_letters():
    assert [column_letter(c) for c in (0, 2, 6, 25, 26, 27, 701, 702)] == [
        "A", "C", "G", "Z", "AA", "AB", "ZZ", "AAA"]


def test_every_value_lands_in_the_cell_the_layout_names(tmp_path):
    path = tmp_path / "a.xlsx"
    layout = write_workbook(path, **form())
    info, data, scores = grid(path, "基本信息"), grid(path, "数据表"), grid(path, "评分表")
    for label, ref in layout.info_cells.items():
        assert rows_label(info, ref) == label
        expected = INFO[label]
        value = at(info, ref)
        if isinstance(expected, dt.date):
            assert value == expected
        elif isinstance(expected, int):
            assert value == float(expected)
        else:
            assert value == expected
    for line, ref in layout.data_cells.items():
        assert at(data, ref) == (DATA[line] if line in DATA else "")
        assert data[ref.row - 1][1] == float(line)
    for code, ref in layout.score_cells.items():
        entry = SCORES[code]
        score, note = entry if isinstance(entry, tuple) else (entry, "")
        assert at(scores, ref) == float(score)
        assert at(scores, layout.note_cells[code]) == note
    assert at(scores, layout.total_cell) == 98.0
    assert at(scores, layout.grade_cell) == "优"
    assert str(layout.data_cells[13]) == f"数据表!C{layout.data_cells[13].row}"


def rows_label(rows, ref):
    return rows[ref.row - 1][0]


def test_fixed_rows_and_columns_of_each_sheet(tmp_path):
    path = tmp_path / "a.xlsx"
    layout = write_workbook(path, **form())
    info, data, scores = grid(path, "基本信息"), grid(path, "数据表"), grid(path, "评分表")
    assert info[0][0] == "部门整体支出绩效自评 基本信息表"
    assert [r[0] for r in info[2:]] == [f.label for f in INFO_FIELDS]
    assert data[1][0] == "金额单位：元"
    assert tuple(data[2][:3]) == DATA_HEADER and layout.data_header_row == 3
    assert [r[0] for r in data[3:28]] == [d.label for d in DATA_LINES]
    assert [int(r[1]) for r in data[3:28]] == list(range(1, 26))
    assert tuple(scores[1][:7]) == SCORE_HEADER and layout.score_header_row == 2
    codes = [i["code"] for i in framework_rows(2024)]
    assert [r[0] for r in scores[2:2 + len(codes)]] == codes
    total_row, grade_row = scores[2 + len(codes)], scores[3 + len(codes)]
    assert total_row[0] == "合计" and total_row[4] == 100.0 and total_row[5] == 98.0
    assert grade_row[0] == "自评等级" and grade_row[5] == "优"


def test_level_names_are_merged_over_their_runs(tmp_path):
    path = tmp_path / "a.xlsx"
    layout = write_workbook(path, **form())
    ws = openpyxl.load_workbook(path)["评分表"]
    merged = {str(r) for r in ws.merged_cells.ranges}
    indicators = framework_rows(2024)
    first = layout.score_header_row + 1
    expected = {"A1:G1"}
    for col, key in (("B", lambda i: i["level1"]), ("C", lambda i: (i["level1"], i["level2"]))):
        start = 0
        for k in range(1, len(indicators) + 1):
            if k == len(indicators) or key(indicators[k]) != key(indicators[start]):
                if k - 1 > start:
                    expected.add(f"{col}{first + start}:{col}{first + k - 1}")
                start = k
    assert merged == expected
    assert layout.level1_merges == {"履职效能": f"B{first}:B{first + 2}",
                                    "管理效率": f"B{first + 3}:B{first + 11}"}
    assert ws[f"B{first}"].value == "履职效能" and ws[f"B{first + 1}"].value is None
    assert ws["A1"].value == "部门整体支出绩效自评 评分表"


def test_number_formats_and_real_dates(tmp_path):
    path = tmp_path / "a.xlsx"
    layout = write_workbook(path, **form())
    wb = openpyxl.load_workbook(path)
    amount = wb["数据表"][layout.data_cells[13].address]
    count = wb["数据表"][layout.data_cells[24].address]
    filed = wb["基本信息"][layout.info_cells["填报日期"].address]
    assert amount.number_format == "#,##0.00" and amount.value == pytest.approx(8374036.75)
    assert count.number_format == "0" and count.value == 1
    assert filed.is_date and filed.value.date() == dt.date(2025, 7, 28)
    assert wb["基本信息"][layout.info_cells["单位编码"].address].data_type == "s"


def test_faulty_values_are_written_as_given(tmp_path):
    path = tmp_path / "a.xlsx"
    values = {1: "8,374,036.75", 2: "８３７４０３６.７５元", 3: "-", 13: "见附表", 14: None}
    layout = write_workbook(path, **form(data={**DATA, **values}, scores={**SCORES, "A3": "abc"},
                                         grade="优秀"))
    data, scores = grid(path, "数据表"), grid(path, "评分表")
    for line, value in values.items():
        assert at(data, layout.data_cells[line]) == ("" if value is None else value)
    assert at(scores, layout.score_cells["A3"]) == "abc"
    assert at(scores, layout.grade_cell) == "优秀"
    cell = openpyxl.load_workbook(path)["数据表"][layout.data_cells[1].address]
    assert cell.data_type == "s"


def test_missing_sheet_renamed_sheets_extra_sheets(tmp_path):
    path = tmp_path / "a.xlsx"
    layout = write_workbook(path, **form(
        sheets=("评分表", "数据表"),
        sheet_name_overrides={"数据表": " 数据表 ", "评分表": "评分表\u3000"},
        extra_sheets={"Sheet1": [], "附表": [["项目", "金额"], ["培训", 1000]]}))
    names = CalamineWorkbook.from_path(str(path)).sheet_names
    assert names == ["评分表\u3000", " 数据表 ", "Sheet1", "附表"]
    assert layout.info_cells == {}
    assert layout.sheet_names == {"评分表": "评分表\u3000", "数据表": " 数据表 "}
    ref = layout.data_cells[13]
    assert ref.sheet == "数据表" and ref.sheet_name == " 数据表 "
    assert at(grid(path, " 数据表 "), ref) == 8374036.75


@pytest.mark.parametrize("extra", [1, 3])
def test_extra_title_rows_shift_header_and_references(tmp_path, extra):
    path = tmp_path / "a.xlsx"
    plain = form_layout(**form())
    layout = write_workbook(path, **form(extra_title_rows=extra))
    assert layout.data_header_row == plain.data_header_row + extra
    assert layout.score_header_row == plain.score_header_row + extra
    assert layout.data_cells[13].row == plain.data_cells[13].row + extra
    data = grid(path, "数据表")
    assert at(data, layout.data_cells[13]) == 8374036.75
    assert at(grid(path, "评分表"), layout.total_cell) == 98.0
    assert at(grid(path, "基本信息"), layout.info_cells["单位名称"]) == INFO["单位名称"]


def test_extra_title_rows_per_sheet(tmp_path):
    layout = form_layout(**form(extra_title_rows={"数据表": 2}))
    plain = form_layout(**form())
    assert layout.data_header_row == plain.data_header_row + 2
    assert layout.score_header_row == plain.score_header_row
    assert layout.info_cells == plain.info_cells


def test_wanyuan_mark_above_the_header(tmp_path):
    path = tmp_path / "a.xlsx"
    layout = write_workbook(path, **form(wanyuan=True, data={1: 1085.10, 24: 1}))
    data = grid(path, "数据表")
    assert layout.amount_unit_cell.row < layout.data_header_row
    assert at(data, layout.amount_unit_cell) == WANYUAN_MARK
    assert at(data, layout.data_cells[1]) == 1085.10


def test_label_and_max_overrides(tmp_path):
    path = tmp_path / "a.xlsx"
    layout = write_workbook(path, **form(data_label_overrides={13: "支出决算数（元）"},
                                         info_label_overrides={"单位名称": "单位名称："},
                                         max_overrides={"B6": 12}))
    assert grid(path, "数据表")[layout.data_cells[13].row - 1][0] == "支出决算数（元）"
    assert grid(path, "基本信息")[layout.info_cells["单位名称"].row - 1][0] == "单位名称："
    assert at(grid(path, "评分表"), layout.max_cells["B6"]) == 12.0


def test_same_arguments_same_bytes_and_a_change_shows(tmp_path):
    a, b, c = tmp_path / "a.xlsx", tmp_path / "b.xlsx", tmp_path / "c.xlsx"
    write_workbook(a, **form())
    write_workbook(b, **form())
    write_workbook(c, **form(data={**DATA, 13: 8374036.76}))
    assert a.read_bytes() == b.read_bytes()
    assert a.read_bytes() != c.read_bytes()
    created = openpyxl.load_workbook(a).properties.created
    assert created.date() == dt.date(2025, 7, 28)


def test_xls_has_the_same_layout(tmp_path):
    path = tmp_path / "a.xls"
    layout = write_xls_workbook(path, **form(data={**DATA, 3: "-"}))
    assert path.read_bytes()[:8] == bytes.fromhex("D0CF11E0A1B11AE1")
    data, scores, info = grid(path, "数据表"), grid(path, "评分表"), grid(path, "基本信息")
    assert layout == form_layout(**form(data={**DATA, 3: "-"}))
    assert at(data, layout.data_cells[13]) == pytest.approx(8374036.75)
    assert at(data, layout.data_cells[3]) == "-"
    assert at(scores, layout.score_cells["B6"]) == 9
    assert at(scores, layout.note_cells["B6"]) == "采购合同未在两个工作日内备案，扣1分"
    assert at(info, layout.info_cells["填报日期"]) == dt.date(2025, 7, 28)
    again = tmp_path / "b.xls"
    write_xls_workbook(again, **form(data={**DATA, 3: "-"}))
    assert again.read_bytes() == path.read_bytes()


def test_indicators_follow_the_framework_file():
    for year in (2022, 2023, 2024):
        rows = framework_rows(year)
        indicators = load_indicators(year)
        assert [(i.code, i.level3, i.max_score) for i in indicators] == [
            (r["code"], r["level3"], r["max"]) for r in rows]


def test_a_layout_needs_a_framework():
    with pytest.raises(ValueError):
        form_layout(info={"单位名称": "x"})
    with pytest.raises(ValueError):
        form_layout(**form(sheets=("数据表", "附表")))
