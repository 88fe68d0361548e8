"""Frameworks as data: every shape at and around its thresholds, metrics that are not
applicable, frameworks refused with one line, `extends`, and whole runs under frameworks
with other bands, maxima and indicators (the example 投入/过程/产出/效果 framework)."""

from __future__ import annotations

import datetime as dt
import os
import shutil
from decimal import Decimal

import openpyxl
import pytest

from pipeline.forms.template import write_template
from pipeline.scoring import metrics
from pipeline.scoring.framework import (
    FORMULA, SHAPES, Figures, FrameworkError, IndicatorSpec, assess, describe, formula_basis, load_framework,
    grade_note, measure, parse_framework, read_framework_file, scoring_note, shape_points,
)
from pipeline.settings import FRAMEWORKS_DIR
from tests.builders import REFERENCE_DATA, REFERENCE_INFO, REFERENCE_UNIT, County, reference_form
from tests.conftest import run_pipeline

EXAMPLE = FRAMEWORKS_DIR / "examples" / "input-process-output-effect"
D = Decimal


def spec(metric: str, shape: str, top: float = 10, when: str = "self", **params) -> IndicatorSpec:
    """An indicator as the framework file would give it (parameters parsed as from TOML)."""
    item = {"code": "X1", "level1": "一", "level2": "二", "level3": "三", "max": top,
            "metric": metric, "shape": shape, "when_not_applicable": when, **params}
    other = {"code": "X2", "level1": "一", "level2": "二", "level3": "四", "max": 100 - top, "rule": "judged"}
    return parse_framework({"year": 2030, "deadline": "2031-07-31", "indicator": [item, other]},
                           "test.toml").indicators[0]


def points(shape: str, m: str, top: float = 10, **params) -> float:
    return shape_points(shape, D(m), top, spec("execution_rate", shape, top, **params).params)


# ---------------------------------------------------------------- shapes

@pytest.mark.parametrize("m, expected", [("0", 0), ("0.5", 5), ("0.99724", 9.97), ("0.9999", 10),
                                         ("1", 10), ("1.2", 10), ("-0.1", 0)])
def test_proportional(m, expected):
    assert points("proportional", m) == expected


@pytest.mark.parametrize("m, expected", [("0.99", 5), ("1", 5), ("1.00001", 5.0),
                                         ("1.01", 4.5), ("1.04", 3), ("1.1", 0), ("2", 0)])
def test_deduct_above(m, expected):
    # 0.5 point per percentage point above 100 %: 100.001 % loses 0.0005 → 4.9995 → 5.00
    assert points("deduct_above", m, 5, threshold=1.0, points_per_percent=0.5) == expected


def test_deduct_above_rounds_half_away_from_zero():
    assert points("deduct_above", "1.0003", 5, threshold=1.0, points_per_percent=0.5) == 4.99   # 4.9985
    assert points("deduct_above", "1.0001", 5, threshold=1.0, points_per_percent=0.5) == 5.0    # 4.9995 → 5.00
    assert points("deduct_above", "0.025", 5, threshold=0, points_per_percent=0.8) == 3.0      # 2.5 points above 0


@pytest.mark.parametrize("m, expected", [("1", 10), ("0.98", 8), ("0.995", 9.5), ("0.9", 0), ("1.3", 10)])
def test_deduct_below(m, expected):
    assert points("deduct_below", m, threshold=1.0, points_per_percent=1) == expected


@pytest.mark.parametrize("m, expected", [
    ("1", 10), ("1.2", 10),
    ("0.9999", 8), ("0.97", 8), ("0.95", 8),     # 95 % is exactly one step below: one step
    ("0.9499", 6), ("0.90", 6), ("0.8999", 4),
    ("0.5", 0), ("0", 0),                        # floored at 0
])
def test_deduct_below_steps_counts_started_steps_exactly(m, expected):
    assert points("deduct_below_steps", m, threshold=1.0, step=0.05, points_per_step=2) == expected


