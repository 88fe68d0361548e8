"""The metrics of the contract (section 4), each defined once.

One small pure function per metric, named after what it computes; the docstring is
its definition (口径). The warehouse, the dashboard and the exports all call these.
Amounts are in 元; rates are fractions (0.9972, not 99.72). A rate over a zero budget
is "not applicable" and returned as None, never 0 and never an exception.
"""

from __future__ import annotations

import math
from decimal import ROUND_HALF_UP, Decimal


def safe_ratio(numerator: float | None, denominator: float | None) -> float | None:
    """numerator / denominator; None when either is missing or the denominator is 0."""
    if numerator is None or denominator is None or denominator == 0:
        return None
    return numerator / denominator


def execution_rate(spent: float | None, budget_issued: float | None) -> float | None:
    """预算资金支出率 = 支出决算数 (r13) / 财政下达预算数 (r12)."""
    return safe_ratio(spent, budget_issued)


def opening_execution_rate(spent: float | None, opening_budget: float | None) -> float | None:
    """年初预算执行率 = 支出决算数 (r13) / 年初支出预算数 (r9)."""
    return safe_ratio(spent, opening_budget)


def basic_execution_rate(basic_spent: float | None, basic_budget: float | None) -> float | None:
    """基本支出执行率 = 基本支出决算 (r14) / 年初基本支出预算 (r10)."""
    return safe_ratio(basic_spent, basic_budget)


def project_execution_rate(project_spent: float | None, project_budget: float | None) -> float | None:
    """项目支出执行率 = 项目支出决算 (r15) / 年初项目支出预算 (r11)."""
    return safe_ratio(project_spent, project_budget)


def budget_adjustment_rate(budget_issued: float | None, opening_budget: float | None) -> float | None:
    """预算调整率 = (财政下达预算数 (r12) − 年初支出预算数 (r9)) / 年初支出预算数 (r9)."""
    if budget_issued is None:
        return None
    return safe_ratio(budget_issued - opening_budget if opening_budget is not None else None, opening_budget)


def public_control_rate(public_spent: float | None, public_budget: float | None) -> float | None:
    """公用经费控制率 = 公用经费实际支出数 (r18) / 公用经费预算数 (r17)."""
    return safe_ratio(public_spent, public_budget)


def sangong_control_rate(sangong_spent: float | None, sangong_budget: float | None) -> float | None:
    """三公经费控制率 = 三公经费实际支出数 (r20) / 三公经费预算数 (r19)."""
    return safe_ratio(sangong_spent, sangong_budget)


def basic_share(basic_spent: float | None, spent: float | None) -> float | None:
    """基本支出占比 = 基本支出 (r14) / 支出决算数 (r13)."""
    return safe_ratio(basic_spent, spent)


def carryover_rate(carryover: float | None, income_final: float | None,
                   carried_in: float | None) -> float | None:
    """结转结余率 = 结转和结余 (r16) / (收入决算数 (r4) + 上年结转和结余 (r8))."""
    if income_final is None or carried_in is None:
        return None
    return safe_ratio(carryover, income_final + carried_in)


def round_score(value: float) -> float:
    """A score rounded to two decimals, half away from zero (9.9724 → 9.97, 0.125 → 0.13)."""
    if math.isnan(value) or math.isinf(value):
        raise ValueError(f"not a finite score: {value}")
    return float(Decimal(repr(value)).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP))


def grade(score: float | None, bands: dict[str, float] | None = None) -> str | None:
    """等级 of a total score: 优 ≥ 90; 良 80 to < 90; 中 60 to < 80; 差 < 60 (财预〔2020〕10号)."""
    if score is None:
        return None
    bands = bands or {"优": 90, "良": 80, "中": 60, "差": 0}
    for name, lower in sorted(bands.items(), key=lambda kv: -kv[1]):
        if score >= lower:
            return name
    return min(bands.items(), key=lambda kv: kv[1])[0]
