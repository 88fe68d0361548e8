"""退回修改 and 整改 (contract section 12): versions, cell changes, rectification items,
deadlines from the ledger, second-round notices and the 退回与整改 page."""

from __future__ import annotations

import datetime as dt
import io
import json
import subprocess
import sys
import urllib.parse
from pathlib import Path

import docx
import duckdb
import pytest

from pipeline import ledger
from pipeline.checking import resubmission
from pipeline.checking.resubmission import FIXED, OPEN, OVERDUE, SentNotice
from pipeline.outputs import notices
from pipeline.outputs.load import read_year
from pipeline.publishing.warehouse import publish
from pipeline.run import process
from sample_county import county as sample
from tests.builders import REFERENCE_DATA, REFERENCE_UNIT, County, reference_form

ROOT = Path(__file__).resolve().parent.parent
YEAR = 2024
FIRST = "单位_第一次.xlsx"
SECOND = "单位_修改后.xlsx"
THIRD = "单位_第三次.xlsx"


def _filed(day: int, month: int = 7) -> dict:
    return {"填报日期": dt.date(2025, month, day)}


def _rows(result, table: str) -> list[dict]:
    return result.tables[table].to_dicts()


def _items(result) -> dict[tuple[str, str], dict]:
    return {(r["rule"], r["location"]): r for r in _rows(result, "rectifications")}


def _cell(result, line: int, file: str) -> str:
    (cell,) = [r["source_cell"] for r in _rows(result, "data_lines") if r["line"] == line]
    return cell


@pytest.fixture
def two_errors_then_one(county: County, tmp_path):
    """v1: 行次14 typed 1 200 元 too high (identity r13) and a wrong 自评等级; v2 fixes the identity only."""
    broken = {14: REFERENCE_DATA[14] + 1200}
    county.workbook(FIRST, reference_form(info=_filed(20), data=broken, grade="良"))
    county.workbook(SECOND, reference_form(info=_filed(12, 8), grade="良"))
    return county


def test_the_same_rule_at_the_same_place_is_one_item(two_errors_then_one, tmp_path):
    result = process(two_errors_then_one.raw, ledger=tmp_path / "none.sqlite")
    items = _items(result)
    identity = next(r for (rule, _), r in items.items() if rule == "identity.r13")
    grade = next(r for (rule, _), r in items.items() if rule == "scores.grade_mismatch")
    assert len(items) == 2, items.keys()
    assert identity["status"] == FIXED and identity["fixed_file"] == f"{YEAR}/{SECOND}"
    assert identity["fixed_on"] == dt.date(2025, 8, 12) and identity["first_seen"] == dt.date(2025, 7, 20)
    assert grade["status"] == OPEN and grade["fixed_file"] is None
    assert grade["first_file"] == f"{YEAR}/{FIRST}" and grade["last_file"] == f"{YEAR}/{SECOND}"
    assert grade["deadline"] is None and grade["notice_round"] is None


def test_the_same_rule_at_another_place_is_another_item(county: County, tmp_path):
    county.workbook(FIRST, reference_form(info=_filed(20), data={14: REFERENCE_DATA[14] + 1200}))
    # The resubmission fixes 行次13 and breaks 行次16 instead: 结转和结余 typed 5 元 too high.
    county.workbook(SECOND, reference_form(info=_filed(12, 8), data={16: REFERENCE_DATA[16] + 5}))
    items = _items(process(county.raw, ledger=tmp_path / "none.sqlite"))
    by_rule = {rule: r for (rule, _), r in items.items()}
    assert set(by_rule) == {"identity.r13", "identity.r16"}
    assert by_rule["identity.r13"]["status"] == FIXED
    assert by_rule["identity.r16"]["status"] == OPEN
    assert by_rule["identity.r16"]["first_file"] == f"{YEAR}/{SECOND}"
    assert by_rule["identity.r13"]["location"] != by_rule["identity.r16"]["location"]


def test_an_unreadable_newer_file_fixes_nothing(county: County, tmp_path):
    county.workbook(FIRST, reference_form(info=_filed(20), data={14: REFERENCE_DATA[14] + 1200}))
    county.file("单位_损坏.xlsx", b"PK\x03\x04 not really a workbook")
    items = _items(process(county.raw, ledger=tmp_path / "none.sqlite"))
    identity = next(r for (rule, _), r in items.items() if rule == "identity.r13")
    assert identity["status"] == OPEN