def test_deduct_below_steps_on_a_rate_computed_from_amounts():
    # 950 000 / 1 000 000 in binary floating point puts (1 − 0.95) / 0.05 just above 1;
    # the metric is computed in decimal, so it is one step, not two.
    b1 = spec("execution_rate", "deduct_below_steps", threshold=1.0, step=0.05, points_per_step=2)
    assert (1 - 950_000.0 / 1_000_000.0) / 0.05 > 1
    assert assess(b1, {12: 1_000_000.0, 13: 950_000.0}, 10).score == 8


BANDS = [[0.0, 5], [0.10, 4], [0.20, 3], [0.30, 2]]


@pytest.mark.parametrize("m, expected", [("-0.2", 5), ("0", 5), ("0.0001", 4), ("0.1", 4), ("0.1001", 3),
                                         ("0.2", 3), ("0.3", 2), ("0.3001", 0), ("5", 0)])
def test_bands_first_match_wins(m, expected):
    assert points("bands", m, 5, bands=BANDS, otherwise=0) == expected


def test_bands_are_capped_at_max():
    assert points("bands", "0", 3, bands=BANDS, otherwise=0) == 3


@pytest.mark.parametrize("m, expected", [("0", 4), ("1", 3), ("3", 1), ("4", 0), ("9", 0)])
def test_deduct_per_count(m, expected):
    assert points("deduct_per_count", m, 4, points_per_count=1) == expected


@pytest.mark.parametrize("m, expected", [("0.5", 1), ("1", 1), ("1.0000001", 0), ("3", 0)])
def test_zero_above(m, expected):
    assert points("zero_above", m, 1, threshold=1.0) == expected


def test_every_shape_is_tested_here():
    tested = {"proportional", "deduct_above", "deduct_below", "deduct_below_steps", "bands",
              "deduct_per_count", "zero_above"}
    assert set(SHAPES) == tested


# ---------------------------------------------------------------- metrics

def test_metric_values_from_a_units_figures():
    previous = Figures({19: 100_000.0, 20: 90_000.0})
    figures = Figures(dict(REFERENCE_DATA) | {19: 102_500.0, 20: 81_000.0},
                      {"staff": 52, "establishment": 50}, previous)
    assert measure("staff_control_rate", figures).value == D("1.04")
    assert measure("sangong_budget_change_rate", figures).value == D("0.025")
    assert measure("sangong_spent_change_rate", figures).value == D("-0.1")
    assert measure("additions_count", figures).value == 1
    assert measure("new_projects_count", figures).value == 0
    assert measure("budget_adjustment_rate", Figures({12: 110.0, 9: 100.0})).value == D("0.1")
    assert round(float(measure("execution_rate", figures).value), 4) == 0.9972


def test_change_rates_without_a_previous_year_are_not_applicable():
    found = measure("sangong_budget_change_rate", Figures({19: 100.0}))
    assert found.value is None and found.not_applicable
    found = measure("sangong_budget_change_rate", Figures({19: 100.0}, previous=Figures({19: None})))
    assert found.not_applicable


def test_not_applicable_scores_full_or_keeps_the_self_score():
    full = spec("public_control_rate", "deduct_above", 2, when="full", threshold=1.0, points_per_percent=1)
    self_kept = spec("public_control_rate", "deduct_above", 2, threshold=1.0, points_per_percent=1)
    assert assess(full, {17: 0.0, 18: 0.0}, 1).score == 2
    outcome = assess(self_kept, {17: 0.0, 18: 0.0}, 1.5)
    assert outcome.score == 1.5 and outcome.unscored == "公用经费控制率不适用（分母为0）"
    # spent with no budget: infinitely over, whatever the framework says about 0 / 0
    assert assess(full, {17: 0.0, 18: 10.0}, 2).score == 0
    assert assess(full, {17: 0.0, 18: 10.0}, 2).metric_value is None


