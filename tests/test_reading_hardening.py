"""Reading is never a guess (contract section 8): every figure is read as the unit meant it,
or the file carries a finding that says why it could not be. Real workbooks on disk, the
real pipeline."""

from __future__ import annotations

import datetime as dt
import math
import os
import shutil
from pathlib import Path

import openpyxl
import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pipeline.checking.findings import ERROR, FATAL
from pipeline.reading.normalise import declared_unit as declared, parse_amount_stated
from pipeline.run import LOADED, QUARANTINED, SKIPPED, SUPERSEDED, process, run
from schemas.form import SHEET_DATA, SHEET_INFO, SHEET_SCORES
from tests.builders import REFERENCE_DATA, REFERENCE_UNIT, ROSTER, County, own_figures, reference_form, unit_form
from tests.datasheet import (
    BENIGN, MUTATIONS, UNKNOWN, comma_decimal, corrected_copy, declared_unit, duplicate_visible_row,
    error_value, hidden_old_column, hidden_stale_row, merged_value_cells, mutate, prior_year_column,
    reference_model, renumbered_rows, save_as_xls, write_model_workbook,
)

UNITS = [f"遂溪县测试单位{n:02d}" for n in range(1, 13)]
BIG_ROSTER = ROSTER + [(f"44082309{n:02d}", name, name, "事业单位") for n, name in enumerate(UNITS, 1)]


@pytest.fixture
def county(tmp_path: Path) -> County:
    return County(tmp_path / "raw", roster=list(BIG_ROSTER))


def findings_of(result, file: str, rule: str | None = None) -> list:
    return [f for s in result.submissions for f in s.findings
            if f.file == file and (rule is None or f.rule == rule)]


def state_of(result, file: str) -> str:
    return next(s.state for s in result.submissions if s.found.relative == file)


def published(result, unit: str, year: int = 2024) -> dict[int, float | None]:
    lines = result.tables["data_lines"].filter(unit_name=unit, year=year)
    return dict(zip(lines["line"].to_list(), lines["amount"].to_list()))


def same(a, b) -> bool:
    if a is None or b is None:
        return a is None and b is None
    if a is UNKNOWN or b is UNKNOWN:
        return False
    return math.isclose(float(a), float(b), abs_tol=0.005)


def assert_invariant(result, file: str, unit: str, meant: dict[int, object]) -> None:
    """Every published figure equals what the unit meant, or the unit-year carries an error or
    fatal finding at its 数据表."""
    sub = next(s for s in result.submissions if s.found.relative == file)
    if sub.state != LOADED:
        return  # nothing of it is published
    shown = published(result, unit)
    wrong = {line: (shown.get(line), meant.get(line)) for line in meant if not same(shown.get(line), meant.get(line))}
    if wrong:
        flagged = [f for f in sub.findings if f.severity in (ERROR, FATAL) and f.location.startswith(SHEET_DATA)]
        assert flagged, f"{file} {sub.parsed and sub.parsed.amount_scale}: published ≠ meant without a finding: {wrong}"


# ---------------------------------------------------------------- the mutation test

def test_each_benign_layout_is_read_exactly(county: County):
    files = {}
    for n, mutation in enumerate(BENIGN + (declared_unit,)):
        unit = UNITS[n]
        model = mutate(reference_model(own_figures(unit)), [mutation], seed=n)
        file = f"2024/m{n:02d}.xlsx"
        write_model_workbook(county.raw / file, unit_form(unit), model)
        files[file] = (unit, model)
    result = process(county.raw)
    for file, (unit, model) in files.items():
        sub = next(s for s in result.submissions if s.found.relative == file)
        assert sub.state == LOADED, (model.applied, [f.message for f in sub.findings if f.severity == FATAL])
        data_findings = [f for f in sub.findings if f.location.startswith(SHEET_DATA) and f.severity != "warning"]
        assert not data_findings, (model.applied, data_findings)
        shown = published(result, unit)
        assert all(same(shown[line], model.meant[line]) for line in model.meant), (model.applied, shown)


