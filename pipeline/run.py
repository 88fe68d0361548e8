"""The pipeline: discover → read → stage → parse → rules → 复核 → publish.

Reading files and writing the warehouse are the only IO; everything between is the
pure functions of staging, parse, rules and scoring.
"""

from __future__ import annotations

import copy
import datetime as dt
import functools
import gc
import sys
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import polars as pl

from pipeline import ledger as bureau_ledger
from pipeline.scoring import review as scoring
from pipeline.scoring import metrics, sampling
from pipeline.scoring import targets as target_scoring
from pipeline.checking import resubmission, rules
from pipeline.reading.discover import FoundFile, discover, read_roster
from pipeline.checking.findings import (ERROR, FATAL, WARNING, Finding, finding, fmt_amount, internal_error,
                                        is_registered)
from pipeline.scoring.framework import Framework, FrameworkError, available_years, load_framework
from pipeline.checking.cache import CheckCache, CheckOutcome, context_fingerprint, entry_key
from pipeline.publishing.fingerprint import build_fingerprint
from pipeline.reading.ingest import ReadingFailed, read_all
from pipeline.reading.normalise import squash
from pipeline.reading.parse import ParsedWorkbook
from pipeline.settings import ROSTER_FILE, frameworks_dir, ledger_path
from pipeline.publishing.contract import CONTRACT
from pipeline.publishing.carry import Carried, record_build, release, what_to_carry
from pipeline.publishing.warehouse import clear_stale, publish
from pipeline.reading.grid import WorkbookReadError
from schemas.form import DATA_LINE_BY_NUMBER, DATA_LINES, INFO_FIELDS, SHEET_DATA, SHEET_SCORES

AMOUNT_UNITS = {1: "元", 1_000: "千元", 10_000: "万元"}
LOADED, QUARANTINED, SUPERSEDED, SKIPPED = "loaded", "quarantined", "superseded", "skipped"
UNIT_SCORES = CONTRACT["unit_scores"]
# computed over the whole table once every row is built: ranks, the two-year flag
OVER_TABLE = tuple(c.name for c in UNIT_SCORES.columns if c.over_table)
# the rates a 自评报告 states and the checker compares with the workbook's
REPORTED_RATES = ("execution_rate", "public_control_rate", "sangong_control_rate")
DATA_LINES_TABLE, INDICATOR_SCORES = CONTRACT["data_lines"], CONTRACT["indicator_scores"]
UNIT_CHANGES, TARGETS = CONTRACT["unit_changes"], CONTRACT["targets"]
RECTIFICATIONS, REVIEW_SAMPLE = CONTRACT["rectifications"], CONTRACT["review_sample"]
SUBMISSION_STATUS, SUBMISSION_CHANGES = CONTRACT["submission_status"], CONTRACT["submission_changes"]
# what indicator_scores copies of an indicator review: every column not derived, but the unit-year's
INDICATOR_SCORES_COPIED = tuple(c.name for c in INDICATOR_SCORES.columns
                                if c.derive is None and c.name not in ("unit_name", "year"))
LINE_NUMBERS, LINE_ITEMS = [d.line for d in DATA_LINES], [d.label for d in DATA_LINES]


class RunError(Exception):
    """The run itself cannot happen (no RAW folder, unusable roster or framework, unwritable DB)."""


@dataclass
class Submission:
    """One file and what became of it."""

    found: FoundFile
    state: str = LOADED
    reason: str | None = None
    parsed: ParsedWorkbook | None = None
    findings: list[Finding] = field(default_factory=list)
    reviews: list[scoring.IndicatorReview] = field(default_factory=list)
    framework: Framework | None = None
    unit_name: str | None = None
    year: int | None = None
    copied_from: str | None = None  # the roster unit the file name names, when the content names another

    def add(self, findings: list[Finding]) -> None:
        self.findings += [f.at(file=self.found.relative, unit_name=self.unit_name, year=self.year)
                          for f in findings]


@dataclass
class RunResult:
    """Every file's fate and the tables; a table of CARRIED_TABLES leaves out the unit-years
    whose rows the build copies from the published warehouse (carried.units_of)."""

    submissions: list[Submission]
    tables: dict[str, pl.DataFrame]
    carried: Carried = field(default_factory=Carried)

    def count_states(self) -> Counter:
        return Counter(s.state for s in self.submissions)

    def count_severities(self) -> Counter:
        return Counter(self.tables["findings"]["severity"].to_list())


# ---------------------------------------------------------------- one workbook

@dataclass(frozen=True)
class Roster:
    """The roster as the checks look it up: by name and by 单位编码."""

    by_name: dict[str, dict]
    by_code: dict[str, str]

    @classmethod
    def of(cls, units: list[dict]) -> "Roster":
        return cls({u["unit_name"]: u for u in units},
                   {u["unit_code"]: u["unit_name"] for u in units if u.get("unit_code")})


def check_workbook(found: FoundFile, parsed: ParsedWorkbook | WorkbookReadError,
                   roster: Roster | dict[str, dict], frameworks: dict[int, Framework]) -> Submission:
    """Check one parsed (and batch-validated) workbook; its state is loaded or quarantined.
    Whatever fails in checking it ends in a fatal finding for this file alone."""
    if not isinstance(roster, Roster):
        roster = Roster.of(list(roster.values()))
    try:
        return _check_workbook(found, parsed, roster, frameworks)
    except Exception as exc:  # a bug must cost one file, not the county's run
        sub = Submission(found, year=found.folder_year, state=QUARANTINED, reason="校验时程序出错")
        if isinstance(parsed, ParsedWorkbook):
            sub.unit_name = parsed.unit_name
        sub.add([internal_error("校验本文件", exc)])
        return sub


