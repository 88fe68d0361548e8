"""绩效目标表: completion of each target and the two rules that check A1 and A2. Pure.

Contract section 9. A row's completion `c` lies between 0 and 1 and is rounded to four
decimals (half away from zero); a score is rounded to two, as every score is. Targets
and achieved values are compared in the unit the row states (计量单位), as written.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from decimal import ROUND_HALF_UP, Decimal

from pipeline.checking.findings import ERROR, Finding, finding
from pipeline.reading.normalise import squash
from pipeline.reading.targets import TargetRow
from pipeline.scoring import metrics
from schemas.form import QUALITATIVE, SHEET_TARGETS

TARGET_RULES = ("targets", "measurable")
# `=` is met within this share of the target (0.5 %), or within this absolute gap for a target of 0.
EQUAL_TOLERANCE_SHARE = 0.005
EQUAL_TOLERANCE_ZERO = 0.01
# Target and achieved value this many times apart in a % row: one is a fraction (0.95), the other not (95).
PERCENT_SCALE_GAP = 50


def round_completion(value: float) -> float:
    """A completion rounded to four decimals, half away from zero (0.99995 → 1.0)."""
    return float(Decimal(repr(value)).quantize(Decimal("0.0001"), rounding=ROUND_HALF_UP))


def completion_at_least(actual: float, target: float) -> float:
    """`≥`: min(actual / target, 1); a target of 0 (or below) is met by anything ≥ it."""
    if target <= 0:
        return 1.0 if actual >= target else 0.0
    return round_completion(min(max(actual / target, 0.0), 1.0))


def completion_at_most(actual: float, target: float) -> float:
    """`≤`: 1 when actual ≤ target, else target / actual (0 when the target is 0)."""
    if actual <= target:
        return 1.0
    if target <= 0:
        return 0.0
    return round_completion(target / actual)


def completion_equal(actual: float, target: float) -> float:
    """`=`: 1 within 0.5 % of the target (0.01 for a target of 0), else
    max(0, 1 − |actual − target| / |target|)."""
    gap = abs(actual - target)
    if target == 0:
        return 1.0 if gap <= EQUAL_TOLERANCE_ZERO else 0.0
    if gap <= EQUAL_TOLERANCE_SHARE * abs(target) + 1e-12:
        return 1.0
    return round_completion(max(0.0, 1.0 - gap / abs(target)))


def completion_qualitative(value: str | None, table: Mapping[str, float]) -> float | None:
    """`定性`: the framework's table (达成 1, 基本达成 0.8, 部分达成 0.5, 未达成 0); None when
    the value is not in it."""
    key = squash(value)
    if key not in table:
        return None
    return round_completion(float(table[key]))


_NUMERIC = {"≥": completion_at_least, "≤": completion_at_most, "=": completion_equal}


def completion(direction: str | None, target: float | None, actual: float | None, actual_text: str | None,
               qualitative: Mapping[str, float]) -> float | None:
    """c between 0 and 1, 4 decimals: `≥` min(实际 / 指标, 1); `≤` 1 when 实际 ≤ 指标, else 指标 / 实际;
    `=` 1 within 0.5 % of 指标, else max(0, 1 − |实际 − 指标| / |指标|); `定性` the framework's
    [targets.qualitative] value of 实际完成值 (达成 1 … 未达成 0). Both values in the row's own
    unit. NULL when it cannot be computed (another direction, a value missing or not a number,
    a 定性 value outside the table)."""
    if direction == QUALITATIVE:
        return completion_qualitative(actual_text, qualitative)
    rule = _NUMERIC.get(direction or "")
    if rule is None or actual is None or target is None:
        return None
    return rule(actual, target)


def row_completion(row: TargetRow, table: Mapping[str, float]) -> float | None:
    """completion of one row of the sheet as read."""
    return completion(row.direction, row.target, row.actual, row.actual_raw, table)


def weight(written_weight: float | None, written_weights: Sequence[float]) -> float:
    """权重 as used: as written; 1 each when the sheet's weights are all blank; a blank or
    invalid one among filled ones takes the mean of the filled ones."""
    if not written_weights:
        return 1.0
    return written_weight if written_weight is not None else math.fsum(written_weights) / len(written_weights)


def written_weights(rows: Sequence[TargetRow]) -> list[float]:
    """The weights the sheet gives (blank and invalid ones left out)."""
    return [r.weight for r in rows if r.weight is not None]


def weights(rows: Sequence[TargetRow]) -> list[float]:
    """Each row's weight as used (`weight`)."""
    given = written_weights(rows)
    return [weight(r.weight, given) for r in rows]


def weighted_completion(row_weights: Sequence[float], completions: Sequence[float | None]) -> float | None:
    """Σ(w·c) / Σw, 4 decimals; a completion that cannot be computed (None) counts as 0 (a
    target that cannot be verified is not taken as met). None without rows."""
    if not row_weights:
        return None
    total = math.fsum(row_weights)
    if total <= 0:
        return None
    return round_completion(math.fsum(w * (c or 0.0) for w, c in zip(row_weights, completions)) / total)


