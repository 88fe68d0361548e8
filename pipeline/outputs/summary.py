"""The summary report 全县部门整体支出绩效自评情况, for the county leadership and the city bureau.

`summary_content` is pure: the year's frames in, a list of blocks (headings, paragraphs,
tables, charts) and the plotly figures out. `summary_docx` and `summary_html` lay the same
blocks out as Word and as HTML (printed to PDF by `pdf`), with the charts as PNG images.
Every aggregate comes from pipeline.metrics through dashboard.tables, every chart from
dashboard.figures.
"""

from __future__ import annotations

import base64
import html
from dataclasses import dataclass, field
from datetime import date, datetime

import pandas as pd
import plotly.graph_objects as go

from presentation import figures as figure_builders
from presentation import rectification as rectification_tables
from presentation import tables as dashboard_tables
from presentation import targets as target_views
from pipeline import settings
from pipeline.checking.findings import SEVERITIES, rule_label
from pipeline.checking.resubmission import FIXED, OPEN, OVERDUE
from schemas.form import GRADES

from . import docxkit
from .common import chinese_date, percent, points, severity_label, text_or_dash, wanyuan
from .load import YearData

REPORT_TITLE = "全县部门整体支出绩效自评情况"
REFERENCE_EXECUTION_RATE = 0.9   # fraction: the line below which a unit's spending is called slow
TOP_COUNT = 10
LOWEST_EXECUTION_COUNT = 15
COMMON_PROBLEMS_COUNT = 10
BIGGEST_CHANGES_COUNT = 5
RECTIFICATION_UNITS_COUNT = 15
UNCHANGED_POINTS = 0.005         # a 复核 score change smaller than half a hundredth of a point is no change


@dataclass(frozen=True)
class Heading:
    text: str


@dataclass(frozen=True)
class Paragraph:
    text: str


@dataclass(frozen=True)
class Table:
    headers: list[str]
    rows: list[list[str]]
    widths: list[float]             # relative column widths
    bold_rows: frozenset[int] = frozenset()


@dataclass(frozen=True)
class Chart:
    key: str
    caption: str


Block = Heading | Paragraph | Table | Chart


@dataclass
class Summary:
    title: str
    year: int
    issued_on: date
    blocks: list[Block] = field(default_factory=list)
    figures: dict[str, go.Figure] = field(default_factory=dict)

    def text(self) -> str:
        """All the words of the report, for search and tests."""
        parts = [self.title]
        for block in self.blocks:
            if isinstance(block, (Heading, Paragraph)):
                parts.append(block.text)
            elif isinstance(block, Table):
                parts.extend(["\t".join(block.headers), *("\t".join(r) for r in block.rows)])
            elif isinstance(block, Chart):
                parts.append(block.caption)
        return "\n".join(parts)


# --- the figures behind the words ----------------------------------------------------------


def grade_counts(scores: pd.DataFrame) -> dict[str, dict[str, int]]:
    """{"self": {"优": n, ...}, "review": {...}} in the order 优 良 中 差."""
    table = dashboard_tables.grade_distribution(scores)
    return {"self": dict(zip(table["等级"], table["自评等级单位数"].astype(int))),
            "review": dict(zip(table["等级"], table["复核等级单位数"].astype(int)))}


def common_problems(findings: pd.DataFrame) -> pd.DataFrame:
    """Findings per rule: label, worst severity, count and units, most frequent first."""
    if findings.empty:
        return pd.DataFrame(columns=["rule", "label", "severity", "count", "units"])
    severity_order = {s: i for i, s in enumerate(SEVERITIES)}
    grouped = findings.assign(_severity=findings["severity"].map(severity_order)).groupby("rule")
    table = pd.DataFrame({
        "count": grouped.size(),
        "units": grouped["unit_name"].nunique(),
        "severity": grouped["_severity"].min().map(lambda i: SEVERITIES[int(i)]),
    }).reset_index()
    table["label"] = table["rule"].map(rule_label)
    return table.sort_values(["count", "rule"], ascending=[False, True]).reset_index(drop=True)


@dataclass(frozen=True)
class ChangeCounts:
    compared: int
    up: int
    down: int
    unchanged: int
    grade_up: int
    grade_down: int
    mean_change: float | None


