"""The warehouse's tables for one year, read once, read-only, into pandas frames."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import pandas as pd

from presentation.queries import FILES_OF_YEAR, FINDINGS_OF_YEAR, STATUS_OF_YEAR, history_findings, open_findings
from presentation.targets import TARGETS_OF_YEAR


@dataclass(frozen=True)
class YearData:
    """Everything the outputs of one year are made of. Amounts in 元, rates as fractions."""
    year: int
    scores: pd.DataFrame          # unit_scores of the year, by rank
    all_scores: pd.DataFrame      # unit_scores of every year (for the 三公 totals by year)
    indicators: pd.DataFrame      # indicator_scores of the year
    findings: pd.DataFrame        # open findings of the year (by 评价年度, else by folder), with file_state
    status: pd.DataFrame          # submission_status of the year with 单位类型 and 主管部门
    changes: pd.DataFrame         # unit_changes of the year
    build_id: str
    built_at: object
    rectifications: pd.DataFrame = field(default_factory=pd.DataFrame)  # 整改 items of the year (section 12)
    files: pd.DataFrame = field(default_factory=pd.DataFrame)  # ingest_files of the year: every version filed
    targets: pd.DataFrame = field(default_factory=pd.DataFrame)  # 绩效目标表 rows of the year
    # findings of superseded files: history, listed apart and never counted as open problems
    history: pd.DataFrame = field(default_factory=pd.DataFrame)


class NoSuchYear(Exception):
    """The warehouse holds nothing for the year asked for."""


Read = Callable[[str, list], pd.DataFrame]  # (parameterised SQL, its parameters) → the rows


def read_year(db: Path, year: int) -> YearData:
    """One short-lived read-only connection; every value passed as a parameter."""
    if not Path(db).exists():
        raise FileNotFoundError(f"数据仓库不存在：{db}（请先运行 make pipeline）")
    con = duckdb.connect(str(db), read_only=True)
    try:
        return year_data(year, lambda sql, params: con.execute(sql, params).df())
    finally:
        con.close()


def year_data(year: int, read: Read) -> YearData:
    """The year's tables through read, which runs one query: `make report` reads the file
    itself, the dashboard's 导出材料 reads through its own door (cached per build, as the
    viewer may see it), and both get the same frames from the same queries."""
    def frame(sql: str, *params) -> pd.DataFrame:
        return read(sql, list(params))

    status = frame(STATUS_OF_YEAR, year)
    if status.empty:
        years = frame("SELECT DISTINCT year FROM submission_status ORDER BY 1")["year"].tolist()
        raise NoSuchYear(f"数据仓库中没有 {year} 年度的记录（已有年度：{'、'.join(map(str, years)) or '无'}）")
    every_finding = frame(FINDINGS_OF_YEAR, year)
    build = frame("SELECT build_id, built_at FROM build_info LIMIT 1")
    return YearData(
        year=year,
        scores=frame("SELECT * FROM unit_scores WHERE year = ? ORDER BY rank NULLS LAST, unit_name", year),
        all_scores=frame("SELECT * FROM unit_scores WHERE year <= ? ORDER BY year, unit_name", year),
        indicators=frame("SELECT i.* FROM indicator_scores i LEFT JOIN unit_scores s "
                         "ON s.unit_name = i.unit_name AND s.year = i.year WHERE i.year = ? "
                         "ORDER BY s.rank NULLS LAST, i.unit_name, i.code", year),
        findings=open_findings(every_finding),
        status=status,
        changes=frame("SELECT * FROM unit_changes WHERE year = ? ORDER BY unit_name", year),
        build_id=str(build["build_id"].iloc[0]) if len(build) else "",
        built_at=build["built_at"].iloc[0] if len(build) else None,
        rectifications=frame("SELECT * FROM rectifications WHERE year = ? ORDER BY unit_name, first_file, rule, "
                             "location", year),
        files=frame(FILES_OF_YEAR, year, year),
        targets=frame(TARGETS_OF_YEAR, year),
        history=history_findings(every_finding),
    )
