"""Rows a build takes over from the published warehouse instead of making them again (IO edge).

A unit-year's rows of data_lines and unit_info are a function of the loaded workbook's bytes,
its file, the unit and year it counts for, and the code alone; its targets rows also of the
roster and the frameworks (unit_code, 定性 levels); its indicator_scores rows also of the
ledger and, where a metric compares with the previous year, of that year's file. When the
published build was made by the same code (and from the same of these other inputs) and a
unit-year is loaded from the same file with the same bytes again, its rows are read from the
published file as Arrow and inserted into the new one with the new rows, sorted as a whole build
is: they never become Python objects, which at 10 000 units was
most of the cost of building and writing these tables. The new build is still a new file,
checked before it replaces the published one, which is only read.

What other files can change about an unchanged unit-year (a newer duplicate, a copy of its file
by name or by its 数据表 figures, a report) is in findings, unit_scores and submission_status,
which every build makes whole: none of them is carried.

Which code and context made which build is recorded beside the warehouse, in the cache file,
once the build is published; a build it does not know (a cache deleted, a warehouse copied
in from elsewhere, other code) carries nothing over, and the tables are built whole.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import duckdb
import polars as pl

from pipeline.publishing.contract import CONTRACT

from pipeline.publishing.summary import build_id_of, published_build_id

if TYPE_CHECKING:  # pyarrow (with numpy, about a third of the run path's imports) loads when rows are read
    import pyarrow as pa

# table → the inputs of the whole build its rows depend on besides one loaded workbook (its
# bytes, file, unit and year) and the code: "context" the roster and frameworks, "ledger" the
# officers' decisions. indicator_scores also depend on the unit's previous year (the metrics
# against it), which Carried.keeps_reviews looks at unit by unit.
CARRIED_TABLES: dict[str, tuple[str, ...]] = {
    "unit_info": (), "data_lines": (), "targets": ("context",), "indicator_scores": ("context", "ledger")}
KNOWN_BUILDS = 10  # builds whose code is remembered: the published one, .previous and a few more


@dataclass
class Carried:
    """The published warehouse and the unit-years whose rows the new build copies from it;
    the build's own frames of CARRIED_TABLES leave them out."""

    source: Path | None = None   # a link to the published file as it was when the build began
    build_id: str | None = None  # the published build's, read from the link (None: no build to read)
    con: duckdb.DuckDBPyConnection | None = field(default=None, repr=False)  # read-only, on source
    previous_files: dict[tuple[str, int], tuple[str, str]] = field(default_factory=dict)
    previous_inputs: dict[str, str | None] = field(default_factory=dict)
    inputs: dict[str, str | None] = field(default_factory=dict)  # this build's: context, ledger
    units: set[tuple[str, int]] = field(default_factory=set)
    review_units: set[tuple[str, int]] = field(default_factory=set)
    # table → (its carried unit-years, every column of their rows): read for the 抽查 sample, kept for the insert
    _read: dict[str, tuple[frozenset, pa.Table]] = field(default_factory=dict, repr=False)

    def takes(self, unit_name: str, year: int, file: str, sha256: str) -> bool:
        """Whether the unit-year, loaded from this file with these bytes, is carried over (and
        remember it when so)."""
        if self.previous_files.get((unit_name, year)) != (file, sha256):
            return False
        self.units.add((unit_name, year))
        return True

    def same(self, *names: str) -> bool:
        """Whether these inputs of the whole build are what the published build was made from."""
        return all(self.inputs.get(n) is not None and self.inputs.get(n) == self.previous_inputs.get(n)
                   for n in names)

    def keeps_reviews(self, unit_name: str, year: int, against_previous_year: bool,
                      previous_year_file: tuple[str, str] | None) -> bool:
        """Whether a carried unit-year's indicator_scores are carried too (and remember it when
        so): same roster, frameworks and ledger, and, where its metrics look at the previous
        year, the same file loaded for that year (or none, both times)."""
        key = (unit_name, year)
        if key not in self.units or not self.same(*CARRIED_TABLES["indicator_scores"]):
            return False
        if against_previous_year and previous_year_file != self.previous_files.get((unit_name, year - 1)):
            return False
        self.review_units.add(key)
        return True

    def units_of(self, table: str) -> set[tuple[str, int]]:
        """The unit-years whose rows of the table are copied."""
        if table == "indicator_scores":
            return self.review_units
        return self.units if self.same(*CARRIED_TABLES[table]) else set()

    def rows(self, table: str, columns: tuple[str, ...], last: bool = False) -> pa.Table | None:
        """Those columns of the carried unit-years' rows of a carried table, read from the source
        build as Arrow (from one DuckDB file into the other without becoming Python objects);
        None when none are carried. A table's rows are read once and kept for the next call,
        until the `last` one. Only the contract's names of a carried table go into the SQL."""
        if table not in CARRIED_TABLES or any(c not in CONTRACT[table].by_name for c in columns):
            raise ValueError(f"{table} 不是沿用的表，或没有这些列：{columns}")
        units = self.units_of(table)
        if not units:
            return None
        wanted = frozenset(units)
        read = self._read.pop(table, None)
        if read is None or read[0] != wanted:
            self.con.register("carried_units", unit_frame(units).to_arrow())
            try:
                every = ", ".join(c.name for c in CONTRACT[table].columns)
                read = (wanted, self.con.sql(f"SELECT {every} FROM {table} "
                                             "SEMI JOIN carried_units USING (unit_name, year)").to_arrow_table())
            finally:
                self.con.unregister("carried_units")
        if not last:
            self._read[table] = read
        return read[1].select(list(columns))