def completion_rate(rows: Sequence[TargetRow], table: Mapping[str, float]) -> float | None:
    """Σ(w·c) / Σw over the rows (weighted_completion with the rows' weights as used)."""
    return weighted_completion(weights(rows), [row_completion(r, table) for r in rows])


def quantified_share(rows: Sequence[TargetRow]) -> float | None:
    """q: the weight share of the rows that are quantified (方向 not 定性, numeric 年度指标值)."""
    if not rows:
        return None
    ws = weights(rows)
    return round_completion(math.fsum(w for w, r in zip(ws, rows) if r.quantified) / math.fsum(ws))


def targets_score(max_score: float, rows: Sequence[TargetRow], kinds: Sequence[str],
                  table: Mapping[str, float]) -> float | None:
    """Rule `targets` (A2 效益指标完成情况): max × Σ(w·c) / Σw over the rows whose 一级指标 is
    one of `kinds`; None (judged) when no row is of those kinds."""
    chosen = [r for r in rows if (r.kind or "") in kinds]
    rate = completion_rate(chosen, table)
    return None if rate is None else metrics.round_score(max_score * rate)


def measurable_score(max_score: float, rows: Sequence[TargetRow], self_score: float | None) -> float | None:
    """Rule `measurable` (A1 绩效目标合理性与可衡量性): min(自评得分, max × q); the evidence caps
    the judgement, never raises it. None (judged) without rows."""
    q = quantified_share(rows)
    if q is None:
        return None
    claimed = min(max(self_score or 0.0, 0.0), max_score)
    return metrics.round_score(min(claimed, max_score * q))


def indicator_score(rule: str, max_score: float, params: Mapping[str, object],
                    rows: Sequence[TargetRow] | None, self_score: float | None,
                    table: Mapping[str, float]) -> float | None:
    """复核得分 of a `targets` or `measurable` indicator; None means fall back to judged."""
    if not rows:
        return None
    if rule == "targets":
        kinds = params.get("kinds") or ()
        return targets_score(max_score, rows, tuple(str(k) for k in kinds), table)  # type: ignore[union-attr]
    if rule == "measurable":
        return measurable_score(max_score, rows, self_score)
    raise ValueError(f"not a targets rule: {rule}")


# ---------------------------------------------------------------- findings

def _row_name(row: TargetRow) -> str:
    return f"“{row.name}”" if row.name else row.row_ref


def missing_sheet_findings(codes: Sequence[str], sheet_rule: str) -> list[Finding]:
    """No 绩效目标表: a warning when the framework makes it optional, an error when required."""
    if not codes or sheet_rule not in ("optional", "required"):
        return []
    if sheet_rule == "required":
        return [finding("targets.sheet_missing", "工作簿", case="required", severity=ERROR, codes="、".join(codes),
                        expected=SHEET_TARGETS)]
    return [finding("targets.sheet_missing", "工作簿", codes="、".join(codes), expected=SHEET_TARGETS)]


def row_findings(rows: Sequence[TargetRow], table: Mapping[str, float]) -> list[Finding]:
    """Cell-level findings that need the framework: 定性 values, missing 偏差原因, weights,
    percent scale; and a warning for a sheet where every row is 定性."""
    findings: list[Finding] = []
    allowed = "、".join(table)
    some_weights = any(r.weight is not None for r in rows)
    for row in rows:
        if row.direction == QUALITATIVE:
            ref = row.cells.get("actual", row.row_ref)
            if completion_qualitative(row.actual_raw, table) is None:
                findings.append(finding(
                    "targets.qualitative_unknown", ref, what=_row_name(row), found=row.actual_raw, expected=allowed))
        if some_weights and row.weight is None and "weight" in row.cells and not squash(row.weight_raw):
            ref = row.cells["weight"]
            findings.append(finding(
                "targets.weight_missing", ref, what=_row_name(row), expected="大于0的数字"))
        if row.unit and squash(row.unit) in ("%", "％") and row.target and row.actual \
                and max(row.target, row.actual) / max(min(row.target, row.actual), 1e-12) >= PERCENT_SCALE_GAP \
                and min(row.target, row.actual) <= 1:
            ref = row.cells.get("actual", row.row_ref)
            findings.append(finding(
                "targets.percent_scale", ref, what=_row_name(row), target=row.target, actual=row.actual,
                found=f"{row.target:g} / {row.actual:g}"))
        c = row_completion(row, table)
        if c is not None and c < 1 and not row.reason:
            ref = row.cells.get("reason", row.row_ref)
            findings.append(finding(
                "targets.reason_missing", ref, what=_row_name(row), found=f"{c * 100:.2f}%", expected="偏差原因"))
    if rows and all(r.direction == QUALITATIVE for r in rows):
        findings.append(finding(
            "targets.all_qualitative", SHEET_TARGETS, count=len(rows), found=f"{len(rows)}个定性指标", expected="量化指标"))
    return findings


def target_columns(row: TargetRow) -> dict[str, object]:
    """What table `targets` copies of a row as read (weight and completion are derived)."""
    return dict(kind=row.kind, category=row.category, name=row.name, direction=row.direction or row.direction_raw,
                target=row.target, target_text=row.target_raw, unit=row.unit, actual=row.actual,
                actual_text=row.actual_raw, reason=row.reason, location=row.row_ref)
