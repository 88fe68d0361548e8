"""The sample county: 遂溪县, three evaluation years, about sixty budget units.

``python -m sample_county --out raw`` (``make sample``) writes the roster, one workbook
per unit and year, a handful of 自评报告 and a set of deliberately faulty files. Every
random choice comes from random.Random seeded with a fixed string, and every file's
embedded timestamps come from the data, so two runs give the same bytes.

Amounts are generated in fen (integer 0.01 元) so that the identities of the 数据表 hold
exactly; a 万元 form is generated in steps of 0.01 万元 (100 元) for the same reason.

FAULTY_CASES, MESSY_CASES, INFLATION_CASES and REPORT_CASES say what each special file
is and what the pipeline should make of it; tests of the reader and the rules use them.
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import io
import random
import zipfile
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from decimal import Decimal
from pathlib import Path
from typing import Any

import xlsxwriter

from pipeline.forms.writer import plan_form, render_xlsx, write_workbook, write_xls_workbook
from pipeline.scoring.framework import Framework, IndicatorSpec, assess, load_framework
from pipeline.scoring.metrics import METRICS, grade
from pipeline.scoring.metrics import round_score
from sample_county import targets as sample_targets
from schemas.form import DATA_LINE_BY_NUMBER, DATA_LINES, REQUIRED_SHEETS, SHEET_DATA, SHEET_INFO, SHEET_SCORES

SEED = "suixi-sample-2025"
COUNTY = "遂溪县"
YEARS = (2022, 2023, 2024)
FIRST_YEAR = YEARS[0]
REFERENCE_UNIT = "遂溪县人民政府办公室"

# --------------------------------------------------------------------------- roster

TOWNS = ("遂城镇", "黄略镇", "洋青镇", "界炮镇", "乐民镇", "江洪镇", "杨柑镇", "城月镇",
         "乌塘镇", "建新镇", "岭北镇", "北坡镇", "港门镇", "草潭镇", "河头镇")

# (单位名称, 单位类型, 主管部门 or None for itself, opening budget range in 万元 for the first year)
_COUNTY_UNITS: tuple[tuple[str, str, str | None, tuple[int, int]], ...] = (
    ("遂溪县人民政府办公室", "行政单位", None, (990, 1000)),
    ("遂溪县发展和改革局", "行政单位", None, (400, 700)),
    ("遂溪县财政局", "行政单位", None, (900, 1400)),
    ("遂溪县教育局", "行政单位", None, (6000, 9000)),
    ("遂溪县卫生健康局", "行政单位", None, (2500, 4000)),
    ("遂溪县公安局", "行政单位", None, (4500, 6500)),
    ("遂溪县农业农村局", "行政单位", None, (1500, 2500)),
    ("遂溪县自然资源局", "行政单位", None, (1200, 2000)),
    ("遂溪县住房和城乡建设局", "行政单位", None, (1000, 1800)),
    ("遂溪县交通运输局", "行政单位", None, (1200, 2000)),
    ("遂溪县水务局", "行政单位", None, (1000, 1600)),
    ("遂溪县民政局", "行政单位", None, (1500, 2500)),
    ("遂溪县人力资源和社会保障局", "行政单位", None, (800, 1200)),
    ("遂溪县市场监督管理局", "行政单位", None, (600, 900)),
    ("遂溪县审计局", "行政单位", None, (300, 450)),
    ("遂溪县统计局", "行政单位", None, (200, 320)),
    ("遂溪县司法局", "行政单位", None, (400, 600)),
    ("遂溪县文化广电旅游体育局", "行政单位", None, (500, 800)),
    ("遂溪县应急管理局", "行政单位", None, (400, 600)),
    ("遂溪县退役军人事务局", "行政单位", None, (500, 800)),
    ("遂溪县林业局", "行政单位", None, (300, 500)),
    ("遂溪县工业和信息化局", "行政单位", None, (300, 450)),
    ("遂溪县商务局", "行政单位", None, (250, 400)),
    ("遂溪县城市管理和综合执法局", "行政单位", None, (1200, 1800)),
    ("遂溪县医疗保障局", "行政单位", None, (300, 450)),
    ("遂溪县信访局", "行政单位", None, (200, 300)),
    ("遂溪县机关事务管理中心", "参公事业单位", "遂溪县人民政府办公室", (300, 500)),
    ("遂溪县医疗保障事业管理中心", "参公事业单位", "遂溪县医疗保障局", (250, 400)),
    ("遂溪县就业服务中心", "参公事业单位", "遂溪县人力资源和社会保障局", (300, 500)),
    ("遂溪县动物卫生监督所", "参公事业单位", "遂溪县农业农村局", (200, 350)),
    ("遂溪县水政监察大队", "参公事业单位", "遂溪县水务局", (150, 250)),
    ("遂溪县第一中学", "事业单位", "遂溪县教育局", (3000, 4500)),
    ("遂溪县实验中学", "事业单位", "遂溪县教育局", (2000, 3000)),
    ("遂溪县职业技术学校", "事业单位", "遂溪县教育局", (1500, 2500)),
    ("遂溪县人民医院", "事业单位", "遂溪县卫生健康局", (3000, 6000)),
    ("遂溪县中医院", "事业单位", "遂溪县卫生健康局", (1500, 2500)),
    ("遂溪县妇幼保健院", "事业单位", "遂溪县卫生健康局", (1000, 1600)),
    ("遂溪县疾病预防控制中心", "事业单位", "遂溪县卫生健康局", (600, 1000)),
    ("遂溪县财政国库支付中心", "事业单位", "遂溪县财政局", (150, 250)),
    ("遂溪县公路事务中心", "事业单位", "遂溪县交通运输局", (800, 1200)),
    ("遂溪县农业技术推广中心", "事业单位", "遂溪县农业农村局", (200, 350)),
    ("遂溪县不动产登记中心", "事业单位", "遂溪县自然资源局", (250, 400)),
    ("遂溪县图书馆", "事业单位", "遂溪县文化广电旅游体育局", (120, 200)),
    ("遂溪县社会福利院", "事业单位", "遂溪县民政局", (300, 500)),
    ("遂溪县林业技术推广站", "事业单位", "遂溪县林业局", (100, 180)),
    ("遂溪县公证处", "事业单位", "遂溪县司法局", (80, 150)),
)


@dataclass(frozen=True)
class Unit:
    code: str
    name: str
    department: str
    unit_type: str
    region: str
    budget_range_wan: tuple[int, int]


def roster() -> tuple[Unit, ...]:
    """The county's budget units, coded 部门号 (3 digits) + 单位序号 (3 digits)."""
    units: list[Unit] = []
    dept_numbers: dict[str, int] = {}
    sub_counts: dict[str, int] = {}
    for name, unit_type, department, budget in _COUNTY_UNITS:
        department = department or name
        if department == name:
            dept_numbers[name] = 101 + len(dept_numbers)
            sub_counts[name] = 1
            seq = 1
        else:
            sub_counts[department] += 1
            seq = sub_counts[department]
        units.append(Unit(f"{dept_numbers[department]}{seq:03d}", name, department,
                          unit_type, "县直", budget))
    for i, town in enumerate(TOWNS):
        name = f"{COUNTY}{town}人民政府"
        units.append(Unit(f"{301 + i}001", name, name, "乡镇", town, (300, 900)))
    return tuple(units)


