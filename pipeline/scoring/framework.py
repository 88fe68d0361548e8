"""The year's scoring framework, read from schemas/frameworks/<year>.toml, and its rules.

The framework is data and the only place for every framework fact: maxima, rules and
their parameters, grade bands, the deadline and the notice. A formula indicator names a
metric (pipeline.scoring.metrics) and a shape (SHAPES below) with the shape's
parameters; other indicators name a rule type (RULES: judged here, more may register).
A year's file may `extends = "<other>.toml"` and override what differs.

Amounts are in 元; rates are fractions; thresholds and steps are compared as Decimals,
so that 95 % is exactly one 5-point step below 100 %.
"""

from __future__ import annotations

import datetime as dt
import functools
import math
import tomllib
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from decimal import ROUND_CEILING, Decimal
from pathlib import Path

from pipeline.scoring import metrics
from pipeline.settings import frameworks_dir
from schemas.form import GRADES


class FrameworkError(Exception):
    """A framework file that cannot be used; the message says which file and why."""


# `rule` of an indicator scored by a metric and a shape.
FORMULA = "formula"
# What a not-applicable metric gives: full marks, or the unit's self-score with a warning.
WHEN_NOT_APPLICABLE = ("full", "self")
DEFAULT_GRADES = {"优": 90, "良": 80, "中": 60, "差": 0}
# Whether a workbook may, must or need not carry a 绩效目标表 (contract section 9).
TARGETS_SHEET = ("none", "optional", "required")
# Keys of an [[indicator]] that are not rule or shape parameters.
_INDICATOR_KEYS = ("code", "level1", "level2", "level3", "max", "rule", "metric", "shape",
                   "when_not_applicable", "remove")
# Top-level keys this module reads; any other top-level key or table is kept as it is in
# Framework.settings (e.g. [sampling]) for the part of the pipeline that uses it.
_KNOWN_TOP = ("year", "deadline", "notice", "grades", "indicator", "extends", "targets_sheet", "qualitative")


@dataclass(frozen=True)
class IndicatorSpec:
    code: str
    level1: str
    level2: str
    level3: str
    max_score: float
    rule: str                                  # judged | formula | a registered rule type
    params: Mapping[str, object] = field(default_factory=dict)
    metric: str | None = None                  # formula: a name in metrics.METRICS
    shape: str | None = None                   # formula: a name in SHAPES
    when_not_applicable: str = "self"

    @property
    def is_formula(self) -> bool:
        return self.rule == FORMULA

    @property
    def method(self) -> str:
        """How 复核 scores it, as the warehouse records it: the shape of a formula, else the rule."""
        return self.shape if self.is_formula and self.shape else self.rule


@dataclass(frozen=True)
class Framework:
    year: int
    deadline: dt.date
    indicators: tuple[IndicatorSpec, ...]
    grades: Mapping[str, float]
    notice: str = ""
    targets_sheet: str = "none"                # none | optional | required (绩效目标表)
    settings: Mapping[str, object] = field(default_factory=dict)   # other top-level tables, raw
    source: str = ""
    qualitative: Mapping[str, float] = field(default_factory=dict)  # 定性 value → completion (绩效目标表)

    def indicator(self, code: str) -> IndicatorSpec | None:
        return self._by_code.get(code)

    @functools.cached_property
    def _by_code(self) -> dict[str, IndicatorSpec]:
        """The indicators by code, the first of a code (every file's every indicator is looked up)."""
        by_code: dict[str, IndicatorSpec] = {}
        for i in self.indicators:
            by_code.setdefault(i.code, i)
        return by_code

    def grade(self, score: float | None) -> str | None:
        return metrics.grade(score, dict(self.grades))

    def grade_rule(self) -> str:
        """The bands in a message: 优≥90，良80至90，中60至80，差<60."""
        return grade_rule_text(self.grades)

    def formula_indicators(self) -> tuple[IndicatorSpec, ...]:
        return tuple(i for i in self.indicators if i.is_formula)

    @functools.cached_property  # asked of every loaded workbook; a framework never changes once loaded
    def needs_previous_year(self) -> bool:
        return any(metrics.METRICS[i.metric].needs_previous_year for i in self.formula_indicators())


