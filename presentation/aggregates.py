"""Figures of groups of units (地区, 主管部门, 单位类型, size bands) and the execution-in-depth
tables, as pure functions of unit_scores frames.

A group's rate is the sum of its numerators over the sum of its denominators, as the
county's 预算资金支出率 is (tables.county_totals), never the mean of the units' rates;
every rate goes through its own function in pipeline.scoring.metrics. Amounts in 元 in,
万元 out; rates as fractions in, % out.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd

from pipeline import settings
from pipeline.scoring import metrics
from schemas.form import GRADES

from .tables import PCT, REPORT_ITEM_LABELS as LABELS, WAN, execution_table, to_percent, to_wanyuan, yes_no

# rates pooled over a group (Σ numerator / Σ denominator, amounts in 元): each rate → (its metric,
# numerator column, denominator column), the columns being the metric's parameters, which are
# named as unit_scores' figure columns
POOLED_RATES = ("execution_rate", "opening_execution_rate", "basic_execution_rate", "project_execution_rate",
                "budget_adjustment_rate", "sangong_control_rate", "public_control_rate")
RATES: dict[str, tuple[Callable[[float | None, float | None], float | None], str, str]] = {
    rate: (metrics.METRICS[rate].func, *metrics.parameters(metrics.METRICS[rate].func)) for rate in POOLED_RATES}
EXECUTION_RATES = ("execution_rate", "opening_execution_rate", "basic_execution_rate", "project_execution_rate")
LEVELS = ("region", "department", "unit_type")
NO_GROUP = "（未填）"


def label(name: str) -> str:
    return LABELS.get(name, name)


def _total(values: pd.Series) -> float | None:
    present = pd.to_numeric(values, errors="coerce").dropna()
    return float(present.sum()) if len(present) else None


def pooled_rate(scores: pd.DataFrame, rate: str) -> float | None:
    """The rate of a group of units: its metric over the group's summed amounts (元)."""
    metric, numerator, denominator = RATES[rate]
    return metric(_total(scores[numerator]), _total(scores[denominator]))


def pooled_rates(scores: pd.DataFrame, rates: tuple[str, ...] = tuple(RATES)) -> dict[str, float | None]:
    return {rate: pooled_rate(scores, rate) for rate in rates}


def group_keys(scores: pd.DataFrame, by: str) -> pd.Series:
    """The group of each row; a unit without one is put under （未填）, not dropped."""
    return scores[by].astype("string").fillna(NO_GROUP).replace("", NO_GROUP)


def group_table(scores: pd.DataFrame, by: str, *, sort_by: str = "execution_rate",
                ascending: bool = True) -> pd.DataFrame:
    """One row per group: units, amounts (万元), pooled rates (%), grades and flags; ordered by the
    pooled rate `sort_by` (or the mean 复核得分 when sort_by names no rate), lowest first."""
    if scores.empty:
        return pd.DataFrame()
    low = settings.LOW_EXECUTION_RATE
    keys = group_keys(scores, by).rename("_group")
    amounts = sorted({c for _, numerator, denominator in RATES.values() for c in (numerator, denominator)})
    numbers = scores[amounts].apply(pd.to_numeric, errors="coerce")
    # min_count=1: a group with no figure at all has no sum (None), as _total gives
    sums = numbers.groupby(keys, sort=True).sum(min_count=1)
    sums = sums.astype(object).where(sums.notna(), None)
    flags = pd.DataFrame({
        "units": 1,
        "below": pd.to_numeric(scores["execution_rate"], errors="coerce") < low,
        "two_years": scores["low_execution_two_years"].fillna(False).astype(bool),
        "resubmit": scores["must_resubmit"].fillna(False).astype(bool),
    }).groupby(keys, sort=True).sum()
    review = pd.to_numeric(scores["review_score"], errors="coerce").groupby(keys, sort=True).mean()
    grades = pd.crosstab(keys, scores["review_grade"]).reindex(index=sums.index, columns=list(GRADES),
                                                               fill_value=0)
    rates = {rate: [metric(row[numerator], row[denominator]) for row in sums.to_dict("records")]
             for rate, (metric, numerator, denominator) in RATES.items()}
    table = pd.DataFrame({
        label(by): sums.index.astype(str),
        "单位数": flags["units"].to_numpy(),
        label("budget_issued") + WAN: [_wan(v) for v in sums["budget_issued"]],
        label("spent") + WAN: [_wan(v) for v in sums["spent"]],
        **{label(rate) + PCT: [_pct(v) for v in rates[rate]]
           for rate in (*EXECUTION_RATES, "budget_adjustment_rate", "sangong_control_rate")},
        "平均复核得分": review.round(2).to_numpy(),
        **{f"复核{g}": grades[g].to_numpy() for g in GRADES},
        f"支出率低于{low:.0%}单位数": flags["below"].to_numpy(),
        label("low_execution_two_years") + "单位数": flags["two_years"].to_numpy(),
        "需退回修改单位数": flags["resubmit"].to_numpy(),
        "_sort": rates[sort_by] if sort_by in RATES else review.to_numpy(),
    })
    table["_sort"] = pd.to_numeric(table["_sort"], errors="coerce")
    table = table.sort_values(["_sort", label(by)], ascending=[ascending, True],
                              na_position="last").drop(columns="_sort")
    return table.reset_index(drop=True)