@pytest.mark.parametrize("mutation, rule", [
    (duplicate_visible_row, "data.line_repeated"),
    (merged_value_cells, "data.merged_value"),
    (comma_decimal, "data.digit_grouping"),
    (renumbered_rows, "data.line_shifted"),
    (error_value, "data.formula_error"),
])
def test_each_harmful_layout_is_named(county: County, mutation, rule):
    model = mutate(reference_model(REFERENCE_DATA), [mutation], seed=3)
    write_model_workbook(county.raw / "2024/x.xlsx", reference_form(), model)
    result = process(county.raw)
    found = findings_of(result, "2024/x.xlsx", rule)
    assert found and all(f.location.startswith(SHEET_DATA) for f in found), model.applied
    assert_invariant(result, "2024/x.xlsx", REFERENCE_UNIT, model.meant)
    if rule == "data.formula_error":
        assert any("公式出错：#" in f.message for f in found)
    if rule == "data.line_repeated":
        assert len(found) == 2 and len({f.location for f in found}) == 2  # both cells, no winner


@pytest.mark.parametrize("mutation", [hidden_stale_row, hidden_old_column])
def test_a_hidden_stale_line_in_an_xls_is_not_read_over_the_visible_one(county: County, tmp_path: Path, mutation):
    model = mutate(reference_model(REFERENCE_DATA), [mutation], seed=5)
    source = write_model_workbook(tmp_path / "x.xlsx", reference_form(), model)
    save_as_xls(source, county.raw / "2024/x.xls")
    result = process(county.raw)
    sub = next(s for s in result.submissions if s.found.relative == "2024/x.xls")
    assert sub.state == LOADED, [f.message for f in sub.findings]
    shown = published(result, REFERENCE_UNIT)
    assert all(same(shown[line], model.meant[line]) for line in model.meant), (model.applied, shown)


def test_an_error_value_in_an_xls_is_named_not_read_as_blank(county: County, tmp_path: Path):
    model = mutate(reference_model(REFERENCE_DATA), [error_value], seed=3)
    source = write_model_workbook(tmp_path / "x.xlsx", reference_form(), model)
    save_as_xls(source, county.raw / "2024/x.xls")
    result = process(county.raw)
    found = findings_of(result, "2024/x.xls", "data.formula_error")
    assert found and all(f.location.startswith(SHEET_DATA) for f in found)
    assert any("公式出错：#" in f.message for f in found)
    assert_invariant(result, "2024/x.xls", REFERENCE_UNIT, model.meant)


def test_amount_columns_prior_year_and_copies(county: County):
    """上年数 beside the year's column, and a corrected copy of the sheet, for every naming."""
    cases = {}
    for n, seed in enumerate(range(8)):
        unit = UNITS[n]
        mutation = prior_year_column if n < 4 else corrected_copy
        model = mutate(reference_model(own_figures(unit)), [mutation], seed=seed)
        file = f"2024/c{n}.xlsx"
        write_model_workbook(county.raw / file, unit_form(unit), model)
        cases[file] = (unit, model)
    result = process(county.raw)
    outcomes = set()
    for file, (unit, model) in cases.items():
        assert_invariant(result, file, unit, model.meant)
        rules = {f.rule for f in findings_of(result, file) if f.severity == FATAL}
        outcomes.add((state_of(result, file), frozenset(rules)))
    # both outcomes occur: the year's column or sheet is read when named, the file is fatal when not
    assert (LOADED, frozenset()) in outcomes
    assert any(state == QUARANTINED and rules & {"data.columns_ambiguous", "sheet.ambiguous"}
               for state, rules in outcomes)


@settings(max_examples=6, deadline=None, suppress_health_check=list(HealthCheck))
@given(st.lists(st.lists(st.sampled_from(MUTATIONS), min_size=1, max_size=4), min_size=10, max_size=10),
       st.integers(0, 10_000))
@pytest.mark.slow
def test_any_mutated_workbook_publishes_what_was_meant_or_says_why(tmp_path_factory, plans, seed):
    county = County(tmp_path_factory.mktemp("county") / "raw", roster=list(BIG_ROSTER))
    cases = {}
    for n, plan in enumerate(plans):
        unit = UNITS[n]
        base = {**own_figures(unit), 21: 100000.0, 22: 100000.0, 23: 56929.66} if n % 2 else own_figures(unit)
        model = mutate(reference_model(base), plan, seed=seed + n)
        file = f"2024/p{n:02d}.xlsx"
        write_model_workbook(county.raw / file, unit_form(unit), model)
        cases[file] = (unit, model)
    result = process(county.raw)
    for file, (unit, model) in cases.items():
        assert_invariant(result, file, unit, model.meant)


