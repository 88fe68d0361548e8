"""python-docx pieces shared by the notices and the summary report: A4 pages, Chinese
fonts on every run (Word picks the East Asian font from w:eastAsia, not from the font
name), bordered tables with a repeated header row."""

from __future__ import annotations

import io
from datetime import datetime

from docx import Document
from docx.enum.section import WD_ORIENT
from docx.enum.table import WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Cm, Pt

BODY_FONT = "仿宋"          # 公文 body text
HEADING_FONT = "黑体"
TITLE_FONT = "宋体"
LATIN_FONT = "Times New Roman"
A4_WIDTH_CM, A4_HEIGHT_CM = 21.0, 29.7


def set_run_font(run, east_asian: str, size: float | None = None, *, bold: bool | None = None) -> None:
    run.font.name = LATIN_FONT
    fonts = run._element.get_or_add_rPr().get_or_add_rFonts()
    fonts.set(qn("w:eastAsia"), east_asian)
    if size is not None:
        run.font.size = Pt(size)
    if bold is not None:
        run.bold = bold


def new_document(*, title: str, landscape: bool = False, created: datetime | None = None) -> Document:
    document = Document()
    section = document.sections[0]
    if landscape:
        section.orientation = WD_ORIENT.LANDSCAPE
        section.page_width, section.page_height = Cm(A4_HEIGHT_CM), Cm(A4_WIDTH_CM)
    else:
        section.page_width, section.page_height = Cm(A4_WIDTH_CM), Cm(A4_HEIGHT_CM)
    section.left_margin = section.right_margin = Cm(2.2)
    section.top_margin = section.bottom_margin = Cm(2.2)
    normal = document.styles["Normal"]
    normal.font.name = LATIN_FONT
    normal.font.size = Pt(12)
    normal.element.get_or_add_rPr().get_or_add_rFonts().set(qn("w:eastAsia"), BODY_FONT)
    properties = document.core_properties
    properties.title = title
    properties.author = "县财政局绩效股"
    if created is not None:
        # A fixed stamp keeps the same input's documents the same.
        properties.created = properties.modified = created
    return document


def text_width_cm(document: Document) -> float:
    section = document.sections[0]
    return (section.page_width - section.left_margin - section.right_margin) / 360000


def title(document: Document, text: str, size: float = 20) -> None:
    paragraph = document.add_paragraph()
    paragraph.alignment = WD_ALIGN_PARAGRAPH.CENTER
    paragraph.paragraph_format.space_after = Pt(12)
    set_run_font(paragraph.add_run(text), TITLE_FONT, size, bold=True)


def heading(document: Document, text: str, size: float = 15) -> None:
    paragraph = document.add_paragraph()
    paragraph.paragraph_format.space_before = Pt(10)
    paragraph.paragraph_format.space_after = Pt(4)
    paragraph.paragraph_format.keep_with_next = True
    set_run_font(paragraph.add_run(text), HEADING_FONT, size, bold=False)


def paragraph(document: Document, text: str, *, indent: bool = True, size: float = 12,
              align: str | None = None, bold: bool = False):
    para = document.add_paragraph()
    if indent:
        para.paragraph_format.first_line_indent = Pt(size * 2)
    para.paragraph_format.line_spacing = 1.35
    if align == "right":
        para.alignment = WD_ALIGN_PARAGRAPH.RIGHT
    elif align == "center":
        para.alignment = WD_ALIGN_PARAGRAPH.CENTER
    set_run_font(para.add_run(text), BODY_FONT, size, bold=bold)
    return para


def _repeat_as_header(row) -> None:
    properties = row._tr.get_or_add_trPr()
    marker = OxmlElement("w:tblHeader")
    marker.set(qn("w:val"), "true")
    properties.append(marker)


def _shade(cell, fill: str) -> None:
    shading = OxmlElement("w:shd")
    shading.set(qn("w:val"), "clear")
    shading.set(qn("w:color"), "auto")
    shading.set(qn("w:fill"), fill)
    cell._tc.get_or_add_tcPr().append(shading)


def table(document: Document, headers: list[str], rows: list[list[str]], widths_cm: list[float] | None = None,
          *, size: float = 10.5, bold_rows: set[int] | None = None):
    """A bordered table; every value is written as text (it is never interpreted)."""
    bold_rows = bold_rows or set()
    grid = document.add_table(rows=1, cols=len(headers))
    grid.style = "Table Grid"
    grid.alignment = WD_TABLE_ALIGNMENT.CENTER
    header_row = grid.rows[0]
    _repeat_as_header(header_row)
    for cell, header in zip(header_row.cells, headers):
        cell.text = ""
        _shade(cell, "DDEBF7")
        set_run_font(cell.paragraphs[0].add_run(header), HEADING_FONT, size, bold=False)
    for index, values in enumerate(rows):
        cells = grid.add_row().cells
        for cell, value in zip(cells, values):
            set_run_font(cell.paragraphs[0].add_run(str(value)), BODY_FONT, size, bold=index in bold_rows)
    if widths_cm:
        grid.autofit = False
        # Word reads the cell widths, LibreOffice the grid's: set both.
        for column, width in zip(grid.columns, widths_cm):
            column.width = Cm(width)
        for row in grid.rows:
            for cell, width in zip(row.cells, widths_cm):
                cell.width = Cm(width)
    return grid


def picture(document: Document, png: bytes, width_cm: float, caption: str | None = None) -> None:
    document.add_picture(io.BytesIO(png), width=Cm(width_cm))
    document.paragraphs[-1].alignment = WD_ALIGN_PARAGRAPH.CENTER
    if caption:
        paragraph(document, caption, indent=False, size=10.5, align="center")


def to_bytes(document: Document) -> bytes:
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()
