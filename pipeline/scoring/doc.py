"""docs/metrics.md, written from the code and the framework files (`python -m pipeline docs`).

Nothing in that page is typed by hand: the metrics and shapes come with their docstrings
(their 口径), each year's framework from its file. tests/test_docs.py checks that the
committed page is what this module writes.
"""

from __future__ import annotations

from pathlib import Path

from pipeline.scoring import metrics
from pipeline.scoring.framework import (
    FORMULA, RULES, SHAPES, Framework, IndicatorSpec, available_years, grade_rule_text,
    load_framework, ordered_bands,
)
from pipeline.settings import FRAMEWORKS_DIR, PROJECT_ROOT

DOC_PATH = PROJECT_ROOT / "docs" / "metrics.md"
EXAMPLES_DIR = FRAMEWORKS_DIR / "examples"

_INTRO = """\
# 指标口径与评分规则（Metrics and scoring rules）

本页由 `python -m pipeline docs` 从代码（`pipeline/scoring/metrics.py`、`pipeline/scoring/framework.py`）
和评分框架文件（`schemas/frameworks/<年度>.toml`）生成，请勿手工修改；`tests/test_docs.py` 核对
提交的本页与生成结果完全一致，所以本页与实际计算始终一致。

金额单位均为元（数据表按“金额单位：万元”填报的，入库时乘以 10 000 换算为元）；
比率以小数保存（0.9972 即 99.72%），页面和导出中显示为百分数。
"""

_METRICS_NOTE = """\
分母为 0 时比率为“不适用”（空值），既不是 0%，也不会报错。`输入` 一栏是指标取用的数字：
`r13` 是数据表第 13 行，`staff`、`establishment` 是基本信息的在职人数、编制数，
`previous.r19` 是同一单位上一年度（同一次构建中已入库的）数据表第 19 行。
评分框架中的公式指标用 `metric = "函数名"` 指定其中一个。
"""

_METRICS_AFTER = """\
全县（或筛选范围内）合计的支出率用同一个函数计算：各单位支出决算数之和 / 各单位财政下达预算数之和，
而不是各单位支出率的平均数。

不进入评分、只在看板和汇总中使用的口径：

| 指标 | 函数 | 口径 |
|---|---|---|
"""

_SHAPES_NOTE = """\
公式指标（`metric` + `shape`，不写 `rule` 或写 `rule = "formula"`）用下列计分方式把指标值 m 换算为得分，
参数写在同一个 `[[indicator]]` 中。比率参数写成小数（`threshold = 1.0` 即 100%），按十进制精确比较
（95% 恰好比 100% 低一个 5 个百分点的台阶）。得分不低于 0、不高于分值，四舍五入（远离零）保留两位小数。
"""

_NOT_APPLICABLE = """\
指标不适用（分母为 0，或没有同一单位的上年数据）时：框架写 `when_not_applicable = "full"` 的得满分，
否则复核得分取自评得分，并给出“指标无法按公式复核”的提示。没有预算却发生了支出（分母为 0、分子不为 0）
按超出无穷大计：上限类计分得 0 分，按比例计分得满分。单位未填写指标所需的数字（如基本信息的编制数）时，
复核得分取自评得分并给出提示。
"""

_RULES_NOTE = """\
不能用数字复算的指标写 `rule = "judged"`（定性评判）：复核得分等于自评得分，但不超过分值、不低于 0；
得分低于分值却没有填写评分说明（扣分原因）的，给出提示。其他规则类型以同样方式登记后即可在框架中使用。
"""

_TOTALS = """\
每个指标得分先按“四舍五入（远离零）”保留两位小数，再加总为复核总分；复核总分按当年框架的等级标准定复核等级。
自评总分比复核总分高出 0.5 分以上的，给出提示，并列出造成差异的指标。

各指标分值合计必须为 100；框架写错（未定义的 metric、shape 或规则，缺少参数，分值合计不为 100）时，
流水线拒绝该评分框架，用一行说明文件和指标，并以状态 2 退出。
一个年度的框架可以写 `extends = "2023.toml"` 沿用另一个文件，只写不同之处：同代码的 `[[indicator]]`
覆盖原指标的字段，新代码追加在后，`remove = true` 删除该指标。
早先写法的框架文件（`rule = "proportional"`、`"deduction"`、`"ceiling"` 加行次参数）仍可使用，
按对应的指标口径和计分方式计算，结果相同。
"""


def _cell(text: str) -> str:
    return text.replace("|", "\\|")


def _param(value: object) -> str:
    if isinstance(value, tuple):
        return "[" + ", ".join("[" + ", ".join(str(v) for v in pair) + "]" for pair in value) + "]"
    return str(value)