def write_roster(units: tuple[Unit, ...], path: Path) -> Path:
    """units.csv as Excel saves it: UTF-8 with BOM, CRLF line ends."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(["单位编码", "单位名称", "主管部门", "单位类型", "地区"])
    for u in units:
        writer.writerow([u.code, u.name, u.department, u.unit_type, u.region])
    path.write_bytes(buffer.getvalue().encode("utf-8-sig"))
    return path


# --------------------------------------------------------------------------- special cases

NEVER_SUBMIT = ("遂溪县信访局", "遂溪县公证处", "遂溪县林业技术推广站")
SKIPPED_YEARS = {("遂溪县图书馆", 2022), ("遂溪县河头镇人民政府", 2023)}
NOT_IN_ROSTER_UNIT = "遂溪县城市更新服务中心"
UNMATCHED_REPORT_UNIT = "遂溪县供销合作联社"

# Latent quality of a unit's management, 0..1: drives the judged indicators and so the
# grade. Units not listed draw from 0.82..1.0 (优 most of the time).
_QUALITY = {
    REFERENCE_UNIT: 0.97,
    "遂溪县商务局": 0.62, "遂溪县统计局": 0.6, "遂溪县退役军人事务局": 0.66,
    "遂溪县江洪镇人民政府": 0.58, "遂溪县乌塘镇人民政府": 0.64, "遂溪县社会福利院": 0.6,
    "遂溪县不动产登记中心": 0.68, "遂溪县草潭镇人民政府": 0.62,
    "遂溪县住房和城乡建设局": 0.7,
    "遂溪县建新镇人民政府": 0.3, "遂溪县水政监察大队": 0.36, "遂溪县北坡镇人民政府": 0.4,
    "遂溪县岭北镇人民政府": 0.98, "遂溪县人力资源和社会保障局": 0.95,
}

# Execution rates (r13 / r12) set on purpose; others are drawn around the unit's mean.
_EXECUTION = {
    ("遂溪县住房和城乡建设局", 2024): 0.8,
    ("遂溪县自然资源局", 2024): 0.72,
    ("遂溪县自然资源局", 2023): 0.86,
    ("遂溪县江洪镇人民政府", 2023): 0.68,
    ("遂溪县城月镇人民政府", 2022): 0.77,
    ("遂溪县黄略镇人民政府", 2024): 0.975,
}
# 三公经费 overruns (r20 / r19 above 100 %) and 公用经费 overruns (r18 / r17).
_SANGONG_OVERRUN = {("遂溪县城市管理和综合执法局", 2024), ("遂溪县公安局", 2023),
                    ("遂溪县界炮镇人民政府", 2024), ("遂溪县中医院", 2022)}
_PUBLIC_OVERRUN = {("遂溪县妇幼保健院", 2024), ("遂溪县洋青镇人民政府", 2023)}
_GOV_FUND_UNITS = {"遂溪县人民政府办公室", "遂溪县自然资源局", "遂溪县住房和城乡建设局",
                   "遂溪县交通运输局", "遂溪县水务局", "遂溪县城市管理和综合执法局",
                   "遂溪县农业农村局", "遂溪县遂城镇人民政府", "遂溪县公路事务中心"}
_UNBALANCED_OPENING = {"遂溪县实验中学", "遂溪县港门镇人民政府"}
_ADDITIONS = {("遂溪县洋青镇人民政府", 2024): 2}

# Self-scores above what the figures support: (unit, year) → indicator codes claimed in full.
_INFLATED = {
    ("遂溪县住房和城乡建设局", 2024): ("A3",),
    ("遂溪县城市管理和综合执法局", 2024): ("B9",),
    ("遂溪县洋青镇人民政府", 2024): ("B2",),
    ("遂溪县自然资源局", 2023): ("A3",),
}


@dataclass(frozen=True)
class _Special:
    kind: str
    year: int
    unit: str
    file: str
    expected_state: str
    filed_on: dt.date | None = None


def _std(unit: str, year: int, suffix: str = "", ext: str = "xlsx") -> str:
    return f"{unit}_{year}年部门整体支出绩效自评表{suffix}.{ext}"


_FAULTS: tuple[_Special, ...] = (
    _Special("corrupt", 2024, "遂溪县统计局", _std("遂溪县统计局", 2024), "quarantined"),
    _Special("missing_sheet", 2024, "遂溪县审计局", _std("遂溪县审计局", 2024), "quarantined"),
    _Special("text_amount", 2024, "遂溪县司法局", _std("遂溪县司法局", 2024), "quarantined"),
    _Special("broken_identity", 2024, "遂溪县民政局", _std("遂溪县民政局", 2024), "loaded"),
    _Special("score_above_max", 2024, "遂溪县水务局", _std("遂溪县水务局", 2024), "loaded"),
    _Special("wrong_grade", 2024, "遂溪县商务局", _std("遂溪县商务局", 2024), "loaded"),
    _Special("duplicate_older", 2024, "遂溪县交通运输局", _std("遂溪县交通运输局", 2024),
             "superseded", dt.date(2025, 7, 8)),
    _Special("duplicate_newer", 2024, "遂溪县交通运输局",
             _std("遂溪县交通运输局", 2024, "（修改后）"), "loaded", dt.date(2025, 7, 21)),
    _Special("lock_file", 2024, "遂溪县财政局", "~$" + _std("遂溪县财政局", 2024), "skipped"),
    _Special("wanyuan_form", 2024, "遂溪县乐民镇人民政府",
             _std("遂溪县乐民镇人民政府", 2024, "（万元）"), "loaded"),
    _Special("xls_form", 2024, "遂溪县林业局", _std("遂溪县林业局", 2024, ext="xls"), "loaded"),
    _Special("year_mismatch", 2023, "遂溪县城月镇人民政府", _std("遂溪县城月镇人民政府", 2023),
             "quarantined"),
    _Special("not_in_roster", 2024, NOT_IN_ROSTER_UNIT, _std(NOT_IN_ROSTER_UNIT, 2024), "loaded"),
    _Special("late", 2024, "遂溪县港门镇人民政府", _std("遂溪县港门镇人民政府", 2024), "loaded",
             dt.date(2025, 8, 4)),
    _Special("late", 2023, "遂溪县不动产登记中心", _std("遂溪县不动产登记中心", 2023), "loaded",
             dt.date(2024, 8, 9)),
    # Contract section 8: layouts and files that must never be read as a guess.
    _Special("two_amount_columns", 2024, "遂溪县动物卫生监督所", _std("遂溪县动物卫生监督所", 2024),
             "quarantined"),
    _Special("comma_decimal", 2024, "遂溪县水政监察大队", _std("遂溪县水政监察大队", 2024), "quarantined"),
    _Special("renumbered_rows", 2024, "遂溪县第一中学", _std("遂溪县第一中学", 2024), "quarantined"),
    _Special("merged_value_cell", 2024, "遂溪县实验中学", _std("遂溪县实验中学", 2024), "quarantined"),
    _Special("sheet_copy", 2024, "遂溪县界炮镇人民政府", _std("遂溪县界炮镇人民政府", 2024), "quarantined"),
    _Special("formula_error", 2024, "遂溪县江洪镇人民政府", _std("遂溪县江洪镇人民政府", 2024), "loaded"),
    _Special("phone_in_staff", 2024, "遂溪县乌塘镇人民政府", _std("遂溪县乌塘镇人民政府", 2024), "loaded"),
    _Special("name_by_code", 2024, "遂溪县建新镇人民政府", _std("遂溪县建新镇人民政府", 2024), "loaded"),
    _Special("copied_workbook", 2024, "遂溪县北坡镇人民政府", _std("遂溪县北坡镇人民政府", 2024), "superseded"),
)
# The unit whose workbook 遂溪县北坡镇人民政府 handed in as its own (copied_workbook).
COPIED_FROM_UNIT = "遂溪县文化广电旅游体育局"
# The finding each section 8 case must carry.
SECTION_8_RULES = {
    "two_amount_columns": "data.columns_ambiguous", "comma_decimal": "data.digit_grouping",
    "renumbered_rows": "data.line_shifted", "merged_value_cell": "data.merged_value",
    "sheet_copy": "sheet.ambiguous", "formula_error": "data.formula_error",
    "phone_in_staff": "info.staff_invalid", "name_by_code": "roster.name_differs",
    "copied_workbook": "file.copied", "year_mismatch": "file.wrong_year_folder",
}

FAULTY_CASES: list[dict[str, Any]] = [
    {"file": f"{s.year}/{s.file}", "kind": s.kind, "expected_state": s.expected_state,
     "unit_name": s.unit, "year": s.year}
    for s in _FAULTS
]

# Messy but valid: these must load with no fatal finding and no error.
_MESSES: tuple[_Special, ...] = (
    _Special("amounts_as_text_with_commas", 2024, "遂溪县教育局", _std("遂溪县教育局", 2024), "loaded"),
    _Special("amounts_full_width_with_yuan", 2024, "遂溪县杨柑镇人民政府",
             _std("遂溪县杨柑镇人民政府", 2024), "loaded"),
    _Special("dash_for_zero", 2024, "遂溪县农业技术推广中心",
             _std("遂溪县农业技术推广中心", 2024), "loaded"),
    _Special("extra_title_rows", 2024, "遂溪县卫生健康局", _std("遂溪县卫生健康局", 2024), "loaded"),
    _Special("sheet_names_with_spaces", 2024, "遂溪县发展和改革局",
             _std("遂溪县发展和改革局", 2024), "loaded"),
    _Special("extra_sheets_and_order", 2024, "遂溪县人力资源和社会保障局",
             _std("遂溪县人力资源和社会保障局", 2024), "loaded"),
    _Special("grade_written_youxiu", 2024, "遂溪县岭北镇人民政府",
             _std("遂溪县岭北镇人民政府", 2024), "loaded"),
    _Special("dash_for_zero", 2023, "遂溪县财政国库支付中心",
             _std("遂溪县财政国库支付中心", 2023), "loaded"),
    _Special("note_mentions_wanyuan", 2024, "遂溪县文化广电旅游体育局", _std("遂溪县文化广电旅游体育局", 2024), "loaded"),
    _Special("prior_year_column", 2024, "遂溪县妇幼保健院", _std("遂溪县妇幼保健院", 2024), "loaded"),
    _Special("hidden_stale_row", 2024, "遂溪县疾病预防控制中心", _std("遂溪县疾病预防控制中心", 2024), "loaded"),
    _Special("xlsx_named_xls", 2024, "遂溪县退役军人事务局", _std("遂溪县退役军人事务局", 2024, ext="xls"),
             "loaded"),
    _Special("wps_et_file", 2024, "遂溪县工业和信息化局", _std("遂溪县工业和信息化局", 2024, ext="et"), "loaded"),
    _Special("zero_width_name", 2024, "遂溪县社会福利院", _std("遂溪县社会福利院", 2024), "loaded"),
    _Special("decorated_labels", 2024, "遂溪县机关事务管理中心", _std("遂溪县机关事务管理中心", 2024), "loaded"),
    _Special("qianyuan_form", 2024, "遂溪县就业服务中心", _std("遂溪县就业服务中心", 2024, "（千元）"), "loaded"),
)
MESSY_CASES: list[dict[str, Any]] = [
    {"file": f"{s.year}/{s.file}", "variation": s.kind, "expected_state": s.expected_state,
     "unit_name": s.unit, "year": s.year}
    for s in _MESSES
]

# 退回修改 and 整改 (contract section 12): on NOTICE_DAY the bureau sent 2024's 退回修改
# notices (sample_county/notices.json, written by `make sample`, is what `make report` would
# have recorded in the ledger that day); these units resubmitted, some fully, some partly,
# one moving money between lines nobody asked about, one after the deadline.
NOTICE_DAY = dt.date(2025, 8, 5)
NOTICE_DEADLINE = dt.date(2025, 8, 19)
NOTICES_FILE = Path(__file__).resolve().parent / "notices.json"


@dataclass(frozen=True)
class _Version:
    suffix: str                 # file name suffix of this version
    filed_on: dt.date
    faults: tuple[str, ...]     # identity_r13 / identity_r16 / score_above_max / wrong_grade / moved_basic_to_project


_CHAINS: dict[tuple[str, int], tuple[tuple[_Version, ...], str]] = {
    ("遂溪县公安局", 2024): ((_Version("", dt.date(2025, 7, 18), ("identity_r16",)),
                           _Version("（修改后）", dt.date(2025, 8, 12), ())), "fixed"),
    ("遂溪县市场监督管理局", 2024): ((_Version("", dt.date(2025, 7, 22), ("identity_r13", "score_above_max")),
                               _Version("（修改后）", dt.date(2025, 8, 14), ("score_above_max",))),
                              "partly_fixed"),
    ("遂溪县应急管理局", 2024): ((_Version("", dt.date(2025, 7, 15), ("identity_r13",)),
                             _Version("（修改后）", dt.date(2025, 8, 11), ("moved_basic_to_project",))),
                            "changed_beyond_request"),
    ("遂溪县医疗保障局", 2024): ((_Version("", dt.date(2025, 7, 20), ("wrong_grade",)),
                             _Version("（第二次报送）", dt.date(2025, 8, 22), ())), "fixed_late"),
}
MOVED_FEN = 5_000_000  # 50 000.00 元 moved from 基本支出 (r10) to 项目支出 (r11)

RESUBMISSION_CASES: list[dict[str, Any]] = [
    {"unit_name": unit, "year": year, "kind": kind,
     "files": [f"{year}/{_std(unit, year, v.suffix)}" for v in versions],
     "filed_on": [v.filed_on for v in versions], "faults": [list(v.faults) for v in versions]}
    for (unit, year), (versions, kind) in _CHAINS.items()
]

REFERENCE_FILE_2024 = f"2024/{_std(REFERENCE_UNIT, 2024)}"

# 数据表 of the reference unit for 2024, in fen (contract section 7).
_REFERENCE_2024_FEN = {
    1: 1085099708, 2: 985099708, 3: 100000000, 4: 839790975, 5: 839720018, 6: 0, 7: 70957,
    8: 603813, 9: 1085099708, 10: 817128208, 11: 267971500, 12: 839720018, 13: 837403675,
    14: 703458475, 15: 133945200, 16: 2991113, 17: 25900000, 18: 17108657, 19: 34000000,
    20: 25692966, 21: None, 22: None, 23: None, 24: 1, 25: 0,
}
_REFERENCE_2024_SCORES = {
    "A1": (20, None), "A2": (20, None), "A3": (10, None), "B1": (2, None),
    "B2": (3, "年中追加公车购置费预算1笔，扣1分"), "B3": (3, None), "B4": (3, None),
    "B5": (15, None), "B6": (9, "采购合同未在两个工作日内备案，扣1分"), "B7": (10, None),
    "B8": (2, None), "B9": (1, None),
}
_REFERENCE_2024_INFO = {"内设机构数": 13, "编制数": 57, "在职人数": 51, "退休人数": 50}

# --------------------------------------------------------------------------- figures

COUNT_LINES = tuple(d.line for d in DATA_LINES if d.is_count)
FEN_PER_WANYUAN_CENT = 10_000  # 0.01 万元 = 100 元 = 10 000 fen
FEN_PER_QIANYUAN_CENT = 1_000  # 0.01 千元 = 10 元 = 1 000 fen


@dataclass(frozen=True)
class Profile:
    """What stays with a unit from year to year."""

    unit: Unit
    base_fen: int            # opening budget (r1) of the first year
    growth: float            # yearly growth of the budget
    quality: float           # 0..1, management quality (judged indicators)
    execution_mean: float    # usual r13 / r12
    basic_share: float       # r10 / r9
    gov_fund_share: float    # r3 / r1 (0 for most units)
    gives_breakdown: bool    # fills r21–r23
    naming: int              # which file-name habit the unit has


def profile_of(unit: Unit) -> Profile:
    rng = random.Random(f"{SEED}:{unit.name}")
    low, high = unit.budget_range_wan
    base_fen = rng.randint(low * 1_000_000, high * 1_000_000)
    quality = _QUALITY.get(unit.name, rng.uniform(0.82, 1.0))
    return Profile(
        unit=unit,
        base_fen=base_fen,
        growth=rng.uniform(0.02, 0.07),
        quality=quality,
        execution_mean=rng.uniform(0.9, 0.995),
        basic_share=rng.uniform(0.55, 0.85),
        gov_fund_share=rng.uniform(0.05, 0.15) if unit.name in _GOV_FUND_UNITS else 0.0,
        gives_breakdown=rng.random() < 0.5,
        naming=rng.randrange(5),
    )


def _step(value: float, quantum: int) -> int:
    """``value`` fen rounded to a whole number of ``quantum`` fen."""
    return int(round(value / quantum)) * quantum


def generate_figures(profile: Profile, year: int, rng: random.Random,
                     quantum: int = 1) -> dict[int, int | None]:
    """One year's 数据表 in fen (counts as plain integers); identities hold exactly."""
    name = profile.unit.name
    f: dict[int, int | None] = {}
    years_on = year - FIRST_YEAR
    f[1] = _step(profile.base_fen * (1 + profile.growth) ** years_on * rng.uniform(0.97, 1.03),
                 quantum)
    f[3] = _step(f[1] * profile.gov_fund_share, quantum)
    f[2] = f[1] - f[3]
    f[9] = f[1]
    if name in _UNBALANCED_OPENING:
        f[9] = f[1] - _step(f[1] * rng.uniform(0.01, 0.04), quantum)
    f[10] = _step(f[9] * min(profile.basic_share + rng.uniform(-0.03, 0.03), 0.95), quantum)
    f[11] = f[9] - f[10]
    f[12] = _step(f[1] * rng.uniform(0.84, 1.1), quantum)
    f[6] = _step(f[3] * rng.uniform(0.0, 0.9), quantum) if f[3] else 0
    f[6] = min(f[6], f[12])
    f[5] = f[12] - f[6]
    f[7] = _step(f[1] * rng.uniform(0.0, 0.004), quantum) if rng.random() < 0.5 else 0
    f[4] = f[5] + f[6] + f[7]
    f[8] = _step(f[1] * rng.uniform(0.0, 0.025), quantum)
    rate = _EXECUTION.get((name, year))
    if rate is None:
        rate = min(profile.execution_mean + rng.uniform(-0.04, 0.03), 1.0)
    f[13] = _step(f[12] * rate, quantum)
    f[14] = _step(f[13] * min(profile.basic_share + rng.uniform(0.0, 0.1), 0.97), quantum)
    f[15] = f[13] - f[14]
    f[16] = f[4] + f[8] - f[13]
    f[17] = _step(f[10] * rng.uniform(0.03, 0.08), quantum)
    public_rate = (rng.uniform(1.005, 1.025) if (name, year) in _PUBLIC_OVERRUN
                   else rng.uniform(0.55, 0.98))
    f[18] = _step(f[17] * public_rate, quantum)
    f[19] = _step(max(f[1] * rng.uniform(0.004, 0.015), 3_000_000), quantum)
    sangong_rate = (rng.uniform(1.02, 1.12) if (name, year) in _SANGONG_OVERRUN
                    else rng.uniform(0.5, 0.97))
    f[20] = _step(f[19] * sangong_rate, quantum)
    if profile.gives_breakdown:
        f[21] = _step(f[20] * rng.uniform(0.08, 0.2), quantum) if rng.random() < 0.15 else 0
        f[22] = _step((f[20] - f[21]) * rng.uniform(0.55, 0.8), quantum)
        f[23] = f[20] - f[21] - f[22]
    else:
        f[21] = f[22] = f[23] = None
    f[24] = _ADDITIONS.get((name, year), rng.choice((0, 0, 0, 0, 1, 1, 2)))
    f[25] = rng.choice((0, 0, 0, 1, 2, 3))
    return dict(sorted(f.items()))


