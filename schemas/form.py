"""The submission form as the bureau prints it: sheet names, labels and 行次.

This is the one place the layout of the workbook is written down. The reader, the
validation rules, the template writer and the sample generator all import it.
"""

from __future__ import annotations

from dataclasses import dataclass

SHEET_INFO = "基本信息"
SHEET_DATA = "数据表"
SHEET_SCORES = "评分表"
REQUIRED_SHEETS = (SHEET_INFO, SHEET_DATA, SHEET_SCORES)

UNIT_TYPES = ("行政单位", "参公事业单位", "事业单位", "乡镇")

ROSTER_COLUMNS = ("单位编码", "单位名称", "主管部门", "单位类型")
ROSTER_OPTIONAL = ("地区",)


@dataclass(frozen=True)
class InfoField:
    label: str
    key: str
    required: bool
    kind: str  # text | year | date | int


INFO_FIELDS: tuple[InfoField, ...] = (
    InfoField("单位名称", "unit_name", True, "text"),
    InfoField("单位编码", "unit_code", False, "text"),
    InfoField("主管部门", "department", False, "text"),
    InfoField("单位类型", "unit_type", False, "text"),
    InfoField("评价年度", "year", True, "year"),
    InfoField("填报日期", "filed_on", False, "date"),
    InfoField("联系人", "contact", False, "text"),
    InfoField("联系电话", "phone", False, "text"),
    InfoField("内设机构数", "offices", False, "int"),
    InfoField("编制数", "establishment", False, "int"),
    InfoField("在职人数", "staff", False, "int"),
    InfoField("退休人数", "retired", False, "int"),
)


@dataclass(frozen=True)
class DataLine:
    line: int  # 行次
    name: str  # what the figure is called in code: a metric's parameter, a unit_scores column
    label: str  # 项目, as printed (with its 其中： prefix)
    required: bool
    is_count: bool = False  # counts are never scaled by a 万元 form

    @property
    def key(self) -> str:
        return f"r{self.line}"


DATA_LINES: tuple[DataLine, ...] = (
    DataLine(1, "opening_income", "年初收入预算数", True),
    DataLine(2, "opening_income_general", "其中：一般公共预算财政拨款收入", True),
    DataLine(3, "opening_income_fund", "政府性基金预算财政拨款收入", True),
    DataLine(4, "income_final", "收入决算数", True),
    DataLine(5, "income_general", "其中：一般公共预算财政拨款收入", True),
    DataLine(6, "income_fund", "政府性基金预算财政拨款收入", True),
    DataLine(7, "income_other", "其他收入", True),
    DataLine(8, "carried_in", "上年结转和结余", True),
    DataLine(9, "opening_budget", "年初支出预算数", True),
    DataLine(10, "basic_budget", "其中：基本支出", True),
    DataLine(11, "project_budget", "项目支出", True),
    DataLine(12, "budget_issued", "财政下达预算数", True),
    DataLine(13, "spent", "支出决算数", True),
    DataLine(14, "basic_spent", "其中：基本支出", True),
    DataLine(15, "project_spent", "项目支出", True),
    DataLine(16, "carryover", "结转和结余", True),
    DataLine(17, "public_budget", "公用经费预算数", True),
    DataLine(18, "public_spent", "公用经费实际支出数", True),
    DataLine(19, "sangong_budget", "三公经费预算数", True),
    DataLine(20, "sangong_spent", "三公经费实际支出数", True),
    DataLine(21, "sangong_abroad", "其中：因公出国（境）费", False),
    DataLine(22, "sangong_vehicles", "公务用车购置及运行维护费", False),
    DataLine(23, "sangong_reception", "公务接待费", False),
    DataLine(24, "additions", "追加预算笔数（笔）", True, is_count=True),
    DataLine(25, "new_projects", "新增项目数（个）", True, is_count=True),
)
DATA_LINE_BY_NUMBER = {d.line: d for d in DATA_LINES}
DATA_LINE_BY_NAME = {d.name: d for d in DATA_LINES}

DATA_HEADER = ("项目", "行次", "金额")
SCORE_HEADER = ("代码", "一级指标", "二级指标", "三级指标", "分值", "自评得分", "评分说明")
SCORE_TOTAL_LABEL = "合计"
SCORE_TOTAL_LABELS = frozenset({SCORE_TOTAL_LABEL, "总计", "合计得分", "总分"})
# 数据表 column headers that hold amounts; when a header has several, the evaluation year's
# is the one named 本年… or with the year (2024年), the rest are other years or leftovers.
CURRENT_YEAR_COLUMN_LABELS = frozenset({"本年数", "本年", "本年金额", "本期数", "本年决算数", "本年度"})
AMOUNT_COLUMN_LABELS = CURRENT_YEAR_COLUMN_LABELS | {"金额", "上年数", "上年", "上年金额", "上期数", "上年度"}
SCORE_GRADE_LABEL = "自评等级"
WANYUAN_MARK = "金额单位：万元"

GRADES = ("优", "良", "中", "差")
GRADE_ALIASES = {"优秀": "优", "良好": "良", "中等": "中", "较差": "差"}

# 绩效目标表 (contract section 9): targets set at budget time against what was achieved.
SHEET_TARGETS = "绩效目标表"
TARGET_HEADER = ("一级指标", "二级指标", "三级指标", "指标方向", "年度指标值", "计量单位",
                 "实际完成值", "权重", "偏差原因")
# column label → key of a target row
TARGET_COLUMN_KEYS = {
    "一级指标": "kind", "二级指标": "category", "三级指标": "name", "指标方向": "direction",
    "年度指标值": "target", "计量单位": "unit", "实际完成值": "actual", "权重": "weight",
    "偏差原因": "reason",
}
TARGET_KINDS = ("产出指标", "效益指标", "满意度指标")
TARGET_CATEGORIES = ("数量指标", "质量指标", "时效指标", "成本指标", "经济效益指标", "社会效益指标",
                     "生态效益指标", "可持续影响指标", "服务对象满意度指标")
# 指标方向 as written → the direction it means
TARGET_DIRECTIONS = {
    "≥": "≥", ">=": "≥", "不低于": "≥", "大于等于": "≥",
    "≤": "≤", "<=": "≤", "不高于": "≤", "不超过": "≤", "小于等于": "≤",
    "=": "=", "==": "=", "等于": "=",
    "定性": "定性",
}
QUALITATIVE = "定性"
# Other headings units give the same columns (last year's form, the province's form).
TARGET_COLUMN_ALIASES = {
    "指标名称": "三级指标", "绩效指标": "三级指标", "方向": "指标方向", "指标值": "年度指标值",
    "年度目标值": "年度指标值", "目标值": "年度指标值", "单位": "计量单位", "完成值": "实际完成值",
    "实际值": "实际完成值", "全年实际完成值": "实际完成值", "偏差原因分析": "偏差原因",
    "未完成原因": "偏差原因", "偏差原因分析及改进措施": "偏差原因",
}