def check_workbook_once(found: FoundFile, parsed: ParsedWorkbook | WorkbookReadError, roster: Roster,
                        frameworks: dict[int, Framework], cache: CheckCache | None,
                        key: str | None = None) -> Submission:
    """check_workbook, or what it made of the same file (bytes, place, roster, framework, code)
    on an earlier run."""
    if cache is None:
        return check_workbook(found, parsed, roster, frameworks)
    key = entry_key(found) if key is None else key
    outcome = cache.get(key)
    if outcome is None:
        sub = check_workbook(found, parsed, roster, frameworks)
        cache.put(key, CheckOutcome(sub.state, sub.reason, sub.unit_name, sub.year, sub.findings, sub.reviews,
                                    sub.parsed is not None, sub.framework is not None))
        return sub
    return Submission(found, state=outcome.state, reason=outcome.reason,
                      parsed=parsed if outcome.with_parsed else None, findings=outcome.findings,
                      reviews=outcome.reviews,
                      framework=frameworks.get(found.folder_year) if outcome.with_framework else None,
                      unit_name=outcome.unit_name, year=outcome.year)


def _check_workbook(found: FoundFile, parsed: ParsedWorkbook | WorkbookReadError,
                    roster: Roster, frameworks: dict[int, Framework]) -> Submission:
    sub = Submission(found, year=found.folder_year)
    if isinstance(parsed, WorkbookReadError):
        sub.state, sub.reason = QUARANTINED, "文件无法打开"
        rule = parsed.rule if is_registered(parsed.rule) else "file.unreadable"
        sub.add([finding(rule, "文件", path=found.relative, reason=str(parsed), found=found.path.suffix)])
        return sub
    sub.parsed = parsed
    unit, unit_findings = rules.resolve_unit(parsed, roster.by_name, roster.by_code)
    sub.unit_name = unit
    # The folder decides the year a file counts for; a workbook of another 评价年度 is
    # quarantined (rules.year_findings), so it counts for neither year.
    sub.year = found.folder_year
    framework = sub.framework = frameworks.get(found.folder_year)
    more: list[Finding] = list(parsed.findings)
    if framework is None:
        more.append(finding("framework.missing", "基本信息", found=str(sub.year)))
    if framework is not None and (parsed.unit_name or parsed.usable):
        # Checked even when the file is quarantined, so a unit learns everything to fix at once.
        if SHEET_DATA in parsed.sheets_found:
            more += rules.identity_findings(parsed)
        if SHEET_SCORES in parsed.sheets_found:
            more += rules.score_findings(parsed, framework)
        more += rules.year_findings(parsed, found.folder_year)
        more += unit_findings
        more += rules.late_findings(parsed, framework.deadline)
    if framework is not None and not any(f.severity == FATAL for f in more):
        sub.reviews = scoring.review_indicators(parsed, framework)
        more += scoring.inflation_findings(parsed, sub.reviews)
        more += scoring.unscored_findings(sub.reviews)
        more += target_findings(parsed, framework)
    sub.add(more)
    if any(f.severity == FATAL for f in sub.findings):
        sub.state = QUARANTINED
        sub.reason = "；".join(dict.fromkeys(f.message for f in sub.findings if f.severity == FATAL))
    return sub


def target_findings(parsed: ParsedWorkbook, framework: Framework) -> list[Finding]:
    """The 绩效目标表 checked against the year's framework (contract section 9)."""
    if parsed.targets is None:
        codes = [i.code for i in framework.indicators if i.rule in target_scoring.TARGET_RULES]
        return target_scoring.missing_sheet_findings(codes, framework.targets_sheet)
    return target_scoring.row_findings(parsed.targets, framework.qualitative)


def unit_in_file_name(file_name: str, unit_names: list[str]) -> str | None:
    """The roster unit whose full name the file name contains (the longest, if several)."""
    name = squash(file_name)
    found = [u for u in unit_names if u and u in name]
    return max(found, key=len) if found else None


def attribute_by_file_name(subs: list[Submission], unit_names: list[str]) -> None:
    """A quarantined workbook that names no unit inside (unreadable, or 单位名称 missing) is
    put down to the roster unit its file name names, so that unit is told to resubmit."""
    for sub in subs:
        if sub.found.kind == "workbook" and sub.state == QUARANTINED and not sub.unit_name:
            unit = unit_in_file_name(sub.found.path.name, unit_names)
            if unit:
                sub.unit_name = unit
                sub.findings = [f.at(unit_name=unit) for f in sub.findings]


def flag_copies(subs: list[Submission], unit_names: list[str]) -> None:
    """A loaded workbook whose 单位名称 names unit X but whose file name names another roster
    unit Y looks copied from X's file: an error for X (on this file) and for Y, and the file
    does not supersede X's own (resolve_duplicates ranks it last)."""
    on_roster = set(unit_names)
    for sub in subs:
        # Only a roster unit's content under another roster unit's file name: a typo'd name is
        # roster.unknown_unit, and a file name that names the unit itself is not a copy.
        if (sub.found.kind != "workbook" or sub.state != LOADED or sub.unit_name not in on_roster
                or sub.unit_name in squash(sub.found.path.name)):
            continue
        named = unit_in_file_name(sub.found.path.name, unit_names)
        if not named or named == sub.unit_name:
            continue
        sub.copied_from = named
        location = sub.parsed.info_cells.get("unit_name", "基本信息")
        copied = finding("file.copied", location, path=sub.found.relative, found=sub.unit_name, expected=named)
        sub.add([copied])
        sub.findings.append(copied.at(file=sub.found.relative, unit_name=named, year=sub.year))


# A 数据表 agrees with another unit's by chance when little of it is filled in: an untouched
# template (all blank or 0), or a small unit's one sum of general allocation, received and spent
# in full, written on the 9 lines it fills (1, 2, 4, 5, 9, 10, 12, 13, 14). A filled-in 数据表 has
# most of its 20 required 元 lines non-zero (the reference unit 19); 10 or more of them equal to
# the 分 to another unit's are not chance.
SAME_FIGURES_MIN_LINES = 10
AMOUNT_LINES = tuple(d.line for d in DATA_LINES if not d.is_count)


