"""复核工作底稿 (contract section 11): one .docx per sampled unit, for the officer who reviews it
by hand and signs it. Built from the published warehouse (read-only) and, for decisions not
yet in the build, the ledger."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

import duckdb
import pandas as pd

from presentation import review as review_tables

from . import docxkit
from .common import chinese_date, percent, points, safe_file_stem, text_or_dash, wanyuan

FOLDER = "复核工作底稿"
TITLE = "部门整体支出绩效自评复核工作底稿"


@dataclass(frozen=True)
class PaperData:
    """What one unit's working paper is made of. Amounts in 元, rates as fractions."""
    year: int
    unit_name: str
    scores: pd.Series | None        # the unit's unit_scores row
    sample: pd.Series | None        # its review_sample row (None: not sampled)
    lines: pd.DataFrame             # data_lines
    indicators: pd.DataFrame        # indicator_scores
    figures: pd.DataFrame           # report_figures
    targets: pd.DataFrame           # targets (may be empty)
    findings: pd.DataFrame          # findings of the unit-year
    pending: pd.DataFrame           # presentation.review.pending_table rows of the unit


def file_name(data: PaperData) -> str:
    code = "" if data.scores is None else text_or_dash(data.scores.get("unit_code"))
    return f"{data.year}_{safe_file_stem(code)}_{safe_file_stem(data.unit_name)}_复核工作底稿.docx"


def _cell(value) -> str:
    """Numbers to two decimals with thousands separators (万元 and points alike); text as it is."""
    if isinstance(value, float):
        return "—" if pd.isna(value) else f"{value:,.2f}"
    return text_or_dash(value)


def _rows(frame: pd.DataFrame) -> list[list[str]]:
    return [[_cell(v) for v in row] for row in frame.itertuples(index=False)]


def _table(document, frame: pd.DataFrame, widths: list[float], *, size: float = 9) -> None:
    width = docxkit.text_width_cm(document)
    scale = width / sum(widths)
    docxkit.table(document, list(frame.columns), _rows(frame), [w * scale for w in widths], size=size)


def paper_docx(data: PaperData, issued_on: date) -> bytes:
    """The working paper of one unit-year, landscape A4, every figure with the cell it came from."""
    document = docxkit.new_document(title=f"{data.year}年度{TITLE}", landscape=True,
                                    created=datetime(issued_on.year, issued_on.month, issued_on.day))
    docxkit.title(document, f"{data.year}年度{TITLE}", size=16)
    s = data.scores
    docxkit.paragraph(document, f"被复核单位：{data.unit_name}　单位编码：{text_or_dash(None if s is None else s.get('unit_code'))}"
                      f"　单位类型：{text_or_dash(None if s is None else s.get('unit_type'))}"
                      f"　主管部门：{text_or_dash(None if s is None else s.get('department'))}", indent=False)
    if s is not None:
        docxkit.paragraph(document, f"报送文件：{text_or_dash(s.get('file'))}　自评得分：{points(s.get('self_score'))}"
                          f"（{text_or_dash(s.get('self_grade'))}）　复核得分：{points(s.get('review_score'))}"
                          f"（{text_or_dash(s.get('review_grade'))}）　排名：{text_or_dash(s.get('rank'))}", indent=False)
    if data.sample is not None:
        selected = review_tables.SELECTED_BY_LABELS.get(data.sample["selected_by"], data.sample["selected_by"])
        docxkit.paragraph(document, f"抽查：{selected}入选，风险分 {data.sample['risk']:.2f}；风险信号：{data.sample['reasons']}",
                          indent=False)

    docxkit.heading(document, "一、主要数字及其来源单元格", 13)
    if s is not None:
        docxkit.paragraph(document, f"财政下达预算数 {wanyuan(s.get('budget_issued'))}，支出决算数 {wanyuan(s.get('spent'))}，"
                          f"预算资金支出率 {percent(s.get('execution_rate'))}；公用经费控制率 "
                          f"{percent(s.get('public_control_rate'))}；三公经费控制率 {percent(s.get('sangong_control_rate'))}。")
    _table(document, review_tables.evidence_lines_table(data.lines), [1.0, 6.0, 2.2, 2.2, 3.0])

    docxkit.heading(document, "二、各指标的自评、规则复核与财政局复核得分", 13)
    comparison = review_tables.comparison_table(data.indicators)
    _table(document, comparison, [0.9, 3.4, 0.9, 1.1, 1.3, 1.4, 1.1, 1.4, 1.2, 3.0, 3.0, 1.6], size=8)
    if not data.pending.empty:
        docxkit.paragraph(document, "已记录、尚未计入本次构建的复核得分：", indent=False, bold=True)
        _table(document, data.pending.drop(columns=["单位名称"]), [1.0, 1.2, 1.4, 5.0, 2.6, 3.4], size=8)
    docxkit.paragraph(document, "复核意见（逐项填写核实情况、依据和应得分）：", indent=False)
    for _ in range(3):
        docxkit.paragraph(document, "_" * 90, indent=False)

    docxkit.heading(document, "三、自评报告所述与表格核对", 13)
    claims = review_tables.claims_table(data.figures, data.lines, data.scores, data.indicators)
    if claims.empty:
        docxkit.paragraph(document, "自评报告中没有可与表格核对的数字（或未报送自评报告）。")
    else:
        _table(document, claims, [3.0, 2.2, 2.2, 1.4, 9.0], size=8)

    docxkit.heading(document, "四、绩效目标", 13)
    targets = review_tables.targets_table(data.targets)
    if targets.empty or targets.shape[1] == 0:
        docxkit.paragraph(document, "没有绩效目标表。")
    else:
        _table(document, targets, [1.0] * targets.shape[1], size=8)

    docxkit.heading(document, "五、审核发现的问题", 13)
    if data.findings.empty:
        docxkit.paragraph(document, "没有发现问题。")
    else:
        problems = data.findings[["severity", "location", "message"]].rename(
            columns={"severity": "严重程度", "location": "位置", "message": "说明"})
        problems["严重程度"] = problems["严重程度"].map({"fatal": "致命", "error": "错误", "warning": "提示"})
        _table(document, problems, [1.2, 2.6, 12.0], size=8)

    docxkit.heading(document, "六、签字", 13)
    for line in ("复核人：＿＿＿＿＿＿＿＿　　日期：＿＿＿＿年＿＿月＿＿日",
                 "复核组长：＿＿＿＿＿＿＿＿　　日期：＿＿＿＿年＿＿月＿＿日",
                 "绩效股负责人：＿＿＿＿＿＿＿＿　　日期：＿＿＿＿年＿＿月＿＿日"):
        docxkit.paragraph(document, line, indent=False)
    docxkit.paragraph(document, f"县财政局绩效股　{chinese_date(issued_on)}", indent=False, align="right")
    return docxkit.to_bytes(document)


