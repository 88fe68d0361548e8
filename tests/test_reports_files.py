"""Reading 自评报告 files (.txt in UTF-8 / GB18030, .docx, text-based .pdf) and finding
whose report each one is. Every file is written in tmp_path by the test."""

from __future__ import annotations

import zipfile
from pathlib import Path

import docx
import pytest
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.cidfonts import UnicodeCIDFont
from reportlab.pdfgen import canvas

from pipeline.narratives.reports import (
    REPORT_SUFFIXES,
    ReportReadError,
    check_report,
    extract_figures,
    match_unit,
    read_report_text,
)
from tests.test_reports_texts import (
    FULL_REPORT,
    REFERENCE_UNIT,
    WANYUAN_REPORT,
    WANYUAN_UNIT,
    section7_tables,
)

ROSTER = [REFERENCE_UNIT, "遂溪县人民政府", "遂溪县财政局", WANYUAN_UNIT, "遂溪县农业农村局下属站"]


def _items(text: str) -> dict[str, list[float | str | None]]:
    grouped: dict[str, list[float | str | None]] = {}
    for figure in extract_figures(text):
        grouped.setdefault(figure.item, []).append(
            figure.value if figure.value is not None else figure.text_value)
    return grouped


def test_suffixes():
    assert REPORT_SUFFIXES == {".txt", ".docx", ".pdf"}


# ---------------------------------------------------------------- .txt

@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "gb18030", "gbk", "utf-16"])
def test_txt_in_each_encoding_units_save(tmp_path: Path, encoding: str):
    path = tmp_path / "报告.txt"
    path.write_bytes(FULL_REPORT.replace("\n", "\r\n").encode(encoding))
    text = read_report_text(path)
    assert "\r" not in text and "\ufeff" not in text
    assert text.startswith("部门整体支出绩效自评报告")
    # NFKC: full-width digits and punctuation are half-width
    assert "评价年度:2024 年度" in text and "8374036.75元" in text
    assert check_report(extract_figures(text), section7_tables())[0].rule == \
        "report.mismatch.execution_rate"


def test_gb18030_text_is_not_mistaken_for_utf8(tmp_path: Path):
    path = tmp_path / "农业农村局.TXT"
    path.write_bytes(WANYUAN_REPORT.encode("gb18030"))
    with pytest.raises(UnicodeDecodeError):
        path.read_bytes().decode("utf-8")
    items = _items(read_report_text(path))
    assert items["r13"] == [12501000.0]
    assert items["unit_name"] == [WANYUAN_UNIT]


def test_undecodable_and_empty_txt(tmp_path: Path):
    garbage = tmp_path / "乱码.txt"
    garbage.write_bytes(b"\x81\x30\xff\xfe\x00\x80" * 10 + b"\xff")
    with pytest.raises(ReportReadError, match="编码"):
        read_report_text(garbage)
    empty = tmp_path / "空白.txt"
    empty.write_bytes(" \r\n\u3000".encode())
    with pytest.raises(ReportReadError, match="空"):
        read_report_text(empty)
    with pytest.raises(ReportReadError, match="无法打开"):
        read_report_text(tmp_path / "不存在.txt")
    with pytest.raises(ReportReadError, match="不支持"):
        read_report_text(tmp_path / "报告.doc")


# ---------------------------------------------------------------- .docx

def _write_docx(path: Path) -> None:
    document = docx.Document()
    body = FULL_REPORT.split("四、存在问题及改进措施")[0]
    for paragraph in body.splitlines():
        document.add_paragraph(paragraph)
    document.add_paragraph("五、主要数据")
    table = document.add_table(rows=3, cols=3)
    table.cell(0, 0).text = "项目"
    table.cell(0, 1).text = "金额"
    table.cell(0, 2).text = "备注"
    table.cell(1, 0).text = "三公经费预算数"
    table.cell(1, 1).text = "340000.00元"
    table.cell(1, 2).text = "年初批复"
    merged = table.cell(2, 1).merge(table.cell(2, 2))
    table.cell(2, 0).text = "三公经费实际支出数"
    merged.text = "２５６９２９．６６元"
    document.add_paragraph("六、其他说明")
    document.add_paragraph("无。")
    document.save(str(path))


def test_docx_paragraphs_and_table_cells_in_order(tmp_path: Path):
    path = tmp_path / "遂溪县人民政府办公室2024年自评报告.docx"
    _write_docx(path)
    text = read_report_text(path)
    lines = [line for line in text.splitlines() if line.strip()]
    assert lines[0] == "部门整体支出绩效自评报告"
    table_at = lines.index("三公经费预算数  340000.00元  年初批复")
    # the merged cell is read once; the table sits between its neighbouring paragraphs
    assert lines[table_at + 1] == "三公经费实际支出数  256929.66元"
    assert lines[table_at - 2] == "五、主要数据" and lines[table_at + 2] == "六、其他说明"
    items = _items(text)
    assert items["r19"] == [340000.0, 340000.0]
    assert items["r20"] == [256929.66, 256929.66]
    assert items["execution_rate"] == [1.0, 0.9972]
    assert match_unit(text, path.name, ROSTER) == REFERENCE_UNIT
    findings = check_report(extract_figures(text), section7_tables())
    assert [f.rule for f in findings] == ["report.mismatch.execution_rate"]


