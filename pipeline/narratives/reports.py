"""The narrative 自评报告: read it (.txt, .docx, text-based .pdf), find whose it is, and
check the figures it states against the unit's 数据表 and 评分表.

Reading files is the only IO here; extraction lives in pipeline.report_text and the
check below is pure. Amounts are in 元, rates are fractions, scores are points.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from pathlib import Path

from pipeline.checking.findings import Finding, finding, fmt_amount, fmt_rate
from pipeline.narratives.text import (
    GRADE_WORDS,
    ReportFigure,
    extract_figures,
    match_unit,
    normalise_text,
    squash,
    title_block,
)
from pipeline.settings import REPORT_AMOUNT_TOLERANCE, REPORT_RATE_TOLERANCE

__all__ = [
    "REPORT_SUFFIXES", "ReportReadError", "ReportFigure", "read_report_text",
    "extract_figures", "match_unit", "title_block", "check_report",
    "missing_report_finding", "unmatched_report_finding", "unreadable_report_finding",
    "report_figure_rows",
]

REPORT_SUFFIXES = {".txt", ".docx", ".pdf"}
# Fewer readable characters than this in a PDF means a scan, not a text document.
MIN_PDF_TEXT_CHARS = 20


class ReportReadError(Exception):
    """A report file that cannot be read; the message says why, in Chinese."""


# ---------------------------------------------------------------- reading (IO)

def _decode_txt(data: bytes) -> str:
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return data.decode("utf-16")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        pass
    try:
        # Notepad and WPS on Chinese Windows save GBK, which GB18030 contains
        return data.decode("gb18030")
    except UnicodeDecodeError as exc:
        raise ReportReadError("文本文件既不是 UTF-8 也不是 GB18030/GBK 编码，无法读取") from exc


def _docx_text(path: Path) -> str:
    import docx  # python-docx

    try:
        document = docx.Document(str(path))
        parts: list[str] = []
        for block in document.iter_inner_content():
            if isinstance(block, docx.table.Table):
                for row in block.rows:
                    cells: list[str] = []
                    for cell in row.cells:
                        text = cell.text.strip()
                        # a merged cell repeats once per grid column it spans
                        if text and (not cells or cells[-1] != text):
                            cells.append(text)
                    parts.append("  ".join(cells))
            else:
                parts.append(block.text)
        return "\n".join(parts)
    except Exception as exc:  # python-docx raises zip, XML and key errors alike for a broken file
        raise ReportReadError(f"Word 文件已损坏或不是 .docx 格式，无法读取（{type(exc).__name__}）") from exc


def _pdf_text(path: Path) -> str:
    from pypdf import PdfReader

    try:
        reader = PdfReader(str(path))
        if reader.is_encrypted:
            reader.decrypt("")
        text = "\n".join(page.extract_text() or "" for page in reader.pages)
    except Exception as exc:  # pypdf raises its own and plain errors alike for a broken file
        raise ReportReadError(f"PDF 文件已损坏或已加密，无法读取（{type(exc).__name__}）") from exc
    if len(re.sub(r"\s", "", text)) < MIN_PDF_TEXT_CHARS:
        raise ReportReadError("PDF 中提取不到文字，可能是扫描件；请提供文字版 PDF、Word 或 txt 格式的自评报告")
    return text


def read_report_text(path: Path) -> str:
    """The report's text, NFKC-normalised. Raises ReportReadError when unreadable."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in REPORT_SUFFIXES:
        raise ReportReadError(f"不支持的自评报告格式 {path.suffix}，请提供 .txt、.docx 或 .pdf")
    try:
        if suffix == ".txt":
            text = _decode_txt(path.read_bytes())
        elif suffix == ".docx":
            text = _docx_text(path)
        else:
            text = _pdf_text(path)
    except OSError as exc:
        raise ReportReadError(f"无法打开文件（{exc.strerror or type(exc).__name__}）") from exc
    text = normalise_text(text)
    if not text.strip():
        raise ReportReadError("自评报告是空的，没有任何文字")
    return text


# ---------------------------------------------------------------- what each item is