def check_identities(f: Mapping[int, int | None]) -> list[str]:
    """The 数据表 identities (contract 2.2) that do not hold, on figures in fen."""
    def v(line: int) -> int:
        return f.get(line) or 0
    broken = []
    for lhs, rhs in ((1, (2, 3)), (4, (5, 6, 7)), (9, (10, 11)), (13, (14, 15))):
        if v(lhs) != sum(v(r) for r in rhs):
            broken.append(f"r{lhs}")
    if v(16) != v(4) + v(8) - v(13):
        broken.append("r16")
    if any(f.get(r) is not None for r in (21, 22, 23)) and v(20) != v(21) + v(22) + v(23):
        broken.append("r20")
    return broken


# --------------------------------------------------------------------------- scores

_DEDUCTION_NOTES = {
    "A1": ("部分绩效指标未细化量化，扣{d}分", "绩效目标与预算资金规模匹配不够紧密，扣{d}分"),
    "A2": ("个别效益指标未达到年初目标值，扣{d}分", "部分重点任务完成进度滞后，扣{d}分"),
    "B1": ("新增项目未全部开展事前绩效评估，扣{d}分",),
    "B3": ("个别支出凭证附件不齐全，扣{d}分", "往来款项清理不及时，扣{d}分"),
    "B4": ("部门决算公开晚于规定时限，扣{d}分",),
    "B5": ("绩效运行监控记录不完整，扣{d}分", "绩效自评结果应用不充分，扣{d}分"),
    "B6": ("采购合同未在两个工作日内备案，扣{d}分", "采购意向公开不及时，扣{d}分"),
    "B7": ("固定资产卡片登记不及时，扣{d}分", "年末资产盘点发现账实不符，扣{d}分"),
}


