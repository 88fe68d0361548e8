"""Every derived column of the warehouse, end to end: workbooks on disk, the real run, the
published DuckDB file. Each column's 口径 is restated here, apart from the code that computes
it: by 行次 (contract section 4), from the 绩效目标表 rows and the ledger notices written
here, or from the framework file, so a wrong line or two swapped inputs cannot pass."""

from __future__ import annotations

import datetime as dt
import os
import random
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

import duckdb
import pytest

from pipeline import ledger
from pipeline.ledger.record import record
from pipeline.checking import resubmission
from pipeline.publishing.contract import CONTRACT
from pipeline.run import process, run
from pipeline.scoring.framework import load_framework
from pipeline.settings import LOW_EXECUTION_RATE
from tests.builders import REFERENCE_DATA, REFERENCE_UNIT, ROSTER, County, reference_form, unit_form


def ratio(numerator, denominator):
    if numerator is None or denominator is None or denominator == 0:
        return None
    return numerator / denominator


def difference(now, before):
    return None if now is None or before is None else now - before


def half_up(value: float, places: str) -> float:
    return float(Decimal(repr(value)).quantize(Decimal(places), rounding=ROUND_HALF_UP))


def band(score, year):
    """The year's 等级 of a score, read straight from the framework's [grades]."""
    reached = [(lower, name) for name, lower in load_framework(year).grades.items() if score >= lower]
    return max(reached)[1] if reached else None


DERIVED = [(t.name, c.name) for t in CONTRACT.values() for c in t.columns if c.derive is not None]
FIGURES = [(t.name, c.name, c.line) for t in CONTRACT.values() for c in t.columns if c.line is not None]
UNITS = [name for _, name, _, _ in ROSTER if name != REFERENCE_UNIT]
ON_ROSTER = {name for _, name, _, _ in ROSTER}
OFF_ROSTER = "遂溪县城市更新服务中心"


def varied(seed: int) -> dict[int, float]:
    """The reference figures, each line scaled on its own: the lines no longer agree, so every
    ratio differs from its neighbours' and a swapped input shows."""
    rnd = random.Random(seed)
    return {line: (value if line >= 24 else round(value * rnd.uniform(0.5, 1.5), 2))
            for line, value in REFERENCE_DATA.items()}


SCORES = [{}, {"B1": 5}, {"A1": 5, "A2": 5, "B5": 5, "B7": 2}, {"A1": 12, "A2": 10}]
# 合计 as written by unit (the reference unit's is 98); None: left blank
TOTALS = {name: [None, 97.5, None, 91][n] for n, name in enumerate(UNITS)}


class Published:
    """A published warehouse, read back as plain rows."""

    def __init__(self, db: Path):
        self.db = db
        self.tables: dict[str, list[dict]] = {}

    def table(self, name: str) -> list[dict]:
        if name not in self.tables:
            with duckdb.connect(str(self.db), read_only=True) as con:
                cursor = con.execute(f"SELECT * FROM {name} ORDER BY ALL")
                names = [d[0] for d in cursor.description]
                self.tables[name] = [dict(zip(names, r)) for r in cursor.fetchall()]
        return self.tables[name]

    def of(self, name: str, unit: str, year: int) -> list[dict]:
        return [r for r in self.table(name) if (r["unit_name"], r["year"]) == (unit, year)]

    def lines(self, unit: str, year: int) -> dict[int, float | None]:
        return {r["line"]: r["amount"] for r in self.of("data_lines", unit, year)}

    def scores(self, unit: str, year: int) -> dict:
        (row,) = self.of("unit_scores", unit, year)
        return row

    def previous(self, unit: str, year: int) -> dict:
        """The unit's row of unit_scores of the latest earlier year it has one."""
        return max((r for r in self.table("unit_scores") if r["unit_name"] == unit and r["year"] < year),
                   key=lambda r: r["year"])


