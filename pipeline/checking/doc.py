"""docs/rules.md, written from the finding-rule registry (`python -m pipeline docs`).

Every row is one entry of RULES or RULE_PATTERNS (pipeline/checking/findings.py): its id,
severity, label, message template (and named cases) and advice. tests/test_finding_rules.py
checks that the committed page is what this module writes.
"""

from __future__ import annotations

from pipeline.checking.findings import RULE_PATTERNS, RULES, SEVERITY_LABELS, Rule
from pipeline.settings import PROJECT_ROOT

DOC_PATH = PROJECT_ROOT / "docs" / "rules.md"

_INTRO = """\
# 问题规则（Finding rules）

本页由 `python -m pipeline docs` 从问题规则登记表（`pipeline/checking/findings.py` 的 `RULES` 和
`RULE_PATTERNS`）生成，请勿手工修改；`tests/test_finding_rules.py` 核对提交的本页与生成结果完全一致。
校验、复核和自评报告核对给出的每一条问题都属于下表中的一条规则，问题的说明按该规则的消息模板写成。

严重程度：“致命”的文件被隔离，不入库；“错误”的文件入库，但单位须改正后重新报送（退回修改）；
“提示”只供复核人员参考。严重程度标“（视情况）”的规则，按所涉单元格是否必填等情况给出不同的严重程度。

消息模板中花括号内是填入的值：`{location}` 是问题所在的工作表和单元格，`{found}` 是发现的值，
`{expected}` 是应有的值（它们也是问题清单中的“位置”“发现值”“应为”三列），其余是该规则自己的值；
`{advice}` 是处理建议在消息中的位置，模板中没有 `{advice}` 的，处理建议接在消息之后。
一条规则有几种写法的，另列各情形（`情形名：模板`）。
"""

_FAMILIES_NOTE = """\
以下规则按行次或字段成组，编号是一个正则表达式（如 `identity.r13` 是数据表第 13 行的勾稽关系），
名称中的 `{0}` 是编号中的行次。
"""


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("<", "\\<").replace("\n", " ")


def _code(text: str) -> str:
    return f"`{_cell(text)}`"


def _severity(rule: Rule) -> str:
    return SEVERITY_LABELS[rule.severity] + ("（视情况）" if rule.varies else "")


def _templates(rule: Rule) -> str:
    lines = [_code(rule.message)] + [f"{name}：{_code(text)}" for name, text in rule.cases.items()]
    return "<br>".join(lines)


def _row(rule: Rule) -> str:
    return (f"| {_code(rule.id)} | {_severity(rule)} | {_cell(rule.label)} | {_templates(rule)} | "
            f"{_cell(rule.advice) or '—'} |")


_HEADER = ["| 规则 | 严重程度 | 名称 | 消息模板 | 处理建议 |", "|---|---|---|---|---|"]


def render() -> str:
    lines = [_INTRO, "## 一、规则", "", *_HEADER]
    lines += [_row(rule) for rule in sorted(RULES.values(), key=lambda r: r.id)]
    lines += ["", "## 二、成组的规则", "", _FAMILIES_NOTE, *_HEADER]
    lines += [_row(rule) for rule in RULE_PATTERNS]
    return "\n".join(lines) + "\n"
