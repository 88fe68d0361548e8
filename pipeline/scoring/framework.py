"""The year's scoring framework, read from schemas/frameworks/<year>.toml, and its rules.

The framework is data: maxima, thresholds and the deadline are edits to the file.
A rule type is one small pure function registered in RULES; adding a type is adding
one function. Amounts are in 元; rates are fractions.
"""

from __future__ import annotations

import datetime as dt
import math
import tomllib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from pipeline.scoring import metrics
from pipeline.settings import frameworks_dir


class FrameworkError(Exception):
    """A framework file that cannot be used; the message says which file and why."""


@dataclass(frozen=True)
class IndicatorSpec:
    code: str
    level1: str
    level2: str
    level3: str
    max_score: float
    rule: str
    params: Mapping[str, object] = field(default_factory=dict)


@dataclass(frozen=True)
class Framework:
    year: int
    deadline: dt.date
    indicators: tuple[IndicatorSpec, ...]
    grades: Mapping[str, float]
    notice: str = ""
    targets_sheet: str = "none"  # 绩效目标表: none | optional | required (contract section 9)
    qualitative: Mapping[str, float] = field(default_factory=dict)  # 定性 value → completion

    def indicator(self, code: str) -> IndicatorSpec | None:
        return next((i for i in self.indicators if i.code == code), None)

    def grade(self, score: float | None) -> str | None:
        return metrics.grade(score, dict(self.grades))


Amounts = Mapping[int, float | None]  # 行次 → 元 (24, 25: counts)
RuleFunction = Callable[[IndicatorSpec, Amounts, float | None], float | None]
RULES: dict[str, RuleFunction] = {}
# Parameters each rule type needs in the framework file.
RULE_PARAMS: dict[str, tuple[str, ...]] = {}


def rule(name: str, *params: str):
    def register(func: RuleFunction) -> RuleFunction:
        RULES[name] = func
        RULE_PARAMS[name] = params
        return func
    return register


def _line(ref: object) -> int:
    """'r13' → 13."""
    return int(str(ref).lstrip("rR"))


def _clamp(value: float, spec: IndicatorSpec) -> float:
    return min(max(value, 0.0), spec.max_score)


@rule("judged")
def judged(spec: IndicatorSpec, amounts: Amounts, self_score: float | None) -> float | None:
    """Not recomputable from the figures: 复核得分 = 自评得分, kept within 0..分值."""
    if self_score is None:
        return 0.0
    return metrics.round_score(_clamp(self_score, spec))


@rule("proportional", "numerator", "denominator")
def proportional(spec: IndicatorSpec, amounts: Amounts, self_score: float | None) -> float | None:
    """分值 × min(numerator / denominator, 1); a zero denominator leaves nothing to execute: full marks."""
    num, den = amounts.get(_line(spec.params["numerator"])), amounts.get(_line(spec.params["denominator"]))
    if num is None or den is None:
        return None
    ratio = metrics.safe_ratio(num, den)
    share = 1.0 if ratio is None else min(ratio, 1.0)
    return metrics.round_score(_clamp(spec.max_score * share, spec))


@rule("deduction", "count", "points_per_count")
def deduction(spec: IndicatorSpec, amounts: Amounts, self_score: float | None) -> float | None:
    """分值 − points_per_count × count, not below 0."""
    count = amounts.get(_line(spec.params["count"]))
    if count is None:
        return None
    return metrics.round_score(_clamp(spec.max_score - float(spec.params["points_per_count"]) * count, spec))


@rule("ceiling", "numerator", "denominator", "limit", "points_per_percent")
def ceiling(spec: IndicatorSpec, amounts: Amounts, self_score: float | None) -> float | None:
    """Full marks while numerator / denominator ≤ limit; above it, points_per_percent off per
    percentage point over, pro rata, not below 0 ("all": any overrun scores 0). A zero
    budget scores full when nothing was spent and 0 when anything was."""
    num, den = amounts.get(_line(spec.params["numerator"])), amounts.get(_line(spec.params["denominator"]))
    if num is None or den is None:
        return None
    ratio = metrics.safe_ratio(num, den)
    if ratio is None:
        return spec.max_score if num == 0 else 0.0
    limit = float(spec.params["limit"])
    if ratio <= limit:
        return metrics.round_score(spec.max_score)
    per_point = spec.params["points_per_percent"]
    if per_point == "all":
        return 0.0
    over_points = (ratio - limit) * 100
    return metrics.round_score(_clamp(spec.max_score - float(per_point) * over_points, spec))


@rule("targets", "kinds")
@rule("measurable")
def from_targets_sheet(spec: IndicatorSpec, amounts: Amounts, self_score: float | None) -> float | None:
    """Scored from the 绩效目标表 (pipeline/scoring/targets.py); without one, judged."""
    return None


def review_score(spec: IndicatorSpec, amounts: Amounts, self_score: float | None) -> float | None:
    """复核得分 of one indicator; None when the figures it needs are missing."""
    return RULES[spec.rule](spec, amounts, self_score)


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
        deadline = dt.date.fromisoformat(deadline)
    if not isinstance(deadline, dt.date):
        raise fail(f"deadline 不是日期: {deadline!r}")
    indicators = []
    for item in items:  # type: ignore[union-attr]
        code = item.get("code", "?")
        rule_name = item.get("rule")
        if rule_name not in RULES:
            raise fail(f"指标 {code} 的 rule “{rule_name}” 未定义（可用: {', '.join(sorted(RULES))}）")
        missing = [p for p in RULE_PARAMS[rule_name] if p not in item]
        if missing:
            raise fail(f"指标 {code} 的 {rule_name} 规则缺少参数 {', '.join(missing)}")
        params = {k: v for k, v in item.items()
                  if k not in ("code", "level1", "level2", "level3", "max", "rule")}
        indicators.append(IndicatorSpec(code, item["level1"], item["level2"], item["level3"],
                                        float(item["max"]), rule_name, params))
    codes = [i.code for i in indicators]
    if len(set(codes)) != len(codes):
        raise fail(f"指标代码重复: {codes}")
    total = math.fsum(i.max_score for i in indicators)
    if abs(total - 100) > 1e-9:
        raise fail(f"各指标分值合计为 {total:g}，应为 100")
    grades = {str(k): float(v) for k, v in dict(data.get("grades") or {"优": 90, "良": 80, "中": 60, "差": 0}).items()}
    targets_sheet = str(data.get("targets_sheet", "none"))
    if targets_sheet not in ("none", "optional", "required"):
        raise fail(f"targets_sheet “{targets_sheet}” 应为 none、optional 或 required")
    qualitative = {str(k): float(v) for k, v in dict(data.get("qualitative") or {}).items()}
    return Framework(year, deadline, tuple(indicators), grades, str(data.get("notice", "")),
                     targets_sheet, qualitative)


def load_framework(year: int, directory: Path | None = None) -> Framework:
    path = (directory or frameworks_dir()) / f"{year}.toml"
    if not path.exists():
        raise FrameworkError(f"评分框架 {path}: 文件不存在，评价年度 {year} 没有评分框架")
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise FrameworkError(f"评分框架 {path}: TOML 格式错误 ({exc})") from exc
    framework = parse_framework(data, str(path))
    if framework.year != year:
        raise FrameworkError(f"评分框架 {path}: 文件内 year = {framework.year}，与文件名 {year} 不符")
    return framework


def available_years(directory: Path | None = None) -> list[int]:
    return sorted(int(p.stem) for p in (directory or frameworks_dir()).glob("*.toml") if p.stem.isdigit())
