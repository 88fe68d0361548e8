"""The dashboard's one door to the warehouse, and the place where who-sees-what is enforced.

Every read opens a read-only connection, runs one parameterised query and closes it,
so the pipeline can replace the file (os.replace) at any time. Results are cached per
build: the cache key carries the file's (inode, mtime, size), which changes with every
published build, so a new build shows up on the next rerun without a restart.
Amounts come back in 元 and rates as fractions, exactly as the warehouse holds them.

Every public function reads as a viewer (dashboard.auth.Viewer): the one passed in, else
the signed-in viewer of the session. A bureau viewer reads the published file itself. A
unit viewer's query runs in a private in-memory database holding only that unit's rows,
copied with the unit name as a parameter; the published file is detached and file access
switched off before the query runs, so no query text, however written, reaches another
unit's rows. The one exception is county_profile: counts, means and quartiles over every
unit, which a unit account sees beside its own figures; it returns no row and no name.
"""

from __future__ import annotations

import contextlib
import contextvars
import os
import re
import threading
from pathlib import Path

import duckdb
import pandas as pd
import streamlit as st

from pipeline import settings
from presentation.queries import FILES_OF_YEAR, FINDINGS_OF_UNIT, FINDINGS_OF_YEAR, STATUS_OF_YEAR
from presentation.targets import TARGETS_OF_UNIT, TARGETS_OF_YEAR

from . import auth

Signature = tuple[int, int, int]

# DuckDB shares one database instance between connections to the same path in a
# process; taking connections one at a time means each read opens the file that is
# on disk now, never an instance still holding a replaced build.
_CONNECT_LOCK = threading.Lock()
_RETRIES_ON_REPLACE = 3

# What a unit viewer gets of each table: rows of its own unit, chosen by the parameter.
# A finding without a unit name belongs to the unit its file was read as. build_info
# describes the build, not a unit. A table missing here is copied empty: a table added to
# the warehouse stays hidden from unit viewers until someone decides what they may see of it.
_OWN_UNIT_ROWS = 'SELECT * FROM published.main."{table}" WHERE unit_name = ?'
_NO_ROWS = 'SELECT * FROM published.main."{table}" WHERE false'
UNIT_SCOPE = {
    "build_info": ("SELECT * FROM published.main.build_info", False),
    "units": (_OWN_UNIT_ROWS, True),
    "ingest_files": (_OWN_UNIT_ROWS, True),
    "findings": ("SELECT f.* FROM published.main.findings f "
                 "LEFT JOIN published.main.ingest_files i ON i.file = f.file "
                 "WHERE COALESCE(f.unit_name, i.unit_name) = ?", True),
    "unit_info": (_OWN_UNIT_ROWS, True),
    "data_lines": (_OWN_UNIT_ROWS, True),
    "indicator_scores": (_OWN_UNIT_ROWS, True),
    "unit_scores": (_OWN_UNIT_ROWS, True),
    "unit_changes": (_OWN_UNIT_ROWS, True),
    "submission_status": (_OWN_UNIT_ROWS, True),
    "report_figures": (_OWN_UNIT_ROWS, True),
    "submission_changes": (_OWN_UNIT_ROWS, True),
    "rectifications": (_OWN_UNIT_ROWS, True),
    # The bureau's own working list: a unit is not told whether, or why, it was sampled.
    "review_sample": (_NO_ROWS, False),
    "targets": (_OWN_UNIT_ROWS, True),
}


class WarehouseUnavailable(Exception):
    """The warehouse file is missing or cannot be read as a warehouse."""

    def __init__(self, path: Path, reason: str):
        super().__init__(f"{path}: {reason}")
        self.path = path
        self.reason = reason


class _BuildReplaced(Exception):
    """The file changed while it was being read; the result belongs to no single build."""


def warehouse_path() -> Path:
    return settings.db_path()


def file_signature(path: Path) -> Signature | None:
    try:
        stat = os.stat(path)
    except FileNotFoundError:
        return None
    return (stat.st_ino, stat.st_mtime_ns, stat.st_size)


# The viewer of reads outside any session (the server's preloading thread); a thread starts
# without one, so a session never sees another thread's.
_READING_AS: contextvars.ContextVar[auth.Viewer | None] = contextvars.ContextVar("reading_as", default=None)


@contextlib.contextmanager
def reading_as(viewer: auth.Viewer):
    """Reads in this block that name no viewer read as `viewer` (for work outside a session)."""
    token = _READING_AS.set(viewer)
    try:
        yield
    finally:
        _READING_AS.reset(token)


def scope_of(viewer: auth.Viewer | None) -> str | None:
    """The unit a read is limited to (None: every unit). No viewer: the session's, else NotSignedIn."""
    viewer = viewer or _READING_AS.get() or auth.current_viewer()
    if viewer.sees_everything:
        return None
    if not viewer.unit:
        raise auth.NotSignedIn(f"用户 {viewer.name} 没有对应的单位")
    return viewer.unit


