"""退回修改 notices: one .docx per unit and year that must resubmit, and a zip of all.

A notice names the unit and the year, lists every fatal and error finding with its
location (e.g. 数据表!C16), the value found and what is expected, lists the warnings
as 供参考, and gives the date by which the corrected file is due.
"""

from __future__ import annotations

import io
import zipfile
from dataclasses import dataclass
from datetime import date, datetime

import pandas as pd

from pipeline.checking.findings import ERROR, FATAL, WARNING, rule_label

from . import docxkit
from .common import (
    RESUBMIT_WORKING_DAYS,
    add_working_days,
    chinese_date,
    safe_file_stem,
    text_or_dash,
)

BUREAU = "县财政局绩效股"


@dataclass(frozen=True)
class Deadline:
    issued_on: date
    resubmit_by: date
    basis: str  # how the date was set, printed on the notice


def deadline(issued_on: date, resubmit_by: date | None = None) -> Deadline:
    """The date given, else 10 working days (Monday to Friday) after the notice is issued."""
    if resubmit_by is not None:
        if resubmit_by < issued_on:
            raise ValueError(f"重新报送截止日期 {resubmit_by} 早于通知日期 {issued_on}")
        return Deadline(issued_on, resubmit_by, "")
    return Deadline(issued_on, add_working_days(issued_on, RESUBMIT_WORKING_DAYS),
                    f"（自通知之日起 {RESUBMIT_WORKING_DAYS} 个工作日）")


@dataclass(frozen=True)
class Notice:
    unit_name: str
    unit_code: str | None
    year: int
    file_name: str
    content: bytes
    must_fix: int
    for_reference: int


def notice_file_name(unit_name: str, unit_code: str | None, year: int) -> str:
    parts = [str(year), *([str(unit_code)] if unit_code else []), unit_name, "退回修改通知"]
    return safe_file_stem("_".join(parts)) + ".docx"


def resubmitting_units(status: pd.DataFrame) -> pd.DataFrame:
    return status[status["must_resubmit"].astype(bool)].sort_values(
        ["unit_code", "unit_name"], na_position="last")


def _finding_rows(findings: pd.DataFrame) -> list[list[str]]:
    return [[str(number), text_or_dash(row.location), rule_label(row.rule), text_or_dash(row.found),
             text_or_dash(row.expected), text_or_dash(row.message)]
            for number, row in enumerate(findings.itertuples(index=False), start=1)]


FINDING_HEADERS = ["序号", "位置", "问题", "填报值", "应为", "说明及修改要求"]
FINDING_WIDTHS_CM = [1.0, 2.6, 2.8, 2.4, 2.4, 5.4]


def notice_docx(unit_name: str, year: int, findings: pd.DataFrame, due: Deadline) -> bytes:
    """The notice of one unit; findings are that unit's findings of the year (any severity)."""
    must_fix = findings[findings["severity"].isin([FATAL, ERROR])]
    for_reference = findings[findings["severity"] == WARNING]
    quarantined = bool((must_fix["severity"] == FATAL).any())
    files = sorted({str(f) for f in findings["file"].dropna()})
    created = datetime(due.issued_on.year, due.issued_on.month, due.issued_on.day)

    document = docxkit.new_document(title=f"{unit_name}{year}年度部门整体支出绩效自评材料退回修改通知",
                                    created=created)
    docxkit.title(document, "部门整体支出绩效自评材料\n退回修改通知")
    docxkit.paragraph(document, f"{unit_name}：", indent=False)
    file_text = f"（文件：{'、'.join(files)}）" if files else ""
    docxkit.paragraph(
        document,
        f"你单位报送的{year}年度部门整体支出绩效自评材料{file_text}经我局审核，"
        f"发现下列 {len(must_fix)} 个问题须改正。"
        + ("其中有问题导致文件无法读取入库，本次报送视为未完成，请改正后整份重新报送。" if quarantined else
           "请对照问题逐项改正，并同步核对自评报告中的相关数字，改正后整份重新报送。"))
    docxkit.paragraph(document,
                      f"请于{chinese_date(due.resubmit_by)}前{due.basis}将修改后的材料重新报送我局。"
                      "重新报送时请使用财政局下发的模板，不要改动工作表名称和行次。")

    docxkit.heading(document, "一、须改正的问题")
    docxkit.table(document, FINDING_HEADERS, _finding_rows(must_fix), FINDING_WIDTHS_CM)
    docxkit.paragraph(document, "位置为工作表名和单元格，如“数据表!C16”指“数据表”工作表的 C 列第 16 行。",
                      indent=False, size=10.5)

    docxkit.heading(document, "二、供参考")
    if for_reference.empty:
        docxkit.paragraph(document, "无。")
    else:
        docxkit.paragraph(document, f"以下 {len(for_reference)} 项不影响入库，供参考，请一并核实，"
                                    "如确有差错请在重新报送时一并改正。")
        docxkit.table(document, FINDING_HEADERS, _finding_rows(for_reference), FINDING_WIDTHS_CM)

    docxkit.paragraph(document, "")
    docxkit.paragraph(document, BUREAU, indent=False, align="right")
    docxkit.paragraph(document, chinese_date(due.issued_on), indent=False, align="right")
    return docxkit.to_bytes(document)


def year_notices(status: pd.DataFrame, findings: pd.DataFrame, year: int, due: Deadline) -> list[Notice]:
    notices = []
    for row in resubmitting_units(status).itertuples(index=False):
        mine = findings[(findings["unit_name"] == row.unit_name) & (findings["year"] == year)]
        code = None if pd.isna(row.unit_code) else str(row.unit_code)
        notices.append(Notice(
            unit_name=row.unit_name, unit_code=code, year=year,
            file_name=notice_file_name(row.unit_name, code, year),
            content=notice_docx(row.unit_name, year, mine, due),
            must_fix=int(mine["severity"].isin([FATAL, ERROR]).sum()),
            for_reference=int((mine["severity"] == WARNING).sum())))
    return notices


def notices_zip(notices: list[Notice], stamp: date) -> bytes:
    """All notices in one archive; names are stored as UTF-8 so Windows shows the Chinese."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for notice in notices:
            info = zipfile.ZipInfo(notice.file_name, date_time=(stamp.year, stamp.month, stamp.day, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            info.flag_bits |= 0x800  # the UTF-8 name flag
            archive.writestr(info, notice.content)
    return buffer.getvalue()
