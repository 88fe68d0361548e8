"""Ingest: every kind of submission ends in the state the contract gives it, and every
finding names the cell and the value found."""

from __future__ import annotations

import datetime as dt

import pytest

from pipeline.run import LOADED, QUARANTINED, SKIPPED, SUPERSEDED
from tests.builders import REFERENCE_DATA, REFERENCE_UNIT, County, reference_form, unit_form
from tests.conftest import processed


def state_of(result, relative: str) -> str:
    return next(s.state for s in result.submissions if s.found.relative == relative)


def findings_of(result, relative: str, rule: str | None = None):
    return [f for s in result.submissions if s.found.relative == relative for f in s.findings
            if rule is None or f.rule == rule]


def test_reference_unit_loads_with_exact_figures(county: County):
    county.workbook("ref.xlsx", reference_form())
    result = processed(county.raw)
    assert state_of(result, "2024/ref.xlsx") == LOADED
    lines = result.tables["data_lines"].filter(unit_name=REFERENCE_UNIT)
    amounts = dict(zip(lines["line"].to_list(), lines["amount"].to_list()))
    for line, value in REFERENCE_DATA.items():
        assert amounts[line] == pytest.approx(value, abs=1e-9), line
    assert amounts[21] is None and amounts[22] is None and amounts[23] is None
    errors = [f for f in findings_of(result, "2024/ref.xlsx") if f.severity != "warning"]
    assert errors == []
    cells = dict(zip(lines["line"].to_list(), lines["source_cell"].to_list()))
    assert cells[13].startswith("数据表!C")


def test_corrupt_file_is_quarantined_with_a_fatal_finding(county: County):
    county.file("坏文件.xlsx", b"this is not a zip file at all")
    result = processed(county.raw)
    assert state_of(result, "2024/坏文件.xlsx") == QUARANTINED
    [finding] = findings_of(result, "2024/坏文件.xlsx")
    assert finding.severity == "fatal" and finding.rule == "file.unreadable"
    assert "坏文件.xlsx" in finding.message


def test_missing_sheet_is_quarantined(county: County):
    county.workbook("缺表.xlsx", reference_form(sheets=("基本信息", "评分表")))
    result = processed(county.raw)
    assert state_of(result, "2024/缺表.xlsx") == QUARANTINED
    [finding] = findings_of(result, "2024/缺表.xlsx", "sheet.missing")
    assert finding.expected == "数据表" and "数据表" in finding.message


def test_text_in_a_required_amount_names_sheet_cell_and_value(county: County):
    county.workbook("text.xlsx", reference_form(data={13: "见附表", 17: "abc"}))
    result = processed(county.raw)
    assert state_of(result, "2024/text.xlsx") == QUARANTINED
    found = {f.location: f for f in findings_of(result, "2024/text.xlsx", "data.not_a_number")}
    # both bad cells are reported, not only the first
    assert set(found) == {"数据表!C16", "数据表!C20"}
    assert found["数据表!C16"].found == "见附表" and found["数据表!C16"].severity == "fatal"
    assert "数据表!C16" in found["数据表!C16"].message and "见附表" in found["数据表!C16"].message


def test_missing_unit_name_is_quarantined(county: County):
    county.workbook("无名.xlsx", reference_form(info={"单位名称": None}))
    result = processed(county.raw)
    assert state_of(result, "2024/无名.xlsx") == QUARANTINED
    assert findings_of(result, "2024/无名.xlsx", "info.unit_name_missing")


@pytest.mark.parametrize("line, delta, rule", [
    (1, 100.0, "identity.r1"), (4, -0.02, "identity.r4"), (9, 5.0, "identity.r9"),
    (13, 0.5, "identity.r13"), (16, 1.0, "identity.r16"),
])
def test_broken_identity_is_an_error_at_its_cell(county: County, line, delta, rule):
    data = dict(REFERENCE_DATA)
    data[line] = round(data[line] + delta, 2)
    if line == 1:
        data[9] = data[1]  # keep the opening budget balanced so only the identity fails
    county.workbook("id.xlsx", reference_form(data=data))
    result = processed(county.raw)
    assert state_of(result, "2024/id.xlsx") == LOADED
    [finding] = findings_of(result, "2024/id.xlsx", rule)
    assert finding.severity == "error"
    assert finding.location == f"数据表!C{line + 3}"
    assert finding.found == f"{data[line]:,.2f}"


