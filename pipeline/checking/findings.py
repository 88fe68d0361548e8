"""A finding: one thing wrong (or worth a look) in one submission, at one place."""

from __future__ import annotations

import functools
import re
import string
from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace

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
    """One finding rule: its id, usual severity, label in words, message template and advice.

    ``message`` is a str.format template over the finding's fields: ``{location}``, ``{found}``,
    ``{expected}`` and the named values the call gives; ``{advice}`` places the advice inside the
    message, otherwise the advice is appended. ``cases`` are the few named variants of a rule
    whose wording differs by case (chosen with ``case=`` when the finding is raised).

    The severity is the rule's usual one; a few rules (a required vs an optional cell) are
    raised with the severity their cell calls for, and say so in ``varies``. For a family of
    ids (RULE_PATTERNS) ``id`` is a regular expression, and ``{0}`` in the label is its group.
    """

    id: str
    severity: str
    label: str
    message: str
    advice: str = ""
    varies: bool = False
    cases: Mapping[str, str] = field(default_factory=dict)

    def template(self, case: str | None = None) -> str:
        """The message template of one case (the rule's own when case is None)."""
        if case is None:
            return self.message
        if case not in self.cases:
            raise KeyError(f"finding rule {self.id} has no case {case!r} (cases: {', '.join(self.cases) or 'none'})")
        return self.cases[case]

    def templates(self) -> dict[str | None, str]:
        """Every template of the rule: None → its own, then its cases."""
        return {None: self.message, **self.cases}


def _rules(*rules: Rule) -> dict[str, Rule]:
    return {r.id: r for r in rules}


# Templates shared by the cells every parser reads the same way (pipeline/reading/parse.py):
# {what} names the cell (行次3“…”, 指标A1分值), {reason} is the parser's word on the value.
_NOT_A_NUMBER = "{location}的{what}“{found}”{reason}，{advice}"
_SCHEMA_PREFIX = "{location} "  # the pandera models' findings name their cell first

