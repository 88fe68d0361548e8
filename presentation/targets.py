"""绩效目标表 in the dashboard and the outputs: queries, tables and a figure. Pure.

Completion is shown as a percentage (0.9716 → 97.16). A unit's completion is the
weighted completion of all its targets (pipeline.scoring.targets.weighted_completion,
the A2 rule's own formula); the county's is the mean over the units that have a sheet,
each unit counting once, as every unit's A2 counts once.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from pipeline.scoring.targets import round_completion, weighted_completion

TARGETS_OF_YEAR = """
    SELECT t.*, sc.unit_type, sc.department
    FROM targets t
    LEFT JOIN unit_scores sc ON sc.unit_name = t.unit_name AND sc.year = t.year
    WHERE t.year = ?
    ORDER BY t.unit_name, length(t.location), t.location
"""

TARGETS_OF_UNIT = """
    SELECT * FROM targets WHERE unit_name = ? AND year = ?
    ORDER BY length(location), location
"""


def _value(number, text) -> str:
    """A target or achieved value as the unit wrote it, numbers without float noise."""
    if number is not None and not pd.isna(number):
        return f"{float(number):g}"
    return "" if text is None or (isinstance(text, float) and pd.isna(text)) else str(text)


def _pct(value) -> float | None:
    return None if value is None or pd.isna(value) else round(float(value) * 100, 2)


def _missed(frame: pd.DataFrame) -> pd.Series:
    """Rows not fully met: completion below 1, or not computable (counted as not met)."""
    completion = pd.to_numeric(frame["completion"], errors="coerce")
    return completion.isna() | (completion < 1)


def _no_reason(frame: pd.DataFrame) -> pd.Series:
    return frame["reason"].isna() | (frame["reason"].astype(str).str.strip() == "")


def unit_targets_table(targets: pd.DataFrame) -> pd.DataFrame:
    """One unit's targets with their completion and 偏差原因, in sheet order."""
    return pd.DataFrame({
        "一级指标": targets["kind"],
        "二级指标": targets["category"],
        "三级指标": targets["name"],
        "指标方向": targets["direction"],
        "年度指标值": [_value(n, t) for n, t in zip(targets["target"], targets["target_text"])],
        "计量单位": targets["unit"],
        "实际完成值": [_value(n, t) for n, t in zip(targets["actual"], targets["actual_text"])],
        "权重": pd.to_numeric(targets["weight"], errors="coerce").round(2),
        "完成度（%）": [_pct(c) for c in targets["completion"]],
        "偏差原因": targets["reason"],
        "位置": targets["location"],
    }).reset_index(drop=True)


def unit_completion(targets: pd.DataFrame) -> pd.DataFrame:
    """Per unit: targets, missed, missed without a reason, weighted completion (fraction).

    The counts are summed per unit in one pass; the completion goes through
    weighted_completion unit by unit on plain lists, the A2 rule's own arithmetic."""
    columns = ["unit_name", "unit_type", "targets", "missed", "missed_without_reason", "completion"]
    named = targets[targets["unit_name"].notna()]
    if named.empty:
        return pd.DataFrame(columns=columns)
    ordered = named.sort_values("unit_name", kind="stable")
    missed = _missed(ordered).to_numpy(bool)
    unexplained = missed & _no_reason(ordered).to_numpy(bool)
    names = ordered["unit_name"].to_numpy(object)
    starts = np.flatnonzero(np.r_[True, names[1:] != names[:-1]])
    ends = np.r_[starts[1:], len(names)]
    weights = [float(w) for w in ordered["weight"]]
    completions = [None if pd.isna(c) else float(c) for c in ordered["completion"]]
    types = ordered["unit_type"].to_numpy(object) if "unit_type" in ordered else [None] * len(names)
    return pd.DataFrame({
        "unit_name": names[starts],
        "unit_type": [types[i] for i in starts],
        "targets": ends - starts,
        "missed": np.add.reduceat(missed.astype(int), starts),
        "missed_without_reason": np.add.reduceat(unexplained.astype(int), starts),
        "completion": [weighted_completion(weights[a:b], completions[a:b]) for a, b in zip(starts, ends)],
    }, columns=columns).sort_values(["completion", "unit_name"], ascending=[True, True])


