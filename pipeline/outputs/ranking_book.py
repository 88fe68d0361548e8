"""The year's workbook: 排名表, 复核表, 问题清单, 未报送 — ready to print.

Every sheet: a title row and a header row repeated on each printed page, panes frozen
below the header and right of the unit's name, A4 landscape scaled to one page wide,
amounts in 元 with thousands separators (#,##0.00), rates as fractions shown as
percentages (0.00%), and a bold totals row. Every text cell, above all text that came
from a unit's file, is written with write_string: "=1+1" stays the text "=1+1".
"""

from __future__ import annotations

import io
from dataclasses import dataclass, field

import pandas as pd
import xlsxwriter

from pipeline.scoring import metrics
from pipeline.scoring.framework import FrameworkError, formula_basis, load_framework, method_label
from pipeline.scoring.targets import TARGET_RULES
from presentation import targets as target_views
from pipeline.checking.findings import SEVERITIES, rule_label
from presentation.review import SOURCE_LABELS, officer_changes

from presentation.tables import file_state_label

from .common import display_width, is_missing, severity_label
from .load import YearData

SHEET_RANKING = "排名表"
SHEET_REVIEW = "复核表"
SHEET_FINDINGS = "问题清单"
SHEET_MISSING = "未报送"
SHEETS = (SHEET_RANKING, SHEET_REVIEW, SHEET_FINDINGS, SHEET_MISSING)

YUAN_FORMAT = "#,##0.00"
RATE_FORMAT = "0.00%"
SCORE_FORMAT = "0.00"
COUNT_FORMAT = "0"
NUMBER_FORMATS = {"yuan": YUAN_FORMAT, "rate": RATE_FORMAT, "score": SCORE_FORMAT, "count": COUNT_FORMAT}

HEADER_ROW = 1          # row 0 is the title
FIRST_DATA_ROW = 2
MIN_WIDTH = 6
WRAP_WIDTH = 46         # wider text wraps instead of widening the column



@dataclass(frozen=True)
class Column:
    header: str
    kind: str = "text"  # text | yuan | rate | score | count


@dataclass
class Sheet:
    name: str
    title: str
    columns: list[Column]
    rows: list[list] = field(default_factory=list)
    total_rows: set[int] = field(default_factory=set)  # indices into rows printed in bold
    frozen_columns: int = 0

    def add(self, values: list, *, total: bool = False) -> None:
        if len(values) != len(self.columns):
            raise ValueError(f"{self.name}: {len(values)} values for {len(self.columns)} columns")
        if total:
            self.total_rows.add(len(self.rows))
        self.rows.append(values)


def _value(value):
    """A frame value as a plain Python value; missing → None."""
    if is_missing(value):
        return None
    if hasattr(value, "item") and not isinstance(value, (str, bytes)):
        return value.item()
    return value


def _sum(values: pd.Series) -> float | None:
    """Sum to the fen (元) or to 0.01 point; None when nothing is present."""
    present = pd.to_numeric(values, errors="coerce").dropna()
    return round(float(present.sum()), 2) if len(present) else None


# --- the four sheets, as pure functions of the warehouse's frames -------------------------


