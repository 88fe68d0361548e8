"""The bureau's 复核 (contract section 10): decisions recorded through one checked function,
kept in the ledger, read by the pipeline as an input."""

from __future__ import annotations

import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

from pipeline import ledger
from pipeline.ledger.record import Refused, record
from pipeline.publishing import warehouse
from tests.builders import REFERENCE_UNIT, County, reference_form, unit_form
from tests.conftest import ROOT, run_pipeline

CONTENT_TABLES = [t for t in warehouse.TABLES if t != "build_info"]
FINANCE = "遂溪县财政局"


def snapshot(db: Path) -> dict[str, list[tuple]]:
    with duckdb.connect(str(db), read_only=True) as con:
        return {t: con.execute(f"SELECT * FROM {t} ORDER BY ALL").fetchall() for t in CONTENT_TABLES}


def build_id(db: Path) -> str:
    with duckdb.connect(str(db), read_only=True) as con:
        return con.execute("SELECT build_id FROM build_info").fetchone()[0]


def review_cli(*args: str, check: bool = False) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "pipeline", "review", *args], cwd=ROOT, capture_output=True,
                          text=True, check=check, timeout=300)


@pytest.fixture
def two_units(county: County) -> County:
    county.workbook("ref.xlsx", reference_form())
    county.workbook("cz.xlsx", unit_form(FINANCE))
    return county


def rows(path: Path) -> int:
    return len(ledger.all_decisions(path))


@pytest.mark.slow
def test_officer_score_counts_and_says_where_it_comes_from(two_units: County, tmp_path: Path, query):
    book = tmp_path / "ledger" / "bureau.sqlite"
    db = tmp_path / "wh" / "performance.duckdb"
    run_pipeline(two_units.raw, db, "--ledger", str(book))
    [(before, rank_before)] = query(db, "SELECT review_score, rank FROM unit_scores WHERE unit_name = ?", REFERENCE_UNIT)
    assert before == 97.97

    done = review_cli("set", "--ledger", str(book), "--raw", str(two_units.raw), "--db", str(db), "--year", "2024",
                      "--unit", "440823001", "--code", "b6", "--score", "6.5", "--reason", "两份采购合同逾期备案",
                      "--by", "张三", check=True)
    assert "已记录" in done.stdout
    run_pipeline(two_units.raw, db, "--ledger", str(book))
    [(after, grade, rank)] = query(db, "SELECT review_score, review_grade, rank FROM unit_scores WHERE unit_name = ?",
                                   REFERENCE_UNIT)
    assert after == pytest.approx(97.97 - 9 + 6.5)
    assert rank > rank_before  # 财政局 keeps its 98.97 and now ranks first
    assert query(db, "SELECT self_score, rule_score, review_score, review_source, officer, reason "
                     "FROM indicator_scores WHERE unit_name = ? AND code = 'B6'", REFERENCE_UNIT) == [
        (9.0, 9.0, 6.5, "officer", "张三", "两份采购合同逾期备案")]
    sources = dict(query(db, "SELECT code, review_source FROM indicator_scores WHERE unit_name = ? AND year = 2024",
                         REFERENCE_UNIT))
    assert sources["A3"] == "rule" and sources["B5"] == "self"
    [(severity, location, message)] = query(
        db, "SELECT severity, location, message FROM findings WHERE rule = 'review.officer_deduction'")
    assert severity == "warning" and location.startswith("评分表!")
    assert "两份采购合同逾期备案" in message and "张三" in message

    # Withdrawn: the rule's score counts again, and the history keeps both rows.
    review_cli("withdraw", "--ledger", str(book), "--raw", str(two_units.raw), "--db", str(db), "--year", "2024",
               "--unit", REFERENCE_UNIT, "--code", "B6", "--reason", "复查后备案齐全", "--by", "张三", check=True)
    run_pipeline(two_units.raw, db, "--ledger", str(book))
    assert query(db, "SELECT review_score FROM unit_scores WHERE unit_name = ?", REFERENCE_UNIT) == [(97.97,)]
    assert rows(book) == 2
    listing = review_cli("list", "--ledger", str(book), "--raw", str(two_units.raw), "--db", str(db), "--all",
                         check=True)
    assert "撤回" in listing.stdout and "6.5 分" in listing.stdout


