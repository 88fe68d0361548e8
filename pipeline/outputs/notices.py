"""退回修改 notices: one .docx per unit and year that must resubmit, and a zip of all.

A notice names the unit and the year, lists every fatal and error finding with its
location (e.g. 数据表!C16), the value found and what is expected, lists the warnings
as 供参考, and gives the date by which the corrected file is due.

With the warehouse's rectification items (contract section 12) a notice lists only what
is still open in the unit's newest version, and says what its resubmissions fixed. With
the ledger's earlier notices it knows its round (第 2 次 …); `record` writes what was sent
back into the ledger, so a later build knows each item's deadline.
"""

from __future__ import annotations

import io
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

import pandas as pd

from pipeline import ledger
from pipeline.checking.findings import ERROR, FATAL, WARNING, rule_label
from pipeline.checking.resubmission import FIXED, OVERDUE, dump_items

from . import docxkit
from .common import (
    RESUBMIT_WORKING_DAYS,
    add_working_days,
    chinese_date,
    safe_file_stem,
    text_or_dash,
)

BUREAU = "县财政局绩效股"
SUPERSEDED_RULE = "file.superseded"


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
    round: int = 1
    items: tuple[tuple[str, str], ...] = ()   # (rule, location) asked to be fixed
    fixed: int = 0                            # items its resubmissions fixed


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


FIXED_HEADERS = ["序号", "位置", "问题", "首次出现的文件", "改正的文件"]
FIXED_WIDTHS_CM = [1.0, 2.6, 3.2, 4.9, 4.9]


def _fixed_rows(fixed: pd.DataFrame) -> list[list[str]]:
    return [[str(number), text_or_dash(row.location), rule_label(row.rule), text_or_dash(row.first_file),
             text_or_dash(row.fixed_file)]
            for number, row in enumerate(fixed.itertuples(index=False), start=1)]


def notice_docx(unit_name: str, year: int, findings: pd.DataFrame, due: Deadline, *, round_number: int = 1,
                fixed: pd.DataFrame | None = None, overdue: int = 0) -> bytes:
    """The notice of one unit; findings are that unit's findings to list (any severity), fixed
    the rectification items its resubmissions fixed, overdue how many open ones are past an earlier deadline."""
    must_fix = findings[findings["severity"].isin([FATAL, ERROR])]
    for_reference = findings[findings["severity"] == WARNING]
    fixed = fixed if fixed is not None else pd.DataFrame(columns=["location", "rule", "first_file", "fixed_file"])
    quarantined = bool((must_fix["severity"] == FATAL).any())
    files = sorted({str(f) for f in must_fix["file"].dropna()} or {str(f) for f in findings["file"].dropna()})
    created = datetime(due.issued_on.year, due.issued_on.month, due.issued_on.day)
    again = round_number > 1
    heading = f"退回修改通知（第{round_number}次）" if again else "退回修改通知"

    document = docxkit.new_document(title=f"{unit_name}{year}年度部门整体支出绩效自评材料{heading}",
                                    created=created)
    docxkit.title(document, f"部门整体支出绩效自评材料\n{heading}")
    docxkit.paragraph(document, f"{unit_name}：", indent=False)
    file_text = f"（文件：{'、'.join(files)}）" if files else ""
    if again:
        opening = (f"你单位重新报送的{year}年度部门整体支出绩效自评材料{file_text}经我局复核，"
                   f"此前退回修改的问题中已改正 {len(fixed)} 个，仍有下列 {len(must_fix)} 个问题须改正"
                   + (f"（其中 {overdue} 个已超过此前通知的重新报送截止日期）" if overdue else "") + "。")
    else:
        opening = (f"你单位报送的{year}年度部门整体支出绩效自评材料{file_text}经我局审核，"
                   f"发现下列 {len(must_fix)} 个问题须改正。")
    docxkit.paragraph(
        document,
        opening + ("其中有问题导致文件无法读取入库，本次报送视为未完成，请改正后整份重新报送。" if quarantined else
                   "请对照问题逐项改正，并同步核对自评报告中的相关数字，改正后整份重新报送。"))
    docxkit.paragraph(document,
                      f"请于{chinese_date(due.resubmit_by)}前{due.basis}将修改后的材料重新报送我局。"
                      "重新报送时请使用财政局下发的模板，不要改动工作表名称和行次。")

    docxkit.heading(document, "一、仍须改正的问题" if again else "一、须改正的问题")
    docxkit.table(document, FINDING_HEADERS, _finding_rows(must_fix), FINDING_WIDTHS_CM)
    docxkit.paragraph(document, "位置为工作表名和单元格，如“数据表!C16”指“数据表”工作表的 C 列第 16 行。",
                      indent=False, size=10.5)

    number = "二"
    if not fixed.empty:
        docxkit.heading(document, "二、已改正的问题")
        docxkit.paragraph(document, f"以下 {len(fixed)} 个问题在重新报送的材料中已改正，不再列入须改正的问题。")
        docxkit.table(document, FIXED_HEADERS, _fixed_rows(fixed), FIXED_WIDTHS_CM)
        number = "三"

    docxkit.heading(document, f"{number}、供参考")
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


