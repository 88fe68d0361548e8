"""What a 自评报告 says about the unit's own named targets, against its 绩效目标表. Pure.

A report that writes “督办事项办结率92.3%” states the achieved value of the target
督办事项办结率; when the sheet's 实际完成值 differs beyond the report's own rounding, the
report and the sheet disagree (a warning, like every report figure). Only the targets
the unit named in its sheet are looked for, so an unrelated number is never taken for one.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from pipeline.checking.findings import Finding, finding
from pipeline.narratives.text import ReportFigure, _layout, _sentence_at, normalise_text
from pipeline.reading.targets import TargetRow

# Between a target's name and its value: a few linking words, no other number.
_LINK = r"[^\d。;!?\n]{0,8}?"
_VALUE = r"(\d+(?:\.\d+)?)\s*(%|万人次|人次|万元|个|亩|人|件|起|次|户|家|所|项|天|公里|平方米)?"
ITEM_PREFIX = "target."


def _decimals(number: str) -> int:
    return len(number.split(".", 1)[1]) if "." in number else 0


def target_claims(text: str, rows: Sequence[TargetRow]) -> list[ReportFigure]:
    """The achieved values the report states for targets named in the sheet, in report order."""
    names = sorted({r.name for r in rows if r.name and r.direction != "定性" and len(r.name) >= 3},
                   key=len, reverse=True)
    if not names:
        return []
    text, lines = _layout(normalise_text(text))
    figures: list[ReportFigure] = []
    taken: list[tuple[int, int]] = []
    for name in names:
        key = normalise_text(name)
        for match in re.finditer(re.escape(key) + _LINK + _VALUE, text):
            if any(s <= match.start() < e for s, e in taken):
                continue  # inside a longer name already read (公文处理差错率 vs 差错率)
            taken.append((match.start(), match.end()))
            line = next((ln for ln in lines if ln.start <= match.start() < ln.end), None)
            sentence = _sentence_at(line, match.start())[0] if line else match.group()
            number, unit = match.group(1), match.group(2) or ""
            figures.append(ReportFigure(f"{ITEM_PREFIX}{name}", float(number), None, sentence,
                                        written=number + unit, paragraph=line.paragraph if line else 0))
    return sorted(figures, key=lambda f: (f.paragraph, f.item))


def check_target_claims(figures: Sequence[ReportFigure], rows: Sequence[TargetRow]) -> list[Finding]:
    """A warning for each stated value that differs from the sheet's 实际完成值 by more than
    half a unit of the report's last stated digit."""
    by_name = {r.name: r for r in rows if r.name}
    findings = []
    for figure in figures:
        row = by_name.get(figure.item.removeprefix(ITEM_PREFIX))
        if row is None or row.actual is None or figure.value is None:
            continue
        number = re.match(r"(\d+(?:\.\d+)?)(.*)", figure.written or "")
        stated_unit = number.group(2) if number else ""
        if stated_unit and row.unit and stated_unit != row.unit.strip():
            continue  # 125000人次 against 12.5万人次: another unit, not compared
        half_unit = 0.5 * 10 ** -_decimals(number.group(1)) if number else 0.005
        if abs(figure.value - row.actual) <= half_unit + 1e-9:
            continue
        where = row.cells.get("actual", row.row_ref)
        sheet_value = f"{row.actual:g}{row.unit or ''}"
        location = f"自评报告 第{figure.paragraph}段" if figure.paragraph else "自评报告"
        findings.append(finding("report.mismatch.target", location, name=row.name, cell=where,
                                sentence=figure.sentence[:60], found=figure.written, expected=sheet_value))
    return findings


def report_target_rows(figures: Sequence[ReportFigure], *, file: str, unit_name: str | None,
                       year: int | None) -> list[dict]:
    """Rows of report_figures for the stated target values (item `target.<name>`)."""
    return [{"unit_name": unit_name, "year": year, "file": file, "item": f.item,
             "value": f.value, "text_value": f.written, "sentence": f.sentence} for f in figures]
