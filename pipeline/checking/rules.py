"""Cross-field rules of the contract (sections 2.2, 2.3, 6). Pure functions.

Each function looks at one parsed workbook (and, where needed, the year's framework
and the roster) and returns findings. Amounts are in 元.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Mapping

from pipeline.checking.findings import Finding, finding, fmt_amount
from pipeline.scoring.framework import Framework
from pipeline.reading.parse import ParsedWorkbook
from pipeline.settings import TOLERANCE_WANYUAN_FORM, TOLERANCE_YUAN
from schemas.form import DATA_LINE_BY_NUMBER, SHEET_DATA, SHEET_SCORES

# (left, right terms with signs): r_left = Σ sign × r_term
IDENTITIES: tuple[tuple[int, tuple[tuple[int, int], ...]], ...] = (
    (1, ((2, 1), (3, 1))),
    (4, ((5, 1), (6, 1), (7, 1))),
    (9, ((10, 1), (11, 1))),
    (13, ((14, 1), (15, 1))),
    (16, ((4, 1), (8, 1), (13, -1))),
)
SANGONG_TOTAL, SANGONG_PARTS = 20, (21, 22, 23)
SCORE_TOLERANCE = 0.005  # scores carry two decimals


def _name(line: int) -> str:
    return f"行次{line}“{DATA_LINE_BY_NUMBER[line].label.removeprefix('其中：')}”"


def _formula(terms: tuple[tuple[int, int], ...]) -> str:
    text = ""
    for i, (line, sign) in enumerate(terms):
        text += ("" if i == 0 else (" + " if sign > 0 else " − ")) + f"行次{line}"
    return text


def identity_findings(parsed: ParsedWorkbook) -> list[Finding]:
    """The arithmetic identities of the 数据表; tolerance 0.01 元, 100 元 for a 万元 form."""
    amounts = parsed.amounts
    # A form in 万元 (or 千元) carries two decimals of its unit: 100 元 (10 元).
    tolerance = TOLERANCE_YUAN if parsed.amount_scale == 1 else max(
        TOLERANCE_YUAN, TOLERANCE_WANYUAN_FORM * parsed.amount_scale / 10_000)
    checks = list(IDENTITIES)
    if any(amounts.get(p) is not None for p in SANGONG_PARTS):
        checks.append((SANGONG_TOTAL, tuple((p, 1) for p in SANGONG_PARTS)))
    findings = []
    for left, terms in checks:
        if amounts.get(left) is None or any(
                amounts.get(t) is None and DATA_LINE_BY_NUMBER[t].required for t, _ in terms):
            continue
        expected = math.fsum(sign * (amounts.get(t) or 0.0) for t, sign in terms)
        found = amounts[left]
        if abs(found - expected) > tolerance + 1e-9:
            location = parsed.amount_cells.get(left, SHEET_DATA)
            findings.append(finding(f"identity.r{left}", location, name=_name(left), formula=_formula(terms),
                                    difference=fmt_amount(found - expected),
                                    found=fmt_amount(found), expected=fmt_amount(expected)))
    r1, r9 = amounts.get(1), amounts.get(9)
    if r1 is not None and r9 is not None and abs(r1 - r9) > tolerance + 1e-9:
        findings.append(finding("budget.unbalanced", parsed.amount_cells.get(9, SHEET_DATA),
                                found=fmt_amount(r9), expected=fmt_amount(r1)))
    return findings


def score_findings(parsed: ParsedWorkbook, framework: Framework) -> list[Finding]:
    """评分表 against the year's framework: every indicator present, 分值 as set, deductions
    explained, 合计 the sum, and the grade the band of the total."""
    findings = []
    by_code = {i.code: i for i in parsed.indicators}
    for spec in framework.indicators:
        row = by_code.get(spec.code)
        if row is None:
            findings.append(finding("scores.indicator_missing", SHEET_SCORES, name=spec.level3,
                                    max_score=spec.max_score, expected=spec.code))
            continue
        if row.max_score is not None and abs(row.max_score - spec.max_score) > 1e-9:
            findings.append(finding("scores.max_mismatch", row.row_ref, code=spec.code, framework_year=framework.year,
                                    found=f"{row.max_score:g}", expected=f"{spec.max_score:g}"))
        if row.self_score is None:
            findings.append(finding("scores.self_missing", row.cell, code=spec.code, name=spec.level3,
                                    expected=f"0 至 {spec.max_score:g}"))
        elif row.self_score < spec.max_score - 1e-9 and not row.note:
            findings.append(finding("scores.note_missing", row.row_ref, code=spec.code, max_score=spec.max_score,
                                    found=f"{row.self_score:g}", expected="评分说明"))
    for code, row in by_code.items():
        if framework.indicator(code) is None:
            findings.append(finding("scores.indicator_unknown", row.row_ref, framework_year=framework.year,
                                    found=code))

    stated_sum = math.fsum(i.self_score or 0.0 for i in parsed.indicators
                           if framework.indicator(i.code) is not None)
    if parsed.total is None:
        findings.append(finding("scores.total_missing", parsed.total_cell or SHEET_SCORES,
                                expected=f"{stated_sum:g}"))
    elif abs(parsed.total - stated_sum) > SCORE_TOLERANCE:
        findings.append(finding("scores.total_mismatch", parsed.total_cell or SHEET_SCORES,
                                found=f"{parsed.total:g}", expected=f"{stated_sum:g}"))
    basis = parsed.total if parsed.total is not None else stated_sum
    band = framework.grade(basis)
    if parsed.grade is None:
        if parsed.grade_raw is None:
            findings.append(finding("scores.grade_missing", parsed.grade_cell or SHEET_SCORES, expected=band))
    elif parsed.grade != band:
        findings.append(finding("scores.grade_mismatch", parsed.grade_cell or SHEET_SCORES, basis=basis,
                                grade_rule=framework.grade_rule(), found=parsed.grade_raw, expected=band))
    return findings


def year_findings(parsed: ParsedWorkbook, folder_year: int | None) -> list[Finding]:
    """评价年度 must be the year of the folder the file was handed in under; a workbook of
    another year is quarantined, so it can supersede neither year's genuine file."""
    if folder_year is None or parsed.year is None or parsed.year == folder_year:
        return []
    location = parsed.info_cells.get("year", "基本信息")
    return [finding("file.wrong_year_folder", location, found=str(parsed.year), expected=str(folder_year))]