def change_counts(changes: pd.DataFrame) -> ChangeCounts:
    known = changes.dropna(subset=["review_score_change"])
    change = known["review_score_change"]
    both = changes.dropna(subset=["review_grade", "previous_review_grade"])
    # GRADES runs best to worst, so a smaller index is a better grade.
    order = {g: i for i, g in enumerate(GRADES)}
    now = both["review_grade"].map(order)
    before = both["previous_review_grade"].map(order)
    return ChangeCounts(
        compared=len(known),
        up=int((change >= UNCHANGED_POINTS).sum()),
        down=int((change <= -UNCHANGED_POINTS).sum()),
        unchanged=int((change.abs() < UNCHANGED_POINTS).sum()),
        grade_up=int((now < before).sum()),
        grade_down=int((now > before).sum()),
        mean_change=float(change.mean()) if len(change) else None,
    )


def officer_review_sentence(indicators: pd.DataFrame) -> str:
    """How many indicators the bureau's officers scored differently from the rule (contract section 10)."""
    from presentation.review import officer_changes

    if indicators.empty or "review_source" not in indicators:
        return "财政局复核人员未改动任何指标的复核得分。"
    officer = indicators[indicators["review_source"] == "officer"]
    changed = officer[(officer["review_score"] - officer["rule_score"]).abs() > 0.005]
    if changed.empty:
        return "财政局复核人员未改动任何指标的复核得分，复核得分均按评分规则计算。"
    lowered = int((changed["review_score"] < changed["rule_score"]).sum())
    return (f"财政局复核人员抽查复核后，改动了 {changed['unit_name'].nunique()} 个单位的 "
            f"{officer_changes(indicators)} 项指标得分（其中调低 {lowered} 项），"
            f"以上复核得分、等级和排名均已按改动后的得分计算。")


def _score(value) -> str:
    return "—" if pd.isna(value) else f"{value:.2f}"


def _ranking_rows(frame: pd.DataFrame) -> list[list[str]]:
    return [[text_or_dash(None if pd.isna(r.rank) else int(r.rank)), r.unit_name, text_or_dash(r.unit_type),
             _score(r.review_score), text_or_dash(r.review_grade), _score(r.self_score),
             percent(None if pd.isna(r.execution_rate) else r.execution_rate)]
            for r in frame.itertuples(index=False)]


RANKING_HEADERS = ["排名", "单位名称", "单位类型", "复核得分", "复核等级", "自评得分", "预算资金支出率"]
RANKING_WIDTHS = [1.0, 4.6, 2.0, 1.5, 1.5, 1.5, 2.0]


# --- the report ----------------------------------------------------------------------------


