"""The finding-rule registry: every rule the code raises is registered once, with a severity,
a label and (where the message does not say it) advice."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from pipeline.checking.findings import RULE_LABELS, RULE_PATTERNS, RULES, SEVERITIES, finding, is_registered, rule_label
from schemas.sheets import CHECK_FINDINGS

ROOT = Path(__file__).resolve().parent.parent
SOURCES = sorted((ROOT / "pipeline").rglob("*.py")) + sorted((ROOT / "schemas").rglob("*.py"))


def _example(node: ast.AST) -> str | None:
    """A rule id written in code: the literal, or an f-string with each field filled in."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    if isinstance(node, ast.JoinedStr):
        return "".join(v.value if isinstance(v, ast.Constant) else "1" for v in node.values)
    return None


def rules_in_code() -> dict[str, str]:
    """rule id → where it is raised, for every Finding(…) / finding(…) / rule=… in the code."""
    found: dict[str, str] = {}
    for path in SOURCES:
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not isinstance(node, ast.Call):
                continue
            name = getattr(node.func, "id", getattr(node.func, "attr", ""))
            candidates = [k.value for k in node.keywords if k.arg == "rule"]
            if name == "Finding" and len(node.args) > 1:
                candidates.append(node.args[1])
            if name == "finding" and node.args:
                candidates.append(node.args[0])
            for candidate in candidates:
                rule = _example(candidate)
                if rule and "." in rule:
                    found[rule] = f"{path.relative_to(ROOT)}:{node.lineno}"
    return found


def test_the_scan_sees_the_rules_it_should():
    rules = rules_in_code()
    assert {"sheet.missing", "data.line_shifted", "file.copied", "identity.r1", "scores.total_mismatch"} <= set(rules)
    assert len(rules) >= 40


def test_every_rule_raised_in_code_is_registered():
    missing = {rule: where for rule, where in rules_in_code().items() if not is_registered(rule)}
    assert not missing


def test_every_check_finding_is_registered():
    assert all(is_registered(rule) for rule, _ in CHECK_FINDINGS.values())


@pytest.mark.parametrize("rule", sorted(RULES))
def test_every_registered_rule_has_a_severity_and_a_label(rule):
    entry = RULES[rule]
    assert entry.id == rule and entry.severity in SEVERITIES
    assert entry.label and RULE_LABELS[rule] == entry.label == rule_label(rule)
    assert rule_label(rule) != rule


def test_families_have_labels():
    for _, severity, label in RULE_PATTERNS:
        assert severity in SEVERITIES and label
    assert rule_label("identity.r16") == "勾稽关系不符（行次16）"


def test_finding_takes_severity_and_advice_from_the_registry():
    made = finding("sheet.missing", "工作簿", "缺少“数据表”工作表。")
    assert made.severity == RULES["sheet.missing"].severity
    assert made.message.endswith(RULES["sheet.missing"].advice)
    with pytest.raises(ValueError):
        finding("sheet.missing", "工作簿", "x", severity="warning")  # not a rule whose severity varies
    with pytest.raises(KeyError):
        finding("no.such_rule", "工作簿", "x")