def ranking_sheet(scores: pd.DataFrame, year: int, indicators: pd.DataFrame | None = None) -> Sheet:
    """Units by final 复核得分 (officers' scores included), with how many indicators officers changed."""
    changed = ({} if indicators is None or indicators.empty else
               {name: officer_changes(group) for name, group in indicators.groupby("unit_name")})
    sheet = Sheet(SHEET_RANKING, f"{year}年度部门整体支出绩效自评排名表（按复核得分）", [
        Column("排名", "count"), Column("单位编码"), Column("单位名称"), Column("单位类型"), Column("主管部门"),
        Column("财政下达预算数（元）", "yuan"), Column("支出决算数（元）", "yuan"),
        Column("预算资金支出率", "rate"),
        Column("三公经费预算数（元）", "yuan"), Column("三公经费实际支出数（元）", "yuan"),
        Column("三公经费控制率", "rate"),
        Column("自评得分", "score"), Column("自评等级"), Column("复核得分", "score"), Column("复核等级"),
        Column("自评高出复核（分）", "score"), Column("财政局改动指标数", "count"), Column("错误数", "count"),
        Column("提示数", "count"), Column("需退回修改"),
    ], frozen_columns=3)
    ordered = scores.sort_values(["rank", "unit_name"], na_position="last")
    for row in ordered.itertuples(index=False):
        sheet.add([row.rank, row.unit_code, row.unit_name, row.unit_type, row.department,
                   row.budget_issued, row.spent, row.execution_rate,
                   row.sangong_budget, row.sangong_spent, row.sangong_control_rate,
                   row.self_score, row.self_grade, row.review_score, row.review_grade, row.inflation,
                   changed.get(row.unit_name, 0), row.errors, row.warnings,
                   "是" if bool(row.must_resubmit) else "否"])
    budget, spent = _sum(ordered["budget_issued"]), _sum(ordered["spent"])
    sangong_budget, sangong_spent = _sum(ordered["sangong_budget"]), _sum(ordered["sangong_spent"])
    # The county's rate is the rate of the sums, not the mean of the units' rates.
    sheet.add([None, "合计", f"全县 {len(ordered)} 个单位", None, None,
               budget, spent, metrics.execution_rate(spent, budget),
               sangong_budget, sangong_spent, metrics.sangong_control_rate(sangong_spent, sangong_budget),
               None, None, None, None, None,
               sum(changed.get(name, 0) for name in ordered["unit_name"]),
               int(ordered["errors"].sum()), int(ordered["warnings"].sum()),
               f"{int(ordered['must_resubmit'].astype(bool).sum())} 个"], total=True)
    return sheet


def _basis(row) -> str | None:
    """在职人员控制率 104 % → 3.0 / 5, for a formula indicator (older warehouses have no metric)."""
    metric = getattr(row, "metric", None)
    value = getattr(row, "metric_value", None)
    return formula_basis(None if is_missing(metric) else metric, None if is_missing(value) else value,
                         row.review_score, row.max_score)


def _method(row, unit_targets: pd.DataFrame | None, framework_rule: str | None) -> str | None:
    """复核方法 in words; for A1/A2 also what the 绩效目标表 showed (or that there was none)."""
    label = method_label(row.rule)
    if unit_targets is None or framework_rule not in TARGET_RULES:
        return label
    basis = target_views.review_basis(unit_targets, row.rule if row.rule != "judged" else framework_rule)
    return f"{label}：{basis}" if basis else label


def review_sheet(indicators: pd.DataFrame, scores: pd.DataFrame, year: int,
                 targets: pd.DataFrame | None = None, target_rules: dict[str, str] | None = None) -> Sheet:
    """Each unit's indicators, self against 复核, in ranking order, each unit closed by its 小计.
    复核得分 is the final one: the officer's where recorded (with officer and reason), else the rule's.
    With the year's targets, A1/A2 say what the 绩效目标表 showed (target_rules: code → framework rule)."""
    sheet = Sheet(SHEET_REVIEW, f"{year}年度部门整体支出绩效自评复核表（自评得分与复核得分）", [
        Column("排名", "count"), Column("单位名称"), Column("代码"), Column("一级指标"), Column("二级指标"),
        Column("三级指标"), Column("分值", "score"), Column("自评得分", "score"), Column("规则复核得分", "score"),
        Column("复核得分", "score"), Column("自评高出复核（分）", "score"), Column("复核方法"), Column("复核依据"),
        Column("采用"), Column("复核人"), Column("复核理由"), Column("评分说明"), Column("来源单元格"),
    ], frozen_columns=3)
    ranks = dict(zip(scores["unit_name"], scores["rank"]))
    order = {name: position for position, name in
             enumerate(scores.sort_values(["rank", "unit_name"], na_position="last")["unit_name"])}
    by_unit = indicators.assign(_order=indicators["unit_name"].map(order).fillna(len(order)))
    for unit_name, group in by_unit.sort_values(["_order", "unit_name", "code"]).groupby(
            ["_order", "unit_name"], sort=False):
        name = unit_name[1]
        rank = _value(ranks.get(name))
        unit_targets = None if targets is None else (
            targets[targets["unit_name"] == name] if len(targets) else targets)
        for row in group.itertuples(index=False):
            difference = (None if is_missing(row.self_score) or is_missing(row.review_score)
                          else metrics.round_score(row.self_score - row.review_score))
            source = getattr(row, "review_source", None)
            sheet.add([rank, name, row.code, row.level1, row.level2, row.level3, row.max_score,
                       row.self_score, getattr(row, "rule_score", None), row.review_score, difference,
                       _method(row, unit_targets, (target_rules or {}).get(row.code)), _basis(row),
                       SOURCE_LABELS.get(source, source),
                       getattr(row, "officer", None), getattr(row, "reason", None), row.note, row.source_cell])
        self_total, review_total = _sum(group["self_score"]), _sum(group["review_score"])
        difference = (None if self_total is None or review_total is None
                      else metrics.round_score(self_total - review_total))
        sheet.add([rank, name, "小计", None, None, None, _sum(group["max_score"]), self_total,
                   _sum(group["rule_score"]) if "rule_score" in group else None, review_total,
                   difference, None, None, None, None, None, None, None], total=True)
    return sheet


