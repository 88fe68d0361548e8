"""The sample county in raw/: every deliberately faulty file ends in the state the
contract gives it, messy-but-valid files load cleanly, and the reference unit shows
exactly the figures of its public report."""

from __future__ import annotations

from pathlib import Path

import pytest

from sample_county.county import (
    COPIED_FROM_UNIT, FAULTY_CASES, MESSY_CASES, REFERENCE_FILE_2024, REPORT_CASES, SECTION_8_RULES,
)
from tests.builders import REFERENCE_DATA, REFERENCE_UNIT
from tests.conftest import ROOT

KINDS_OF_CONTRACT_SECTION_6 = {"corrupt", "missing_sheet", "text_amount", "broken_identity", "score_above_max",
                               "wrong_grade", "duplicate_older", "duplicate_newer", "lock_file",
                               "wanyuan_form", "xls_form"}
KINDS_OF_CONTRACT_SECTION_8 = set(SECTION_8_RULES)
MESSES_OF_CONTRACT_SECTION_8 = {"note_mentions_wanyuan", "prior_year_column", "hidden_stale_row", "xlsx_named_xls",
                                "wps_et_file", "zero_width_name", "decorated_labels", "qianyuan_form"}


def test_sample_has_every_kind_of_faulty_submission():
    assert KINDS_OF_CONTRACT_SECTION_6 | KINDS_OF_CONTRACT_SECTION_8 <= {case["kind"] for case in FAULTY_CASES}
    assert MESSES_OF_CONTRACT_SECTION_8 <= {case["variation"] for case in MESSY_CASES}


@pytest.mark.parametrize("case", [c for c in FAULTY_CASES if c["kind"] in SECTION_8_RULES], ids=lambda c: c["kind"])
def test_section_8_case_carries_its_finding(sample_warehouse: Path, query, case):
    rows = query(sample_warehouse, "SELECT severity, location, message FROM findings WHERE file = ? AND rule = ?",
                 case["file"], SECTION_8_RULES[case["kind"]])
    assert rows, case
    for _, _, message in rows:
        for word in ("Error", "Zip", "Cfb", "calamine", "Traceback"):
            assert word not in message
    if case["kind"] == "copied_workbook":  # an error for both units, and the real file stays
        units = {r[0] for r in query(sample_warehouse, "SELECT unit_name FROM findings WHERE rule = 'file.copied'")}
        assert units == {COPIED_FROM_UNIT, case["unit_name"]}
        [(file,)] = query(sample_warehouse, "SELECT file FROM unit_scores WHERE unit_name = ? AND year = 2024",
                          COPIED_FROM_UNIT)
        assert file != case["file"]
        resubmit = dict(query(sample_warehouse, "SELECT unit_name, must_resubmit FROM submission_status "
                                                "WHERE year = 2024 AND unit_name IN (?, ?)",
                              COPIED_FROM_UNIT, case["unit_name"]))
        assert resubmit == {COPIED_FROM_UNIT: True, case["unit_name"]: True}
    if case["kind"] == "name_by_code":  # the roster unit, not an extra one
        [(state,)] = query(sample_warehouse, "SELECT loaded FROM submission_status WHERE unit_name = ? AND year = 2024",
                           case["unit_name"])
        assert state


@pytest.mark.parametrize("case", FAULTY_CASES, ids=lambda c: c["kind"])
def test_faulty_file_ends_in_its_contract_state(sample_warehouse: Path, query, case):
    [(state,)] = query(sample_warehouse, "SELECT state FROM ingest_files WHERE file = ?", case["file"])
    assert state == case["expected_state"]
    severities = {r[0] for r in query(sample_warehouse, "SELECT severity FROM findings WHERE file = ?", case["file"])}
    if case["expected_state"] == "quarantined":
        assert "fatal" in severities
    if case["kind"] in ("broken_identity", "score_above_max", "wrong_grade", "formula_error"):
        assert "error" in severities and "fatal" not in severities
    if case["kind"] in ("wanyuan_form", "xls_form", "duplicate_newer", "phone_in_staff", "name_by_code"):
        assert not severities & {"fatal", "error"}


@pytest.mark.parametrize("case", MESSY_CASES, ids=lambda c: c["variation"])
def test_messy_but_valid_files_load_cleanly(sample_warehouse: Path, query, case):
    [(state,)] = query(sample_warehouse, "SELECT state FROM ingest_files WHERE file = ?", case["file"])
    assert state == "loaded"
    bad = query(sample_warehouse, "SELECT rule, location FROM findings WHERE file = ? AND severity IN ('fatal', 'error')",
                case["file"])
    assert bad == []


def test_every_file_under_raw_is_accounted_for(sample_warehouse: Path, query):
    on_disk = {p.relative_to(ROOT / "raw").as_posix() for p in (ROOT / "raw").rglob("*")
               if p.is_file() and p.parent != ROOT / "raw"}
    recorded = [r[0] for r in query(sample_warehouse, "SELECT file FROM ingest_files")]
    assert sorted(recorded) == sorted(on_disk)


def test_reference_unit_in_the_sample(sample_warehouse: Path, query):
    lines = dict(query(sample_warehouse,
                       "SELECT line, amount FROM data_lines WHERE unit_name = ? AND year = 2024", REFERENCE_UNIT))
    for line, value in REFERENCE_DATA.items():
        assert lines[line] == pytest.approx(value, abs=1e-9), line
    [row] = query(sample_warehouse, """
        SELECT file, execution_rate, public_control_rate, sangong_control_rate, self_score, self_grade,
               review_score, review_grade FROM unit_scores WHERE unit_name = ? AND year = 2024""", REFERENCE_UNIT)
    file, execution, public, sangong, self_score, self_grade, review, review_grade = row
    assert file == REFERENCE_FILE_2024
    assert [round(r * 100, 2) for r in (execution, public, sangong)] == [99.72, 66.06, 75.57]
    assert (self_score, self_grade, review, review_grade) == (98, "优", 97.97, "优")
    [(a3,)] = query(sample_warehouse, "SELECT review_score FROM indicator_scores WHERE unit_name = ? AND year = 2024 "
                    "AND code = 'A3'", REFERENCE_UNIT)
    assert a3 == 9.97


def test_reference_report_claim_of_100_percent_is_flagged(sample_warehouse: Path, query):
    rows = query(sample_warehouse, """
        SELECT found, expected, message FROM findings
        WHERE unit_name = ? AND year = 2024 AND rule = 'report.mismatch.execution_rate'""", REFERENCE_UNIT)
    assert len(rows) == 1
    found, expected, message = rows[0]
    assert "100" in found and expected == "99.72%"
    stated = query(sample_warehouse, """
        SELECT value FROM report_figures WHERE unit_name = ? AND year = 2024 AND item = 'execution_rate'
        ORDER BY value""", REFERENCE_UNIT)
    assert [round(v, 4) for (v,) in stated] == [0.9972, 1.0]


@pytest.mark.parametrize("case", REPORT_CASES, ids=lambda c: c["file"].split("/")[-1][:12])
def test_reports_agree_or_disagree_as_written(sample_warehouse: Path, query, case):
    mismatches = query(sample_warehouse,
                       "SELECT rule FROM findings WHERE file = ? AND rule LIKE 'report.mismatch.%'", case["file"])
    [(state, unit)] = query(sample_warehouse, "SELECT state, unit_name FROM ingest_files WHERE file = ?", case["file"])
    if case["unit_name"] is None:
        assert state == "quarantined" and unit is None
        return
    assert state == "loaded" and unit == case["unit_name"]
    if case["agrees"]:
        assert mismatches == []
    else:
        assert len(mismatches) >= 1