# The one registry of finding rules: every Finding's rule id is one of these (or of
# RULE_PATTERNS), and its label, usual severity, message and advice are read from here.
RULES: dict[str, Rule] = _rules(
    Rule("file.unreadable", FATAL, "文件无法打开", "文件“{path}”{reason}。",
         "请用Excel或WPS打开后另存为.xlsx重新报送。"),
    Rule("file.encrypted", FATAL, "文件已加密", "文件“{path}”{reason}，{advice}", "请去除密码后重新报送。"),
    Rule("file.too_large", FATAL, "文件超出大小上限", "文件“{path}”{reason}。",
         "自评表只需财政局下发模板的三个工作表，请删除多余的工作表、行或图片后重新报送。"),
    Rule("file.not_supported", FATAL, "文件格式无法读取", "文件“{path}”{reason}。",
         "请在WPS或Excel中另存为.xlsx后重新报送。"),
    Rule("file.internal_error", FATAL, "读取时程序出错", "文件“{path}”{reason}。",
         "程序处理本文件时出错，已记录；请将本文件转交财政局绩效股核查，其他文件不受影响。",
         cases={"stage": "{stage}时程序出错，本文件未能处理。"}),
    Rule("file.lock_file", WARNING, "临时锁定文件", "“{path}”是Excel/WPS打开时生成的临时文件，已跳过，不影响报送。"),
    Rule("file.superseded", WARNING, "被新版本替代",
         "{unit} {evaluation_year}年度重复报送，本文件（填报日期{filed_on}）已被{expected}（填报日期{newer_filed_on}）替代。"),
    Rule("file.same_date", WARNING, "两个版本填报日期相同",
         "{unit} {evaluation_year}年度有两个版本填报日期相同（{filed_on}）：{expected}、{found}，"
         "已按文件修改时间采用{expected}。", "重新报送时请更新填报日期。"),
    Rule("file.unknown_kind", WARNING, "无法识别的文件",
         "“{path}”既不是Excel工作簿也不是自评报告（.txt/.docx/.pdf），已跳过。"),
    Rule("file.misplaced", WARNING, "文件放错位置", "“{found}”不在任何年度文件夹（如 2024/）中，未读取。",
         "请把工作簿放在 raw/<评价年度>/ 文件夹中。"),
    Rule("file.wrong_year_folder", FATAL, "报表放错年度文件夹",
         "{found}年的报表放在了{expected}文件夹：{location} 评价年度填为{found}，"
         "本文件不计入{found}年度，也不计入{expected}年度。",
         "请把文件放到与评价年度相同的文件夹，或改正评价年度。"),
    Rule("file.copied", ERROR, "疑似复制了其他单位的报表",
         "文件名是{expected}的，内容中的单位名称却是{found}，疑似复制了其他单位的报表（{path}）。",
         "请核对单位名称和各项数字是否为本单位的，改正后重新报送。",
         cases={"same_figures": "{location}的各行次金额与{others}的数据表完全相同（{count}个行次非零，"
                                "如行次{line}“{label}”{found}元），疑似复制了其他单位的报表。"}),
    Rule("sheet.missing", FATAL, "缺少工作表", "工作簿缺少“{expected}”工作表，无法读取。",
         "请使用财政局下发的模板重新填报。"),
    Rule("sheet.ambiguous", FATAL, "同名工作表不止一个",
         "工作簿中有{count}个{sheet}工作表（{names}），无法确定哪一个是{which_year}年度的。",
         "请删除多余的副本工作表，或在工作表名中写明年度（如“数据表(2024)”）。"),
    Rule("framework.missing", FATAL, "缺少当年评分框架",
         "评价年度{found}没有评分框架（schemas/frameworks/{found}.toml），无法评分。"),
    Rule("data.not_a_number", FATAL, "金额不是数字", _NOT_A_NUMBER, "请填写正确的数值。", varies=True),
    Rule("data.formula_error", FATAL, "公式出错", "{location}的{what}{error}。", "请改正公式或直接填写数值。",
         varies=True),
    Rule("data.digit_grouping", FATAL, "数字分隔符有误", "{location}的{what}“{found}”中{reason}，无法确定金额。",
         "小数点请用“.”，千分位逗号只能每三位一个（如 8,397,200.18）。", varies=True),
    Rule("data.amount_missing", FATAL, "金额未填写", "{location}（{what}）未填写，{advice}",
         "必填金额不能为空；金额为零请填0。"),
    Rule("data.merged_value", FATAL, "金额在合并单元格中",
         "{location}（行次{line}“{label}”）在合并单元格{merged}中，Excel显示为空，无法读出金额。",
         "请取消合并单元格，每个行次单独填写金额。", varies=True),
    Rule("data.negative", ERROR, "金额为负数", _SCHEMA_PREFIX + "金额“{found}”为负数，金额不能小于0，请核对。"),
    Rule("data.header_missing", FATAL, "数据表表头缺失", "数据表找不到“{expected}”表头行，无法读取金额。",
         "请使用模板的表头“项目 | 行次 | 金额”。"),
    Rule("data.label_mismatch", WARNING, "数据表项目名称不符",
         "行次{line}的项目名称“{found}”与模板“{expected}”不一致，请确认金额填在了正确的行次。"),
    Rule("data.line_shifted", FATAL, "数据表行次与项目错位",
         "{location}的项目“{label}”在模板中是{lines}，这里却印着行次{line}（模板行次{line}为“{template_label}”），"
         "行次与项目错位，金额无法对应。",
         "请按模板核对行次：插入或删除行后行次不能顺延，每个项目对应模板上的行次。"),
    Rule("data.line_missing", FATAL, "数据表缺少行次", "数据表缺少行次{line}“{label}”，无法计算。",
         "请按模板补齐全部行次。"),
    Rule("data.line_repeated", ERROR, "数据表行次重复",
         "行次{line}出现了{times}次（{cells}），无法确定哪一行是要报送的数。",
         "每个行次只能填一行，请删除重复或隐藏的旧行。",
         cases={"schema": _SCHEMA_PREFIX + "行次{found}重复出现。"}),
    Rule("data.unit_conflict", FATAL, "金额单位声明矛盾",
         "数据表的金额单位声明互相矛盾（{declarations}），无法确定金额是元还是万元。",
         "请只保留一处“金额单位：元”或“金额单位：万元”。"),
    Rule("data.columns_ambiguous", FATAL, "数据表金额列不止一列",
         "数据表表头有{count}个金额列（{columns}），无法确定哪一列是{which_year}年度的数。",
         "请只保留本年度的金额列，或把列名写为“本年数”或年度（如“2024年”）。"),
    Rule("budget.unbalanced", WARNING, "年初预算收支不平衡",
         "年初收入预算数{expected}元与年初支出预算数{found}元不相等，年初预算收支不平衡，请确认。"),
    Rule("info.late", WARNING, "逾期报送", "填报日期{found}晚于填报截止日期{deadline}，逾期{days_late}天。"),
    Rule("info.negative", ERROR, "人数或机构数为负数", _SCHEMA_PREFIX + "人数或机构数“{found}”不能为负数。"),
    Rule("info.unit_type_unknown", WARNING, "单位类型不在规定之列",
         _SCHEMA_PREFIX + "单位类型“{found}”不是{allowed}之一。"),
    Rule("roster.unknown_unit", ERROR, "单位不在名录中", "单位名称“{found}”不在预算单位名录中，不参加排名。",
         "请核对单位全称与预算单位名录是否一致；名录有误的，由财政局更正名录。",
         cases={"near_misses": "单位名称“{found}”不在预算单位名录中，不参加排名。名录中相近的单位：{near_misses}。"}),
    Rule("roster.code_mismatch", WARNING, "单位编码与名录不符", "单位编码“{found}”与名录中{unit}的编码“{expected}”不一致。"),
    Rule("roster.name_differs", WARNING, "单位名称与名录不一致",
         "单位名称填为“{found}”，与单位编码{code}在名录中的名称“{expected}”不一致，已按名录计为{expected}。",
         "请按名录填写单位全称。"),
    Rule("scores.above_max", ERROR, "自评得分超过分值",
         _SCHEMA_PREFIX + "自评得分{found}超过该指标分值，得分应在0到分值之间，请改正。"),
    Rule("scores.code_repeated", ERROR, "评分表指标重复", _SCHEMA_PREFIX + "指标代码{found}重复出现。"),
    Rule("scores.code_invalid", ERROR, "评分表指标代码有误", _SCHEMA_PREFIX + "指标代码“{found}”格式不正确。"),
    Rule("scores.negative", ERROR, "自评得分为负数", _SCHEMA_PREFIX + "自评得分“{found}”为负数，得分应在0到分值之间。"),
    Rule("scores.max_negative", ERROR, "分值为负数", _SCHEMA_PREFIX + "分值“{found}”为负数。"),
    Rule("scores.grade_invalid", ERROR, "自评等级无效", _NOT_A_NUMBER, "请填写正确的数值。"),
    Rule("scores.grade_mismatch", ERROR, "自评等级与得分不符",
         "{location} 自评等级填为“{found}”，但合计{basis:g}分对应的等级为“{expected}”（{grade_rule}）。"),
    Rule("scores.grade_missing", ERROR, "自评等级未填写", "评分表未填写自评等级。"),
    Rule("scores.header_missing", FATAL, "评分表表头缺失", "评分表找不到表头行。",
         "请使用模板的表头“代码 | 一级指标 | 二级指标 | 三级指标 | 分值 | 自评得分 | 评分说明”。"),
    Rule("scores.indicator_missing", ERROR, "评分表缺少指标",
         "评分表缺少指标{expected}“{name}”（分值{max_score:g}），请按模板补齐。"),
    Rule("scores.indicator_unknown", WARNING, "评分表有未知指标",
         "{location} 指标代码{found}不在{framework_year}年度评分框架中，已忽略。"),
    Rule("scores.max_mismatch", ERROR, "指标分值与框架不符",
         "{location} 指标{code}的分值填为{found}，{framework_year}年度评分框架规定为{expected}。"),
    Rule("scores.not_a_number", ERROR, "自评得分不是数字", _NOT_A_NUMBER, "请填写正确的数值。"),
    Rule("scores.note_missing", WARNING, "扣分未说明原因",
         "{location} 指标{code}自评得分{found}低于分值{max_score:g}，但未填写评分说明（扣分原因）。"),
    Rule("scores.self_missing", ERROR, "自评得分未填写", "{location} 指标{code}“{name}”未填写自评得分。"),
    Rule("scores.total_mismatch", ERROR, "自评合计与各项之和不符",
         "{location} 合计填为{found}分，各指标自评得分之和为{expected}分，请改正。"),
    Rule("scores.total_missing", ERROR, "自评合计未填写", "评分表未填写合计得分。"),
    Rule("review.self_score_above_review", WARNING, "自评高于复核",
         "自评得分{found}分高于复核得分{expected}分（高{gap:g}分）。差异来自：{sources}。请核实自评依据。"),
    Rule("report.missing", WARNING, "未报送自评报告",
         "未收到该单位的部门整体支出绩效自评报告（.txt、.docx 或 .pdf），报告与数据表、评分表无法相互核对，请督促单位补交。"),
    Rule("report.unmatched", WARNING, "自评报告无法对应单位",
         "自评报告“{found}”的标题和文件名中找不到单位名录中的单位名称，也对应不到任何已报送的数据表，"
         "已记录但未核对，请确认是哪个单位的报告，并在标题中写明单位全称。", varies=True),
    Rule("report.unreadable", WARNING, "自评报告无法读取", "自评报告“{found}”无法读取：{reason}。{advice}",
         "请单位重新提交可读的报告。", varies=True),
    Rule("resubmission.unrequested_change", WARNING, "改动了未要求修改的数字",
         "重新报送的{path}除退回修改要求改正的问题外，还改动了{count}处数字：{changes}。"
         "请核实改动的依据（上一版本：{previous_path}）。"),
    Rule("review.officer_deduction", WARNING, "财政局复核扣分",
         "财政局复核：{code}{name} 自评{found}分，复核{expected}分（扣{deducted:g}分）。理由：{reason}（复核人：{officer}）"),
    Rule("review.formula_unscored", WARNING, "指标无法按公式复核",
         "指标{code}“{name}”无法按公式复核：{reason}，复核得分暂取自评得分{review_score:g}分。"),
    Rule("targets.sheet_missing", WARNING, "没有绩效目标表",
         "没有绩效目标表（或未填写），{codes}无法复核，复核得分暂按自评得分计。建议按模板填报绩效目标表。",
         varies=True,
         cases={"required": "没有绩效目标表（或未填写），{codes}无法复核，复核得分暂按自评得分计。"
                            "本年度绩效目标表为必报，请补报后重新报送。"}),
    Rule("targets.sheet_ambiguous", ERROR, "绩效目标表不止一张",
         "工作簿中有{count}张绩效目标表（{names}），无法确定以哪一张为准，{advice}", "请只保留本年度的一张。"),
    Rule("targets.header_missing", ERROR, "绩效目标表表头缺失",
         "绩效目标表找不到“一级指标 | 二级指标 | 三级指标 | 指标方向 | 年度指标值 | 计量单位 | "
         "实际完成值 | 权重 | 偏差原因”表头行，无法读取绩效目标。{advice}", "请使用模板的表头。"),
    Rule("targets.direction_unknown", ERROR, "指标方向无法识别",
         "{location}{what}的指标方向“{found}”无法识别，{advice}", "应填写≥、≤、=或定性。",
         cases={"blank": "{location}{what}未填写指标方向，{advice}"}),
    Rule("targets.target_not_a_number", ERROR, "年度指标值不是数字",
         "{location}{what}的{label}“{found}”{reason}，{advice}",
         "定量指标须填写数字（如95或95%）；无法量化的指标请把指标方向填为“定性”。"),
    Rule("targets.actual_not_a_number", ERROR, "实际完成值不是数字",
         "{location}{what}的{label}“{found}”{reason}，{advice}",
         "定量指标须填写数字（如95或95%）；无法量化的指标请把指标方向填为“定性”。"),
    Rule("targets.target_missing", ERROR, "年度指标值未填写", "{location}{what}未填写{expected}。"),
    Rule("targets.actual_missing", ERROR, "实际完成值未填写", "{location}{what}未填写{expected}。"),
    Rule("targets.qualitative_unknown", ERROR, "定性完成情况无法识别",
         "{location}{what}为定性指标，实际完成值“{found}”不是{expected}之一。"),
    Rule("targets.weight_invalid", ERROR, "权重填写有误", "{location}{what}的权重“{found}”{reason}。"),
    Rule("targets.weight_missing", ERROR, "权重未填写",
         "{location}{what}未填写权重；其他行填了权重，本行暂按其余各行的平均权重计。"),
    Rule("targets.percent_scale", ERROR, "百分数与小数混填",
         "{location}{what}的年度指标值{target:g}与实际完成值{actual:g}相差百倍，"
         "疑似一个按百分数、一个按小数填写，{advice}", "请统一按百分数填写（如95%填95）。"),
    Rule("targets.reason_missing", ERROR, "未完成目标未说明原因",
         "{location}{what}未完成（完成度{found}），{advice}", "须填写偏差原因。"),
    Rule("targets.all_qualitative", WARNING, "绩效目标全部为定性",
         "绩效目标表的{count}个指标全部为定性指标，没有可衡量的量化目标。"),
    Rule("targets.kind_unknown", ERROR, "绩效目标一级指标无法识别",
         _SCHEMA_PREFIX + "一级指标“{found}”不是{allowed}之一，该目标无法计入效益指标完成情况。",
         "一级指标填写产出指标、效益指标或满意度指标。"),
    Rule("targets.category_unknown", WARNING, "绩效目标二级指标不规范",
         _SCHEMA_PREFIX + "二级指标“{found}”不是绩效目标表的二级指标之一（{allowed}）。"),
    Rule("targets.name_missing", ERROR, "绩效目标未填写名称", _SCHEMA_PREFIX + "绩效目标未填写三级指标（目标名称）。",
         "请填写三级指标（目标名称）。"),
    Rule("report.mismatch.target", WARNING, "自评报告与绩效目标表不一致",
         "自评报告称“{name}”为{found}，但{cell}的实际完成值为{expected}（“{sentence}”），{advice}",
         "请核对报告与绩效目标表是否一致。"),
)

