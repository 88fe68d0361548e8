"""Every derived column of the warehouse, end to end: workbooks on disk, the real run, the
published DuckDB file. Each column's 口径 is restated here by 行次 (contract section 4), apart
from the code that computes it, so a wrong line or two swapped inputs cannot pass."""

from __future__ import annotations

import random
from pathlib import Path

import duckdb
import pytest

from pipeline.publishing.contract import CONTRACT
from pipeline.run import run
from pipeline.scoring.framework import load_framework
from tests.builders import REFERENCE_DATA, REFERENCE_UNIT, ROSTER, County, reference_form, unit_form


def ratio(numerator, denominator):
    if numerator is None or denominator is None or denominator == 0:
        return None
    return numerator / denominator


def band(score, year):
    """The year's 等级 of a score, read straight from the framework's [grades]."""
    reached = [(lower, name) for name, lower in load_framework(year).grades.items() if score >= lower]
    return max(reached)[1] if reached else None


# column → its value from the unit-year's 数据表 lines (r) and its published row (row)
KOUJING = {
    "execution_rate": lambda r, row: ratio(r[13], r[12]),
    "opening_execution_rate": lambda r, row: ratio(r[13], r[9]),
    "basic_execution_rate": lambda r, row: ratio(r[14], r[10]),
    "project_execution_rate": lambda r, row: ratio(r[15], r[11]),
    "budget_adjustment_rate": lambda r, row: ratio(None if r[12] is None or r[9] is None else r[12] - r[9], r[9]),
    "basic_share": lambda r, row: ratio(r[14], r[13]),
    "carryover_rate": lambda r, row: ratio(r[16], None if r[4] is None or r[8] is None else r[4] + r[8]),
    "public_control_rate": lambda r, row: ratio(r[18], r[17]),
    "sangong_control_rate": lambda r, row: ratio(r[20], r[19]),
    "review_grade": lambda r, row: band(row["review_score"], row["year"]),
    "inflation": lambda r, row: None if row["self_score"] is None else round(row["self_score"] - row["review_score"], 2),
    "must_resubmit": lambda r, row: row["errors"] > 0,
}
DERIVED = [(t.name, c.name) for t in CONTRACT.values() for c in t.columns if c.derive is not None]
FIGURES = [(t.name, c.name, c.line) for t in CONTRACT.values() for c in t.columns if c.line is not None]
UNITS = [name for _, name, _, _ in ROSTER if name != REFERENCE_UNIT]


def varied(seed: int) -> dict[int, float]:
    """The reference figures, each line scaled on its own: the lines no longer agree, so every
    ratio differs from its neighbours' and a swapped input shows."""
    rnd = random.Random(seed)
    return {line: (value if line >= 24 else round(value * rnd.uniform(0.5, 1.5), 2))
            for line, value in REFERENCE_DATA.items()}


@pytest.fixture(scope="module")
def published(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("derived")
    county = County(root / "raw")
    county.workbook("ref.xlsx", reference_form())
    for n, name in enumerate(UNITS):
        data = varied(n)
        if n == 0:
            data.update({12: 0.0, 9: 0.0, 19: 0.0})  # nothing issued: the rates over it are not applicable
        scores = [{}, {"B1": 5}, {"A1": 5, "A2": 5, "B5": 5, "B7": 2}, {"A1": 12, "A2": 10}][n % 4]
        county.workbook(f"u{n}.xlsx", unit_form(name, data=data, scores=scores))
    db = root / "performance.duckdb"
    run(county.raw, db, progress=False)
    return db


def rows(db: Path, table: str) -> list[dict]:
    with duckdb.connect(str(db), read_only=True) as con:
        cursor = con.execute(f"SELECT * FROM {table} ORDER BY ALL")
        names = [d[0] for d in cursor.description]
        return [dict(zip(names, r)) for r in cursor.fetchall()]


def lines_of(db: Path) -> dict[tuple[str, int], dict[int, float | None]]:
    out: dict[tuple[str, int], dict[int, float | None]] = {}
    for r in rows(db, "data_lines"):
        out.setdefault((r["unit_name"], r["year"]), {})[r["line"]] = r["amount"]
    return out


def test_every_derived_column_has_its_koujing_here():
    assert {column for _, column in DERIVED} == set(KOUJING)


@pytest.mark.parametrize("table, column", DERIVED)
def test_derived_column_end_to_end(published: Path, table: str, column: str):
    lines = lines_of(published)
    published_rows = rows(published, table)
    assert len(published_rows) == 1 + len(UNITS)
    values = set()
    for row in published_rows:
        expected = KOUJING[column](lines[(row["unit_name"], row["year"])], row)
        if isinstance(expected, float):
            assert row[column] == pytest.approx(expected, rel=1e-12), (row["unit_name"], column)
        else:
            assert row[column] == expected, (row["unit_name"], column)
        values.add(row[column])
    assert len(values) > 1, f"{column}: every unit has the same value, the test could not tell inputs apart"


@pytest.mark.parametrize("table, column, line", FIGURES)
def test_figure_column_end_to_end(published: Path, table: str, column: str, line: int):
    lines = lines_of(published)
    for row in rows(published, table):
        assert row[column] == lines[(row["unit_name"], row["year"])][line]


def test_reference_unit_execution_in_depth(published: Path):
    """The reference unit's report: 77.17 % against the opening budget, 49.98 % for projects."""
    [row] = [r for r in rows(published, "unit_scores") if r["unit_name"] == REFERENCE_UNIT]
    assert round(row["opening_execution_rate"] * 100, 2) == 77.17
    assert round(row["project_execution_rate"] * 100, 2) == 49.98
    assert round(row["execution_rate"] * 100, 2) == 99.72