def nonzero_amount_lines(amounts: dict[int, float | None]) -> int:
    """How many of the 数据表's 元 lines hold an amount other than blank or 0."""
    return sum(1 for n in AMOUNT_LINES if amounts.get(n))


def figures_key(amounts: dict[int, float | None]) -> tuple[float | None, ...] | None:
    """Every 数据表 line's amount as read (blank and 0 differ), or None when too few amounts
    are non-zero for equal figures to mean a copy (SAME_FIGURES_MIN_LINES)."""
    if nonzero_amount_lines(amounts) < SAME_FIGURES_MIN_LINES:
        return None
    return tuple(None if amounts.get(n) is None else float(amounts[n]) for n in LINE_NUMBERS)


def data_range(parsed: ParsedWorkbook) -> str:
    """Where the 数据表's amounts are: 数据表!C5:C29 (the sheet alone when no cell was read)."""
    cells = [parsed.amount_cells[n] for n in LINE_NUMBERS if n in parsed.amount_cells]
    if not cells:
        return SHEET_DATA
    return f"{cells[0]}:{cells[-1].rsplit('!', 1)[-1]}" if len(cells) > 1 else cells[0]


def flag_same_figures(subs: list[Submission], unit_names: list[str]) -> None:
    """Loaded workbooks of one year counting for different roster units whose 数据表 figures are
    all the same: each is an error for its own unit (file.copied), naming the others.

    Only each unit-year's loaded file is compared, once duplicates are resolved: a superseded
    version no longer counts, and a unit's resubmission with unchanged figures is the same unit.
    The files count for different units, so neither supersedes the other. A unit not on the
    roster is left out: its name is already an error (roster.unknown_unit), and a typo'd name
    on a unit's own figures is that unit's resubmission, not a copy of it."""
    on_roster = set(unit_names)
    groups: dict[tuple[int, tuple], list[Submission]] = {}
    for sub in subs:
        if (sub.found.kind != "workbook" or sub.state != LOADED or sub.parsed is None
                or sub.unit_name not in on_roster):
            continue
        key = figures_key(sub.parsed.amounts)
        if key is not None:
            groups.setdefault((sub.year, key), []).append(sub)
    for group in groups.values():
        if len(group) < 2:  # once duplicates are resolved, a unit-year has one loaded file: these are other units'
            continue
        amounts = group[0].parsed.amounts
        count = nonzero_amount_lines(amounts)
        line = max(AMOUNT_LINES, key=lambda n: amounts.get(n) or 0.0)  # the first of the largest
        for sub in group:
            others = sorted((s for s in group if s is not sub),
                            key=lambda s: (s.unit_name, s.found.relative))
            sub.add([finding(
                "file.copied", data_range(sub.parsed), case="same_figures",
                others="、".join(f"{s.unit_name}（{s.found.relative}）" for s in others),
                count=count, line=line, label=DATA_LINE_BY_NUMBER[line].label.removeprefix("其中："),
                found=fmt_amount(amounts[line]), expected="、".join(s.found.relative for s in others))])


def resolve_duplicates(subs: list[Submission]) -> None:
    """Several loaded workbooks of one unit and year: the newest 填报日期 wins (ties: the newer
    file modification time, then the file name, with a warning naming both); the others are
    superseded, not dropped. A suspected copy never supersedes the unit's own file."""
    groups: dict[tuple[str, int], list[Submission]] = {}
    for sub in subs:
        if sub.state == LOADED:
            groups.setdefault((sub.unit_name, sub.year), []).append(sub)
    for (unit, year), group in groups.items():
        if len(group) < 2:
            continue
        def newest_first(s: Submission):
            filed = s.parsed.info.get("filed_on") or dt.date.min
            return (s.copied_from is None, filed, s.found.mtime_ns, s.found.relative)
        group.sort(key=newest_first, reverse=True)
        winner = group[0]
        runner_up = group[1]
        filed = winner.parsed.info.get("filed_on")
        if runner_up.copied_from is None and runner_up.parsed.info.get("filed_on") == filed:
            winner.add([finding(
                "file.same_date", winner.parsed.info_cells.get("filed_on", "基本信息"), unit=unit,
                evaluation_year=year, filed_on=filed or "未填",
                found=runner_up.found.relative, expected=winner.found.relative)])
        for older in group[1:]:
            older.state = SUPERSEDED
            older.reason = f"同一单位同一年度有更新的报送：{winner.found.relative}"
            older.add([finding("file.superseded", "文件", unit=unit, evaluation_year=year,
                               filed_on=older.parsed.info.get("filed_on") or "未填",
                               newer_filed_on=winner.parsed.info.get("filed_on") or "未填",
                               found=older.found.relative, expected=winner.found.relative)])


def review_against_previous_years(subs: list[Submission]) -> None:
    """Where a year's framework has metrics against the previous year, 复核 again with the
    same unit's loaded previous year (known only once duplicates are resolved)."""
    loaded = {(s.unit_name, s.year): s for s in subs if s.state == LOADED and s.found.kind == "workbook"}
    review_rules = ("review.self_score_above_review", "review.formula_unscored")
    for (unit, year), sub in loaded.items():
        if sub.framework is None or not sub.framework.needs_previous_year:
            continue
        before = loaded.get((unit, year - 1))
        sub.reviews = scoring.review_indicators(sub.parsed, sub.framework, before.parsed if before else None)
        sub.findings = [f for f in sub.findings if f.rule not in review_rules]
        sub.add(scoring.inflation_findings(sub.parsed, sub.reviews) + scoring.unscored_findings(sub.reviews))


