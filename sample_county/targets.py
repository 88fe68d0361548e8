"""The sample county's 绩效目标表: targets that fit each kind of unit, and what became of them.

Towns, schools, hospitals and bureaus each get targets typical of their work; the
三公经费 target is the unit's own 三公经费预算数 from its 数据表, so the two sheets agree.
Most targets are met; some are missed with a 偏差原因, a few without one; one unit's sheet
is all 定性, two carry broken cells, and the reference unit (like its real report) has
none. A unit scores A1 and A2 from its own sheet as the framework says, except where
TARGET_CASES records otherwise.
"""

from __future__ import annotations

import random
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from pipeline.reading.targets import TargetRow
from pipeline.scoring import targets as scoring
from pipeline.scoring.framework import Framework
from pipeline.scoring.metrics import round_score

REFERENCE_UNIT = "遂溪县人民政府办公室"
NO_SHEET = (REFERENCE_UNIT, "遂溪县公安局", "遂溪县图书馆", "遂溪县江洪镇人民政府")
ALL_QUALITATIVE = "遂溪县退役军人事务局"
MISSED_WITHOUT_REASON = ("遂溪县城月镇人民政府", "遂溪县中医院")
BROKEN_ACTUAL = "遂溪县公路事务中心"      # 实际完成值 “见附件”
BROKEN_DIRECTION = "遂溪县草潭镇人民政府"    # 指标方向 “约”, and one 权重 left blank among filled ones
A2_CLAIMED_IN_FULL = "遂溪县医疗保障事业管理中心"  # a missed target, yet A2 self-scored 20
# The 自评报告 of this unit quotes one target's achieved value differently from its sheet.
REPORT_DISAGREES = "遂溪县卫生健康局"

TARGET_CASES: list[dict[str, Any]] = (
    [{"unit_name": u, "year": 2024, "case": "no_sheet"} for u in NO_SHEET]
    + [{"unit_name": ALL_QUALITATIVE, "year": 2024, "case": "all_qualitative"}]
    + [{"unit_name": u, "year": 2024, "case": "missed_without_reason"} for u in MISSED_WITHOUT_REASON]
    + [{"unit_name": BROKEN_ACTUAL, "year": 2024, "case": "actual_not_a_number"},
       {"unit_name": BROKEN_DIRECTION, "year": 2024, "case": "direction_unknown"},
       {"unit_name": A2_CLAIMED_IN_FULL, "year": 2024, "case": "a2_claimed_in_full"}]
)

# (一级指标, 二级指标, 三级指标, 方向, 年度指标值, 计量单位); a value of None is filled per unit.
_BUREAU = (
    ("产出指标", "数量指标", "督办事项办结率", "≥", 95, "%"),
    ("产出指标", "质量指标", "公文处理差错率", "≤", 1, "%"),
    ("产出指标", "时效指标", "政务信息按时报送率", "≥", 98, "%"),
    ("产出指标", "成本指标", "三公经费支出", "≤", None, "万元"),
    ("效益指标", "社会效益指标", "依法行政水平", "定性", "有所提升", None),
    ("满意度指标", "服务对象满意度指标", "服务对象满意度", "≥", 90, "%"),
)
_TOWN = (
    ("产出指标", "数量指标", "农村人居环境整治村庄数", "≥", None, "个"),
    ("产出指标", "数量指标", "高标准农田建设面积", "≥", None, "亩"),
    ("产出指标", "质量指标", "耕地保护目标完成率", "=", 100, "%"),
    ("产出指标", "成本指标", "三公经费支出", "≤", None, "万元"),
    ("效益指标", "社会效益指标", "信访案件按期办结率", "≥", 95, "%"),
    ("效益指标", "生态效益指标", "秸秆综合利用率", "≥", 90, "%"),
    ("满意度指标", "服务对象满意度指标", "群众满意度", "≥", 90, "%"),
)
_SCHOOL = (
    ("产出指标", "数量指标", "在校学生人数", "≥", None, "人"),
    ("产出指标", "质量指标", "教师持证上岗率", "=", 100, "%"),
    ("产出指标", "质量指标", "学业水平考试合格率", "≥", 92, "%"),
    ("产出指标", "成本指标", "三公经费支出", "≤", None, "万元"),
    ("效益指标", "社会效益指标", "校园安全责任事故", "≤", 0, "起"),
    ("效益指标", "可持续影响指标", "办学条件", "定性", "持续改善", None),
    ("满意度指标", "服务对象满意度指标", "学生及家长满意度", "≥", 90, "%"),
)
_HOSPITAL = (
    ("产出指标", "数量指标", "门急诊人次", "≥", None, "万人次"),
    ("产出指标", "质量指标", "甲级病案率", "≥", 95, "%"),
    ("产出指标", "质量指标", "医疗纠纷发生数", "≤", 3, "件"),
    ("产出指标", "成本指标", "三公经费支出", "≤", None, "万元"),
    ("效益指标", "社会效益指标", "基本公共卫生服务覆盖率", "≥", 90, "%"),
    ("效益指标", "经济效益指标", "次均门诊费用增幅", "≤", 5, "%"),
    ("满意度指标", "服务对象满意度指标", "患者满意度", "≥", 90, "%"),
)
_QUALITATIVE_ONLY = (
    ("产出指标", "数量指标", "优抚对象抚恤补助发放", "定性", "按时足额发放", None),
    ("产出指标", "质量指标", "退役军人服务站建设", "定性", "规范运行", None),
    ("效益指标", "社会效益指标", "退役军人合法权益保障", "定性", "有效保障", None),
    ("满意度指标", "服务对象满意度指标", "服务对象满意度", "定性", "较高", None),
)
_REASONS = (
    "受台风天气影响，部分工作推迟至次年完成",
    "上级政策调整，任务量相应调减",
    "项目招标流拍后重新采购，进度滞后",
    "人员变动较大，工作衔接不及时",
    "部分事项跨年度办理，年底前未办结",
)