def summary_content(data: YearData, issued_on: date) -> Summary:
    year, scores, status = data.year, data.scores, data.status
    summary = Summary(title=REPORT_TITLE, year=year, issued_on=issued_on)
    add = summary.blocks.append
    counts = dashboard_tables.submission_counts(status)
    totals = dashboard_tables.county_totals(scores)
    grades = grade_counts(scores)
    ranked = scores.dropna(subset=["review_score"]).sort_values(["rank", "unit_name"])

    add(Paragraph(
        f"按照县财政局关于开展{year}年度部门整体支出绩效自评工作的安排，全县各预算单位对本单位{year}年度"
        f"部门整体支出情况开展了自评，县财政局绩效股对报送材料逐一审核，并依据当年评分框架，"
        f"用各单位数据表的数字对可以复算的指标进行了复核。现将有关情况汇总如下。"))

    add(Heading("一、报送情况"))
    add(Paragraph(
        f"纳入名录的预算单位 {counts.in_roster} 个，报送自评材料 {counts.submitted} 个，"
        f"审核入库 {counts.loaded} 个；未报送的 {counts.not_submitted} 个；"
        f"材料存在须改正问题、已退回修改的 {counts.must_resubmit} 个。"))
    resubmit = dashboard_tables.resubmit_table(status)
    if not resubmit.empty:
        add(Paragraph("退回修改的单位：" + "、".join(resubmit["单位名称"]) + "。"))
    missing = status[status["in_roster"].astype(bool) & ~status["submitted"].astype(bool)]
    if not missing.empty:
        add(Paragraph("未报送的单位：" + "、".join(missing["unit_name"]) + "。"))

    add(Heading("二、自评与复核结果"))
    mismatched = int((scores["self_grade"] != scores["review_grade"]).sum())
    inflated = int((scores["inflation"] > settings.INFLATION_WARNING_POINTS).sum())
    add(Paragraph(
        f"入库的 {totals.units} 个单位自评平均得分 {points(totals.mean_self_score)}，"
        f"复核平均得分 {points(totals.mean_review_score)}。自评等级为"
        + "、".join(f"“{g}”{grades['self'][g]} 个" for g in GRADES)
        + "；复核等级为" + "、".join(f"“{g}”{grades['review'][g]} 个" for g in GRADES) + "。"
        f"自评等级与复核等级不一致的 {mismatched} 个，自评得分高出复核得分 "
        f"{settings.INFLATION_WARNING_POINTS} 分以上的 {inflated} 个。"))
    add(Paragraph(officer_review_sentence(data.indicators)))
    add(Table(["等级", "自评（个）", "复核（个）"],
              [[g, str(grades["self"][g]), str(grades["review"][g])] for g in GRADES]
              + [["合计", str(sum(grades["self"].values())), str(sum(grades["review"].values()))]],
              [2, 2, 2], frozenset({len(GRADES)})))
    summary.figures["grades"] = figure_builders.grade_distribution(scores)
    add(Chart("grades", "图1　自评等级与复核等级分布"))
    summary.figures["self_review"] = figure_builders.self_against_review(scores)
    add(Chart("self_review", "图2　各单位自评得分与复核得分"))

    add(Heading("三、排名靠前和靠后的单位"))
    top, bottom = ranked.head(TOP_COUNT), ranked.tail(TOP_COUNT)
    if len(ranked):
        best, worst = ranked.iloc[0], ranked.iloc[-1]
        add(Paragraph(
            f"按复核得分排名，第一名为{best.unit_name}（{_score(best.review_score)} 分），"
            f"最后一名为{worst.unit_name}（{_score(worst.review_score)} 分），"
            f"最高分与最低分相差 {_score(best.review_score - worst.review_score)} 分。"))
    add(Paragraph(f"复核得分前 {len(top)} 名："))
    add(Table(RANKING_HEADERS, _ranking_rows(top), RANKING_WIDTHS))
    add(Paragraph(f"复核得分后 {len(bottom)} 名："))
    add(Table(RANKING_HEADERS, _ranking_rows(bottom), RANKING_WIDTHS))
    shown = pd.concat([top, bottom]).drop_duplicates(subset=["unit_name"])
    summary.figures["ranking"] = figure_builders.score_ranking(shown)
    add(Chart("ranking", f"图3　复核得分前 {len(top)} 名和后 {len(bottom)} 名单位"))

    add(Heading("四、预算执行"))
    rated = scores.dropna(subset=["execution_rate"])
    slow = rated[rated["execution_rate"] < REFERENCE_EXECUTION_RATE].sort_values(["execution_rate", "unit_name"])
    add(Paragraph(
        f"全县入库单位财政下达预算数合计 {wanyuan(totals.budget_issued)}，支出决算数合计 "
        f"{wanyuan(totals.spent)}，预算资金支出率 {percent(totals.execution_rate)}"
        f"（各单位支出决算数之和除以财政下达预算数之和）。"
        f"支出率低于 {REFERENCE_EXECUTION_RATE * 100:.0f}% 的单位 {len(slow)} 个"
        + (("：" + "、".join(f"{r.unit_name}（{percent(r.execution_rate)}）"
                             for r in slow.head(LOWEST_EXECUTION_COUNT).itertuples(index=False)) + "。")
           if len(slow) else "。")))
    lowest = rated.sort_values(["execution_rate", "unit_name"]).head(LOWEST_EXECUTION_COUNT)
    summary.figures["execution"] = figure_builders.execution_by_unit(lowest, REFERENCE_EXECUTION_RATE)
    add(Chart("execution", f"图4　预算资金支出率最低的 {len(lowest)} 个单位"))

    add(Heading("五、三公经费"))
    with_budget = scores.dropna(subset=["sangong_control_rate"])
    overrun = with_budget[with_budget["sangong_control_rate"] > 1].sort_values("unit_name")
    add(Paragraph(
        f"入库单位三公经费预算数合计 {wanyuan(totals.sangong_budget)}，实际支出 "
        f"{wanyuan(totals.sangong_spent)}，三公经费控制率 {percent(totals.sangong_control_rate)}。"
        f"三公经费超预算的单位 {len(overrun)} 个"
        + ("：" + "、".join(f"{r.unit_name}（{percent(r.sangong_control_rate)}）"
                            for r in overrun.itertuples(index=False)) + "。" if len(overrun) else "。")))
    by_year = dashboard_tables.county_totals_by_year(data.all_scores)
    add(Table(["评价年度", "单位数", "三公经费预算数（万元）", "实际支出数（万元）", "控制率"],
              [[str(int(r["评价年度"])), str(int(r["单位数"])), _wan_text(r["三公经费预算数（万元）"]),
                _wan_text(r["三公经费实际支出数（万元）"]), _pct_text(r["三公经费控制率（%）"])]
               for _, r in by_year.iterrows()],
              [1.5, 1.2, 2.6, 2.6, 1.6]))
    summary.figures["sangong"] = figure_builders.sangong_totals_by_year(data.all_scores)
    add(Chart("sangong", "图5　三公经费历年预算数与实际支出数"))

    if len(data.targets):
        _targets_section(summary, data)

    add(Heading("六、审核发现的主要问题"))
    problems = common_problems(data.findings)
    severity_counts = data.findings["severity"].value_counts()
    add(Paragraph(
        f"审核共发现问题 {len(data.findings)} 条，其中"
        + "，".join(f"{severity_label(s)} {int(severity_counts.get(s, 0))} 条" for s in SEVERITIES)
        + "（致命：文件无法入库；错误：已入库但须退回修改；提示：不影响入库，供核实）。最常见的问题如下表。"))
    add(Table(["问题类别", "严重程度", "条数", "涉及单位数"],
              [[r.label, severity_label(r.severity), str(r.count), str(r.units)]
               for r in problems.head(COMMON_PROBLEMS_COUNT).itertuples(index=False)],
              [4.5, 1.5, 1.2, 1.8]))

    _rectification_section(summary, data)

    add(Heading("八、与上年相比"))
    changes = data.changes
    change = change_counts(changes)
    if change.compared == 0:
        add(Paragraph(f"数据仓库中没有可与{year}年度比较的上年数据。"))
    else:
        previous_year = int(changes["previous_year"].dropna().iloc[0])
        add(Paragraph(
            f"与{previous_year}年度相比，两年均入库的 {change.compared} 个单位中，复核得分上升的 {change.up} 个，"
            f"下降的 {change.down} 个，持平的 {change.unchanged} 个，平均变化 "
            f"{change.mean_change:+.2f} 分；复核等级提高的 {change.grade_up} 个，降低的 {change.grade_down} 个。"))
        moved = dashboard_tables.changes_table(changes, limit=BIGGEST_CHANGES_COUNT * 2)
        add(Paragraph("复核得分变化最大的单位："))
        add(Table(["单位名称", "上年复核得分", "本年复核得分", "变化（分）", "上年等级", "本年等级"],
                  [[r["单位名称"], _score(r["上年复核得分"]), _score(r["本年复核得分"]),
                    "—" if pd.isna(r["得分变化（分）"]) else f"{r['得分变化（分）']:+.2f}",
                    text_or_dash(r["上年复核等级"]), text_or_dash(r["本年复核等级"])]
                   for _, r in moved.iterrows()],
                  [4.6, 1.8, 1.8, 1.5, 1.3, 1.3]))
        if change.grade_up or change.grade_down:
            summary.figures["flows"] = figure_builders.grade_flows(changes)
            add(Chart("flows", f"图6　复核等级由{previous_year}年度到{year}年度的变化"))

    add(Heading("九、下一步工作"))
    add(Paragraph(
        "对退回修改的单位，县财政局已逐一发出退回修改通知，列明问题所在的工作表和单元格及改正要求，"
        "请相关单位按期重新报送；对预算资金支出率偏低、三公经费超预算和自评得分明显高于复核得分的单位，"
        "将在下一年度预算安排和绩效监控中予以重点关注。"))
    return summary


