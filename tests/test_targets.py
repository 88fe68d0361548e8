"""绩效目标表: completion per direction, weights, rounding, the two rules, reading and findings."""

from __future__ import annotations

import openpyxl
import pytest

from pipeline.forms.template import write_template
from pipeline.forms.writer import write_workbook
from pipeline.reading.grid import read_workbook
from pipeline.reading.targets import TargetRow, parse_target_number, read_targets
from pipeline.scoring import targets as t
from pipeline.scoring.framework import load_framework
from tests.builders import REFERENCE_UNIT, reference_form, unit_form
from tests.conftest import processed

TABLE = {"达成": 1.0, "基本达成": 0.8, "部分达成": 0.5, "未达成": 0.0}


def row(direction="≥", target=100.0, actual=100.0, *, kind="产出指标", weight=None, reason=None,
        actual_raw=None, name="指标") -> TargetRow:
    return TargetRow(kind=kind, category="数量指标", name=name, direction=direction, direction_raw=direction,
                     target=target, target_raw=None if target is None else str(target), unit="%",
                     actual=actual, actual_raw=actual_raw if actual_raw is not None else
                     (None if actual is None else str(actual)),
                     weight=weight, weight_raw=None if weight is None else str(weight), reason=reason,
                     row_ref="绩效目标表 第5行",
                     cells={"actual": "绩效目标表!G5", "reason": "绩效目标表!I5", "weight": "绩效目标表!H5"})


# ---------------------------------------------------------------- completion per direction

@pytest.mark.parametrize("actual, target, expected", [
    (96.5, 95, 1.0), (95, 95, 1.0), (92.3, 95, 0.9716), (0, 95, 0.0),
    (0, 0, 1.0), (5, 0, 1.0),          # a target of 0 is met by anything ≥ 0
    (2, 3, 0.6667),                     # 0.66666… rounds up at the fourth decimal
])
def test_at_least(actual, target, expected):
    assert t.completion_at_least(actual, target) == expected


@pytest.mark.parametrize("actual, target, expected", [
    (0.5, 1, 1.0), (1, 1, 1.0), (1.25, 1, 0.8), (3, 2, 0.6667), (0, 0, 1.0), (0.1, 0, 0.0),
])
def test_at_most(actual, target, expected):
    assert t.completion_at_most(actual, target) == expected


@pytest.mark.parametrize("actual, target, expected", [
    (100, 100, 1.0), (100.5, 100, 1.0), (99.5, 100, 1.0),   # within 0.5 %
    (101, 100, 0.99), (80, 100, 0.8), (250, 100, 0.0),      # never below 0
    (0.01, 0, 1.0), (0.02, 0, 0.0),                          # a target of 0: within 0.01
    (-101, -100, 0.99),
])
def test_equal(actual, target, expected):
    assert t.completion_equal(actual, target) == expected


@pytest.mark.parametrize("value, expected", [
    ("达成", 1.0), ("基本达成", 0.8), ("部分达成", 0.5), ("未达成", 0.0), (" 达 成 ", 1.0), ("完成", None), (None, None),
])
def test_qualitative_from_the_framework_table(value, expected):
    assert t.completion_qualitative(value, TABLE) == expected


def test_qualitative_table_is_the_framework_s():
    assert load_framework(2024).qualitative == TABLE
    assert t.completion_qualitative("基本达成", {"基本达成": 0.7}) == 0.7


def test_completion_rounds_half_away_from_zero():
    assert t.round_completion(0.99995) == 1.0
    assert t.round_completion(0.12345) == 0.1235
    assert t.completion_at_least(1, 3) == 0.3333


def test_completion_not_computable():
    assert t.row_completion(row(direction=None), TABLE) is None
    assert t.row_completion(row(actual=None), TABLE) is None
    assert t.row_completion(row(direction="定性", target=None, actual=None, actual_raw="还行"), TABLE) is None


# ---------------------------------------------------------------- weights and rules