@pytest.mark.slow
def test_same_inputs_and_ledger_give_the_same_warehouse(two_units: County, tmp_path: Path):
    book = tmp_path / "ledger.sqlite"
    record(book, year=2024, unit=FINANCE, code="B7", score="8.25", reason="资产卡片与账面不符", officer="李四",
           raw=two_units.raw)
    first, second = tmp_path / "a" / "performance.duckdb", tmp_path / "b" / "performance.duckdb"
    run_pipeline(two_units.raw, first, "--ledger", str(book))
    run_pipeline(two_units.raw, second, "--ledger", str(book))
    assert snapshot(first) == snapshot(second)
    assert build_id(first) == build_id(second)
    unchanged = run_pipeline(two_units.raw, first, "--ledger", str(book))
    assert "保持不变" in unchanged.stdout

    # A new decision is a new input: the build changes, and only where the decision says.
    record(book, year=2024, unit=FINANCE, code="B5", score="14", reason="制度未按期修订", officer="李四",
           raw=two_units.raw)
    rebuilt = run_pipeline(two_units.raw, first, "--ledger", str(book))
    assert "保持不变" not in rebuilt.stdout
    assert build_id(first) != build_id(second)
    changed = {t for t, content in snapshot(first).items() if content != snapshot(second)[t]}
    assert changed <= {"indicator_scores", "unit_scores", "findings", "review_sample", "unit_changes"}
    assert "indicator_scores" in changed


@pytest.mark.parametrize("overrides, why", [
    (dict(unit="遂溪县不存在局"), "不在预算单位名录"),
    (dict(unit="440823999"), "不在预算单位名录"),
    (dict(code="C1"), "不在 2024 年度评分框架"),
    (dict(score="10.01"), "超出范围"),
    (dict(score="-1"), "超出范围"),
    (dict(score="7.125"), "最多保留两位小数"),
    (dict(score="七"), "不是数字"),
    (dict(score="nan"), "不是数字"),
    (dict(score="1e40"), "超出范围"),
    (dict(score="8.5e-9"), "最多保留两位小数"),
    (dict(reason="   "), "必须填写复核理由"),
    (dict(officer=""), "必须填写复核人"),
    (dict(year=2031), "没有评分框架"),
])
def test_refused_decisions_record_nothing(county: County, tmp_path: Path, overrides, why):
    book = tmp_path / "ledger.sqlite"
    decision = dict(year=2024, unit=REFERENCE_UNIT, code="B6", score="8", reason="抽查", officer="张三")
    with pytest.raises(Refused, match=why):
        record(book, raw=county.raw, **{**decision, **overrides})
    assert not book.exists()
    record(book, raw=county.raw, **decision)
    with pytest.raises(Refused, match=why):
        record(book, raw=county.raw, **{**decision, **overrides})
    assert rows(book) == 1


def test_cli_refuses_with_one_chinese_line(county: County, tmp_path: Path):
    book = tmp_path / "ledger.sqlite"
    db = str(tmp_path / "wh" / "none.duckdb")
    done = review_cli("set", "--ledger", str(book), "--raw", str(county.raw), "--db", db,
                      "--year", "2024", "--unit", REFERENCE_UNIT, "--code", "B6", "--score", "11",
                      "--reason", "抽查", "--by", "张三")
    assert done.returncode == 2
    assert done.stderr.strip().count("\n") == 0 and "超出范围" in done.stderr
    assert not book.exists()
    withdrawn = review_cli("withdraw", "--ledger", str(book), "--raw", str(county.raw), "--db", db, "--year", "2024",
                           "--unit", REFERENCE_UNIT, "--code", "B6", "--reason", "抽查", "--by", "张三")
    assert withdrawn.returncode == 2 and "没有可撤回" in withdrawn.stderr


@pytest.mark.slow
def test_a_unit_known_only_to_the_warehouse_is_accepted(two_units: County, tmp_path: Path):
    db = tmp_path / "wh" / "performance.duckdb"
    run_pipeline(two_units.raw, db)
    book = tmp_path / "ledger.sqlite"
    decision = record(book, year=2024, unit=FINANCE, code="B3", score=2, reason="抽查", officer="张三", db=db)
    assert decision.unit_name == FINANCE and decision.score == 2.0


def test_ledger_inside_the_warehouse_folder_is_refused(two_units: County, tmp_path: Path):
    db = tmp_path / "wh" / "performance.duckdb"
    done = run_pipeline(two_units.raw, db, "--ledger", str(db.parent / "bureau.sqlite"), check=False)
    assert done.returncode == 2
    assert done.stderr.count("\n") == 1 and "不能放在数据仓库的文件夹" in done.stderr
    assert not db.exists()