def newer(a: Submission, b: Submission) -> bool:
    """Whether a was handed in after b: by 填报日期 when both have one, else by modification time."""
    filed_a = a.parsed.info.get("filed_on") if a.parsed else None
    filed_b = b.parsed.info.get("filed_on") if b.parsed else None
    if filed_a and filed_b and filed_a != filed_b:
        return filed_a > filed_b
    return a.found.mtime_ns > b.found.mtime_ns


# ---------------------------------------------------------------- reports

def table_values(parsed: ParsedWorkbook, reviews: list[scoring.IndicatorReview]) -> dict[str, object]:
    """What the workbook says, under the item keys the report checker uses."""
    a = parsed.amounts
    values: dict[str, object] = {f"r{n}": v for n, v in a.items()}
    named = line_figures(a)
    values.update({name: metrics.compute(metrics.METRICS[name].func, named) for name in REPORTED_RATES})
    values.update(
        self_score=scoring.self_total(parsed),
        self_grade=parsed.grade,
        year=parsed.year,
        unit_name=parsed.unit_name,
    )
    for r in reviews:
        values[f"score.{r.code}"] = r.self_score
    return values


def check_reports(report_files: list[FoundFile], loaded: dict[tuple[str, int], Submission],
                  roster_names: list[str], frameworks: dict[int, Framework],
                  ) -> tuple[list[Submission], list[dict], set[tuple[str, int]]]:
    """Read every 自评报告, match it to its unit, extract its figures and compare them."""
    from pipeline.narratives import reports

    names = sorted(set(roster_names) | {u for u, _ in loaded})
    subs, figures, covered = [], [], set()
    for found in report_files:
        sub = Submission(found, year=found.folder_year)
        subs.append(sub)
        try:
            figures += _check_report(reports, found, sub, loaded, names, frameworks, covered)
        except Exception as exc:  # one report's failure is a finding for it, not the end of the run
            sub.state, sub.reason, sub.findings = QUARANTINED, "报告处理时程序出错", []
            sub.add([internal_error("读取自评报告", exc)])
    return subs, figures, covered


def _check_report(reports, found: FoundFile, sub: Submission, loaded: dict[tuple[str, int], Submission],
                  names: list[str], frameworks: dict[int, Framework], covered: set) -> list[dict]:
    """One 自评报告: read, matched to its unit, figures extracted and compared; its figure rows."""
    try:
        text = reports.read_report_text(found.path)
    except reports.ReportReadError as exc:
        sub.state, sub.reason = QUARANTINED, "报告无法读取"
        sub.add([reports.unreadable_report_finding(found.relative, exc, severity=FATAL)])
        return []
    unit = reports.match_unit(text, found.path.name, names)
    if unit is None:
        sub.state, sub.reason = QUARANTINED, "报告无法匹配到单位"
        sub.add([reports.unmatched_report_finding(found.relative, severity=FATAL)])
        return []
    sub.unit_name = unit
    covered.add((unit, found.folder_year))
    framework = frameworks.get(found.folder_year)
    names_by_code = {i.code: i.level3 for i in framework.indicators} if framework else None
    extracted = (reports.extract_figures(text, names_by_code, max(i.max_score for i in framework.indicators))
                 if framework else reports.extract_figures(text))
    figures = reports.report_figure_rows(extracted, file=found.relative, unit_name=unit, year=found.folder_year)
    workbook = loaded.get((unit, found.folder_year))
    if workbook is not None:
        sub.add(reports.check_report(extracted, table_values(workbook.parsed, workbook.reviews), names_by_code))
        if workbook.parsed.targets:  # the report's figures for the unit's own named targets
            from pipeline.narratives import targets as report_targets

            claims = report_targets.target_claims(text, workbook.parsed.targets)
            sub.add(report_targets.check_target_claims(claims, workbook.parsed.targets))
            figures += report_targets.report_target_rows(claims, file=found.relative, unit_name=unit,
                                                         year=found.folder_year)
    return figures


def missing_report_findings(loaded: dict[tuple[str, int], Submission], covered: set) -> list[Finding]:
    from pipeline.narratives import reports

    missing = reports.missing_report_finding()  # the same for every unit: made once
    return [missing.at(file=sub.found.relative, unit_name=unit, year=year)
            for (unit, year), sub in sorted(loaded.items()) if (unit, year) not in covered]


# ---------------------------------------------------------------- tables

def _frame(table: str, rows: list[dict] | list[tuple], leave_out: tuple[str, ...] = ()) -> pl.DataFrame:
    """One warehouse table from rows (dicts, or the table's Row records), typed and ordered as
    its specification in the contract says."""
    return CONTRACT[table].frame(rows, leave_out)


def line_figures(amounts: dict[int, object]) -> dict[str, object]:
    """Each 数据表 line's figure by the line's name (as read; None when left blank)."""
    return {d.name: amounts.get(d.line) for d in DATA_LINES}


def named_figures(parsed: ParsedWorkbook) -> dict[str, object]:
    """A unit-year's figures by name: every 数据表 line (元; counts for 24, 25) and the 基本信息 counts."""
    figures = {name: None if v is None else float(v) for name, v in line_figures(parsed.amounts).items()}
    figures.update({f.key: parsed.info.get(f.key) for f in INFO_FIELDS if f.kind == "int"})
    return figures


def sent_notices(ledger: Path) -> list[resubmission.SentNotice]:
    """The 退回修改 notices the ledger records."""
    return [resubmission.SentNotice(n.year, n.unit_name, n.round, n.issued_on, n.deadline,
                                    resubmission.parse_items(n.items))
            for n in bureau_ledger.all_notices(ledger)]