def test_blank_weights_are_equal_and_partial_take_the_mean():
    assert t.weights([row(), row()]) == [1.0, 1.0]
    assert t.weights([row(weight=30), row(weight=10), row()]) == [30, 10, 20]


def test_targets_rule_weighted_over_kinds():
    rows = [row(actual=50, weight=30, kind="产出指标"),          # c = 0.5
            row(actual=100, weight=10, kind="效益指标"),         # c = 1
            row(actual=0, weight=60, kind="满意度指标")]         # c = 0
    assert t.targets_score(20, rows, ("产出指标", "效益指标", "满意度指标"), TABLE) == 20 * (15 + 10) / 100
    assert t.targets_score(20, rows, ("效益指标",), TABLE) == 20.0
    assert t.targets_score(20, rows, ("其他",), TABLE) is None


def test_unverifiable_row_counts_as_not_met():
    rows = [row(actual=100), row(actual=None)]
    assert t.targets_score(20, rows, ("产出指标",), TABLE) == 10.0


def test_targets_score_rounds_to_two_decimals():
    rows = [row(actual=2, target=3), row(actual=100)]   # (0.6667 + 1) / 2 = 0.83335
    assert t.targets_score(20, rows, ("产出指标",), TABLE) == 16.67


def test_measurable_caps_never_raises():
    rows = [row(weight=3), row(direction="定性", target=None, actual=None, actual_raw="达成", weight=1)]
    assert t.quantified_share(rows) == 0.75
    assert t.measurable_score(20, rows, 20) == 15.0
    assert t.measurable_score(20, rows, 12) == 12.0
    assert t.measurable_score(20, rows, None) == 0.0
    assert t.measurable_score(20, [], 20) is None


def test_indicator_score_falls_back_without_rows():
    assert t.indicator_score("targets", 20, {"kinds": ["产出指标"]}, None, 20, TABLE) is None
    assert t.indicator_score("measurable", 20, {}, [], 20, TABLE) is None
    with pytest.raises(ValueError):
        t.indicator_score("judged", 20, {}, [row()], 20, TABLE)


# ---------------------------------------------------------------- findings that need the framework

def rules_of(findings):
    return sorted(f.rule for f in findings)


def test_row_findings():
    rows = [row(actual=90, reason=None, weight=10),                              # missed, no reason
            row(actual=90, reason="台风影响", weight=10),                          # missed with reason
            row(direction="定性", target=None, actual=None, actual_raw="完成", weight=10),  # unknown value
            row(actual=100)]                                                      # weight blank among filled
    findings = t.row_findings(rows, TABLE)
    assert rules_of(findings) == ["targets.qualitative_unknown", "targets.reason_missing", "targets.weight_missing"]
    missing = next(f for f in findings if f.rule == "targets.reason_missing")
    assert missing.location == "绩效目标表!I5" and missing.found == "90.00%" and missing.severity == "error"


def test_all_qualitative_is_a_warning_and_percent_scale_an_error():
    rows = [row(direction="定性", target=None, actual=None, actual_raw="达成")] * 2
    assert [(f.rule, f.severity) for f in t.row_findings(rows, TABLE)] == [("targets.all_qualitative", "warning")]
    scale = t.row_findings([row(target=95, actual=0.97, reason="x")], TABLE)
    assert "targets.percent_scale" in rules_of(scale)


def test_missing_sheet_warning_or_error():
    assert [(f.severity, f.rule) for f in t.missing_sheet_findings(["A1", "A2"], "optional")] == [
        ("warning", "targets.sheet_missing")]
    assert t.missing_sheet_findings(["A1", "A2"], "required")[0].severity == "error"
    assert "A1、A2无法复核" in t.missing_sheet_findings(["A1", "A2"], "optional")[0].message
    assert t.missing_sheet_findings(["A1"], "none") == []


# ---------------------------------------------------------------- reading a written sheet