def test_identity_within_one_fen_passes(county: County):
    data = dict(REFERENCE_DATA)
    data[13] = round(data[13] + 0.01, 2)
    county.workbook("fen.xlsx", reference_form(data=data))
    result = processed(county.raw)
    assert findings_of(result, "2024/fen.xlsx", "identity.r13") == []


def test_sangong_breakdown_must_add_up_when_given(county: County):
    county.workbook("sg.xlsx", reference_form(data={21: 0, 22: 200000.00, 23: 50000.00}))
    result = processed(county.raw)
    [finding] = findings_of(result, "2024/sg.xlsx", "identity.r20")
    assert finding.expected == "250,000.00" and finding.found == "256,929.66"


def test_unbalanced_opening_budget_is_a_warning(county: County):
    data = dict(REFERENCE_DATA)
    data[9], data[10] = data[9] - 1000, data[10] - 1000
    county.workbook("ub.xlsx", reference_form(data=data))
    [finding] = findings_of(processed(county.raw), "2024/ub.xlsx", "budget.unbalanced")
    assert finding.severity == "warning"


def test_negative_amount_is_an_error(county: County):
    data = dict(REFERENCE_DATA)
    data[6], data[7] = -100.0, 809.57
    county.workbook("neg.xlsx", reference_form(data=data))
    result = processed(county.raw)
    assert state_of(result, "2024/neg.xlsx") == LOADED
    [finding] = findings_of(result, "2024/neg.xlsx", "data.negative")
    assert finding.severity == "error" and finding.location == "数据表!C9" and finding.found == "-100"


def test_score_above_max_wrong_total_and_wrong_grade(county: County):
    county.workbook("sc.xlsx", reference_form(scores={"B1": 3}, total=97, grade="良"))
    result = processed(county.raw)
    assert state_of(result, "2024/sc.xlsx") == LOADED
    [above] = findings_of(result, "2024/sc.xlsx", "scores.above_max")
    assert above.severity == "error" and above.found == "3" and above.location.startswith("评分表!F")
    [total] = findings_of(result, "2024/sc.xlsx", "scores.total_mismatch")
    assert total.found == "97" and total.expected == "99"
    [grade] = findings_of(result, "2024/sc.xlsx", "scores.grade_mismatch")
    assert grade.found == "良" and grade.expected == "优"


def test_grade_written_as_youxiu_means_you(county: County):
    county.workbook("yx.xlsx", reference_form(grade="优秀"))
    assert findings_of(processed(county.raw), "2024/yx.xlsx", "scores.grade_mismatch") == []


def test_deduction_without_a_note_is_flagged(county: County):
    county.workbook("nn.xlsx", reference_form(scores={"B6": (9, None)}))
    [finding] = findings_of(processed(county.raw), "2024/nn.xlsx", "scores.note_missing")
    assert finding.severity == "warning" and "B6" in finding.message


def test_max_differing_from_framework_is_an_error(county: County):
    county.workbook("mx.xlsx", reference_form(max_overrides={"B8": 3}))
    [finding] = findings_of(processed(county.raw), "2024/mx.xlsx", "scores.max_mismatch")
    assert finding.found == "3" and finding.expected == "2"