# Every rule id in words, for the people who read findings (notices, workbook, dashboard).
RULE_LABELS = {rule_id: rule.label for rule_id, rule in RULES.items()}

# Families of rule ids made from a 行次 or a field: one entry for the family, its id a pattern.
RULE_PATTERNS: tuple[Rule, ...] = (
    Rule(r"identity\.r(\d+)", ERROR, "勾稽关系不符（行次{0}）",
         "{location} {name}为{found}元，应等于{formula} = {expected}元，相差{difference}元。",
         "请核对数据表后重新报送。"),
    Rule(r"report\.mismatch\..+", WARNING, "自评报告与表格不一致",
         "自评报告称{item}为{found}，但{where}{expected}（“{quote}”），请核对报告与{counterpart}是否一致。"),
    Rule(r"info\.\w+_missing", FATAL, "基本信息缺项",
         "基本信息未填写{expected}，无法确认这是哪个单位、哪一年度的自评表。请补填后重新报送。"),
    # no advice: the schema's cases say what to write themselves
    Rule(r"info\.\w+_invalid", FATAL, "基本信息填写有误", "{location}的{what}“{found}”{reason}，请填写正确的数值。",
         varies=True,
         cases={"year_range": _SCHEMA_PREFIX + "评价年度“{found}”不是有效年份。",
                "name_too_short": _SCHEMA_PREFIX + "单位名称“{found}”过短，请填写单位全称。"}),
    Rule(r"schema\.\w+", ERROR, "不符合填报要求", _SCHEMA_PREFIX + "{column}不符合填报要求：{check}。"),
)
_FAMILIES = tuple((re.compile(f"^{family.id}$"), family) for family in RULE_PATTERNS)
_PATTERN_LABELS = tuple((pattern, family.label) for pattern, family in _FAMILIES) + (
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


def rule_entry(rule: str) -> Rule:
    """The registry entry of a rule id, by itself or as one of a family (KeyError when neither)."""
    entry = RULES.get(rule)
    if entry is not None:
        return entry
    for pattern, family in _FAMILIES:
        if pattern.match(rule):
            return family
    raise KeyError(f"finding rule not registered: {rule}")


def is_registered(rule: str) -> bool:
    """Whether a rule id is in the registry, by itself or as one of a family."""
    try:
        rule_entry(rule)
    except KeyError:
        return False
    return True


# Names a template may use besides the call's own fields: the finding's columns and the advice.
COLUMN_FIELDS = frozenset({"location", "found", "expected"})
ADVICE_FIELD = "advice"


@functools.cache  # a handful of templates, parsed once each
def template_fields(template: str) -> frozenset[str]:
    """The named fields a str.format template uses ({basis:g} → basis)."""
    names = set()
    for _, name, _, _ in string.Formatter().parse(template):
        if name is not None:
            names.add(re.split(r"[.\[]", name, maxsplit=1)[0])
    if "" in names or any(n.isdigit() for n in names):
        raise ValueError(f"template fields must be named: {template}")
    return frozenset(names)


_UNSET = object()


def finding(rule: str, location: str, *, case: str | None = None, severity: str | None = None,
            found: str | None = _UNSET, expected: str | None = _UNSET, file: str | None = None,
            unit_name: str | None = None, year: int | None = None, **fields: object) -> Finding:
    """The one way to raise a finding: the message formatted from the rule's template with
    fields (and found / expected), the advice appended unless the template places it, and the
    severity from the registry unless the rule varies.

    A field the template needs and the call does not give, or one it gives and the template
    does not use, is a KeyError naming the rule: a wrong call fails where it is made.
    """
    entry = rule_entry(rule)
    if severity is not None and severity != entry.severity and not entry.varies:
        raise ValueError(f"rule {rule} is {entry.severity}, not {severity}")
    template = entry.template(case)
    used = template_fields(template)
    needed = used - COLUMN_FIELDS - {ADVICE_FIELD}
    given = set(fields)
    if needed != given:
        raise KeyError(f"finding rule {rule}{f' case {case}' if case else ''}: "
                       f"missing fields {sorted(needed - given)}, surplus fields {sorted(given - needed)}")
    columns = {"location": location, "found": found, "expected": expected}
    values = dict(fields)
    for name in used & COLUMN_FIELDS:
        if columns[name] is _UNSET:
            raise KeyError(f"finding rule {rule}{f' case {case}' if case else ''}: missing field {name}")
        value = columns[name]
        # found / expected as the finding keeps them (cut short), so the message and the column agree
        values[name] = "" if value is None else value if name == "location" else clip(str(value))
    message = template.format(**values, advice=entry.advice)
    if entry.advice and ADVICE_FIELD not in used:
        message += entry.advice
    return Finding(severity or entry.severity, rule, location, message,
                   found=None if found is _UNSET else found, expected=None if expected is _UNSET else expected,
                   file=file, unit_name=unit_name, year=year)


def internal_error(stage: str, exc: BaseException) -> Finding:
    """The finding for a file whose handling failed in our own code: the run goes on."""
    return finding("file.internal_error", "文件", case="stage", stage=stage, found=type(exc).__name__)
