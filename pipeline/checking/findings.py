"""A finding: one thing wrong (or worth a look) in one submission, at one place."""

from __future__ import annotations

import re
from dataclasses import dataclass, fields, replace

from pipeline.settings import SHOWN_VALUE_CHARS

FATAL = "fatal"      # the file is quarantined
ERROR = "error"      # loaded, but the unit must correct and resubmit (退回修改)
WARNING = "warning"  # loaded and worth a look
SEVERITIES = (FATAL, ERROR, WARNING)
SEVERITY_LABELS = {FATAL: "致命", ERROR: "错误", WARNING: "提示"}


@dataclass(frozen=True)
class Finding:
    severity: str
    rule: str          # stable id, e.g. "identity.r13", "score.above_max"
    location: str      # "数据表!C14", "评分表 第5行", "基本信息!B6", "文件"
    message: str       # Chinese, what is wrong and what to do
    found: str | None = None
    expected: str | None = None
    file: str | None = None       # path relative to RAW
    unit_name: str | None = None
    year: int | None = None

    def __post_init__(self) -> None:
        # A value quoted back to a unit is cut short: a pasted page would drown the message.
        for name in ("found", "expected"):
            value = getattr(self, name)
            if value is not None and len(value) > SHOWN_VALUE_CHARS:
                object.__setattr__(self, name, clip(value))

    def at(self, *, file: str | None = None, unit_name: str | None = None,
           year: int | None = None) -> "Finding":
        """The same finding, tied to a file / unit / year (kept where already set)."""
        return replace(self, file=self.file or file, unit_name=self.unit_name or unit_name,
                       year=self.year if self.year is not None else year)

    def as_row(self) -> dict:
        return {name: getattr(self, name) for name in _FIELDS}


_FIELDS = tuple(f.name for f in fields(Finding))


def clip(text: str, limit: int = SHOWN_VALUE_CHARS) -> str:
    """Text cut to limit characters, saying how long it was: pasted pages stay readable."""
    if len(text) <= limit:
        return text
    return f"{text[:limit]}…（共{len(text):,}字，已截断）"


def fmt_amount(value: float | None) -> str | None:
    """An amount in 元 as a finance officer writes it: 8,374,036.75."""
    if value is None:
        return None
    return f"{value:,.2f}"


def fmt_rate(value: float | None) -> str | None:
    """A fraction as a percentage with two decimals: 0.99724 → 99.72%."""
    if value is None:
        return None
    return f"{value * 100:.2f}%"


# Every rule id in words, for the people who read findings (notices, workbook, dashboard).
RULE_LABELS = {
    "file.unreadable": "文件无法打开",
    "file.encrypted": "文件已加密",
    "file.too_large": "文件超出大小上限",
    "file.lock_file": "临时锁定文件",
    "file.superseded": "被新版本替代",
    "file.unknown_kind": "无法识别的文件",
    "sheet.missing": "缺少工作表",
    "framework.missing": "缺少当年评分框架",
    "data.not_a_number": "金额不是数字",
    "data.amount_missing": "金额未填写",
    "data.negative": "金额为负数",
    "data.header_missing": "数据表表头缺失",
    "data.label_mismatch": "数据表项目名称不符",
    "data.line_missing": "数据表缺少行次",
    "data.line_repeated": "数据表行次重复",
    "budget.unbalanced": "年初预算收支不平衡",
    "info.late": "逾期报送",
    "info.year_mismatch": "评价年度填写有误",
    "roster.unknown_unit": "单位不在名录中",
    "roster.code_mismatch": "单位编码与名录不符",
    "scores.above_max": "自评得分超过分值",
    "scores.grade_invalid": "自评等级无效",
    "scores.grade_mismatch": "自评等级与得分不符",
    "scores.grade_missing": "自评等级未填写",
    "scores.header_missing": "评分表表头缺失",
    "scores.indicator_missing": "评分表缺少指标",
    "scores.indicator_unknown": "评分表有未知指标",
    "scores.max_mismatch": "指标分值与框架不符",
    "scores.not_a_number": "自评得分不是数字",
    "scores.note_missing": "扣分未说明原因",
    "scores.self_missing": "自评得分未填写",
    "scores.total_mismatch": "自评合计与各项之和不符",
    "scores.total_missing": "自评合计未填写",
    "review.self_score_above_review": "自评高于复核",
    "resubmission.unrequested_change": "改动了未要求修改的数字",
    "review.officer_deduction": "财政局复核扣分",
    "review.formula_unscored": "指标无法按公式复核",
    "report.missing": "未报送自评报告",
    "report.unmatched": "自评报告无法对应单位",
    "report.unreadable": "自评报告无法读取",
    "targets.sheet_missing": "没有绩效目标表",
    "targets.sheet_ambiguous": "绩效目标表不止一张",
    "targets.header_missing": "绩效目标表表头缺失",
    "targets.direction_unknown": "指标方向无法识别",
    "targets.target_not_a_number": "年度指标值不是数字",
    "targets.actual_not_a_number": "实际完成值不是数字",
    "targets.target_missing": "年度指标值未填写",
    "targets.actual_missing": "实际完成值未填写",
    "targets.qualitative_unknown": "定性完成情况无法识别",
    "targets.weight_invalid": "权重填写有误",
    "targets.weight_missing": "权重未填写",
    "targets.percent_scale": "百分数与小数混填",
    "targets.reason_missing": "未完成目标未说明原因",
    "targets.all_qualitative": "绩效目标全部为定性",
    "targets.kind_unknown": "绩效目标一级指标无法识别",
    "targets.category_unknown": "绩效目标二级指标不规范",
    "targets.name_missing": "绩效目标未填写名称",
    "report.mismatch.target": "自评报告与绩效目标表不一致",
}

_PATTERN_LABELS = (
    (re.compile(r"^identity\.r(\d+)$"), "勾稽关系不符（行次{0}）"),
    (re.compile(r"^report\.mismatch\..+$"), "自评报告与表格不一致"),
    (re.compile(r"^info\.\w+_missing$"), "基本信息缺项"),
    (re.compile(r"^info\.\w+_invalid$"), "基本信息填写有误"),
    (re.compile(r"^scores?\.\w+$"), "评分表填写有误"),
)


def rule_label(rule: str) -> str:
    """A rule id in words: identity.r13 → 勾稽关系不符（行次13）; unknown ids are shown as they are."""
    if rule in RULE_LABELS:
        return RULE_LABELS[rule]
    for pattern, label in _PATTERN_LABELS:
        match = pattern.match(rule)
        if match:
            return label.format(*match.groups())
    return rule