def test_year_mismatch_late_and_unknown_unit(county: County):
    county.workbook("y.xlsx", reference_form(info={"评价年度": 2023, "填报日期": dt.date(2025, 8, 2)}))
    county.workbook("u.xlsx", unit_form("遂溪县不存在局"))
    result = processed(county.raw)
    # A 2023 workbook in the 2024 folder is quarantined (contract section 8): it counts for neither year.
    [year] = findings_of(result, "2024/y.xlsx", "file.wrong_year_folder")
    assert year.severity == "fatal" and year.found == "2023" and year.expected == "2024"
    assert "2023年的报表放在了2024文件夹" in year.message
    assert state_of(result, "2024/y.xlsx") == QUARANTINED
    [late] = findings_of(result, "2024/y.xlsx", "info.late")
    assert late.severity == "warning" and late.found == "2025-08-02"
    [unknown] = findings_of(result, "2024/u.xlsx", "roster.unknown_unit")
    assert unknown.severity == "error" and unknown.found == "遂溪县不存在局"
    status = result.tables["submission_status"].filter(unit_name="遂溪县不存在局", year=2024)
    assert status["in_roster"].to_list() == [False] and status["loaded"].to_list() == [True]
    # listed apart: loaded, but not ranked among the roster's units
    scores = result.tables["unit_scores"].filter(unit_name="遂溪县不存在局")
    assert scores["rank"].to_list() == [None]


def test_duplicates_newest_filing_date_wins(county: County):
    county.workbook("第一版.xlsx", reference_form(info={"填报日期": dt.date(2025, 7, 20)}, grade="良"))
    county.workbook("更正版.xlsx", reference_form(info={"填报日期": dt.date(2025, 7, 26)}))
    result = processed(county.raw)
    assert state_of(result, "2024/第一版.xlsx") == SUPERSEDED
    assert state_of(result, "2024/更正版.xlsx") == LOADED
    scores = result.tables["unit_scores"].filter(unit_name=REFERENCE_UNIT)
    assert scores["file"].to_list() == ["2024/更正版.xlsx"]
    assert scores["errors"].to_list() == [0]  # the superseded version's wrong grade is not counted


def test_lock_and_other_files_are_skipped_but_recorded(county: County):
    county.workbook("ref.xlsx", reference_form())
    county.file("~$ref.xlsx", b"\x00lock")
    county.file("说明.jpg", b"\xff\xd8\xff")
    result = processed(county.raw)
    assert state_of(result, "2024/~$ref.xlsx") == SKIPPED
    assert state_of(result, "2024/说明.jpg") == SKIPPED
    assert set(result.tables["ingest_files"]["file"].to_list()) == {"2024/ref.xlsx", "2024/~$ref.xlsx", "2024/说明.jpg"}


def test_wanyuan_form_is_converted_to_yuan(county: County):
    data = {k: (round(v / 10000, 2) if k not in (24, 25) else v) for k, v in REFERENCE_DATA.items()}
    county.workbook("wan.xlsx", reference_form(data=data, wanyuan=True))
    result = processed(county.raw)
    assert state_of(result, "2024/wan.xlsx") == LOADED
    assert [f for f in findings_of(result, "2024/wan.xlsx") if f.rule.startswith("identity")] == []
    row = result.tables["unit_scores"].row(0, named=True)
    assert row["spent"] == pytest.approx(8374000.0) and row["budget_issued"] == pytest.approx(8397200.0)
    lines = result.tables["data_lines"].filter(line=24)
    assert lines["amount"].to_list() == [1.0]  # counts are never scaled
    assert result.tables["unit_info"]["amount_unit"].to_list() == ["万元"]


def test_xls_form_loads_like_xlsx(county: County):
    county.workbook("old.xls", reference_form(), xls=True)
    result = processed(county.raw)
    assert state_of(result, "2024/old.xls") == LOADED
    row = result.tables["unit_scores"].row(0, named=True)
    assert row["spent"] == pytest.approx(8374036.75) and row["review_score"] == pytest.approx(97.97)


def test_messy_but_valid_cells(county: County):
    form = reference_form(
        data={13: "8,374,036.75", 14: "７０３４５８４.７５元", 6: "-", 18: " 171086.57 "},
        extra_title_rows=3,
        sheet_name_overrides={"数据表": " 数据表 ", "评分表": "评分表　"},
        extra_sheets={"附表": [["无关内容"]]},
        info={"评价年度": "2024年度", "填报日期": "2025年7月28日"},
    )
    county.workbook("messy.xlsx", form)
    result = processed(county.raw)
    assert state_of(result, "2024/messy.xlsx") == LOADED
    assert [f for f in findings_of(result, "2024/messy.xlsx") if f.severity != "warning"] == []
    row = result.tables["unit_scores"].row(0, named=True)
    assert row["spent"] == 8374036.75 and row["review_score"] == pytest.approx(97.97)


