"""抽查 (contract section 11): risk from named signals, a reproducible sample."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest

from pipeline.scoring import sampling
from pipeline.scoring.sampling import Sampling, SamplingError
from pipeline.settings import FRAMEWORKS_DIR
from tests.builders import County, reference_form, unit_form
from tests.conftest import run_pipeline

CONFIG = Sampling(rate=0.2, minimum=5, high_self_score=95,
                  weights={"inflation": 2, "errors": 3, "low_execution": 3, "sangong_over": 3, "public_over": 2,
                           "high_self_score_with_errors": 4, "report_contradictions": 2,
                           "unexplained_missed_targets": 2, "no_targets": 1})
TYPES = ("行政单位", "事业单位", "乡镇", "参公事业单位")


def units(n: int) -> list[dict]:
    return [dict(year=2024, unit_code=f"{i:06d}", unit_name=f"单位{i:03d}", unit_type=TYPES[i % len(TYPES)],
                 risk=float(i % 7), reasons="") for i in range(n)]


@pytest.mark.parametrize("n, expected", [(3, 3), (5, 5), (24, 5), (25, 5), (26, 6), (55, 11), (56, 12), (0, 0)])
def test_sample_size_is_the_rate_rounded_up_but_at_least_the_minimum(n, expected):
    assert sampling.sample_size(n, CONFIG) == expected


def test_quotas_follow_the_group_sizes():
    assert sampling.quotas({"乡镇": 10, "行政单位": 20, "事业单位": 10}, 4) == {"乡镇": 1, "行政单位": 2, "事业单位": 1}
    assert sum(sampling.quotas({"a": 3, "b": 3, "c": 3}, 2).values()) == 2


def test_highest_risk_half_then_random_within_types_reproducibly():
    candidates = units(60)
    chosen = sampling.draw(candidates, 2024, CONFIG)
    assert len(chosen) == 12
    by_risk = [c for c in chosen if c["selected_by"] == "risk"]
    assert len(by_risk) == 6
    assert min(c["risk"] for c in by_risk) >= max(c["risk"] for c in candidates if c not in
                                                   [{k: v for k, v in b.items() if k != "selected_by"} for b in by_risk])
    randoms = [c for c in chosen if c["selected_by"] == "random"]
    assert Counter(c["unit_type"] for c in randoms).most_common(1)[0][1] <= 2  # spread over the four types
    assert len({c["unit_name"] for c in chosen}) == 12
    assert sampling.draw(list(reversed(candidates)), 2024, CONFIG) == chosen  # order of input is irrelevant
    other = sampling.draw(candidates, 2023, CONFIG)
    assert {c["unit_name"] for c in other if c["selected_by"] == "random"} != {c["unit_name"] for c in randoms}


def row(**values) -> dict:
    base = dict(errors=0, self_score=90.0, execution_rate=0.95, sangong_control_rate=0.9, public_control_rate=0.9)
    return {**base, **values}


def test_each_signal_is_named_and_weighed():
    signals = sampling.unit_signals(
        row(errors=2, self_score=96.0, execution_rate=0.85, sangong_control_rate=1.05, public_control_rate=1.01),
        [dict(self_score=10.0, rule_score=8.5), dict(self_score=2.0, rule_score=2.0)],
        report_contradictions=1, missed_targets=2, has_targets=True, config=CONFIG)
    assert set(signals) == {"inflation", "errors", "report_contradictions", "unexplained_missed_targets",
                            "low_execution", "sangong_over", "public_over", "high_self_score_with_errors"}
    risk, reasons = sampling.risk(signals, CONFIG.weights), sampling.reasons(signals, CONFIG.weights)
    assert risk == 2 * 1.5 + 3 * 2 + 2 * 1 + 2 * 2 + 3 + 3 + 2 + 4
    assert "自评高出数据支持1.50分" in reasons and "预算资金支出率85.00%低于90.00%" in reasons
    assert sampling.risk(signals, {"errors": 3}) == 6


def test_targets_signals_are_zero_without_targets_data():
    assert sampling.unit_signals(row(), [], 0, None, None, CONFIG) == {}
    assert set(sampling.unit_signals(row(), [], 0, 0, False, CONFIG)) == {"no_targets"}


def test_framework_sampling_part_is_checked():
    with pytest.raises(SamplingError, match="不是已定义的风险信号"):
        sampling.parse_sampling({"sampling": {"rate": 0.2, "minimum": 5, "weights": {"luck": 1}}}, "x.toml")
    with pytest.raises(SamplingError, match="rate"):
        sampling.parse_sampling({"sampling": {"minimum": 5}}, "x.toml")
    assert sampling.parse_sampling({}, "x.toml") is None
    for year in (2022, 2023, 2024):
        config = sampling.load_sampling(year, FRAMEWORKS_DIR)
        assert config is not None and set(config.weights) == set(sampling.SIGNALS)


@pytest.mark.slow
def test_the_sample_in_the_warehouse(county: County, tmp_path: Path, query):
    county.workbook("ref.xlsx", reference_form())
    county.workbook("cz.xlsx", unit_form("遂溪县财政局", data={13: 5_000_000.0, 14: 3_660_548.0}))
    county.workbook("jy.xlsx", unit_form("遂溪县教育局", scores={"B6": 12}))
    db = tmp_path / "wh" / "performance.duckdb"
    run_pipeline(county.raw, db)
    sample = query(db, "SELECT unit_name, risk, reasons, selected_by FROM review_sample ORDER BY risk DESC, unit_name")
    assert len(sample) == 3  # fewer units than the minimum: all of them
    top = sample[0]
    assert top[0] in ("遂溪县财政局", "遂溪县教育局") and top[1] > 0 and top[3] == "risk"
    assert any("支出率" in reasons for _, _, reasons, _ in sample)
    first = query(db, "SELECT * FROM review_sample ORDER BY ALL")
    run_pipeline(county.raw, db, "--force")
    assert query(db, "SELECT * FROM review_sample ORDER BY ALL") == first


def test_the_signals_in_the_doc_are_the_code_signals():
    doc = (Path(__file__).resolve().parent.parent / "docs" / "review.md").read_text(encoding="utf-8")
    section = doc[doc.index("## 二、抽查"):]
    documented = {line.split("|")[1].strip().strip("`") for line in section.splitlines()
                  if line.startswith("| `")}
    assert documented == set(sampling.SIGNALS)