def honest_score(ind: IndicatorSpec, f: Mapping[int, int | None]) -> tuple[float, str | None]:
    """The score a unit computes from its own figures for a formula indicator (the
    framework's own metric and shape), with the 评分说明 a careful unit writes when it is
    below 分值."""
    in_yuan = {line: (None if v is None else (v if line in COUNT_LINES else v / 100)) for line, v in f.items()}
    outcome = assess(ind, in_yuan, None)
    score, top = outcome.score, ind.max_score
    if outcome.unscored or score >= top:
        return top, None
    off = f"扣{round_score(top - score):g}分"
    value, metric = outcome.metric_value, METRICS[ind.metric]
    if ind.shape == "deduct_per_count":
        counted = f"年内追加预算{value:g}笔" if ind.metric == "additions_count" else f"{metric.label}{value:g}{metric.unit}"
        return score, f"{counted}，{off}"
    if ind.shape == "proportional":
        name = "支出率" if ind.metric == "execution_rate" else metric.label
        return score, f"{name}{min(value, 1.0) * 100:.2f}%，按比例计{score:g}分"
    if value is None:
        return score, "无预算发生支出，不得分"
    if ind.shape in ("deduct_above", "zero_above"):
        over = (value - float(ind.params["threshold"])) * 100
        return score, f"超预算{over:.2f}%，{'不得分' if score == 0 else off}"
    return score, f"{metric.label}{value * 100:.2f}%，{'不得分' if score == 0 else off}"


def generate_scores(framework: Framework, f: Mapping[int, int | None], quality: float,
                    rng: random.Random, inflated: tuple[str, ...] = ()
                    ) -> dict[str, tuple[float, str | None]]:
    """自评得分 and 评分说明 per indicator code."""
    scores: dict[str, tuple[float, str | None]] = {}
    for ind in framework.indicators:
        code, top = ind.code, ind.max_score
        if ind.rule in ("judged", "targets", "measurable"):  # A1/A2 from the 绩效目标表 later
            loss = (1 - quality) * 0.45 * rng.uniform(0.5, 1.5)
            points_off = min(round(top * loss), top)
            if points_off:
                # an indicator a framework adds has no wording of its own here
                notes = _DEDUCTION_NOTES.get(code, (f"{ind.level3}工作有待加强，扣{{d}}分",))
                note = rng.choice(notes).format(d=f"{points_off:g}")
                scores[code] = (top - points_off, note)
            else:
                scores[code] = (top, None)
        elif code in inflated:
            scores[code] = (top, None)
        else:
            scores[code] = honest_score(ind, f)
    return scores


def total_of(scores: Mapping[str, tuple[float, str | None]]) -> float:
    return round_score(sum(round_score(float(s)) for s, _ in scores.values()))


# --------------------------------------------------------------------------- submissions

_SURNAMES = "陈李黄林王张吴梁何许杨刘邓庞钟莫谢郑苏罗"
_GIVEN = ("伟", "芳", "婷", "海燕", "志强", "晓玲", "文华", "建国", "丽娟", "春梅", "国强",
          "小红", "少华", "思敏", "家豪", "秀英", "德明", "美玲", "振华", "雪梅")


@dataclass(frozen=True)
class Submission:
    unit: Unit
    year: int
    figures: dict[int, int | None]           # fen; counts plain
    scores: dict[str, tuple[float, str | None]]
    total: float
    grade: str
    info: dict[str, Any]
    quantum: int = 1
    declared_year: int | None = None          # 评价年度 as written, when it differs
    grades: Mapping[str, float] | None = None  # the year's bands
    targets: tuple[dict[str, Any], ...] | None = None  # 绩效目标表 rows (sample_county/targets.py)

    def grade_of(self, total: float) -> str | None:
        return grade(total, dict(self.grades or {}))

    @property
    def filed_on(self) -> dt.date:
        return self.info["填报日期"]


def _staffing(profile: Profile, year: int, rng: random.Random) -> dict[str, int]:
    if profile.unit.name == REFERENCE_UNIT and year == 2024:
        return dict(_REFERENCE_2024_INFO)
    base = random.Random(f"{SEED}:{profile.unit.name}:staff")
    wan = profile.base_fen / 1_000_000
    establishment = max(8, int(wan / base.uniform(12, 30)))
    if profile.unit.name == REFERENCE_UNIT:
        establishment = 57
    staff = max(5, establishment - base.randint(0, 6) + rng.randint(-2, 2))
    return {
        "内设机构数": base.randint(3, 14) if profile.unit.name != REFERENCE_UNIT else 13,
        "编制数": establishment,
        "在职人数": staff,
        "退休人数": max(0, int(staff * base.uniform(0.3, 1.0)) + (year - FIRST_YEAR) * rng.randint(0, 2)),
    }


def build_submission(profile: Profile, year: int, framework: Framework,
                     quantum: int = 1) -> Submission:
    unit = profile.unit
    rng = random.Random(f"{SEED}:{unit.name}:{year}")
    quality = min(max(profile.quality + rng.uniform(-0.05, 0.05), 0.0), 1.0)
    if unit.name == REFERENCE_UNIT and year == 2024:
        figures = dict(_REFERENCE_2024_FEN)
        scores = dict(_REFERENCE_2024_SCORES)
        filed = dt.date(2025, 7, 28)
    else:
        figures = generate_figures(profile, year, rng, quantum)
        scores = generate_scores(framework, figures, quality, rng, _INFLATED.get((unit.name, year), ()))
        filed = framework.deadline - dt.timedelta(days=rng.randint(1, 28))
    targets = sample_targets.generate_targets(unit.name, unit.unit_type, year, figures, framework)
    scores = sample_targets.score_from_targets(unit.name, scores, targets, framework)
    total = total_of(scores)
    info = {
        "单位名称": unit.name,
        "单位编码": unit.code,
        "主管部门": unit.department,
        "单位类型": unit.unit_type,
        "评价年度": year,
        "填报日期": filed,
        "联系人": rng.choice(_SURNAMES) + rng.choice(_GIVEN),
        "联系电话": (f"0759-77{rng.randint(10000, 99999)}" if rng.random() < 0.6
                  else f"13{rng.randint(0, 9)}{rng.randint(10_000_000, 99_999_999)}"),
        **_staffing(profile, year, rng),
    }
    return Submission(unit, year, figures, scores, total, framework.grade(total), info, quantum,
                      grades=framework.grades, targets=None if targets is None else tuple(targets))


def _unlisted_unit() -> Unit:
    return Unit("", NOT_IN_ROSTER_UNIT, "遂溪县住房和城乡建设局", "事业单位", "县直", (200, 320))


# --------------------------------------------------------------------------- writing

_FULL_WIDTH = str.maketrans("0123456789,", "０１２３４５６７８９，")


def _yuan_value(fen: int | None, quantum: int) -> float | None:
    if fen is None:
        return None
    if quantum == FEN_PER_WANYUAN_CENT:
        return float(Decimal(fen) / 1_000_000)
    return float(Decimal(fen) / 100)


def _data_values(sub: Submission, style: str = "number") -> dict[int, Any]:
    """The 数据表 column as the unit typed it: numbers, or text in one of its habits."""
    values: dict[int, Any] = {}
    for line, fen in sub.figures.items():
        if line in COUNT_LINES:
            values[line] = fen
            continue
        amount = _yuan_value(fen, sub.quantum)
        if amount is None:
            values[line] = None
        elif style == "commas":
            values[line] = f"{Decimal(fen) / 100:,.2f}"
        elif style == "full_width":
            values[line] = f"{Decimal(fen) / 100:.2f}".translate(_FULL_WIDTH) + "元"
        elif style == "dash" and fen == 0:
            values[line] = "-"
        else:
            values[line] = amount
    return values


def _form_args(sub: Submission, framework_year: int) -> dict[str, Any]:
    info = dict(sub.info)
    if sub.declared_year is not None:
        info["评价年度"] = sub.declared_year
    return dict(
        info=info,
        data=_data_values(sub),
        scores=sub.scores,
        total=sub.total,
        grade=sub.grade,
        framework_year=framework_year,
        wanyuan=sub.quantum == FEN_PER_WANYUAN_CENT,
        targets=None if sub.targets is None else [dict(r) for r in sub.targets],
    )


_NAMINGS: tuple[Callable[[str, int, int], str], ...] = (
    lambda name, year, n: f"{name}_{year}年部门整体支出绩效自评表.xlsx",
    lambda name, year, n: f"{name} {year}年度部门整体支出绩效自评表.xlsx",
    lambda name, year, n: f"{n:02d}_{name}_{year}绩效自评表.xlsx",
    lambda name, year, n: f"{year}年{name}整体支出绩效自评（数据表 评分表）.xlsx",
    lambda name, year, n: f"{name}-部门整体支出自评表{year}.xlsx",
)


def _lock_file_bytes(owner: str) -> bytes:
    """What Excel leaves beside an open workbook: the owner's name, padded to 165 bytes."""
    ascii_name = owner.encode("ascii")
    blob = bytes([len(ascii_name)]) + ascii_name.ljust(53, b" ")
    blob += owner.encode("utf-16-le")
    return blob.ljust(165, b"\x00")


def _truncated(path: Path, keep: float) -> bytes:
    """A workbook cut short, as a failed mail attachment or copy leaves it."""
    blob = path.read_bytes()
    return blob[: int(len(blob) * keep)]