def build(county: County, book: Path | None = None) -> Published:
    """Run the pipeline on the county (with the ledger `book`, else an empty one) and publish."""
    root = county.raw.parent
    db = root / "warehouse" / "performance.duckdb"
    run(county.raw, db, progress=False, ledger=book or root / "none.sqlite")
    return Published(db)


# ------------------------------------------------------------------ unit_scores

@pytest.fixture(scope="module")
def unit_scores_county(tmp_path_factory) -> Published:
    root = tmp_path_factory.mktemp("derived")
    county = County(root / "raw")
    county.workbook("ref.xlsx", reference_form())
    for n, name in enumerate(UNITS):
        data = varied(n)
        if n == 0:
            data.update({12: 0.0, 9: 0.0, 19: 0.0})  # nothing issued: the rates over it are not applicable
        county.workbook(f"u{n}.xlsx", unit_form(name, data=data, scores=SCORES[n % 4], total=TOTALS[name]))
    county.workbook("off.xlsx", unit_form(OFF_ROSTER, data=varied(9), info={"单位类型": "事业单位"}))
    return build(county)


def lines_of(w: Published, row: dict) -> dict[int, float | None]:
    return w.lines(row["unit_name"], row["year"])


def by_lines(formula):
    """A unit_scores column restated from its unit-year's 数据表 lines (r) alone."""
    return lambda row, w: formula(lines_of(w, row))


def rank_among(*alike: str):
    """1 + the number of roster units of the same year (and the same `alike` columns) whose
    复核得分, to 2 decimals, is higher; NULL off the roster."""
    def restated(row, w: Published):
        if row["unit_name"] not in ON_ROSTER:
            return None
        peers = [r for r in w.table("unit_scores") if r["unit_name"] in ON_ROSTER and r["year"] == row["year"]
                 and all(r[c] == row[c] for c in alike)]
        return 1 + sum(round(r["review_score"], 2) > round(row["review_score"], 2) for r in peers)
    return restated


def low_execution(w: Published, unit: str, year: int) -> bool:
    r = w.lines(unit, year)
    rate = ratio(r.get(13), r.get(12))
    return rate is not None and rate < LOW_EXECUTION_RATE


UNIT_SCORES = {
    "execution_rate": by_lines(lambda r: ratio(r[13], r[12])),
    "opening_execution_rate": by_lines(lambda r: ratio(r[13], r[9])),
    "basic_execution_rate": by_lines(lambda r: ratio(r[14], r[10])),
    "project_execution_rate": by_lines(lambda r: ratio(r[15], r[11])),
    "budget_adjustment_rate": by_lines(lambda r: ratio(difference(r[12], r[9]), r[9])),
    "basic_share": by_lines(lambda r: ratio(r[14], r[13])),
    "carryover_rate": by_lines(lambda r: ratio(r[16], None if r[4] is None or r[8] is None else r[4] + r[8])),
    "public_control_rate": by_lines(lambda r: ratio(r[18], r[17])),
    "sangong_control_rate": by_lines(lambda r: ratio(r[20], r[19])),
    "self_score": lambda row, w: (
        TOTALS.get(row["unit_name"], 98) if TOTALS.get(row["unit_name"], 98) is not None
        else round(sum(i["self_score"] for i in w.of("indicator_scores", row["unit_name"], row["year"])
                       if i["self_score"] is not None), 2)),
    "review_score": lambda row, w: round(sum(
        i["review_score"] for i in w.of("indicator_scores", row["unit_name"], row["year"])), 2),
    "review_grade": lambda row, w: band(row["review_score"], row["year"]),
    "inflation": lambda row, w: None if row["self_score"] is None else round(row["self_score"] - row["review_score"], 2),
    "must_resubmit": lambda row, w: row["errors"] > 0,
    "rank": rank_among(),
    "rank_in_type": rank_among("unit_type"),
    "rank_in_department": rank_among("department"),
    "low_execution_two_years": lambda row, w: (
        low_execution(w, row["unit_name"], row["year"]) and low_execution(w, row["unit_name"], row["year"] - 1)),
}