def read_papers(db: Path, year: int, decisions: pd.DataFrame | None = None) -> list[PaperData]:
    """The working-paper data of every sampled unit of the year (read-only, one connection)."""
    con = duckdb.connect(str(db), read_only=True)
    try:
        def frame(sql: str, *params) -> pd.DataFrame:
            return con.execute(sql, list(params)).df()

        tables = {t for (t,) in con.execute("SELECT table_name FROM duckdb_tables()").fetchall()}
        if "review_sample" not in tables:
            return []
        sample = frame("SELECT * FROM review_sample WHERE year = ? ORDER BY risk DESC, unit_name", year)
        indicators_all = frame("SELECT * FROM indicator_scores WHERE year = ?", year)
        pending = review_tables.pending_table(
            decisions if decisions is not None else pd.DataFrame(columns=review_tables.DECISION_COLUMNS),
            indicators_all)
        papers = []
        for row in sample.itertuples(index=False):
            unit = row.unit_name
            scores = frame("SELECT * FROM unit_scores WHERE unit_name = ? AND year = ?", unit, year)
            papers.append(PaperData(
                year=year, unit_name=unit, scores=None if scores.empty else scores.iloc[0],
                sample=sample[sample["unit_name"] == unit].iloc[0],
                lines=frame("SELECT * FROM data_lines WHERE unit_name = ? AND year = ? ORDER BY line", unit, year),
                indicators=indicators_all[indicators_all["unit_name"] == unit].sort_values("code"),
                figures=frame("SELECT * FROM report_figures WHERE unit_name = ? AND year = ? ORDER BY item", unit, year),
                targets=(frame("SELECT * FROM targets WHERE unit_name = ? AND year = ?", unit, year)
                         if "targets" in tables else pd.DataFrame()),
                findings=frame("SELECT * FROM findings WHERE unit_name = ? AND year = ? "
                               "ORDER BY severity, location", unit, year),
                pending=pending[pending["单位名称"] == unit]))
        return papers
    finally:
        con.close()


def decisions_frame(ledger_path: Path, year: int) -> pd.DataFrame:
    """The ledger's decisions of the year, oldest first, as the tables expect them."""
    from pipeline import ledger

    rows = [[getattr(d, c) for c in review_tables.DECISION_COLUMNS]
            for d in ledger.all_decisions(ledger_path) if d.year == year]
    return pd.DataFrame(rows, columns=review_tables.DECISION_COLUMNS).astype({"score": "float64"})