def findings_sheet(findings: pd.DataFrame, year: int, history: pd.DataFrame | None = None) -> Sheet:
    """Open findings, numbered and counted; after them, apart and uncounted, those of superseded files."""
    sheet = Sheet(SHEET_FINDINGS, f"{year}年度报送材料问题清单", [
        Column("序号", "count"), Column("严重程度"), Column("单位名称"), Column("位置"), Column("问题类别"),
        Column("填报值"), Column("应为"), Column("说明"), Column("规则"), Column("文件"), Column("文件状态"),
    ], frozen_columns=3)
    for number, row in enumerate(findings.itertuples(index=False), start=1):
        sheet.add([number, severity_label(row.severity), row.unit_name, row.location, rule_label(row.rule),
                   row.found, row.expected, row.message, row.rule, row.file,
                   file_state_label(getattr(row, "file_state", None))])
    counts = findings["severity"].value_counts()
    breakdown = "，".join(f"{severity_label(s)} {int(counts.get(s, 0))} 条" for s in SEVERITIES)
    sheet.add([None, "合计", f"共 {len(findings)} 条", None, None, None, None, breakdown, None, None, None],
              total=True)
    if history is not None and not history.empty:
        sheet.add([None, "历史记录", f"共 {len(history)} 条", None, None, None, None,
                   "以下问题属于已被新版本替代的文件，仅供查阅，不计入上面的合计，也不据此退回修改",
                   None, None, None], total=True)
        for row in history.itertuples(index=False):
            sheet.add([None, severity_label(row.severity), row.unit_name, row.location, rule_label(row.rule),
                       row.found, row.expected, row.message, row.rule, row.file,
                       file_state_label(row.file_state)])
    return sheet


def missing_sheet(status: pd.DataFrame, year: int) -> Sheet:
    """Roster units with nothing loaded: not submitted, or submitted but unusable."""
    sheet = Sheet(SHEET_MISSING, f"{year}年度未报送（或报送后无法入库）的单位", [
        Column("序号", "count"), Column("单位编码"), Column("单位名称"), Column("单位类型"), Column("主管部门"),
        Column("情况"),
    ], frozen_columns=3)
    roster = status[status["in_roster"].astype(bool) & ~status["loaded"].astype(bool)]
    for number, row in enumerate(roster.itertuples(index=False), start=1):
        situation = "已报送但无法入库，须重新报送" if bool(row.submitted) else "未报送"
        sheet.add([number, row.unit_code, row.unit_name, row.unit_type, row.department, situation])
    not_sent = int((~roster["submitted"].astype(bool)).sum())
    sheet.add([None, "合计", f"共 {len(roster)} 个单位", None, None,
               f"未报送 {not_sent} 个，无法入库 {len(roster) - not_sent} 个"], total=True)
    return sheet


def target_rules(year: int) -> dict[str, str]:
    """Indicator code → `targets` / `measurable` in the year's framework (none without one)."""
    try:
        framework = load_framework(year)
    except FrameworkError:
        return {}
    return {i.code: i.rule for i in framework.indicators if i.rule in TARGET_RULES}


def year_sheets(data: YearData) -> list[Sheet]:
    return [ranking_sheet(data.scores, data.year, data.indicators),
            review_sheet(data.indicators, data.scores, data.year, data.targets, target_rules(data.year)),
            findings_sheet(data.findings, data.year, data.history), missing_sheet(data.status, data.year)]


# --- writing ------------------------------------------------------------------------------