# ---------------------------------------------------------------- cells and declarations

@pytest.mark.parametrize("text, factor", [
    ("金额单位：万元", 10_000), ("单位：万元", 10_000), ("（万元）", 10_000), ("金额（万元）", 10_000),
    ("金额单位：千元", 1_000), ("金额单位：元", 1), ("本年数(万元)", 10_000),
    ("注：10万元以上的项目须附说明", None), ("50万元", None), ("项目", None), ("单位：万元以上的项目", None),
])
def test_only_a_declaration_declares_a_unit(text, factor):
    assert declared(text) == factor


@pytest.mark.parametrize("raw, value", [
    ("8,397,200.18", 8397200.18), ("250,000", 250000.0), ("1,000元", 1000.0), ("12.5万元", 12.5),
])
def test_digit_groups_of_three_are_read(raw, value):
    assert parse_amount_stated(raw)[0] == value


def _outcome(parse, raw):
    try:
        return parse(raw)
    except ValueError as exc:
        return type(exc), str(exc)


@settings(max_examples=300, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.text(alphabet="0123456789.+-,  \n\u3000１２．元万", max_size=12))
def test_a_plain_number_is_read_as_the_full_path_reads_it(raw):
    """An ASCII number is read without squashing it first; a full-width space added at the end takes
    the full path (squash drops it), and both must come to the same value or the same refusal."""
    assert _outcome(parse_amount_stated, raw) == _outcome(parse_amount_stated, raw + "\u3000")


@pytest.mark.parametrize("raw", ["250000,00", "8,397,200,18", "1,00", "12,3456.7"])
def test_a_comma_that_is_not_a_thousands_separator_is_refused(raw):
    with pytest.raises(ValueError, match="千分位"):
        parse_amount_stated(raw)


def _edit(path: Path, edit) -> Path:
    book = openpyxl.load_workbook(path)
    edit(book)
    book.save(path)
    return path


def _replace_text(ws, old: str, new) -> None:
    for row in ws.iter_rows():
        for cell in row:
            if cell.value == old:
                cell.value = new
                return
    raise AssertionError(f"{old} not in {ws.title}")


def test_conflicting_unit_declarations_are_fatal(county: County):
    path = county.workbook("两种单位.xlsx", reference_form())
    _edit(path, lambda b: _replace_text(b[SHEET_DATA], "金额", "金额（万元）"))
    result = process(county.raw)
    [conflict] = findings_of(result, "2024/两种单位.xlsx", "data.unit_conflict")
    assert conflict.severity == FATAL and "万元" in conflict.found and "元" in conflict.found


def test_decorated_labels_are_the_same_labels(county: County):
    path = county.workbook("装饰.xlsx", reference_form())

    def edit(book):
        _replace_text(book[SHEET_INFO], "单位名称", "单位名称：")
        _replace_text(book[SHEET_INFO], "评价年度", "评价年度:")
        _replace_text(book[SHEET_SCORES], "分值", "分值（分）")
        _replace_text(book[SHEET_SCORES], "自评得分", "自评得分（分）")
        _replace_text(book[SHEET_SCORES], "合计", "总计")
    _edit(path, edit)
    result = process(county.raw)
    assert state_of(result, "2024/装饰.xlsx") == LOADED
    scores = result.tables["unit_scores"].filter(unit_name=REFERENCE_UNIT)
    assert scores["self_score"].to_list() == [98] and scores["review_score"].to_list() == [97.97]
    assert not [f for f in findings_of(result, "2024/装饰.xlsx") if f.rule.startswith("scores.")]


def test_a_missing_sheet_is_one_finding_with_advice(county: County):
    path = county.workbook("缺数据表.xlsx", reference_form())
    _edit(path, lambda b: b.remove(b[SHEET_DATA]))
    result = process(county.raw)
    fatal = [f for f in findings_of(result, "2024/缺数据表.xlsx") if f.severity in (FATAL, ERROR)]
    assert [f.rule for f in fatal] == ["sheet.missing"]
    assert "模板" in fatal[0].message


def test_a_hidden_old_sheet_does_not_compete(county: County):
    path = county.workbook("旧表.xlsx", reference_form())

    def edit(book):
        old = book.copy_worksheet(book[SHEET_DATA])
        old.title = "数据表 (2)"
        old.sheet_state = "hidden"
    _edit(path, edit)
    result = process(county.raw)
    assert state_of(result, "2024/旧表.xlsx") == LOADED