def _catalogue(unit_name: str, unit_type: str) -> tuple[tuple, ...]:
    if unit_name == ALL_QUALITATIVE:
        return _QUALITATIVE_ONLY
    if unit_type == "乡镇":
        return _TOWN
    if any(word in unit_name for word in ("中学", "学校")):
        return _SCHOOL
    if any(word in unit_name for word in ("医院", "保健院", "疾病预防")):
        return _HOSPITAL
    return _BUREAU


def _plan_value(name: str, unit: str | None, budget_wan: float, rng: random.Random) -> float:
    """A target the unit's size makes plausible, for the rows whose value depends on the unit."""
    if name == "农村人居环境整治村庄数":
        return rng.randint(8, 24)
    if name == "高标准农田建设面积":
        return rng.randrange(2000, 9000, 500)
    if name == "在校学生人数":
        return rng.randrange(1800, 4200, 100)
    if name == "门急诊人次":
        return float(round(budget_wan / rng.uniform(80, 140), 1))
    raise ValueError(name)


def _achieved(direction: str, target: float, unit: str | None, missed: bool, rng: random.Random) -> float:
    integral = unit in ("个", "亩", "人", "件", "起")
    if direction == "=":
        value = target * (rng.uniform(0.9, 0.97) if missed else 1)
    elif direction == "≥":
        value = target * (rng.uniform(0.86, 0.985) if missed else rng.uniform(1.0, 1.04))
        if unit == "%":
            value = min(value, 100.0 if not missed else value)
    elif target == 0:
        value = rng.randint(1, 2) if missed else 0
    else:
        value = target * (rng.uniform(1.1, 1.4) if missed else rng.uniform(0.3, 1.0))
    return float(round(value)) if integral else float(round(value, 1))


def generate_targets(unit_name: str, unit_type: str, year: int, figures_fen: Mapping[int, int | None],
                     framework: Framework) -> list[dict[str, Any]] | None:
    """The unit's 绩效目标表 rows in the writer's keys; None when it hands in no sheet."""
    if framework.targets_sheet == "none" or unit_name in NO_SHEET:
        return None
    rng = random.Random(f"suixi-sample-2025:{unit_name}:{year}:targets")
    budget_wan = (figures_fen.get(12) or 0) / 1_000_000
    with_weights = rng.random() < 0.4
    percent_as_text = rng.random() < 0.3
    forced_miss = unit_name in MISSED_WITHOUT_REASON + (A2_CLAIMED_IN_FULL,)
    rows: list[dict[str, Any]] = []
    for i, (kind, category, name, direction, target, unit) in enumerate(_catalogue(unit_name, unit_type)):
        row: dict[str, Any] = dict(kind=kind, category=category, name=name, direction=direction, unit=unit)
        if with_weights:
            row["weight"] = 20 if kind == "效益指标" else 10
        if direction == "定性":
            row["target"] = target
            row["actual"] = "基本达成" if rng.random() < 0.2 else "达成"
            if row["actual"] != "达成":
                row["reason"] = rng.choice(_REASONS)
            rows.append(row)
            continue
        if name == "三公经费支出":
            budget, spent = figures_fen.get(19) or 0, figures_fen.get(20) or 0
            row["target"] = float(Decimal(budget) / 1_000_000)
            row["actual"] = float(Decimal(spent) / 1_000_000)
            if spent > budget:
                row["reason"] = "年中新增公务接待任务，支出超出预算"
            rows.append(row)
            continue
        value = target if target is not None else _plan_value(name, unit, budget_wan, rng)
        # the unit claiming A2 in full misses two targets, so that its claim stands out
        missed = rng.random() < 0.12 or (forced_miss and (i == 0 or (unit_name == A2_CLAIMED_IN_FULL and i == 1)))
        actual = _achieved(direction, value, unit, missed, rng)
        row["target"], row["actual"] = value, actual
        if unit == "%" and percent_as_text:
            row["target"], row["actual"], row["unit"] = f"{value:g}%", f"{actual:g}%", None
        met = scoring.row_completion(_row(direction, value, actual, None, unit), {}) == 1
        if not met and unit_name not in MISSED_WITHOUT_REASON:
            row["reason"] = rng.choice(_REASONS)
        rows.append(row)
    if unit_name == BROKEN_ACTUAL:
        rows[1] = {**rows[1], "actual": "见附件", "reason": None}
    if unit_name == BROKEN_DIRECTION:
        rows[2] = {**rows[2], "direction": "约"}
        for r in rows:
            r["weight"] = 20 if r["kind"] == "效益指标" else 10
        rows[3] = {**rows[3], "weight": None}
    return rows