def _points(value: float) -> str:
    return f"{value:g}"


def ordered_bands(grades: Mapping[str, float]) -> list[tuple[str, float, float | None]]:
    """(grade, lower bound, upper bound or None), best first."""
    ordered = sorted(grades.items(), key=lambda kv: -kv[1])
    return [(name, lower, ordered[i - 1][1] if i else None) for i, (name, lower) in enumerate(ordered)]


def grade_rule_text(grades: Mapping[str, float]) -> str:
    """优≥90，良80至90，中60至80，差<60 (lower bounds included, upper bounds not)."""
    parts = []
    for name, lower, upper in ordered_bands(grades):
        if upper is None:
            parts.append(f"{name}≥{_points(lower)}")
        elif lower <= 0:
            parts.append(f"{name}<{_points(upper)}")
        else:
            parts.append(f"{name}{_points(lower)}至{_points(upper)}")
    return "，".join(parts)


def grade_rule_words(grades: Mapping[str, float]) -> str:
    """优（90分及以上）、良（80分至90分以下）… for the 填表说明."""
    parts = []
    for name, lower, upper in ordered_bands(grades):
        if upper is None:
            parts.append(f"{name}（{_points(lower)}分及以上）")
        elif lower <= 0:
            parts.append(f"{name}（{_points(upper)}分以下）")
        else:
            parts.append(f"{name}（{_points(lower)}分至{_points(upper)}分以下）")
    return "、".join(parts)


# ---------------------------------------------------------------- a unit-year's figures

@dataclass(frozen=True)
class Figures(Mapping):
    """What a metric may take: the 数据表 amounts (行次 → 元; 24, 25 counts), 基本信息
    (staff, establishment …) and the same unit's previous year, when it was loaded.
    Reads as the amounts mapping, so a plain {行次: value} serves where only amounts matter."""

    amounts: Mapping[int, float | None]
    info: Mapping[str, object] = field(default_factory=dict)
    previous: Figures | None = None
    # The whole parsed workbook, for rule types that read more than figures (e.g. its
    # 绩效目标表); None where only figures are given.
    workbook: object | None = None

    def __getitem__(self, line: int) -> float | None:
        return self.amounts[line]

    def __iter__(self) -> Iterator[int]:
        return iter(self.amounts)

    def __len__(self) -> int:
        return len(self.amounts)


def as_figures(amounts: Mapping[int, float | None]) -> Figures:
    return amounts if isinstance(amounts, Figures) else Figures(amounts)


_MISSING, _NO_PREVIOUS = object(), object()


def _input(figures: Figures, ref: str) -> object:
    """One metric input as an exact Decimal; _MISSING when the unit left it blank,
    _NO_PREVIOUS when it needs a previous year there is not."""
    if ref.startswith("previous."):
        if figures.previous is None:
            return _NO_PREVIOUS
        value = _input(figures.previous, ref.removeprefix("previous."))
        return _NO_PREVIOUS if value is _MISSING else value
    value = figures.amounts.get(int(ref[1:])) if ref[0] == "r" else figures.info.get(ref)
    if value is None or isinstance(value, bool) or not isinstance(value, int | float | Decimal):
        return _MISSING
    return value if isinstance(value, Decimal) else Decimal(repr(value))


@dataclass(frozen=True)
class Measure:
    value: Decimal | None         # None: missing or not applicable
    missing: tuple[str, ...] = ()   # inputs the unit left blank
    not_applicable: bool = False


def measure(name: str, figures: Figures) -> Measure:
    """The metric's value for a unit-year, exactly. A rate over a zero base with something
    on top (spent with no budget) is infinitely over; a zero over a zero is not applicable."""
    spec = metrics.METRICS[name]
    values = [_input(figures, ref) for ref in spec.inputs]
    missing = tuple(ref for ref, v in zip(spec.inputs, values) if v is _MISSING)
    if missing:
        return Measure(None, missing)
    if any(v is _NO_PREVIOUS for v in values):
        return Measure(None, not_applicable=True)
    value = spec.func(*values)
    if value is None:
        if values[0] != 0:
            return Measure(Decimal("Infinity").copy_sign(values[0]))
        return Measure(None, not_applicable=True)
    return Measure(Decimal(value))


# ---------------------------------------------------------------- shapes

