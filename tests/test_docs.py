"""docs/metrics.md agrees with the metric code and the framework files."""

from __future__ import annotations

import inspect
from pathlib import Path

from pipeline.scoring import metrics
from pipeline.scoring.framework import RULES, available_years, load_framework

DOC = Path(__file__).resolve().parent.parent / "docs" / "metrics.md"


def table_after(heading: str) -> list[list[str]]:
    """The rows of the first markdown table below a heading."""
    lines = DOC.read_text(encoding="utf-8").splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("#") and heading in line)
    rows = []
    for line in lines[start + 1:]:
        if line.startswith("#"):
            break
        if line.startswith("|") and not set(line) <= set("|- "):
            rows.append([cell.strip() for cell in line.strip().strip("|").split("|")])
    return rows[1:]  # without the header


def first_line(func) -> str:
    return " ".join(inspect.getdoc(func).split())


def test_every_metric_in_the_doc_is_the_code_definition():
    documented = {row[1].strip("`"): row[2] for row in table_after("一、指标口径")}
    for name, definition in documented.items():
        assert first_line(getattr(metrics, name)).startswith(definition), name
    public = {n for n, f in vars(metrics).items()
              if inspect.isfunction(f) and not n.startswith("_") and f.__module__ == metrics.__name__}
    assert public - {"safe_ratio"} == set(documented)


def test_every_rule_type_in_the_doc_is_the_code_definition():
    documented = {row[0].strip("`"): row[1] for row in table_after("二、复核规则类型")}
    assert set(documented) == set(RULES)
    for name, definition in documented.items():
        assert first_line(RULES[name]) == definition


def _params(params) -> str:
    return ", ".join(f"{k}={v}" for k, v in params.items())


def test_framework_table_matches_every_year():
    for year in available_years():
        heading = next(line for line in DOC.read_text(encoding="utf-8").splitlines()
                       if line.startswith("#") and "评分框架" in line and str(year) in line)
        documented = table_after(heading)
        framework = load_framework(year)
        actual = [[i.code, i.level1, i.level2, i.level3, f"{i.max_score:g}", i.rule, _params(i.params)]
                  for i in framework.indicators]
        assert actual == documented, year


def test_deadlines_and_grade_bands_match():
    deadlines = {int(y): d for y, d in table_after("五、填报截止日期")}
    assert deadlines == {y: load_framework(y).deadline.isoformat() for y in available_years()}
    for year in available_years():
        assert dict(load_framework(year).grades) == {"优": 90, "良": 80, "中": 60, "差": 0}