def _quoted(identifier: str) -> str:
    return identifier.replace('"', '""')


def _unit_connection(path: Path, unit: str, sql: str) -> duckdb.DuckDBPyConnection:
    """An in-memory database with only the unit's rows of the tables the query names, sealed."""
    con = duckdb.connect(":memory:")
    try:
        con.execute("ATTACH ? AS published (READ_ONLY)", [str(path)])
        tables = [t for (t,) in con.execute(
            "SELECT table_name FROM duckdb_tables() WHERE database_name = 'published' AND schema_name = 'main'"
        ).fetchall()]
        # A table the query text does not name cannot be read by it: copying only the named
        # ones keeps each read to a few small copies.
        named = {t for t in tables if re.search(rf"\b{re.escape(t)}\b", sql, flags=re.IGNORECASE)}
        for table in tables:
            if table not in named:
                continue
            rows, takes_unit = UNIT_SCOPE.get(table, (_NO_ROWS, False))
            con.execute(f'CREATE TABLE main."{_quoted(table)}" AS ' + rows.format(table=_quoted(table)),
                        [unit] if takes_unit else [])
        con.execute("DETACH published")
        con.execute("SET enable_external_access = false")
        con.execute("SET lock_configuration = true")
    except BaseException:
        con.close()
        raise
    return con


def read_query(path: Path, sql: str, params: tuple | list = (), *,
               viewer: auth.Viewer | None = None) -> pd.DataFrame:
    """Run one query on a short-lived read-only connection (no cache), as the viewer may see it."""
    return _read(path, sql, tuple(params), scope_of(viewer))


def _read(path: Path, sql: str, params: tuple, scope: str | None) -> pd.DataFrame:
    with _CONNECT_LOCK:
        if scope is None:
            con = duckdb.connect(str(path), read_only=True)
        else:
            con = _unit_connection(path, scope, sql)
        try:
            return con.execute(sql, list(params)).df()
        finally:
            con.close()


@st.cache_data(show_spinner=False, max_entries=512)
def _cached_query(path: str, signature: Signature, sql: str, params: tuple, scope: str | None) -> pd.DataFrame:
    frame = _read(Path(path), sql, params, scope)
    if file_signature(Path(path)) != signature:
        raise _BuildReplaced(path)
    return frame


def build_identity() -> tuple[str, Signature]:
    """The published build being read: the warehouse path and its file's (inode, mtime, size),
    which every publication changes."""
    path = warehouse_path()
    signature = file_signature(path)
    if signature is None:
        raise WarehouseUnavailable(path, "文件不存在")
    return str(path), signature


def query(sql: str, params: tuple | list = (), *, viewer: auth.Viewer | None = None) -> pd.DataFrame:
    """The result of a parameterised query on the current build, as the viewer may see it (cached per build)."""
    scope = scope_of(viewer)
    path = warehouse_path()
    for _ in range(_RETRIES_ON_REPLACE):
        signature = file_signature(path)
        if signature is None:
            raise WarehouseUnavailable(path, "文件不存在")
        try:
            return _cached_query(str(path), signature, sql, tuple(params), scope)
        except _BuildReplaced:
            continue
        except duckdb.Error as error:
            raise WarehouseUnavailable(path, str(error)) from error
    raise WarehouseUnavailable(path, "数据仓库正在更新，请稍后刷新页面")


# --- the warehouse's tables, as the pages need them -------------------------------


def build_info(*, viewer: auth.Viewer | None = None) -> dict:
    frame = query("SELECT build_id, built_at, raw_dir, years, files FROM build_info LIMIT 1", viewer=viewer)
    if frame.empty:
        raise WarehouseUnavailable(warehouse_path(), "build_info 为空，数据仓库未完成构建")
    return frame.iloc[0].to_dict()


def years(*, viewer: auth.Viewer | None = None) -> list[int]:
    frame = query("SELECT DISTINCT year FROM submission_status UNION SELECT DISTINCT year FROM unit_scores "
                  "ORDER BY year", viewer=viewer)
    return [int(y) for y in frame["year"].dropna()]


def unit_types(*, viewer: auth.Viewer | None = None) -> list[str]:
    frame = query("SELECT DISTINCT unit_type FROM units UNION SELECT DISTINCT unit_type FROM unit_scores "
                  "WHERE unit_type IS NOT NULL ORDER BY 1", viewer=viewer)
    return [t for t in frame["unit_type"].dropna()]


def departments(*, viewer: auth.Viewer | None = None) -> list[str]:
    frame = query("SELECT DISTINCT department FROM units UNION SELECT DISTINCT department FROM unit_scores "
                  "WHERE department IS NOT NULL ORDER BY 1", viewer=viewer)
    return [d for d in frame["department"].dropna()]


