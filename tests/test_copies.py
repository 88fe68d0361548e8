"""Copied workbooks by content (contract section 8): loaded workbooks of one year that count
for different roster units but carry the same 数据表 figures are a suspected copy, an error for
each unit naming the other; a unit's own unchanged resubmission, a superseded version, a nearly
empty template or one differing cell are not."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import duckdb

from pipeline.run import LOADED, SAME_FIGURES_MIN_LINES, SUPERSEDED, process, run
from tests.builders import REFERENCE_DATA, REFERENCE_UNIT, County, reference_form, unit_form

FINANCE, EDUCATION, SCHOOL = "遂溪县财政局", "遂溪县教育局", "遂溪县第一中学"


def copied(result, file: str) -> list:
    sub = next(s for s in result.submissions if s.found.relative == file)
    return [f for f in sub.findings if f.rule == "file.copied"]


def state_of(result, file: str) -> str:
    return next(s.state for s in result.submissions if s.found.relative == file)


def test_two_units_with_the_same_figures_are_both_flagged_naming_each_other(county: County, tmp_path: Path):
    county.workbook("ref.xlsx", reference_form())
    county.workbook("cz.xlsx", unit_form(FINANCE, data=dict(REFERENCE_DATA)))
    county.workbook("jy.xlsx", unit_form(EDUCATION))  # its own figures
    db, ledger = tmp_path / "wh" / "performance.duckdb", tmp_path / "ledger" / "bureau.sqlite"
    result = run(county.raw, db, progress=False, ledger=ledger)

    # neither supersedes the other: each still counts for its own unit
    assert state_of(result, "2024/ref.xlsx") == state_of(result, "2024/cz.xlsx") == LOADED
    [ref] = copied(result, "2024/ref.xlsx")
    [cz] = copied(result, "2024/cz.xlsx")
    assert copied(result, "2024/jy.xlsx") == []
    for own, unit, other_unit, other_file in ((ref, REFERENCE_UNIT, FINANCE, "2024/cz.xlsx"),
                                              (cz, FINANCE, REFERENCE_UNIT, "2024/ref.xlsx")):
        assert (own.unit_name, own.year, own.severity) == (unit, 2024, "error")
        assert f"{other_unit}（{other_file}）" in own.message and "疑似复制了其他单位的报表" in own.message
        assert own.expected == other_file
        assert re.fullmatch(r"数据表!C\d+:C\d+", own.location) and own.location in own.message
        # the largest amount as the example: 行次1 年初收入预算数
        assert own.found == "10,850,997.08" and "行次1“年初收入预算数”10,850,997.08元" in own.message
        assert "19个行次非零" in own.message

    with duckdb.connect(str(db), read_only=True) as con:
        rows = con.execute("SELECT unit_name, file FROM findings WHERE rule = 'file.copied' ORDER BY 1").fetchall()
        status = dict(con.execute("SELECT unit_name, must_resubmit FROM submission_status "
                                  "WHERE year = 2024").fetchall())
    assert rows == sorted([(REFERENCE_UNIT, "2024/ref.xlsx"), (FINANCE, "2024/cz.xlsx")])
    assert status[REFERENCE_UNIT] and status[FINANCE] and not status[EDUCATION]


def test_three_units_with_the_same_figures_each_name_the_other_two(county: County):
    for name, unit in (("a.xlsx", FINANCE), ("b.xlsx", EDUCATION), ("c.xlsx", SCHOOL)):
        county.workbook(name, unit_form(unit, data=dict(REFERENCE_DATA)))
    result = process(county.raw)
    [a] = copied(result, "2024/a.xlsx")
    assert a.expected == "2024/b.xlsx、2024/c.xlsx"
    assert f"{EDUCATION}（2024/b.xlsx）、{SCHOOL}（2024/c.xlsx）" in a.message
    [c] = copied(result, "2024/c.xlsx")
    assert FINANCE in c.message and EDUCATION in c.message and SCHOOL not in c.message


def test_a_units_resubmission_with_unchanged_figures_is_not_a_copy(county: County):
    county.workbook("cz-v1.xlsx", unit_form(FINANCE, info={"填报日期": dt.date(2025, 7, 1)}))
    county.workbook("cz-v2.xlsx", unit_form(FINANCE, scores={"B1": 1}, total=97))
    # the same figures for another year of another unit are not compared either
    county.workbook("jy-2023.xlsx", unit_form(EDUCATION, year=2023, data=unit_form(FINANCE)["data"]), year=2023)
    result = process(county.raw)
    assert state_of(result, "2024/cz-v1.xlsx") == SUPERSEDED and state_of(result, "2024/cz-v2.xlsx") == LOADED
    assert not [f for s in result.submissions for f in s.findings if f.rule == "file.copied"]


def test_a_superseded_version_is_not_compared(county: County):
    """A unit whose first version had another unit's figures and whose newer one has its own."""
    county.workbook("ref.xlsx", reference_form())
    county.workbook("cz-v1.xlsx", unit_form(FINANCE, data=dict(REFERENCE_DATA), info={"填报日期": dt.date(2025, 7, 1)}))
    county.workbook("cz-v2.xlsx", unit_form(FINANCE))
    result = process(county.raw)
    assert state_of(result, "2024/cz-v1.xlsx") == SUPERSEDED
    assert not [f for s in result.submissions for f in s.findings if f.rule == "file.copied"]