def test_changes_list_every_changed_cell_with_before_and_after(county: County, tmp_path):
    county.workbook(FIRST, reference_form(info=_filed(20), data={14: REFERENCE_DATA[14] + 1200}))
    # Same figures typed as text with thousands separators: not a change. 行次14 corrected,
    # 联系人 filled in, B6 raised by one point with the total and the note.
    as_text = {line: f"{value:,.2f}" for line, value in REFERENCE_DATA.items() if line not in (14, 24, 25)}
    county.workbook(SECOND, reference_form(
        info={**_filed(12, 8), "联系人": "陈伟"}, data=as_text,
        scores={"B6": (10, None)}, total=99))
    result = process(county.raw, ledger=tmp_path / "none.sqlite")
    changes = {r["item"]: r for r in _rows(result, "submission_changes")}
    assert set(changes) == {"行次14“基本支出”", "填报日期", "联系人", "B6 自评得分", "自评得分合计"}, changes.keys()
    basic = changes["行次14“基本支出”"]
    assert (basic["before"], basic["after"]) == ("7,035,784.75", "7,034,584.75")
    assert basic["location"] == _cell(result, 14, SECOND) and basic["location"].startswith("数据表!C")
    assert basic["requested"] is True
    assert (changes["B6 自评得分"]["before"], changes["B6 自评得分"]["after"]) == ("9", "10")
    assert changes["B6 自评得分"]["location"].startswith("评分表!")
    assert (changes["填报日期"]["before"], changes["填报日期"]["after"]) == ("2025-07-20", "2025-08-12")
    assert changes["联系人"]["before"] is None and changes["联系人"]["location"].startswith("基本信息!B")
    assert {r["from_file"] for r in changes.values()} == {f"{YEAR}/{FIRST}"}
    assert {r["to_file"] for r in changes.values()} == {f"{YEAR}/{SECOND}"}
    # B6 (and so 合计) was never asked about: raising a score on a resubmission is an unrequested change.
    (warning,) = [f for f in _rows(result, "findings") if f["rule"] == resubmission.UNREQUESTED_RULE]
    assert warning["location"] == f'{changes["B6 自评得分"]["location"]}、{changes["自评得分合计"]["location"]}'
    assert warning["file"] == f"{YEAR}/{SECOND}" and warning["severity"] == "warning"


def test_moving_money_between_lines_to_fix_an_identity_is_a_warning_naming_the_cells(county: County, tmp_path):
    county.workbook(FIRST, reference_form(info=_filed(20), data={14: REFERENCE_DATA[14] + 1200}))
    moved = {10: REFERENCE_DATA[10] - 50_000, 11: REFERENCE_DATA[11] + 50_000}
    county.workbook(SECOND, reference_form(info=_filed(12, 8), data=moved))
    result = process(county.raw, ledger=tmp_path / "none.sqlite")
    (warning,) = [f for f in _rows(result, "findings") if f["rule"] == resubmission.UNREQUESTED_RULE]
    cells = [_cell(result, 10, SECOND), _cell(result, 11, SECOND)]
    assert warning["location"] == "、".join(cells)
    assert all(cell in warning["message"] for cell in cells)
    assert "8,171,282.08" in warning["message"] and "8,121,282.08" in warning["message"]
    requested = {r["location"]: r["requested"] for r in _rows(result, "submission_changes")
                 if r["location"].startswith("数据表")}
    assert requested == {cells[0]: False, cells[1]: False, _cell(result, 14, SECOND): True}
    (scores,) = [r for r in _rows(result, "unit_scores")]
    assert scores["warnings"] >= 1 and scores["file"] == f"{YEAR}/{SECOND}"


def test_a_resubmission_that_only_fixes_raises_no_warning_and_is_not_late(two_errors_then_one, tmp_path):
    result = process(two_errors_then_one.raw, ledger=tmp_path / "none.sqlite")
    rules = {f["rule"] for f in _rows(result, "findings") if f["file"] == f"{YEAR}/{SECOND}"}
    assert resubmission.UNREQUESTED_RULE not in rules
    assert "info.late" not in rules  # filed 2025-08-12, after the year's deadline, answering a notice