def _targets_section(summary: Summary, data: YearData) -> None:
    """五之二: the county's completion of the units' own 绩效目标表 targets."""
    add = summary.blocks.append
    county = target_views.county_targets(data.targets)
    without = sorted(set(data.scores["unit_name"]) - set(data.targets["unit_name"]))
    per_unit = target_views.unit_completion(data.targets)
    add(Heading("五之二、绩效目标完成情况"))
    add(Paragraph(
        f"填报绩效目标表的单位 {county.units} 个，共设定绩效目标 {county.targets} 个，完全完成 {county.met} 个；"
        f"各单位加权完成度平均为 {percent(county.completion)}（每个单位计一次，无法核实的目标按未完成计）。"
        f"未完全完成且未说明偏差原因的目标 {county.missed_without_reason} 个，已在退回修改通知中列明。"
        + (f"未填报绩效目标表、绩效目标两项指标无法复核的单位 {len(without)} 个：{'、'.join(without)}。"
           if without else "")))
    lowest = per_unit.head(TOP_COUNT)
    add(Paragraph(f"加权完成度最低的 {len(lowest)} 个单位："))
    add(Table(["单位名称", "目标数", "未完全完成", "其中未说明原因", "加权完成度"],
              [[r.unit_name, str(r.targets), str(r.missed), str(r.missed_without_reason), percent(r.completion)]
               for r in lowest.itertuples(index=False)],
              [4.6, 1.2, 1.5, 1.8, 1.6]))


