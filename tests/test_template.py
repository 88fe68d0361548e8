"""The blank template: sheets, merged level cells, validations, the 合计 formula, 填表说明."""

from __future__ import annotations


import openpyxl
import pytest

from pipeline.scoring.framework import describe, grade_rule_words, load_framework, read_framework_file
from pipeline.settings import FRAMEWORKS_DIR
from pipeline.forms.template import write_template
from schemas.form import DATA_LINES, INFO_FIELDS, SCORE_HEADER

YEARS = sorted(int(p.stem) for p in FRAMEWORKS_DIR.glob("*.toml") if p.stem.isdigit())


def framework(year):
    return read_framework_file(FRAMEWORKS_DIR / f"{year}.toml")


@pytest.fixture(scope="module", params=YEARS)
def template(request, tmp_path_factory):
    year = request.param
    path = write_template(year, tmp_path_factory.mktemp("template") / f"绩效自评表_{year}.xlsx")
    return year, path, openpyxl.load_workbook(path)


def score_rows(ws):
    """1-based row of each indicator code under the 代码 header."""
    header = next(r for r in range(1, ws.max_row + 1) if ws.cell(r, 1).value == "代码")
    assert tuple(ws.cell(header, c).value for c in range(1, 8)) == SCORE_HEADER
    rows = {}
    for r in range(header + 1, ws.max_row + 1):
        code = ws.cell(r, 1).value
        if code in ("合计", "自评等级"):
            rows[code] = r
        elif code:
            rows[code] = r
    return rows


def validations_by_cell(ws):
    found = {}
    for dv in ws.data_validations.dataValidation:
        for rng in dv.sqref.ranges:
            found[rng.coord] = dv
    return found


def test_sheets_and_returned_path(template):
    year, path, wb = template
    assert path.exists() and path.suffix == ".xlsx"
    with_targets = framework(year).get("targets_sheet", "none") != "none"
    assert wb.sheetnames == ["填表说明", "基本信息", "数据表", "评分表"] + (["绩效目标表"] if with_targets else [])


def test_blank_except_labels_year_and_maxima(template):
    year, _, wb = template
    info = wb["基本信息"]
    labels = {info.cell(r, 1).value: info.cell(r, 2).value for r in range(1, info.max_row + 1)}
    assert [f.label for f in INFO_FIELDS] == [k for k in labels if k in {f.label for f in INFO_FIELDS}]
    assert labels["评价年度"] == year
    assert all(labels[f.label] is None for f in INFO_FIELDS if f.label != "评价年度")
    data = wb["数据表"]
    header = next(r for r in range(1, data.max_row + 1) if data.cell(r, 2).value == "行次")
    assert data.cell(header - 1, 1).value == "金额单位：元"
    lines = [(data.cell(r, 1).value, data.cell(r, 2).value, data.cell(r, 3).value)
             for r in range(header + 1, header + 26)]
    assert lines == [(d.label, d.line, None) for d in DATA_LINES]


def test_indicators_and_merged_levels(template):
    year, _, wb = template
    ws = wb["评分表"]
    rows = score_rows(ws)
    indicators = framework(year)["indicator"]
    for ind in indicators:
        r = rows[ind["code"]]
        assert ws.cell(r, 4).value == ind["level3"]
        assert ws.cell(r, 5).value == ind["max"]
        assert ws.cell(r, 6).value is None
    merged = {str(m) for m in ws.merged_cells.ranges}
    for col, key in ((2, "level1"), (3, "level2")):
        letter = "BC"[col - 2]
        runs: dict[tuple, list[int]] = {}
        for ind in indicators:
            run_key = (ind["level1"],) if key == "level1" else (ind["level1"], ind["level2"])
            runs.setdefault(run_key, []).append(rows[ind["code"]])
        for run_key, run_rows in runs.items():
            first, last = min(run_rows), max(run_rows)
            assert ws.cell(first, col).value == run_key[-1]
            if last > first:
                assert f"{letter}{first}:{letter}{last}" in merged
            else:
                assert not any(m.startswith(f"{letter}{first}:") for m in merged)


def test_score_validation_bounds_are_each_rows_max(template):
    year, _, wb = template
    ws = wb["评分表"]
    rows = score_rows(ws)
    found = validations_by_cell(ws)
    for ind in framework(year)["indicator"]:
        dv = found[f"F{rows[ind['code']]}"]
        # "between" is Excel's default operator and is left out of the file.
        assert dv.type == "decimal" and dv.operator in (None, "between")
        assert float(dv.formula1) == 0 and float(dv.formula2) == ind["max"]
        assert dv.showErrorMessage and "自评得分" in dv.error and f"{ind['max']:g}" in dv.error
    grade = found[f"F{rows['自评等级']}"]
    assert grade.type == "list" and grade.formula1.strip('"').split(",") == ["优", "良", "中", "差"]


def test_total_is_a_sum_formula_over_the_scores(template):
    year, _, wb = template
    ws = wb["评分表"]
    rows = score_rows(ws)
    codes = [i["code"] for i in framework(year)["indicator"]]
    total = rows["合计"]
    assert ws.cell(total, 5).value == 100
    assert ws.cell(total, 6).value == f"=SUM(F{rows[codes[0]]}:F{rows[codes[-1]]})"


def test_amount_cells_refuse_text_and_negatives(template):
    _, _, wb = template
    ws = wb["数据表"]
    found = validations_by_cell(ws)
    header = next(r for r in range(1, ws.max_row + 1) if ws.cell(r, 2).value == "行次")
    for d in DATA_LINES:
        dv = found[f"C{header + d.line}"]
        assert dv.type == ("whole" if d.is_count else "decimal")
        assert dv.operator == "greaterThanOrEqual" and float(dv.formula1) == 0


def test_instructions_state_deadline_identities_and_rules(template):
    year, _, wb = template
    text = "\n".join(str(c.value) for row in wb["填表说明"].iter_rows() for c in row if c.value)
    deadline = framework(year)["deadline"]
    assert f"{deadline.year}年{deadline.month}月{deadline.day}日" in text
    assert framework(year)["notice"] in text
    assert "金额单位：万元" in text and "行次" in text and "不得修改" in text
    assert "第1行 = 第2行 + 第3行" in text and "第16行 = 第4行 + 第8行 − 第13行" in text
    assert "评分说明" in text
    # the bands and every recomputed indicator as the year's framework sets them
    loaded = load_framework(year)
    assert grade_rule_words(loaded.grades) in text
    for spec in loaded.formula_indicators():
        assert describe(spec) in text and spec.level3 in text


def test_same_year_same_bytes(tmp_path):
    a = write_template(2024, tmp_path / "a.xlsx")
    b = write_template(2024, tmp_path / "b.xlsx")
    assert a.read_bytes() == b.read_bytes()
    assert write_template(2023, tmp_path / "c.xlsx").read_bytes() != a.read_bytes()