def test_formatted_empty_cells_far_out_are_not_size(county: County):
    path = county.workbook("格式.xlsx", reference_form())

    def edit(book):
        for row in range(1, 40):
            book[SHEET_DATA].cell(row=row, column=286).number_format = "0.00"
        book[SHEET_DATA].cell(row=9000, column=3).number_format = "0.00"
    _edit(path, edit)
    result = process(county.raw)
    assert state_of(result, "2024/格式.xlsx") == LOADED


def test_out_of_range_integers_are_a_finding_at_the_cell(county: County):
    county.workbook("电话.xlsx", reference_form(info={"在职人数": "13800138000", "编制数": "12345678901234567890"}))
    result = process(county.raw)
    found = {f.location: f for f in findings_of(result, "2024/电话.xlsx") if f.rule.startswith("info.")}
    assert any("13800138000" == (f.found or "") for f in found.values())
    assert any("12345678901234567890" == (f.found or "") for f in found.values())
    assert all(loc.startswith(f"{SHEET_INFO}!B") for loc in found)
    assert state_of(result, "2024/电话.xlsx") == LOADED


# ---------------------------------------------------------------- file types

def test_format_is_read_from_content(county: County):
    county.workbook("改名.xls", unit_form(UNITS[0]))          # an .xlsx under an .xls name
    county.workbook("旧版.xls", unit_form(UNITS[1]), xls=True)
    et = county.workbook("tmp.xls", unit_form(UNITS[2]), xls=True)
    et.rename(county.raw / "2024" / f"{UNITS[2]}.et")   # WPS .et in its compound-file form
    county.file(f"{UNITS[3]}自评表.et", b"WPS private format, not a compound file")
    result = process(county.raw)
    assert state_of(result, "2024/改名.xls") == LOADED
    assert state_of(result, "2024/旧版.xls") == LOADED
    et = next(s for s in result.submissions if s.found.relative == f"2024/{UNITS[2]}.et")
    assert et.state == LOADED and et.unit_name == UNITS[2]
    [bad] = findings_of(result, f"2024/{UNITS[3]}自评表.et")
    assert bad.rule == "file.not_supported" and "另存为" in bad.message and bad.unit_name == UNITS[3]


@pytest.mark.parametrize("content", [b"PK\x03\x04broken", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 600,
                                     b"plain text"])
def test_unreadable_messages_speak_to_people(county: County, content):
    county.file("坏.xlsx", content)
    result = process(county.raw)
    [finding] = findings_of(result, "2024/坏.xlsx")
    for word in ("Error", "Zip", "Cfb", "OLE", "calamine", "overflow", "signature"):
        assert word.lower() not in finding.message.lower()
    assert "重新" in finding.message or "另存为" in finding.message


# ---------------------------------------------------------------- files, names, versions

def test_files_in_every_place_are_accounted_for(county: County):
    county.workbook("正常.xlsx", unit_form(UNITS[0]))
    path = county.raw / "2024年" / "带年字.xlsx"
    path.parent.mkdir()
    shutil.copy(county.workbook("tmp.xlsx", unit_form(UNITS[1]), year=2099), path)
    shutil.rmtree(county.raw / "2099")
    shutil.copy(path, county.raw / f"{UNITS[2]}.xlsx")
    (county.raw / "材料").mkdir()
    shutil.copy(path, county.raw / "材料" / "放错.xlsx")
    result = process(county.raw)
    assert state_of(result, "2024年/带年字.xlsx") == LOADED
    assert result.tables["unit_scores"].filter(unit_name=UNITS[1])["year"].to_list() == [2024]
    for file in (f"{UNITS[2]}.xlsx", "材料/放错.xlsx"):
        assert state_of(result, file) == SKIPPED
        [finding] = findings_of(result, file, "file.misplaced")
        assert file in finding.message
    assert next(s for s in result.submissions if s.found.relative == f"{UNITS[2]}.xlsx").unit_name == UNITS[2]