def test_merged_level_cells_are_carried_down(county: County):
    county.workbook("ref.xlsx", reference_form())
    result = processed(county.raw)
    scores = result.tables["indicator_scores"]
    b9 = scores.filter(code="B9").row(0, named=True)
    assert (b9["level1"], b9["level2"]) == ("管理效率", "运行成本")


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "gbk", "gb18030"])
def test_roster_in_any_windows_encoding(tmp_path, encoding):
    county = County(tmp_path / "raw", encoding=encoding)
    county.workbook("ref.xlsx", reference_form())
    result = processed(county.raw)
    units = result.tables["units"]
    assert "遂溪县黄略镇人民政府" in units["unit_name"].to_list()
    assert units.filter(unit_name=REFERENCE_UNIT)["unit_type"].to_list() == ["行政单位"]


def test_every_file_is_accounted_for_exactly_once(county: County):
    county.workbook("a.xlsx", reference_form())
    county.workbook("b.xlsx", unit_form("遂溪县财政局"))
    county.file("c.xlsx", b"garbage")
    county.file("~$a.xlsx", b"x")
    county.workbook("d.xlsx", unit_form("遂溪县教育局", year=2023), year=2023)
    result = processed(county.raw)
    files = result.tables["ingest_files"]
    assert files.height == 5 and files["file"].n_unique() == 5
    assert set(files["state"].to_list()) <= {LOADED, QUARANTINED, SUPERSEDED, SKIPPED}
    assert all(len(sha) == 64 for sha in files["sha256"].to_list())


def test_not_submitted_units_appear_in_submission_status(county: County):
    county.workbook("a.xlsx", reference_form())
    status = processed(county.raw).tables["submission_status"].filter(year=2024)
    assert status.height == 5
    assert set(status.filter(submitted=False)["unit_name"].to_list()) == {
        "遂溪县财政局", "遂溪县教育局", "遂溪县第一中学", "遂溪县黄略镇人民政府"}


def test_xlsm_is_read_like_xlsx(county: County):
    path = county.workbook("macro.xlsx", reference_form())
    path.rename(path.with_suffix(".xlsm"))
    result = processed(county.raw)
    assert state_of(result, "2024/macro.xlsm") == LOADED


def test_unit_code_differing_from_roster_is_a_warning(county: County):
    county.workbook("code.xlsx", reference_form(info={"单位编码": "999"}))
    [finding] = findings_of(processed(county.raw), "2024/code.xlsx", "roster.code_mismatch")
    assert finding.found == "999" and finding.expected == "440823001"