def rectification_tables(chains: dict[tuple[str, int], list[resubmission.Version]], roster: list[dict],
                         notices: list[resubmission.SentNotice]) -> dict[str, pl.DataFrame]:
    """submission_changes and rectifications (contract section 12)."""
    codes = {u["unit_name"]: u.get("unit_code") for u in roster}
    as_of = resubmission.as_of_date(chains.values(), notices)
    change_rows, item_rows = [], []
    for (unit, year), chain in sorted(chains.items()):
        code = codes.get(unit) or next((v.parsed.info.get("unit_code") for v in reversed(chain)
                                        if v.parsed is not None and v.parsed.info.get("unit_code")), None)
        change_rows += [SUBMISSION_CHANGES.derive_row(given, context=cells)
                        for given, cells in resubmission.change_rows(chain, code)]
        asked = [n for n in notices if n.unit_name == unit and n.year == year]
        item_rows += [RECTIFICATIONS.derive_row(item) for item in resubmission.item_rows(chain, code, asked, as_of)]
    return {
        "submission_changes": _frame("submission_changes", change_rows),
        "rectifications": _frame("rectifications", item_rows),
    }


def unit_changes(unit_scores: pl.DataFrame) -> pl.DataFrame:
    """unit_changes: each unit-year against the unit's previous loaded year."""
    rows = []
    for now, before in scoring.with_previous_year(unit_scores):
        previous = {f"{metrics.PREVIOUS}{name}": value for name, value in before.items()}
        rows.append(UNIT_CHANGES.derive_row(dict(
            unit_name=now["unit_name"], year=now["year"], previous_year=before["year"],
            review_score=now["review_score"], previous_review_score=before["review_score"],
            review_grade=now["review_grade"], previous_review_grade=before["review_grade"],
        ), context={**now, **previous}))
    return _frame("unit_changes", rows)


def targets_of(unit_years: list[tuple[str | None, str, int, list, dict]]) -> dict[str, Sequence]:
    """targets, column by column: one row per row of each unit-year's 绩效目标表 (given as its
    unit_code, unit_name, year, rows and the year's 定性 table), weight and completion derived."""
    given: dict[str, list] = {"unit_code": [], "unit_name": [], "year": []}
    copied, written_weight, written, qualitative = [], [], [], []
    for unit_code, unit_name, year, rows, table in unit_years:
        weights = target_scoring.written_weights(rows)
        for r in rows:
            given["unit_code"].append(unit_code)
            given["unit_name"].append(unit_name)
            given["year"].append(year)
            copied.append(target_scoring.target_columns(r))
            written_weight.append(r.weight)
            written.append(weights)
            qualitative.append(table)
    if not copied:
        return {}
    given.update(by_column(copied))
    return TARGETS.derive_columns(given, context=dict(
        written_weight=written_weight, written_weights=written, qualitative=qualitative))


def indicator_columns(reviewed: list[tuple[str, int, scoring.IndicatorReview]]) -> dict[str, Sequence]:
    """indicator_scores, column by column: one row per indicator review of a unit-year."""
    given: dict[str, list] = {"unit_name": [u for u, _, _ in reviewed], "year": [y for _, y, _ in reviewed]}
    for name in INDICATOR_SCORES_COPIED:
        given[name] = [getattr(r, name) for _, _, r in reviewed]
    return INDICATOR_SCORES.derive_columns(given, context=dict(officer_score=[r.officer_score for _, _, r in reviewed]),
                                           rows=len(reviewed))


def by_column(rows: list[dict[str, object]]) -> dict[str, list]:
    """Rows that all have the same keys, as one list per key."""
    return {name: [row[name] for row in rows] for name in rows[0]} if rows else {}


def review_sample_rows(unit_scores: pl.DataFrame, indicator_scores: pl.DataFrame, findings: pl.DataFrame,
                       targets: pl.DataFrame | None, samplings: dict) -> list[dict]:
    """review_sample: each loaded unit's risk and reasons, then the year's draw (selected_by)."""
    rows = []
    for year, config, scored in sampling.signals_by_year(unit_scores, indicator_scores, findings, targets, samplings):
        units = [unit for unit, _ in scored]
        columns = REVIEW_SAMPLE.derive_columns(
            dict(year=[year] * len(units), unit_code=[u["unit_code"] for u in units],
                 unit_name=[u["unit_name"] for u in units]),
            context=dict(signals=[signals for _, signals in scored], weights=[config.weights] * len(units)),
            rows=len(units))
        candidates = [{**dict(zip(columns, values)), "unit_type": unit["unit_type"]}
                      for values, unit in zip(zip(*columns.values()), units)]
        rows += [{k: v for k, v in c.items() if k != "unit_type"} for c in sampling.draw(candidates, year, config)]
    return rows


def with_carried(frame: pl.DataFrame, carried: Carried, table: str, columns: tuple[str, ...]) -> pl.DataFrame:
    """Those columns of a table's rows, the carried ones (read from the published build) included."""
    rows = carried.rows(table, columns)
    if rows is None:
        return frame
    made = frame.select(columns)
    return pl.concat([made, pl.from_arrow(rows).cast(made.schema)])


