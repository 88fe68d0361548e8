"""The finding-rule registry: every rule the code raises is registered once, with a severity,
a label, a message template and advice; every raise site gives exactly the fields its
template needs; the rules page in docs is generated from the registry."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from pipeline.checking import doc as rules_doc
from pipeline.checking.findings import (
    ADVICE_FIELD, COLUMN_FIELDS, RULE_LABELS, RULE_PATTERNS, RULES, SEVERITIES, Rule, finding, internal_error,
    is_registered, rule_entry, rule_label, template_fields,
)
from schemas.sheets import CHECK_FINDINGS
from tests.builders import County, reference_form
from tests.conftest import processed

ROOT = Path(__file__).resolve().parent.parent
SOURCES = sorted((ROOT / "pipeline").rglob("*.py")) + sorted((ROOT / "schemas").rglob("*.py"))
EVERY_RULE = [*RULES.values(), *RULE_PATTERNS]
# keyword arguments of finding() that are not template fields
CALL_OPTIONS = {"case", "severity", "file", "unit_name", "year"}


def _example(node: ast.AST) -> str | None:
    """A rule id written in code: the literal, or an f-string with each field filled in."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    if isinstance(node, ast.JoinedStr):
        return "".join(v.value if isinstance(v, ast.Constant) else "1" for v in node.values)
    return None


# An f-string rule id whose example (each field filled with 1) is no registered id: the ids it makes.
F_STRING_RULES = {
    "f'targets.{key}_not_a_number'": {"targets.target_not_a_number", "targets.actual_not_a_number"},
    "f'targets.{key}_missing'": {"targets.target_missing", "targets.actual_missing"},
}


def _rule_ids(node: ast.AST) -> set[str]:
    """The rule ids a literal or f-string in code stands for."""
    example = _example(node)
    if example is None:
        return set()
    if isinstance(node, ast.Constant) or is_registered(example):
        return {example}
    return F_STRING_RULES.get(ast.unparse(node), {example})


def _constants(tree: ast.Module) -> dict[str, ast.AST]:
    """Module-level NAME = "text" assignments."""
    return {target.id: node.value for node in tree.body if isinstance(node, ast.Assign)
            for target in node.targets if isinstance(target, ast.Name) and isinstance(node.value, ast.Constant)}


def _call_name(node: ast.Call) -> str:
    return getattr(node.func, "id", getattr(node.func, "attr", ""))


def _calls(path: Path):
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Call):
            yield node


def rules_in_code() -> dict[str, str]:
    """rule id → where it is raised, for every Finding(…) / finding(…) / rule=… in the code."""
    found: dict[str, str] = {}
    for path in SOURCES:
        for node in _calls(path):
            name = _call_name(node)
            candidates = [k.value for k in node.keywords if k.arg == "rule"]
            if name == "Finding" and len(node.args) > 1:
                candidates.append(node.args[1])
            if name == "finding" and node.args:
                candidates.append(node.args[0])
            for candidate in candidates:
                for rule in _rule_ids(candidate):
                    if "." in rule:
                        found[rule] = f"{path.relative_to(ROOT)}:{node.lineno}"
    return found


def _cases(node: ast.Call) -> set[str | None]:
    """The case names a call may pass: a literal, either branch of `a if … else b`, or none."""
    given = next((k.value for k in node.keywords if k.arg == "case"), None)
    if given is None:
        return {None}
    branches = [given.body, given.orelse] if isinstance(given, ast.IfExp) else [given]
    assert all(isinstance(b, ast.Constant) for b in branches), ast.unparse(given)
    return {b.value for b in branches}


def _rule_arguments(function: str, index: int, keyword: str, default: str | None = None) -> set[str]:
    """The rule ids the code passes to function (positionally at index or as keyword)."""
    rules = {default} if default else set()
    for path in SOURCES:
        for node in _calls(path):
            if _call_name(node) != function:
                continue
            given = [k.value for k in node.keywords if k.arg == keyword]
            given += node.args[index:index + 1]
            for node_given in given:
                rules.update(_rule_ids(node_given))
    return rules


# A raise site whose rule id is a variable: the rules that variable can hold.
VARIABLE_RULES = {
    # parse._convert(cell, parser, severity, rule, what, findings)
    ("pipeline/reading/parse.py", "rule"): lambda: _rule_arguments("_convert", 3, "rule"),
    # a WorkbookReadError's rule, by default file.unreadable
    ("pipeline/run.py", "rule"): lambda: _rule_arguments("WorkbookReadError", 1, "rule", "file.unreadable"),
    # a pandera check's rule: CHECK_FINDINGS, checked with its fields on its own (below)
    ("pipeline/checking/validate.py", "rule"): lambda: {rule for rule, _, _ in CHECK_FINDINGS.values()},
}


