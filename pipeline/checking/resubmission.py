"""退回修改 and 整改 (contract section 12): the versions a unit submitted for a year, what
each changed cell by cell, and whether every error asked to be fixed was fixed. Pure.

- A unit-year's **versions** are its workbooks (loaded, superseded or quarantined), oldest
  first by 填报日期, then file modification time, then file name: the order that decides
  which one is loaded (pipeline.run.resolve_duplicates).
- **Changes** compare consecutive versions that could be read, cell by cell: 数据表 amounts
  (元; a change below 0.005 元 is none), 评分表 scores, 合计 and 自评等级, 基本信息 fields.
  Values are compared typed, so `8,374,036.75` and `8374036.75` are the same figure.
- A **rectification item** is every error or fatal finding of any version, one per
  (rule, location): the same rule at the same place in two versions is the same item.
  The newest version able to judge it decides its status: it still has it → open (overdue
  when the notice that first asked for it is past its deadline on the as-of date), it no
  longer has it → fixed. A version can judge an item when it was read, its rules ran (its
  单位名称 was found) and the item's sheet was found in it; an unreadable newer file fixes
  nothing.
- **Changes nobody asked for**: when a version with items is followed by a newer one, a
  changed figure (数据表 amount or 评分表 score) that none of the items was about is a
  warning on the newer version, naming the cells. An identity's item covers every line of
  the identity; an item on the 评分表 covers its 合计 and 自评等级, which follow from it.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from pipeline.checking.findings import ERROR, FATAL, Finding, finding, fmt_amount
from pipeline.checking.rules import IDENTITIES, SANGONG_PARTS, SANGONG_TOTAL
from pipeline.reading.parse import ParsedWorkbook
from schemas.form import DATA_LINE_BY_NUMBER, INFO_FIELDS, REQUIRED_SHEETS, SHEET_SCORES

FIXED, OPEN, OVERDUE = "fixed", "open", "overdue"
STATUS_LABELS = {FIXED: "已改正", OPEN: "未改正", OVERDUE: "逾期未改正"}
ITEM_SEVERITIES = (FATAL, ERROR)
AMOUNT_TOLERANCE_YUAN = 0.005  # amounts carry fen: a smaller difference is no change
UNREQUESTED_RULE = "resubmission.unrequested_change"


@dataclass(frozen=True)
class Version:
    """One workbook of a unit-year, as the pipeline read and judged it."""

    file: str
    unit_name: str
    year: int
    state: str                        # loaded / superseded / quarantined
    filed_on: dt.date | None          # 填报日期
    parsed: ParsedWorkbook | None     # None: the file could not be read at all
    findings: tuple[Finding, ...] = ()
    order: tuple = ()                 # sort key: (填报日期, mtime, file)

    def items(self) -> dict[tuple[str, str], Finding]:
        """(rule, location) → the first error or fatal finding there."""
        out: dict[tuple[str, str], Finding] = {}
        for f in self.findings:
            if f.severity in ITEM_SEVERITIES:
                out.setdefault((f.rule, f.location), f)
        return out

    def can_judge(self, location: str) -> bool:
        """Whether this version would show a finding at location if it were still there."""
        if self.parsed is None or not self.parsed.unit_name:
            return False
        sheet = sheet_of(location)
        return sheet is None or sheet in self.parsed.sheets_found


@dataclass(frozen=True)
class SentNotice:
    """A 退回修改 notice as the ledger holds it."""

    year: int
    unit_name: str
    round: int
    issued_on: dt.date
    deadline: dt.date
    items: frozenset[tuple[str, str]] = field(default_factory=frozenset)  # (rule, location)


def sheet_of(location: str) -> str | None:
    """The form sheet a location is on (数据表!C14 → 数据表, 评分表 第5行 → 评分表), else None."""
    head = re.split(r"[!\s]", location, maxsplit=1)[0]
    return head if head in REQUIRED_SHEETS else None


def parse_items(text: str) -> frozenset[tuple[str, str]]:
    """A notice's items as the ledger stores them: JSON [[rule, location], …]."""
    try:
        rows = json.loads(text or "[]")
    except ValueError:
        return frozenset()
    return frozenset((str(r[0]), str(r[1])) for r in rows if isinstance(r, list) and len(r) == 2)