def build_tables(raw: Path, roster: list[dict], years: list[int], subs: list[Submission],
                 report_figures: list[dict], extra_findings: list[Finding],
                 build_id: str, notices: list[resubmission.SentNotice] | None = None,
                 samplings: dict | None = None, frameworks: dict[int, Framework] | None = None,
                 carried: Carried | None = None) -> dict[str, pl.DataFrame]:
    frameworks = frameworks or {}
    carried = Carried() if carried is None else carried
    roster_by_name = {u["unit_name"]: u for u in roster}
    loaded = [s for s in subs if s.state == LOADED and s.found.kind == "workbook"]
    resubmission.excuse_late_resubmissions(subs)
    chains = resubmission.versions_of(subs)
    extra_findings = extra_findings + [f for chain in chains.values()
                                       for f in resubmission.unrequested_findings(chain)]
    all_findings = [f for s in subs for f in s.findings] + extra_findings

    findings = _frame("findings", [f.as_row() for f in all_findings])

    # A submission's own findings, plus those its 自评报告 earned for the same unit and year.
    by_file = Counter((f.file, f.severity) for f in all_findings)
    by_report = Counter((f.unit_name, f.year, f.severity) for f in all_findings
                        if f.rule.startswith("report.") and f.rule != "report.missing")

    def counts(sub: Submission, severity: str) -> int:
        return by_file[(sub.found.relative, severity)] + by_report[(sub.unit_name, sub.year, severity)]

    info_rows, target_units = [], []
    # data_lines, indicator_scores and unit_scores are built column by column: a province has
    # hundreds of thousands of their rows.
    lines: dict[str, list] = {c.name: [] for c in DATA_LINES_TABLE.columns}
    reviewed: list[tuple[str, int, scoring.IndicatorReview]] = []
    score_given, score_figures, score_context = [], [], []
    loaded_files = {(s.unit_name, s.year): (s.found.relative, s.found.sha256) for s in loaded}
    for sub in loaded:
        p, a = sub.parsed, sub.parsed.amounts
        entry = roster_by_name.get(sub.unit_name, {})
        # A unit-year loaded from the same bytes as in the published build keeps its rows there (publishing.carry).
        carry_own = carried.takes(sub.unit_name, sub.year, sub.found.relative, sub.found.sha256)
        if not (carry_own and carried.same("context")):
            qualitative = frameworks[sub.year].qualitative if sub.year in frameworks else {}
            target_units.append((entry.get("unit_code") or p.info.get("unit_code"), sub.unit_name, sub.year,
                                 p.targets or [], qualitative))
        if not carry_own:
            info_rows.append(dict(
                unit_name=sub.unit_name, year=sub.year, file=sub.found.relative,
                unit_code=p.info.get("unit_code"), department=p.info.get("department"),
                unit_type=p.info.get("unit_type"), filed_on=p.info.get("filed_on"),
                contact=p.info.get("contact"), phone=p.info.get("phone"), offices=p.info.get("offices"),
                establishment=p.info.get("establishment"), staff=p.info.get("staff"),
                retired=p.info.get("retired"), amount_unit=AMOUNT_UNITS.get(p.amount_scale, "元")))
            lines["unit_name"] += [sub.unit_name] * len(LINE_NUMBERS)
            lines["year"] += [sub.year] * len(LINE_NUMBERS)
            lines["line"] += LINE_NUMBERS
            lines["item"] += LINE_ITEMS
            lines["amount"] += [None if a.get(n) is None else float(a[n]) for n in LINE_NUMBERS]
            lines["source_cell"] += [p.amount_cells.get(n) for n in LINE_NUMBERS]
            lines["source_value"] += [p.amount_raw.get(n) for n in LINE_NUMBERS]
        previous_year = loaded_files.get((sub.unit_name, sub.year - 1))
        against_previous_year = sub.framework is not None and sub.framework.needs_previous_year
        if not (carry_own and carried.keeps_reviews(sub.unit_name, sub.year, against_previous_year, previous_year)):
            reviewed += [(sub.unit_name, sub.year, r) for r in sub.reviews]
        score_given.append(dict(
            unit_code=entry.get("unit_code") or p.info.get("unit_code"),
            unit_name=sub.unit_name,
            department=entry.get("department") or p.info.get("department"),
            unit_type=entry.get("unit_type") or p.info.get("unit_type"),
            year=sub.year, file=sub.found.relative,
            self_grade=p.grade, errors=counts(sub, ERROR), warnings=counts(sub, WARNING)))
        score_figures.append(named_figures(p))
        score_context.append(dict(
            framework=sub.framework, stated_total=p.total,
            indicator_self_scores=[i.self_score for i in p.indicators],
            indicator_review_scores=[r.review_score for r in sub.reviews]))

    score_columns = UNIT_SCORES.derive_columns(by_column(score_given), by_column(score_figures),
                                               by_column(score_context), rows=len(score_given))
    # A unit that is not on the roster is listed apart: it has no rank among the roster's units.
    unit_scores = UNIT_SCORES.derive_over_table(UNIT_SCORES.column_frame(score_columns, OVER_TABLE), dict(
        on_roster=pl.col("unit_name").is_in(list(roster_by_name))))

    ingest = _frame("ingest_files", [dict(
        file=s.found.relative, sha256=s.found.sha256, kind=s.found.kind, state=s.state,
        unit_name=s.unit_name, year=s.year, folder_year=s.found.folder_year,
        filed_on=(s.parsed.info.get("filed_on") if s.parsed else None), reason=s.reason) for s in subs])

    status_rows = []
    # A workbook of another year in this year's folder counts for neither year.
    counted = [s for s in subs if s.found.kind == "workbook" and s.unit_name and s.year is not None
               and not any(f.rule == "file.wrong_year_folder" for f in s.findings)]
    submitted = {(s.unit_name, s.year) for s in counted}
    quarantined_units = {(s.unit_name, s.year) for s in counted if s.state == QUARANTINED}
    loaded_keys = {(s.unit_name, s.year): s for s in loaded}
    with_errors = {key for key, resubmit in zip(zip(score_columns["unit_name"], score_columns["year"]),
                                                 score_columns["must_resubmit"]) if resubmit}
    newer_quarantined = set()
    for s in counted:
        winner = loaded_keys.get((s.unit_name, s.year))
        if s.state == QUARANTINED and winner is not None and newer(s, winner):
            newer_quarantined.add((s.unit_name, s.year))
    copied = {(f.unit_name, f.year) for f in all_findings if f.rule == "file.copied"}
    wrong_folder = {(s.unit_name, s.year) for s in subs if s.unit_name and s.year is not None
                    and any(f.rule == "file.wrong_year_folder" for f in s.findings)}
    names = {u["unit_name"]: u.get("unit_code") for u in roster}
    for s in loaded:
        names.setdefault(s.unit_name, s.parsed.info.get("unit_code"))
    for name, code in names.items():
        for year in years:
            key = (name, year)
            status_rows.append(SUBMISSION_STATUS.derive_row(dict(
                unit_code=code, unit_name=name, year=year, submitted=key in submitted, loaded=key in loaded_keys,
                in_roster=name in roster_by_name,
            ), context=dict(
                loaded_with_errors=key in with_errors, quarantined=key in quarantined_units,
                newer_version_quarantined=key in newer_quarantined, copied=key in copied,
                in_wrong_year_folder=key in wrong_folder)))

    tables = {
        "units": _frame("units", roster),
        "ingest_files": ingest,
        "findings": findings,
        "unit_info": _frame("unit_info", info_rows),
        "data_lines": DATA_LINES_TABLE.column_frame(lines),
        "indicator_scores": INDICATOR_SCORES.column_frame(indicator_columns(reviewed)),
        "unit_scores": unit_scores,
        "unit_changes": unit_changes(unit_scores),
        "submission_status": _frame("submission_status", status_rows),
        "report_figures": _frame("report_figures", report_figures),
        **rectification_tables(chains, roster, notices or []),
        "targets": TARGETS.column_frame(targets_of(target_units)),
    }
    # the sample looks at every unit's indicators and targets, carried or made
    tables["review_sample"] = _frame("review_sample", review_sample_rows(
        tables["unit_scores"],
        with_carried(tables["indicator_scores"], carried, "indicator_scores",
                     ("unit_name", "year", "self_score", "rule_score")),
        findings,
        with_carried(tables["targets"], carried, "targets", ("unit_name", "year", "completion", "reason")),
        samplings or {}))
    tables["build_info"] = _frame("build_info", [dict(
        build_id=build_id, built_at=dt.datetime.now().replace(microsecond=0), raw_dir=str(raw),
        years=",".join(str(y) for y in years), files=len(subs))])
    return tables