TARGETS = [
    dict(kind="产出指标", category="数量指标", name="督办事项办结率", direction="≥", target="95%", unit=None,
         actual="92.3%", weight=20, reason="部分事项跨年度办理"),
    dict(kind="产出指标", category="质量指标", name="公文差错率", direction="不超过", target=1, unit="%", actual=0.5,
         weight=10),
    dict(kind="效益指标", category="社会效益指标", name="政务服务保障", direction="定性", target="有效保障",
         actual="基本达成", weight=10, reason="个别会议保障不及时"),
    dict(kind="满意度指标", category="服务对象满意度指标", name="服务对象满意度", direction="不低于", target=90,
         unit="%", actual=93, weight=10),
]


def read(tmp_path, targets, **extra):
    path = tmp_path / "w.xlsx"
    layout = write_workbook(path, **reference_form(targets=targets, **extra))
    return layout, read_targets(read_workbook(path))


def test_read_sheet_numbers_percent_and_directions(tmp_path):
    layout, (rows, findings) = read(tmp_path, TARGETS, target_notes=["说明：按申报的目标填写"])
    assert findings == []
    assert [r.direction for r in rows] == ["≥", "≤", "定性", "≥"]
    assert (rows[0].target, rows[0].actual, rows[0].unit) == (95.0, 92.3, "%")
    assert rows[2].target is None and rows[2].actual_raw == "基本达成"
    # title, one line of notes, header: the first target is on row 4
    assert rows[0].cells["actual"] == str(layout.target_cells[(0, "actual")]) == "绩效目标表!G4"


def test_merged_level_cells_carried_down(tmp_path):
    targets = [dict(TARGETS[0]), dict(TARGETS[1], kind="产出指标", category="数量指标")]
    _, (rows, _) = read(tmp_path, targets)
    assert [(r.kind, r.category) for r in rows] == [("产出指标", "数量指标")] * 2


def test_header_found_by_labels_below_title_rows(tmp_path):
    _, (rows, findings) = read(tmp_path, TARGETS, extra_title_rows=3)
    assert len(rows) == 4 and findings == []
    assert rows[0].row_ref == "绩效目标表 第6行"   # title, three extra lines, header


def test_broken_cells_are_findings_at_the_cell(tmp_path):
    broken = [dict(TARGETS[0], direction="大约"), dict(TARGETS[1], actual="见附件"),
              dict(TARGETS[3], target="#DIV/0!", weight="-5")]
    _, (rows, findings) = read(tmp_path, broken)
    got = {(f.rule, f.location) for f in findings}
    assert got == {("targets.direction_unknown", "绩效目标表!D3"), ("targets.actual_not_a_number", "绩效目标表!G4"),
                   ("targets.target_not_a_number", "绩效目标表!E5"), ("targets.weight_invalid", "绩效目标表!H5")}
    assert all(f.severity == "error" for f in findings)
    assert "公式出错：#DIV/0!" in next(f.message for f in findings if f.location == "绩效目标表!E5")
    assert "“大约”" in next(f.message for f in findings if f.location == "绩效目标表!D3")


def test_no_sheet_and_blank_sheet_are_none(tmp_path):
    path = tmp_path / "w.xlsx"
    write_workbook(path, **reference_form())
    assert read_targets(read_workbook(path)) == (None, [])
    assert read(tmp_path, [{}] * 3)[1] == (None, [])


def test_number_forms():
    assert parse_target_number("９５％", None) == (95.0, "%")
    assert parse_target_number("≥95%", None) == (95.0, "%")
    assert parse_target_number("1,200件", "件") == (1200.0, None)
    assert parse_target_number("12万元", None) == (12.0, "万元")
    with pytest.raises(ValueError):
        parse_target_number("较好", None)


# ---------------------------------------------------------------- the template

