"""A rebuild copies the data_lines, unit_info, targets and indicator_scores rows of unit-years
whose workbook is unchanged from the published warehouse, and the result is exactly a clean
build's, whatever else changed."""

from __future__ import annotations

import datetime as dt
import os
import shutil
from pathlib import Path

import duckdb
import pytest

from pipeline.ledger.record import record
from pipeline.publishing import carry, warehouse
from pipeline.publishing.summary import published_build_id, summary
from pipeline.run import cache_file_for, run
from pipeline.scoring.framework import load_framework
from pipeline.settings import frameworks_dir
from tests.builders import REFERENCE_DATA, REFERENCE_UNIT, County, reference_form, unit_form
from tests.conftest import run_pipeline
from tests.test_warehouse import snapshot

FINANCE, EDUCATION = "遂溪县财政局", "遂溪县教育局"
# one target met, one missed without a reason (a signal for the 抽查 sample, which reads every unit's targets)
TARGETS = [
    dict(kind="产出指标", category="数量指标", name="督办事项办结率", direction="≥", target="95%", unit=None,
         actual="92.3%", weight=20, reason=None),
    dict(kind="满意度指标", category="服务对象满意度指标", name="服务对象满意度", direction="不低于", target=90,
         unit="%", actual=93, weight=10),
]


def county_of_three(county: County) -> None:
    county.workbook("ref.xlsx", reference_form(targets=TARGETS))
    county.workbook("cz.xlsx", unit_form(FINANCE, scores={"B1": 5}, targets=TARGETS))
    county.workbook("jy.xlsx", unit_form(EDUCATION, year=2023), year=2023)


def clean_build(county: County, tmp_path: Path, ledger: Path) -> dict[str, list[tuple]]:
    db = tmp_path / "clean" / "performance.duckdb"
    run(county.raw, db, progress=False, use_cache=False, force=True, ledger=ledger)
    return snapshot(db)


@pytest.fixture
def built(county: County, tmp_path: Path) -> tuple[County, Path, Path]:
    county_of_three(county)
    db, ledger = tmp_path / "wh" / "performance.duckdb", tmp_path / "ledger" / "bureau.sqlite"
    first = run(county.raw, db, progress=False, ledger=ledger)
    assert first.carried.units == set()  # nothing published yet
    return county, db, ledger


def test_a_changed_workbook_is_built_and_the_others_are_carried(built, tmp_path: Path):
    county, db, ledger = built
    county.workbook("cz.xlsx", unit_form(FINANCE, scores={"B1": 4}, data={16: 123_456.0}, targets=TARGETS[:1]))
    result = run(county.raw, db, progress=False, ledger=ledger)
    assert result.carried.units == {(REFERENCE_UNIT, 2024), (EDUCATION, 2023)}
    assert result.carried.review_units == result.carried.units
    for table in ("data_lines", "unit_info", "targets", "indicator_scores"):
        assert set(result.tables[table]["unit_name"].to_list()) == {FINANCE}, table
    after = snapshot(db)
    assert {row[1] for row in after["targets"]} == {REFERENCE_UNIT, FINANCE}
    assert (FINANCE, 2024, 16) in {row[:3] for row in after["data_lines"] if row[4] == 123_456.0}
    assert after == clean_build(county, tmp_path, ledger)
    assert not list(db.parent.glob(".*carry*"))


def test_a_roster_change_gives_a_clean_build(built, tmp_path: Path):
    county, db, ledger = built
    county.roster = [row for row in county.roster if row[1] != EDUCATION]
    county.write_roster()
    result = run(county.raw, db, progress=False, ledger=ledger)
    assert result.carried.units
    assert result.tables["data_lines"].is_empty()
    assert set(result.tables["targets"]["unit_name"].to_list()) == {REFERENCE_UNIT, FINANCE}  # a roster is in them
    assert snapshot(db) == clean_build(county, tmp_path, ledger)


def test_a_framework_change_gives_a_clean_build(built, tmp_path: Path, monkeypatch):
    county, db, ledger = built
    frameworks = tmp_path / "frameworks"
    shutil.copytree(frameworks_dir(), frameworks, ignore=shutil.ignore_patterns("examples"))
    path = frameworks / "2024.toml"
    path.write_text(path.read_text(encoding="utf-8").replace("deadline = 2025-07-28", "deadline = 2020-01-01"),
                    encoding="utf-8")
    monkeypatch.setenv("PERF_FRAMEWORKS", str(frameworks))
    result = run(county.raw, db, progress=False, ledger=ledger)
    assert result.carried.units
    assert snapshot(db) == clean_build(county, tmp_path, ledger)