def _number(value: object) -> Decimal:
    """A parameter as written in the file (0.1 stays exactly one tenth)."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError(f"不是数字: {value!r}")
    return Decimal(str(value))


def _bands(value: object) -> tuple[tuple[Decimal, Decimal], ...]:
    if not isinstance(value, list) or not value:
        raise ValueError("应为 [[上限, 得分], …]")
    pairs = []
    for pair in value:
        if not isinstance(pair, list) or len(pair) != 2:
            raise ValueError(f"每一档应为 [上限, 得分]，而不是 {pair!r}")
        pairs.append((_number(pair[0]), _number(pair[1])))
    return tuple(pairs)


@dataclass(frozen=True)
class Shape:
    name: str
    label: str                                          # how pages and workbooks name it
    func: Callable[[Decimal, Decimal, Mapping[str, object]], Decimal]
    params: Mapping[str, Callable[[object], object]]    # parameter → its parser

    @property
    def definition(self) -> str:
        return " ".join((self.func.__doc__ or "").split())


SHAPES: dict[str, Shape] = {}


def shape(label: str, *params: str):
    parsers = {p: (_bands if p == "bands" else _number) for p in params}

    def register(func):
        SHAPES[func.__name__] = Shape(func.__name__, label, func, parsers)
        return func
    return register


_HUNDRED = Decimal(100)


@shape("按比例")
def proportional(m: Decimal, top: Decimal, p: Mapping) -> Decimal:
    """max × min(m, 1)."""
    return top * min(m, Decimal(1))


@shape("超出扣分", "threshold", "points_per_percent")
def deduct_above(m: Decimal, top: Decimal, p: Mapping) -> Decimal:
    """Full at m ≤ threshold; above it, max − (m − threshold) × 100 × points_per_percent (pro rata)."""
    if m <= p["threshold"]:
        return top
    return top - (m - p["threshold"]) * _HUNDRED * p["points_per_percent"]


@shape("不足扣分", "threshold", "points_per_percent")
def deduct_below(m: Decimal, top: Decimal, p: Mapping) -> Decimal:
    """Full at m ≥ threshold; below it, max − (threshold − m) × 100 × points_per_percent (pro rata)."""
    if m >= p["threshold"]:
        return top
    return top - (p["threshold"] - m) * _HUNDRED * p["points_per_percent"]


@shape("不足按档扣分", "threshold", "step", "points_per_step")
def deduct_below_steps(m: Decimal, top: Decimal, p: Mapping) -> Decimal:
    """Full at m ≥ threshold; below it, points_per_step off for every started step (threshold − m) / step."""
    if m >= p["threshold"]:
        return top
    if m.is_infinite():
        return Decimal(0)
    steps = ((p["threshold"] - m) / p["step"]).to_integral_value(rounding=ROUND_CEILING)
    return top - steps * p["points_per_step"]


@shape("分档计分", "bands", "otherwise")
def bands(m: Decimal, top: Decimal, p: Mapping) -> Decimal:
    """The points of the first band [upper bound, points] with m ≤ upper bound; otherwise `otherwise`."""
    for upper, points in p["bands"]:
        if m <= upper:
            return points
    return p["otherwise"]


@shape("按次扣减", "points_per_count")
def deduct_per_count(m: Decimal, top: Decimal, p: Mapping) -> Decimal:
    """max − m × points_per_count."""
    if m.is_infinite():
        return Decimal(0)
    return top - m * p["points_per_count"]


@shape("超出不得分", "threshold")
def zero_above(m: Decimal, top: Decimal, p: Mapping) -> Decimal:
    """Full at m ≤ threshold, else 0."""
    return top if m <= p["threshold"] else Decimal(0)


def shape_points(name: str, m: Decimal, top: float, params: Mapping[str, object]) -> float:
    """A shape's points for metric value m, floored at 0, capped at max, rounded to 0.01."""
    cap = Decimal(repr(float(top)))
    points = SHAPES[name].func(m, cap, params)
    return metrics.round_score(min(max(points, Decimal(0)), cap))


# ---------------------------------------------------------------- rule types