def test_template_sheet_with_validations(tmp_path):
    path = write_template(2024, tmp_path / "t.xlsx")
    ws = openpyxl.load_workbook(path)["绩效目标表"]
    header = next(r for r in range(1, ws.max_row + 1) if ws.cell(r, 1).value == "一级指标")
    assert [ws.cell(header, c).value for c in range(1, 10)] == [
        "一级指标", "二级指标", "三级指标", "指标方向", "年度指标值", "计量单位", "实际完成值", "权重", "偏差原因"]
    notes = " ".join(str(ws.cell(r, 1).value or "") for r in range(1, header))
    assert "示例" in notes and "达成、基本达成、部分达成、未达成" in notes
    lists = {next(iter(dv.sqref.ranges)).coord[0]: dv for dv in ws.data_validations.dataValidation}
    assert lists["D"].type == "list" and lists["D"].formula1 == '"≥,≤,=,定性"'
    assert "达成" in lists["G"].prompt and lists["H"].type == "decimal"
    assert lists["A"].formula1 == '"产出指标,效益指标,满意度指标"'
    # a unit that hands the template back without targets has no sheet to score from
    assert read_targets(read_workbook(path)) == (None, [])


# ---------------------------------------------------------------- through the pipeline

def reviews_of(result, unit, year=2024):
    sub = next(s for s in result.submissions if s.unit_name == unit and s.year == year and s.state == "loaded")
    return {r.code: r for r in sub.reviews}, sub.findings


def test_pipeline_scores_a1_a2_from_the_sheet_and_falls_back(county):
    county.workbook("ref.xlsx", reference_form())
    county.workbook("fin.xlsx", unit_form("遂溪县财政局", targets=TARGETS))
    county.workbook("edu.xlsx", unit_form("遂溪县教育局", targets=[dict(TARGETS[2], kind="效益指标"),
                                                                  dict(TARGETS[2], name="校园安全", actual="达成")]))
    result = processed(county.raw)
    ref, ref_findings = reviews_of(result, REFERENCE_UNIT)
    assert (ref["A1"].rule, ref["A1"].review_score, ref["A2"].rule, ref["A2"].review_score) == ("judged", 20, "judged", 20)
    assert [f.severity for f in ref_findings if f.rule == "targets.sheet_missing"] == ["warning"]
    scores = result.tables["unit_scores"].filter(unit_name=REFERENCE_UNIT)
    assert scores["review_score"].to_list() == [97.97]

    fin, fin_findings = reviews_of(result, "遂溪县财政局")
    # c: 0.9716 (w 20), 1 (w 10), 0.8 (w 10), 1 (w 10) → 47.432 / 50 = 0.94864 → 18.97;
    # q = 40 / 50 (the 定性 row is not quantified) → A1 min(20, 16)
    assert (fin["A2"].rule, fin["A2"].review_score) == ("targets", 18.97)
    assert (fin["A1"].rule, fin["A1"].review_score) == ("measurable", 16.0)
    assert not [f for f in fin_findings if f.rule.startswith("targets.")]

    edu, edu_findings = reviews_of(result, "遂溪县教育局")
    assert (edu["A1"].review_score, edu["A2"].review_score) == (0.0, 18.0)
    assert [f.rule for f in edu_findings if f.rule.startswith("targets.")] == ["targets.all_qualitative"]

    table = result.tables["targets"]
    fin_rows = table.filter(unit_name="遂溪县财政局").sort("location")
    assert fin_rows["completion"].to_list() == [0.9716, 1.0, 0.8, 1.0]
    assert fin_rows["unit_code"].to_list() == ["440823002"] * 4
    assert table.filter(unit_name=REFERENCE_UNIT).height == 0
    rules = result.tables["indicator_scores"].filter(code="A2").sort("unit_name")
    assert dict(zip(rules["unit_name"], rules["rule"])) == {
        REFERENCE_UNIT: "judged", "遂溪县财政局": "targets", "遂溪县教育局": "targets"}