def test_missing_staff_numbers_keep_the_self_score_with_the_reason():
    a2 = spec("staff_control_rate", "deduct_above", 5, when="full", threshold=1.0, points_per_percent=0.5)
    outcome = assess(a2, Figures({}, {"staff": 40}), 4)
    assert outcome.score == 4 and outcome.unscored == "在职人员控制率所需的编制数未填写"


def test_formula_basis_says_what_the_score_rests_on():
    assert formula_basis("staff_control_rate", 1.04, 3.0, 5) == "在职人员控制率 104 % → 3.0 / 5"
    assert formula_basis("execution_rate", 0.99724, 9.97, 10) == "预算资金支出率 99.72 % → 9.97 / 10"
    assert formula_basis("additions_count", 1.0, 3.0, 4) == "追加预算笔数 1 笔 → 3.0 / 4"
    assert formula_basis("sangong_budget_change_rate", None, 4.0, 5) == "三公经费预算变动率 不适用 → 4.0 / 5"
    assert formula_basis(None, None, 9.0, 10) is None


def test_every_metric_is_a_documented_function_of_named_inputs():
    for name, m in metrics.METRICS.items():
        assert getattr(metrics, name) is m.func and m.definition.startswith(m.label), name
        assert all(i.startswith(("r", "previous.r")) or i in ("staff", "establishment") for i in m.inputs)


# ---------------------------------------------------------------- refusals

def _data(**item_changes) -> dict:
    item = {"code": "C7", "level1": "一", "level2": "二", "level3": "三", "max": 40,
            "metric": "execution_rate", "shape": "deduct_above", "threshold": 1.0, "points_per_percent": 1}
    item.update(item_changes)
    item = {k: v for k, v in item.items() if v is not None}
    return {"year": 2030, "deadline": "2031-07-31", "indicator": [
        {"code": "C6", "level1": "一", "level2": "二", "level3": "三", "max": 60, "rule": "judged"}, item]}


@pytest.mark.parametrize("changes, message", [
    (dict(metric="happiness_rate"), "x.toml: 指标 C7: metric “happiness_rate” 未定义"),
    (dict(shape="wavy"), "x.toml: 指标 C7: shape “wavy” 未定义"),
    (dict(points_per_percent=None), "x.toml: 指标 C7: deduct_above 缺少参数 points_per_percent"),
    (dict(step=0.05), "x.toml: 指标 C7: deduct_above 没有参数 step"),
    (dict(threshold="high"), "x.toml: 指标 C7: 参数 threshold 不是数字"),
    (dict(when_not_applicable="half"), "x.toml: 指标 C7: when_not_applicable 应为 full 或 self"),
    (dict(metric=None, shape=None, rule="magic", threshold=None, points_per_percent=None),
     "x.toml: 指标 C7: rule “magic” 未定义"),
    (dict(shape="bands", threshold=None, points_per_percent=None, bands=[[0.1]], otherwise=0),
     "x.toml: 指标 C7: 参数 bands 每一档应为 [上限, 得分]"),
])
def test_a_framework_naming_what_does_not_exist_is_refused(changes, message):
    with pytest.raises(FrameworkError) as caught:
        parse_framework(_data(**changes), "x.toml")
    assert str(caught.value).startswith(f"评分框架 {message}") and "\n" not in str(caught.value)


def test_grade_bands_must_name_the_four_grades():
    with pytest.raises(FrameworkError, match="grades"):
        parse_framework({**_data(), "grades": {"A": 90, "B": 0}}, "x.toml")


def test_targets_sheet_is_one_of_three_words():
    assert parse_framework({**_data(), "targets_sheet": "required"}, "x.toml").targets_sheet == "required"
    with pytest.raises(FrameworkError, match="targets_sheet 应为 none / optional / required"):
        parse_framework({**_data(), "targets_sheet": "maybe"}, "x.toml")