# ---------------------------------------------------------------- the run

class Progress:
    """A one-line progress bar on stderr for long runs (quiet when not a terminal)."""

    def __init__(self, total: int, enabled: bool):
        self.total, self.done = total, 0
        self.enabled = enabled and total >= 20 and sys.stderr.isatty()

    def step(self, label: str = "") -> None:
        self.done += 1
        if not self.enabled:
            return
        width = 30
        filled = width * self.done // max(self.total, 1)
        sys.stderr.write(f"\r读取 [{'#' * filled}{'.' * (width - filled)}] {self.done}/{self.total} {label[:40]:<40}")
        if self.done == self.total:
            sys.stderr.write("\n")
        sys.stderr.flush()


def load_frameworks(years: list[int], directory: Path | None = None) -> dict[int, Framework]:
    """Every year's framework; RunError naming the file when one of the years in RAW is unusable."""
    directory = directory or frameworks_dir()
    frameworks = {}
    for year in sorted(set(years) | set(available_years(directory))):
        try:
            frameworks[year] = load_framework(year, directory)
        except FrameworkError as exc:
            if year in years and (directory / f"{year}.toml").exists():
                raise RunError(str(exc)) from exc
    return frameworks


def find_inputs(raw: Path) -> list[FoundFile]:
    """Every file under RAW/<year>/, hashed; RunError when there is no RAW folder."""
    if not raw.is_dir():
        raise RunError(f"找不到报送文件夹 {raw}")
    return discover(raw)


def apply_ledger(subs: list[Submission], decisions: dict[tuple[int, str, str], bureau_ledger.Decision]) -> None:
    """The officers' scores in place of the rule's for every loaded workbook, and a warning
    on the unit for each officer's deduction."""
    by_unit: dict[tuple[int, str], dict[str, bureau_ledger.Decision]] = {}
    for (year, unit, code), decision in decisions.items():
        by_unit.setdefault((year, unit), {})[code] = decision
    for sub in subs:
        chosen = by_unit.get((sub.year, sub.unit_name))
        if sub.state == LOADED and sub.found.kind == "workbook" and chosen:
            sub.reviews = scoring.apply_decisions(sub.reviews, chosen)
            sub.add(scoring.officer_findings(sub.reviews))


def load_samplings(years: list[int]) -> dict[int, sampling.Sampling | None]:
    try:
        return {year: sampling.load_sampling(year, frameworks_dir()) for year in years}
    except sampling.SamplingError as exc:
        raise RunError(str(exc)) from exc


def collector_paused(func):
    """Run func with Python's cyclic garbage collector paused (as it was before, afterwards).

    A run keeps hundreds of thousands of small objects alive until it ends (every parse
    result, finding and row); the collector would walk them again and again, about a fifth of
    a cached rebuild's CPU (benchmarks.md). What a run makes holds no cycles that must be
    freed before it ends, and peak memory measured the same either way.
    """
    @functools.wraps(func)
    def paused(*args, **kwargs):
        was_enabled = gc.isenabled()
        gc.disable()
        try:
            return func(*args, **kwargs)
        finally:
            if was_enabled:
                gc.enable()
    return paused