Amounts = Mapping[int, float | None]  # 行次 → 元 (24, 25: counts)
RuleFunction = Callable[[IndicatorSpec, Amounts, float | None], float | None]
RULES: dict[str, RuleFunction] = {}
# Parameters each rule type needs in the framework file.
RULE_PARAMS: dict[str, tuple[str, ...]] = {}
# How pages and workbooks name each rule type.
RULE_LABELS: dict[str, str] = {}


def rule(name: str, *params: str, label: str | None = None):
    def register(func: RuleFunction) -> RuleFunction:
        RULES[name] = func
        RULE_PARAMS[name] = params
        RULE_LABELS[name] = label or name
        return func
    return register


def method_label(method: str | None) -> str | None:
    """indicator_scores.rule in words: 主观评分, 超出扣分 …; unknown names as they are."""
    if method in SHAPES:
        return SHAPES[method].label
    return RULE_LABELS.get(method, method) if method is not None else None


def _clamp(value: float, spec: IndicatorSpec) -> float:
    return min(max(value, 0.0), spec.max_score)


def self_score_kept(spec: IndicatorSpec, self_score: float | None) -> float:
    """The self-score within 0..分值 (0 when none was given)."""
    return metrics.round_score(_clamp(self_score or 0.0, spec))


@rule("judged", label="主观评分")
def judged(spec: IndicatorSpec, amounts: Amounts, self_score: float | None) -> float | None:
    """Not recomputable from the figures: 复核得分 = 自评得分, kept within 0..分值."""
    return self_score_kept(spec, self_score)


@dataclass(frozen=True)
class Outcome:
    """What 复核 gives an indicator: its score, and for a formula the metric value it used."""

    score: float | None                 # None: a rule's inputs are missing (kept: self-score)
    metric_value: float | None = None   # the metric as a number (a fraction, or a count)
    unscored: str | None = None         # why a formula fell back to the self-score


@rule(FORMULA, label="公式")
def formula(spec: IndicatorSpec, amounts: Amounts, self_score: float | None) -> float | None:
    """The indicator's shape applied to its metric; see assess."""
    return assess(spec, amounts, self_score).score


def assess(spec: IndicatorSpec, amounts: Amounts, self_score: float | None) -> Outcome:
    """复核 of one indicator. A formula whose metric is not applicable (zero base, no previous
    year) scores full when the framework says `when_not_applicable = "full"`, else keeps the
    self-score and says why; one whose inputs the unit left blank keeps the self-score."""
    if not spec.is_formula:
        return Outcome(RULES[spec.rule](spec, amounts, self_score))
    label = metrics.METRICS[spec.metric].label
    found = measure(spec.metric, as_figures(amounts))
    if found.missing:
        return Outcome(self_score_kept(spec, self_score), None,
                       f"{label}所需的{'、'.join(input_label(i) for i in found.missing)}未填写")
    if found.value is None:
        if spec.when_not_applicable == "full":
            return Outcome(metrics.round_score(spec.max_score), None)
        return Outcome(self_score_kept(spec, self_score), None, f"{label}不适用（{not_applicable_reason(spec.metric)}）")
    score = shape_points(spec.shape, found.value, spec.max_score, spec.params)
    value = None if found.value.is_infinite() else float(found.value)
    return Outcome(score, value)


@rule("targets", "kinds", label="目标完成度")
@rule("measurable", label="目标可衡量性")
def from_targets_sheet(spec: IndicatorSpec, amounts: Amounts, self_score: float | None) -> float | None:
    """Scored from the 绩效目标表 (pipeline/scoring/targets.py); without one, judged."""
    return None


def review_score(spec: IndicatorSpec, amounts: Amounts, self_score: float | None) -> float | None:
    """复核得分 of one indicator; None when the figures a rule needs are missing."""
    return assess(spec, amounts, self_score).score


_INPUT_LABELS = {"staff": "在职人数", "establishment": "编制数"}


def input_label(ref: str) -> str:
    if ref.startswith("previous."):
        return "上年" + input_label(ref.removeprefix("previous."))
    return _INPUT_LABELS.get(ref, f"数据表第{ref[1:]}行" if ref.startswith("r") else ref)


def not_applicable_reason(metric: str) -> str:
    spec = metrics.METRICS[metric]
    if spec.needs_previous_year:
        return "没有同一单位上年数据或上年为0"
    return "分母为0"


