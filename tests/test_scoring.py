"""复核 rules at and around their thresholds, grades, rankings with ties, year-over-year."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys

import polars as pl
import pytest

from pipeline.scoring import metrics
from pipeline.scoring.framework import (
    FrameworkError, assess, load_framework, parse_framework, review_score,
)
from pipeline.publishing.contract import CONTRACT
from pipeline.run import unit_changes
from tests.builders import REFERENCE_UNIT, County, reference_form
from pipeline.settings import FRAMEWORKS_DIR
from tests.conftest import ROOT, processed

# The indicators as the sample county's framework file defines them.
FRAMEWORK = load_framework(2024)
A3, B2, B8, B9 = (FRAMEWORK.indicator(code) for code in ("A3", "B2", "B8", "B9"))
JUDGED = FRAMEWORK.indicator("B6")


@pytest.mark.parametrize("spent, budget, expected", [
    (999_900.0, 1_000_000.0, 10.0),     # 99.99 % → 9.999 → 10.00 after rounding
    (1_000_000.0, 1_000_000.0, 10.0),   # 100 %
    (1_000_100.0, 1_000_000.0, 10.0),   # 100.01 %: capped at full marks
    (997_241.53, 1_000_000.0, 9.97),    # 99.72 %
    (995_000.0, 1_000_000.0, 9.95),
    (0.0, 1_000_000.0, 0.0),
    (0.0, 0.0, 10.0),                   # nothing issued, nothing to execute
    (5_000.0, 0.0, 10.0),
])
def test_proportional_execution_rate(spent, budget, expected):
    assert review_score(A3, {12: budget, 13: spent}, 10) == expected


@pytest.mark.parametrize("spent, budget, expected", [
    (999_900.0, 1_000_000.0, 2.0),      # 99.99 %
    (1_000_000.0, 1_000_000.0, 2.0),    # 100 %: still within the ceiling
    (1_000_100.0, 1_000_000.0, 1.99),   # 100.01 %: 0.01 point off, pro rata
    (1_005_000.0, 1_000_000.0, 1.5),    # 100.5 %
    (1_020_000.0, 1_000_000.0, 0.0),    # 102 %: 2 points off
    (1_500_000.0, 1_000_000.0, 0.0),    # never below 0
    (0.0, 0.0, 2.0),                    # zero budget, nothing spent: full
    (10.0, 0.0, 0.0),                   # zero budget, something spent: 0
])
def test_ceiling_pro_rata(spent, budget, expected):
    assert review_score(B8, {17: budget, 18: spent}, 2) == expected


@pytest.mark.parametrize("spent, budget, expected", [
    (99_990.0, 100_000.0, 1.0), (100_000.0, 100_000.0, 1.0), (100_010.0, 100_000.0, 0.0),
    (0.0, 0.0, 1.0), (1.0, 0.0, 0.0),
])
def test_ceiling_any_overrun_scores_zero(spent, budget, expected):
    assert review_score(B9, {19: budget, 20: spent}, 1) == expected


@pytest.mark.parametrize("count, expected", [(0, 4.0), (1, 3.0), (3, 1.0), (4, 0.0), (7, 0.0)])
def test_deduction_per_count(count, expected):
    assert review_score(B2, {24: count}, 4) == expected


@pytest.mark.parametrize("claimed, expected", [(9, 9.0), (10, 10.0), (12, 10.0), (-1, 0.0), (None, 0.0)])
def test_judged_keeps_the_self_score_within_its_max(claimed, expected):
    assert review_score(JUDGED, {}, claimed) == expected


def test_missing_figures_cannot_be_recomputed_and_keep_the_self_score():
    outcome = assess(A3, {12: 1000.0, 13: None}, 9)
    assert outcome.score == 9 and outcome.metric_value is None
    assert outcome.unscored == "预算资金支出率所需的数据表第13行未填写"


@pytest.mark.parametrize("value, expected", [(9.9724, 9.97), (0.125, 0.13), (2.675, 2.68), (97.965, 97.97)])
def test_scores_round_half_away_from_zero(value, expected):
    assert metrics.round_score(value) == expected


@pytest.mark.parametrize("score, band", [(100, "优"), (90, "优"), (89.99, "良"), (80, "良"),
                                         (79.99, "中"), (60, "中"), (59.99, "差"), (0, "差")])
def test_grade_bands(score, band):
    assert FRAMEWORK.grade(score) == band
    assert FRAMEWORK.grade_rule() == "优≥90，良80至90，中60至80，差<60"


def test_rates_over_a_zero_budget_are_not_applicable():
    assert metrics.execution_rate(0.0, 0.0) is None
    assert metrics.sangong_control_rate(5.0, 0.0) is None
    assert metrics.carryover_rate(0.0, 0.0, 0.0) is None
    assert metrics.execution_rate(8374036.75, 8397200.18) == pytest.approx(0.99724, abs=1e-5)


def test_framework_files_add_up_to_100():
    for year in (2022, 2023, 2024):
        framework = load_framework(year)
        assert sum(i.max_score for i in framework.indicators) == 100
        assert framework.deadline.year == year + 1


def _framework_data(**changes):
    data = {"year": 2030, "deadline": "2031-07-31", "indicator": [
        {"code": "A1", "level1": "一", "level2": "二", "level3": "三", "max": 60, "rule": "judged"},
        {"code": "A2", "level1": "一", "level2": "二", "level3": "三", "max": 40, "rule": "judged"},
    ]}
    data.update(changes)
    return data


def test_framework_whose_maxima_do_not_add_up_is_refused():
    data = _framework_data()
    data["indicator"][1]["max"] = 30
    with pytest.raises(FrameworkError, match="合计为 90，应为 100"):
        parse_framework(data, "2030.toml")


def test_framework_with_an_unknown_rule_or_missing_parameter_is_refused():
    data = _framework_data()
    data["indicator"][0]["rule"] = "magic"
    with pytest.raises(FrameworkError, match="magic"):
        parse_framework(data, "2030.toml")
    data = _framework_data()
    data["indicator"][0].update(rule="formula", metric="execution_rate", shape="deduct_above", threshold=1)
    with pytest.raises(FrameworkError, match="2030.toml: 指标 A1: deduct_above 缺少参数 points_per_percent"):
        parse_framework(data, "2030.toml")


def test_competition_ranking_with_ties():
    frame = pl.DataFrame({
        "unit_name": ["甲", "乙", "丙", "丁", "戊", "己"], "year": [2024] * 6,
        "unit_type": ["乡镇", "乡镇", "行政单位", "乡镇", "行政单位", "乡镇"],
        "department": ["A", "A", "A", "B", "B", "A"],
        "review_score": [95.0, 97.5, 97.5, 90.0, 80.0, 99.0],
        "execution_rate": [0.95] * 6,
    })
    ranked = CONTRACT["unit_scores"].derive_over_table(frame, dict(on_roster=pl.col("unit_name") != "己"))
    assert ranked.filter(unit_name="己")["rank"].to_list() == [None]
    ranked = ranked.filter(pl.col("unit_name") != "己").sort("unit_name")
    ranks = dict(zip(ranked["unit_name"], ranked["rank"]))
    assert ranks == {"乙": 1, "丙": 1, "甲": 3, "丁": 4, "戊": 5}
    in_type = dict(zip(ranked["unit_name"], ranked["rank_in_type"]))
    assert in_type == {"乙": 1, "甲": 2, "丁": 3, "丙": 1, "戊": 2}
    in_dept = dict(zip(ranked["unit_name"], ranked["rank_in_department"]))
    assert in_dept == {"乙": 1, "丙": 1, "甲": 3, "丁": 1, "戊": 2}


def test_year_over_year_changes():
    frame = pl.DataFrame({
        "unit_name": ["甲", "甲", "乙"], "year": [2023, 2024, 2024],
        "review_score": [88.5, 92.0, 90.0], "review_grade": ["良", "优", "优"],
        "execution_rate": [0.9, 0.95, 1.0], "sangong_control_rate": [1.1, None, 0.8],
    })
    changes = unit_changes(frame)
    assert changes.height == 1
    row = changes.row(0, named=True)
    assert row["review_score_change"] == 3.5 and row["previous_review_grade"] == "良"
    assert row["execution_rate_change"] == pytest.approx(0.05)
    assert row["sangong_control_rate_change"] is None


def test_reference_unit_review(county: County):
    county.workbook("ref.xlsx", reference_form())
    result = processed(county.raw)
    row = result.tables["unit_scores"].filter(unit_name=REFERENCE_UNIT).row(0, named=True)
    assert round(row["execution_rate"] * 100, 2) == 99.72
    assert round(row["public_control_rate"] * 100, 2) == 66.06
    assert round(row["sangong_control_rate"] * 100, 2) == 75.57
    assert (row["self_score"], row["self_grade"]) == (98, "优")
    assert (row["review_score"], row["review_grade"]) == (97.97, "优")
    assert row["inflation"] == 0.03 and row["rank"] == 1
    a3 = result.tables["indicator_scores"].filter(code="A3").row(0, named=True)
    assert a3["review_score"] == 9.97 and a3["self_score"] == 10
    # 0.03 points is within the 0.5-point allowance: no inflation warning
    assert not [f for s in result.submissions for f in s.findings if f.rule == "review.self_score_above_review"]


def test_inflated_self_score_is_a_warning_naming_the_indicators(county: County):
    data = {12: 1_000_000.0, 13: 800_000.0, 14: 700_000.0, 15: 100_000.0}
    county.workbook("infl.xlsx", reference_form(
        data=data, scores={"B2": 4, "B6": 10}, total=100, grade="优"))
    result = processed(county.raw)
    [finding] = [f for s in result.submissions for f in s.findings if f.rule == "review.self_score_above_review"]
    assert finding.severity == "warning"
    assert "A3" in finding.message and "B2" in finding.message and "B6" not in finding.message
    row = result.tables["unit_scores"].row(0, named=True)
    assert row["review_score"] == 100 - 2 - 1  # A3 8.00 of 10, B2 3 of 4
    assert row["inflation"] == 3.0


def test_pipeline_refuses_a_framework_that_does_not_add_up(county: County, tmp_path):

    frameworks = tmp_path / "frameworks"
    shutil.copytree(FRAMEWORKS_DIR, frameworks)
    path = frameworks / "2024.toml"
    # an override of one maximum in the year's own file, over the file it extends
    path.write_text(path.read_text(encoding="utf-8") + '\n[[indicator]]\ncode = "B5"\nmax = 14\n', encoding="utf-8")
    county.workbook("ref.xlsx", reference_form())
    done = subprocess.run([sys.executable, "-m", "pipeline", "run", "--raw", str(county.raw),
                           "--db", str(tmp_path / "x.duckdb"), "--no-progress"],
                          cwd=ROOT, capture_output=True, text=True,
                          env={**os.environ, "PERF_FRAMEWORKS": str(frameworks)})
    assert done.returncode == 2
    assert "2024.toml" in done.stderr and "合计为 99，应为 100" in done.stderr
    assert not (tmp_path / "x.duckdb").exists()