def unit_frame(units: set[tuple[str, int]]) -> pl.DataFrame:
    return pl.DataFrame(sorted(units), schema={"unit_name": pl.String, "year": pl.Int32}, orient="row")


def _code() -> str:
    """Every module of pipeline/ and schemas/ and the libraries' versions, as the check cache hashes them."""
    from pipeline.checking.cache import check_code_fingerprint  # the reading code: not for readers of the warehouse

    return check_code_fingerprint()


def _connect(cache_file: Path) -> sqlite3.Connection:
    con = sqlite3.connect(cache_file, timeout=60, isolation_level=None)
    try:
        con.execute("CREATE TABLE IF NOT EXISTS published_builds (build_id TEXT PRIMARY KEY, code TEXT NOT NULL, "
                    "context TEXT, ledger TEXT, seq INTEGER NOT NULL)")
    except sqlite3.Error:
        con.close()
        raise
    return con


def record_build(cache_file: Path, build_id: str, inputs: dict[str, str | None]) -> None:
    """Remember that this code made the build now published (never an error: without it the
    next build only makes every row itself)."""
    with contextlib.suppress(sqlite3.Error, OSError), contextlib.closing(_connect(cache_file)) as con:
        con.execute("BEGIN IMMEDIATE")
        seq = con.execute("SELECT coalesce(max(seq), 0) + 1 FROM published_builds").fetchone()[0]
        con.execute("INSERT OR REPLACE INTO published_builds VALUES (?, ?, ?, ?, ?)",
                    (build_id, _code(), inputs.get("context"), inputs.get("ledger"), seq))
        con.execute("DELETE FROM published_builds WHERE seq <= ?", (seq - KNOWN_BUILDS,))
        con.execute("COMMIT")


def _made_by_this_code(cache_file: Path, build_id: str) -> tuple[bool, dict[str, str | None]]:
    """Whether this code made the build, and from which roster and frameworks, and ledger."""
    if not cache_file.exists():
        return False, {}
    try:
        with contextlib.closing(_connect(cache_file)) as con:
            row = con.execute("SELECT code, context, ledger FROM published_builds WHERE build_id = ?",
                              (build_id,)).fetchone()
    except (sqlite3.Error, OSError):
        return False, {}
    if row is None or row[0] != _code():
        return False, {}
    return True, {"context": row[1], "ledger": row[2]}


def source_path(db: Path) -> Path:
    return db.with_name(f".{db.name}.carry-{os.getpid()}")


def what_to_carry(db: Path, cache_file: Path | None) -> Carried:
    """The published build's id and, when this code made it, its loaded files by unit-year.

    The published file is linked to first: it is replaced, never written, so the link stays
    the very build these files were read from even if another run publishes meanwhile. One
    read-only connection to the link serves the whole build (opening the file is most of the
    cost of a small read); release() closes it."""
    if not db.exists():
        return Carried()
    source = source_path(db)
    source.unlink(missing_ok=True)
    try:
        os.link(db, source)
    except OSError:  # a disk without hard links: every row is made again
        return Carried(build_id=published_build_id(db))
    carried = Carried(source)
    try:
        carried.con = duckdb.connect(str(source), read_only=True)
        build_id = build_id_of(carried.con)
        same_code, inputs = (_made_by_this_code(cache_file, build_id) if cache_file is not None and build_id
                             else (False, {}))
        rows = carried.con.execute("SELECT unit_name, year, file, sha256 FROM ingest_files "
                                   "WHERE kind = 'workbook' AND state = 'loaded'").fetchall() if same_code else []
    except duckdb.Error:
        release(carried)
        return Carried()
    if not same_code:
        release(carried)
        return Carried(build_id=build_id)
    carried.build_id, carried.previous_inputs = build_id, inputs
    carried.previous_files = {(unit, year): (file, sha) for unit, year, file, sha in rows}
    return carried


def release(carried: Carried) -> None:
    """Close the connection to the build rows were carried from and remove the link to it."""
    if carried.con is not None:
        carried.con.close()
        carried.con = None
    carried._read.clear()
    if carried.source is not None:
        for path in (carried.source, carried.source.with_name(carried.source.name + ".wal")):
            path.unlink(missing_ok=True)