# ------------------------------------------------------------------ unit_changes

def low(data: dict[int, float]) -> dict[int, float]:
    """The figures with half of 行次12 spent (行次13)."""
    return {**data, 13: round(data[12] / 2, 2)}


@pytest.fixture(scope="module")
def unit_changes_county(tmp_path_factory) -> Published:
    """2023 and 2024 for four units; the reference unit has 2022 and 2024 only, so its 2024 is
    compared with 2022 (the previous loaded year, not the calendar year before)."""
    root = tmp_path_factory.mktemp("changes")
    county = County(root / "raw")
    # spent half of what was issued in 2022 and 2024, but not two calendar years running
    county.workbook("ref-2022.xlsx", unit_form(REFERENCE_UNIT, year=2022, data=low(varied(20))), year=2022)
    county.workbook("ref-2024.xlsx", reference_form(data=low(REFERENCE_DATA)))
    for n, name in enumerate(UNITS):
        before, now = varied(30 + n), varied(40 + n)
        if n == 1:
            before.update({12: 0.0})   # 2023: nothing issued, no 支出率 to compare with
        if n == 2:
            now.update({19: 0.0})      # 2024: no 三公 budget, no 控制率
        if n == 3:
            before, now = low(before), low(now)
        county.workbook(f"u{n}-2023.xlsx", unit_form(name, year=2023, data=before, scores=SCORES[n % 4]), year=2023)
        county.workbook(f"u{n}-2024.xlsx", unit_form(name, data=now, scores=SCORES[(n + 1) % 4]))
    return build(county)


def change_of(formula):
    """A unit_changes column: formula(this year, the previous loaded year), each the unit-year's
    数据表 lines (r) and its unit_scores row (s)."""
    def restated(row, w: Published):
        before = w.previous(row["unit_name"], row["year"])
        assert row["previous_year"] == before["year"]
        now = w.scores(row["unit_name"], row["year"])
        return formula(w.lines(row["unit_name"], row["year"]), now,
                       w.lines(row["unit_name"], before["year"]), before)
    return restated


UNIT_CHANGES = {
    "review_score_change": change_of(lambda r, s, r0, s0: round(s["review_score"] - s0["review_score"], 2)),
    "execution_rate_change": change_of(lambda r, s, r0, s0: difference(ratio(r[13], r[12]), ratio(r0[13], r0[12]))),
    "sangong_control_rate_change": change_of(
        lambda r, s, r0, s0: difference(ratio(r[20], r[19]), ratio(r0[20], r0[19]))),
}


# ------------------------------------------------------------------ targets and review_sample

# 绩效目标表 rows by unit, as written. Directions by the reader's words; weights all blank for
# one unit, one blank among filled ones for another.
SHEETS = {
    REFERENCE_UNIT: [
        dict(kind="产出指标", category="数量指标", name="督办事项办结率", direction="≥", target=95, unit="%",
             actual=92.3, weight=20, reason="部分事项跨年度办理"),
        dict(kind="产出指标", category="质量指标", name="公文差错率", direction="不超过", target=1, unit="%",
             actual=1.6, weight=10, reason="新人较多"),
        dict(kind="效益指标", category="社会效益指标", name="政务服务保障", direction="定性", target="有效保障",
             actual="基本达成", weight=None, reason="个别会议保障不及时"),
        dict(kind="满意度指标", category="服务对象满意度指标", name="服务对象满意度", direction="不低于",
             target=90, unit="%", actual=93, weight=10),
    ],
    UNITS[0]: [
        dict(kind="产出指标", category="数量指标", name="预算评审项目数", direction="=", target=40, unit="个",
             actual=38),
        dict(kind="产出指标", category="时效指标", name="评审办结天数", direction="≤", target=20, unit="天",
             actual=18),
        dict(kind="效益指标", category="经济效益指标", name="审减资金", direction="≥", target=500, unit="万元",
             actual=410),
        dict(kind="效益指标", category="社会效益指标", name="资金安全", direction="定性", target="无重大问题",
             actual="部分达成", reason="一笔资金拨付延误"),
    ],
    UNITS[1]: [
        dict(kind="产出指标", category="数量指标", name="培训教师人次", direction="约", target=300, unit="人次",
             actual=320, weight=15),
        dict(kind="效益指标", category="社会效益指标", name="义务教育巩固率", direction="=", target=98, unit="%",
             actual=98.3, weight=25),
        dict(kind="满意度指标", category="服务对象满意度指标", name="家长满意度", direction="≥", target=85,
             unit="%", actual=80, weight=10, reason="食堂投诉"),
    ],
}
DIRECTIONS = {"≥": "≥", "不低于": "≥", "≤": "≤", "不超过": "≤", "=": "=", "定性": "定性"}