def test_the_pipeline_refuses_an_unknown_shape_with_one_line(county: County, tmp_path):
    frameworks = tmp_path / "frameworks"
    shutil.copytree(FRAMEWORKS_DIR, frameworks, ignore=shutil.ignore_patterns("examples"))
    path = frameworks / "2022.toml"
    path.write_text(path.read_text(encoding="utf-8").replace('shape = "zero_above"', 'shape = "zero_over"'),
                    encoding="utf-8")
    county.workbook("ref.xlsx", reference_form())
    os.environ["PERF_FRAMEWORKS"] = str(frameworks)
    try:
        done = run_pipeline(county.raw, tmp_path / "x.duckdb", check=False)
    finally:
        del os.environ["PERF_FRAMEWORKS"]
    assert done.returncode == 2
    [line] = done.stderr.strip().splitlines()
    assert "2024.toml" in line and "指标 B9" in line and "zero_over" in line
    assert not (tmp_path / "x.duckdb").exists()


# ---------------------------------------------------------------- extends and settings

def test_a_year_extends_another_and_overrides_what_differs(tmp_path):
    (tmp_path / "base.toml").write_text(
        'year = 2029\ndeadline = 2030-07-31\nnotice = "旧"\n[grades]\n"优" = 90\n"良" = 80\n"中" = 60\n"差" = 0\n'
        '[[indicator]]\ncode = "A1"\nlevel1 = "一"\nlevel2 = "二"\nlevel3 = "甲"\nmax = 50\nrule = "judged"\n'
        '[[indicator]]\ncode = "A2"\nlevel1 = "一"\nlevel2 = "二"\nlevel3 = "乙"\nmax = 30\n'
        'metric = "execution_rate"\nshape = "proportional"\n'
        '[[indicator]]\ncode = "A3"\nlevel1 = "一"\nlevel2 = "二"\nlevel3 = "丙"\nmax = 20\nrule = "judged"\n',
        encoding="utf-8")
    (tmp_path / "2030.toml").write_text(
        'extends = "base.toml"\nyear = 2030\ndeadline = 2031-06-30\ntargets_sheet = "required"\n'
        '[grades]\n"优" = 95\n'
        '[sampling]\nrate = 0.2\nminimum = 5\n'
        '[[indicator]]\ncode = "A1"\nmax = 40\n'
        '[[indicator]]\ncode = "A2"\nmetric = "execution_rate"\nshape = "deduct_below"\nthreshold = 0.9\npoints_per_percent = 1\n'
        '[[indicator]]\ncode = "A3"\nremove = true\n'
        '[[indicator]]\ncode = "A4"\nlevel1 = "一"\nlevel2 = "二"\nlevel3 = "丁"\nmax = 30\nrule = "judged"\n',
        encoding="utf-8")
    framework = load_framework(2030, tmp_path)
    assert [(i.code, i.level3, i.max_score, i.method) for i in framework.indicators] == [
        ("A1", "甲", 40, "judged"), ("A2", "乙", 30, "deduct_below"), ("A4", "丁", 30, "judged")]
    assert framework.indicator("A2").params == {"threshold": D("0.9"), "points_per_percent": D("1")}
    assert dict(framework.grades) == {"优": 95, "良": 80, "中": 60, "差": 0}
    assert framework.notice == "旧" and framework.deadline == dt.date(2031, 6, 30)
    # tables this module does not read are kept as they are, for the parts that do
    assert framework.settings["sampling"] == {"rate": 0.2, "minimum": 5}
    assert framework.targets_sheet == "required"


def test_extends_in_a_circle_is_refused(tmp_path):
    (tmp_path / "2030.toml").write_text('extends = "2031.toml"\n', encoding="utf-8")
    (tmp_path / "2031.toml").write_text('extends = "2030.toml"\n', encoding="utf-8")
    with pytest.raises(FrameworkError, match="循环"):
        load_framework(2030, tmp_path)


def test_sample_frameworks_keep_section_3_rules():
    for year in (2022, 2023, 2024):
        framework = load_framework(year)
        assert [(i.code, i.metric, i.shape) for i in framework.indicators if i.rule == FORMULA] == [
            ("A3", "execution_rate", "proportional"), ("B2", "additions_count", "deduct_per_count"),
            ("B8", "public_control_rate", "deduct_above"), ("B9", "sangong_control_rate", "zero_above")]
    assert load_framework(2024).targets_sheet == "optional"


