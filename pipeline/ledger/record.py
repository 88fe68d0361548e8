"""Recording an officer's 复核 decision: the one door to the ledger's `decisions` (contract section 10).

The command line (`python -m pipeline review`) and the dashboard's 复核 page both call
`record`: it checks the year, the unit (by 单位名称 or 单位编码, against the roster in
raw/units.csv and the published warehouse), the indicator code (the year's framework),
the score (0..分值, at most two decimals), the reason and the officer, and only then
appends one row. Anything wrong is refused with one Chinese line and nothing is written.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from pathlib import Path

import duckdb

from pipeline import ledger
from pipeline.ledger import Decision

WITHDRAWN = "撤回"


class Refused(Exception):
    """A decision that cannot be recorded; the message is one line, in Chinese, and says why."""


@dataclass(frozen=True)
class Unit:
    name: str
    code: str | None


def ledger_in_warehouse_folder(ledger_path: Path, db: Path) -> bool:
    """True when the ledger would sit in the warehouse's folder (which builds and cleaning rewrite)."""
    folder = Path(db).resolve().parent
    return Path(ledger_path).resolve().is_relative_to(folder)


def check_ledger_place(ledger_path: Path, db: Path) -> None:
    if ledger_in_warehouse_folder(ledger_path, db):
        raise Refused(f"复核记录 {ledger_path} 不能放在数据仓库的文件夹 {Path(db).parent} 中"
                      f"（该文件夹的内容随构建替换、由 make clean 清除），请放在其他位置（LEDGER=）")


def known_units(raw: Path | None, db: Path | None) -> list[Unit]:
    """The units a decision may name: the roster's, and every unit of the published warehouse."""
    units: dict[str, str | None] = {}
    if raw is not None:
        from pipeline.reading.discover import read_roster
        from pipeline.settings import ROSTER_FILE
        roster = Path(raw) / ROSTER_FILE
        if roster.exists():
            try:
                rows = read_roster(roster)
            except Exception as exc:  # RosterError: the roster itself is unusable
                raise Refused(f"无法核对单位：{exc}") from None
            for row in rows:
                units[row["unit_name"]] = row.get("unit_code") or None
    if db is not None and Path(db).exists():
        with duckdb.connect(str(db), read_only=True) as con:
            rows = con.execute("SELECT unit_name, unit_code FROM units UNION ALL "
                               "SELECT unit_name, unit_code FROM unit_scores").fetchall()
        for name, code in rows:
            if units.get(name) is None:
                units[name] = code or None
    return [Unit(name, code) for name, code in sorted(units.items())]


def resolve_unit(text: str, units: list[Unit]) -> Unit:
    """The unit named by 单位名称 or 单位编码 (spaces and full-width forms ignored)."""
    from pipeline.reading.normalise import squash

    wanted = squash(str(text or ""))
    if not wanted:
        raise Refused("未指定单位：请填写单位名称或单位编码")
    for unit in units:
        if wanted == squash(unit.name) or (unit.code and wanted == squash(unit.code)):
            return unit
    if not units:
        raise Refused(f"单位“{text}”无法核对：找不到预算单位名录 units.csv，也没有已发布的数据仓库")
    raise Refused(f"单位“{text}”不在预算单位名录和数据仓库中，请核对单位名称或单位编码")


def parse_score(value: object, max_score: float, code: str) -> float:
    """A score as the officer typed it: a number 0..分值 with at most two decimals."""
    text = str(value).strip() if value is not None else ""
    if not text:
        raise Refused(f"{code} 未填写复核得分")
    try:
        number = Decimal(text)
    except InvalidOperation:
        raise Refused(f"{code} 复核得分“{text}”不是数字") from None
    if not number.is_finite():
        raise Refused(f"{code} 复核得分“{text}”不是数字")
    if number < 0 or number > Decimal(str(max_score)):
        raise Refused(f"{code} 复核得分“{text}”超出范围，应在 0 到 {max_score:g} 分（分值）之间")
    if number != number.quantize(Decimal("0.01")):
        raise Refused(f"{code} 复核得分“{text}”最多保留两位小数")
    return float(number)


def _max_scores(year: int) -> dict[str, float]:
    from pipeline.scoring.framework import FrameworkError, load_framework

    try:
        framework = load_framework(int(year))
    except FrameworkError:
        raise Refused(f"评价年度 {year} 没有评分框架，无法记录复核得分") from None
    return {i.code: i.max_score for i in framework.indicators}


def record(ledger_path: Path, *, year: int, unit: str, code: str, score: object = None, reason: str,
           officer: str, withdraw: bool = False, raw: Path | None = None, db: Path | None = None,
           at: str | None = None) -> Decision:
    """Check one decision and append it to the ledger; Refused (nothing written) when it cannot stand.

    `score` is the officer's 复核得分 (text or number); `withdraw` records that the officer's
    earlier score no longer stands, so the rule's score counts again.
    """
    if db is not None:
        check_ledger_place(ledger_path, db)
    try:
        year = int(year)
    except (TypeError, ValueError):
        raise Refused(f"评价年度“{year}”不是年份") from None
    maxima = _max_scores(year)
    code = str(code or "").strip().upper()
    if code not in maxima:
        raise Refused(f"指标代码“{code}”不在 {year} 年度评分框架中（应为 {'、'.join(maxima)} 之一）")
    found = resolve_unit(unit, known_units(raw, db))
    reason = " ".join(str(reason or "").split())
    if not reason:
        raise Refused(f"{found.name} {code}：必须填写{'撤回' if withdraw else '复核'}理由")
    officer = " ".join(str(officer or "").split())
    if not officer:
        raise Refused("必须填写复核人")
    if withdraw:
        if (year, found.name, code) not in ledger.current_decisions(ledger_path):
            raise Refused(f"{found.name} {year} 年度 {code} 没有可撤回的复核得分")
        value = None
    else:
        value = parse_score(score, maxima[code], code)
    decision = Decision(year, found.name, code, value, reason, officer, at or ledger.now())
    ledger.append_decision(ledger_path, decision)
    return decision


def describe(decision: Decision) -> str:
    """One line for the officer: what was recorded."""
    what = WITHDRAWN if decision.score is None else f"{decision.score:g} 分"
    return (f"{decision.year} {decision.unit_name} {decision.code}：{what}"
            f"（{decision.officer}，{decision.recorded_at}，理由：{decision.reason}）")