def test_a_unit_late_the_first_time_stays_late_on_its_resubmission(county: County, tmp_path):
    county.workbook(FIRST, reference_form(info=_filed(1, 8), grade="良"))  # after the 2025-07-28 deadline
    county.workbook(SECOND, reference_form(info=_filed(12, 8)))
    result = process(county.raw, ledger=tmp_path / "none.sqlite")
    late = {f["file"] for f in _rows(result, "findings") if f["rule"] == "info.late"}
    assert late == {f"{YEAR}/{FIRST}", f"{YEAR}/{SECOND}"}


# ---------------------------------------------------------------- deadlines

def test_status_on_the_deadline_is_open_and_the_day_after_overdue():
    deadline = dt.date(2025, 8, 19)
    assert resubmission.status(None, deadline, dt.date(2025, 8, 19)) == OPEN
    assert resubmission.status(None, deadline, dt.date(2025, 8, 20)) == OVERDUE
    assert resubmission.status(None, None, dt.date(2030, 1, 1)) == OPEN
    assert resubmission.status("2024/b.xlsx", deadline, dt.date(2030, 1, 1)) == FIXED


def test_the_first_notice_asking_for_an_item_sets_its_deadline():
    item = ("identity.r13", "数据表!C16")
    first = SentNotice(YEAR, "甲", 1, dt.date(2025, 8, 5), dt.date(2025, 8, 19), frozenset({item}))
    second = SentNotice(YEAR, "甲", 2, dt.date(2025, 8, 25), dt.date(2025, 9, 8), frozenset({item}))
    other = SentNotice(YEAR, "甲", 1, dt.date(2025, 8, 1), dt.date(2025, 8, 15), frozenset({("x", "y")}))
    assert resubmission.asking_notice([second, other, first], *item) == first
    assert resubmission.asking_notice([other], *item) is None


def test_as_of_is_the_latest_date_in_the_inputs():
    notice = SentNotice(YEAR, "甲", 1, dt.date(2025, 8, 25), dt.date(2025, 9, 8))
    version = resubmission.Version("a.xlsx", "甲", YEAR, "loaded", dt.date(2025, 8, 30), None)
    assert resubmission.as_of_date([[version]], [notice]) == dt.date(2025, 8, 30)
    assert resubmission.as_of_date([[]], [notice]) == dt.date(2025, 8, 25)
    assert resubmission.as_of_date([], []) is None


def _notice(path: Path, unit: str, items, issued: dt.date, deadline: dt.date, round_: int = 1) -> None:
    ledger.append_notice(path, ledger.Notice(YEAR, unit, round_, issued, deadline, "n.docx",
                                             resubmission.dump_items(items), f"{issued}T09:00:00"))


def test_overdue_comes_from_the_ledger_and_the_inputs_latest_date(county: County, tmp_path):
    county.workbook(FIRST, reference_form(info=_filed(20), grade="良"))
    none = process(county.raw, ledger=tmp_path / "none.sqlite")
    ((rule, location), item), = _items(none).items()
    assert item["status"] == OPEN
    book = tmp_path / "ledger.sqlite"
    _notice(book, REFERENCE_UNIT, [(rule, location)], dt.date(2025, 8, 5), dt.date(2025, 8, 19))
    # Latest date in the inputs is the notice's 2025-08-05: still in time.
    assert _items(process(county.raw, ledger=book))[(rule, location)]["status"] == OPEN
    # Another unit's file filed 2025-08-20 moves the as-of date past the deadline.
    county.workbook("财政局.xlsx", reference_form(info={"单位名称": "遂溪县财政局", **_filed(20, 8)}))
    late = _items(process(county.raw, ledger=book))[(rule, location)]
    assert late["status"] == OVERDUE and late["deadline"] == dt.date(2025, 8, 19)
    assert late["as_of"] == dt.date(2025, 8, 20) and late["notice_round"] == 1


# ---------------------------------------------------------------- notices

def _warehouse(raw: Path, db: Path, book: Path):
    publish(process(raw, ledger=book).tables, db)
    return read_year(db, YEAR)


def _text(content: bytes) -> str:
    document = docx.Document(io.BytesIO(content))
    cells = [cell.text for table in document.tables for row in table.rows for cell in row.cells]
    return "\n".join([p.text for p in document.paragraphs] + cells)


