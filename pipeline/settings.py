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
# The bureau's own decisions: an input of the build, never inside the warehouse folder.
DEFAULT_LEDGER = PROJECT_ROOT / "ledger" / "bureau.sqlite"

ROSTER_FILE = "units.csv"

# Amount identities hold to the fen (0.01 元); a form filled in 万元 carries two decimals
# of 万元, so its identities can only hold to 100 元.
TOLERANCE_YUAN = 0.01
TOLERANCE_WANYUAN_FORM = 100.0
WANYUAN = 10_000

# A self-score above the 复核 score by more than this many points is worth a warning.
INFLATION_WARNING_POINTS = 0.5

# 预算资金支出率 below this (a fraction) two years running marks a unit for attention.
LOW_EXECUTION_RATE = 0.90

# Dashboard charts: up to this many units in view, one bar or point per unit; beyond it
# (a city or a province) distributions, the lowest and highest N and group aggregates.
PER_UNIT_CHART_LIMIT = 80
EXTREMES_DEFAULT = 10          # N of 最低/最高 N when the address does not say (?n=)
EXTREMES_MAX = 100
GROUP_CHART_LIMIT = 40         # groups (地区, 主管部门…) drawn in one chart; the table lists all
# A table longer than TABLE_ROWS_IN_FULL is sent to the browser TABLE_PAGE_ROWS rows at a time,
# as a plain HTML table, searched and sorted on the server: ten thousand rows cost the browser
# about two seconds to receive and draw, and the interactive grid itself costs a first visit
# its 486 KB script and every visit a hidden copy of its cells redrawn 0.2–0.3 s after the
# page looks done (docs/benchmarks.md). A county's tables (its units, its hundred or so
# findings a year) stay whole in the grid, sorted by a click on a header and searched in its
# toolbar; past a few hundred rows an officer searches and sorts rather than scrolls, so the
# list of a province's 700 units sent back is paged as its 10 000 units are. Fifty rows fill
# about two screens of the plain table.
TABLE_ROWS_IN_FULL = 500
TABLE_PAGE_ROWS = 50

# Report figures: percentages agree when they round to the same 0.01 %, amounts to 1 元
# (or to the last stated digit of a 万元 figure).
REPORT_RATE_TOLERANCE = 0.00005
REPORT_AMOUNT_TOLERANCE = 1.0


def raw_dir() -> Path:
    return Path(os.environ.get("PERF_RAW", DEFAULT_RAW))


def db_path() -> Path:
    return Path(os.environ.get("PERF_DB", DEFAULT_DB))


def ledger_path() -> Path:
    return Path(os.environ.get("PERF_LEDGER", DEFAULT_LEDGER))


def out_dir() -> Path:
    return Path(os.environ.get("PERF_OUT", DEFAULT_OUT))


def frameworks_dir() -> Path:
    """The scoring frameworks, one <year>.toml each; a county may keep its own (PERF_FRAMEWORKS)."""
    return Path(os.environ.get("PERF_FRAMEWORKS", FRAMEWORKS_DIR))

# What a submitted workbook may be before it is read. The bureau's form is about 10 KB on
# disk, 30 KB unpacked, 14 zip entries, 31 rows by 7 columns; the limits leave room for a
# unit's own notes, pictures and extra sheets, and stop zip bombs and pasted ledgers
# before calamine allocates anything.
MAX_WORKBOOK_BYTES = 20 * 2**20        # on disk
MAX_UNPACKED_BYTES = 64 * 2**20        # every zip entry together, as declared and as inflated
MAX_ZIP_ENTRIES = 1_000
MAX_SHEET_ROWS = 5_000
MAX_SHEET_COLUMNS = 256
# A cell's text is kept up to this many characters (a 评分说明 runs to a few hundred);
# a value quoted in a finding or message is cut to SHOWN_VALUE_CHARS.
MAX_CELL_CHARS = 2_000
SHOWN_VALUE_CHARS = 200


# Reading workbooks in several processes (docs/benchmarks.md, 并行读取): from this many files
# to read on, the main process shares them with read_workers() - 1 worker processes (idle,
# 2 cores: 400 files 1.45 ×, 800 files 1.6 ×). Below it a worker's start (about 0.1 s of CPU,
# its first batch back after about 0.2 s) leaves little gain (200 files 1.2 ×).
PARALLEL_READ_THRESHOLD = 400
# What PERF_READ_WORKERS means when it is not set. On an idle 2-core machine shared reading
# is 1.7–1.8 × as fast as one process for 2000–10000 files; on a busy one it is no faster and
# costs about a fifth more CPU, hence "auto" (docs/benchmarks.md).
READ_WORKERS_DEFAULT = "auto"


def read_workers() -> int:
    """Processes that read workbooks, the main one included: PERF_READ_WORKERS (else
    READ_WORKERS_DEFAULT), a number (1 reads everything in the main process) or "auto": one
    per core this process may run on, but one alone while the machine is busy already
    (1-minute load average at least the core count), when other processes hold the cores and
    sharing the files would only add its own cost."""
    setting = os.environ.get("PERF_READ_WORKERS", READ_WORKERS_DEFAULT).strip()
    if setting != "auto":
        try:
            return max(1, int(setting))
        except ValueError:
            return 1
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
    try:
        busy = os.getloadavg()[0] >= cores
    except (AttributeError, OSError):  # no load average (Windows)
        busy = False
    return 1 if busy else max(1, cores)
