"""复核 (recomputation), grades, rankings and year-over-year changes. Pure.

The bureau does not take a self-score on trust: every formula indicator is recomputed
from the 数据表 with the year's framework, judged indicators keep the unit's score
(within 0..分值), and an officer's score from the ledger replaces either (contract
section 10). Scores are in points, rounded to two decimals before they are summed.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace

import polars as pl

from pipeline.scoring import indicator, metrics
from pipeline.scoring import targets as target_scoring
from pipeline.checking.findings import Finding, finding
from pipeline.scoring.framework import Figures, Framework, assess, self_score_kept
from pipeline.reading.parse import ParsedWorkbook
from pipeline.settings import INFLATION_WARNING_POINTS, LOW_EXECUTION_RATE
from schemas.form import SHEET_SCORES


@dataclass(frozen=True)
class IndicatorReview:
    """One indicator's 复核: what the framework's rule gave and, once the ledger is applied,
    the officer's score. review_score and source are the indicator_scores columns of the same
    names, computed by their functions (pipeline/scoring/indicator.py)."""

    code: str
    level1: str
    level2: str
    level3: str
    max_score: float
    self_score: float | None
    rule_score: float              # the rule's 复核得分 (the self-score within 0..分值 for judged)
    rule: str                      # judged, the formula's shape, or another rule type
    note: str | None
    source_cell: str | None
    officer_score: float | None = None  # the ledger's score as recorded (None: no officer's score)
    officer: str | None = None
    reason: str | None = None
    metric: str | None = None      # formula: the metric it rests on
    metric_value: float | None = None
    unscored: str | None = None    # formula: why the self-score was kept

    @property
    def review_score(self) -> float:
        return indicator.review_score(self.rule_score, self.officer_score, self.max_score)

    @property
    def source(self) -> str:
        return indicator.review_source(self.rule, self.officer_score)


def unit_figures(parsed: ParsedWorkbook, previous: ParsedWorkbook | None = None) -> Figures:
    """What the metrics of one unit-year may take, with its previous year when loaded."""
    return Figures(parsed.amounts, parsed.info, None if previous is None else unit_figures(previous), parsed)


def review_indicators(parsed: ParsedWorkbook, framework: Framework,
                      previous: ParsedWorkbook | None = None) -> list[IndicatorReview]:
    """复核得分 of every indicator of the framework (an indicator the unit left out scores 0
    where it is judged; formula indicators are recomputed all the same)."""
    by_code = {i.code: i for i in parsed.indicators}
    figures = unit_figures(parsed, previous)
    reviews = []
    for spec in framework.indicators:
        row = by_code.get(spec.code)
        self_score = row.self_score if row else None
        outcome = assess(spec, figures, self_score)
        score, rule_used = outcome.score, spec.method
        if spec.rule in target_scoring.TARGET_RULES:
            score = target_scoring.indicator_score(spec.rule, spec.max_score, spec.params, parsed.targets,
                                                   self_score, framework.qualitative)
            rule_used = spec.rule if score is not None else "judged"
        if score is None:  # the figures a rule needs are missing: the judged rule's score
            score, rule_used = self_score_kept(spec, self_score), indicator.JUDGED
        reviews.append(IndicatorReview(
            spec.code, spec.level1, spec.level2, spec.level3, spec.max_score, self_score,
            rule_score=score, rule=rule_used, note=row.note if row else None, source_cell=row.cell if row else None,
            metric=spec.metric, metric_value=outcome.metric_value, unscored=outcome.unscored))
    return reviews


def unscored_findings(reviews: list[IndicatorReview]) -> list[Finding]:
    """A formula indicator that could not be recomputed keeps the self-score: say so."""
    return [finding(
        "review.formula_unscored", r.source_cell or SHEET_SCORES, code=r.code, name=r.level3, reason=r.unscored,
        review_score=r.review_score, found=f"{r.self_score:g}" if r.self_score is not None else None)
        for r in reviews if r.unscored]


def apply_decisions(reviews: list[IndicatorReview], decisions: Mapping[str, object]) -> list[IndicatorReview]:
    """The officers' scores (code → ledger Decision with score, officer, reason) beside the
    rule's; review_score then counts the officer's (pipeline/scoring/indicator.py)."""
    applied = []
    for r in reviews:
        decision = decisions.get(r.code)
        if decision is None or decision.score is None:
            applied.append(r)
            continue
        applied.append(replace(r, officer_score=float(decision.score),
                               officer=decision.officer, reason=decision.reason))
    return applied


def officer_findings(reviews: list[IndicatorReview]) -> list[Finding]:
    """An officer's score below the unit's self-score: a warning on the unit, with the officer's reason."""
    return [finding(
        "review.officer_deduction", r.source_cell or SHEET_SCORES, code=r.code, name=r.level3,
        deducted=metrics.round_score(r.self_score - r.review_score), reason=r.reason, officer=r.officer,
        found=f"{r.self_score:g}", expected=f"{r.review_score:g}")
        for r in reviews
        if r.source == indicator.SOURCE_OFFICER and r.self_score is not None and r.review_score < r.self_score - 1e-9]


def review_score(indicator_review_scores: Sequence[float]) -> float:
    """复核得分: the sum of the indicators' 复核得分 (officers' scores where recorded), each
    rounded to 2 decimals before it is summed; in points, 2 decimals."""
    return metrics.round_score(math.fsum(indicator_review_scores))