def test_a_second_round_notice_lists_what_is_open_and_says_what_was_fixed(two_errors_then_one, tmp_path):
    county = two_errors_then_one
    book = tmp_path / "ledger.sqlite"
    # Round 1 as `make report` sent it on 2025-08-05, before the resubmission arrived.
    second = county.raw / str(YEAR) / SECOND
    held = second.read_bytes()
    second.unlink()
    first_data = _warehouse(county.raw, tmp_path / "first.duckdb", book)
    due = notices.deadline(dt.date(2025, 8, 5), dt.date(2025, 8, 19))
    (first,) = notices.year_notices(first_data.status, first_data.findings, YEAR, due,
                                    first_data.rectifications, ledger.all_notices(book))
    assert first.round == 1 and first.must_fix == 2 and first.fixed == 0
    assert notices.record(book, [first], due) == 1
    assert notices.record(book, [first], due) == 0  # the same notice is not recorded twice
    asked = {tuple(i) for i in json.loads(ledger.all_notices(book)[0].items)}
    assert {rule for rule, _ in asked} == {"identity.r13", "scores.grade_mismatch"}

    second.write_bytes(held)
    data = _warehouse(county.raw, tmp_path / "second.duckdb", book)
    due2 = notices.deadline(dt.date(2025, 8, 25), dt.date(2025, 9, 8))
    (again,) = notices.year_notices(data.status, data.findings, YEAR, due2, data.rectifications,
                                    ledger.all_notices(book))
    assert again.round == 2 and again.must_fix == 1 and again.fixed == 1
    assert [rule for rule, _ in again.items] == ["scores.grade_mismatch"]
    text = _text(again.content)
    identity_cell = next(loc for rule, loc in asked if rule == "identity.r13")
    grade_cell = next(loc for rule, loc in asked if rule == "scores.grade_mismatch")
    assert "退回修改通知（第2次）" in text
    assert "已改正 1 个" in text and "二、已改正的问题" in text and "一、仍须改正的问题" in text
    assert identity_cell in text and grade_cell in text and f"{YEAR}/{SECOND}" in text
    # The fixed identity appears only among the fixed, never as something to correct.
    must_fix_table = docx.Document(io.BytesIO(again.content)).tables[0]
    assert [row.cells[1].text for row in must_fix_table.rows[1:]] == [grade_cell]
    assert notices.record(book, [again], due2) == 1
    rounds = [(n.round, n.issued_on, n.deadline) for n in ledger.all_notices(book)]
    assert rounds == [(1, dt.date(2025, 8, 5), dt.date(2025, 8, 19)), (2, dt.date(2025, 8, 25), dt.date(2025, 9, 8))]


@pytest.mark.slow
def test_make_report_records_its_notices_in_the_ledger(two_errors_then_one, tmp_path):
    db, book, out = tmp_path / "p.duckdb", tmp_path / "bureau.sqlite", tmp_path / "out"
    publish(process(two_errors_then_one.raw, ledger=book).tables, db)
    command = [sys.executable, "-m", "pipeline.outputs", "--year", str(YEAR), "--db", str(db), "--out", str(out),
               "--no-pdf", "--issued-on", "2025-08-25", "--resubmit-by", "2025-09-08", "--ledger", str(book)]
    try:
        done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=600)
    except subprocess.TimeoutExpired:  # pragma: no cover
        pytest.fail("make report did not finish")
    if done.returncode != 0 and "浏览器" in done.stderr + done.stdout:
        pytest.skip("charts need Chromium")
    assert done.returncode == 0, done.stderr
    (sent,) = ledger.all_notices(book)
    assert (sent.unit_name, sent.round, sent.issued_on, sent.deadline) == (
        REFERENCE_UNIT, 1, dt.date(2025, 8, 25), dt.date(2025, 9, 8))
    assert sent.document.endswith("退回修改通知.docx")
    assert (out / str(YEAR) / "退回修改通知" / sent.document).exists()
    assert [rule for rule, _ in json.loads(sent.items)] == ["scores.grade_mismatch"]
    assert "已记入台账" in done.stdout


# ---------------------------------------------------------------- the sample county

def _sample(db: Path, sql: str, *params):
    with duckdb.connect(str(db), read_only=True) as con:
        return con.execute(sql, list(params)).fetchall()