def test_a_ledger_entry_gives_a_clean_build(built, tmp_path: Path):
    county, db, ledger = built
    record(ledger, year=2024, unit=FINANCE, code="B7", score="8.25", reason="资产卡片与账面不符", officer="李四",
           raw=county.raw)
    result = run(county.raw, db, progress=False, ledger=ledger)
    assert result.carried.units and result.carried.review_units == set()  # the ledger is in indicator_scores
    after = snapshot(db)
    assert any(row[:3] == (FINANCE, 2024, "B7") and row[8] == 8.25 for row in after["indicator_scores"])
    assert after == clean_build(county, tmp_path, ledger)


def test_a_build_of_other_code_or_unknown_origin_carries_nothing(built, monkeypatch):
    county, db, ledger = built
    county.workbook("cz.xlsx", unit_form(FINANCE, scores={"B1": 4}))
    monkeypatch.setattr(carry, "_code", lambda: "other code")
    assert run(county.raw, db, progress=False, ledger=ledger).carried.units == set()
    monkeypatch.undo()
    cache_file_for(db).unlink()
    county.workbook("cz.xlsx", unit_form(FINANCE, scores={"B1": 3}))
    assert run(county.raw, db, progress=False, ledger=ledger).carried.units == set()
    county.workbook("cz.xlsx", unit_form(FINANCE, scores={"B1": 2}))
    assert run(county.raw, db, progress=False, ledger=ledger).carried.units  # recorded again once published


def test_forced_builds_carry_nothing_and_carried_rows_are_read_from_a_link(built):
    county, db, ledger = built
    county.workbook("cz.xlsx", unit_form(FINANCE, scores={"B1": 4}))
    assert run(county.raw, db, progress=False, ledger=ledger, force=True).carried.units == set()
    linked = carry.what_to_carry(db, cache_file_for(db))
    try:
        assert linked.source is not None and linked.source != db
        assert os.stat(linked.source).st_ino == os.stat(db).st_ino  # the published build as it was, never written
        with duckdb.connect(str(linked.source), read_only=True) as con:
            assert con.execute("SELECT count(*) FROM data_lines").fetchone()[0] == 3 * 25
    finally:
        carry.release(linked)
    assert not linked.source.exists()


def test_a_link_left_by_a_killed_run_is_removed(tmp_path: Path):
    db = tmp_path / "performance.duckdb"
    db.write_bytes(b"")
    left = db.with_name(f".{db.name}.carry-999999")
    left.write_bytes(b"")
    assert left in warehouse.clear_stale(db)


def test_indicator_scores_against_a_changed_previous_year_are_made_again(county: County, tmp_path: Path,
                                                                        monkeypatch):
    """A metric against the previous year (三公 budget change) makes a unit-year's 复核 depend on
    the previous year's file: when that changes, the unchanged year's indicator rows are made again."""
    from tests.test_frameworks import EXAMPLE, example_data, example_form

    monkeypatch.setenv("PERF_FRAMEWORKS", str(EXAMPLE))
    f2023, f2024 = (load_framework(year, EXAMPLE) for year in (2023, 2024))

    def year_2023(r19: float) -> None:
        county.workbook("jia-2023.xlsx", example_form(
            f2023, REFERENCE_UNIT, 2023, example_data(1_000_000.0, 1_000_000.0, 1_000_000.0, r19), 50, 50, {},
            "优"), year=2023)

    year_2023(100_000.0)
    county.workbook("jia-2024.xlsx", example_form(
        f2024, REFERENCE_UNIT, 2024, example_data(8_397_200.18, 8_374_036.75, 10_850_997.08, 102_500.0),
        52, 50, {}, "优"), year=2024)
    db, ledger = tmp_path / "wh" / "performance.duckdb", tmp_path / "ledger" / "bureau.sqlite"
    run(county.raw, db, progress=False, ledger=ledger)
    year_2023(80_000.0)
    result = run(county.raw, db, progress=False, ledger=ledger)
    assert result.carried.units == {(REFERENCE_UNIT, 2024)}
    assert result.carried.review_units == set()
    assert set(result.tables["indicator_scores"]["year"].to_list()) == {2023, 2024}
    after = snapshot(db)
    assert after == clean_build(county, tmp_path, ledger)
    [(change,)] = {(row[17],) for row in after["indicator_scores"] if row[1] == 2024 and row[16] ==
                   "sangong_budget_change_rate"}
    assert round(change, 6) == round(102_500.0 / 80_000.0 - 1, 6)