@collector_paused
def process(raw: Path, progress: bool = False, cache_file: Path | None = None,
            files: list[FoundFile] | None = None, ledger: Path | None = None,
            carried: Carried | None = None) -> RunResult:
    """Everything but the publishing: every file accounted for, every table built.

    With a cache file, workbooks whose bytes were read before are not read again. The
    ledger (default settings.ledger_path()) gives the officers' 复核 scores, which count, and
    the 退回修改 notices sent.
    """
    ledger = ledger_path() if ledger is None else ledger

    files = find_inputs(raw) if files is None else files
    try:
        roster = read_roster(raw / ROSTER_FILE)
    except Exception as exc:
        raise RunError(str(exc)) from exc
    years = sorted({f.folder_year for f in files if f.folder_year is not None})
    frameworks = load_frameworks(years)
    roster_index = Roster.of(roster)
    roster_by_name = roster_index.by_name

    workbooks = [f for f in files if f.kind == "workbook" and not f.is_lock_file and f.folder_year is not None]
    bar = Progress(len(workbooks), progress)
    # read, parsed and validated; from the cache when the same bytes were read before
    try:
        parsed_by_sha = read_all([(f.sha256, f.path) for f in workbooks], cache_file, bar.step)
    except ReadingFailed as exc:  # a worker process was killed (out of memory …): nothing to publish
        raise RunError(str(exc)) from exc
    parsed = {f.relative: parsed_by_sha[f.sha256] for f in workbooks}
    # One copy per file, even for byte-identical files, before findings are added to them.
    seen: set[str] = set()
    for f in workbooks:
        if f.sha256 in seen:
            parsed[f.relative] = copy.deepcopy(parsed_by_sha[f.sha256])
        seen.add(f.sha256)

    # check results of files checked before with the same roster, frameworks and code
    carried = Carried() if carried is None else carried
    context = carried.inputs["context"] = context_fingerprint(roster, frameworks_dir())
    carried.inputs["ledger"] = bureau_ledger.fingerprint(ledger)
    keys = {f.relative: entry_key(f) for f in workbooks}
    checks = CheckCache(cache_file, context, set(keys.values())) if cache_file else None
    subs: list[Submission] = []
    report_files = []
    for found in files:
        if found.folder_year is None:
            sub = Submission(found, state=SKIPPED, reason="不在年度文件夹中")
            sub.unit_name = unit_in_file_name(found.path.name, list(roster_by_name))
            sub.add([finding("file.misplaced", "文件", found=found.relative,
                             expected=f"<评价年度>/{found.path.name}")])
            subs.append(sub)
        elif found.is_lock_file:
            sub = Submission(found, state=SKIPPED, reason="编辑器临时/锁定文件")
            sub.add([finding("file.lock_file", "文件", path=found.relative)])
            subs.append(sub)
        elif found.kind == "workbook":
            subs.append(check_workbook_once(found, parsed[found.relative], roster_index, frameworks, checks,
                                            keys[found.relative]))
        elif found.kind == "report":
            report_files.append(found)
        else:
            sub = Submission(found, state=SKIPPED, reason="不是工作簿或自评报告")
            sub.add([finding("file.unknown_kind", "文件", path=found.relative, found=found.path.suffix)])
            subs.append(sub)
    if checks is not None:
        checks.save(keys.values())
    attribute_by_file_name(subs, list(roster_by_name))
    flag_copies(subs, list(roster_by_name))
    resolve_duplicates(subs)
    flag_same_figures(subs, list(roster_by_name))
    review_against_previous_years(subs)
    apply_ledger(subs, bureau_ledger.current_decisions(ledger))

    loaded = {(s.unit_name, s.year): s for s in subs if s.state == LOADED and s.found.kind == "workbook"}
    report_subs, figures, covered = check_reports(report_files, loaded, list(roster_by_name), frameworks)
    subs += report_subs
    extra = missing_report_findings(loaded, covered)
    subs.sort(key=lambda s: s.found.relative)
    years_in_scope = sorted(set(years) | {s.year for s in loaded.values()})
    build_id = build_fingerprint(raw, files, ledger)
    notices = sent_notices(ledger)
    return RunResult(subs, build_tables(raw, roster, years_in_scope, subs, figures, extra, build_id, notices,
                                        load_samplings(years_in_scope), frameworks, carried), carried)


def cache_file_for(db: Path) -> Path:
    """Where the parse cache of a warehouse lives: beside it, hidden."""
    return db.with_name(f".{db.stem}.parse-cache.sqlite")


def check_writable(db: Path) -> None:
    """Fail before any work when the warehouse cannot be written where it is asked for."""
    try:
        db.parent.mkdir(parents=True, exist_ok=True)
        probe = db.parent / f".{db.name}.probe"
        probe.write_bytes(b"")
        probe.unlink()
    except OSError as exc:
        raise RunError(f"无法写入数据仓库路径 {db}：{exc.strerror or exc}") from exc


def check_ledger(ledger: Path, db: Path) -> None:
    """The ledger is the bureau's own record: never in the warehouse's folder, which builds rewrite."""
    from pipeline.ledger.record import Refused, check_ledger_place
    try:
        check_ledger_place(ledger, db)
    except Refused as exc:
        raise RunError(str(exc)) from exc


@collector_paused
def run(raw: Path, db: Path, progress: bool = True, use_cache: bool = True,
        force: bool = False, ledger: Path | None = None) -> RunResult | None:
    """Process RAW (and the bureau's ledger: officers' decisions, notices sent) and publish the warehouse at DB.

    Returns None, without building, when the published warehouse was built from exactly
    these inputs by exactly this code (same fingerprint): it would come out the same.
    """
    check_writable(db)
    clear_stale(db)
    if ledger is not None:
        check_ledger(ledger, db)
    ledger = ledger_path() if ledger is None else ledger
    files = find_inputs(raw)
    cache_file = cache_file_for(db) if use_cache else None
    # rows of unit-years read from the same bytes as in the published build are copied from it
    carried = Carried() if force else what_to_carry(db, cache_file)
    try:
        if not force and carried.build_id == build_fingerprint(raw, files, ledger):
            return None
        result = process(raw, progress, cache_file, files, ledger, carried)
        publish(result.tables, db, carried)
    finally:
        release(carried)
    if cache_file is not None:
        record_build(cache_file, result.tables["build_info"]["build_id"][0], carried.inputs)
    return result