def test_corrupt_docx_raises_report_read_error(tmp_path: Path):
    not_a_zip = tmp_path / "损坏.docx"
    not_a_zip.write_bytes(b"PK\x03\x04 this is not a word document")
    with pytest.raises(ReportReadError, match="Word"):
        read_report_text(not_a_zip)
    # a real zip without word/document.xml
    empty_zip = tmp_path / "空包.docx"
    with zipfile.ZipFile(empty_zip, "w") as archive:
        archive.writestr("readme.txt", "nothing here")
    with pytest.raises(ReportReadError, match="Word"):
        read_report_text(empty_zip)


# ---------------------------------------------------------------- .pdf

def _write_pdf(path: Path, text: str) -> None:
    """A text-based PDF in reportlab's built-in Chinese CID font (no system font needed)."""
    pdfmetrics.registerFont(UnicodeCIDFont("STSong-Light"))
    page = canvas.Canvas(str(path))
    page.setFont("STSong-Light", 10)
    y = 800
    for line in text.splitlines():
        if y < 40:
            page.showPage()
            page.setFont("STSong-Light", 10)
            y = 800
        page.drawString(40, y, line[:56])
        if len(line) > 56:  # a long paragraph wraps onto the next line, as in a real PDF
            y -= 14
            page.drawString(40, y, line[56:])
        y -= 14
    page.save()


def test_text_based_pdf_is_read_and_checked(tmp_path: Path):
    path = tmp_path / "report.pdf"
    _write_pdf(path, WANYUAN_REPORT)
    text = read_report_text(path)
    assert "遂溪县农业农村局2023年度部门整体支出绩效自评报告" in text
    items = _items(text)
    assert items["r12"] == [13026600.0]
    assert items["r19"] == [120000.0]
    assert items["sangong_control_rate"] == [pytest.approx(0.8208)]
    assert items["self_score"] == [93.5]
    assert items["score.B9"] == [1.0]
    assert match_unit(text, path.name, ROSTER) == WANYUAN_UNIT


def test_full_report_as_a_multipage_pdf(tmp_path: Path):
    path = tmp_path / "full.pdf"
    _write_pdf(path, FULL_REPORT * 2)
    text = read_report_text(path)
    rates = _items(text)["execution_rate"]
    assert 1.0 in rates and pytest.approx(0.9972) in rates


def test_scanned_and_corrupt_pdfs_raise_report_read_error(tmp_path: Path):
    scanned = tmp_path / "扫描件.pdf"
    page = canvas.Canvas(str(scanned))
    page.rect(50, 50, 400, 600, fill=1)  # an image-like page with no text on it
    page.save()
    with pytest.raises(ReportReadError, match="扫描件"):
        read_report_text(scanned)
    broken = tmp_path / "损坏.pdf"
    broken.write_bytes(b"%PDF-1.4\n this file was cut off")
    with pytest.raises(ReportReadError):
        read_report_text(broken)


# ---------------------------------------------------------------- whose report

def test_match_unit_by_title_line_prefers_the_longest_name():
    # 遂溪县人民政府 is also on the roster; the title names the office, with 本级
    assert match_unit(FULL_REPORT, "自评报告.txt", ROSTER) == REFERENCE_UNIT


def test_match_unit_title_before_file_name():
    assert match_unit(WANYUAN_REPORT, f"{REFERENCE_UNIT}.txt", ROSTER) == WANYUAN_UNIT


def test_match_unit_by_file_name_when_the_title_names_no_unit():
    text = "部门整体支出绩效自评报告\n\n评价年度：2024年度\n\n" + "本单位认真开展自评工作。" * 10
    assert match_unit(text, "２０２４年 遂溪县财政局 自评报告.docx", ROSTER) == "遂溪县财政局"


def test_match_unit_by_opening_text_prefers_the_unit_named_most():
    text = ("部门整体支出绩效自评报告\n"
            "根据遂溪县财政局关于开展绩效自评工作的通知要求，遂溪县农业农村局及时组织开展自评工作，"
            "成立自评小组，对全年整体支出情况逐项核实，形成本报告。遂溪县农业农村局全年共安排预算资金若干。\n")
    assert match_unit(text, "report.txt", ROSTER) == WANYUAN_UNIT


def test_match_unit_none_when_no_roster_name_appears():
    text = "部门整体支出绩效自评报告\n评价单位：某某县水务局\n"
    assert match_unit(text, "水务局报告.pdf", ROSTER) is None
    assert match_unit(text, "水务局报告.pdf", []) is None


def test_match_unit_takes_the_labelled_unit_over_a_department_named_in_the_title():
    text = ("遂溪县农业农村局下属站2024年度部门整体支出绩效自评报告\n"
            "主管部门：遂溪县农业农村局\n评价单位（公章）：遂溪县财政局\n")
    assert match_unit(text, "report.txt", ROSTER) == "遂溪县财政局"
