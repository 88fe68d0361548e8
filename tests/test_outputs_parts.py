"""The pure parts of the outputs: frames in, bytes out; file names, widths, dates, labels."""

from __future__ import annotations

import io
import zipfile
from dataclasses import replace
from datetime import date

import docx
import openpyxl
import pytest

from pipeline.checking.findings import rule_label
from pipeline.outputs import __main__ as outputs_cli
from pipeline.outputs import notices, ranking_book, summary
from pipeline.outputs.common import add_working_days, display_width, safe_file_stem
from pipeline.outputs.load import read_year

YEAR = 2024
REFERENCE_UNIT = "遂溪县人民政府办公室"
FORMULA_LIKE = ['=HYPERLINK("http://example.invalid","点此")', "+1+2", "-3*2", "@SUM(A1:A2)", "=1+1"]


@pytest.fixture(scope="module")
def year_data(sample_warehouse):
    return read_year(sample_warehouse, YEAR)


def _renamed(data, old: str, new: str):
    """The same year with one unit renamed everywhere, as if its 基本信息 said so."""
    def rename(frame):
        frame = frame.copy()
        if "unit_name" in frame:
            frame["unit_name"] = frame["unit_name"].replace(old, new)
        return frame
    return replace(data, scores=rename(data.scores), indicators=rename(data.indicators),
                   findings=rename(data.findings), status=rename(data.status), changes=rename(data.changes))


def test_text_that_looks_like_a_formula_is_written_as_text(year_data):
    data = _renamed(year_data, REFERENCE_UNIT, FORMULA_LIKE[0])
    findings = data.findings.copy()
    first = findings.index[0]
    findings.loc[first, ["message", "found", "expected", "location"]] = FORMULA_LIKE[1:]
    data = replace(data, findings=findings)
    book = openpyxl.load_workbook(io.BytesIO(ranking_book.year_workbook(data)))

    ranking = book["排名表"]
    name_cells = [row[2] for row in ranking.iter_rows(min_row=3) if row[2].value == FORMULA_LIKE[0]]
    assert len(name_cells) == 1 and name_cells[0].data_type == "s"
    review_names = {row[1].value for row in book["复核表"].iter_rows(min_row=3)}
    assert FORMULA_LIKE[0] in review_names
    listed = book["问题清单"]
    texts = {cell.value: cell.data_type for row in listed.iter_rows(min_row=3) for cell in row
             if isinstance(cell.value, str)}
    for value in FORMULA_LIKE[1:]:
        assert texts.get(value) == "s", value
    formulas = [cell.coordinate for sheet in book.worksheets for row in sheet.iter_rows() for cell in row
                if cell.data_type == "f"]
    assert formulas == []


def test_a_notice_for_a_unit_named_like_a_formula_and_a_path(year_data):
    strange = '=遂溪县/测试:单位*'
    data = _renamed(year_data, "遂溪县司法局", strange)
    due = notices.deadline(date(2025, 8, 1))
    made = notices.year_notices(data.status, data.findings, YEAR, due)
    notice = next(n for n in made if n.unit_name == strange)
    assert notice.file_name == "2024_117001_=遂溪县_测试_单位__退回修改通知.docx"
    text = "\n".join(p.text for p in docx.Document(io.BytesIO(notice.content)).paragraphs)
    assert f"{strange}：" in text
    with zipfile.ZipFile(io.BytesIO(notices.notices_zip(made, due.issued_on))) as archive:
        assert notice.file_name in archive.namelist()


def test_a_year_without_units_to_send_back_gives_an_empty_but_valid_zip(sample_warehouse):
    data = read_year(sample_warehouse, 2022)
    assert not data.status["must_resubmit"].any()
    made = notices.year_notices(data.status, data.findings, 2022, notices.deadline(date(2023, 8, 1)))
    assert made == []
    with zipfile.ZipFile(io.BytesIO(notices.notices_zip(made, date(2023, 8, 1)))) as archive:
        assert archive.namelist() == []


def test_deadline_is_ten_working_days_or_the_date_given():
    friday = date(2025, 8, 1)
    assert add_working_days(friday, 1) == date(2025, 8, 4)
    assert notices.deadline(friday).resubmit_by == date(2025, 8, 15)
    chosen = notices.deadline(friday, date(2025, 8, 20))
    assert chosen.resubmit_by == date(2025, 8, 20) and chosen.basis == ""
    with pytest.raises(ValueError):
        notices.deadline(friday, date(2025, 7, 31))


@pytest.mark.parametrize("name, stem", [
    ("遂溪县司法局", "遂溪县司法局"),
    ('a/b\\c:d*e?f"g<h>i|j', "a_b_c_d_e_f_g_h_i_j"),
    ("CON", "_CON"),
    ("  名称以点结尾. ", "名称以点结尾"),
    ("", "未命名"),
])
def test_file_names_are_safe_on_windows(name, stem):
    assert safe_file_stem(name) == stem