def finance_report(score: int) -> bytes:
    """A 自评报告 of the finance bureau stating its total (the workbook says 98)."""
    return (f"{FINANCE}2024年度部门整体支出绩效自评报告\n\n"
            f"一、自评结论\n经自评，本单位2024年度部门整体支出绩效自评得分为{score}分，自评等级为优。\n").encode()


def rules_of(db: Path, unit: str) -> set[str]:
    with duckdb.connect(str(db), read_only=True) as con:
        return {r for (r,) in con.execute("SELECT rule FROM findings WHERE unit_name = ?", [unit]).fetchall()}


# Changes whose effect reaches unit-years whose own workbook did not change: each step is
# built on the warehouse the step before published, and compared with a clean build.
CROSS_FILE_STEPS = {
    "a newer duplicate appears, then goes": [
        lambda c: c.workbook("cz-v2.xlsx", unit_form(FINANCE, scores={"B1": 4},
                                                     info={"填报日期": dt.date(2025, 8, 1)})),
        lambda c: (c.raw / "2024" / "cz-v2.xlsx").unlink(),
    ],
    "an older duplicate and one of the same date appear, then go": [
        lambda c: c.workbook("cz-old.xlsx", unit_form(FINANCE, info={"填报日期": dt.date(2025, 7, 1)})),
        lambda c: c.workbook("cz-same.xlsx", unit_form(FINANCE, scores={"B1": 3})),
        lambda c: [(c.raw / "2024" / name).unlink() for name in ("cz-old.xlsx", "cz-same.xlsx")],
    ],
    "another unit's file copied from the finance bureau's appears, then goes": [
        lambda c: c.workbook("遂溪县第一中学.xlsx", unit_form(FINANCE, info={"填报日期": dt.date(2025, 8, 1)})),
        lambda c: (c.raw / "2024" / "遂溪县第一中学.xlsx").unlink(),
    ],
    "the finance bureau's figures become the reference unit's, then its own again": [
        lambda c: c.workbook("cz.xlsx", unit_form(FINANCE, scores={"B1": 5}, targets=TARGETS,
                                                  data=dict(REFERENCE_DATA))),
        lambda c: c.workbook("cz.xlsx", unit_form(FINANCE, scores={"B1": 5}, targets=TARGETS)),
    ],
    "a report appears, changes and goes": [
        lambda c: c.file(f"{FINANCE}自评报告.txt", finance_report(90)),
        lambda c: c.file(f"{FINANCE}自评报告.txt", finance_report(98)),
        lambda c: (c.raw / "2024" / f"{FINANCE}自评报告.txt").unlink(),
    ],
    "a previous year's file appears, then goes": [
        lambda c: c.workbook("cz-2023.xlsx", unit_form(FINANCE, year=2023), year=2023),
        lambda c: (c.raw / "2023" / "cz-2023.xlsx").unlink(),
    ],
    "a newer file of the education bureau that cannot be opened appears, then goes": [
        lambda c: c.file(f"{EDUCATION}（修改后）.xlsx", b"PK\x03\x04 not a workbook", year=2023),
        lambda c: (c.raw / "2023" / f"{EDUCATION}（修改后）.xlsx").unlink(),
    ],
    "the education bureau's file is renamed after another unit, then back": [
        lambda c: (c.raw / "2023" / "jy.xlsx").rename(c.raw / "2023" / "遂溪县第一中学.xlsx"),
        lambda c: (c.raw / "2023" / "遂溪县第一中学.xlsx").rename(c.raw / "2023" / "jy.xlsx"),
    ],
    "the finance bureau's file is put in the other year's folder, then back": [
        lambda c: (c.raw / "2024" / "cz.xlsx").rename(c.raw / "2023" / "cz.xlsx"),
        lambda c: (c.raw / "2023" / "cz.xlsx").rename(c.raw / "2024" / "cz.xlsx"),
    ],
    "the only file of a year goes, then comes back": [
        lambda c: (c.raw / "2023" / "jy.xlsx").unlink(),
        lambda c: c.workbook("jy.xlsx", unit_form(EDUCATION, year=2023), year=2023),
    ],
}


@pytest.mark.parametrize("steps", CROSS_FILE_STEPS.values(), ids=CROSS_FILE_STEPS.keys())
def test_changes_across_files_give_a_clean_build(built, tmp_path: Path, steps):
    county, db, ledger = built
    carried_any = False
    for step in steps:
        step(county)
        result = run(county.raw, db, progress=False, ledger=ledger)
        carried_any |= bool(result.carried.units)
        assert snapshot(db) == clean_build(county, tmp_path, ledger)
    assert carried_any  # the steps were built on the published warehouse, not made whole