def _rectification_section(summary: Summary, data: YearData) -> None:
    """七: what the 退回修改 asked for and how much of it the resubmissions fixed (contract section 12)."""
    add = summary.blocks.append
    items = data.rectifications
    add(Heading("七、退回修改与整改"))
    if items.empty:
        add(Paragraph("本年度审核没有发现须改正的问题，没有须整改的事项。"))
        return
    overview = rectification_tables.unit_overview(items, data.files, data.findings)
    by_status = items["status"].value_counts()
    overdue_units = overview[overview["逾期未改正"] > 0]["单位名称"]
    as_of = pd.to_datetime(items["as_of"]).max()
    resubmitted = int((overview["报送版本数"] > 1).sum())
    add(Paragraph(
        (f"截至{chinese_date(as_of.date())}，" if pd.notna(as_of) else "")
        + f"审核发现须改正的问题（错误和致命问题，同一单元格的同一问题计一项）{len(items)} 项，涉及 "
        f"{items['unit_name'].nunique()} 个单位；重新报送了两个及以上版本的单位 {resubmitted} 个。"
        f"其中已在重新报送的版本中改正 {int(by_status.get(FIXED, 0))} 项，尚未改正 {int(by_status.get(OPEN, 0))} 项"
        f"（尚未发出退回修改通知或未到重新报送截止日期），逾期未改正 {int(by_status.get(OVERDUE, 0))} 项"
        + (f"，涉及 {len(overdue_units)} 个单位：{'、'.join(overdue_units)}。" if len(overdue_units) else "。")))
    waiting = overview[(overview["未改正"] + overview["逾期未改正"]) > 0].head(RECTIFICATION_UNITS_COUNT)
    if waiting.empty:
        return
    add(Paragraph(f"尚有未改正事项的单位（逾期的在前，列出 {len(waiting)} 个）："))
    add(Table(["单位名称", "报送版本数", "整改事项", "已改正", "未改正", "逾期未改正", "重新报送截止日期"],
              [[r["单位名称"], str(r["报送版本数"]), str(r["整改事项"]), str(r["已改正"]), str(r["未改正"]),
                str(r["逾期未改正"]), text_or_dash(r["重新报送截止日期"])]
               for _, r in waiting.iterrows()],
              [4.2, 1.3, 1.2, 1.1, 1.1, 1.4, 2.0]))


def _wan_text(value) -> str:
    return "—" if pd.isna(value) else f"{value:,.2f}"


def _pct_text(value) -> str:
    return "—" if pd.isna(value) else f"{value:.2f}%"


