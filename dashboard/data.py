"""The dashboard's one door to the warehouse.

Every read opens a read-only connection, runs one parameterised query and closes it,
so the pipeline can replace the file (os.replace) at any time. Results are cached per
build: the cache key carries the file's (inode, mtime, size), which changes with every
published build, so a new build shows up on the next rerun without a restart.
Amounts come back in 元 and rates as fractions, exactly as the warehouse holds them.
"""

from __future__ import annotations

import os
import threading
from pathlib import Path

import duckdb
import pandas as pd
import streamlit as st

from pipeline import settings

Signature = tuple[int, int, int]

# DuckDB shares one database instance between connections to the same path in a
# process; taking connections one at a time means each read opens the file that is
# on disk now, never an instance still holding a replaced build.
_CONNECT_LOCK = threading.Lock()
_RETRIES_ON_REPLACE = 3


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


def read_query(path: Path, sql: str, params: tuple = ()) -> pd.DataFrame:
    """Run one query on a short-lived read-only connection (no cache)."""
    with _CONNECT_LOCK:
        con = duckdb.connect(str(path), read_only=True)
        try:
            return con.execute(sql, list(params)).df()
        finally:
            con.close()


@st.cache_data(show_spinner=False, max_entries=512)
def _cached_query(path: str, signature: Signature, sql: str, params: tuple) -> pd.DataFrame:
    frame = read_query(Path(path), sql, params)
    if file_signature(Path(path)) != signature:
        raise _BuildReplaced(path)
    return frame


def query(sql: str, params: tuple | list = ()) -> pd.DataFrame:
    """The result of a parameterised query on the current build (cached per build)."""
    path = warehouse_path()
    for _ in range(_RETRIES_ON_REPLACE):
        signature = file_signature(path)
        if signature is None:
            raise WarehouseUnavailable(path, "文件不存在")
        try:
            return _cached_query(str(path), signature, sql, tuple(params))
        except _BuildReplaced:
            continue
        except duckdb.Error as error:
            raise WarehouseUnavailable(path, str(error)) from error
    raise WarehouseUnavailable(path, "数据仓库正在更新，请稍后刷新页面")


# --- the warehouse's tables, as the pages need them -------------------------------


def build_info() -> dict:
    frame = query("SELECT build_id, built_at, raw_dir, years, files FROM build_info LIMIT 1")
    if frame.empty:
        raise WarehouseUnavailable(warehouse_path(), "build_info 为空，数据仓库未完成构建")
    return frame.iloc[0].to_dict()


def years() -> list[int]:
    frame = query("SELECT DISTINCT year FROM submission_status UNION SELECT DISTINCT year FROM unit_scores "
                  "ORDER BY year")
    return [int(y) for y in frame["year"].dropna()]


def unit_types() -> list[str]:
    frame = query("SELECT DISTINCT unit_type FROM units UNION SELECT DISTINCT unit_type FROM unit_scores "
                  "WHERE unit_type IS NOT NULL ORDER BY 1")
    return [t for t in frame["unit_type"].dropna()]


def departments() -> list[str]:
    frame = query("SELECT DISTINCT department FROM units UNION SELECT DISTINCT department FROM unit_scores "
                  "WHERE department IS NOT NULL ORDER BY 1")
    return [d for d in frame["department"].dropna()]


def unit_scores(year: int | None = None) -> pd.DataFrame:
    """unit_scores of one year (or of every year), best 复核得分 first."""
    if year is None:
        return query("SELECT * FROM unit_scores ORDER BY year, rank, unit_name")
    return query("SELECT * FROM unit_scores WHERE year = ? ORDER BY rank, unit_name", [year])


def unit_history(unit_name: str) -> pd.DataFrame:
    return query("SELECT * FROM unit_scores WHERE unit_name = ? ORDER BY year", [unit_name])


def submission_status(year: int) -> pd.DataFrame:
    """submission_status with 单位类型 and 主管部门 from the roster (else from the submission)."""
    return query(
        """
        SELECT s.unit_code, s.unit_name, s.year, s.submitted, s.loaded, s.must_resubmit, s.in_roster,
               COALESCE(u.unit_type, sc.unit_type) AS unit_type,
               COALESCE(u.department, sc.department) AS department
        FROM submission_status s
        LEFT JOIN units u ON u.unit_name = s.unit_name
        LEFT JOIN unit_scores sc ON sc.unit_name = s.unit_name AND sc.year = s.year
        WHERE s.year = ?
        ORDER BY s.unit_code NULLS LAST, s.unit_name
        """,
        [year],
    )


def unit_changes(year: int) -> pd.DataFrame:
    return query(
        """
        SELECT c.*, sc.unit_type, sc.department
        FROM unit_changes c
        LEFT JOIN unit_scores sc ON sc.unit_name = c.unit_name AND sc.year = c.year
        WHERE c.year = ?
        ORDER BY abs(c.review_score_change) DESC NULLS LAST, c.unit_name
        """,
        [year],
    )


def indicator_scores(year: int) -> pd.DataFrame:
    return query("SELECT * FROM indicator_scores WHERE year = ? ORDER BY unit_name, code", [year])


def unit_indicator_scores(unit_name: str, year: int) -> pd.DataFrame:
    return query("SELECT * FROM indicator_scores WHERE unit_name = ? AND year = ? ORDER BY code",
                 [unit_name, year])


def unit_info(unit_name: str, year: int) -> pd.DataFrame:
    return query("SELECT * FROM unit_info WHERE unit_name = ? AND year = ?", [unit_name, year])


def data_lines(unit_name: str, year: int) -> pd.DataFrame:
    return query("SELECT * FROM data_lines WHERE unit_name = ? AND year = ? ORDER BY line",
                 [unit_name, year])


def findings(year: int) -> pd.DataFrame:
    """Findings of the year (by 评价年度, else by the folder the file was found in)."""
    return query(
        """
        SELECT f.*
        FROM findings f
        LEFT JOIN ingest_files i ON i.file = f.file
        WHERE COALESCE(f.year, i.year, i.folder_year) = ?
        ORDER BY CASE f.severity WHEN 'fatal' THEN 0 WHEN 'error' THEN 1 ELSE 2 END,
                 f.unit_name NULLS LAST, f.file, f.location
        """,
        [year],
    )


def unit_findings(unit_name: str, year: int) -> pd.DataFrame:
    return query(
        """
        SELECT * FROM findings WHERE unit_name = ? AND year = ?
        ORDER BY CASE severity WHEN 'fatal' THEN 0 WHEN 'error' THEN 1 ELSE 2 END, file, location
        """,
        [unit_name, year],
    )


def ingest_files(year: int) -> pd.DataFrame:
    return query("SELECT * FROM ingest_files WHERE COALESCE(year, folder_year) = ? OR folder_year = ? "
                 "ORDER BY state, file", [year, year])


def report_figures(unit_name: str, year: int) -> pd.DataFrame:
    return query("SELECT * FROM report_figures WHERE unit_name = ? AND year = ? ORDER BY item",
                 [unit_name, year])