def test_the_cross_file_steps_change_what_they_are_meant_to(built):
    """The steps above are not vacuous: each changes the findings of a unit whose workbook stays
    (the reference unit's, when another unit's figures become the same as its own)."""
    county, db, ledger = built
    before = rules_of(db, FINANCE)
    county.workbook("cz-old.xlsx", unit_form(FINANCE, info={"填报日期": dt.date(2025, 7, 1)}))
    run(county.raw, db, progress=False, ledger=ledger)
    assert "file.superseded" in rules_of(db, FINANCE) - before
    county.workbook("遂溪县第一中学.xlsx", unit_form(FINANCE, info={"填报日期": dt.date(2025, 8, 1)}))
    run(county.raw, db, progress=False, ledger=ledger)
    assert "file.copied" in rules_of(db, FINANCE)
    county.file(f"{FINANCE}自评报告.txt", finance_report(90))
    run(county.raw, db, progress=False, ledger=ledger)
    assert "report.missing" not in rules_of(db, FINANCE)
    assert "file.copied" not in rules_of(db, REFERENCE_UNIT)
    county.workbook("cz.xlsx", unit_form(FINANCE, scores={"B1": 5}, targets=TARGETS, data=dict(REFERENCE_DATA)))
    result = run(county.raw, db, progress=False, ledger=ledger)
    assert (REFERENCE_UNIT, 2024) in result.carried.units  # its own file unchanged, its findings not
    assert "file.copied" in rules_of(db, REFERENCE_UNIT)
    county.workbook("cz.xlsx", unit_form(FINANCE, scores={"B1": 5}, targets=TARGETS))
    run(county.raw, db, progress=False, ledger=ledger)
    assert "file.copied" not in rules_of(db, REFERENCE_UNIT)
    assert any(r.startswith("report.") for r in rules_of(db, FINANCE))


def must_resubmit(db: Path, unit: str, year: int) -> bool:
    with duckdb.connect(str(db), read_only=True) as con:
        return con.execute("SELECT must_resubmit FROM submission_status WHERE unit_name = ? AND year = ?",
                           [unit, year]).fetchone()[0]


def test_moving_or_breaking_files_changes_what_the_steps_above_compare(built):
    """A newer file that cannot be opened, a rename and a move each change what is recorded
    of a unit-year whose own workbook stays as it was."""
    county, db, ledger = built
    assert not must_resubmit(db, EDUCATION, 2023)
    county.file(f"{EDUCATION}（修改后）.xlsx", b"PK\x03\x04 not a workbook", year=2023)
    run(county.raw, db, progress=False, ledger=ledger)
    assert must_resubmit(db, EDUCATION, 2023)  # its newer version is quarantined
    (county.raw / "2023" / f"{EDUCATION}（修改后）.xlsx").unlink()
    (county.raw / "2023" / "jy.xlsx").rename(county.raw / "2023" / "遂溪县第一中学.xlsx")
    run(county.raw, db, progress=False, ledger=ledger)
    assert "file.copied" in rules_of(db, EDUCATION) and must_resubmit(db, EDUCATION, 2023)
    (county.raw / "2024" / "cz.xlsx").rename(county.raw / "2023" / "cz.xlsx")
    run(county.raw, db, progress=False, ledger=ledger)
    assert "file.wrong_year_folder" in rules_of(db, FINANCE)


def test_a_run_from_the_command_line_ends_with_everything_written(county: County, tmp_path: Path):
    """The command line ends the process as soon as a run is done (pipeline.__main__.end_at_once):
    the summary on a pipe, the warehouse and the record of its build in the cache are all there."""
    county_of_three(county)
    db = tmp_path / "wh" / "performance.duckdb"
    done = run_pipeline(county.raw, db)
    assert done.stdout == summary(db) + "\n"  # all of it, from a block-buffered pipe
    build_id = published_build_id(db)
    assert build_id and carry._made_by_this_code(cache_file_for(db), build_id)[0]
    assert "均未变化" in run_pipeline(county.raw, db).stdout
    assert not list(db.parent.glob(".*carry*"))  # the link to the published build made to read its id is gone
    county.workbook("cz.xlsx", unit_form(FINANCE, scores={"B1": 4}, targets=TARGETS))
    changed = run_pipeline(county.raw, db)
    assert published_build_id(db) != build_id
    assert changed.stdout == summary(db) + "\n"