@pytest.fixture(scope="module")
def targets_county(tmp_path_factory) -> Published:
    """Five units in 2024, three with a 绩效目标表; the figures varied so that the risk signals differ."""
    root = tmp_path_factory.mktemp("targets")
    county = County(root / "raw")
    county.workbook("ref.xlsx", reference_form(targets=SHEETS[REFERENCE_UNIT]))
    for n, name in enumerate(UNITS):
        data = REFERENCE_DATA if n == 3 else varied(50 + n)
        county.workbook(f"u{n}.xlsx", unit_form(name, data=data, scores=SCORES[n % 4], targets=SHEETS.get(name)))
    return build(county)


def written(row: dict) -> dict:
    (spec,) = [s for s in SHEETS[row["unit_name"]] if s["name"] == row["name"]]
    return spec


def weight_as_used(row: dict, w: Published):
    """As written; all blank: 1 each; a blank among filled ones: their mean."""
    spec = written(row)
    given = [s["weight"] for s in SHEETS[row["unit_name"]] if s.get("weight") is not None]
    if spec.get("weight") is not None:
        return spec["weight"]
    return sum(given) / len(given) if given else 1.0


def completion_of_target(row: dict, w: Published):
    """≥ min(a/t, 1); ≤ 1 if a ≤ t else t/a; = 1 within 0.5 % else 1 − |a − t|/|t| (not below 0);
    定性 the framework's table; 4 decimals half up; NULL for a direction that is none of them."""
    spec = written(row)
    direction = DIRECTIONS.get(spec["direction"])
    if direction is None:
        return None
    if direction == "定性":
        return load_framework(row["year"]).qualitative[spec["actual"]]
    t, a = spec["target"], spec["actual"]
    if direction == "≥":
        c = min(a / t, 1.0)
    elif direction == "≤":
        c = 1.0 if a <= t else t / a
    else:
        c = 1.0 if abs(a - t) <= 0.005 * abs(t) else max(0.0, 1 - abs(a - t) / abs(t))
    return half_up(c, "0.0001")


TARGETS = {"weight": weight_as_used, "completion": completion_of_target}


def signals(row: dict, w: Published) -> dict[str, float]:
    """A unit-year's risk signals from the published tables and its 数据表 lines (r), by name."""
    unit, year = row["unit_name"], row["year"]
    s, r = w.scores(unit, year), w.lines(unit, year)
    high_self_score = load_framework(year).settings["sampling"]["high_self_score"]
    targets = w.of("targets", unit, year)
    claimed = [(i["self_score"], i["rule_score"]) for i in w.of("indicator_scores", unit, year)]
    execution, sangong, public = ratio(r[13], r[12]), ratio(r[20], r[19]), ratio(r[18], r[17])
    return {
        "inflation": round(sum(max(a - b, 0) for a, b in claimed if a is not None and b is not None), 2),
        "errors": s["errors"],
        "report_contradictions": sum(f["rule"].startswith("report.mismatch") for f in w.of("findings", unit, year)),
        "unexplained_missed_targets": sum(t["completion"] is not None and t["completion"] < 1
                                          and not (t["reason"] or "").strip() for t in targets),
        "low_execution": int(execution is not None and execution < LOW_EXECUTION_RATE),
        "sangong_over": int(sangong is not None and sangong > 1),
        "public_over": int(public is not None and public > 1),
        "high_self_score_with_errors": int(s["self_score"] is not None and s["self_score"] >= high_self_score
                                           and s["errors"] > 0),
        "no_targets": int(not targets),
    }