def _write_special(path: Path, special: _Special, sub: Submission, framework_year: int) -> None:
    args = _form_args(sub, framework_year)
    kind = special.kind
    if kind == "missing_sheet":
        write_workbook(path, **{**args, "sheets": tuple(s for s in REQUIRED_SHEETS if s != SHEET_SCORES)})
    elif kind == "text_amount":
        write_workbook(path, **{**args, "data": {**args["data"], 13: "见附表"}})
    elif kind == "xls_form":
        write_xls_workbook(path, **args)
    elif kind == "corrupt":
        write_workbook(path, **args)
        path.write_bytes(_truncated(path, 0.6))
    elif kind == "amounts_as_text_with_commas":
        write_workbook(path, **{**args, "data": _data_values(sub, "commas")})
    elif kind == "amounts_full_width_with_yuan":
        write_workbook(path, **{**args, "data": _data_values(sub, "full_width")})
    elif kind == "dash_for_zero":
        write_workbook(path, **{**args, "data": _data_values(sub, "dash")})
    elif kind == "extra_title_rows":
        write_workbook(path, **{**args, "extra_title_rows": 3})
    elif kind == "sheet_names_with_spaces":
        write_workbook(path, **{**args, "sheet_name_overrides": {
            SHEET_DATA: " 数据表 ", SHEET_SCORES: "评分表\u3000"}})
    elif kind == "extra_sheets_and_order":
        write_workbook(path, **{
            **args,
            "sheets": (SHEET_SCORES, REQUIRED_SHEETS[0], SHEET_DATA),
            "extra_sheets": {
                "项目支出明细": [["项目名称", "预算数（元）", "支出数（元）"],
                             ["就业创业补贴", 1200000, 1130000],
                             ["职业技能培训", 800000, 760000]],
                "Sheet1": [],
            },
        })
    elif kind in _EDITS:
        _write_edited(path, args, _EDITS[kind], sub)
    elif kind == "comma_decimal":
        fen = sub.figures[17]
        write_workbook(path, **{**args, "data": {**args["data"], 17: f"{Decimal(fen) / 100:.2f}".replace(".", ",")}})
    elif kind == "xlsx_named_xls":
        write_workbook(path, **args)
    elif kind == "wps_et_file":
        write_xls_workbook(path, **args)
    elif kind == "zero_width_name":
        name = sub.unit.name
        write_workbook(path, **{**args, "info": {**args["info"], "单位名称": f"{name[:3]}\u200b{name[3:]}\ufeff"}})
    elif kind == "name_by_code":
        write_workbook(path, **{**args, "info": {**args["info"], "单位名称": sub.unit.name.removeprefix(COUNTY)}})
    elif kind == "phone_in_staff":
        write_workbook(path, **{**args, "info": {**args["info"], "在职人数": 13_800_138_000}})
    elif kind == "qianyuan_form":
        data = {line: (fen if line in COUNT_LINES or fen is None else float(Decimal(fen) / 100_000))
                for line, fen in sub.figures.items()}
        _write_edited(path, {**args, "data": data}, _declare_qianyuan, sub)
    elif kind == "sheet_copy":
        table = [["项目", "行次", "金额"]] + [[d.label, d.line, args["data"].get(d.line)] for d in DATA_LINES]
        write_workbook(path, **{**args, "extra_sheets": {"数据表 (2)": table}})
    elif kind == "grade_written_youxiu":
        if sub.grade != "优":
            raise ValueError(f"{sub.unit.name} {sub.year}: 优秀 only fits a 优 total, got {sub.total}")
        write_workbook(path, **{**args, "grade": "优秀"})
    else:
        write_workbook(path, **args)


def _write_edited(path: Path, args: dict[str, Any], edit, sub: Submission) -> None:
    """The form writer's workbook with edit(worksheets, layout, args, sub) applied before it is
    closed, as a unit rearranges the sheet (xlsxwriter: same arguments, same bytes)."""
    plan = plan_form(**args)
    workbook = xlsxwriter.Workbook(str(path))
    worksheets = render_xlsx(workbook, plan)
    edit(worksheets, plan.layout, args, sub)
    workbook.close()


def _data_sheet_of(worksheets, layout):
    return worksheets[layout.sheet_names[SHEET_DATA]]


def _note_mentions_wanyuan(worksheets, layout, args, sub) -> None:
    unit = layout.amount_unit_cell
    _data_sheet_of(worksheets, layout).write_string(unit.row - 1, 3, "注：10万元以上的项目须另附明细")


def _prior_year_column(worksheets, layout, args, sub, name: str = "本年数") -> None:
    ws = _data_sheet_of(worksheets, layout)
    header = layout.data_header_row - 1
    ws.write_string(header, 2, name)
    ws.write_string(header, 3, "上年数")
    for line, ref in layout.data_cells.items():
        value = args["data"].get(line)
        if isinstance(value, float) and not DATA_LINE_BY_NUMBER[line].is_count:
            ws.write_number(ref.row - 1, 3, round(value * 0.93, 2))


def _two_amount_columns(worksheets, layout, args, sub) -> None:
    _prior_year_column(worksheets, layout, args, sub, name="金额")


def _hidden_stale_row(worksheets, layout, args, sub) -> None:
    """Last year's row for 行次13 left in place and hidden; the corrected one typed below it."""
    ws = _data_sheet_of(worksheets, layout)
    first = layout.data_cells[13].row - 1
    stale = args["data"].get(13)
    ws.write_row(first, 0, [DATA_LINE_BY_NUMBER[13].label, 13, round((stale or 0) * 0.9, 2)])
    ws.set_row(first, None, None, {"hidden": True})
    for d in DATA_LINES[12:]:
        ws.write_row(first + 1 + d.line - 13, 0, [d.label, d.line, args["data"].get(d.line)])


def _renumbered_rows(worksheets, layout, args, sub) -> None:
    """The 公务用车 row deleted and the 行次 below renumbered by one."""
    ws = _data_sheet_of(worksheets, layout)
    for d in DATA_LINES[22:]:
        ws.write_row(layout.data_cells[d.line - 1].row - 1, 0, [d.label, d.line - 1, args["data"].get(d.line)])
    last = layout.data_cells[25].row - 1
    for col in range(3):
        ws.write_blank(last, col, None)


def _merged_value_cell(worksheets, layout, args, sub) -> None:
    ws = _data_sheet_of(worksheets, layout)
    top, bottom = layout.data_cells[14], layout.data_cells[15]
    ws.merge_range(top.row - 1, top.col, bottom.row - 1, bottom.col, args["data"].get(14))


def _formula_error(worksheets, layout, args, sub) -> None:
    ref = layout.data_cells[21]
    _data_sheet_of(worksheets, layout).write_formula(ref.row - 1, ref.col, "=C20/0", None, "#DIV/0!")


def _decorated_labels(worksheets, layout, args, sub) -> None:
    info = worksheets[layout.sheet_names[SHEET_INFO]]
    name_cell = layout.info_cells["单位名称"]
    info.write_string(name_cell.row - 1, name_cell.col - 1, "单位名称：")
    scores = worksheets[layout.sheet_names[SHEET_SCORES]]
    header = layout.score_header_row - 1
    scores.write_string(header, 4, "分值（分）")
    scores.write_string(header, 5, "自评得分（分）")
    scores.write_string(layout.total_cell.row - 1, 0, "总计")


def _declare_qianyuan(worksheets, layout, args, sub) -> None:
    unit = layout.amount_unit_cell
    _data_sheet_of(worksheets, layout).write_string(unit.row - 1, unit.col, "金额单位：千元")


_EDITS = {
    "note_mentions_wanyuan": _note_mentions_wanyuan, "prior_year_column": _prior_year_column,
    "two_amount_columns": _two_amount_columns, "hidden_stale_row": _hidden_stale_row,
    "renumbered_rows": _renumbered_rows, "merged_value_cell": _merged_value_cell,
    "formula_error": _formula_error, "decorated_labels": _decorated_labels,
}


def _faulty_submission(special: _Special, sub: Submission) -> Submission:
    """The submission as the unit got it wrong (or late) for this kind of fault."""
    kind = special.kind
    if special.filed_on is not None:
        sub = replace(sub, info={**sub.info, "填报日期": special.filed_on})
    if kind in ("broken_identity", "duplicate_older"):
        figures = dict(sub.figures)
        line = 14 if kind == "broken_identity" else 16
        figures[line] = figures[line] + 120_000  # 1 200.00 元 typed into one line only
        return replace(sub, figures=figures)
    if kind == "score_above_max":
        scores = {**sub.scores, "B6": (12.0, None)}
        total = total_of(scores)
        return replace(sub, scores=scores, total=total, grade=sub.grade_of(total))
    if kind == "wrong_grade":
        better = {"良": "优", "中": "良", "差": "中", "优": "良"}
        return replace(sub, grade=better[sub.grade])
    if kind == "year_mismatch":
        return replace(sub, declared_year=sub.year - 1)
    return sub


def _version_submission(sub: Submission, version: _Version) -> Submission:
    """One version of a resubmission chain: the clean submission with this version's faults."""
    sub = replace(sub, info={**sub.info, "填报日期": version.filed_on})
    as_fault = {"identity_r13": "broken_identity", "identity_r16": "duplicate_older",
                "score_above_max": "score_above_max", "wrong_grade": "wrong_grade"}
    for fault in version.faults:
        if fault == "moved_basic_to_project":
            figures = dict(sub.figures)
            figures[10] -= MOVED_FEN
            figures[11] += MOVED_FEN
            sub = replace(sub, figures=figures)
        else:
            sub = _faulty_submission(_Special(as_fault[fault], sub.year, sub.unit.name, "", ""), sub)
    return sub


