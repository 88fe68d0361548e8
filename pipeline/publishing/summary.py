"""The end-of-run summary, read from the published warehouse (read-only)."""

from __future__ import annotations

from pathlib import Path

import duckdb

from pipeline.checking.findings import SEVERITIES, SEVERITY_LABELS

STATE_LABELS = {"loaded": "已入库", "quarantined": "已隔离", "superseded": "已被新版本替代", "skipped": "已跳过"}
LISTED_UNITS = 40  # beyond this the list lives in the dashboard's 数据质量 page


def published_build_id(db: Path) -> str | None:
    """The build_id of the published warehouse, None when there is none to read."""
    if not db.exists():
        return None
    try:
        with duckdb.connect(str(db), read_only=True) as con:
            return build_id_of(con)
    except duckdb.Error:
        return None


def build_id_of(con: duckdb.DuckDBPyConnection) -> str | None:
    """The build_id of the warehouse a connection is open on, None when it records none."""
    row = con.execute("SELECT build_id FROM build_info").fetchone()
    return row[0] if row else None


def summary(db: Path) -> str:
    """Files by state, findings by severity, per year who is missing or must resubmit."""
    with duckdb.connect(str(db), read_only=True) as con:
        states = dict(con.execute("SELECT state, count(*) FROM ingest_files GROUP BY state").fetchall())
        severities = dict(con.execute("SELECT severity, count(*) FROM findings GROUP BY severity").fetchall())
        years = con.execute("""
            SELECT year, count(*) FILTER (in_roster), count(*) FILTER (loaded),
                   count(*) FILTER (must_resubmit), count(*) FILTER (in_roster AND NOT submitted)
            FROM submission_status GROUP BY year ORDER BY year""").fetchall()
        resubmit = con.execute("""
            SELECT s.year, s.unit_name, count(f.rule),
                   arg_min(f.message, f.file || f.location)
            FROM submission_status s
            LEFT JOIN findings f ON f.unit_name = s.unit_name AND f.year = s.year
                                 AND f.severity IN ('fatal', 'error')
            WHERE s.must_resubmit
            GROUP BY ALL ORDER BY s.year, s.unit_name""").fetchall()
    lines = [f"数据仓库：{db}",
             "文件：" + "，".join(f"{label} {states.get(state, 0)}" for state, label in STATE_LABELS.items())
             + f"（共 {sum(states.values())}）",
             "问题：" + "，".join(f"{SEVERITY_LABELS[s]} {severities.get(s, 0)}" for s in SEVERITIES)]
    for year, expected, loaded, must_resubmit, missing in years:
        lines.append(f"{year}年度：应报 {expected}，已入库 {loaded}，需退回修改 {must_resubmit}，未报送 {missing}")
    if resubmit:
        lines.append("需退回修改的单位：")
        for year, unit, count, example in resubmit[:LISTED_UNITS]:
            detail = f"，如：{example[:60]}" if example else ""
            lines.append(f"  {year} {unit}：{count} 个须改正的问题{detail}")
        if len(resubmit) > LISTED_UNITS:
            lines.append(f"  ……另有 {len(resubmit) - LISTED_UNITS} 个单位，完整清单见看板“数据质量”页或 findings 表")
    return "\n".join(lines)