# ---------------------------------------------------------------- whole runs

@pytest.mark.slow
def test_other_bands_and_maxima_are_followed_by_the_run(county: County, tmp_path, query):
    frameworks = tmp_path / "frameworks"
    shutil.copytree(FRAMEWORKS_DIR, frameworks, ignore=shutil.ignore_patterns("examples"))
    path = frameworks / "2024.toml"
    path.write_text(path.read_text(encoding="utf-8")
                    + '\n[grades]\n"优" = 98\n"良" = 85\n"中" = 70\n'
                    + '\n[[indicator]]\ncode = "A1"\nmax = 18\n\n[[indicator]]\ncode = "A3"\nmax = 12\n',
                    encoding="utf-8")
    framework = load_framework(2024, frameworks)
    county.workbook("ref.xlsx", reference_form(indicators=framework.indicators, scores={"A1": 18, "A3": 12}))
    county.workbook("other.xlsx", reference_form(
        indicators=framework.indicators, scores={"A1": 18, "A3": 12},
        info={"单位名称": "遂溪县财政局", "主管部门": "遂溪县财政局"}, total=98, grade="良"))
    os.environ["PERF_FRAMEWORKS"] = str(frameworks)
    try:
        run_pipeline(county.raw, tmp_path / "w.duckdb")
    finally:
        del os.environ["PERF_FRAMEWORKS"]
    db = tmp_path / "w.duckdb"
    rows = dict((name, (s, g, r, rg)) for name, s, g, r, rg in query(
        db, "SELECT unit_name, self_score, self_grade, review_score, review_grade FROM unit_scores"))
    # A3 = 12 × 99.72 % = 11.97; 98 − 0.03 = 97.97, below this county's 优 at 98
    assert rows[REFERENCE_UNIT] == (98, "优", 97.97, "良")
    assert query(db, "SELECT max_score, review_score FROM indicator_scores WHERE code = 'A3' AND unit_name = ?",
                 REFERENCE_UNIT) == [(12, 11.97)]
    [(message,)] = query(db, "SELECT message FROM findings WHERE rule = 'scores.grade_mismatch'")
    assert "对应的等级为“优”" in message and "（优≥98，良85至98，中70至85，差<70）" in message
    assert not query(db, "SELECT * FROM findings WHERE rule = 'scores.max_mismatch'")


def example_data(r12: float, r13: float, r9: float, r19: float, r17: float = 200_000.0,
                 r18: float = 150_000.0) -> dict[int, float]:
    """A 数据表 whose identities hold."""
    r14 = round(r13 * 0.8, 2)
    return {1: r9, 2: r9, 3: 0.0, 4: r12, 5: r12, 6: 0.0, 7: 0.0, 8: 0.0, 9: r9,
            10: round(r9 * 0.8, 2), 11: round(r9 - round(r9 * 0.8, 2), 2), 12: r12, 13: r13,
            14: r14, 15: round(r13 - r14, 2), 16: round(r12 - r13, 2), 17: r17, 18: r18,
            19: r19, 20: round(r19 * 0.9, 2), 24: 0, 25: 0}


def example_form(framework, name: str, year: int, data: dict, staff: int, establishment: int,
                 scores: dict, grade: str, filed: dt.date | None = None) -> dict:
    info = {**REFERENCE_INFO, "单位名称": name, "主管部门": name, "评价年度": year,
            "填报日期": filed or dt.date(year + 1, 6, 20), "在职人数": staff, "编制数": establishment}
    full = {i.code: i.max_score for i in framework.indicators}
    scores = {**full, **scores}
    return dict(info=info, data=data, scores=scores, total=sum(
        s[0] if isinstance(s, tuple) else s for s in scores.values()), grade=grade,
        indicators=framework.indicators)