def test_missing_reason_is_an_error_that_sends_the_unit_back(county):
    county.workbook("fin.xlsx", unit_form("遂溪县财政局", targets=[dict(TARGETS[0], reason=None)]))
    result = processed(county.raw)
    _, findings = reviews_of(result, "遂溪县财政局")
    missing = [f for f in findings if f.rule == "targets.reason_missing"]
    assert [(f.location, f.severity) for f in missing] == [("绩效目标表!I3", "error")]
    assert result.tables["unit_scores"].filter(unit_name="遂溪县财政局")["must_resubmit"].to_list() == [True]


# ---------------------------------------------------------------- the 自评报告 against the sheet

def test_report_claims_for_named_targets():
    from pipeline.narratives.targets import check_target_claims, target_claims

    rows = [row(name="督办事项办结率", actual=96.5), row(name="公文处理差错率", direction="≤", target=1, actual=0.5),
            row(name="服务保障", direction="定性", target=None, actual=None, actual_raw="达成")]
    text = ("一、绩效目标完成情况\n全年督办事项办结率达到92.3%，公文处理差错率0.5%，服务保障100%。\n"
            "其他：办结率98%。\n")
    claims = target_claims(text, rows)
    assert [(c.item, c.value, c.written) for c in claims] == [
        ("target.公文处理差错率", 0.5, "0.5%"), ("target.督办事项办结率", 92.3, "92.3%")]
    findings = check_target_claims(claims, rows)
    assert [(f.rule, f.location, f.found, f.expected) for f in findings] == [
        ("report.mismatch.target", "自评报告 第2段", "92.3%", "96.5%")]
    assert "绩效目标表!G5" in findings[0].message and findings[0].severity == "warning"
    # stated to the report's own precision: 96.5 written as 97% (whole percent) agrees, 95% does not
    assert check_target_claims(target_claims("督办事项办结率97%。", rows), rows) == []
    assert len(check_target_claims(target_claims("督办事项办结率95%。", rows), rows)) == 1


def test_report_disagreement_through_the_pipeline(county):
    county.workbook("fin.xlsx", unit_form("遂溪县财政局", targets=TARGETS))
    (county.raw / "2024" / "遂溪县财政局2024年度自评报告.txt").write_text(
        "遂溪县财政局2024年度部门整体支出绩效自评报告\n督办事项办结率95%，服务对象满意度93%。\n", encoding="utf-8")
    result = processed(county.raw)
    mismatches = result.tables["findings"].filter(rule="report.mismatch.target")
    assert mismatches["found"].to_list() == ["95%"] and mismatches["expected"].to_list() == ["92.3%"]
    figures = result.tables["report_figures"].filter(item="target.服务对象满意度")
    assert figures["value"].to_list() == [93.0]


# ---------------------------------------------------------------- presentation

def test_presentation_tables_and_figure():
    import pandas as pd

    from presentation import targets as views

    frame = pd.DataFrame({
        "unit_name": ["甲", "甲", "乙"], "unit_type": ["乡镇", "乡镇", "事业单位"],
        "kind": ["产出指标"] * 3, "category": ["数量指标"] * 3, "name": ["a", "b", "c"],
        "direction": ["≥", "定性", "≤"], "target": [95.0, None, 1.0], "target_text": ["95%", "有效", "1"],
        "unit": ["%", None, "%"], "actual": [92.3, None, 2.0], "actual_text": ["92.3", "达成", "2"],
        "weight": [30.0, 10.0, 1.0], "completion": [0.9716, 1.0, 0.5], "reason": [None, None, "台风"],
        "location": ["绩效目标表 第3行", "绩效目标表 第4行", "绩效目标表 第3行"]})
    summary = views.unit_completion(frame)
    assert summary.set_index("unit_name")["completion"].to_dict() == {"甲": 0.9787, "乙": 0.5}
    assert summary.set_index("unit_name")["missed_without_reason"].to_dict() == {"甲": 1, "乙": 0}
    county = views.county_targets(frame)
    assert (county.units, county.targets, county.met, county.missed_without_reason, county.completion) == (
        2, 3, 1, 1, 0.7394)
    missed = views.missed_without_reason_table(frame)
    assert missed[["单位名称", "三级指标", "年度指标值", "完成度（%）"]].values.tolist() == [["甲", "a", "95", 97.16]]
    shown = views.unit_targets_table(frame[frame["unit_name"] == "甲"])
    assert shown["年度指标值"].tolist() == ["95", "有效"] and shown["实际完成值"].tolist() == ["92.3", "达成"]
    figure = views.completion_by_unit(summary)
    assert list(figure.data[0].y) == ["甲", "乙"] and list(figure.data[0].x) == [97.87, 50.0]
    assert figure.data[0].marker.color[0] == "#c0392b"