def unit_scores(year: int | None = None, *, viewer: auth.Viewer | None = None) -> pd.DataFrame:
    """unit_scores of one year (or of every year), best 复核得分 first."""
    if year is None:
        return query("SELECT * FROM unit_scores ORDER BY year, rank, unit_name", viewer=viewer)
    return query("SELECT * FROM unit_scores WHERE year = ? ORDER BY rank, unit_name", [year], viewer=viewer)


def unit_history(unit_name: str, *, viewer: auth.Viewer | None = None) -> pd.DataFrame:
    return query("SELECT * FROM unit_scores WHERE unit_name = ? ORDER BY year", [unit_name], viewer=viewer)


def submission_status(year: int, *, viewer: auth.Viewer | None = None) -> pd.DataFrame:
    """submission_status with 单位类型 and 主管部门 from the roster (else from the submission)."""
    return query(STATUS_OF_YEAR, [year], viewer=viewer)


def unit_changes(year: int, *, viewer: auth.Viewer | None = None) -> pd.DataFrame:
    return query(
        """
        SELECT c.*, sc.unit_type, sc.department
        FROM unit_changes c
        LEFT JOIN unit_scores sc ON sc.unit_name = c.unit_name AND sc.year = c.year
        WHERE c.year = ?
        ORDER BY abs(c.review_score_change) DESC NULLS LAST, c.unit_name
        """,
        [year],
        viewer=viewer,
    )


def indicator_scores(year: int, code: str | None = None, *, viewer: auth.Viewer | None = None) -> pd.DataFrame:
    """indicator_scores of the year; of one indicator (code) only when given, a twentieth of the rows."""
    if code is not None:
        return query("SELECT * FROM indicator_scores WHERE year = ? AND code = ? ORDER BY unit_name",
                     [year, code], viewer=viewer)
    return query("SELECT * FROM indicator_scores WHERE year = ? ORDER BY unit_name, code", [year], viewer=viewer)


def unit_indicator_scores(unit_name: str, year: int, *, viewer: auth.Viewer | None = None) -> pd.DataFrame:
    return query("SELECT * FROM indicator_scores WHERE unit_name = ? AND year = ? ORDER BY code",
                 [unit_name, year], viewer=viewer)


def unit_info(unit_name: str, year: int, *, viewer: auth.Viewer | None = None) -> pd.DataFrame:
    return query("SELECT * FROM unit_info WHERE unit_name = ? AND year = ?", [unit_name, year], viewer=viewer)


def data_lines(unit_name: str, year: int, *, viewer: auth.Viewer | None = None) -> pd.DataFrame:
    return query("SELECT * FROM data_lines WHERE unit_name = ? AND year = ? ORDER BY line",
                 [unit_name, year], viewer=viewer)


def findings(year: int, *, viewer: auth.Viewer | None = None) -> pd.DataFrame:
    """Findings of the year (by 评价年度, else by the folder the file was found in)."""
    return query(FINDINGS_OF_YEAR, [year], viewer=viewer)


def unit_findings(unit_name: str, year: int, *, viewer: auth.Viewer | None = None) -> pd.DataFrame:
    """The unit's findings of the year, each with its file's state (superseded ones last)."""
    return query(FINDINGS_OF_UNIT, [unit_name, year], viewer=viewer)


def unit_files(unit_name: str, year: int, *, viewer: auth.Viewer | None = None) -> pd.DataFrame:
    """The unit's files of the year with their state and the reason (quarantined, superseded…)."""
    return query("SELECT * FROM ingest_files WHERE unit_name = ? AND (COALESCE(year, folder_year) = ? "
                 "OR folder_year = ?) ORDER BY state, file", [unit_name, year, year], viewer=viewer)


def unit_status(unit_name: str, year: int, *, viewer: auth.Viewer | None = None) -> pd.DataFrame:
    """The unit's row of submission_status for the year (empty: neither in the roster nor submitted)."""
    return query("SELECT * FROM submission_status WHERE unit_name = ? AND year = ?", [unit_name, year],
                 viewer=viewer)


# The county's figures a unit account may see beside its own: counts, means and quartiles over
# every loaded unit, never a row or a name. Computed on the published file (the one read that
# is not limited to the viewer's unit), and only these aggregate columns leave it.
_PROFILED = ("review_score", "self_score", "execution_rate", "sangong_control_rate", "public_control_rate")
COUNTY_PROFILE = "SELECT " + ", ".join(
    f"count({c}) AS {c}__n, avg({c}) AS {c}__mean, quantile_cont({c}, 0.25) AS {c}__p25, "
    f"quantile_cont({c}, 0.5) AS {c}__median, quantile_cont({c}, 0.75) AS {c}__p75"
    for c in _PROFILED) + ", count(*) AS units, sum(budget_issued) AS budget_issued, sum(spent) AS spent, " \
    "sum(sangong_budget) AS sangong_budget, sum(sangong_spent) AS sangong_spent " \
    "FROM unit_scores WHERE year = ?"
