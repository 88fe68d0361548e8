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


@dataclass(frozen=True)
class Rule:
    """One finding rule: its id, usual severity, label in words and the advice that fixes it.

    The severity is the rule's usual one; a few rules (a required vs an optional cell) are
    raised with the severity their cell calls for, and say so in ``varies``.
    """

    id: str
    severity: str
    label: str
    advice: str = ""
    varies: bool = False


def _rules(*rules: Rule) -> dict[str, Rule]:
    return {r.id: r for r in rules}


# The one registry of finding rules: every Finding's rule id is one of these (or of
# RULE_PATTERNS), and its label, usual severity and advice are read from here.
RULES: dict[str, Rule] = _rules(
    Rule("file.unreadable", FATAL, "文件无法打开", "请用Excel或WPS打开后另存为.xlsx重新报送。"),
    Rule("file.encrypted", FATAL, "文件已加密", "请去除打开密码后重新报送。"),
    Rule("file.too_large", FATAL, "文件超出大小上限",
         "自评表只需财政局下发模板的三个工作表，请删除多余的工作表、行或图片后重新报送。"),
    Rule("file.not_supported", FATAL, "文件格式无法读取", "请在WPS或Excel中另存为.xlsx后重新报送。"),
    Rule("file.internal_error", FATAL, "读取时程序出错",
         "程序处理本文件时出错，已记录；请将本文件转交财政局绩效股核查，其他文件不受影响。"),
    Rule("file.lock_file", WARNING, "临时锁定文件"),
    Rule("file.superseded", WARNING, "被新版本替代"),
    Rule("file.same_date", WARNING, "两个版本填报日期相同", "重新报送时请更新填报日期。"),
    Rule("file.unknown_kind", WARNING, "无法识别的文件"),
    Rule("file.misplaced", WARNING, "文件放错位置", "请把工作簿放在 raw/<评价年度>/ 文件夹中。"),
    Rule("file.wrong_year_folder", FATAL, "报表放错年度文件夹",
         "请把文件放到与评价年度相同的文件夹，或改正评价年度。"),
    Rule("file.copied", ERROR, "疑似复制了其他单位的报表",
         "请核对单位名称和各项数字是否为本单位的，改正后重新报送。"),
    Rule("sheet.missing", FATAL, "缺少工作表", "请使用财政局下发的模板重新填报。"),
    Rule("sheet.ambiguous", FATAL, "同名工作表不止一个",
         "请删除多余的副本工作表，或在工作表名中写明年度（如“数据表(2024)”）。"),
    Rule("framework.missing", FATAL, "缺少当年评分框架"),
    Rule("data.not_a_number", FATAL, "金额不是数字", "请填写正确的数值。", varies=True),
    Rule("data.formula_error", FATAL, "公式出错", "请改正公式或直接填写数值。", varies=True),
    Rule("data.digit_grouping", FATAL, "数字分隔符有误",
         "小数点请用“.”，千分位逗号只能每三位一个（如 8,397,200.18）。", varies=True),
    Rule("data.amount_missing", FATAL, "金额未填写", "必填金额不能为空；金额为零请填0。"),
    Rule("data.merged_value", FATAL, "金额在合并单元格中", "请取消合并单元格，每个行次单独填写金额。", varies=True),
    Rule("data.negative", ERROR, "金额为负数"),
    Rule("data.header_missing", FATAL, "数据表表头缺失", "请使用模板的表头“项目 | 行次 | 金额”。"),
    Rule("data.label_mismatch", WARNING, "数据表项目名称不符"),
    Rule("data.line_shifted", FATAL, "数据表行次与项目错位",
         "请按模板核对行次：插入或删除行后行次不能顺延，每个项目对应模板上的行次。"),
    Rule("data.line_missing", FATAL, "数据表缺少行次", "请按模板补齐全部行次。"),
    Rule("data.line_repeated", ERROR, "数据表行次重复", "每个行次只能填一行，请删除重复或隐藏的旧行。"),
    Rule("data.unit_conflict", FATAL, "金额单位声明矛盾", "请只保留一处“金额单位：元”或“金额单位：万元”。"),
    Rule("data.columns_ambiguous", FATAL, "数据表金额列不止一列",
         "请只保留本年度的金额列，或把列名写为“本年数”或年度（如“2024年”）。"),
    Rule("budget.unbalanced", WARNING, "年初预算收支不平衡"),
    Rule("info.late", WARNING, "逾期报送"),
    Rule("info.year_mismatch", ERROR, "评价年度填写有误"),
    Rule("info.negative", ERROR, "人数或机构数为负数"),
    Rule("info.unit_type_unknown", WARNING, "单位类型不在规定之列"),
    Rule("roster.unknown_unit", ERROR, "单位不在名录中",
         "请核对单位全称与预算单位名录是否一致；名录有误的，由财政局更正名录。"),
    Rule("roster.code_mismatch", WARNING, "单位编码与名录不符"),
    Rule("roster.name_differs", WARNING, "单位名称与名录不一致", "请按名录填写单位全称。"),
    Rule("scores.above_max", ERROR, "自评得分超过分值"),
    Rule("scores.code_repeated", ERROR, "评分表指标重复"),
    Rule("scores.code_invalid", ERROR, "评分表指标代码有误"),
    Rule("scores.negative", ERROR, "自评得分为负数"),
    Rule("scores.max_negative", ERROR, "分值为负数"),
    Rule("scores.grade_invalid", ERROR, "自评等级无效"),
    Rule("scores.grade_mismatch", ERROR, "自评等级与得分不符"),
    Rule("scores.grade_missing", ERROR, "自评等级未填写"),
    Rule("scores.header_missing", FATAL, "评分表表头缺失",
         "请使用模板的表头“代码 | 一级指标 | 二级指标 | 三级指标 | 分值 | 自评得分 | 评分说明”。"),
    Rule("scores.indicator_missing", ERROR, "评分表缺少指标"),
    Rule("scores.indicator_unknown", WARNING, "评分表有未知指标"),
    Rule("scores.max_mismatch", ERROR, "指标分值与框架不符"),
    Rule("scores.not_a_number", ERROR, "自评得分不是数字"),
    Rule("scores.note_missing", WARNING, "扣分未说明原因"),
    Rule("scores.self_missing", ERROR, "自评得分未填写"),
    Rule("scores.total_mismatch", ERROR, "自评合计与各项之和不符"),
    Rule("scores.total_missing", ERROR, "自评合计未填写"),
    Rule("review.self_score_above_review", WARNING, "自评高于复核"),
    Rule("report.missing", WARNING, "未报送自评报告"),
    Rule("report.unmatched", WARNING, "自评报告无法对应单位", varies=True),
    Rule("report.unreadable", WARNING, "自评报告无法读取", varies=True),
    Rule("resubmission.unrequested_change", WARNING, "改动了未要求修改的数字",
         "请说明这些数字为何改动；如属误改，请恢复后重新报送。"),
    Rule("review.officer_deduction", WARNING, "财政局复核扣分"),
    Rule("review.formula_unscored", WARNING, "指标无法按公式复核", "请补填公式所需的数字。"),
    Rule("targets.sheet_missing", WARNING, "没有绩效目标表", "请按模板填写绩效目标表后重新报送。", varies=True),
    Rule("targets.sheet_ambiguous", ERROR, "绩效目标表不止一张", "请删除多余的副本，或在工作表名中写明年度。"),
    Rule("targets.header_missing", ERROR, "绩效目标表表头缺失", "请使用财政局下发的模板填写绩效目标表。"),
    Rule("targets.direction_unknown", ERROR, "指标方向无法识别", "指标方向填写≥、≤、=或定性。"),
    Rule("targets.target_not_a_number", ERROR, "年度指标值不是数字", "定量指标填写数字，无法量化的填“定性”。"),
    Rule("targets.actual_not_a_number", ERROR, "实际完成值不是数字", "定量指标填写数字，无法量化的填“定性”。"),
    Rule("targets.target_missing", ERROR, "年度指标值未填写"),
    Rule("targets.actual_missing", ERROR, "实际完成值未填写"),
    Rule("targets.qualitative_unknown", ERROR, "定性完成情况无法识别", "填写达成、基本达成、部分达成或未达成。"),
    Rule("targets.weight_invalid", ERROR, "权重填写有误", "权重填写大于0的数字，或各行都不填。"),
    Rule("targets.weight_missing", ERROR, "权重未填写", "各行都填权重，或都不填（按等权计算）。"),
    Rule("targets.percent_scale", ERROR, "百分数与小数混填", "年度指标值和实际完成值用同一种写法（如都写95%）。"),
    Rule("targets.reason_missing", ERROR, "未完成目标未说明原因", "未完全完成的目标须填写偏差原因。"),
    Rule("targets.all_qualitative", WARNING, "绩效目标全部为定性", "尽量设置可量化的目标。"),
    Rule("targets.kind_unknown", ERROR, "绩效目标一级指标无法识别", "一级指标填写产出指标、效益指标或满意度指标。"),
    Rule("targets.category_unknown", WARNING, "绩效目标二级指标不规范"),
    Rule("targets.name_missing", ERROR, "绩效目标未填写名称", "请填写三级指标（目标名称）。"),
    Rule("report.mismatch.target", WARNING, "自评报告与绩效目标表不一致", "请核对自评报告与绩效目标表的数字。"),
)