def weights_of(year: int) -> dict[str, float]:
    return load_framework(year).settings["sampling"]["weights"]


def risk_restated(row: dict, w: Published) -> float:
    """Σ weight × signal, weights from the year's framework file, 2 decimals."""
    weights = weights_of(row["year"])
    return round(sum(weights.get(name, 0) * value for name, value in signals(row, w).items()), 2)


def reasons_restated(row: dict, w: Published) -> str:
    """The weighed signals that are there, in words, joined by ；; 无风险信号 when none."""
    found = signals(row, w)
    r = w.lines(row["unit_name"], row["year"])
    words = {
        "inflation": lambda v: f"自评高出数据支持{v:.2f}分",
        "errors": lambda v: f"错误{v}个",
        "report_contradictions": lambda v: f"自评报告与表格不一致{v}处",
        "unexplained_missed_targets": lambda v: f"未完成且未说明原因的绩效目标{v}个",
        "low_execution": lambda v: f"预算资金支出率{r[13] / r[12] * 100:.2f}%低于{LOW_EXECUTION_RATE * 100:.2f}%",
        "sangong_over": lambda v: f"三公经费超预算（控制率{r[20] / r[19] * 100:.2f}%）",
        "public_over": lambda v: f"公用经费超预算（控制率{r[18] / r[17] * 100:.2f}%）",
        "high_self_score_with_errors": lambda v: f"自评{w.scores(row['unit_name'], row['year'])['self_score']:.2f}分但有错误",
        "no_targets": lambda v: "没有绩效目标表",
    }
    weights = weights_of(row["year"])
    return "；".join(words[name](v) for name, v in found.items() if v and weights.get(name, 0) > 0) or "无风险信号"


REVIEW_SAMPLE = {"risk": risk_restated, "reasons": reasons_restated}


# ------------------------------------------------------------------ indicator_scores

# the officers' scores that stand in the ledger, by (unit, 指标代码), as recorded
OFFICER_SCORES = {(REFERENCE_UNIT, "B6"): 6.5, (UNITS[0], "A3"): 4.25,
                  (UNITS[2], "A3"): 12.0}   # recorded when A3 was worth more than it is now
WITHDRAWN = (UNITS[1], "B1")


@pytest.fixture(scope="module")
def officer_county(tmp_path_factory) -> Published:
    """2024: the reference unit with a 绩效目标表 (its A1, A2 scored from it), the others without
    (judged); nothing issued for UNITS[1], so its 支出率 is not applicable. Officers' scores
    recorded through the ledger: one withdrawn, one above today's 分值."""
    root = tmp_path_factory.mktemp("officers")
    county = County(root / "raw")
    county.workbook("ref.xlsx", reference_form(targets=SHEETS[REFERENCE_UNIT]))
    for n, name in enumerate(UNITS):
        data = {**varied(60 + n), **({12: 0.0} if n == 1 else {})}
        county.workbook(f"u{n}.xlsx", unit_form(name, data=data, scores=SCORES[n % 4]))
    book = root / "ledger.sqlite"
    for (unit, code), score in OFFICER_SCORES.items():
        if score <= max_score(2024, code):
            record(book, year=2024, unit=unit, code=code, score=str(score), reason=f"{code}复核", officer="张三",
                   raw=county.raw)
        else:  # the checked entry refuses it today; the ledger keeps what was recorded then
            ledger.append_decision(book, ledger.Decision(2024, unit, code, score, f"{code}复核", "李四",
                                                         "2025-08-01T09:00:00"))
    record(book, year=2024, unit=WITHDRAWN[0], code=WITHDRAWN[1], score="1", reason="先扣分", officer="张三",
           raw=county.raw)
    record(book, year=2024, unit=WITHDRAWN[0], code=WITHDRAWN[1], withdraw=True, reason="材料已补", officer="张三",
           raw=county.raw)
    return build(county, book)