def raise_sites() -> list[tuple[str, set[str], set[str | None], set[str], bool]]:
    """(where, rule ids, cases, keyword names, passes **fields) for every finding(…) in the code."""
    sites = []
    for path in SOURCES:
        relative = path.relative_to(ROOT).as_posix()
        constants = _constants(ast.parse(path.read_text(encoding="utf-8")))
        for node in _calls(path):
            if _call_name(node) != "finding" or not node.args:
                continue
            where = f"{relative}:{node.lineno}"
            first = node.args[0]
            if isinstance(first, ast.Name) and first.id in constants:
                first = constants[first.id]
            if isinstance(first, ast.Name):
                assert (relative, first.id) in VARIABLE_RULES, f"{where}: add the rules {first.id} can hold"
                rules = VARIABLE_RULES[(relative, first.id)]()
            else:
                rules = _rule_ids(first)
                assert rules, where
            keywords = {k.arg for k in node.keywords if k.arg is not None}
            spread = any(k.arg is None for k in node.keywords)
            sites.append((where, rules, set() if spread else _cases(node), keywords, spread))
    return sites


def _missing_or_surplus(entry: Rule, case: str | None, keywords: set[str]) -> str | None:
    template = entry.template(case)
    used = template_fields(template)
    needed = used - COLUMN_FIELDS - {ADVICE_FIELD}
    given = keywords - CALL_OPTIONS - COLUMN_FIELDS
    columns_missing = (used & {"found", "expected"}) - keywords
    if needed != given or columns_missing:
        return (f"{entry.id} case {case}: missing {sorted((needed - given) | columns_missing)}, "
                f"surplus {sorted(given - needed)}")
    return None


def test_the_scan_sees_the_rules_it_should():
    rules = rules_in_code()
    assert {"sheet.missing", "data.line_shifted", "file.copied", "identity.r1", "scores.total_mismatch"} <= set(rules)
    assert len(rules) >= 40
    sites = raise_sites()
    assert len(sites) >= 60
    assert {"data.not_a_number", "scores.grade_invalid", "info.1_invalid"} <= VARIABLE_RULES[
        ("pipeline/reading/parse.py", "rule")]()
    assert {"file.unreadable", "file.encrypted", "file.too_large", "file.internal_error"} <= VARIABLE_RULES[
        ("pipeline/run.py", "rule")]()


def test_every_rule_raised_in_code_is_registered():
    missing = {rule: where for rule, where in rules_in_code().items() if not is_registered(rule)}
    assert not missing


def test_no_finding_is_built_by_hand_in_the_pipeline():
    by_hand = [f"{path.relative_to(ROOT)}:{node.lineno}" for path in SOURCES for node in _calls(path)
               if _call_name(node) == "Finding"]
    assert [where.split(":")[0] for where in by_hand] == ["pipeline/checking/findings.py"], by_hand  # finding()


def test_every_check_finding_is_registered_and_gives_its_fields():
    for (schema, column, check), (rule, case, fields) in CHECK_FINDINGS.items():
        problem = _missing_or_surplus(rule_entry(rule), case, set(fields) | {"found"})
        assert problem is None, (schema, column, check, problem)
    # a check without an entry falls back to the schema.* family with these fields
    assert _missing_or_surplus(rule_entry("schema.isin"), None, {"column", "check", "found"}) is None


def test_every_raise_site_gives_exactly_the_fields_of_its_template():
    problems = []
    for where, rules, cases, keywords, spread in raise_sites():
        if spread:  # validate.py: the fields come from CHECK_FINDINGS (test above)
            assert where.startswith("pipeline/checking/validate.py"), where
            continue
        for rule in rules:
            entry = rule_entry(rule)
            for case in cases:
                problem = _missing_or_surplus(entry, case, keywords)
                if problem:
                    problems.append(f"{where}: {problem}")
    assert not problems


@pytest.mark.parametrize("entry", EVERY_RULE, ids=lambda r: r.id)
def test_every_rule_has_a_severity_a_label_and_a_template_that_formats(entry: Rule):
    assert entry.severity in SEVERITIES and entry.label and entry.message
    for case, template in entry.templates().items():
        fields = template_fields(template)
        # a finding's file / unit / year are columns tied later, never words of the message
        assert not fields & {"file", "unit_name", "year", "case", "severity"}, (case, fields)
        if ADVICE_FIELD in fields:
            assert entry.advice, f"{entry.id} places an advice it does not have"
        values = {name: 1.5 for name in fields - COLUMN_FIELDS - {ADVICE_FIELD}}
        made = finding(_an_id(entry), "数据表!C9", case=case, found="甲", expected="乙", **values)
        assert made.severity == entry.severity and made.rule == _an_id(entry)
        if entry.advice:
            assert made.message.count(entry.advice) == 1
        assert "{" not in made.message and "None" not in made.message