def _write_docx(path: Path, paragraphs: list[tuple[str, str]], author: str,
                when: dt.datetime) -> None:
    """A .docx whose bytes depend only on its text: fixed core properties and zip times."""
    import docx
    from docx.enum.text import WD_ALIGN_PARAGRAPH
    from docx.shared import Pt

    document = docx.Document()
    for kind, text in paragraphs:
        paragraph = document.add_paragraph()
        run = paragraph.add_run(text)
        if kind == "title":
            run.bold = True
            run.font.size = Pt(18)
            paragraph.alignment = WD_ALIGN_PARAGRAPH.CENTER
        elif kind == "heading":
            run.bold = True
    props = document.core_properties
    props.author = author
    props.last_modified_by = author
    props.comments = ""
    props.title = "部门整体支出绩效自评报告"
    props.created = when
    props.modified = when
    props.revision = 1
    buffer = io.BytesIO()
    document.save(buffer)
    path.write_bytes(_stable_zip(buffer.getvalue(), when))


def _stable_zip(blob: bytes, when: dt.datetime) -> bytes:
    source = zipfile.ZipFile(io.BytesIO(blob))
    out = io.BytesIO()
    stamp = (when.year, when.month, when.day, when.hour, when.minute, when.second)
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for item in source.infolist():
            info = zipfile.ZipInfo(item.filename, date_time=stamp)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.create_system = 0
            info.external_attr = 0
            target.writestr(info, source.read(item.filename))
    return out.getvalue()


# --------------------------------------------------------------------------- reports

@dataclass(frozen=True)
class _ReportSpec:
    year: int
    unit: str
    file: str
    fmt: str                      # txt | docx
    encoding: str = "utf-8"
    style: int = 0                # numbering and phrasing habit
    wanyuan: bool = False         # figures stated in 万元
    stated_spent_fen: int | None = None     # a wrong 支出决算数 (offset in fen)
    stated_total_offset: float = 0.0        # a 自评分数 that differs from the 评分表
    stated_rate_100: bool = False           # A3 支出完成率 written as 100%
    summary_claims_100: bool = False        # the summary claims 100 % execution
    sections_missing: tuple[str, ...] = ()
    agrees: bool = True
    disagreements: tuple[str, ...] = ()


_REPORTS: tuple[_ReportSpec, ...] = (
    _ReportSpec(2024, REFERENCE_UNIT, f"{REFERENCE_UNIT}2024年度部门整体支出绩效自评报告.txt",
                "txt", style=0, summary_claims_100=True, agrees=False,
                disagreements=("总述称财政拨款资金整体支出完成率达到100%，数据表为99.72%",)),
    _ReportSpec(2022, REFERENCE_UNIT, f"{REFERENCE_UNIT}2022年度部门整体支出绩效自评报告.docx",
                "docx", style=1),
    _ReportSpec(2024, "遂溪县教育局", "遂溪县教育局_2024年整体支出绩效自评报告.docx", "docx",
                style=2),
    _ReportSpec(2024, "遂溪县财政局", "遂溪县财政局2024年度绩效自评报告.txt", "txt",
                encoding="gb18030", style=1),
    _ReportSpec(2024, "遂溪县遂城镇人民政府", "遂溪县遂城镇人民政府_自评报告_2024.docx", "docx",
                style=0, wanyuan=True),
    _ReportSpec(2024, "遂溪县卫生健康局", "遂溪县卫生健康局_2024年度自评报告.txt", "txt",
                style=2, stated_spent_fen=5_000_000, agrees=False,
                disagreements=("支出决算数比数据表第13行多50000元",)),
    _ReportSpec(2023, "遂溪县农业农村局", "遂溪县农业农村局2023年部门整体支出绩效自评报告.docx",
                "docx", style=1, stated_total_offset=2.0, agrees=False,
                disagreements=("自评分数比评分表合计高2分",)),
    _ReportSpec(2024, "遂溪县黄略镇人民政府",
                "遂溪县黄略镇人民政府_2024年度部门整体支出绩效自评报告.txt", "txt", style=0,
                stated_rate_100=True, agrees=False,
                disagreements=("部门预算资金支出率写作100%，数据表为97.50%",)),
    _ReportSpec(2024, "遂溪县人民医院", "遂溪县人民医院2024年自评报告.docx", "docx", style=2,
                sections_missing=("自评工作开展情况", "绩效自评情况")),
    _ReportSpec(2024, UNMATCHED_REPORT_UNIT, f"{UNMATCHED_REPORT_UNIT}_2024年度部门整体支出绩效自评报告.txt",
                "txt", style=1, agrees=False, disagreements=("单位不在名录中，没有对应的数据表和评分表",)),
)

REPORT_CASES: list[dict[str, Any]] = [
    {"file": f"{r.year}/{r.file}",
     "unit_name": None if r.unit == UNMATCHED_REPORT_UNIT else r.unit,
     "stated_unit_name": r.unit,
     "year": r.year,
     "agrees": r.agrees,
     "disagreements": list(r.disagreements),
     "missing_sections": list(r.sections_missing),
     "wanyuan": r.wanyuan,
     "encoding": r.encoding if r.fmt == "txt" else None}
    for r in _REPORTS
]

_NUMERALS = "一二三四五六七八九十"


def _chinese_date(day: dt.date) -> str:
    return f"{day.year} 年 {day.month} 月 {day.day} 日"


def _plain_yuan(fen: int) -> str:
    text = f"{Decimal(fen) / 100:.2f}"
    return text[:-3] if text.endswith(".00") else text


def _amount_text(fen: int | None, style: int, wanyuan: bool) -> str:
    fen = fen or 0
    if wanyuan:
        return f"{Decimal(fen) / 1_000_000:.2f}万元"
    if style == 2:
        return f"{Decimal(fen) / 100:,.2f}元"
    return f"{_plain_yuan(fen)} 元" if style == 0 else f"{_plain_yuan(fen)}元"


def _score_text(value: float) -> str:
    return f"{value:g}"


def _numbering(style: int):
    """(section, subsection, item, sub-item) labels for a numbering habit."""
    def section(i): return f"{_NUMERALS[i]}、"
    if style == 1:
        return section, (lambda i: f"{i + 1}．"), (lambda i: f"（{i + 1}）"), (lambda i: f"{i + 1})")
    if style == 2:
        return section, (lambda i: f"（{_NUMERALS[i]}）"), (lambda i: f"{i + 1}、"), (lambda i: f"({i + 1})")
    return section, (lambda i: f"（{_NUMERALS[i]}）"), (lambda i: f"{i + 1}. "), (lambda i: f"({i + 1})")


_WORK = {
    "行政单位": "全年围绕县委、县政府的工作部署，履行本部门的行业管理和公共服务职责，年初确定的重点任务基本按计划推进。",
    "参公事业单位": "全年按照主管部门的安排，承担本系统的经办服务和执法监督事务，各项业务平稳运行。",
    "事业单位": "全年按照主管部门下达的任务，做好本单位承担的公益服务，保障业务正常开展。",
    "乡镇": "全年统筹推进乡村振兴、人居环境整治、基层治理和民生保障等工作，辖区经济社会保持平稳。",
}
_WORK_BY_UNIT = {
    "遂溪县教育局": "全年保障全县中小学校正常运转，落实义务教育经费保障机制和学生资助政策，推进薄弱学校改造。",
    "遂溪县财政局": "全年组织全县预算编制和执行，推进国库集中支付和预算绩效管理，保障“三保”支出。",
    "遂溪县卫生健康局": "全年推进基层医疗卫生服务能力建设，落实基本公共卫生服务项目和疾病防控任务。",
    "遂溪县人民医院": "全年承担全县急危重症救治和基本医疗服务，推进县域医共体建设。",
    REFERENCE_UNIT: "全年围绕县政府中心工作做好文稿起草、会务组织、督查督办、政务公开和应急值守，发挥参谋助手作用。",
}
_JUDGED_TEXT = {
    "A1": ("年初按要求编报部门整体绩效目标，目标与本单位职能和年度重点工作对应，指标设置可量化、可考核",
           "部门整体绩效目标随预算一并申报，产出和效益指标基本细化量化"),
    "A2": ("年度各项效益指标总体完成，服务对象反映良好",
           "对照年初设定的效益指标逐项核对，大部分指标达到或超过目标值"),
    "B1": ("本年度新增项目按规定开展事前绩效评估",
           "新增项目在申报预算前进行了必要性和可行性论证"),
    "B3": ("财务核算执行政府会计制度，支出审批手续完整，未发现虚列支出和超标准开支",
           "会计凭证和账簿管理规范，资金使用按内部控制流程审批"),
    "B4": ("按规定时限公开了部门预算、决算和“三公”经费，并公开了上年度绩效自评报告",
           "预决算信息在县政府门户网站按时公开"),
    "B5": ("建立了本单位预算绩效管理制度，按要求开展绩效目标申报、运行监控和自评",
           "绩效管理工作有专人负责，年中开展了绩效运行监控"),
    "B6": ("政府采购执行采购意向公开、合同签订和验收程序",
           "采购活动按照政府采购目录和限额标准执行"),
    "B7": ("资产实行专人管理，建立资产台账，年末组织清查盘点",
           "固定资产配置、使用和处置按规定报批，账实基本相符"),
}