_AMOUNT_LABELS = {
    "r1": "年初收入预算数", "r2": "年初一般公共预算财政拨款收入", "r3": "年初政府性基金预算财政拨款收入",
    "r4": "收入决算数", "r5": "一般公共预算财政拨款收入决算数", "r6": "政府性基金预算财政拨款收入决算数",
    "r7": "其他收入", "r8": "上年结转和结余", "r9": "年初支出预算数", "r10": "年初预算基本支出",
    "r11": "年初预算项目支出", "r12": "财政下达预算数", "r13": "支出决算数", "r14": "基本支出决算数",
    "r15": "项目支出决算数", "r16": "结转和结余", "r17": "公用经费预算数", "r18": "公用经费实际支出数",
    "r19": "三公经费预算数", "r20": "三公经费实际支出数", "r21": "因公出国（境）费",
    "r22": "公务用车购置及运行维护费", "r23": "公务接待费",
}
_RATE_LABELS = {
    "execution_rate": "预算资金支出率",
    "public_control_rate": "公用经费控制率",
    "sangong_control_rate": "三公经费控制率",
}
_INFO_LABELS = {"year": "评价年度", "unit_name": "单位名称", "filed_on": "填报日期"}


def item_label(item: str, indicator_names: Mapping[str, str] | None = None) -> str:
    """The Chinese name of an item, for messages; an indicator by the year's framework's name."""
    if item in _AMOUNT_LABELS:
        return _AMOUNT_LABELS[item]
    if item in _RATE_LABELS:
        return _RATE_LABELS[item]
    if item.startswith("score."):
        code = item.removeprefix("score.")
        name = (indicator_names or {}).get(code)
        return f"{code}“{name}”自评得分" if name else f"{code}自评得分"
    if item == "self_score":
        return "自评总分"
    if item == "self_grade":
        return "自评等级"
    return _INFO_LABELS.get(item, item)


# ---------------------------------------------------------------- agreement at stated precision

def _decimals(number: str) -> int:
    return len(number.split(".", 1)[1]) if "." in number else 0


def _amount_agrees(figure: ReportFigure, table: float) -> bool:
    written = figure.written or ""
    match = re.match(r"([\d,]+(?:\.\d+)?)\s*(亿元|万元|元)", written)
    tolerance = REPORT_AMOUNT_TOLERANCE
    if match and match.group(2) != "元":
        # a 万元 figure is only as exact as its last stated digit: 837.40万元 ± 100 元
        scale = 10_000 if match.group(2) == "万元" else 100_000_000
        tolerance = max(tolerance, scale * 10 ** -_decimals(match.group(1)))
    return abs(figure.value - table) <= tolerance + 1e-6


def _rate_agrees(figure: ReportFigure, table: float) -> bool:
    written = figure.written or ""
    if written.endswith("%"):
        stated = float(written[:-1].replace(",", ""))
        decimals = _decimals(written[:-1])
        if decimals == 0 and stated in (0.0, 100.0):
            # "达到100%" claims the whole budget was spent: 99.72% rounds to it but is
            # exactly the gap the bureau looks for, so it is compared to the 0.01 %
            half_unit = REPORT_RATE_TOLERANCE
        else:
            half_unit = max(REPORT_RATE_TOLERANCE, 0.5 * 10 ** -decimals / 100)
    else:
        half_unit = max(REPORT_RATE_TOLERANCE, 0.5 * 10 ** -_decimals(written))
    return abs(figure.value - table) <= half_unit + 1e-12


def _grade_key(grade: object) -> str:
    text = squash(normalise_text(str(grade)))
    return GRADE_WORDS.get(text, text)


def _unit_key(name: object) -> str:
    text = squash(normalise_text(str(name)))
    text = re.sub(r"\((?:公章|盖章)\)", "", text)
    return text.removesuffix("本级")


def _fmt_points(value: float) -> str:
    return f"{value:.2f}".rstrip("0").rstrip(".")