def formula_basis(metric: str | None, value: float | None, score: float | None, max_score: float) -> str | None:
    """在职人员控制率 104 % → 3.0 / 5: what a formula indicator's 复核 rests on."""
    if not metric or metric not in metrics.METRICS or score is None:
        return None
    spec = metrics.METRICS[metric]
    if value is None or (isinstance(value, float) and math.isnan(value)):
        shown = "不适用"
    elif spec.unit == "%":
        shown = f"{value * 100:.2f}".rstrip("0").rstrip(".") + " %"
    else:
        shown = f"{value:g} {spec.unit}"
    points = f"{score:.2f}".rstrip("0")
    points = points + "0" if points.endswith(".") else points
    return f"{spec.label} {shown} → {points} / {max_score:g}"


def _plain(value: Decimal) -> str:
    return f"{value.normalize():f}"


def _shown(value: Decimal, unit: str) -> str:
    return _plain(value * 100) + "%" if unit == "%" else _plain(value) + unit


def describe(spec: IndicatorSpec) -> str:
    """How 复核 scores a formula indicator, in words for captions and the 填表说明:
    A3“部门预算资金支出率”满分10分：复核得分 = 分值 × min(预算资金支出率, 100%)."""
    head = f"{spec.code}“{spec.level3}”满分{spec.max_score:g}分"
    if not spec.is_formula:
        return f"{head}，{method_label(spec.method)}"
    m = metrics.METRICS[spec.metric]
    p = spec.params
    pct = "个百分点" if m.unit == "%" else m.unit

    def per(key: str) -> str:
        return _plain(p[key])
    text = {
        "proportional": lambda: f"复核得分 = 分值 × min({m.label}, 100%)",
        "deduct_above": lambda: f"{m.label}不超过{_shown(p['threshold'], m.unit)}得满分，每超出1{pct}扣{per('points_per_percent')}分",
        "deduct_below": lambda: f"{m.label}不低于{_shown(p['threshold'], m.unit)}得满分，每低1{pct}扣{per('points_per_percent')}分",
        "deduct_below_steps": lambda: (f"{m.label}不低于{_shown(p['threshold'], m.unit)}得满分，每低"
                                       f"{_plain(p['step'] * 100) if m.unit == '%' else per('step')}{pct}"
                                       f"（不足的也算）扣{per('points_per_step')}分"),
        "bands": lambda: m.label + "，".join(f"不超过{_shown(upper, m.unit)}得{_plain(points)}分"
                                            for upper, points in p["bands"]) + f"，其余得{per('otherwise')}分",
        "deduct_per_count": lambda: f"每1{m.unit}{m.label.removesuffix('笔数').removesuffix('数')}扣{per('points_per_count')}分",
        "zero_above": lambda: f"{m.label}超过{_shown(p['threshold'], m.unit)}不得分",
    }[spec.shape]()
    return f"{head}：{text}，扣完为止" if spec.shape.startswith("deduct") else f"{head}：{text}"


def metric_indicator(framework: Framework, metric: str) -> IndicatorSpec | None:
    """The framework's first indicator scored on this metric, if any."""
    return next((i for i in framework.formula_indicators() if i.metric == metric), None)


def grade_note(year: int) -> str:
    """The year's bands for a page's caption; "" when the year has no usable framework."""
    try:
        return f"等级标准（{year}年度评分框架）：{load_framework(year).grade_rule()}。"
    except FrameworkError:
        return ""


def scoring_note(year: int, metric: str) -> tuple[str | None, str]:
    """(code, sentence) of the year's indicator scored on a metric, for a page's caption;
    (None, "") when the year has no usable framework or no such indicator."""
    try:
        found = metric_indicator(load_framework(year), metric)
    except FrameworkError:
        return None, ""
    return (found.code, describe(found) + "。") if found else (None, "")


# ---------------------------------------------------------------- reading the file

def _line_ref(value: object) -> str:
    return "r" + str(value).lstrip("rR")