def method_text(spec: IndicatorSpec) -> str:
    """How one indicator is scored, in the framework's own terms."""
    if spec.rule != FORMULA:
        return f"{spec.rule} " + ", ".join(f"{k}={_param(v)}" for k, v in spec.params.items()) if spec.params else spec.rule
    params = ", ".join(f"{k}={_param(v)}" for k, v in spec.params.items())
    extra = "; 不适用时满分" if spec.when_not_applicable == "full" else ""
    return f"`{spec.metric}` · `{spec.shape}`" + (f"（{params}）" if params else "") + extra


def framework_table(framework: Framework) -> list[str]:
    lines = ["| 代码 | 一级指标 | 二级指标 | 三级指标 | 分值 | 复核 |", "|---|---|---|---|---|---|"]
    for i in framework.indicators:
        lines.append(f"| {i.code} | {i.level1} | {i.level2} | {_cell(i.level3)} | {i.max_score:g} | {method_text(i)} |")
    return lines


def _signature(framework: Framework) -> tuple:
    return (framework.indicators, tuple(sorted(framework.grades.items())))


def framework_sections(frameworks: list[Framework], heading: str) -> list[str]:
    """One table per distinct framework, the years that share it named together."""
    groups: list[tuple[list[int], Framework]] = []
    for framework in frameworks:
        for years, first in groups:
            if _signature(first) == _signature(framework):
                years.append(framework.year)
                break
        else:
            groups.append(([framework.year], framework))
    out = []
    for years, framework in groups:
        out += ["", f"### {heading}{'、'.join(str(y) for y in years)} 年度", ""]
        out += framework_table(framework)
        out += ["", f"等级：{grade_rule_text(framework.grades)}。"]
    return out


def example_frameworks() -> list[tuple[str, list[Framework]]]:
    if not EXAMPLES_DIR.is_dir():
        return []
    return [(folder.name, [load_framework(y, folder) for y in available_years(folder)])
            for folder in sorted(p for p in EXAMPLES_DIR.iterdir() if p.is_dir())]


def render(frameworks_dir: Path = FRAMEWORKS_DIR) -> str:
    years = available_years(frameworks_dir)
    frameworks = [load_framework(y, frameworks_dir) for y in years]
    lines = [_INTRO, "## 一、指标口径", "", _METRICS_NOTE,
             "| 指标 | 函数 | 输入 | 口径 |", "|---|---|---|---|"]
    for name, m in metrics.METRICS.items():
        lines.append(f"| {m.label} | `{name}` | {', '.join(m.inputs)} | {_cell(m.definition)} |")
    lines += ["", _METRICS_AFTER.rstrip("\n")]
    for func in (metrics.basic_share,):
        lines.append(f"| {func.__doc__.split(' = ')[0]} | `{func.__name__}` | {_cell(' '.join(func.__doc__.split()))} |")
    lines += ["", "## 二、计分方式（shape）", "", _SHAPES_NOTE, "| 计分方式 | 参数 | 定义 |", "|---|---|---|"]
    for name, s in SHAPES.items():
        lines.append(f"| `{name}` | {', '.join(s.params) or '—'} | {_cell(s.definition)} |")
    lines += ["", _NOT_APPLICABLE, "## 三、其他复核规则", "", _RULES_NOTE, "| 规则 | 说明 |", "|---|---|"]
    for name, func in RULES.items():
        if name != FORMULA:
            lines.append(f"| `{name}` | {_cell(' '.join((func.__doc__ or '').split()))} |")
    lines += ["", _TOTALS, "## 四、各年度评分框架"]
    lines += framework_sections(frameworks, "")
    lines += ["", "## 五、等级标准", "", "| 评价年度 | " + " | ".join(n for n, _, _ in ordered_bands(frameworks[0].grades)) + " |",
              "|---|" + "---|" * len(frameworks[0].grades)]
    for f in frameworks:
        lines.append(f"| {f.year} | " + " | ".join(f"≥ {lo:g}" for _, lo, _ in ordered_bands(f.grades)) + " |")
    lines += ["", "等级按总分所在区间确定：达到某一等级的下限、未达到上一等级的下限。", "",
              "## 六、填报截止日期与通知", "", "| 评价年度 | 截止日期 | 通知文号 | 绩效目标表 |", "|---|---|---|---|"]
    for f in frameworks:
        lines.append(f"| {f.year} | {f.deadline.isoformat()} | {f.notice or '—'} | {f.targets_sheet} |")
    lines += ["", "填报日期晚于截止日期的，给出“逾期报送”提示。"]
    examples = example_frameworks()
    if examples:
        lines += ["", "## 七、示例评分框架（schemas/frameworks/examples/）", "",
                  "其他县常用的框架写法，可整个文件夹复制后修改，用 `PERF_FRAMEWORKS=<文件夹>` 启用。"]
        for name, group in examples:
            lines += framework_sections(group, f"`{name}`：")
    return "\n".join(lines).rstrip("\n") + "\n"


def write(path: Path = DOC_PATH) -> Path:
    path.write_text(render(), encoding="utf-8")
    return path