def _disagreement(figure: ReportFigure, table: object) -> tuple[str, str] | None:
    """(what the tables say, where) when the figure disagrees with them, else None."""
    item = figure.item
    if item in _AMOUNT_LABELS or re.fullmatch(r"r\d+", item):
        table = float(table)
        if figure.value is None or _amount_agrees(figure, table):
            return None
        line = item.removeprefix("r")
        return f"{fmt_amount(table)}元", f"数据表第{line}行填报为"
    if item in _RATE_LABELS:
        table = float(table)
        if figure.value is None or _rate_agrees(figure, table):
            return None
        return fmt_rate(table), "数据表计算为"
    if item == "self_score" or item.startswith("score."):
        table = float(table)
        if figure.value is None or abs(figure.value - table) <= 0.005:
            return None
        where = "评分表合计为" if item == "self_score" else "评分表自评得分为"
        return f"{_fmt_points(table)}分", where
    if item == "self_grade":
        if _grade_key(figure.text_value) == _grade_key(table):
            return None
        return _grade_key(table), "评分表自评等级为"
    if item == "year":
        if figure.value is not None and int(figure.value) == int(table):
            return None
        return str(int(table)), "基本信息填写为"
    if item == "unit_name":
        if _unit_key(figure.text_value) == _unit_key(table):
            return None
        return str(table), "基本信息填写为"
    if item == "filed_on":
        if str(figure.text_value) == str(table)[:10]:
            return None
        return str(table)[:10], "基本信息填写为"
    return None


def _quote(sentence: str, written: str | None, limit: int = 60) -> str:
    """The sentence, or the clauses around the figure when it is longer than limit."""
    sentence = sentence.strip()
    if len(sentence) <= limit:
        return sentence
    clauses = re.findall(r"[^,，;:、]+[,，;:、]?", sentence)
    at = next((i for i, clause in enumerate(clauses) if written and written in clause.replace(" ", "")), None)
    if at is None:
        return sentence[:limit] + "…"
    first = last = at
    while first > 0 and sum(len(c) for c in clauses[first - 1:last + 1]) <= limit:
        first -= 1
    while last + 1 < len(clauses) and sum(len(c) for c in clauses[first:last + 2]) <= limit:
        last += 1
    quoted = "".join(clauses[first:last + 1]).rstrip(",，;:、")
    if len(quoted) > limit:
        quoted = quoted[:limit]
    return ("…" if first > 0 else "") + quoted + ("…" if last + 1 < len(clauses) or len(quoted) == limit else "")


def _counterpart(item: str) -> str:
    if item in ("self_score", "self_grade") or item.startswith("score."):
        return "评分表"
    if item in _INFO_LABELS:
        return "基本信息"
    return "数据表"


def check_report(figures: list[ReportFigure],
                 tables: Mapping[str, float | str | None],
                 indicator_names: Mapping[str, str] | None = None) -> list[Finding]:
    """A warning for every figure the report states that disagrees with the tables beyond
    the report's own rounding. Items the tables do not have (or have as None) are not
    checked. File, unit and year are left for the caller to tie (Finding.at)."""
    findings: list[Finding] = []
    for figure in figures:
        table = tables.get(figure.item)
        if table is None or (isinstance(table, float) and math.isnan(table)):
            continue
        gap = _disagreement(figure, table)
        if gap is None:
            continue
        expected, where = gap
        found = figure.written or figure.text_value or (
            _fmt_points(figure.value) if figure.value is not None else "")
        label = item_label(figure.item, indicator_names)
        location = f"自评报告 第{figure.paragraph}段" if figure.paragraph else "自评报告"
        findings.append(finding(f"report.mismatch.{figure.item}", location, item=label, where=where,
                                quote=_quote(figure.sentence, figure.written), counterpart=_counterpart(figure.item),
                                found=found, expected=expected))
    return findings


# ---------------------------------------------------------------- other findings

def missing_report_finding() -> Finding:
    return finding("report.missing", "自评报告")


def unmatched_report_finding(filename: str, severity: str | None = None) -> Finding:
    """A report no unit can be found for: a warning, or fatal for a file that is nothing else."""
    return finding("report.unmatched", "自评报告", severity=severity, found=filename)


def unreadable_report_finding(filename: str, error: ReportReadError | str, severity: str | None = None) -> Finding:
    return finding("report.unreadable", "自评报告", severity=severity, reason=str(error), found=filename)


def report_figure_rows(figures: list[ReportFigure], *, file: str, unit_name: str | None,
                       year: int | None) -> list[dict]:
    """Rows of the warehouse table report_figures."""
    return [{"unit_name": unit_name, "year": year, "file": file, "item": f.item,
             "value": f.value, "text_value": f.text_value, "sentence": f.sentence}
            for f in figures]