def dump_items(items: Iterable[tuple[str, str]]) -> str:
    return json.dumps(sorted([list(i) for i in set(items)]), ensure_ascii=False)


# ---------------------------------------------------------------- versions

def versions_of(subs: Iterable) -> dict[tuple[str, int], list[Version]]:
    """Every workbook of every unit-year, oldest first (pipeline.run.Submission objects in)."""
    chains: dict[tuple[str, int], list[Version]] = {}
    for sub in subs:
        if sub.found.kind != "workbook" or sub.state == "skipped" or not sub.unit_name or sub.year is None:
            continue
        parsed = sub.parsed if isinstance(sub.parsed, ParsedWorkbook) else None
        filed_on = parsed.info.get("filed_on") if parsed is not None else None
        chains.setdefault((sub.unit_name, sub.year), []).append(Version(
            file=sub.found.relative, unit_name=sub.unit_name, year=sub.year, state=sub.state,
            filed_on=filed_on, parsed=parsed, findings=tuple(sub.findings),
            order=(filed_on or dt.date.min, sub.found.mtime_ns, sub.found.relative)))
    for chain in chains.values():
        chain.sort(key=lambda v: v.order)
    return chains


LATE_RULE = "info.late"


def excuse_late_resubmissions(subs: Iterable) -> None:
    """A corrected version filed after the year's 填报截止日期 answers a 退回修改 notice, whose
    own deadline is what counts (rectifications.status); its 逾期报送 warning is dropped when
    the unit's first version of the year was in time. Changes the submissions' findings."""
    chains: dict[tuple[str, int], list] = {}
    for sub in subs:
        if sub.found.kind == "workbook" and sub.state != "skipped" and sub.unit_name and sub.year is not None:
            chains.setdefault((sub.unit_name, sub.year), []).append(sub)
    for chain in chains.values():
        if len(chain) < 2:
            continue
        def order(s):
            filed = s.parsed.info.get("filed_on") if isinstance(s.parsed, ParsedWorkbook) else None
            return (filed or dt.date.min, s.found.mtime_ns, s.found.relative)
        chain.sort(key=order)
        if any(f.rule == LATE_RULE for f in chain[0].findings):
            continue
        for later in chain[1:]:
            later.findings = [f for f in later.findings if f.rule != LATE_RULE]


# ---------------------------------------------------------------- cells

@dataclass(frozen=True)
class Cell:
    location: str      # e.g. 数据表!C16
    item: str          # what the cell holds, in words
    value: object      # typed: 元, points, text, date
    is_figure: bool    # an amount or a score (not a 基本信息 field)


def _score_text(value: float | None) -> str | None:
    return None if value is None else f"{value:.2f}".rstrip("0").rstrip(".")


def shown(value: object) -> str | None:
    """A cell's value as a person reads it in a change list."""
    if value is None:
        return None
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, float):
        return fmt_amount(value)
    return str(value)


def cells_of(parsed: ParsedWorkbook) -> dict[tuple, Cell]:
    """Every cell of a version that a change list compares, under a key stable across versions."""
    cells: dict[tuple, Cell] = {}
    for info in INFO_FIELDS:
        location = parsed.info_cells.get(info.key)
        if location is not None:
            cells[("info", info.key)] = Cell(location, info.label, parsed.info.get(info.key), False)
    for line, value in parsed.amounts.items():
        location = parsed.amount_cells.get(line)
        if location is None:
            continue
        spec = DATA_LINE_BY_NUMBER.get(line)
        label = spec.label.removeprefix("其中：") if spec else ""
        typed = (int(value) if value is not None and spec is not None and spec.is_count
                 and float(value).is_integer() else value)
        cells[("data", line)] = Cell(location, f"行次{line}“{label}”", typed, True)
    for indicator in parsed.indicators:
        cells[("score", indicator.code)] = Cell(indicator.cell, f"{indicator.code} 自评得分",
                                                _score_text(indicator.self_score), True)
    if parsed.total_cell:
        cells[("total",)] = Cell(parsed.total_cell, "自评得分合计", _score_text(parsed.total), True)
    if parsed.grade_cell:
        cells[("grade",)] = Cell(parsed.grade_cell, "自评等级", parsed.grade, True)
    return cells


