"""抽查: which units the officers review by hand (contract section 11). Pure, apart from
`load_sampling`, which reads the `[sampling]` part of a year's framework file.

A unit-year's risk is Σ weight × signal over named signals; the weights are framework
data (`[sampling.weights]`). The sample is `rate` of the year's loaded units (at least
`minimum`): the highest-risk half, the rest drawn at random within 单位类型 with the year
as the seed, so the same inputs always give the same sample.
"""

from __future__ import annotations

import math
import random
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import ROUND_CEILING, Decimal
from pathlib import Path

import polars as pl

from pipeline.scoring import metrics
from pipeline.settings import LOW_EXECUTION_RATE, frameworks_dir

SELECTED_BY_RISK, SELECTED_BY_RANDOM = "risk", "random"
NO_TYPE = "未分类"

# The signals a framework may weigh, each with how its value reads in a reason (one place).
SIGNALS: dict[str, str] = {
    "inflation": "自评高出数据支持{:.2f}分",
    "errors": "错误{:g}个",
    "report_contradictions": "自评报告与表格不一致{:g}处",
    "unexplained_missed_targets": "未完成且未说明原因的绩效目标{:g}个",
    "low_execution": "预算资金支出率{}低于{}",
    "sangong_over": "三公经费超预算（控制率{}）",
    "public_over": "公用经费超预算（控制率{}）",
    "high_self_score_with_errors": "自评{:.2f}分但有错误",
    "no_targets": "没有绩效目标表",
}


class SamplingError(Exception):
    """A `[sampling]` part that cannot be used; the message names the file."""


@dataclass(frozen=True)
class Sampling:
    rate: float                       # share of the year's loaded units, 0..1
    minimum: int                      # at least this many units (all, when fewer are loaded)
    high_self_score: float            # points: a self-score at or above this with any error is a signal
    weights: Mapping[str, float] = field(default_factory=dict)


def parse_sampling(data: Mapping[str, object], source: str) -> Sampling | None:
    """The `[sampling]` table of a framework file; None when the file has none."""
    part = data.get("sampling")
    if part is None:
        return None
    try:
        rate = float(part["rate"])
        minimum = int(part["minimum"])
    except (KeyError, TypeError, ValueError) as exc:
        raise SamplingError(f"评分框架 {source}: [sampling] 须有 rate（比例）和 minimum（最少单位数）") from exc
    if not 0 <= rate <= 1 or minimum < 0:
        raise SamplingError(f"评分框架 {source}: [sampling] rate 应在 0 到 1 之间、minimum 不小于 0")
    weights = {str(k): float(v) for k, v in dict(part.get("weights") or {}).items()}
    unknown = sorted(set(weights) - set(SIGNALS))
    if unknown:
        raise SamplingError(f"评分框架 {source}: [sampling.weights] 中的 {'、'.join(unknown)} 不是已定义的风险信号"
                            f"（可用：{'、'.join(SIGNALS)}）")
    return Sampling(rate, minimum, float(part.get("high_self_score", 95)), weights)


def load_sampling(year: int, directory: Path | None = None) -> Sampling | None:
    path = (directory or frameworks_dir()) / f"{year}.toml"
    if not path.exists():
        return None
    # Through the framework loader, so a year's file inherits [sampling] from the file it extends.
    from pipeline.scoring.framework import load_framework

    return parse_sampling(dict(load_framework(year, directory).settings), str(path))


# --- signals: one small function each, of a unit-year's row and its counts -------------------


def inflation_points(indicators: list[dict]) -> float:
    """Points the self-scores claim above the rule's 复核得分 (officers' scores left out), summed."""
    return metrics.round_score(math.fsum(max(i["self_score"] - i["rule_score"], 0.0) for i in indicators
                                         if i["self_score"] is not None and i["rule_score"] is not None))


def low_execution(execution_rate: float | None) -> bool:
    """预算资金支出率 (r13 / r12) below LOW_EXECUTION_RATE."""
    return execution_rate is not None and execution_rate < LOW_EXECUTION_RATE


def over_budget(control_rate: float | None) -> bool:
    """A control rate (spent / budget) above 100 %."""
    return control_rate is not None and control_rate > 1.0


def _percent(rate: float | None) -> str:
    return "—" if rate is None else f"{rate * 100:.2f}%"


def unit_signals(row: Mapping, indicators: list[dict], report_contradictions: int,
                 missed_targets: int | None, has_targets: bool | None,
                 config: Sampling) -> dict[str, tuple[float, str]]:
    """signal → (value, how it reads) for one unit-year; signals that are 0 are left out.
    missed_targets / has_targets are None when the build has no 绩效目标表 data at all."""
    errors = int(row["errors"] or 0)
    self_score = row["self_score"]
    found: dict[str, tuple[float, str]] = {}
    points = inflation_points(indicators)
    if points > 0:
        found["inflation"] = (points, SIGNALS["inflation"].format(points))
    if errors:
        found["errors"] = (errors, SIGNALS["errors"].format(errors))
    if report_contradictions:
        found["report_contradictions"] = (report_contradictions,
                                          SIGNALS["report_contradictions"].format(report_contradictions))
    if missed_targets:
        found["unexplained_missed_targets"] = (missed_targets,
                                               SIGNALS["unexplained_missed_targets"].format(missed_targets))
    if low_execution(row["execution_rate"]):
        found["low_execution"] = (1, SIGNALS["low_execution"].format(_percent(row["execution_rate"]),
                                                                     _percent(LOW_EXECUTION_RATE)))
    if over_budget(row["sangong_control_rate"]):
        found["sangong_over"] = (1, SIGNALS["sangong_over"].format(_percent(row["sangong_control_rate"])))
    if over_budget(row["public_control_rate"]):
        found["public_over"] = (1, SIGNALS["public_over"].format(_percent(row["public_control_rate"])))
    if self_score is not None and self_score >= config.high_self_score and errors:
        found["high_self_score_with_errors"] = (1, SIGNALS["high_self_score_with_errors"].format(self_score))
    if has_targets is False:
        found["no_targets"] = (1, SIGNALS["no_targets"])
    return found