def max_score(year: int, code: str) -> float:
    """分值 of an indicator, from the year's framework file."""
    (spec,) = [i for i in load_framework(year).indicators if i.code == code]
    return spec.max_score


def review_score_restated(row: dict, w: Published) -> float:
    """The officer's score that stands in the ledger, within 0..分值 of the year's framework and
    to 2 decimals half up; else the rule's score."""
    officer = OFFICER_SCORES.get((row["unit_name"], row["code"]))
    if officer is None:
        return row["rule_score"]
    return half_up(min(max(officer, 0.0), max_score(row["year"], row["code"])), "0.01")


def review_source_restated(row: dict, w: Published) -> str:
    """officer where an officer's score stands; self for a judged rule; else rule."""
    if (row["unit_name"], row["code"]) in OFFICER_SCORES:
        return "officer"
    return "self" if row["rule"] == "judged" else "rule"


INDICATOR_SCORES = {"review_score": review_score_restated, "review_source": review_source_restated}


# ------------------------------------------------------------------ rectifications

YEAR = 2024
AS_OF = dt.date(2025, 8, 20)           # the latest date in the inputs: 财政局's 填报日期
DUE = {REFERENCE_UNIT: dt.date(2025, 8, 19), UNITS[0]: dt.date(2025, 9, 30)}


@pytest.fixture(scope="module")
def rectifications_county(tmp_path_factory) -> Published:
    """The reference unit: a wrong 行次14 (identity r13) fixed on resubmission and a wrong 自评等级
    kept, asked for by a notice due the day before AS_OF. 财政局: a wrong 自评等级, asked for by a
    notice not yet due."""
    root = tmp_path_factory.mktemp("rectifications")
    county = County(root / "raw")
    county.workbook("ref-1.xlsx", reference_form(info={"填报日期": dt.date(2025, 7, 20)},
                                                 data={14: REFERENCE_DATA[14] + 1200}, grade="良"))
    county.workbook("ref-2.xlsx", reference_form(info={"填报日期": dt.date(2025, 8, 12)}, grade="良"))
    county.workbook("fin.xlsx", unit_form(UNITS[0], info={"填报日期": AS_OF}, grade="良"))
    book = root / "ledger.sqlite"
    items = process(county.raw, ledger=root / "none.sqlite").tables["rectifications"].to_dicts()
    for unit, deadline in DUE.items():
        asked = [(i["rule"], i["location"]) for i in items if i["unit_name"] == unit and i["rule"] == "scores.grade_mismatch"]
        assert asked
        ledger.append_notice(book, ledger.Notice(YEAR, unit, 1, dt.date(2025, 8, 5), deadline, "n.docx",
                                                 resubmission.dump_items(asked), "2025-08-05T09:00:00"))
    return build(county, book)


def status_restated(row: dict, w: Published) -> str:
    """fixed: the resubmission no longer has it; overdue: open and asked for by a notice due
    before the latest date in the inputs; else open."""
    assert row["as_of"] == AS_OF
    if row["unit_name"] == REFERENCE_UNIT and row["rule"] == "identity.r13":
        return "fixed"
    if row["rule"] == "scores.grade_mismatch":
        assert row["deadline"] == DUE[row["unit_name"]]
        return "overdue" if AS_OF > DUE[row["unit_name"]] else "open"
    return "open"


def requested_restated(row: dict, w: Published) -> bool:
    """A changed cell is requested when the older version's error was about it: the lines of
    the identity it broke (r13 = r14 + r15), and the 合计 and 等级 for its wrong 自评等级."""
    identity = {r["source_cell"] for r in w.of("data_lines", row["unit_name"], row["year"]) if r["line"] in (13, 14, 15)}
    return row["location"] in identity or row["item"] in ("自评得分合计", "自评等级")