def test_the_ledger_is_append_only(tmp_path: Path, county: County):
    book = tmp_path / "ledger.sqlite"
    record(book, year=2024, unit=REFERENCE_UNIT, code="B6", score="8", reason="抽查", officer="张三", raw=county.raw)
    with sqlite3.connect(book) as con, pytest.raises(sqlite3.DatabaseError, match="append-only"):
        con.execute("UPDATE decisions SET score = 10")


def test_officers_recording_at_once_lose_nothing(county: County, tmp_path: Path):
    book = tmp_path / "ledger.sqlite"
    officers = [f"复核人{n}" for n in range(4)]
    codes = ["A1", "A2", "B1", "B3", "B4", "B5", "B6", "B7"] * 3
    start = tmp_path / "start"
    workers = [subprocess.Popen([sys.executable, "-m", "tests.ledger_worker", str(book), str(county.raw), officer,
                                 REFERENCE_UNIT, str(start), *codes], cwd=ROOT, stdout=subprocess.PIPE, text=True)
               for officer in officers]
    start.touch()
    assert [int(w.communicate(timeout=300)[0]) for w in workers] == [len(codes)] * len(officers)
    recorded = ledger.all_decisions(book)
    assert len(recorded) == len(officers) * len(codes)
    for officer in officers:
        assert [d.reason for d in recorded if d.officer == officer] == [f"{officer} 第{n}条" for n in range(len(codes))]


@pytest.mark.slow
def test_outputs_use_the_final_review_and_count_the_officers_changes(two_units: County, tmp_path: Path):
    from pipeline.outputs import summary
    from pipeline.outputs.load import read_year
    from pipeline.outputs.ranking_book import ranking_sheet, review_sheet

    book = tmp_path / "ledger.sqlite"
    record(book, year=2024, unit=REFERENCE_UNIT, code="B6", score="6", reason="合同逾期备案", officer="张三",
           raw=two_units.raw)
    record(book, year=2024, unit=REFERENCE_UNIT, code="B5", score="15", reason="核实无误", officer="张三",
           raw=two_units.raw)  # the same as the rule's: not a change
    db = tmp_path / "wh" / "performance.duckdb"
    run_pipeline(two_units.raw, db, "--ledger", str(book))
    data = read_year(db, 2024)

    ranking = ranking_sheet(data.scores, 2024, data.indicators)
    header = [c.header for c in ranking.columns]
    by_unit = {r[header.index("单位名称")]: r for r in ranking.rows}
    assert by_unit[REFERENCE_UNIT][header.index("财政局改动指标数")] == 1
    assert by_unit[REFERENCE_UNIT][header.index("复核得分")] == pytest.approx(94.97)
    assert by_unit[REFERENCE_UNIT][header.index("排名")] == 2
    assert ranking.rows[-1][header.index("财政局改动指标数")] == 1

    review = review_sheet(data.indicators, data.scores, 2024)
    header = [c.header for c in review.columns]
    [b6] = [r for r in review.rows if r[1] == REFERENCE_UNIT and r[2] == "B6"]
    assert (b6[header.index("规则复核得分")], b6[header.index("复核得分")]) == (9.0, 6.0)
    assert (b6[header.index("采用")], b6[header.index("复核人")], b6[header.index("复核理由")]) == (
        "财政局复核", "张三", "合同逾期备案")

    sentence = summary.officer_review_sentence(data.indicators)
    assert "改动了 1 个单位的 1 项指标得分（其中调低 1 项）" in sentence


def test_make_clean_keeps_the_ledger(tmp_path: Path):
    shutil.copy(ROOT / "Makefile", tmp_path / "Makefile")
    (tmp_path / "warehouse").mkdir()
    (tmp_path / "warehouse" / "performance.duckdb").write_bytes(b"build")
    (tmp_path / "ledger").mkdir()
    book = tmp_path / "ledger" / "bureau.sqlite"
    record(book, year=2024, unit="440823001", code="B6", score="8", reason="抽查", officer="张三",
           raw=County(tmp_path / "raw").raw)
    done = subprocess.run(["make", "clean"], cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert not (tmp_path / "warehouse" / "performance.duckdb").exists()
    assert len(ledger.all_decisions(book)) == 1