def test_gbk_file_name_is_read_and_shown(county: County, tmp_path: Path):
    county.workbook("x.xlsx", unit_form(UNITS[0]))
    folder = os.fsencode(county.raw / "2024")
    os.rename(os.path.join(folder, b"x.xlsx"), os.path.join(folder, f"{UNITS[0]}.xlsx".encode("gbk")))
    result = run(county.raw, tmp_path / "w.duckdb", progress=False)
    assert state_of(result, f"2024/{UNITS[0]}.xlsx") == LOADED


def test_names_match_after_invisible_characters_and_by_code(county: County):
    county.workbook("零宽.xlsx", unit_form(UNITS[0], info={"单位名称": UNITS[0][:3] + "\u200b" + UNITS[0][3:] + "\ufeff"}))
    county.workbook("简称.xlsx", unit_form(UNITS[1], info={"单位名称": UNITS[1].removeprefix("遂溪县"),
                                                           "单位编码": BIG_ROSTER[6][0]}))
    county.workbook("错名.xlsx", unit_form(UNITS[2], info={"单位名称": UNITS[2] + "x"}))
    result = process(county.raw)
    status = {r["unit_name"]: r for r in result.tables["submission_status"].iter_rows(named=True)}
    assert status[UNITS[0]]["loaded"] and status[UNITS[1]]["loaded"]
    [differs] = findings_of(result, "2024/简称.xlsx", "roster.name_differs")
    assert differs.severity == "warning" and differs.expected == UNITS[1]
    [unknown] = findings_of(result, "2024/错名.xlsx", "roster.unknown_unit")
    assert unknown.severity == ERROR and UNITS[2] in unknown.message  # the near miss is named
    unranked = result.tables["unit_scores"].filter(pl.col("rank").is_null())["unit_name"].to_list()
    assert unranked == [UNITS[2] + "x"]


def test_a_copied_workbook_does_not_supersede_the_real_one(county: County):
    county.workbook(f"{UNITS[0]}.xlsx", unit_form(UNITS[0], info={"填报日期": dt.date(2025, 7, 1)}))
    county.workbook(f"{UNITS[1]}.xlsx", unit_form(UNITS[0], info={"填报日期": dt.date(2025, 7, 20)}))
    result = process(county.raw)
    assert state_of(result, f"2024/{UNITS[0]}.xlsx") == LOADED
    assert state_of(result, f"2024/{UNITS[1]}.xlsx") == SUPERSEDED
    copied = [f for s in result.submissions for f in s.findings if f.rule == "file.copied"]
    assert {f.unit_name for f in copied} == {UNITS[0], UNITS[1]}
    assert all("疑似复制了其他单位的报表" in f.message for f in copied)
    status = {r["unit_name"]: r for r in result.tables["submission_status"].iter_rows(named=True)}
    assert status[UNITS[1]]["must_resubmit"]


def test_tie_on_filing_date_is_a_warning_naming_both(county: County):
    a = county.workbook("甲.xlsx", unit_form(UNITS[0]))
    b = county.workbook("乙.xlsx", unit_form(UNITS[0], scores={"B6": (8, "扣2分")}, total=97))
    os.utime(a, (1_700_000_000, 1_700_000_000))
    os.utime(b, (1_700_000_100, 1_700_000_100))
    result = process(county.raw)
    assert state_of(result, "2024/乙.xlsx") == LOADED and state_of(result, "2024/甲.xlsx") == SUPERSEDED
    [tie] = findings_of(result, "2024/乙.xlsx", "file.same_date")
    assert "甲.xlsx" in tie.message and "乙.xlsx" in tie.message and tie.severity == "warning"


def test_a_quarantined_resubmission_is_answered(county: County):
    county.workbook("第一版.xlsx", unit_form(UNITS[0], info={"填报日期": dt.date(2025, 7, 1)}))
    county.workbook("第二版.xlsx", unit_form(UNITS[0], info={"填报日期": dt.date(2025, 7, 20)},
                                             data={13: "见附表"}))
    result = process(county.raw)
    assert state_of(result, "2024/第二版.xlsx") == QUARANTINED
    status = result.tables["submission_status"].filter(unit_name=UNITS[0], year=2024)
    assert status["loaded"].to_list() == [True] and status["must_resubmit"].to_list() == [True]


def test_roster_with_a_repeated_code_is_refused(county: County):
    county.roster.append(("440823001", "遂溪县重复编码局", "遂溪县重复编码局", "行政单位"))
    county.write_roster()
    county.workbook("a.xlsx", reference_form())
    from pipeline.run import RunError
    with pytest.raises(RunError, match="单位编码重复 440823001"):
        process(county.raw)


