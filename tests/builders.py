"""Fixture builders: a small county written to disk in the bureau's layout.

The reference unit's figures are the public ones of its 2024 self-evaluation
(contract section 7); every other unit is made up here, with figures of its own.
"""

from __future__ import annotations

import copy
import datetime as dt
import zlib
from dataclasses import dataclass, field
from pathlib import Path

from pipeline.forms.writer import write_workbook, write_xls_workbook

REFERENCE_UNIT = "遂溪县人民政府办公室"

REFERENCE_DATA = {
    1: 10850997.08, 2: 9850997.08, 3: 1000000.00, 4: 8397909.75, 5: 8397200.18, 6: 0.00,
    7: 709.57, 8: 6038.13, 9: 10850997.08, 10: 8171282.08, 11: 2679715.00, 12: 8397200.18,
    13: 8374036.75, 14: 7034584.75, 15: 1339452.00, 16: 29911.13, 17: 259000.00,
    18: 171086.57, 19: 340000.00, 20: 256929.66, 24: 1, 25: 0,
}
REFERENCE_SCORES = {
    "A1": 20, "A2": 20, "A3": 10, "B1": 2, "B2": (3, "年内追加预算1笔（公车购置费），扣1分"),
    "B3": 3, "B4": 3, "B5": 15, "B6": (9, "采购合同未在两个工作日内备案，扣1分"), "B7": 10,
    "B8": 2, "B9": 1,
}
REFERENCE_INFO = {
    "单位名称": REFERENCE_UNIT, "主管部门": REFERENCE_UNIT, "单位类型": "行政单位", "评价年度": 2024,
    "填报日期": dt.date(2025, 7, 28), "内设机构数": 13, "编制数": 57, "在职人数": 51, "退休人数": 50,
}

ROSTER = [
    ("440823001", REFERENCE_UNIT, REFERENCE_UNIT, "行政单位"),
    ("440823002", "遂溪县财政局", "遂溪县财政局", "行政单位"),
    ("440823003", "遂溪县教育局", "遂溪县教育局", "行政单位"),
    ("440823004", "遂溪县第一中学", "遂溪县教育局", "事业单位"),
    ("440823005", "遂溪县黄略镇人民政府", "遂溪县黄略镇人民政府", "乡镇"),
]


def reference_form(**overrides) -> dict:
    """The arguments of write_workbook for the reference unit's 2024 workbook."""
    form = dict(info=dict(REFERENCE_INFO), data=dict(REFERENCE_DATA), scores=dict(REFERENCE_SCORES),
                total=98, grade="优", framework_year=2024)
    for key, value in overrides.items():
        if key in ("info", "data", "scores") and isinstance(value, dict):
            form[key] = {**form[key], **value}
        else:
            form[key] = value
    return form


def own_figures(name: str) -> dict[int, float]:
    """A unit's own 数据表 figures: the reference ones with 10.00 to 99.99 元 of the 年初收入预算
    moved from line 2 to line 3, by the unit's name. Equal figures of two units are a suspected
    copy (file.copied); lines 2 and 3 feed no metric and line 1, their sum, stays, so every
    rate, identity and score is the reference unit's."""
    if name == REFERENCE_UNIT:
        return dict(REFERENCE_DATA)
    moved = (zlib.crc32(name.encode()) % 9_000 + 1_000) / 100  # 元, in whole 分
    return {**REFERENCE_DATA, 2: round(REFERENCE_DATA[2] - moved, 2), 3: round(REFERENCE_DATA[3] + moved, 2)}


def unit_form(name: str, year: int = 2024, **overrides) -> dict:
    """A clean workbook of another unit: its own figures (own_figures), name and year."""
    info = {**REFERENCE_INFO, "单位名称": name, "主管部门": name, "评价年度": year,
            "填报日期": dt.date(year + 1, 7, 20)}
    data = overrides.pop("data", {})
    if isinstance(data, dict):
        data = {**own_figures(name), **data}
    return reference_form(info={**info, **overrides.pop("info", {})}, data=data, framework_year=year, **overrides)


@dataclass
class County:
    """A RAW folder in tmp_path: units.csv plus workbooks written by the form writer."""

    raw: Path
    roster: list[tuple[str, str, str, str]] = field(default_factory=lambda: list(ROSTER))
    encoding: str = "utf-8-sig"

    def __post_init__(self) -> None:
        self.raw.mkdir(parents=True, exist_ok=True)
        self.write_roster()

    def write_roster(self) -> Path:
        lines = ["单位编码,单位名称,主管部门,单位类型"] + [",".join(r) for r in self.roster]
        path = self.raw / "units.csv"
        path.write_bytes(("\r\n".join(lines) + "\r\n").encode(self.encoding))
        return path

    def workbook(self, name: str, form: dict, year: int = 2024, xls: bool = False):
        path = self.raw / str(year) / name
        path.parent.mkdir(parents=True, exist_ok=True)
        (write_xls_workbook if xls else write_workbook)(path, **copy.deepcopy(form))
        return path

    def file(self, name: str, content: bytes, year: int = 2024) -> Path:
        path = self.raw / str(year) / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content)
        return path