def _wan(value: float | None) -> float | None:
    return None if value is None else round(value / settings.WANYUAN, 2)


def _pct(value: float | None) -> float | None:
    return None if value is None else round(value * 100, 2)


def size_bands(scores: pd.DataFrame, column: str = "budget_issued", bands: int = 10) -> pd.Series:
    """Each unit's size band by `column` (元): equal-count bands labelled by their range in 万元."""
    amounts = pd.to_numeric(scores[column], errors="coerce")
    present = amounts[amounts > 0]
    if present.empty:
        return pd.Series(NO_GROUP, index=scores.index, dtype="string")
    edges = np.unique(np.quantile(present, np.linspace(0, 1, bands + 1)))
    if len(edges) < 2:
        edges = np.array([present.min(), present.max() + 1])
    codes = np.clip(np.searchsorted(edges, amounts, side="right") - 1, 0, len(edges) - 2)
    names = [f"{i + 1:02d}档 {edges[i] / settings.WANYUAN:,.0f}–{edges[i + 1] / settings.WANYUAN:,.0f} 万元"
             for i in range(len(edges) - 1)]
    labels = pd.Series([names[c] for c in codes], index=scores.index, dtype="string")
    return labels.where(amounts > 0, NO_GROUP)


def with_size_bands(scores: pd.DataFrame, column: str = "budget_issued") -> pd.DataFrame:
    """scores with a size_band column (size_bands)."""
    return scores.assign(size_band=size_bands(scores, column))


def group_of_unit(scores: pd.DataFrame, by: str) -> pd.Series:
    """Each unit's group (its `by` column), indexed by unit_name."""
    return scores.set_index("unit_name")[by]


def execution_depth_table(scores: pd.DataFrame) -> pd.DataFrame:
    """Every unit's execution against the opening budget, by basic and project spending, and the
    budget's adjustment; lowest 年初预算执行率 first."""
    ordered = scores.sort_values(["opening_execution_rate", "unit_name"], na_position="last")
    columns = {"单位名称": ordered["unit_name"]}
    if "region" in ordered and ordered["region"].notna().any():
        columns[label("region")] = ordered["region"]
    columns.update({
        label("department"): ordered["department"],
        label("opening_budget") + WAN: to_wanyuan(ordered["opening_budget"]),
        label("budget_issued") + WAN: to_wanyuan(ordered["budget_issued"]),
        label("budget_adjustment_rate") + PCT: to_percent(ordered["budget_adjustment_rate"]),
        label("spent") + WAN: to_wanyuan(ordered["spent"]),
        **{label(rate) + PCT: to_percent(ordered[rate]) for rate in EXECUTION_RATES},
        label("low_execution_two_years"): yes_no(ordered["low_execution_two_years"].fillna(False)),
    })
    return pd.DataFrame(columns).reset_index(drop=True)


def execution_with_depth_table(scores: pd.DataFrame) -> pd.DataFrame:
    """tables.execution_table with the columns of execution_depth_table beside it: one table of
    every unit (a province's page shows one long table, not two)."""
    table = execution_table(scores)
    depth = execution_depth_table(scores)
    return table.merge(depth[["单位名称", *[c for c in depth.columns if c not in table.columns]]],
                       on="单位名称", how="left")


def low_two_years_table(scores: pd.DataFrame, previous: pd.DataFrame) -> pd.DataFrame:
    """Units below the line (settings.LOW_EXECUTION_RATE) this year and the year before, lowest first."""
    flagged = scores[scores["low_execution_two_years"].fillna(False).astype(bool)]
    before = previous[["unit_name", "execution_rate"]].rename(columns={"execution_rate": "_previous"})
    merged = flagged.merge(before, on="unit_name", how="left").sort_values(["execution_rate", "unit_name"])
    year = int(scores["year"].iloc[0]) if len(scores) else None
    columns = {"单位名称": merged["unit_name"]}
    if "region" in merged and merged["region"].notna().any():
        columns[label("region")] = merged["region"]
    columns.update({
        label("department"): merged["department"],
        f"{year - 1 if year else '上'}年" + label("execution_rate") + PCT: to_percent(merged["_previous"]),
        f"{year or '本'}年" + label("execution_rate") + PCT: to_percent(merged["execution_rate"]),
        label("opening_execution_rate") + PCT: to_percent(merged["opening_execution_rate"]),
        label("project_execution_rate") + PCT: to_percent(merged["project_execution_rate"]),
        label("budget_issued") + WAN: to_wanyuan(merged["budget_issued"]),
    })
    return pd.DataFrame(columns).reset_index(drop=True)


def extremes(scores: pd.DataFrame, column: str, count: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(lowest `count`, highest `count`) rows by `column`, rows without a value left out;
    a frame shorter than 2 × count splits in two halves rather than repeating units."""
    present = scores.dropna(subset=[column]).sort_values([column, "unit_name"])
    count = max(0, min(int(count), (len(present) + 1) // 2))
    lowest = present.head(count)
    highest = present.drop(lowest.index).tail(count)
    return lowest.reset_index(drop=True), highest.iloc[::-1].reset_index(drop=True)