def _row(direction: str | None, target: Any, actual: Any, weight: Any, unit: str | None,
         kind: str | None = None) -> TargetRow:
    return TargetRow(kind=kind, category=None, name=None, direction=direction, direction_raw=direction,
                     target=target if isinstance(target, (int, float)) else None, target_raw=None,
                     unit=unit, actual=actual if isinstance(actual, (int, float)) else None,
                     actual_raw=actual if isinstance(actual, str) else None,
                     weight=weight, weight_raw=None, reason=None, row_ref="")


def _as_scored(row: Mapping[str, Any]) -> TargetRow:
    """A row as the unit itself reckons it (a value written as `95%` is 95)."""
    def number(value):
        if isinstance(value, str) and value.endswith("%"):
            return float(value[:-1])
        return value
    direction = {"约": "="}.get(row.get("direction"), row.get("direction"))
    actual = row.get("actual")
    if actual == "见附件":  # the unit counts it as met
        actual = number(row.get("target"))
    return _row(direction, number(row.get("target")), number(actual), row.get("weight"), row.get("unit"),
                row.get("kind"))


def score_from_targets(unit_name: str, scores: dict[str, tuple[float, str | None]],
                       rows: list[dict[str, Any]] | None, framework: Framework
                       ) -> dict[str, tuple[float, str | None]]:
    """A1 and A2 as the unit reckons them from its own sheet (the framework's rules)."""
    if rows is None:
        return scores
    scored = [_as_scored(r) for r in rows]
    scores = dict(scores)
    for spec in framework.indicators:
        if spec.rule == "targets" and unit_name == A2_CLAIMED_IN_FULL:
            scores[spec.code] = (spec.max_score, None)
        elif spec.rule == "targets":
            rate = scoring.completion_rate(scored, framework.qualitative) or 0.0
            score = round_score(spec.max_score * rate)
            note = (None if score >= spec.max_score else
                    f"部分绩效目标未完成（加权完成度{rate * 100:.2f}%），扣{round_score(spec.max_score - score):g}分")
            scores[spec.code] = (score, note)
        elif spec.rule == "measurable" and unit_name != ALL_QUALITATIVE:
            claimed, note = scores[spec.code]
            cap = round_score(spec.max_score * (scoring.quantified_share(scored) or 0.0))
            if cap < claimed:
                scores[spec.code] = (cap, f"部分绩效目标为定性指标、未量化，扣{round_score(spec.max_score - cap):g}分")
    return scores


def report_sentence(unit_name: str, rows: list[dict[str, Any]] | None) -> str:
    """What the unit's 自评报告 says of its first quantified targets (REPORT_DISAGREES
    overstates the first one)."""
    if not rows:
        return ""
    stated = []
    for row in rows:
        actual = row.get("actual")
        if row.get("direction") == "定性" or not isinstance(actual, (int, float, str)) or row.get("name") == "三公经费支出":
            continue
        if isinstance(actual, str):
            if not actual.endswith("%"):
                continue
            value, unit = float(actual[:-1]), "%"
        else:
            value, unit = float(actual), row.get("unit") or ""
        if unit_name == REPORT_DISAGREES and not stated:
            value = min(value + 1.5, 100.0) if unit == "%" else value * 1.1
        stated.append(f"{row['name']}{value:g}{unit}")
        if len(stated) == 2:
            break
    return f"主要绩效目标完成情况：{'，'.join(stated)}。" if stated else ""