@pytest.fixture(scope="module")
def example_run(tmp_path_factory):
    """The example framework's county: three workbooks over two years, run end to end."""
    root = tmp_path_factory.mktemp("example")
    county = County(root / "raw")
    f2023, f2024 = load_framework(2023, EXAMPLE), load_framework(2024, EXAMPLE)
    county.workbook("jia-2023.xlsx", example_form(
        f2023, REFERENCE_UNIT, 2023, example_data(1_000_000.0, 1_000_000.0, 1_000_000.0, 100_000.0),
        50, 50, {}, "优"), year=2023)
    # 甲 2024: 52 of 50 staff (104 %), 三公 budget up 2.5 %, 99.72 % spent, budget cut (adjustment < 0)
    county.workbook("jia-2024.xlsx", example_form(
        f2024, REFERENCE_UNIT, 2024, example_data(8_397_200.18, 8_374_036.75, 10_850_997.08, 102_500.0),
        52, 50, {}, "优"), year=2024)
    # 乙 2024, no 2023: 95 % spent (one step), adjustment 1/9 (≤ 20 % band), a wrong grade
    judged = {"A1": 6, "B4": 8, "B5": 5, "C1": 15, "C2": 7, "D1": 6, "D2": 3}
    county.workbook("yi-2024.xlsx", example_form(
        f2024, "遂溪县财政局", 2024, example_data(1_000_000.0, 950_000.0, 900_000.0, 50_000.0),
        48, 50, {**{k: (v, "扣分原因") for k, v in judged.items()}, "A3": (4, "三公经费预算增加")}, "中",
        filed=dt.date(2025, 7, 20)),
        year=2024)
    db = root / "w.duckdb"
    os.environ["PERF_FRAMEWORKS"] = str(EXAMPLE)
    try:
        run_pipeline(county.raw, db)
    finally:
        del os.environ["PERF_FRAMEWORKS"]
    return db


def test_example_framework_scores_every_formula_from_its_metric(example_run, query):
    scores = {(u, y, c): (m, v, r) for u, y, c, m, v, r in query(
        example_run, "SELECT unit_name, year, code, metric, round(metric_value, 6), review_score "
                     "FROM indicator_scores WHERE metric IS NOT NULL")}
    assert scores[(REFERENCE_UNIT, 2024, "A2")] == ("staff_control_rate", 1.04, 3.0)
    assert scores[(REFERENCE_UNIT, 2024, "A3")] == ("sangong_budget_change_rate", 0.025, 3.0)
    assert scores[(REFERENCE_UNIT, 2024, "B1")] == ("execution_rate", 0.997242, 8.0)
    assert scores[(REFERENCE_UNIT, 2024, "B2")][2] == 5.0          # a budget cut: the ≤ 0 band
    assert scores[(REFERENCE_UNIT, 2023, "A3")] == ("sangong_budget_change_rate", None, 5.0)  # self, no 2022
    assert scores[("遂溪县财政局", 2024, "B1")] == ("execution_rate", 0.95, 8.0)   # exactly one step
    assert scores[("遂溪县财政局", 2024, "B2")] == ("budget_adjustment_rate", 0.111111, 3.0)
    assert scores[("遂溪县财政局", 2024, "A2")] == ("staff_control_rate", 0.96, 5.0)
    assert scores[("遂溪县财政局", 2024, "A3")] == ("sangong_budget_change_rate", None, 4.0)


def test_example_framework_grades_and_messages_follow_its_file(example_run, query):
    grades = dict((u, (s, r, g)) for u, s, r, g in query(
        example_run, "SELECT unit_name, self_score, review_score, review_grade FROM unit_scores WHERE year = 2024"))
    assert grades[REFERENCE_UNIT] == (100, 94, "优")
    # 75 is 良 under this county's bands (良 from 75), 中 under the default ones
    assert grades["遂溪县财政局"] == (79, 75, "良")
    messages = {rule: m for rule, m in query(
        example_run, "SELECT rule, message FROM findings WHERE unit_name = '遂溪县财政局' AND year = 2024")}
    assert "（优≥90，良75至90，中60至75，差<60）" in messages["scores.grade_mismatch"]
    assert "2025-06-30" in messages["info.late"]
    assert "三公经费预算变动率不适用" in messages["review.formula_unscored"]
    assert "B1" in messages["review.self_score_above_review"] and "B2" in messages["review.self_score_above_review"]


