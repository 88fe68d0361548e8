"""The metrics of the contract (sections 4 and 13), each defined once.

One small pure function per metric, named after what it computes; the docstring is
its definition (口径), its parameters name what it takes. The warehouse, the dashboard, the exports and the framework's
formula indicators all call these. Amounts are in 元; rates are fractions (0.9972,
not 99.72). A rate over a zero budget is "not applicable" and returned as None, never
0 and never an exception.

The functions take plain numbers, so the same definition serves the warehouse (floats)
and the 复核 (Decimals, so that thresholds are compared exactly). `@metric` records,
for a framework's `metric = "…"`, what the metric is called in Chinese; which of a
unit-year's figures it takes follows from its parameters' names: a 数据表 line's name in
schemas/form.py (`spent` is 行次 13, written `r13`), a 基本信息 field (`staff`, `establishment`),
or `previous_` and a line's name for the same unit's previous year (`previous.r19`).
"""

from __future__ import annotations

import inspect
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from schemas.form import DATA_LINE_BY_NAME, INFO_FIELDS


@dataclass(frozen=True)
class Metric:
    name: str
    label: str                 # the metric's Chinese name, as messages and pages show it
    func: Callable
    inputs: tuple[str, ...]    # r13, staff, establishment, previous.r19 …
    unit: str = "%"            # "%": a fraction shown as a percentage; else a count's unit (笔, 个)

    @property
    def definition(self) -> str:
        return " ".join((self.func.__doc__ or "").split())

    @property
    def needs_previous_year(self) -> bool:
        return any(i.startswith("previous.") for i in self.inputs)


# Every metric a framework may name, by function name.
METRICS: dict[str, Metric] = {}


PREVIOUS = "previous_"


def input_ref(parameter: str) -> str:
    """What a metric's parameter names, as the framework and the docs write it: r13, staff, previous.r19."""
    if parameter.startswith(PREVIOUS):
        return "previous." + input_ref(parameter.removeprefix(PREVIOUS))
    if parameter in DATA_LINE_BY_NAME:
        return DATA_LINE_BY_NAME[parameter].key
    if parameter in {f.key for f in INFO_FIELDS if f.kind == "int"}:
        return parameter
    raise ValueError(f"metric parameter {parameter!r} names no 数据表 line and no 基本信息 count")


def metric(label: str, unit: str = "%"):
    def register(func: Callable) -> Callable:
        inputs = tuple(input_ref(p) for p in parameters(func))
        METRICS[func.__name__] = Metric(func.__name__, label, func, inputs, unit)
        return func
    return register


def parameters(func: Callable) -> tuple[str, ...]:
    """What a metric takes, by name: lines of the 数据表 (spent), 基本信息 counts (staff), previous_…"""
    return tuple(inspect.signature(func).parameters)


def compute(func: Callable, named: Mapping[str, object]):
    """func's value, each parameter taken from `named` by its name (a missing one is None)."""
    return func(**{p: named.get(p) for p in parameters(func)})


def safe_ratio(numerator, denominator):
    """numerator / denominator; None when either is missing or the denominator is 0."""
    if numerator is None or denominator is None or denominator == 0:
        return None
    return numerator / denominator


@metric("预算资金支出率")
def execution_rate(spent, budget_issued):
    """预算资金支出率 = 支出决算数 (r13) / 财政下达预算数 (r12)."""
    return safe_ratio(spent, budget_issued)


@metric("年初预算执行率")
def opening_execution_rate(spent, opening_budget):
    """年初预算执行率 = 支出决算数 (r13) / 年初支出预算数 (r9)."""
    return safe_ratio(spent, opening_budget)


@metric("基本支出执行率")
def basic_execution_rate(basic_spent, basic_budget):
    """基本支出执行率 = 基本支出决算 (r14) / 年初基本支出预算 (r10)."""
    return safe_ratio(basic_spent, basic_budget)


@metric("项目支出执行率")
def project_execution_rate(project_spent, project_budget):
    """项目支出执行率 = 项目支出决算 (r15) / 年初项目支出预算 (r11)."""
    return safe_ratio(project_spent, project_budget)


@metric("预算调整率")
def budget_adjustment_rate(budget_issued, opening_budget):
    """预算调整率 = (财政下达预算数 (r12) − 年初支出预算数 (r9)) / 年初支出预算数 (r9)."""
    if budget_issued is None:
        return None
    return safe_ratio(budget_issued - opening_budget if opening_budget is not None else None, opening_budget)


@metric("公用经费控制率")
def public_control_rate(public_spent, public_budget):
    """公用经费控制率 = 公用经费实际支出数 (r18) / 公用经费预算数 (r17)."""
    return safe_ratio(public_spent, public_budget)


@metric("三公经费控制率")
def sangong_control_rate(sangong_spent, sangong_budget):
    """三公经费控制率 = 三公经费实际支出数 (r20) / 三公经费预算数 (r19)."""
    return safe_ratio(sangong_spent, sangong_budget)


@metric("基本支出占比")
def basic_share(basic_spent, spent):
    """基本支出占比 = 基本支出 (r14) / 支出决算数 (r13)."""
    return safe_ratio(basic_spent, spent)


@metric("结转结余率")
def carryover_rate(carryover, income_final, carried_in):
    """结转结余率 = 结转和结余 (r16) / (收入决算数 (r4) + 上年结转和结余 (r8))."""
    if income_final is None or carried_in is None:
        return None
    return safe_ratio(carryover, income_final + carried_in)


@metric("在职人员控制率")
def staff_control_rate(staff, establishment):
    """在职人员控制率 = 在职人数 / 编制数 (基本信息)."""
    return safe_ratio(staff, establishment)


@metric("三公经费预算变动率")
def sangong_budget_change_rate(sangong_budget, previous_sangong_budget):
    """三公经费预算变动率 = (本年三公经费预算数 (r19) − 上年 r19) / 上年 r19; 没有同一单位上年数据时不适用."""
    if sangong_budget is None:
        return None
    return safe_ratio(sangong_budget - previous_sangong_budget if previous_sangong_budget is not None else None,
                      previous_sangong_budget)


@metric("三公经费支出变动率")
def sangong_spent_change_rate(sangong_spent, previous_sangong_spent):
    """三公经费支出变动率 = (本年三公经费实际支出数 (r20) − 上年 r20) / 上年 r20; 没有同一单位上年数据时不适用."""
    if sangong_spent is None:
        return None
    return safe_ratio(sangong_spent - previous_sangong_spent if previous_sangong_spent is not None else None,
                      previous_sangong_spent)


@metric("追加预算笔数", unit="笔")
def additions_count(additions):
    """追加预算笔数 = 数据表 r24 (笔)."""
    return additions


@metric("新增项目数", unit="个")
def new_projects_count(new_projects):
    """新增项目数 = 数据表 r25 (个)."""
    return new_projects


def round_score(value: float) -> float:
    """A score rounded to two decimals, half away from zero (9.9724 → 9.97, 0.125 → 0.13)."""
    if isinstance(value, Decimal):
        if not value.is_finite():
            raise ValueError(f"not a finite score: {value}")
        return float(value.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP))
    if math.isnan(value) or math.isinf(value):
        raise ValueError(f"not a finite score: {value}")
    return float(Decimal(repr(value)).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP))


def grade(score: float | None, bands: dict[str, float]) -> str | None:
    """等级 of a total score: the band whose lower bound (the framework's `[grades]`) it reaches."""
    if score is None:
        return None
    for name, lower in sorted(bands.items(), key=lambda kv: -kv[1]):
        if score >= lower:
            return name
    return min(bands.items(), key=lambda kv: kv[1])[0]