def _shown_width(value, kind: str) -> int:
    if value is None:
        return 0
    if kind == "yuan":
        return len(f"{value:,.2f}")
    if kind == "rate":
        return len(f"{value * 100:.2f}%")
    if kind == "score":
        return len(f"{value:.2f}")
    return display_width(value)


def column_widths(sheet: Sheet) -> list[tuple[int, bool]]:
    """(width, wrap) per column: the widest of header and values, CJK counted double."""
    widths = []
    for index, column in enumerate(sheet.columns):
        widest = max([display_width(column.header)] +
                     [_shown_width(_value(row[index]), column.kind) for row in sheet.rows])
        wrap = widest > WRAP_WIDTH
        widths.append((max(MIN_WIDTH, min(widest, WRAP_WIDTH)) + 2, wrap))
    return widths


class _Formats:
    def __init__(self, workbook: xlsxwriter.Workbook):
        self._workbook = workbook
        self._cache: dict[tuple, object] = {}
        self.title = workbook.add_format({"bold": True, "font_size": 14, "align": "center", "valign": "vcenter"})
        self.header = workbook.add_format({"bold": True, "bg_color": "#DDEBF7", "border": 1, "text_wrap": True,
                                           "align": "center", "valign": "vcenter"})

    def cell(self, kind: str, *, bold: bool, wrap: bool):
        key = (kind, bold, wrap)
        if key not in self._cache:
            spec = {"border": 1, "valign": "vcenter", "font_name": "宋体"}
            if kind in NUMBER_FORMATS:
                spec["num_format"] = NUMBER_FORMATS[kind]
            if bold:
                spec.update({"bold": True, "bg_color": "#F2F2F2"})
            if wrap:
                spec["text_wrap"] = True
            self._cache[key] = self._workbook.add_format(spec)
        return self._cache[key]


def _write_sheet(workbook: xlsxwriter.Workbook, formats: _Formats, sheet: Sheet) -> None:
    worksheet = workbook.add_worksheet(sheet.name)
    last_column = len(sheet.columns) - 1
    worksheet.merge_range(0, 0, 0, last_column, sheet.title, formats.title)
    worksheet.set_row(0, 28)
    widths = column_widths(sheet)
    for index, (column, (width, _)) in enumerate(zip(sheet.columns, widths)):
        worksheet.write_string(HEADER_ROW, index, column.header, formats.header)
        worksheet.set_column(index, index, width)
    for offset, values in enumerate(sheet.rows):
        row = FIRST_DATA_ROW + offset
        bold = offset in sheet.total_rows
        for index, (column, raw) in enumerate(zip(sheet.columns, values)):
            value = _value(raw)
            cell_format = formats.cell(column.kind, bold=bold, wrap=widths[index][1])
            if value is None:
                worksheet.write_blank(row, index, None, cell_format)
            elif column.kind != "text" and isinstance(value, (int, float)) and not isinstance(value, bool):
                worksheet.write_number(row, index, value, cell_format)
            else:
                # Text from a unit's file must never become a formula, a number or a link.
                worksheet.write_string(row, index, str(value), cell_format)

    worksheet.freeze_panes(FIRST_DATA_ROW, sheet.frozen_columns)
    worksheet.set_landscape()
    worksheet.set_paper(9)  # A4
    worksheet.repeat_rows(0, HEADER_ROW)
    worksheet.fit_to_pages(1, 0)  # one page wide, as many pages long as it takes
    worksheet.center_horizontally()
    worksheet.set_margins(left=0.4, right=0.4, top=0.6, bottom=0.6)
    worksheet.set_footer("&C第 &P 页，共 &N 页")
    worksheet.print_area(0, 0, FIRST_DATA_ROW + len(sheet.rows) - 1, last_column)


def workbook_bytes(sheets: list[Sheet]) -> bytes:
    buffer = io.BytesIO()
    workbook = xlsxwriter.Workbook(buffer, {"in_memory": True, "strings_to_formulas": False,
                                            "strings_to_numbers": False, "strings_to_urls": False})
    formats = _Formats(workbook)
    for sheet in sheets:
        _write_sheet(workbook, formats, sheet)
    workbook.close()
    return buffer.getvalue()


def year_workbook(data: YearData) -> bytes:
    return workbook_bytes(year_sheets(data))