_INTROS = (
    "按照遂溪县财政局《关于开展{y}年县级财政资金绩效自评工作的通知》（{notice}）的部署，我单位组织财务和业务股室人员，"
    "对照评分标准逐项核查{y}年度账务资料和工作完成情况，填报数据表和评分表，形成本报告。",
    "根据{notice}文件要求，本单位对{y}年度部门整体支出开展了绩效自评。自评以年度预算、决算数据和工作台账为依据，"
    "由财务人员汇总数据，业务股室逐项说明指标完成情况，现将自评情况报告如下。",
    "为落实预算绩效管理要求，依据县财政局{notice}通知，我单位对照部门整体支出绩效评价指标体系，"
    "对{y}年度预算执行、管理效率和履职效果进行了全面自查，具体情况如下。",
)
_PROCESS = (
    "收到通知后，单位成立了由主要负责人任组长的绩效自评工作小组，财务股室具体负责，各业务股室提供资料。"
    "自评材料于{m}月{d}日报送县财政局，并对材料的真实性和完整性负责。",
    "本单位由分管财务的负责人牵头，抽调财务和业务骨干组成自评小组，先核对账表数据，再逐项评分，"
    "经单位会议审定后于{m}月{d}日报送。",
    "自评小组按照“核对数据、逐项打分、集体审定”的步骤开展工作，自评表和报告于{m}月{d}日完成并报送财政部门。",
)
_CLOSING = (
    "一是预算编制的精细化程度还不够，年中调整仍然存在；二是绩效管理人员业务能力有待提高。"
    "下一步将结合上年执行情况科学测算预算，加强执行进度跟踪，组织财务人员参加绩效管理培训。",
    "存在的主要问题是项目支出进度前慢后快，部分绩效指标偏重产出、效益指标不够具体。"
    "今后将按月通报支出进度，完善绩效指标库，把自评结果作为下年度预算安排的参考。",
    "问题：部分项目资金到位较晚，影响执行进度；绩效目标的量化程度仍需提高。"
    "措施：提前做好项目储备和前期工作，加强与财政部门沟通，细化年度绩效目标。",
)


def _pct(num: int, den: int) -> str:
    return f"{Decimal(num) * 100 / Decimal(den):.2f}%" if den else "不适用"


def report_paragraphs(spec: _ReportSpec, sub: Submission, framework: Framework,
                      unit_name: str) -> list[tuple[str, str]]:
    """The report as (kind, text) paragraphs; kind is title, heading or body."""
    sec, sub_sec, item, sub_item = _numbering(spec.style)
    f, y = sub.figures, sub.year
    money = lambda fen: _amount_text(fen, spec.style, spec.wanyuan)  # noqa: E731
    scores = {code: s for code, (s, _) in sub.scores.items()}
    notes = {code: n for code, (_, n) in sub.scores.items()}
    rng = random.Random(f"{SEED}:report:{spec.file}")
    out: list[tuple[str, str]] = [
        ("body", f"附件{rng.randint(3, 8)}"),
        ("title", "部门整体支出绩效自评报告"),
        ("body", f"评价年度：{y} 年度"),
        ("body", f"评价单位（公章）：{unit_name}"),
        ("body", f"填报日期：{_chinese_date(sub.filed_on)}"),
        ("body", ""),
        ("body", _INTROS[spec.style].format(y=y, notice=framework.notice)),
    ]
    n = 0
    out.append(("heading", f"{sec(n)}单位基本情况"))
    info = sub.info
    out.append(("body", f"{sub_sec(0)}机构和人员情况。本单位内设{info['内设机构数']}个股室，核定编制{info['编制数']}名，"
                        f"年末在职人员{info['在职人数']}人，退休人员{info['退休人数']}人。"))
    out.append(("body", f"{sub_sec(1)}年度主要工作。"
                        + _WORK_BY_UNIT.get(sub.unit.name, _WORK.get(sub.unit.unit_type, _WORK["事业单位"]))))
    out.append(("body", f"{sub_sec(2)}部门整体支出情况。"))
    spent = f[13] + (spec.stated_spent_fen or 0)
    out.append(("body", f"{item(0)}收入情况：{y}年年初收入预算数{money(f[1])}，其中：一般公共预算财政拨款收入{money(f[2])}，"
                        f"政府性基金预算财政拨款收入{money(f[3])}。{y}年收入决算数{money(f[4])}，其中：一般公共预算财政拨款收入"
                        f"{money(f[5])}，政府性基金预算财政拨款收入{money(f[6])}，其他收入{money(f[7])}；上年结转和结余{money(f[8])}。"))
    out.append(("body", f"{item(1)}支出情况：{y}年年初支出预算数{money(f[9])}，其中：基本支出{money(f[10])}，项目支出"
                        f"{money(f[11])}。{y}年支出决算数{money(spent)}，其中：基本支出{money(f[14])}，项目支出{money(f[15])}；"
                        f"年末结转和结余{money(f[16])}。"))
    n += 1
    if "自评工作开展情况" not in spec.sections_missing:
        out.append(("heading", f"{sec(n)}自评工作开展情况"))
        out.append(("body", _PROCESS[spec.style].format(m=sub.filed_on.month, d=sub.filed_on.day)))
        n += 1
    if "绩效自评情况" not in spec.sections_missing:
        claimed_total = sub.total + spec.stated_total_offset
        out.append(("heading", f"{sec(n)}绩效自评情况"))
        summary = f"{sub_sec(0)}自评结果。"
        if spec.summary_claims_100:
            summary += "本单位按照年初预算组织支出，财政拨款资金整体支出完成率达到100%，基本支出和项目支出保障了各项工作正常开展。"
        summary += (f"经对照评分标准逐项自评，本单位{y}年度部门整体支出绩效自评分数为{_score_text(claimed_total)}分，"
                    f"等级为{framework.grade(claimed_total)}。")
        out.append(("body", summary))
        out.append(("body", f"{sub_sec(1)}部门整体支出绩效指标分析。"))

        def judged(code: str) -> str:
            text = rng.choice(_JUDGED_TEXT[code])
            reason = f"，{notes[code]}" if notes.get(code) else ""
            return f"{text}{reason}，自评得分{_score_text(scores[code])}分。"

        out.append(("body", f"{item(0)}履职效能"))
        out.append(("body", f"{sub_item(0)}绩效目标合理性与可衡量性：" + judged("A1")))
        out.append(("body", f"{sub_item(1)}效益指标完成情况：" + judged("A2")
                            + sample_targets.report_sentence(sub.unit.name, sub.targets and list(sub.targets))))
        rate = "100%" if spec.stated_rate_100 else _pct(f[13], f[12])
        formula = (f"{_plain_yuan(f[13])}/{_plain_yuan(f[12])}*100%={rate}" if not spec.wanyuan
                   else rate)
        out.append(("body", f"{sub_item(2)}部门预算资金支出率：{y}年财政下达预算{money(f[12])}，年度实际支出{money(f[13])}，"
                            f"支出完成率为 {formula}，自评得分{_score_text(scores['A3'])}分。"))
        out.append(("body", f"{item(1)}管理效率"))
        if f[25]:
            b1 = f"{y}年新增项目{f[25]}个，" + judged("B1")
        else:
            b1 = f"{y}年没有新增项目，无需开展事前绩效评估，自评得分{_score_text(scores['B1'])}分。"
        out.append(("body", f"{sub_item(0)}新增项目事前绩效评估：{b1}"))
        additions = (f"{y}年追加预算{f[24]}笔" if f[24] else f"{y}年未发生追加预算")
        if sub.unit.name == REFERENCE_UNIT and y == 2024:
            additions = f"{y}年因工作需要追加公车购置费预算1笔"
        out.append(("body", f"{sub_item(1)}预算编制约束性：{additions}，自评得分{_score_text(scores['B2'])}分。"))
        for k, code in enumerate(("B3", "B4", "B5", "B6", "B7"), start=2):
            label = {"B3": "财务管理合规性", "B4": "信息公开", "B5": "绩效管理", "B6": "采购管理",
                     "B7": "资产管理"}[code]
            out.append(("body", f"{sub_item(k)}{label}：" + judged(code)))
        out.append(("body", f"{sub_item(7)}公用经费控制率：{y}年公用经费预算{money(f[17])}，实际支出{money(f[18])}，"
                            f"公用经费控制率{_pct(f[18], f[17])}，自评得分{_score_text(scores['B8'])}分。"))
        out.append(("body", f"{sub_item(8)}三公经费控制率：{y}年“三公”经费预算{money(f[19])}，实际支出{money(f[20])}，"
                            f"控制率{_pct(f[20], f[19])}，自评得分{_score_text(scores['B9'])}分。"))
        n += 1
    out.append(("heading", f"{sec(n)}存在问题和改进措施"))
    out.append(("body", _CLOSING[spec.style]))
    return out


def _write_report(path: Path, spec: _ReportSpec, sub: Submission, framework: Framework,
                  unit_name: str) -> None:
    paragraphs = report_paragraphs(spec, sub, framework, unit_name)
    when = dt.datetime.combine(sub.filed_on, dt.time(10, 0))
    if spec.fmt == "docx":
        _write_docx(path, paragraphs, unit_name, when)
        return
    newline = "\r\n" if spec.encoding != "utf-8" else "\n"
    text = newline.join(t for _, t in paragraphs) + newline
    path.write_bytes(text.encode(spec.encoding))


# --------------------------------------------------------------------------- build

def _clear_year_dirs(out_dir: Path) -> None:
    """Remove earlier generated files so renamed ones do not linger."""
    for year in YEARS:
        folder = out_dir / str(year)
        if folder.is_dir():
            for child in folder.iterdir():
                if child.is_file():
                    child.unlink()


