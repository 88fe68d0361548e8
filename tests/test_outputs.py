"""What the bureau sends out, built by `python -m pipeline.outputs` from the sample county's
warehouse and read back with independent readers: openpyxl, python-docx, zipfile, pypdf, PIL."""

from __future__ import annotations

import io
import re
import shutil
import subprocess
import sys
import unicodedata
import zipfile
from datetime import date
from pathlib import Path

import docx
import openpyxl
import pytest
from PIL import Image
from pypdf import PdfReader

from pipeline.scoring import metrics
from pipeline.outputs import build as outputs_build
from pipeline.outputs.ranking_book import SHEETS

ROOT = Path(__file__).resolve().parent.parent
YEAR = 2024
ISSUED_ON = date(2025, 8, 1)          # a Friday
TEN_WORKING_DAYS_LATER = "2025年8月15日"  # Mon 4 … Fri 8, Mon 11 … Fri 15 August
REFERENCE_UNIT = "遂溪县人民政府办公室"
FAULTY_UNIT = "遂溪县司法局"           # its 数据表!C16 (行次13) reads 见附表
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(scope="module")
def produced(sample_warehouse: Path, tmp_path_factory) -> Path:
    """The folder `make report` writes, made by the command itself in its own process."""
    out = tmp_path_factory.mktemp("outputs")
    result = subprocess.run(
        [sys.executable, "-m", "pipeline.outputs", "--year", str(YEAR), "--db", str(sample_warehouse),
         "--out", str(out), "--issued-on", ISSUED_ON.isoformat()],
        cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    assert "退回修改通知" in result.stdout
    return out / str(YEAR)


@pytest.fixture(scope="module")
def workbook(produced: Path) -> openpyxl.Workbook:
    return openpyxl.load_workbook(produced / outputs_build.workbook_name(YEAR))


def _row_of(sheet, column: int, value: str) -> list:
    for row in sheet.iter_rows():
        if row[column].value == value:
            return list(row)
    raise AssertionError(f"{value} not in column {column} of {sheet.title}")


def _header(sheet) -> list[str]:
    return [c.value for c in sheet[2]]


def _cell(sheet, row: list, header: str):
    return row[_header(sheet).index(header)]


# --- the workbook -------------------------------------------------------------------------


def test_workbook_has_the_four_sheets_ready_to_print(workbook):
    assert workbook.sheetnames == list(SHEETS) == ["排名表", "复核表", "问题清单", "未报送"]
    for sheet in workbook.worksheets:
        assert sheet.page_setup.orientation == "landscape", sheet.title
        assert int(sheet.page_setup.paperSize) == 9, sheet.title  # A4
        assert sheet.print_title_rows == "$1:$2", sheet.title
        assert sheet.freeze_panes == "D3", sheet.title
        assert sheet.sheet_properties.pageSetUpPr.fitToPage, sheet.title
        # One page wide (1 is the default, so the file may leave it out), as many pages long as needed.
        assert (sheet.page_setup.fitToWidth or 1) == 1 and sheet.page_setup.fitToHeight == 0, sheet.title
        assert str(YEAR) in sheet["A1"].value


def test_ranking_row_of_the_reference_unit(workbook, sample_warehouse, query):
    sheet = workbook["排名表"]
    row = _row_of(sheet, 2, REFERENCE_UNIT)
    (rank, budget, spent), = query(sample_warehouse, "SELECT rank, budget_issued, spent FROM unit_scores "
                                   "WHERE unit_name = ? AND year = ?", REFERENCE_UNIT, YEAR)
    assert _cell(sheet, row, "排名").value == rank
    assert _cell(sheet, row, "预算资金支出率").value == pytest.approx(0.99724, abs=5e-6)
    assert _cell(sheet, row, "预算资金支出率").number_format == "0.00%"
    assert _cell(sheet, row, "财政下达预算数（元）").value == pytest.approx(budget, abs=0.005)
    assert _cell(sheet, row, "财政下达预算数（元）").number_format == "#,##0.00"
    assert _cell(sheet, row, "支出决算数（元）").value == pytest.approx(spent, abs=0.005)
    assert _cell(sheet, row, "自评得分").value == 98
    assert _cell(sheet, row, "自评等级").value == "优"
    assert _cell(sheet, row, "复核得分").value == pytest.approx(97.97)
    assert _cell(sheet, row, "复核等级").value == "优"
    ranks = [r[0].value for r in sheet.iter_rows(min_row=3) if isinstance(r[0].value, int)]
    assert ranks == sorted(ranks) and ranks[0] == 1


def test_ranking_totals_row_is_the_rate_of_the_sums(workbook, sample_warehouse, query):
    sheet = workbook["排名表"]
    total = list(sheet[sheet.max_row])
    units, budget, spent, sangong_budget, sangong_spent = query(
        sample_warehouse, "SELECT count(*), sum(budget_issued), sum(spent), sum(sangong_budget), "
        "sum(sangong_spent) FROM unit_scores WHERE year = ?", YEAR)[0]
    assert _cell(sheet, total, "单位编码").value == "合计"
    assert str(units) in _cell(sheet, total, "单位名称").value
    assert _cell(sheet, total, "财政下达预算数（元）").value == pytest.approx(budget, abs=0.01)
    assert _cell(sheet, total, "支出决算数（元）").value == pytest.approx(spent, abs=0.01)
    rate = _cell(sheet, total, "预算资金支出率")
    assert rate.value == pytest.approx(metrics.execution_rate(spent, budget), rel=1e-9)
    assert rate.number_format == "0.00%"
    assert _cell(sheet, total, "三公经费控制率").value == pytest.approx(sangong_spent / sangong_budget, rel=1e-9)
    assert total[0].font.bold
    assert sheet.max_row == 2 + units + 1


def test_columns_are_wide_enough_for_chinese_names(workbook, sample_warehouse, query):
    sheet = workbook["排名表"]
    longest = max(len(name) for (name,) in query(sample_warehouse,
                                                 "SELECT unit_name FROM unit_scores WHERE year = ?", YEAR))
    # A Chinese character takes two columns of width.
    assert sheet.column_dimensions["C"].width >= 2 * longest
    assert sheet.column_dimensions["F"].width >= len("财政下达预算数（元）") * 2


def test_review_sheet_shows_each_indicator_self_against_review(workbook):
    sheet = workbook["复核表"]
    rows = [r for r in sheet.iter_rows(min_row=3) if r[1].value == REFERENCE_UNIT]
    by_code = {r[2].value: r for r in rows}
    assert set(by_code) == {"A1", "A2", "A3", "B1", "B2", "B3", "B4", "B5", "B6", "B7", "B8", "B9", "小计"}
    a3 = by_code["A3"]
    assert _cell(sheet, a3, "三级指标").value == "部门预算资金支出率"
    assert _cell(sheet, a3, "分值").value == 10
    assert _cell(sheet, a3, "复核得分").value == pytest.approx(9.97)
    subtotal = by_code["小计"]
    assert _cell(sheet, subtotal, "分值").value == pytest.approx(100)
    assert _cell(sheet, subtotal, "复核得分").value == pytest.approx(97.97)
    assert subtotal[2].font.bold


def test_findings_sheet_lists_every_finding_with_its_cell(workbook, sample_warehouse, query):
    sheet = workbook["问题清单"]
    row = _row_of(sheet, 2, FAULTY_UNIT)
    assert _cell(sheet, row, "位置").value == "数据表!C16"
    assert _cell(sheet, row, "严重程度").value == "致命"
    assert _cell(sheet, row, "填报值").value == "见附表"
    assert _cell(sheet, row, "问题类别").value == "金额不是数字"
    (count, history), = query(sample_warehouse, """
        SELECT count(*) FILTER (WHERE i.state IS DISTINCT FROM 'superseded'), count(*) FILTER (WHERE i.state = 'superseded')
        FROM findings f LEFT JOIN ingest_files i ON i.file = f.file
        WHERE COALESCE(f.year, i.year, i.folder_year) = ?""", YEAR)
    numbered = [r for r in sheet.iter_rows(min_row=3) if isinstance(r[0].value, int)]
    assert len(numbered) == count
    total = next(r for r in sheet.iter_rows(min_row=3) if r[1].value == "合计")
    assert f"共 {count} 条" in total[2].value


def test_findings_of_a_superseded_file_are_history_not_counted(workbook, sample_warehouse, query):
    """A unit that sent a corrected file is not charged with the errors of the file it replaced."""
    superseded = query(sample_warehouse, """
        SELECT DISTINCT f.unit_name FROM findings f JOIN ingest_files i ON i.file = f.file
        WHERE i.state = 'superseded' AND f.severity = 'error' AND i.year = ?""", YEAR)
    assert superseded, "the sample county has a superseded file with an error"
    sheet = workbook["问题清单"]
    rows = list(sheet.iter_rows(min_row=3, values_only=True))
    marker = next(index for index, r in enumerate(rows) if r[1] == "历史记录")
    headers = [c.value for c in sheet[2]]
    state = headers.index("文件状态")
    for (unit,) in superseded:
        open_rows = [r for r in rows[:marker] if r[2] == unit and isinstance(r[0], int)]
        assert all(r[state] != "已被替代" for r in open_rows)
        assert any(r[2] == unit and r[state] == "已被替代" and r[0] is None for r in rows[marker + 1:])


def test_missing_sheet_names_the_units_with_nothing_loaded(workbook, sample_warehouse, query):
    sheet = workbook["未报送"]
    expected = {name for (name,) in query(sample_warehouse, "SELECT unit_name FROM submission_status "
                                          "WHERE year = ? AND in_roster AND NOT loaded", YEAR)}
    listed = {r[2].value for r in sheet.iter_rows(min_row=3) if isinstance(r[0].value, int)}
    assert listed == expected and FAULTY_UNIT in listed
    assert _cell(sheet, _row_of(sheet, 2, FAULTY_UNIT), "情况").value.startswith("已报送但无法入库")


# --- the notices --------------------------------------------------------------------------


def _docx_text(content: bytes) -> str:
    document = docx.Document(io.BytesIO(content))
    parts = [p.text for p in document.paragraphs]
    for table in document.tables:
        parts += ["\t".join(c.text for c in row.cells) for row in table.rows]
    return "\n".join(parts)


def test_one_notice_per_unit_that_must_resubmit_all_zipped(produced, sample_warehouse, query):
    expected = {name for (name,) in query(sample_warehouse, "SELECT unit_name FROM submission_status "
                                          "WHERE year = ? AND must_resubmit", YEAR)}
    assert expected, "the sample county has units to send back"
    folder = sorted((produced / outputs_build.NOTICES_FOLDER).glob("*.docx"))
    with zipfile.ZipFile(produced / outputs_build.notices_zip_name(YEAR)) as archive:
        assert archive.testzip() is None
        names = archive.namelist()
        assert sorted(names) == [p.name for p in folder]
        for name in names:
            assert not re.search(r'[<>:"/\\|?*]', name)
            assert name.endswith("_退回修改通知.docx")
            assert archive.getinfo(name).flag_bits & 0x800  # UTF-8 names
        named = {name for name in expected if any(name in n for n in names)}
        assert named == expected and len(names) == len(expected)
        notice = next(n for n in names if FAULTY_UNIT in n)
        text = _docx_text(archive.read(notice))
    assert FAULTY_UNIT in text and f"{YEAR}年度" in text
    assert "数据表!C16" in text and "见附表" in text
    assert TEN_WORKING_DAYS_LATER in text and "10 个工作日" in text
    assert "须改正的问题" in text


def test_notice_lists_warnings_for_reference(produced, sample_warehouse, query):
    rows = query(sample_warehouse, "SELECT s.unit_name, count(*) FROM submission_status s JOIN findings f "
                 "ON f.unit_name = s.unit_name AND f.year = s.year WHERE s.year = ? AND s.must_resubmit "
                 "AND f.severity = 'warning' GROUP BY 1 ORDER BY 1", YEAR)
    assert rows
    unit, warnings = rows[0]
    path = next((produced / outputs_build.NOTICES_FOLDER).glob(f"*{unit}*.docx"))
    document = docx.Document(path)
    reference_table = document.tables[-1]
    assert len(reference_table.rows) == 1 + warnings
    assert "供参考" in "\n".join(p.text for p in document.paragraphs)


# --- the summary report -------------------------------------------------------------------


def _summary(produced: Path, suffix: str) -> Path:
    return produced / f"{outputs_build.summary_stem(YEAR)}{suffix}"


def test_summary_docx_states_the_county_figures(produced, sample_warehouse, query):
    text = _docx_text(_summary(produced, ".docx").read_bytes())
    budget, spent, sangong_budget, sangong_spent = query(
        sample_warehouse, "SELECT sum(budget_issued), sum(spent), sum(sangong_budget), sum(sangong_spent) "
        "FROM unit_scores WHERE year = ?", YEAR)[0]
    assert f"{YEAR}年度全县部门整体支出绩效自评情况" in text
    assert f"预算资金支出率 {spent / budget * 100:.2f}%" in text
    assert f"三公经费控制率 {sangong_spent / sangong_budget * 100:.2f}%" in text
    assert f"{sangong_budget / 10_000:,.2f} 万元" in text
    (best,), = query(sample_warehouse, "SELECT unit_name FROM unit_scores WHERE year = ? AND rank = 1", YEAR)
    assert f"第一名为{best}" in text
    for grade, count in query(sample_warehouse, "SELECT review_grade, count(*) FROM unit_scores "
                              "WHERE year = ? GROUP BY 1", YEAR):
        assert f"“{grade}”{count} 个" in text
    (missing_reports,), = query(sample_warehouse, "SELECT count(*) FROM findings WHERE year = ? "
                                "AND rule = 'report.missing'", YEAR)
    assert f"未报送自评报告\t提示\t{missing_reports}\t" in text
    assert "与上年相比" in text and "复核得分上升的" in text


def test_summary_docx_embeds_the_charts_as_images(produced):
    document = docx.Document(_summary(produced, ".docx"))
    charts = sorted((produced / outputs_build.CHARTS_FOLDER).glob("*.png"))
    assert len(charts) >= 5
    assert len(document.inline_shapes) == len(charts)
    embedded = [part.blob for part in document.part.package.parts if part.content_type == "image/png"]
    assert sorted(embedded) == sorted(p.read_bytes() for p in charts)
    for path in charts:
        with Image.open(path) as image:
            assert image.format == "PNG"
            width, height = image.size
            assert width == 2000 and 600 <= height <= 3000, path.name
            # A drawn chart has many colours (bars, anti-aliased text); a blank or failed one has few.
            assert len(image.convert("RGB").getcolors(maxcolors=1 << 20) or []) > 50, path.name


# The CJK fonts draw some characters with the glyph of a radical (门 and ⻔ are one glyph), and
# the PDF's text layer then names the radical; NFKC folds the Kangxi radicals, these the rest.
SIMPLIFIED_RADICALS = str.maketrans("⻔⻅⺠⻓⻋⻢⻛⻉⻜⻥⻦⻩⻘⻚", "门见民长车马风贝飞鱼鸟黄青页")


def test_summary_pdf_has_the_chinese_text(produced):
    reader = PdfReader(_summary(produced, ".pdf"))
    assert len(reader.pages) >= 3
    text = "".join(page.extract_text() for page in reader.pages)
    compact = re.sub(r"\s+", "", unicodedata.normalize("NFKC", text)).translate(SIMPLIFIED_RADICALS)
    assert f"{YEAR}年度全县部门整体支出绩效自评情况" in compact
    assert "审核发现的主要问题" in compact and "退回修改的单位" in compact and FAULTY_UNIT in compact
    images = sum(len(page.images) for page in reader.pages)
    assert images >= 5


def _pdf_font_names(reader: PdfReader) -> set[str]:
    names = set()
    for page in reader.pages:
        fonts = (page.get("/Resources") or {}).get("/Font") or {}
        for font in fonts.values():
            names.add(str(font.get_object().get("/BaseFont", "")))
    return names


@pytest.mark.skipif(shutil.which("soffice") is None, reason="LibreOffice (soffice) is not installed")
def test_word_files_render_with_chinese_fonts(produced, tmp_path):
    """LibreOffice lays the .docx files out as a reader's Word would; the PDF it prints names its fonts."""
    summary_docx = _summary(produced, ".docx")
    notice = next((produced / outputs_build.NOTICES_FOLDER).glob(f"*{FAULTY_UNIT}*.docx"))
    result = subprocess.run(
        ["soffice", f"-env:UserInstallation=file://{tmp_path / 'profile'}", "--headless", "--convert-to", "pdf",
         "--outdir", str(tmp_path), str(summary_docx), str(notice)],
        capture_output=True, text=True, timeout=240)
    assert result.returncode == 0, result.stderr
    for source in (summary_docx, notice):
        reader = PdfReader(tmp_path / f"{source.stem}.pdf")
        assert any("CJK" in name for name in _pdf_font_names(reader)), _pdf_font_names(reader)
        text = re.sub(r"\s+", "", unicodedata.normalize("NFKC", "".join(p.extract_text() for p in reader.pages)))
        text = text.translate(SIMPLIFIED_RADICALS)
        if source == notice:
            assert FAULTY_UNIT in text and "数据表!C16" in text and "退回修改通知" in text
        else:
            assert f"{YEAR}年度全县部门整体支出绩效自评情况" in text
            assert sum(len(page.images) for page in reader.pages) >= 5


# --- 绩效目标表 in the outputs --------------------------------------------------------------


def test_outputs_carry_the_targets(produced, workbook, sample_warehouse, query):
    sheet = workbook["复核表"]
    reference = {r[2].value: r for r in sheet.iter_rows(min_row=3) if r[1].value == REFERENCE_UNIT}
    assert "未报送绩效目标表" in _cell(sheet, reference["A2"], "复核方法").value
    (unit, missed), = query(sample_warehouse, """
        SELECT unit_name, count(*) FROM targets WHERE year = ? AND completion < 1
          AND (reason IS NULL OR trim(reason) = '') GROUP BY 1 ORDER BY 2 DESC, 1 LIMIT 1""", YEAR)
    row = next(r for r in sheet.iter_rows(min_row=3) if r[1].value == unit and r[2].value == "A2")
    assert _cell(sheet, row, "复核方法").value.startswith("目标完成度：绩效目标加权完成度")
    assert f"（{missed}个未说明原因）" in _cell(sheet, row, "复核方法").value

    notice = next((produced / outputs_build.NOTICES_FOLDER).glob(f"*{unit}*.docx"))
    text = _docx_text(notice.read_bytes())
    assert "未完成目标未说明原因" in text and "须填写偏差原因" in text

    summary = _docx_text(_summary(produced, ".docx").read_bytes())
    (units, count), = query(sample_warehouse, "SELECT count(DISTINCT unit_name), count(*) FROM targets "
                                              "WHERE year = ?", YEAR)
    assert f"填报绩效目标表的单位 {units} 个，共设定绩效目标 {count} 个" in summary
    assert "加权完成度平均为" in summary and REFERENCE_UNIT in summary.split("五之二")[1]