def test_example_framework_template(tmp_path):
    path = write_template(2024, tmp_path / "t.xlsx", EXAMPLE)
    book = openpyxl.load_workbook(path)
    notes = "\n".join(str(c.value) for c in book["填表说明"]["A"] if c.value)
    assert "示例县财绩〔2025〕1号" in notes and "2025年6月30日" in notes
    assert "良（75分至90分以下）" in notes
    assert "在职人员控制率、三公经费变动率、预算完成率、预算调整率、公用经费控制率五项指标由财政局按数据表和基本信息复核计分" in notes
    expected = [i.code for i in load_framework(2024, EXAMPLE).indicators]
    assert [c.value for c in book["评分表"]["A"] if c.value in expected] == expected


def test_example_framework_files_are_readable_as_data():
    data = read_framework_file(EXAMPLE / "2023.toml")
    assert data["year"] == 2023 and len(data["indicator"]) == 12


def test_unit_page_and_review_sheet_show_what_each_formula_rests_on(example_run):
    import duckdb

    from pipeline.outputs.ranking_book import review_sheet
    from presentation.tables import indicator_table

    with duckdb.connect(str(example_run), read_only=True) as con:
        indicators = con.execute("SELECT * FROM indicator_scores WHERE year = 2024 ORDER BY unit_name, code").df()
        scores = con.execute("SELECT * FROM unit_scores WHERE year = 2024").df()
    ours = indicators[indicators["unit_name"] == REFERENCE_UNIT]
    table = indicator_table(ours).set_index("代码")
    assert table.loc["A2", "复核依据"] == "在职人员控制率 104 % → 3.0 / 5"
    assert table.loc["A2", "复核方法"] == "超出扣分"
    assert table.loc["B2", "复核方法"] == "分档计分"
    assert table.loc["A1", "复核方法"] == "主观评分" and table.loc["A1", "复核依据"] is None
    sheet = review_sheet(indicators, scores, 2024)
    basis = sheet.columns.index(next(c for c in sheet.columns if c.header == "复核依据"))
    shown = {row[2]: row[basis] for row in sheet.rows if row[1] == "遂溪县财政局"}
    assert shown["B1"] == "预算资金支出率 95 % → 8.0 / 10"
    assert shown["A3"] == "三公经费预算变动率 不适用 → 4.0 / 5"


def test_every_shape_reads_as_a_sentence():
    example = load_framework(2024, EXAMPLE)
    said = {i.code: describe(i) for i in example.formula_indicators()}
    assert said["A2"] == "A2“在职人员控制率”满分5分：在职人员控制率不超过100%得满分，每超出1个百分点扣0.5分，扣完为止"
    assert said["B1"] == ("B1“预算完成率”满分10分：预算资金支出率不低于100%得满分，每低5个百分点（不足的也算）扣2分，"
                          "扣完为止")
    assert said["B2"] == ("B2“预算调整率”满分5分：预算调整率不超过0%得5分，不超过10%得4分，不超过20%得3分，"
                          "不超过30%得2分，其余得0分")
    default = load_framework(2024)
    assert describe(default.indicator("B2")) == "B2“预算编制约束性”满分4分：每1笔追加预算扣1分，扣完为止"
    assert describe(default.indicator("B9")) == "B9“三公经费控制率”满分1分：三公经费控制率超过100%不得分"
    assert scoring_note(2024, "execution_rate") == (
        "A3", "A3“部门预算资金支出率”满分10分：复核得分 = 分值 × min(预算资金支出率, 100%)。")
    assert scoring_note(2024, "staff_control_rate") == (None, "")
    assert grade_note(2024) == "等级标准（2024年度评分框架）：优≥90，良80至90，中60至80，差<60。"
    assert grade_note(1999) == ""