# ---------------------------------------------------------------- isolation

def test_a_failure_in_one_file_is_a_finding_and_the_run_publishes(county: County, tmp_path: Path, monkeypatch):
    from pipeline.checking import rules
    from pipeline.reading import staging

    for n, unit in enumerate(UNITS[:6]):
        county.workbook(f"u{n}.xlsx", unit_form(unit))
    real_stage, real_identity = staging.stage_data, rules.identity_findings

    def failing_stage(sheet, year=None):
        if any("失败一" in str(v) for row in sheet.rows for v in row):
            raise KeyError("injected")
        return real_stage(sheet, year)

    def failing_identity(parsed):
        if parsed.unit_name == UNITS[4]:
            raise ZeroDivisionError("injected")
        return real_identity(parsed)

    county.workbook("u3.xlsx", unit_form(UNITS[3], data={7: -709.57, 4: 8396490.61, 16: 28492.0}))
    path = county.workbook("u1.xlsx", unit_form(UNITS[1]))
    _edit(path, lambda b: b[SHEET_DATA].cell(row=1, column=5, value="失败一"))
    from pipeline.checking import validate

    real_validate = validate.validate_batch

    def failing_validate(batch):
        if any(p.unit_name == UNITS[5] for p in batch):
            raise RuntimeError("injected")
        return real_validate(batch)

    monkeypatch.setattr(staging, "stage_data", failing_stage)
    monkeypatch.setattr(rules, "identity_findings", failing_identity)
    monkeypatch.setattr(validate, "validate_batch", failing_validate)
    result = run(county.raw, tmp_path / "w.duckdb", progress=False, use_cache=False)
    for file in ("2024/u1.xlsx", "2024/u4.xlsx", "2024/u5.xlsx"):
        assert state_of(result, file) == QUARANTINED
        [finding] = [f for f in findings_of(result, file) if f.severity == FATAL]
        assert finding.rule == "file.internal_error" and "出错" in finding.message
    loaded = sorted(result.tables["unit_scores"]["unit_name"].to_list())
    assert loaded == sorted(UNITS[n] for n in (0, 2, 3))
    # the others were still validated, one by one: u3's negative amount is caught
    [negative] = findings_of(result, "2024/u3.xlsx", "data.negative")
    assert negative.severity == ERROR
    assert (tmp_path / "w.duckdb").exists()


def test_a_value_left_under_a_merge_is_not_read(county: County):
    """The file may still hold a value in a merged cell that Excel shows empty."""
    import xlsxwriter

    from pipeline.forms.writer import plan_form, render_xlsx

    path = county.raw / "2024" / "合并.xlsx"
    path.parent.mkdir(parents=True, exist_ok=True)
    plan = plan_form(**reference_form())
    book = xlsxwriter.Workbook(str(path))
    sheets = render_xlsx(book, plan)
    top, below = plan.layout.data_cells[14], plan.layout.data_cells[15]
    sheets[plan.layout.sheet_names[SHEET_DATA]].merge_range(top.row - 1, top.col, below.row - 1, below.col,
                                                             REFERENCE_DATA[14])
    book.close()
    result = process(county.raw)
    [missing] = findings_of(result, "2024/合并.xlsx", "data.merged_value")
    assert missing.location == f"{SHEET_DATA}!{below.address}"
    assert f"合并单元格{top.address}:{below.address}" in missing.message and missing.severity == FATAL
    assert state_of(result, "2024/合并.xlsx") == QUARANTINED


@pytest.mark.slow
@pytest.mark.skipif(shutil.which("soffice") is None, reason="LibreOffice (soffice) is not installed")
def test_a_libreoffice_ods_workbook_is_read(county: County, tmp_path: Path):
    import subprocess

    source = county.workbook("转换.xlsx", unit_form(UNITS[0]), year=2099)
    subprocess.run(["soffice", "--headless", f"-env:UserInstallation=file://{tmp_path}/lo", "--convert-to", "ods",
                    "--outdir", str(county.raw / "2024"), str(source)], check=True, capture_output=True, timeout=300)
    shutil.rmtree(county.raw / "2099")
    result = process(county.raw)
    assert state_of(result, "2024/转换.ods") == LOADED
    assert published(result, UNITS[0])[13] == REFERENCE_DATA[13]