def test_hand_made_layout_is_found_by_labels(county: County):
    """Columns moved, headers lower down, 一级/二级 left blank instead of merged."""
    import xlsxwriter

    from pipeline.scoring.framework import load_framework
    from tests.builders import REFERENCE_SCORES

    path = county.raw / "2024" / "手工.xlsx"
    path.parent.mkdir(parents=True, exist_ok=True)
    book = xlsxwriter.Workbook(str(path))
    data = book.add_worksheet("数据表")
    data.write(0, 1, "附表2 部门整体支出绩效自评数据表")
    data.write(3, 1, "金额单位：元")
    data.write_row(4, 1, ["行次", "项目", "金额（元）"])
    from schemas.form import DATA_LINES
    for i, line in enumerate(DATA_LINES):
        value = REFERENCE_DATA.get(line.line)
        data.write_row(5 + i, 1, [line.line, line.label] + ([] if value is None else [value]))
    scores = book.add_worksheet("评分表")
    scores.write_row(2, 0, ["代码", "一级指标", "二级指标", "三级指标", "分值", "自评得分", "评分说明"])
    last = (None, None)
    framework = load_framework(2024)
    for i, spec in enumerate(framework.indicators):
        entry = REFERENCE_SCORES[spec.code]
        score, note = entry if isinstance(entry, tuple) else (entry, None)
        shown = (spec.level1 if spec.level1 != last[0] else None, spec.level2 if spec.level2 != last[1] else None)
        last = (spec.level1, spec.level2)
        scores.write_row(3 + i, 0, [spec.code, shown[0], shown[1], spec.level3, spec.max_score, score, note])
    n = 3 + len(framework.indicators)
    scores.write_row(n, 0, ["合计", None, None, None, 100, 98])
    scores.write_row(n + 1, 0, ["自评等级", None, None, None, None, "优"])
    info = book.add_worksheet("基本信息")
    info.write_row(1, 1, ["单位名称", None, REFERENCE_UNIT])
    info.write_row(2, 1, ["评价年度", None, "2024年"])
    info.write_row(3, 1, ["填报日期", None, "2025/7/28"])
    book.close()

    result = processed(county.raw)
    assert state_of(result, "2024/手工.xlsx") == LOADED
    assert [f for f in findings_of(result, "2024/手工.xlsx") if f.severity != "warning"] == []
    lines = result.tables["data_lines"]
    assert lines.filter(line=13)["source_cell"].to_list() == ["数据表!D18"]
    b8 = result.tables["indicator_scores"].filter(code="B8").row(0, named=True)
    assert (b8["level1"], b8["level2"], b8["source_cell"]) == ("管理效率", "运行成本", "评分表!F14")
    assert result.tables["unit_scores"]["review_score"].to_list() == [97.97]


def test_year_mismatch_counts_for_neither_year_and_supersedes_nothing(county: County):
    county.workbook("2023正本.xlsx", unit_form(REFERENCE_UNIT, year=2023), year=2023)
    county.workbook("填错年度.xlsx", reference_form(info={"评价年度": 2023}), year=2024)
    county.workbook("放错.xlsx", reference_form(info={"填报日期": dt.date(2025, 7, 30)}), year=2023)
    result = processed(county.raw)
    assert state_of(result, "2023/2023正本.xlsx") == LOADED
    assert state_of(result, "2024/填错年度.xlsx") == QUARANTINED
    assert state_of(result, "2023/放错.xlsx") == QUARANTINED  # a 2024 workbook does not supersede 2023's
    years = result.tables["unit_scores"].filter(unit_name=REFERENCE_UNIT)["year"].to_list()
    assert years == [2023]
    [finding] = findings_of(result, "2023/放错.xlsx", "file.wrong_year_folder")
    assert finding.year == 2023 and finding.found == "2024" and "2024年的报表放在了2023文件夹" in finding.message
    status = result.tables["submission_status"].filter(unit_name=REFERENCE_UNIT)
    assert dict(zip(status["year"], status["submitted"])) == {2023: True, 2024: False}
    # the unit is told about the misfiled workbook under the folder's year
    assert dict(zip(status["year"], status["must_resubmit"])) == {2023: True, 2024: True}


def test_unreadable_file_is_put_down_to_the_unit_its_name_names(county: County):
    county.file("遂溪县财政局_2024年部门整体支出绩效自评表.xlsx", b"cut short in the mail")
    county.workbook("无名.xlsx", reference_form(info={"单位名称": None}))
    result = processed(county.raw)
    files = {r["file"]: r for r in result.tables["ingest_files"].iter_rows(named=True)}
    assert files["2024/遂溪县财政局_2024年部门整体支出绩效自评表.xlsx"]["unit_name"] == "遂溪县财政局"
    assert files["2024/无名.xlsx"]["unit_name"] is None  # nothing to go by: recorded, not guessed
    [finding] = findings_of(result, "2024/遂溪县财政局_2024年部门整体支出绩效自评表.xlsx")
    assert finding.unit_name == "遂溪县财政局"
    status = result.tables["submission_status"].filter(unit_name="遂溪县财政局", year=2024).row(0, named=True)
    assert status["submitted"] and status["must_resubmit"] and not status["loaded"]