def build_sample(out_dir: Path) -> list[Path]:
    """Write the sample county under ``out_dir``; returns every written path, sorted."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    _clear_year_dirs(out_dir)
    units = roster()
    written = [write_roster(units, out_dir / "units.csv")]
    frameworks = {year: load_framework(year) for year in YEARS}
    specials = {(s.unit, s.year): [] for s in _FAULTS + _MESSES}
    for s in _FAULTS + _MESSES:
        specials[(s.unit, s.year)].append(s)
    profiles = {u.name: profile_of(u) for u in units}
    profiles[NOT_IN_ROSTER_UNIT] = profile_of(_unlisted_unit())
    submissions: dict[tuple[str, int], Submission] = {}

    for year in YEARS:
        folder = out_dir / str(year)
        folder.mkdir(exist_ok=True)
        framework = frameworks[year]
        participants = [u for u in units if u.name not in NEVER_SUBMIT
                        and (u.name, year) not in SKIPPED_YEARS]
        if year == 2024:
            participants.append(_unlisted_unit())
        for number, unit in enumerate(participants, start=1):
            cases = specials.get((unit.name, year), [])
            wanyuan = any(c.kind == "wanyuan_form" for c in cases)
            qianyuan = any(c.kind == "qianyuan_form" for c in cases)
            sub = build_submission(profiles[unit.name], year, framework,
                                   FEN_PER_WANYUAN_CENT if wanyuan else FEN_PER_QIANYUAN_CENT if qianyuan else 1)
            broken = check_identities(sub.figures)
            if broken:
                raise AssertionError(f"{unit.name} {year}: identities broken in a clean form: {broken}")
            submissions[(unit.name, year)] = sub
            chain = _CHAINS.get((unit.name, year))
            if chain is not None:
                for version in chain[0]:
                    path = folder / _std(unit.name, year, version.suffix)
                    write_workbook(path, **_form_args(_version_submission(sub, version), year))
                    written.append(path)
                continue
            if not cases:
                naming = 0 if unit.name == REFERENCE_UNIT else profiles[unit.name].naming
                path = folder / _NAMINGS[naming](unit.name, year, number)
                write_workbook(path, **_form_args(sub, year))
                written.append(path)
                continue
            for case in cases:
                path = folder / case.file
                if case.kind == "lock_file":
                    clean = folder / _std(unit.name, year)
                    write_workbook(clean, **_form_args(sub, year))
                    path.write_bytes(_lock_file_bytes("Administrator"))
                    written += [clean, path]
                    continue
                if case.kind == "copied_workbook":
                    copied = submissions[(COPIED_FROM_UNIT, year)]
                    sub = replace(copied, info={**copied.info, "填报日期": copied.filed_on + dt.timedelta(days=3)})
                _write_special(path, case, _faulty_submission(case, sub), year)
                written.append(path)

    for spec in _REPORTS:
        folder = out_dir / str(spec.year)
        path = folder / spec.file
        if spec.unit == UNMATCHED_REPORT_UNIT:
            unlisted = Unit("", spec.unit, spec.unit, "事业单位", "县直", (150, 250))
            sub = build_submission(profile_of(unlisted), spec.year, frameworks[spec.year])
        else:
            sub = submissions[(spec.unit, spec.year)]
        _write_report(path, spec, sub, frameworks[spec.year], spec.unit)
        written.append(path)
    return sorted(written)


# --------------------------------------------------------------------------- the bureau's notices

def sample_notices(raw: Path) -> list[dict[str, Any]]:
    """The 2024 notices of NOTICE_DAY: what the bureau had then (every file but the chains'
    later versions) run through the pipeline, one notice per unit with open items, listing them
    as `make report` lists them."""
    import json

    from pipeline.outputs.notices import notice_file_name
    from pipeline.reading.discover import discover
    from pipeline.run import process

    later = {f for case in RESUBMISSION_CASES for f, filed in zip(case["files"], case["filed_on"])
             if filed > NOTICE_DAY}
    files = [f for f in discover(raw) if f.relative not in later]
    items = process(raw, files=files, ledger=raw / ".no-ledger").tables["rectifications"]
    notices = []
    grouped: dict[tuple[str, str | None], list[list[str]]] = {}
    for row in items.filter((items["year"] == 2024) & (items["status"] != "fixed")).iter_rows(named=True):
        grouped.setdefault((row["unit_name"], row["unit_code"]), []).append([row["rule"], row["location"]])
    for (unit, code), asked in sorted(grouped.items()):
        notices.append({"year": 2024, "unit_name": unit, "round": 1, "issued_on": NOTICE_DAY.isoformat(),
                        "deadline": NOTICE_DEADLINE.isoformat(),
                        "document": notice_file_name(unit, code, 2024),
                        "items": json.dumps(sorted(asked), ensure_ascii=False),
                        "recorded_at": f"{NOTICE_DAY.isoformat()}T09:00:00"})
    return notices


def write_notices_file(raw: Path, path: Path = NOTICES_FILE) -> Path:
    import json

    path.write_text(json.dumps(sample_notices(raw), ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    return path


def write_sample_ledger(ledger_file: Path, notices_file: Path = NOTICES_FILE) -> int:
    """The sample's notices written into a new ledger; an existing ledger is left alone (it is
    the bureau's record, never added to by the sample). Returns how many were written."""
    import json

    from pipeline import ledger

    if ledger_file.exists():
        return 0
    rows = json.loads(notices_file.read_text(encoding="utf-8"))
    for row in rows:
        ledger.append_notice(ledger_file, ledger.Notice(
            year=row["year"], unit_name=row["unit_name"], round=row["round"],
            issued_on=dt.date.fromisoformat(row["issued_on"]), deadline=dt.date.fromisoformat(row["deadline"]),
            document=row["document"], items=row["items"], recorded_at=row["recorded_at"]))
    return len(rows)


# --------------------------------------------------------------------------- inflation record

def _inflation_cases() -> list[dict[str, Any]]:
    """Indicators claimed at full 分值 where the unit's own figures support less."""
    rows = [{"unit_name": REFERENCE_UNIT, "year": 2024, "code": "A3"}]  # 10 claimed, 9.97 supported
    for (unit, year), codes in sorted(_INFLATED.items()):
        rows += [{"unit_name": unit, "year": year, "code": c} for c in codes]
    return rows


INFLATION_CASES: list[dict[str, Any]] = _inflation_cases()


# --------------------------------------------------------------------------- large batches

# Every tenth unit of a synthetic batch gets one of these, in turn (the rest are clean).
BATCH_FAULTS = ("text_amount", "broken_identity", "score_above_max", "wrong_grade", "wanyuan_form",
                "corrupt", "missing_sheet", "xls_form", "duplicate_older", "lock_file")
_BATCH_TYPES = (("行政单位", (150, 900)), ("事业单位", (200, 4000)), ("参公事业单位", (150, 600)),
                ("乡镇", (300, 1200)))


def synthetic_units(count: int) -> tuple[Unit, ...]:
    """``count`` made-up units of a province-sized batch, with varied types and sizes."""
    units = []
    for i in range(count):
        unit_type, budget = _BATCH_TYPES[i % len(_BATCH_TYPES)]
        county = f"测试{i // 100:03d}县"
        name = f"{county}{'第' + str(i % 100 + 1) + '单位' if unit_type != '乡镇' else f'第{i % 100 + 1}镇人民政府'}"
        units.append(Unit(f"9{i:08d}", name, f"{county}财政局", unit_type, county, budget))
    return tuple(units)


def _write_batch_unit(task: tuple[Path, int, Unit, str | None]) -> list[str]:
    folder, year, unit, fault = task
    framework = load_framework(year)
    wanyuan = fault == "wanyuan_form"
    sub = build_submission(profile_of(unit), year, framework, FEN_PER_WANYUAN_CENT if wanyuan else 1)
    path = folder / _std(unit.name, year, ext="xls" if fault == "xls_form" else "xlsx")
    if fault is None:
        write_workbook(path, **_form_args(sub, year))
        return [path.name]
    if fault == "lock_file":
        write_workbook(path, **_form_args(sub, year))
        lock = folder / f"~${path.name}"
        lock.write_bytes(_lock_file_bytes("Administrator"))
        return [path.name, lock.name]
    if fault == "duplicate_older":
        newer = folder / _std(unit.name, year, "（修改后）")
        write_workbook(newer, **_form_args(sub, year))
        special = _Special(fault, year, unit.name, path.name, "superseded",
                           sub.filed_on - dt.timedelta(days=7))
        _write_special(path, special, _faulty_submission(special, sub), year)
        return [path.name, newer.name]
    special = _Special(fault, year, unit.name, path.name, "")
    _write_special(path, special, _faulty_submission(special, sub), year)
    return [path.name]


def write_batch(out_dir: Path, count: int, year: int = 2024, workers: int = 1) -> int:
    """A province-sized RAW folder: roster plus one workbook per unit, every tenth one
    faulty in one of BATCH_FAULTS. Returns the number of files written."""
    out_dir = Path(out_dir)
    folder = out_dir / str(year)
    folder.mkdir(parents=True, exist_ok=True)
    units = synthetic_units(count)
    write_roster(units, out_dir / "units.csv")
    tasks = [(folder, year, u, BATCH_FAULTS[(i // 10) % len(BATCH_FAULTS)] if i % 10 == 9 else None)
             for i, u in enumerate(units)]
    if workers > 1:
        import multiprocessing
        from concurrent.futures import ProcessPoolExecutor

        with ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("spawn")) as pool:
            written = list(pool.map(_write_batch_unit, tasks, chunksize=64))
    else:
        written = [_write_batch_unit(t) for t in tasks]
    return 1 + sum(len(w) for w in written)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m sample_county",
                                     description="生成样例县（遂溪县）的报送文件")
    parser.add_argument("--out", default="raw", help="输出目录（默认 raw）")
    parser.add_argument("--ledger", default=None,
                        help="把示例的退回修改通知写入这个台账（台账文件已存在时不写）")
    args = parser.parse_args(argv)
    paths = build_sample(Path(args.out))
    size = sum(p.stat().st_size for p in paths)
    print(f"写入 {len(paths)} 个文件，共 {size / 1024:.0f} KB，目录 {args.out}")
    notices_file = write_notices_file(Path(args.out))
    print(f"示例的退回修改通知：{notices_file}")
    if args.ledger:
        written = write_sample_ledger(Path(args.ledger), notices_file)
        print(f"台账 {args.ledger}：" + (f"写入 {written} 份示例通知" if written else "已存在，未改动"))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