def test_reports_are_read_by_the_frameworks_own_indicator_names():
    from pipeline.narratives.reports import check_report, extract_figures

    example = load_framework(2024, EXAMPLE)
    names = {i.code: i.level3 for i in example.indicators}
    text = ("遂溪县财政局2024年度部门整体支出绩效自评报告\n"
            "一、绩效自评情况\n"
            "（一）在职人员控制率\n本单位在职人员未超编制，自评得分5分。\n"
            "（二）预算完成率\n预算资金支出率95%，自评得分10分。\n"
            "（三）重点工作完成率\n全年重点工作全部完成，自评得分20分。\n")
    scores = {f.item: f.value for f in extract_figures(text, names, 20) if f.item.startswith("score.")}
    assert scores == {"score.A2": 5, "score.B1": 10, "score.C1": 20}
    [finding] = check_report(extract_figures(text, names, 20), {"score.B1": 8.0}, names)
    assert "B1“预算完成率”自评得分" in finding.message


def test_a_framework_in_earlier_terms_scores_the_same(tmp_path):
    """A county's file written with rule = proportional / deduction / ceiling still loads."""
    earlier = read_framework_file(FRAMEWORKS_DIR / "2024.toml")
    terms = {"A3": dict(rule="proportional", numerator="r13", denominator="r12"),
             "B2": dict(rule="deduction", count="r24", points_per_count=1),
             "B8": dict(rule="ceiling", numerator="r18", denominator="r17", limit=1.0, points_per_percent=1),
             "B9": dict(rule="ceiling", numerator="r20", denominator="r19", limit=1.0, points_per_percent="all")}
    keep = ("code", "level1", "level2", "level3", "max", "rule", "kinds")
    earlier["indicator"] = [{**{k: v for k, v in i.items() if k in keep}, **terms.get(i["code"], {})}
                            for i in earlier["indicator"]]
    old, new = parse_framework(earlier, "old.toml"), load_framework(2024)
    assert old.indicators == new.indicators


def test_another_rule_type_registers_with_its_parameters():
    from pipeline.scoring import framework as fw

    @fw.rule("capped_by_share", "share", label="按比例封顶")
    def capped_by_share(spec, amounts, self_score):
        """min(自评得分, 分值 × share)."""
        seen.append(getattr(amounts, "workbook", None))
        return min(self_score or 0.0, spec.max_score * float(spec.params["share"]))

    seen: list = []
    try:
        data = _data(metric=None, shape=None, threshold=None, points_per_percent=None, rule="capped_by_share")
        with pytest.raises(FrameworkError, match="capped_by_share 规则缺少参数 share"):
            parse_framework(data, "x.toml")
        data["indicator"][1]["share"] = 0.5
        c7 = parse_framework(data, "x.toml").indicator("C7")
        assert c7.params == {"share": 0.5} and fw.method_label(c7.method) == "按比例封顶"
        assert assess(c7, Figures({}, workbook="the workbook"), 30).score == 20
        assert seen == ["the workbook"]
    finally:
        del fw.RULES["capped_by_share"], fw.RULE_PARAMS["capped_by_share"], fw.RULE_LABELS["capped_by_share"]


def test_sample_generator_scores_any_framework():
    import random

    from sample_county.county import generate_scores

    example = load_framework(2024, EXAMPLE)
    fen = {line: (v if line in (24, 25) else round(v * 100)) for line, v in
           example_data(1_000_000.0, 930_000.0, 900_000.0, 50_000.0).items()}
    scores = generate_scores(example, fen, 0.2, random.Random(3))
    assert list(scores) == [i.code for i in example.indicators]
    # the unit's own 预算完成率: 93 % is two started steps below 100 %
    assert scores["B1"] == (6.0, "预算资金支出率93.00%，扣4分")
    assert all(0 <= s <= example.indicator(code).max_score for code, (s, _) in scores.items())
