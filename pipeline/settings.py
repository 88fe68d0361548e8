"""Paths and settings, in one place.

Every path can be overridden from the environment (the Makefile passes RAW= and DB=
through as PERF_RAW and PERF_DB) so the same code serves the sample county, a real
county's folder and the tests.
"""

from __future__ import annotations

import os
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
SCHEMAS_DIR = PROJECT_ROOT / "schemas"
FRAMEWORKS_DIR = SCHEMAS_DIR / "frameworks"

DEFAULT_RAW = PROJECT_ROOT / "raw"
DEFAULT_DB = PROJECT_ROOT / "warehouse" / "performance.duckdb"
DEFAULT_OUT = PROJECT_ROOT / "out"

ROSTER_FILE = "units.csv"

# Amount identities hold to the fen (0.01 元); a form filled in 万元 carries two decimals
# of 万元, so its identities can only hold to 100 元.
TOLERANCE_YUAN = 0.01
TOLERANCE_WANYUAN_FORM = 100.0
WANYUAN = 10_000

# A self-score above the 复核 score by more than this many points is worth a warning.
INFLATION_WARNING_POINTS = 0.5

# Report figures: percentages agree when they round to the same 0.01 %, amounts to 1 元
# (or to the last stated digit of a 万元 figure).
REPORT_RATE_TOLERANCE = 0.00005
REPORT_AMOUNT_TOLERANCE = 1.0


def raw_dir() -> Path:
    return Path(os.environ.get("PERF_RAW", DEFAULT_RAW))


def db_path() -> Path:
    return Path(os.environ.get("PERF_DB", DEFAULT_DB))


def out_dir() -> Path:
    return Path(os.environ.get("PERF_OUT", DEFAULT_OUT))


def frameworks_dir() -> Path:
    """The scoring frameworks, one <year>.toml each; a county may keep its own (PERF_FRAMEWORKS)."""
    return Path(os.environ.get("PERF_FRAMEWORKS", FRAMEWORKS_DIR))