# ---------------------------------------------------------------- pandera model and hardened reading

def test_pandera_model_checks_levels_and_names(county):
    rows = [dict(TARGETS[0], kind="产出"),                      # short for 产出指标: read as it
            dict(TARGETS[1], kind="过程指标"),                   # not a kind of the sheet: error at A4
            dict(TARGETS[3], category="满意度", name=None)]       # category warning, name missing
    county.workbook("fin.xlsx", unit_form("遂溪县财政局", targets=rows))
    result = processed(county.raw)
    _, findings = reviews_of(result, "遂溪县财政局")
    got = {(f.rule, f.severity, f.location) for f in findings if f.rule.startswith("targets.")}
    assert ("targets.kind_unknown", "error", "绩效目标表!A4") in got
    assert ("targets.category_unknown", "warning", "绩效目标表!B5") in got
    assert ("targets.name_missing", "error", "绩效目标表!A5") in got
    assert not any(rule == "targets.kind_unknown" and loc == "绩效目标表!A3" for rule, _, loc in got)
    assert "过程指标" in next(f.message for f in findings if f.rule == "targets.kind_unknown")


def test_digit_grouping_and_year_named_sheet(tmp_path):
    with pytest.raises(ValueError):
        parse_target_number("250000,00", None)
    assert parse_target_number("1,250,000.5", None) == (1250000.5, None)
    path = tmp_path / "w.xlsx"
    write_workbook(path, **reference_form(targets=TARGETS, sheet_name_overrides={"绩效目标表": "绩效目标表(2024)"},
                                          extra_sheets={"绩效目标表(2023)": [["三级指标", "指标方向", "实际完成值"],
                                                                         ["旧目标", "≥", 1]]}))
    rows, findings = read_targets(read_workbook(path), 2024)
    assert findings == [] and [r.name for r in rows] == [t["name"] for t in TARGETS]
    rows, findings = read_targets(read_workbook(path))
    # without the year the two sheets cannot be told apart: an error, and the 2023 rows are never read
    assert rows == [] and [f.rule for f in findings] == ["targets.sheet_ambiguous"]


# ---------------------------------------------------------------- the framework says

def _framework_dir(tmp_path, **replacements):
    from pipeline.settings import FRAMEWORKS_DIR

    folder = tmp_path / "frameworks"
    folder.mkdir(parents=True)
    for path in FRAMEWORKS_DIR.glob("*.toml"):
        text = path.read_text(encoding="utf-8")
        for old, new in replacements.items():
            text = text.replace(old, new)
        (folder / path.name).write_text(text, encoding="utf-8")
    return folder


def test_required_sheet_missing_is_an_error(county, tmp_path, monkeypatch):
    folder = _framework_dir(tmp_path, **{'targets_sheet = "optional"': 'targets_sheet = "required"'})
    monkeypatch.setenv("PERF_FRAMEWORKS", str(folder))
    county.workbook("ref.xlsx", reference_form())
    result = processed(county.raw)
    reviews, findings = reviews_of(result, REFERENCE_UNIT)
    assert [(f.severity, f.rule) for f in findings if f.rule.startswith("targets.")] == [
        ("error", "targets.sheet_missing")]
    assert "必报" in next(f.message for f in findings if f.rule == "targets.sheet_missing")
    assert reviews["A2"].rule == "judged" and reviews["A2"].review_score == 20