def review_total(reviews: list[IndicatorReview]) -> float:
    """复核得分 of a unit-year's indicator reviews (`review_score`)."""
    return review_score([r.review_score for r in reviews])


def self_score(stated_total: float | None, indicator_self_scores: Sequence[float | None]) -> float | None:
    """自评得分: the 合计 as stated, else the sum of the stated indicator scores (2 decimals);
    NULL when neither is stated."""
    if stated_total is not None:
        return stated_total
    scores = [score for score in indicator_self_scores if score is not None]
    return metrics.round_score(math.fsum(scores)) if scores else None


def self_total(parsed: ParsedWorkbook) -> float | None:
    """自评得分 of a workbook as read (`self_score`)."""
    return self_score(parsed.total, [i.self_score for i in parsed.indicators])


def review_grade(review_score: float | None, framework: Framework) -> str | None:
    """复核等级: the band of the year's framework (`[grades]`) that 复核得分 reaches."""
    return framework.grade(review_score)


def inflation(self_score: float | None, review_score: float) -> float | None:
    """自评得分 − 复核得分, in points: how far the claim exceeds what the figures support."""
    if self_score is None:
        return None
    return metrics.round_score(self_score - review_score)


def inflation_findings(parsed: ParsedWorkbook, reviews: list[IndicatorReview]) -> list[Finding]:
    """A self-score more than 0.5 points above the 复核 score, naming the indicators responsible."""
    claimed = self_total(parsed)
    review = review_total(reviews)
    gap = inflation(claimed, review)
    if gap is None or gap <= INFLATION_WARNING_POINTS:
        return []
    over = [r for r in reviews if r.self_score is not None and r.self_score > r.review_score + 1e-9]
    detail = "；".join(f"{r.code}{r.level3} 自评{r.self_score:g}分、复核{r.review_score:g}分" for r in over)
    return [finding(
        "review.self_score_above_review", parsed.total_cell or SHEET_SCORES, gap=gap, sources=detail or "各指标合计",
        found=f"{claimed:g}", expected=f"{review:g}")]


def competition_rank(score: pl.Expr) -> pl.Expr:
    """Competition ranking, highest first: 1, 2, 2, 4."""
    return score.rank(method="min", descending=True).cast(pl.Int32)


# Columns computed over the whole of unit_scores: each function takes the table's columns as
# polars expressions, by name, and gives the column as an expression.

def _ranked(review_score: pl.Expr, on_roster: pl.Expr, *within: pl.Expr) -> pl.Expr:
    return pl.when(on_roster).then(competition_rank(review_score.round(2)).over([*within, on_roster]))


def rank(review_score: pl.Expr, year: pl.Expr, on_roster: pl.Expr) -> pl.Expr:
    """By 复核得分 (2 decimals) among the roster's units of the year, highest first, competition
    ranking (1, 2, 2, 4); NULL for a unit not on the roster."""
    return _ranked(review_score, on_roster, year)


def rank_in_type(review_score: pl.Expr, year: pl.Expr, unit_type: pl.Expr, on_roster: pl.Expr) -> pl.Expr:
    """rank among the roster's units of the same year and 单位类型."""
    return _ranked(review_score, on_roster, year, unit_type)


def rank_in_department(review_score: pl.Expr, year: pl.Expr, department: pl.Expr, on_roster: pl.Expr) -> pl.Expr:
    """rank among the roster's units of the same year and 主管部门."""
    return _ranked(review_score, on_roster, year, department)


def low_execution_two_years(execution_rate: pl.Expr, unit_name: pl.Expr, year: pl.Expr) -> pl.Expr:
    """预算资金支出率 below LOW_EXECUTION_RATE (pipeline/settings.py) this year and in the
    unit's previous calendar year, both loaded."""
    low = (execution_rate < LOW_EXECUTION_RATE).fill_null(False)
    before = low.shift(1).over(unit_name, order_by=year)
    consecutive = (year - year.shift(1).over(unit_name, order_by=year)) == 1
    return (low & before.fill_null(False) & consecutive.fill_null(False)).fill_null(False)


def with_previous_year(unit_scores: pl.DataFrame) -> list[tuple[dict, dict]]:
    """Each unit-year's row of unit_scores with the row of the unit's previous loaded year
    (not necessarily the calendar year before); a unit's first loaded year has none and is left out."""
    pairs, before = [], {}
    for row in unit_scores.sort("unit_name", "year").iter_rows(named=True):
        previous = before.get(row["unit_name"])
        if previous is not None:
            pairs.append((row, previous))
        before[row["unit_name"]] = row
    return pairs


def _change(now: float | None, before: float | None) -> float | None:
    return None if now is None or before is None else now - before


def review_score_change(review_score: float | None, previous_review_score: float | None) -> float | None:
    """复核得分 − the previous loaded year's 复核得分, in points (2 decimals)."""
    change = _change(review_score, previous_review_score)
    return None if change is None else metrics.round_score(change)


def execution_rate_change(execution_rate: float | None, previous_execution_rate: float | None) -> float | None:
    """预算资金支出率 − the previous loaded year's, in fraction points (0.05 = 5 个百分点);
    NULL when either year's rate is not applicable."""
    return _change(execution_rate, previous_execution_rate)


def sangong_control_rate_change(sangong_control_rate: float | None,
                                previous_sangong_control_rate: float | None) -> float | None:
    """三公经费控制率 − the previous loaded year's, in fraction points; NULL when either is not applicable."""
    return _change(sangong_control_rate, previous_sangong_control_rate)