def _weighed(signals: Mapping[str, tuple[float, str]], weights: Mapping[str, float]) -> list[tuple[str, float, str]]:
    return [(name, value, text) for name, (value, text) in signals.items() if weights.get(name, 0) > 0]


def risk(signals: Mapping[str, tuple[float, str]], weights: Mapping[str, float]) -> float:
    """Σ weight × signal over the unit-year's risk signals, weights from the framework's
    [sampling.weights] (a signal it does not weigh counts 0), in points (2 decimals)."""
    return metrics.round_score(math.fsum(weights[name] * value for name, value, _ in _weighed(signals, weights)))


def reasons(signals: Mapping[str, tuple[float, str]], weights: Mapping[str, float]) -> str:
    """The signals the weights count, in Chinese and a fixed order, joined by ；, e.g.
    错误2个；预算资金支出率85.00%低于90.00%; 无风险信号 when none counts."""
    return "；".join(text for _, _, text in _weighed(signals, weights)) or "无风险信号"


# --- the sample --------------------------------------------------------------------------------


def sample_size(units: int, config: Sampling) -> int:
    """rate of the units, rounded up (exactly: 20 % of 55 is 11), at least minimum, at most all."""
    share = int((Decimal(str(config.rate)) * units).to_integral_value(rounding=ROUND_CEILING))
    return min(units, max(config.minimum, share))


def quotas(counts: Mapping[str, int], total: int) -> dict[str, int]:
    """total shared among the groups in proportion to their sizes (largest remainder, ties by name)."""
    size = sum(counts.values())
    if size == 0 or total <= 0:
        return {k: 0 for k in counts}
    exact = {k: Decimal(total) * n / size for k, n in counts.items()}
    given = {k: int(v) for k, v in exact.items()}
    left = total - sum(given.values())
    for k in sorted(counts, key=lambda k: (-(exact[k] - given[k]), k))[:left]:
        given[k] += 1
    return given


def draw(candidates: list[dict], year: int, config: Sampling) -> list[dict]:
    """The year's sample from its units' rows (unit_code, unit_name, unit_type, risk, reasons)."""
    n = sample_size(len(candidates), config)
    by_risk = sorted(candidates, key=lambda c: (-c["risk"], c["unit_code"] or "", c["unit_name"]))
    chosen = [{**c, "selected_by": SELECTED_BY_RISK} for c in by_risk[:math.ceil(n / 2)]]
    rest = by_risk[len(chosen):]
    groups: dict[str, list[dict]] = {}
    for c in sorted(rest, key=lambda c: (c["unit_code"] or "", c["unit_name"])):
        groups.setdefault(c["unit_type"] or NO_TYPE, []).append(c)
    rng = random.Random(year)
    for unit_type, quota in sorted(quotas({k: len(v) for k, v in groups.items()}, n - len(chosen)).items()):
        chosen += [{**c, "selected_by": SELECTED_BY_RANDOM} for c in rng.sample(groups[unit_type], quota)]
    return chosen


def _columns(frame: pl.DataFrame, *names: str):
    """The frame's rows as tuples of the named columns."""
    return zip(*(frame.get_column(name).to_list() for name in names))


def signals_by_year(unit_scores: pl.DataFrame, indicator_scores: pl.DataFrame, findings: pl.DataFrame,
                    targets: pl.DataFrame | None, configs: Mapping[int, Sampling | None],
                    ) -> list[tuple[int, Sampling, list[tuple[dict, dict[str, tuple[float, str]]]]]]:
    """For every year with a `[sampling]` part: its config, and each loaded unit's row of
    unit_scores with its risk signals (unit_signals)."""
    # Read column by column: iter_rows(named=True) builds a dict per row, a tenth of a second per 10 000 units.
    indicators: dict[tuple[str, int], list[dict]] = {}
    for unit, year, self_score, rule_score in _columns(indicator_scores, "unit_name", "year", "self_score",
                                                       "rule_score"):
        indicators.setdefault((unit, year), []).append({"self_score": self_score, "rule_score": rule_score})
    contradictions: dict[tuple[str, int], int] = {}
    for key in _columns(findings.filter(pl.col("rule").str.starts_with("report.mismatch")), "unit_name", "year"):
        contradictions[key] = contradictions.get(key, 0) + 1
    missed: dict[tuple[str, int], int] | None = None
    with_targets: set[tuple[str, int]] | None = None
    if targets is not None and {"unit_name", "year"} <= set(targets.columns):
        with_targets = set(_columns(targets, "unit_name", "year"))
        missed = {}
        if {"completion", "reason"} <= set(targets.columns):
            for unit, year, completion, reason in _columns(targets, "unit_name", "year", "completion", "reason"):
                if completion is not None and completion < 1 and not (reason or "").strip():
                    missed[(unit, year)] = missed.get((unit, year), 0) + 1

    years = []
    for year, config in sorted(configs.items()):
        if config is None:
            continue
        scored = []
        for row in unit_scores.filter(pl.col("year") == year).iter_rows(named=True):
            key = (row["unit_name"], year)
            scored.append((row, unit_signals(row, indicators.get(key, []), contradictions.get(key, 0),
                                             None if missed is None else missed.get(key, 0),
                                             None if with_targets is None else key in with_targets, config)))
        years.append((year, config, scored))
    return years