def test_framework_rejects_an_unknown_sheet_rule_and_a_targets_rule_without_kinds(tmp_path):
    from pipeline.scoring.framework import FrameworkError

    folder = _framework_dir(tmp_path, **{'targets_sheet = "optional"': 'targets_sheet = "sometimes"'})
    with pytest.raises(FrameworkError, match="targets_sheet"):
        load_framework(2024, folder)
    folder = _framework_dir(tmp_path / "b", **{'kinds = ["产出指标", "效益指标", "满意度指标"]': ''})
    with pytest.raises(FrameworkError, match="kinds"):
        load_framework(2024, folder)


def test_a2_counts_only_the_framework_s_kinds(county, tmp_path, monkeypatch):
    folder = _framework_dir(tmp_path, **{'kinds = ["产出指标", "效益指标", "满意度指标"]': 'kinds = ["效益指标"]'})
    monkeypatch.setenv("PERF_FRAMEWORKS", str(folder))
    county.workbook("fin.xlsx", unit_form("遂溪县财政局", targets=TARGETS))
    reviews, _ = reviews_of(processed(county.raw), "遂溪县财政局")
    assert (reviews["A2"].rule, reviews["A2"].review_score) == ("targets", 16.0)   # only the 定性 row, 基本达成


# ---------------------------------------------------------------- the sample county

def test_sample_county_targets_are_what_its_cases_say(sample_warehouse, query):
    from sample_county import targets as sample

    rules = {"no_sheet": "targets.sheet_missing", "all_qualitative": "targets.all_qualitative",
             "missed_without_reason": "targets.reason_missing", "actual_not_a_number": "targets.actual_not_a_number",
             "direction_unknown": "targets.direction_unknown", "a2_claimed_in_full": "review.self_score_above_review"}
    for case in sample.TARGET_CASES:
        found = query(sample_warehouse, "SELECT count(*) FROM findings WHERE unit_name = ? AND year = ? AND rule = ?",
                      case["unit_name"], case["year"], rules[case["case"]])
        assert found[0][0] >= 1, case
    (units, with_sheet), = query(sample_warehouse, """SELECT count(*), count(*) FILTER (WHERE EXISTS (
        SELECT 1 FROM targets t WHERE t.unit_name = s.unit_name AND t.year = s.year)) FROM unit_scores s
        WHERE year = 2024""")
    assert with_sheet > 0.8 * units
    assert query(sample_warehouse, "SELECT count(*) FROM targets WHERE unit_name = ?", sample.REFERENCE_UNIT) == [(0,)]
    assert query(sample_warehouse, "SELECT review_score FROM unit_scores WHERE unit_name = ? AND year = 2024",
                 sample.REFERENCE_UNIT) == [(97.97,)]
    (with_reason,), = query(sample_warehouse, "SELECT count(*) FROM targets WHERE completion < 1 AND reason IS NOT NULL")
    assert with_reason >= 5
    assert query(sample_warehouse, "SELECT count(*) FROM findings WHERE rule = 'report.mismatch.target' "
                                   "AND unit_name = ?", sample.REPORT_DISAGREES) == [(1,)]
    kinds = {k for (k,) in query(sample_warehouse, "SELECT DISTINCT kind FROM targets")}
    assert kinds == {"产出指标", "效益指标", "满意度指标"}


def test_xls_workbook_carries_the_sheet(county):
    county.workbook("fin.xls", unit_form("遂溪县财政局", targets=TARGETS), xls=True)
    result = processed(county.raw)
    reviews, findings = reviews_of(result, "遂溪县财政局")
    assert (reviews["A2"].rule, reviews["A2"].review_score) == ("targets", 18.97)
    assert result.tables["targets"]["location"].to_list() == [f"绩效目标表 第{n}行" for n in (3, 4, 5, 6)]