COUNTY_GRADES = "SELECT review_grade AS grade, count(*) AS units FROM unit_scores WHERE year = ? GROUP BY 1"


def county_profile(year: int, *, viewer: auth.Viewer | None = None) -> dict:
    """Aggregates of every loaded unit of the year, for any viewer: {metric: {n, mean, p25, median, p75}},
    the county's sums (元), units, and the count of units per 复核等级."""
    scope_of(viewer)  # signed in, whoever it is
    path = warehouse_path()
    signature = file_signature(path)
    if signature is None:
        raise WarehouseUnavailable(path, "文件不存在")
    try:
        row = _cached_query(str(path), signature, COUNTY_PROFILE, (year,), None).iloc[0].to_dict()
        grades = _cached_query(str(path), signature, COUNTY_GRADES, (year,), None)
    except _BuildReplaced:
        return county_profile(year, viewer=viewer)
    except duckdb.Error as error:
        raise WarehouseUnavailable(path, str(error)) from error
    profile = {c: {part: row[f"{c}__{part}"] for part in ("n", "mean", "p25", "median", "p75")}
               for c in _PROFILED}
    profile["county"] = {k: row[k] for k in ("units", "budget_issued", "spent", "sangong_budget", "sangong_spent")}
    profile["grades"] = {str(g): int(n) for g, n in zip(grades["grade"], grades["units"]) if g is not None}
    return profile


def ingest_files(year: int, *, viewer: auth.Viewer | None = None) -> pd.DataFrame:
    return query(FILES_OF_YEAR, [year, year], viewer=viewer)


def report_figures(unit_name: str, year: int, *, viewer: auth.Viewer | None = None) -> pd.DataFrame:
    return query("SELECT * FROM report_figures WHERE unit_name = ? AND year = ? ORDER BY item",
                 [unit_name, year], viewer=viewer)


def rectifications(year: int, *, viewer: auth.Viewer | None = None) -> pd.DataFrame:
    """退回修改 items of the year with their status (contract section 12)."""
    return query("SELECT * FROM rectifications WHERE year = ? ORDER BY unit_name, first_file, rule, location",
                 [year], viewer=viewer)


def submission_changes(year: int, *, viewer: auth.Viewer | None = None) -> pd.DataFrame:
    """Every changed cell between consecutive versions of the year's submissions."""
    return query("SELECT * FROM submission_changes WHERE year = ? ORDER BY unit_name, to_file, location",
                 [year], viewer=viewer)
# --- the bureau's 复核: the sample and the ledger (a unit viewer reads nothing of either) ---------


def review_sample(year: int, *, viewer: auth.Viewer | None = None) -> pd.DataFrame:
    """The year's 抽查 sample, highest risk first (empty for a unit viewer)."""
    return query("SELECT * FROM review_sample WHERE year = ? ORDER BY risk DESC, unit_name", [year], viewer=viewer)


def ledger_decisions(year: int, *, viewer: auth.Viewer | None = None) -> pd.DataFrame:
    """Every decision of the year in the ledger, oldest first; empty for a unit viewer, who never
    reads the ledger. Read on every call: an officer may have recorded one a moment ago."""
    from pipeline import ledger

    columns = ["year", "unit_name", "code", "score", "reason", "officer", "recorded_at"]
    if scope_of(viewer) is not None:
        return pd.DataFrame(columns=columns)
    decisions = [d for d in ledger.all_decisions(settings.ledger_path()) if d.year == year]
    return pd.DataFrame([[getattr(d, c) for c in columns] for d in decisions], columns=columns).astype(
        {"score": "float64"})


def targets(year: int, *, viewer: auth.Viewer | None = None) -> pd.DataFrame:
    """绩效目标表 rows of the year, with 单位类型 and 主管部门."""
    return query(TARGETS_OF_YEAR, [year], viewer=viewer)


def unit_targets(unit_name: str, year: int, *, viewer: auth.Viewer | None = None) -> pd.DataFrame:
    return query(TARGETS_OF_UNIT, [unit_name, year], viewer=viewer)


def regions(*, viewer: auth.Viewer | None = None) -> pd.DataFrame:
    """地区 of the roster units that have one, with their 主管部门 (no rows: the roster has no 地区)."""
    return query("SELECT unit_name, department, region FROM units WHERE NULLIF(trim(region), '') IS NOT NULL "
                 "ORDER BY region, department, unit_name", viewer=viewer)
