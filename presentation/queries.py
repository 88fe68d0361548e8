"""Queries of the published warehouse that more than one reader needs (the dashboard and
the outputs), written once. Every value is a parameter."""

FINDINGS_OF_YEAR = """
    SELECT f.file, f.unit_name, COALESCE(f.year, i.year, i.folder_year) AS year, f.severity, f.location,
           f.rule, f.found, f.expected, f.message
    FROM findings f
    LEFT JOIN ingest_files i ON i.file = f.file
    WHERE COALESCE(f.year, i.year, i.folder_year) = ?
    ORDER BY CASE f.severity WHEN 'fatal' THEN 0 WHEN 'error' THEN 1 ELSE 2 END,
             f.unit_name NULLS LAST, f.file, f.location, f.rule
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