def _differs(before: object, after: object) -> bool:
    if isinstance(before, (int, float)) and isinstance(after, (int, float)):
        return abs(float(before) - float(after)) > AMOUNT_TOLERANCE_YUAN
    return before != after


@dataclass(frozen=True)
class Change:
    key: tuple
    location: str
    item: str
    before: str | None
    after: str | None
    is_figure: bool


def cell_changes(older: ParsedWorkbook, newer: ParsedWorkbook) -> list[Change]:
    """Every cell whose value differs between two versions, at the newer version's cell."""
    before, after = cells_of(older), cells_of(newer)
    changes = []
    for key in sorted(set(before) | set(after), key=repr):
        old, new = before.get(key), after.get(key)
        old_value = old.value if old else None
        new_value = new.value if new else None
        if not _differs(old_value, new_value):
            continue
        cell = new or old
        changes.append(Change(key, cell.location, cell.item, shown(old_value), shown(new_value), cell.is_figure))
    return changes


def requested_keys(version: Version) -> set[tuple]:
    """The cells a version's items asked about, as cells_of keys."""
    if version.parsed is None:
        return set()
    by_location = {cell.location: key for key, cell in cells_of(version.parsed).items()}
    identities = dict(IDENTITIES)
    identities[SANGONG_TOTAL] = tuple((p, 1) for p in SANGONG_PARTS)
    keys: set[tuple] = set()
    for rule, location in version.items():
        if location in by_location:
            keys.add(by_location[location])
        match = re.fullmatch(r"identity\.r(\d+)", rule)
        if match and int(match.group(1)) in identities:
            left = int(match.group(1))
            keys |= {("data", left)} | {("data", line) for line, _ in identities[left]}
        if rule.startswith("scores.") or sheet_of(location) == SHEET_SCORES:
            keys |= {("total",), ("grade",)}
    return keys


def readable_pairs(chain: Sequence[Version]) -> list[tuple[Version, Version]]:
    """Consecutive versions that could both be read (an unreadable file is stepped over)."""
    readable = [v for v in chain if v.parsed is not None]
    return list(zip(readable, readable[1:]))


def requested(changed_cell: tuple, cells_asked_about: set[tuple]) -> bool:
    """The changed cell is one an error or fatal finding of from_file was about: the finding's
    own cell, every line of an identity it found broken, the 合计 and 等级 for a finding on the
    评分表 (requested_keys)."""
    return changed_cell in cells_asked_about


def change_rows(chain: Sequence[Version], unit_code: str | None) -> list[tuple[dict, dict]]:
    """submission_changes rows of one unit-year: the given columns, and what `requested` takes."""
    rows = []
    for older, newer in readable_pairs(chain):
        asked = requested_keys(older)
        for change in cell_changes(older.parsed, newer.parsed):
            rows.append((dict(unit_code=unit_code, unit_name=newer.unit_name, year=newer.year,
                              from_file=older.file, to_file=newer.file, location=change.location,
                              item=change.item, before=change.before, after=change.after),
                         dict(changed_cell=change.key, cells_asked_about=asked)))
    return rows