# Every rule id in words, for the people who read findings (notices, workbook, dashboard).
RULE_LABELS = {rule_id: rule.label for rule_id, rule in RULES.items()}

# Families of rule ids made from a 行次 or a field: one entry for the family.
RULE_PATTERNS: tuple[tuple[re.Pattern, str, str], ...] = (
    (re.compile(r"^identity\.r(\d+)$"), ERROR, "勾稽关系不符（行次{0}）"),
    (re.compile(r"^report\.mismatch\..+$"), WARNING, "自评报告与表格不一致"),
    (re.compile(r"^info\.\w+_missing$"), FATAL, "基本信息缺项"),
    (re.compile(r"^info\.\w+_invalid$"), FATAL, "基本信息填写有误"),
    (re.compile(r"^schema\.\w+$"), ERROR, "不符合填报要求"),
)
_PATTERN_LABELS = tuple((pattern, label) for pattern, _, label in RULE_PATTERNS) + (
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


def is_registered(rule: str) -> bool:
    """Whether a rule id is in the registry, by itself or as one of a family."""
    return rule in RULES or any(p.match(rule) for p, _, _ in RULE_PATTERNS)


def advice(rule: str) -> str:
    """What the unit does about a finding of this rule (empty when the message says it)."""
    entry = RULES.get(rule)
    return entry.advice if entry else ""


def internal_error(stage: str, exc: BaseException) -> "Finding":
    """The finding for a file whose handling failed in our own code: the run goes on."""
    return finding("file.internal_error", "文件", f"{stage}时程序出错，本文件未能处理。", found=type(exc).__name__)


def finding(rule: str, location: str, message: str, *, severity: str | None = None,
            with_advice: bool = True, **kwargs) -> Finding:
    """A finding of a registered rule: severity from the registry unless the rule varies,
    the rule's advice appended to the message."""
    entry = RULES.get(rule)
    if entry is None:
        if not is_registered(rule):
            raise KeyError(f"finding rule not registered: {rule}")
        severity = severity or next(sev for p, sev, _ in RULE_PATTERNS if p.match(rule))
    else:
        if severity is not None and severity != entry.severity and not entry.varies:
            raise ValueError(f"rule {rule} is {entry.severity}, not {severity}")
        severity = severity or entry.severity
        if with_advice and entry.advice and entry.advice not in message:
            message = f"{message}{entry.advice}"
    return Finding(severity, rule, location, message, **kwargs)