RECTIFICATIONS = {"status": status_restated}
SUBMISSION_CHANGES = {"requested": requested_restated}


# ------------------------------------------------------------------ submission_status

EXTRA = ("440823006", "遂溪县统计局", "遂溪县统计局", "行政单位")
# what each roster unit handed in for 2024, and whether that means 退回修改
HANDED_IN = {
    REFERENCE_UNIT: ("a clean workbook", False),
    UNITS[0]: ("a workbook with an error (自评等级)", True),
    UNITS[1]: ("only a file that cannot be opened", True),
    UNITS[2]: ("a clean workbook, then a newer file that cannot be opened", True),
    UNITS[3]: ("only its 2023 workbook, in the 2024 folder", True),
    EXTRA[1]: ("nothing", False),
}


@pytest.fixture(scope="module")
def status_county(tmp_path_factory) -> Published:
    root = tmp_path_factory.mktemp("status")
    county = County(root / "raw", roster=[*ROSTER, EXTRA])
    county.workbook("ref.xlsx", reference_form())
    county.workbook("u0.xlsx", unit_form(UNITS[0], grade="良"))
    county.file(f"{UNITS[1]}.xlsx", b"PK\x03\x04 not really a workbook")
    older = county.workbook("u2.xlsx", unit_form(UNITS[2]))
    newer = county.file(f"{UNITS[2]}_修改.xlsx", b"PK\x03\x04 not really a workbook")
    # no 填报日期 in the broken file: the newer one by modification time
    os.utime(older, ns=(1_750_000_000_000_000_000,) * 2)
    os.utime(newer, ns=(1_750_000_100_000_000_000,) * 2)
    county.workbook("u3-2023.xlsx", unit_form(UNITS[3], year=2023))
    return build(county)


SUBMISSION_STATUS = {"must_resubmit": lambda row, w: HANDED_IN[row["unit_name"]][1]}


# ------------------------------------------------------------------ every table

# table → (the county it is published from, column → its value restated from the published row)
KOUJING = {
    "unit_scores": ("unit_scores_county", UNIT_SCORES),
    "unit_changes": ("unit_changes_county", UNIT_CHANGES),
    "targets": ("targets_county", TARGETS),
    "review_sample": ("targets_county", REVIEW_SAMPLE),
    "indicator_scores": ("officer_county", INDICATOR_SCORES),
    "rectifications": ("rectifications_county", RECTIFICATIONS),
    "submission_changes": ("rectifications_county", SUBMISSION_CHANGES),
    "submission_status": ("status_county", SUBMISSION_STATUS),
}


# a column published from another county than the rest of its table (it needs two years)
COUNTY_OF_COLUMN = {("unit_scores", "low_execution_two_years"): "unit_changes_county"}


def test_every_derived_column_has_its_koujing_here():
    assert set(DERIVED) == {(table, column) for table, (_, columns) in KOUJING.items() for column in columns}


@pytest.mark.parametrize("table, column", DERIVED)
def test_derived_column_end_to_end(request, table: str, column: str):
    fixture, columns = KOUJING[table]
    w: Published = request.getfixturevalue(COUNTY_OF_COLUMN.get((table, column), fixture))
    published = w.table(table)
    assert published, f"{table}: no rows to check"
    values = set()
    for row in published:
        expected = columns[column](row, w)
        if isinstance(expected, float):
            assert row[column] == pytest.approx(expected, rel=1e-12), (row, column)
        else:
            assert row[column] == expected, (row, column)
        values.add(row[column])
    assert len(values) > 1, f"{table}.{column}: every row has the same value, the test could not tell inputs apart"


def test_unit_scores_has_every_unit(unit_scores_county: Published):
    assert len(unit_scores_county.table("unit_scores")) == 2 + len(UNITS)