def units_without_targets(scores: pd.DataFrame, targets: pd.DataFrame) -> pd.DataFrame:
    """The units in `scores` with no 绩效目标表 row, by name."""
    names = sorted(set(scores["unit_name"].dropna()) - set(targets["unit_name"].dropna()))
    return pd.DataFrame({"单位名称": pd.Series(names, dtype=object)})


def completion_table(summary: pd.DataFrame) -> pd.DataFrame:
    """The units compared on target completion, lowest first."""
    return pd.DataFrame({
        "单位名称": summary["unit_name"],
        "单位类型": summary["unit_type"],
        "目标数": summary["targets"],
        "未完全完成": summary["missed"],
        "其中未说明原因": summary["missed_without_reason"],
        "加权完成度（%）": [_pct(c) for c in summary["completion"]],
    }).reset_index(drop=True)


def missed_without_reason_table(targets: pd.DataFrame) -> pd.DataFrame:
    """Targets not fully met whose 偏差原因 is blank: the unit must explain them."""
    rows = targets[_missed(targets) & _no_reason(targets)]
    return pd.DataFrame({
        "单位名称": rows["unit_name"],
        "三级指标": rows["name"],
        "指标方向": rows["direction"],
        "年度指标值": [_value(n, t) for n, t in zip(rows["target"], rows["target_text"])],
        "实际完成值": [_value(n, t) for n, t in zip(rows["actual"], rows["actual_text"])],
        "计量单位": rows["unit"],
        "完成度（%）": [_pct(c) for c in rows["completion"]],
        "位置": rows["location"],
    }).reset_index(drop=True)


@dataclass(frozen=True)
class CountyTargets:
    units: int                      # units with a 绩效目标表
    targets: int
    met: int                        # completion 1
    missed_without_reason: int
    completion: float | None        # mean of the units' weighted completions (fraction)


def county_targets(targets: pd.DataFrame) -> CountyTargets:
    summary = unit_completion(targets)
    completions = [c for c in summary["completion"] if c is not None and not pd.isna(c)]
    return CountyTargets(
        units=len(summary),
        targets=len(targets),
        met=int((~_missed(targets)).sum()) if len(targets) else 0,
        missed_without_reason=int(summary["missed_without_reason"].sum()) if len(summary) else 0,
        completion=round_completion(sum(completions) / len(completions)) if completions else None,
    )


def completion_by_unit(summary: pd.DataFrame) -> go.Figure:
    """Horizontal bars: each unit's weighted target completion, lowest at the top."""
    ordered = summary.sort_values("completion", ascending=False)
    figure = go.Figure(go.Bar(
        x=[_pct(c) for c in ordered["completion"]], y=ordered["unit_name"], orientation="h",
        marker_color=["#c0392b" if n else "#2e86c1" for n in ordered["missed_without_reason"]],
        hovertemplate="%{y}：%{x:.2f}%<extra></extra>"))
    figure.update_layout(title="各单位绩效目标加权完成度（红色：有未说明原因的未完成目标）",
                         xaxis_title="加权完成度（%）", height=max(320, 22 * len(ordered) + 120),
                         margin=dict(l=10, r=10, t=50, b=40))
    figure.update_xaxes(range=[min(50.0, min([_pct(c) or 0 for c in ordered["completion"]], default=50)), 100.5])
    return figure


def review_basis(unit_targets: pd.DataFrame, rule: str) -> str | None:
    """What the 复核 of A1 or A2 rests on, in words, for the 复核表 (None for other rules)."""
    if rule not in ("targets", "measurable"):
        return None
    if unit_targets.empty:
        return "未报送绩效目标表，按自评得分计"
    summary = unit_completion(unit_targets.assign(unit_type=None)).iloc[0]
    if rule == "measurable":
        direction = unit_targets["direction"].fillna("")
        quantified = (direction.isin(["≥", "≤", "="]) & unit_targets["target"].notna())
        share = weighted_completion([float(w) for w in unit_targets["weight"]], [1.0 if q else 0.0 for q in quantified])
        return f"量化目标权重占比{_pct(share):.2f}%，自评不超过分值×该占比"
    text = f"绩效目标加权完成度{_pct(summary['completion']):.2f}%"
    if summary["missed"]:
        text += f"，{int(summary['missed'])}个未完全完成"
        if summary["missed_without_reason"]:
            text += f"（{int(summary['missed_without_reason'])}个未说明原因）"
    return text