def from_earlier_terms(item: Mapping[str, object]) -> Mapping[str, object]:
    """A framework file written before metrics and shapes (rule = proportional / deduction /
    ceiling with 行次 references) in today's terms, so a county's older file keeps working."""
    rule_name = item.get("rule")
    if rule_name not in ("proportional", "deduction", "ceiling"):
        return item
    keep = {k: v for k, v in item.items() if k in ("code", "level1", "level2", "level3", "max")}
    if rule_name == "deduction":
        inputs = (_line_ref(item.get("count")),)
    else:
        inputs = (_line_ref(item.get("numerator")), _line_ref(item.get("denominator")))
    metric = next((m.name for m in metrics.METRICS.values() if m.inputs == inputs), None)
    if metric is None:
        return item  # refused below, naming the rule
    if rule_name == "proportional":
        return {**keep, "metric": metric, "shape": "proportional", "when_not_applicable": "full"}
    if rule_name == "deduction":
        return {**keep, "metric": metric, "shape": "deduct_per_count",
                "points_per_count": item.get("points_per_count")}
    if item.get("points_per_percent") == "all":
        return {**keep, "metric": metric, "shape": "zero_above", "threshold": item.get("limit"),
                "when_not_applicable": "full"}
    return {**keep, "metric": metric, "shape": "deduct_above", "threshold": item.get("limit"),
            "points_per_percent": item.get("points_per_percent"), "when_not_applicable": "full"}


def _indicator(item: Mapping[str, object], fail: Callable[[str], FrameworkError]) -> IndicatorSpec:
    code = str(item.get("code", "?"))
    item = {k: v for k, v in from_earlier_terms(item).items() if v is not None}

    def bad(why: str) -> FrameworkError:
        return fail(f"指标 {code}: {why}")

    for key in ("level1", "level2", "level3", "max"):
        if key not in item:
            raise bad(f"缺少 {key}")
    try:
        top = float(item["max"])  # type: ignore[arg-type]
    except (TypeError, ValueError):
        raise bad(f"max 不是数字: {item['max']!r}") from None
    levels = (str(item["level1"]), str(item["level2"]), str(item["level3"]))
    rule_name = str(item.get("rule") or (FORMULA if "metric" in item or "shape" in item else ""))
    params = {k: v for k, v in item.items() if k not in _INDICATOR_KEYS}
    if rule_name != FORMULA:
        if rule_name not in RULES:
            raise bad(f"rule “{rule_name or '（未填）'}” 未定义（可用: {', '.join(sorted([*RULES, 'metric + shape']))}）")
        missing = [p for p in RULE_PARAMS[rule_name] if p not in item]
        if missing:
            raise bad(f"{rule_name} 规则缺少参数 {', '.join(missing)}")
        return IndicatorSpec(code, *levels, top, rule_name, params)
    metric, shape_name = item.get("metric"), item.get("shape")
    if metric not in metrics.METRICS:
        raise bad(f"metric “{metric}” 未定义（可用: {', '.join(sorted(metrics.METRICS))}）")
    if shape_name not in SHAPES:
        raise bad(f"shape “{shape_name}” 未定义（可用: {', '.join(sorted(SHAPES))}）")
    shape_spec = SHAPES[str(shape_name)]
    missing = [p for p in shape_spec.params if p not in item]
    if missing:
        raise bad(f"{shape_name} 缺少参数 {', '.join(missing)}")
    unknown = [p for p in params if p not in shape_spec.params]
    if unknown:
        raise bad(f"{shape_name} 没有参数 {', '.join(unknown)}（应为: {', '.join(shape_spec.params) or '无'}）")
    parsed = {}
    for name, parse in shape_spec.params.items():
        try:
            parsed[name] = parse(item[name])
        except ValueError as exc:
            raise bad(f"参数 {name} {exc}") from None
    when = str(item.get("when_not_applicable", "self"))
    if when not in WHEN_NOT_APPLICABLE:
        raise bad(f"when_not_applicable 应为 {' 或 '.join(WHEN_NOT_APPLICABLE)}，而不是 “{when}”")
    return IndicatorSpec(code, *levels, top, FORMULA, parsed, str(metric), str(shape_name), when)