def test_each_table_tells_its_cases_apart(unit_scores_county, unit_changes_county, targets_county,
                                          rectifications_county, status_county):
    """The counties hold the cases each 口径 names: a previous year that is not the calendar
    year before, a change that is not applicable, every direction, every status."""
    changes = {(r["unit_name"], r["year"]): r for r in unit_changes_county.table("unit_changes")}
    assert changes[(REFERENCE_UNIT, 2024)]["previous_year"] == 2022
    two_years = {(r["unit_name"], r["year"]): r["low_execution_two_years"] for r in unit_changes_county.table("unit_scores")}
    assert two_years[(UNITS[3], 2024)] and not two_years[(REFERENCE_UNIT, 2024)]  # 2022 and 2024 are not running
    assert unit_scores_county.scores(OFF_ROSTER, 2024)["rank"] is None
    assert changes[(UNITS[1], 2024)]["execution_rate_change"] is None
    assert changes[(UNITS[2], 2024)]["sangong_control_rate_change"] is None
    targets = targets_county.table("targets")
    assert {r["direction"] for r in targets} >= {"≥", "≤", "=", "定性"}
    assert any(r["completion"] is None for r in targets) and any(r["completion"] == 1 for r in targets)
    assert {r["weight"] for r in targets if r["unit_name"] == REFERENCE_UNIT} == {20, 10, 40 / 3}
    assert {r["status"] for r in rectifications_county.table("rectifications")} == {"fixed", "open", "overdue"}
    assert {r["unit_name"] for r in status_county.table("submission_status")} == set(HANDED_IN)
    self_scores = {r["unit_name"]: r["self_score"] for r in unit_scores_county.table("unit_scores")}
    assert self_scores[UNITS[2]] not in (None, 98) and self_scores[UNITS[1]] == 97.5  # a blank 合计: the sum
    assert {r["requested"] for r in rectifications_county.table("submission_changes")} == {True, False}
    sample = targets_county.table("review_sample")
    assert len({r["risk"] for r in sample}) > 2 and any("没有绩效目标表" in r["reasons"] for r in sample)


@pytest.mark.parametrize("table, column, line", FIGURES)
def test_figure_column_end_to_end(unit_scores_county: Published, table: str, column: str, line: int):
    for row in unit_scores_county.table(table):
        assert row[column] == lines_of(unit_scores_county, row)[line]


def test_reference_unit_execution_in_depth(unit_scores_county: Published):
    """The reference unit's report: 77.17 % against the opening budget, 49.98 % for projects."""
    row = unit_scores_county.scores(REFERENCE_UNIT, 2024)
    assert round(row["opening_execution_rate"] * 100, 2) == 77.17
    assert round(row["project_execution_rate"] * 100, 2) == 49.98
    assert round(row["execution_rate"] * 100, 2) == 99.72


def test_officer_county_tells_its_cases_apart(officer_county: Published):
    """Every source, an officer's score above today's 分值, a withdrawn score, a 绩效目标表 rule
    that scored and one that fell back to judged, a formula that kept the self-score."""
    rows = {(r["unit_name"], r["code"]): r for r in officer_county.table("indicator_scores")}
    assert {r["review_source"] for r in rows.values()} == {"officer", "rule", "self"}
    stale = rows[(UNITS[2], "A3")]
    assert stale["review_score"] == max_score(2024, "A3") < OFFICER_SCORES[(UNITS[2], "A3")]
    assert (stale["officer"], stale["reason"]) == ("李四", "A3复核")
    officer = rows[(UNITS[0], "A3")]
    assert officer["review_score"] != officer["rule_score"] and officer["officer"] == "张三"
    withdrawn = rows[WITHDRAWN]
    assert withdrawn["review_source"] != "officer" and withdrawn["officer"] is None
    assert withdrawn["review_score"] == withdrawn["rule_score"]
    assert rows[(REFERENCE_UNIT, "A2")]["rule"] == "targets" and rows[(UNITS[0], "A2")]["rule"] == "judged"
    unscored = rows[(UNITS[1], "A3")]
    assert unscored["review_source"] == "rule" and unscored["metric_value"] is None
    assert unscored["rule_score"] == unscored["self_score"]
