from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

from pipeline.run import process
from tests.builders import County

ROOT = Path(__file__).resolve().parent.parent

# `make test-fast` leaves out the tests marked slow. Besides those marked by hand, slow are:
# every test of these modules (builds killed at random, hostile files, LibreOffice, a browser,
# the pipeline run as a command, the sample county generated twice),
SLOW_MODULES = {"test_faults", "test_hostile_files", "test_browser", "test_sample_opens",
                "test_warehouse", "test_sql_safety", "test_sample"}
# every test that needs these fixtures (the whole pipeline in a subprocess),
SLOW_FIXTURES = {"sample_warehouse"}
# and every browser test.


def pytest_collection_modifyitems(config, items):
    for item in items:
        module = Path(str(item.fspath)).stem
        if (module in SLOW_MODULES or SLOW_FIXTURES & set(getattr(item, "fixturenames", ()))
                or item.get_closest_marker("browser")):
            item.add_marker(pytest.mark.slow)


@pytest.fixture
def county(tmp_path: Path) -> County:
    return County(tmp_path / "raw")


def run_pipeline(raw: Path, db: Path, *extra: str, check: bool = True) -> subprocess.CompletedProcess:
    """The pipeline as a user runs it: a separate process, real files."""
    return subprocess.run(
        [sys.executable, "-m", "pipeline", "run", "--raw", str(raw), "--db", str(db), "--no-progress", *extra],
        cwd=ROOT, capture_output=True, text=True, check=check, timeout=600)


@pytest.fixture(scope="session")
def sample_warehouse(tmp_path_factory) -> Path:
    """The warehouse built by the real pipeline from the sample county in raw/."""
    db = tmp_path_factory.mktemp("sample") / "performance.duckdb"
    run_pipeline(ROOT / "raw", db)
    return db


@pytest.fixture
def query(request):
    """query(db, sql, *params) → list of tuples, read-only."""
    def run(db: Path, sql: str, *params):
        with duckdb.connect(str(db), read_only=True) as con:
            return con.execute(sql, list(params)).fetchall()
    return run


def processed(raw: Path):
    """The pipeline's result without publishing, for checks on findings and states."""
    return process(raw, progress=False)
