"""Queries of the published warehouse that more than one reader needs (the dashboard and
the outputs), written once. Every value is a parameter."""

from __future__ import annotations

import pandas as pd

# A finding carries the state of the file it was found in (ingest_files.state). A superseded
# file was replaced by a later submission of the same unit: its findings are history, shown
# as such and never counted among the unit's open problems.
HISTORY_STATES = ("superseded",)

_FINDINGS_COLUMNS = """
    f.file, COALESCE(f.unit_name, i.unit_name) AS unit_name, COALESCE(f.year, i.year, i.folder_year) AS year,
    f.severity, f.location, f.rule, f.found, f.expected, f.message, i.state AS file_state
"""
_FINDINGS_ORDER = """
    ORDER BY CASE WHEN i.state = 'superseded' THEN 1 ELSE 0 END,
             CASE f.severity WHEN 'fatal' THEN 0 WHEN 'error' THEN 1 ELSE 2 END,
             COALESCE(f.unit_name, i.unit_name) NULLS LAST, f.file, f.location, f.rule
"""

FINDINGS_OF_YEAR = f"""
    SELECT {_FINDINGS_COLUMNS}
    FROM findings f
    LEFT JOIN ingest_files i ON i.file = f.file
    WHERE COALESCE(f.year, i.year, i.folder_year) = ?
    {_FINDINGS_ORDER}
"""

FINDINGS_OF_UNIT = f"""
    SELECT {_FINDINGS_COLUMNS}
    FROM findings f
    LEFT JOIN ingest_files i ON i.file = f.file
    WHERE COALESCE(f.unit_name, i.unit_name) = ? AND COALESCE(f.year, i.year, i.folder_year) = ?
    {_FINDINGS_ORDER}
"""

STATUS_OF_YEAR = """
    SELECT s.unit_code, s.unit_name, s.year, s.submitted, s.loaded, s.must_resubmit, s.in_roster,
           COALESCE(u.unit_type, sc.unit_type) AS unit_type,
           COALESCE(u.department, sc.department) AS department
    FROM submission_status s
    LEFT JOIN units u ON u.unit_name = s.unit_name
    LEFT JOIN unit_scores sc ON sc.unit_name = s.unit_name AND sc.year = s.year
    WHERE s.year = ?
    ORDER BY s.unit_code NULLS LAST, s.unit_name
"""

# every file of the year: by its 评价年度, else by its year folder (parameters: year, year)
FILES_OF_YEAR = """
    SELECT * FROM ingest_files WHERE COALESCE(year, folder_year) = ? OR folder_year = ? ORDER BY state, file
"""


def is_history(findings: pd.DataFrame) -> pd.Series:
    """True for a finding of a superseded file (history, not an open problem of the unit)."""
    if "file_state" not in findings:
        return pd.Series(False, index=findings.index)
    return findings["file_state"].isin(HISTORY_STATES)


def open_findings(findings: pd.DataFrame) -> pd.DataFrame:
    """The findings that count: those of loaded, quarantined or skipped files."""
    return findings[~is_history(findings)].reset_index(drop=True)


def history_findings(findings: pd.DataFrame) -> pd.DataFrame:
    """The findings of superseded files, kept to show what the unit first sent."""
    return findings[is_history(findings)].reset_index(drop=True)
