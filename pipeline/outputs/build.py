"""All of a year's outputs: built in memory from the warehouse, then written to a folder.

`build` returns bytes (the dashboard offers them for download as they are); `write`
puts them on disk under OUT/<year>/. Nothing here writes to the warehouse.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from pipeline import ledger

from . import charts, notices, ranking_book, summary, working_paper
from .load import YearData, read_year
from .pdf import html_to_pdf

NOTICES_FOLDER = "退回修改通知"
CHARTS_FOLDER = "图表"


def workbook_name(year: int) -> str:
    return f"{year}年度部门整体支出绩效自评汇总表.xlsx"


def notices_zip_name(year: int) -> str:
    return f"{year}年度退回修改通知.zip"


def summary_stem(year: int) -> str:
    return f"{year}年度{summary.REPORT_TITLE}"


@dataclass
class Outputs:
    year: int
    deadline: notices.Deadline
    workbook: bytes
    notices: list[notices.Notice]
    notices_zip: bytes
    summary_docx: bytes
    summary_pdf: bytes | None
    charts: dict[str, bytes] = field(default_factory=dict)
    summary_text: str = ""
    papers: dict[str, bytes] = field(default_factory=dict)   # 复核工作底稿: file name → .docx


def build(data: YearData, *, issued_on: date, resubmit_by: date | None = None, pdf: bool = True,
          sent: Sequence[ledger.Notice] = ()) -> Outputs:
    """sent: the notices the ledger records, which make a unit's next notice its second round."""
    due = notices.deadline(issued_on, resubmit_by)
    year_notices = notices.year_notices(data.status, data.findings, data.year, due,
                                        data.rectifications if not data.rectifications.empty else None, sent)
    content = summary.summary_content(data, issued_on)
    images = charts.render_png(content.figures)
    return Outputs(
        year=data.year,
        deadline=due,
        workbook=ranking_book.year_workbook(data),
        notices=year_notices,
        notices_zip=notices.notices_zip(year_notices, issued_on),
        summary_docx=summary.summary_docx(content, images),
        summary_pdf=html_to_pdf(summary.summary_html(content, images)) if pdf else None,
        charts=images,
        summary_text=content.text(),
    )


def build_from_warehouse(db: Path, year: int, *, ledger: Path | None = None, **options) -> Outputs:
    """The year's outputs, and a 复核工作底稿 for every sampled unit (pending decisions from LEDGER)."""
    outputs = build(read_year(db, year), **options)
    decisions = working_paper.decisions_frame(ledger, year) if ledger is not None else None
    for paper in working_paper.read_papers(db, year, decisions):
        outputs.papers[working_paper.file_name(paper)] = working_paper.paper_docx(paper, options["issued_on"])
    return outputs


def _write_bytes(path: Path, content: bytes) -> Path:
    """Write beside, then rename: a reader never sees half a file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.{os.getpid()}.part")
    try:
        temporary.write_bytes(content)
        os.replace(temporary, path)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise
    return path


def write(outputs: Outputs, out_dir: Path) -> list[Path]:
    """The files under out_dir/<year>/; notices of units that no longer must resubmit are removed."""
    folder = Path(out_dir) / str(outputs.year)
    written = [_write_bytes(folder / workbook_name(outputs.year), outputs.workbook)]
    notices_folder = folder / NOTICES_FOLDER
    current = {n.file_name for n in outputs.notices}
    if notices_folder.exists():
        for stale in notices_folder.glob("*退回修改通知.docx"):
            if stale.name not in current:
                stale.unlink()
    written += [_write_bytes(notices_folder / n.file_name, n.content) for n in outputs.notices]
    written.append(_write_bytes(folder / notices_zip_name(outputs.year), outputs.notices_zip))
    written.append(_write_bytes(folder / f"{summary_stem(outputs.year)}.docx", outputs.summary_docx))
    if outputs.summary_pdf is not None:
        written.append(_write_bytes(folder / f"{summary_stem(outputs.year)}.pdf", outputs.summary_pdf))
    written += [_write_bytes(folder / CHARTS_FOLDER / f"{key}.png", png) for key, png in outputs.charts.items()]
    written += [_write_bytes(folder / working_paper.FOLDER / name, paper) for name, paper in outputs.papers.items()]
    return written