def _an_id(entry: Rule) -> str:
    """A rule id of the entry: itself, or one member of a family."""
    examples = {r"identity\.r(\d+)": "identity.r13", r"report\.mismatch\..+": "report.mismatch.execution_rate",
                r"info\.\w+_missing": "info.unit_name_missing", r"info\.\w+_invalid": "info.year_invalid",
                r"schema\.\w+": "schema.isin"}
    return examples.get(entry.id, entry.id)


@pytest.mark.parametrize("rule", sorted(RULES))
def test_every_registered_rule_is_labelled(rule):
    entry = RULES[rule]
    assert entry.id == rule
    assert RULE_LABELS[rule] == entry.label == rule_label(rule)
    assert rule_label(rule) != rule


def test_families_have_labels():
    assert all(_an_id(family) != family.id and rule_entry(_an_id(family)) is family for family in RULE_PATTERNS)
    assert rule_label("identity.r16") == "勾稽关系不符（行次16）"


def test_finding_formats_the_registry_template_and_appends_the_advice():
    made = finding("sheet.missing", "工作簿", found="Sheet1", expected="数据表")
    assert made.severity == RULES["sheet.missing"].severity
    assert made.message == "工作簿缺少“数据表”工作表，无法读取。" + RULES["sheet.missing"].advice
    placed = finding("data.amount_missing", "数据表!C16", what="行次13“支出决算数”", expected="金额")
    assert placed.message == "数据表!C16（行次13“支出决算数”）未填写，必填金额不能为空；金额为零请填0。"
    case = finding("roster.unknown_unit", "基本信息!B3", case="near_misses", near_misses="甲局、乙局",
                   found="甲司", expected="甲局")
    assert "名录中相近的单位：甲局、乙局。" in case.message
    assert internal_error("校验数据", KeyError("x")).message.startswith("校验数据时程序出错，本文件未能处理。")


def test_a_wrong_call_fails_where_it_is_made():
    with pytest.raises(KeyError, match="data.line_missing"):  # a field missing
        finding("data.line_missing", "数据表", line=13, expected="行次13")
    with pytest.raises(KeyError, match="data.line_missing"):  # a field too many
        finding("data.line_missing", "数据表", line=13, label="支出决算数", unit="元", expected="行次13")
    with pytest.raises(KeyError, match="file.misplaced"):  # found is in the template but not given
        finding("file.misplaced", "文件")
    with pytest.raises(KeyError, match="roster.unknown_unit"):  # no such case
        finding("roster.unknown_unit", "基本信息!B3", case="nearby", found="甲司")
    with pytest.raises(KeyError, match="no.such_rule"):
        finding("no.such_rule", "工作簿")
    with pytest.raises(ValueError):  # not a rule whose severity varies
        finding("sheet.missing", "工作簿", severity="warning", found="", expected="数据表")


def test_a_quoted_value_is_cut_short_in_the_message_as_in_the_column():
    made = finding("data.label_mismatch", "数据表!A9", line=6, found="长" * 5000, expected="公用经费")
    assert made.found in made.message and len(made.message) < 400


def test_real_findings_name_the_cell_and_the_value_found(county: County):
    county.workbook("bad.xlsx", reference_form(data={13: "见附表", 6: -100.0, 7: 809.57}, scores={"B1": 3},
                                               total=97, grade="良"))
    result = processed(county.raw)
    findings = {f.rule: f for s in result.submissions for f in s.findings}
    amount = findings["data.not_a_number"]  # parse: a required amount that is text
    assert amount.location == "数据表!C16" and amount.found == "见附表"
    assert amount.message == "数据表!C16的行次13“支出决算数”“见附表”不是数字，请填写正确的数值。"
    negative = findings["data.negative"]  # a pandera check
    assert negative.message == f"{negative.location} 金额“-100”为负数，金额不能小于0，请核对。"
    above = findings["scores.above_max"]
    assert above.location.startswith("评分表!F") and f"{above.location} 自评得分3超过" in above.message
    grade = findings["scores.grade_mismatch"]  # a cross-field rule
    assert grade.message.startswith(f"{grade.location} 自评等级填为“良”") and "“优”" in grade.message


def test_committed_rules_page_is_the_generated_one():
    committed = rules_doc.DOC_PATH.read_text(encoding="utf-8")
    assert committed == rules_doc.render(), "docs/rules.md 已过时：运行 python -m pipeline docs"


def test_rules_page_lists_every_rule_with_its_template():
    text = rules_doc.render()
    for entry in EVERY_RULE:
        row = next(line for line in text.splitlines() if line.startswith(f"| `{entry.id}` |"))
        assert f"| {entry.label} |" in row and entry.message.replace("|", "\\|") in row
        assert all(template.replace("|", "\\|") in row for template in entry.cases.values())