def _distance(a: str, b: str, limit: int = 2) -> int:
    """Edit distance between two names, stopping early past limit (returns limit + 1)."""
    if abs(len(a) - len(b)) > limit:
        return limit + 1
    previous = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        current = [i]
        for j, cb in enumerate(b, 1):
            current.append(min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (ca != cb)))
        if min(current) > limit:
            return limit + 1
        previous = current
    return previous[-1]


def near_misses(name: str, roster_names: list[str], limit: int = 2) -> list[str]:
    """Roster names within a character or two of a name, nearest first."""
    scored = sorted((_distance(name, n, limit), n) for n in roster_names if n != name)
    return [n for d, n in scored if d <= limit]


def resolve_unit(parsed: ParsedWorkbook, roster: Mapping[str, Mapping[str, str]],
                 by_code: Mapping[str, str]) -> tuple[str | None, list[Finding]]:
    """The roster unit a workbook belongs to, and findings about its name and code.

    The name as written (spaces and invisible characters already removed) finds the unit;
    failing that, a 单位编码 that is on the roster does, and the differing name is a
    warning. A name that finds no unit either way is an error, naming near misses.
    """
    name = parsed.unit_name
    location = parsed.info_cells.get("unit_name", "基本信息")
    if not name:
        return None, []
    code = str(parsed.info.get("unit_code") or "").strip()
    if name in roster:
        entry = roster[name]
        if code and code != entry["unit_code"]:
            cell = parsed.info_cells.get("unit_code", location)
            return name, [finding("roster.code_mismatch", cell, unit=name, found=code, expected=entry["unit_code"])]
        return name, []
    if code and code in by_code:
        unit = by_code[code]
        return unit, [finding("roster.name_differs", location, code=code, found=name, expected=unit)]
    close = near_misses(name, list(roster))
    if close:
        return name, [finding("roster.unknown_unit", location, case="near_misses", near_misses="、".join(close[:3]),
                              found=name, expected=close[0])]
    return name, [finding("roster.unknown_unit", location, found=name, expected=None)]


def roster_findings(parsed: ParsedWorkbook, roster: Mapping[str, Mapping[str, str]]) -> list[Finding]:
    """The unit must be on the roster (预算单位名录); its 单位编码, when given, must match."""
    by_code = {e["unit_code"]: n for n, e in roster.items() if e.get("unit_code")}
    return resolve_unit(parsed, roster, by_code)[1]


def late_findings(parsed: ParsedWorkbook, deadline: dt.date) -> list[Finding]:
    """A 填报日期 after the year's 填报截止日期 is a late submission."""
    filed_on = parsed.info.get("filed_on")
    if not isinstance(filed_on, dt.date) or filed_on <= deadline:
        return []
    location = parsed.info_cells.get("filed_on", "基本信息")
    return [finding("info.late", location, deadline=deadline.isoformat(), days_late=(filed_on - deadline).days,
                    found=filed_on.isoformat(), expected=f"不晚于{deadline.isoformat()}")]