# --- layout: Word --------------------------------------------------------------------------


def summary_docx(summary: Summary, images: dict[str, bytes]) -> bytes:
    created = datetime(summary.issued_on.year, summary.issued_on.month, summary.issued_on.day)
    document = docxkit.new_document(title=f"{summary.year}年度{summary.title}", created=created)
    docxkit.title(document, f"{summary.year}年度{summary.title}", size=18)
    docxkit.paragraph(document, f"县财政局绩效股　{chinese_date(summary.issued_on)}", indent=False,
                      align="center", size=12)
    width = docxkit.text_width_cm(document)
    for block in summary.blocks:
        if isinstance(block, Heading):
            docxkit.heading(document, block.text)
        elif isinstance(block, Paragraph):
            docxkit.paragraph(document, block.text)
        elif isinstance(block, Table):
            scale = width / sum(block.widths)
            docxkit.table(document, block.headers, block.rows, [w * scale for w in block.widths],
                          bold_rows=set(block.bold_rows))
        elif isinstance(block, Chart) and block.key in images:
            docxkit.picture(document, images[block.key], width * 0.98, block.caption)
    return docxkit.to_bytes(document)


# --- layout: HTML for the PDF --------------------------------------------------------------

_CSS = """
@page { size: A4; margin: 20mm 18mm; }
body { font-family: "Noto Serif CJK SC", "Noto Sans CJK SC", serif; font-size: 11.5pt; line-height: 1.6; }
h1 { font-family: "Noto Sans CJK SC", sans-serif; text-align: center; font-size: 19pt; margin: 0 0 4pt; }
.issued { text-align: center; margin-bottom: 14pt; }
h2 { font-family: "Noto Sans CJK SC", sans-serif; font-size: 13.5pt; margin: 14pt 0 4pt; break-after: avoid; }
p { text-indent: 2em; margin: 4pt 0; }
table { border-collapse: collapse; width: 100%; margin: 6pt 0; font-size: 10pt; break-inside: auto; }
thead { display: table-header-group; }
tr { break-inside: avoid; }
th, td { border: 0.6pt solid #444; padding: 2pt 4pt; }
th { background: #DDEBF7; font-family: "Noto Sans CJK SC", sans-serif; font-weight: normal; }
tr.total td { font-weight: bold; }
figure { margin: 8pt 0; text-align: center; break-inside: avoid; }
figure img { width: 100%; }
figcaption { font-size: 10pt; }
"""


def summary_html(summary: Summary, images: dict[str, bytes]) -> str:
    escape = html.escape
    parts = ["<!DOCTYPE html>", '<html lang="zh-CN"><head><meta charset="utf-8">',
             f"<title>{escape(f'{summary.year}年度{summary.title}')}</title><style>{_CSS}</style></head><body>",
             f"<h1>{escape(f'{summary.year}年度{summary.title}')}</h1>",
             f'<div class="issued">县财政局绩效股　{escape(chinese_date(summary.issued_on))}</div>']
    for block in summary.blocks:
        if isinstance(block, Heading):
            parts.append(f"<h2>{escape(block.text)}</h2>")
        elif isinstance(block, Paragraph):
            parts.append(f"<p>{escape(block.text)}</p>")
        elif isinstance(block, Table):
            total = sum(block.widths)
            columns = "".join(f'<col style="width:{w / total * 100:.1f}%">' for w in block.widths)
            head = "".join(f"<th>{escape(h)}</th>" for h in block.headers)
            body = "".join(
                f'<tr{" class=total" if i in block.bold_rows else ""}>'
                + "".join(f"<td>{escape(v)}</td>" for v in row) + "</tr>"
                for i, row in enumerate(block.rows))
            parts.append(f"<table><colgroup>{columns}</colgroup><thead><tr>{head}</tr></thead>"
                         f"<tbody>{body}</tbody></table>")
        elif isinstance(block, Chart) and block.key in images:
            encoded = base64.b64encode(images[block.key]).decode("ascii")
            parts.append(f'<figure><img alt="{escape(block.caption)}" src="data:image/png;base64,{encoded}">'
                         f"<figcaption>{escape(block.caption)}</figcaption></figure>")
    parts.append("</body></html>")
    return "".join(parts)