def flat(amount: float, extra: dict[int, float] | None = None) -> dict[int, float]:
    """A small unit's 数据表: one allocation received and spent in full, the rest 0."""
    filled = dict.fromkeys((1, 2, 4, 5, 9, 10, 12, 13, 14), amount)
    return {**dict.fromkeys(REFERENCE_DATA, 0.0), **filled, **(extra or {})}


def test_nearly_empty_templates_are_not_copies(county: County):
    assert SAME_FIGURES_MIN_LINES == 10  # the flat table below has 9 non-zero amounts, one short
    county.workbook("zero-a.xlsx", unit_form(FINANCE, data=dict.fromkeys(REFERENCE_DATA, 0.0)))
    county.workbook("zero-b.xlsx", unit_form(EDUCATION, data=dict.fromkeys(REFERENCE_DATA, 0.0)))
    county.workbook("flat-a.xlsx", unit_form(SCHOOL, data=flat(500_000.0)))
    county.workbook("flat-b.xlsx", unit_form(REFERENCE_UNIT, data=flat(500_000.0)))
    result = process(county.raw)
    assert all(state_of(result, f"2024/{n}.xlsx") == LOADED for n in ("zero-a", "zero-b", "flat-a", "flat-b"))
    assert not [f for s in result.submissions for f in s.findings if f.rule == "file.copied"]


def test_the_tenth_equal_non_zero_amount_makes_a_copy(county: County):
    """The other side of the threshold: the flat tables above with 公用经费预算数 as well."""
    county.workbook("flat-a.xlsx", unit_form(SCHOOL, data=flat(500_000.0, {17: 40_000.0})))
    county.workbook("flat-b.xlsx", unit_form(REFERENCE_UNIT, data=flat(500_000.0, {17: 40_000.0})))
    result = process(county.raw)
    [a] = copied(result, "2024/flat-a.xlsx")
    assert REFERENCE_UNIT in a.message and "10个行次非零" in a.message
    assert len(copied(result, "2024/flat-b.xlsx")) == 1


def test_one_differing_cell_is_not_a_copy(county: County):
    county.workbook("ref.xlsx", reference_form())
    county.workbook("cz.xlsx", unit_form(FINANCE, data={**REFERENCE_DATA, 7: REFERENCE_DATA[7] + 0.01}))  # 1 分
    county.workbook("jy.xlsx", unit_form(EDUCATION, data={**REFERENCE_DATA, 21: 0.0}))  # blank there, 0 here
    result = process(county.raw)
    assert not [f for s in result.submissions for f in s.findings if f.rule == "file.copied"]
    assert state_of(result, "2024/cz.xlsx") == state_of(result, "2024/jy.xlsx") == LOADED


def test_a_unit_not_on_the_roster_is_not_compared(county: County):
    """A typo'd name is roster.unknown_unit already; on a unit's own figures it is that unit's
    resubmission, not a copy of it."""
    county.workbook("ref.xlsx", reference_form())
    county.workbook("typo.xlsx", reference_form(info={"单位名称": "遂溪县人民政府办公厅"}))
    result = process(county.raw)
    assert not [f for s in result.submissions for f in s.findings if f.rule == "file.copied"]
    assert any(f.rule == "roster.unknown_unit" for f in result.submissions[1].findings)