def parse_framework(data: Mapping[str, object], source: str) -> Framework:
    """A Framework from the parsed TOML; FrameworkError naming the file and the problem."""
    def fail(why: str) -> FrameworkError:
        return FrameworkError(f"评分框架 {source}: {why}")

    try:
        year = int(data["year"])  # type: ignore[arg-type]
        deadline = data["deadline"]
        items = data["indicator"]
    except KeyError as exc:
        raise fail(f"缺少 {exc.args[0]}") from exc
    if isinstance(deadline, str):
        try:
            deadline = dt.date.fromisoformat(deadline)
        except ValueError:
            raise fail(f"deadline 不是日期: {deadline!r}") from None
    if not isinstance(deadline, dt.date):
        raise fail(f"deadline 不是日期: {deadline!r}")
    indicators = [_indicator(item, fail) for item in items]  # type: ignore[union-attr]
    codes = [i.code for i in indicators]
    if len(set(codes)) != len(codes):
        raise fail(f"指标代码重复: {codes}")
    total = math.fsum(i.max_score for i in indicators)
    if abs(total - 100) > 1e-9:
        raise fail(f"各指标分值合计为 {total:g}，应为 100")
    grades = {str(k): float(v) for k, v in dict(data.get("grades") or DEFAULT_GRADES).items()}  # type: ignore[arg-type]
    if set(grades) != set(GRADES):
        raise fail(f"[grades] 应正好给出 {'、'.join(GRADES)} 四个等级的下限，而不是 {'、'.join(grades)}")
    targets_sheet = str(data.get("targets_sheet", "none"))
    if targets_sheet not in TARGETS_SHEET:
        raise fail(f"targets_sheet 应为 {' / '.join(TARGETS_SHEET)}，而不是 “{targets_sheet}”")
    settings = {k: v for k, v in data.items() if k not in _KNOWN_TOP}
    qualitative = {str(k): float(v) for k, v in dict(data.get("qualitative") or {}).items()}  # type: ignore[arg-type]
    return Framework(year, deadline, tuple(indicators), grades, str(data.get("notice", "")),
                     targets_sheet, settings, source, qualitative)


def _merge(base: dict, override: Mapping[str, object]) -> dict:
    """A year's file over the file it extends: keys replace keys, tables merge, indicators
    merge by code (an indicator with `remove = true` is dropped; a new code is appended)."""
    merged = dict(base)
    for key, value in override.items():
        if key == "extends":
            continue
        if key == "indicator":
            by_code = {str(i.get("code")): dict(i) for i in base.get("indicator", [])}
            for item in value:  # type: ignore[union-attr]
                code = str(item.get("code"))
                if item.get("remove"):
                    by_code.pop(code, None)
                elif code in by_code and not ({"rule", "metric", "shape"} & set(item)):
                    by_code[code].update(item)
                else:
                    by_code[code] = {**{k: v for k, v in by_code.get(code, {}).items()
                                        if k in ("code", "level1", "level2", "level3", "max")}, **item}
            merged["indicator"] = list(by_code.values())
        elif isinstance(value, dict) and isinstance(base.get(key), dict):
            merged[key] = {**base[key], **value}
        else:
            merged[key] = value
    return merged


def read_framework_file(path: Path, seen: tuple[Path, ...] = ()) -> dict:
    """The file's TOML with whatever it extends merged in."""
    if not path.exists():
        raise FrameworkError(f"评分框架 {path}: 文件不存在")
    if path.resolve() in seen:
        raise FrameworkError(f"评分框架 {path}: extends 循环引用")
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise FrameworkError(f"评分框架 {path}: TOML 格式错误 ({exc})") from exc
    parent = data.get("extends")
    if parent is None:
        return data
    base = read_framework_file(path.parent / str(parent), (*seen, path.resolve()))
    return _merge(base, data)


def load_framework(year: int, directory: Path | None = None) -> Framework:
    path = (directory or frameworks_dir()) / f"{year}.toml"
    if not path.exists():
        raise FrameworkError(f"评分框架 {path}: 文件不存在，评价年度 {year} 没有评分框架")
    framework = parse_framework(read_framework_file(path), str(path))
    if framework.year != year:
        raise FrameworkError(f"评分框架 {path}: 文件内 year = {framework.year}，与文件名 {year} 不符")
    return framework


def available_years(directory: Path | None = None) -> list[int]:
    return sorted(int(p.stem) for p in (directory or frameworks_dir()).glob("*.toml") if p.stem.isdigit())