def test_the_sample_chains_end_as_designed(sample_warehouse):
    def statuses(unit: str) -> dict[str, str]:
        return dict(_sample(sample_warehouse, "SELECT rule, status FROM rectifications WHERE unit_name = ? "
                                              "AND year = 2024", unit))
    kinds = {c["kind"]: c for c in sample.RESUBMISSION_CASES}
    assert set(statuses(kinds["fixed"]["unit_name"]).values()) == {FIXED}
    assert statuses(kinds["partly_fixed"]["unit_name"]) == {"identity.r13": FIXED, "scores.above_max": OVERDUE}
    late = kinds["fixed_late"]
    ((status, fixed_on, deadline),) = _sample(
        sample_warehouse, "SELECT status, fixed_on, deadline FROM rectifications WHERE unit_name = ?",
        late["unit_name"])
    assert status == FIXED and fixed_on > deadline == sample.NOTICE_DEADLINE
    beyond = kinds["changed_beyond_request"]
    ((location,),) = _sample(sample_warehouse, "SELECT location FROM findings WHERE rule = ? AND unit_name = ?",
                             resubmission.UNREQUESTED_RULE, beyond["unit_name"])
    lines = dict(_sample(sample_warehouse, "SELECT line, source_cell FROM data_lines WHERE unit_name = ? "
                                           "AND year = 2024", beyond["unit_name"]))
    assert location == f"{lines[10]}、{lines[11]}"
    # A unit sent back on 2025-08-05 that never resubmitted is overdue.
    assert statuses("遂溪县民政局") == {"identity.r13": OVERDUE}


def test_the_sample_notices_are_what_the_pipeline_finds_in_the_first_versions():
    rows = json.loads(sample.NOTICES_FILE.read_text(encoding="utf-8"))
    assert sample.sample_notices(ROOT / "raw") == rows  # notices.json is in step with raw/
    units = {r["unit_name"] for r in rows}
    assert {c["unit_name"] for c in sample.RESUBMISSION_CASES} <= units
    assert {r["issued_on"] for r in rows} == {sample.NOTICE_DAY.isoformat()}
    assert "遂溪县交通运输局" not in units  # it corrected itself before the notices went out


# ---------------------------------------------------------------- the page

def test_page_lists_overdue_units_first_and_a_units_versions(sample_warehouse, monkeypatch):
    from streamlit.testing.v1 import AppTest

    monkeypatch.setenv("PERF_DB", str(sample_warehouse))
    app = AppTest.from_file(str(ROOT / "dashboard" / "app.py"), default_timeout=60)
    app.query_params["year"] = str(YEAR)
    app.run()
    app.switch_page("views/rectification.py").run()
    assert not app.exception, [e.value for e in app.exception]
    assert any("退回与整改" in t.value for t in app.title)
    overview = next(d.value for d in app.dataframe if list(d.value.columns[:2]) == ["单位名称", "报送版本数"])
    overdue = list(overview["逾期未改正"])
    assert overdue == sorted(overdue, reverse=True) and overdue[0] > 0 and overdue[-1] == 0
    linked = {urllib.parse.parse_qs(urllib.parse.urlsplit(link).query)["unit"][0] for link in overview["单位名称"]}
    assert "遂溪县公安局" in linked  # each name links to its 单位详情

    beyond = next(c["unit_name"] for c in sample.RESUBMISSION_CASES if c["kind"] == "changed_beyond_request")
    app.button_group(key="rectification_view").set_value("单位的报送版本与整改").run()
    app.selectbox(key="rectification_unit").set_value(beyond).run()
    assert not app.exception
    versions = next(d.value for d in app.dataframe if list(d.value.columns[:2]) == ["版本", "填报日期"])
    assert list(versions["状态"]) == ["已被替代", "已入库"]
    changes = next(d.value for d in app.dataframe if "修改后的文件" in d.value.columns)
    assert set(changes.loc[changes["是否要求修改"] == "否", "项目"]) >= {"行次10“基本支出”", "行次11“项目支出”"}
    assert any("还改动了2处数字" in w.value for w in app.warning)


def test_a_unit_account_sees_only_its_own_rectification(sample_warehouse, monkeypatch):
    from dashboard import auth, data

    monkeypatch.setenv("PERF_DB", str(sample_warehouse))
    monkeypatch.delenv("PERF_AUTH", raising=False)
    own = next(c["unit_name"] for c in sample.RESUBMISSION_CASES if c["kind"] == "partly_fixed")
    viewer = auth.Viewer("unit-user", "unit", own)
    assert set(data.rectifications(YEAR, viewer=viewer)["unit_name"]) == {own}
    assert set(data.submission_changes(YEAR, viewer=viewer)["unit_name"]) == {own}
    assert len(set(data.rectifications(YEAR)["unit_name"])) > 1