def unrequested_findings(chain: Sequence[Version]) -> list[Finding]:
    """A warning on each resubmission that changed figures none of its predecessor's items was about."""
    findings = []
    for older, newer in readable_pairs(chain):
        if not older.items():
            continue
        asked = requested_keys(older)
        extra = [c for c in cell_changes(older.parsed, newer.parsed) if c.is_figure and c.key not in asked]
        if not extra:
            continue
        listed = "；".join(f"{c.location} {c.item}由{c.before or '空'}改为{c.after or '空'}" for c in extra)
        findings.append(finding(
            UNREQUESTED_RULE, "、".join(c.location for c in extra), path=newer.file, count=len(extra),
            changes=listed, previous_path=older.file,
            found="；".join(f"{c.location}={c.after or '空'}" for c in extra),
            expected="；".join(f"{c.location}={c.before or '空'}" for c in extra),
            file=newer.file, unit_name=newer.unit_name, year=newer.year))
    return findings


# ---------------------------------------------------------------- items

def as_of_date(chains: Iterable[Sequence[Version]], notices: Iterable[SentNotice]) -> dt.date | None:
    """The day statuses are judged on: the latest date the inputs know of (the newest 填报日期
    or the newest notice's date), never the clock, so the same inputs give the same warehouse."""
    dates = [v.filed_on for chain in chains for v in chain if v.filed_on is not None]
    dates += [n.issued_on for n in notices]
    return max(dates) if dates else None


def asking_notice(notices: Sequence[SentNotice], rule: str, location: str) -> SentNotice | None:
    """The first notice that asked for (rule, location): its deadline is the one that counts."""
    for notice in sorted(notices, key=lambda n: (n.issued_on, n.round)):
        if (rule, location) in notice.items:
            return notice
    return None


def status(fixed_file: str | None, deadline: dt.date | None, as_of: dt.date | None) -> str:
    """fixed when a later version no longer has the item (fixed_file); overdue when still open on
    as_of, a day after the first asking notice's deadline (the deadline day itself is in time);
    else open."""
    if fixed_file is not None:
        return FIXED
    if deadline is not None and as_of is not None and as_of > deadline:
        return OVERDUE
    return OPEN


def must_resubmit(loaded_with_errors: bool, quarantined: bool, loaded: bool, newer_version_quarantined: bool,
                  copied: bool, in_wrong_year_folder: bool) -> bool:
    """退回修改: the loaded version has errors; or every version was quarantined; or a version
    newer than the loaded one was quarantined; or another unit's file copies this unit's; or
    a workbook of the unit was filed in another year's folder."""
    return (loaded_with_errors or (quarantined and not loaded) or newer_version_quarantined or copied
            or in_wrong_year_folder)


def item_rows(chain: Sequence[Version], unit_code: str | None, notices: Sequence[SentNotice],
              as_of: dt.date | None) -> list[dict]:
    """rectifications rows of one unit-year, one per (rule, location) ever found as error or
    fatal; status is derived from them (`status`)."""
    first: dict[tuple[str, str], int] = {}
    last: dict[tuple[str, str], int] = {}
    found: dict[tuple[str, str], Finding] = {}
    for index, version in enumerate(chain):
        for key, item in version.items().items():
            first.setdefault(key, index)
            last[key] = index
            found.setdefault(key, item)
    rows = []
    for key in sorted(first, key=lambda k: (first[k], k)):
        rule, location = key
        fixed_by = next((v for v in chain[last[key] + 1:] if v.can_judge(location)), None)
        notice = asking_notice(notices, rule, location)
        deadline = notice.deadline if notice else None
        origin, latest = chain[first[key]], chain[last[key]]
        rows.append(dict(
            unit_code=unit_code, unit_name=origin.unit_name, year=origin.year, rule=rule, location=location,
            severity=found[key].severity, message=found[key].message,
            first_file=origin.file, first_seen=origin.filed_on, last_file=latest.file,
            fixed_file=fixed_by.file if fixed_by else None,
            fixed_on=fixed_by.filed_on if fixed_by else None,
            notice_round=notice.round if notice else None, deadline=deadline, as_of=as_of))
    return rows