def open_findings(findings: pd.DataFrame, items: pd.DataFrame) -> pd.DataFrame:
    """A unit's findings that are still open: the error or fatal findings of open items as the
    newest version that has them shows them (one per item), and the warnings of the files that
    were not superseded (an older version's warnings are no longer news)."""
    still = items[items["status"] != FIXED]
    keys = set(zip(still["rule"], still["location"], still["last_file"]))
    superseded = set(findings.loc[findings["rule"] == SUPERSEDED_RULE, "file"])
    must = findings["severity"].isin([FATAL, ERROR])
    # A 自评报告's findings are no workbook version's items: they stand as they are.
    keep = [((r, loc, f) in keys or r.startswith("report.")) if m else f not in superseded for m, r, loc, f in
            zip(must, findings["rule"], findings["location"], findings["file"])]
    return findings[pd.Series(keep, index=findings.index, dtype=bool)]  # rows, even when none are kept


def notice_round(sent: Sequence[ledger.Notice], unit_name: str, year: int, issued_on: date) -> int:
    """1 for a unit-year's first notice; one more than the latest round sent before issued_on
    (a notice re-issued on the same day keeps its round)."""
    earlier = [n.round for n in sent if n.unit_name == unit_name and n.year == year and n.issued_on < issued_on]
    return max(earlier, default=0) + 1


def year_notices(status: pd.DataFrame, findings: pd.DataFrame, year: int, due: Deadline,
                 rectifications: pd.DataFrame | None = None,
                 sent: Sequence[ledger.Notice] = ()) -> list[Notice]:
    """The notices of a year. Without rectification items every error of the year is listed
    (as before items existed); with them only the open ones, and what was fixed."""
    notices = []
    for row in resubmitting_units(status).itertuples(index=False):
        mine = findings[(findings["unit_name"] == row.unit_name) & (findings["year"] == year)]
        fixed = None
        overdue = 0
        if rectifications is not None:
            items = rectifications[(rectifications["unit_name"] == row.unit_name)
                                   & (rectifications["year"] == year)]
            mine = open_findings(mine, items)
            fixed = items[items["status"] == FIXED]
            overdue = int((items["status"] == OVERDUE).sum())
        must_fix = mine[mine["severity"].isin([FATAL, ERROR])]
        code = None if pd.isna(row.unit_code) else str(row.unit_code)
        round_ = notice_round(sent, row.unit_name, year, due.issued_on)
        notices.append(Notice(
            unit_name=row.unit_name, unit_code=code, year=year,
            file_name=notice_file_name(row.unit_name, code, year),
            content=notice_docx(row.unit_name, year, mine, due, round_number=round_, fixed=fixed, overdue=overdue),
            must_fix=len(must_fix),
            for_reference=int((mine["severity"] == WARNING).sum()),
            round=round_,
            items=tuple(dict.fromkeys(zip(must_fix["rule"], must_fix["location"]))),
            fixed=0 if fixed is None else len(fixed)))
    return notices


def record(path: Path, notices: Sequence[Notice], due: Deadline, recorded_at: str | None = None) -> int:
    """Write which unit was sent which notice, when, with which deadline, into the ledger;
    a notice already recorded exactly so is not recorded twice. Returns how many were new."""
    already = {(n.year, n.unit_name, n.round, n.issued_on, n.deadline, n.items) for n in ledger.all_notices(path)}
    new = 0
    for notice in notices:
        entry = ledger.Notice(year=notice.year, unit_name=notice.unit_name, round=notice.round,
                              issued_on=due.issued_on, deadline=due.resubmit_by, document=notice.file_name,
                              items=dump_items(notice.items), recorded_at=recorded_at or ledger.now())
        key = (entry.year, entry.unit_name, entry.round, entry.issued_on, entry.deadline, entry.items)
        if key in already:
            continue
        ledger.append_notice(path, entry)
        already.add(key)
        new += 1
    return new


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