def test_chinese_characters_count_double_width():
    assert display_width("遂溪县") == 6
    assert display_width("A3") == 2
    assert display_width("（元）") == 6


def test_rules_have_chinese_labels(year_data):
    assert rule_label("identity.r13") == "勾稽关系不符（行次13）"
    assert rule_label("report.mismatch.execution_rate") == "自评报告与表格不一致"
    assert rule_label("no.such_rule") == "no.such_rule"
    unlabelled = {r for r in year_data.findings["rule"] if rule_label(r) == r}
    assert unlabelled == set()


def test_ranking_totals_come_from_the_sums(year_data):
    sheet = ranking_book.ranking_sheet(year_data.scores, YEAR)
    total = sheet.rows[-1]
    headers = [c.header for c in sheet.columns]
    budget = year_data.scores["budget_issued"].sum()
    spent = year_data.scores["spent"].sum()
    assert total[headers.index("财政下达预算数（元）")] == pytest.approx(budget, abs=0.01)
    assert total[headers.index("预算资金支出率")] == pytest.approx(spent / budget, rel=1e-6)
    assert total[headers.index("预算资金支出率")] != pytest.approx(year_data.scores["execution_rate"].mean(),
                                                              rel=1e-6)


def test_summary_content_is_deterministic(year_data):
    first = summary.summary_content(year_data, date(2025, 8, 1))
    second = summary.summary_content(year_data, date(2025, 8, 1))
    assert first.text() == second.text()
    assert list(first.figures) == list(second.figures)
    assert "2025年8月1日" in summary.summary_html(first, {})


def test_common_problems_are_counted_by_rule(year_data):
    problems = summary.common_problems(year_data.findings)
    assert problems["count"].sum() == len(year_data.findings)
    assert problems["count"].is_monotonic_decreasing
    top = problems.iloc[0]
    assert top["count"] == year_data.findings["rule"].value_counts().max()


def test_command_reports_a_year_the_warehouse_does_not_hold(sample_warehouse, tmp_path, capsys):
    code = outputs_cli.main(["--year", "1999", "--db", str(sample_warehouse), "--out", str(tmp_path)])
    assert code == 2
    assert "没有 1999 年度" in capsys.readouterr().err
    assert list(tmp_path.iterdir()) == []
    assert outputs_cli.main(["--year", "2024", "--db", str(tmp_path / "none.duckdb"), "--out",
                             str(tmp_path)]) == 2


def _section(report: summary.Summary, heading: str) -> list:
    """The blocks under one heading, up to the next."""
    at = next(i for i, b in enumerate(report.blocks) if isinstance(b, summary.Heading) and b.text == heading)
    end = next((i for i in range(at + 1, len(report.blocks)) if isinstance(report.blocks[i], summary.Heading)),
               len(report.blocks))
    return report.blocks[at + 1:end]


def test_summary_says_how_much_of_what_was_sent_back_was_fixed(year_data):
    items = year_data.rectifications
    counts = items["status"].value_counts()
    assert counts.get("overdue", 0) and counts.get("fixed", 0)  # the sample county has both
    blocks = _section(summary.summary_content(year_data, date(2025, 9, 1)), "七、退回修改与整改")
    words = blocks[0].text
    assert f"{len(items)} 项" in words and f"涉及 {items['unit_name'].nunique()} 个单位" in words
    assert f"已在重新报送的版本中改正 {counts['fixed']} 项" in words
    assert f"逾期未改正 {counts['overdue']} 项" in words
    overdue_units = sorted(set(items.loc[items["status"] == "overdue", "unit_name"]))
    assert all(unit in words for unit in overdue_units)
    as_of = max(items["as_of"])
    assert f"截至{as_of.year}年{as_of.month}月{as_of.day}日" in words
    (table,) = [b for b in blocks if isinstance(b, summary.Table)]
    listed = [row[0] for row in table.rows]
    waiting = set(items.loc[items["status"] != "fixed", "unit_name"])
    assert set(listed) <= waiting and len(listed) == min(summary.RECTIFICATION_UNITS_COUNT, len(waiting))
    # overdue units first: as many of them as the table holds
    assert set(listed[:len(overdue_units)]) <= set(overdue_units)
    overdue_column = [int(row[5]) for row in table.rows]
    assert overdue_column == sorted(overdue_column, reverse=True)  # overdue units first


def test_a_year_without_anything_to_rectify_says_so(year_data):
    quiet = replace(year_data, rectifications=year_data.rectifications.iloc[0:0])
    blocks = _section(summary.summary_content(quiet, date(2025, 9, 1)), "七、退回修改与整改")
    assert [type(b) for b in blocks] == [summary.Paragraph] and "没有须整改的事项" in blocks[0].text
