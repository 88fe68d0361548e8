"""Normalisation of what units type into cells (contract section 5)."""

from __future__ import annotations

import datetime as dt

import pytest

from pipeline.reading.normalise import (
    amount_in_yuan, label_key, parse_amount, parse_count, parse_date, parse_grade, parse_year, sheet_key,
)
from pipeline.reading.grid import cell_address, cell_text


@pytest.mark.parametrize("raw, expected", [
    ("8374036.75", (8374036.75, False)),
    ("8,374,036.75", (8374036.75, False)),
    ("８３７４０３６.７５", (8374036.75, False)),
    ("８３７４０３６.７５元", (8374036.75, False)),
    ("8374036.75元", (8374036.75, False)),
    (" 8 374 036.75 ", (8374036.75, False)),
    ("837.40万元", (837.40, True)),
    ("-", (0.0, False)), ("—", (0.0, False)), ("/", (0.0, False)), ("－", (0.0, False)),
    ("", (None, False)), (None, (None, False)), ("\u3000", (None, False)),
    ("-100", (-100.0, False)), ("(100.50)", (-100.5, False)),
    ("￥1,000", (1000.0, False)),
])
def test_parse_amount(raw, expected):
    assert parse_amount(raw) == expected


@pytest.mark.parametrize("raw", ["见附表", "abc", "1.2.3", "8374036.75美元", "十万"])
def test_text_that_is_not_an_amount_is_refused(raw):
    with pytest.raises(ValueError, match="不是数字"):
        parse_amount(raw)


def test_amount_in_yuan_scales_wanyuan_forms_and_cells():
    assert amount_in_yuan("837.40", form_in_wanyuan=True) == 8374000.0
    assert amount_in_yuan("837.40万元", form_in_wanyuan=False) == 8374000.0
    assert amount_in_yuan("0.01", form_in_wanyuan=True) == 100.0
    assert amount_in_yuan("8374036.75", form_in_wanyuan=False) == 8374036.75


@pytest.mark.parametrize("raw, expected", [("1", 1), ("1笔", 1), ("0", 0), ("-", 0), ("２", 2), ("3.0", 3)])
def test_parse_count(raw, expected):
    assert parse_count(raw) == expected


def test_count_must_be_whole():
    with pytest.raises(ValueError, match="整数"):
        parse_count("1.5")


@pytest.mark.parametrize("raw, expected", [
    ("2025-07-28", dt.date(2025, 7, 28)), ("2025/7/28", dt.date(2025, 7, 28)),
    ("2025年7月28日", dt.date(2025, 7, 28)), ("2025 年 7 月 28 日", dt.date(2025, 7, 28)),
    ("2025-07-28 00:00:00", dt.date(2025, 7, 28)), ("45866", dt.date(2025, 7, 28)),
    ("２０２５年７月２８日", dt.date(2025, 7, 28)), ("", None),
])
def test_parse_date(raw, expected):
    assert parse_date(raw) == expected


@pytest.mark.parametrize("raw", ["2025-02-30", "七月底", "2025年13月1日"])
def test_bad_dates_are_refused(raw):
    with pytest.raises(ValueError):
        parse_date(raw)


@pytest.mark.parametrize("raw, expected", [("2024", 2024), ("2024年", 2024), ("2024年度", 2024), ("２０２４", 2024)])
def test_parse_year(raw, expected):
    assert parse_year(raw) == expected


@pytest.mark.parametrize("raw, expected", [("优", "优"), ("优秀", "优"), (" 良 ", "良"), ("中", "中"), ("差", "差")])
def test_parse_grade(raw, expected):
    assert parse_grade(raw) == expected


def test_unknown_grade_is_refused():
    with pytest.raises(ValueError):
        parse_grade("A")


@pytest.mark.parametrize("raw, expected", [
    ("其中：一般公共预算财政拨款收入", "一般公共预算财政拨款收入"),
    ("其中:基本支出", "基本支出"),
    ("其 中： 基本支出", "基本支出"),
    ("追加预算笔数（笔）", "追加预算笔数"),
    ("金额(万元)", "金额"), ("金额（元）", "金额"),
    ("因公出国（境）费", "因公出国(境)费"),
    ("\u3000行\u00a0次 ", "行次"),
])
def test_label_key(raw, expected):
    assert label_key(raw) == expected


def test_sheet_names_compare_without_spaces_and_width():
    assert sheet_key(" 数据表 ") == sheet_key("数据表\u3000") == sheet_key("数据表")


@pytest.mark.parametrize("value, expected", [
    (8374036.75, "8374036.75"), (1000000.0, "1000000"), (0.1 + 0.2, "0.30000000000000004"),
    (dt.datetime(2025, 7, 28), "2025-07-28"), ("文字", "文字"), ("", None), (None, None), (True, "TRUE"),
])
def test_cell_text_keeps_numbers_exact(value, expected):
    assert cell_text(value) == expected


@pytest.mark.parametrize("row, col, ref", [(0, 0, "A1"), (13, 2, "C14"), (0, 25, "Z1"), (4, 26, "AA5")])
def test_cell_address(row, col, ref):
    assert cell_address(row, col) == ref
