from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest
from hypothesis import settings

# A test run is repeatable: property tests draw the same examples on every machine and every run
# (CI included). HYPOTHESIS_PROFILE=explore draws new ones each run, to look for new failures.
settings.register_profile("repeatable", derandomize=True, database=None)
settings.register_profile("explore", derandomize=False, database=None)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "repeatable"))

from pipeline.run import process  # noqa: E402 - after the hypothesis profile is loaded
from tests.builders import County  # noqa: E402

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


@pytest.fixture(scope="session", autouse=True)
def no_bureau_ledger(tmp_path_factory):
    """Tests never read or write the ledger of the checkout: by default there is none."""
    os.environ["PERF_LEDGER"] = str(tmp_path_factory.mktemp("ledger") / "absent.sqlite")


@pytest.fixture
def county(tmp_path: Path) -> County:
    return County(tmp_path / "raw")


def run_pipeline(raw: Path, db: Path, *extra: str, check: bool = True,
                 ledger: Path | None = None) -> subprocess.CompletedProcess:
    """The pipeline as a user runs it: a separate process, real files."""
    env = {**os.environ, **({"PERF_LEDGER": str(ledger)} if ledger is not None else {})}
    return subprocess.run(
        [sys.executable, "-m", "pipeline", "run", "--raw", str(raw), "--db", str(db), "--no-progress", *extra],
        cwd=ROOT, capture_output=True, text=True, check=check, timeout=600, env=env)


@pytest.fixture(scope="session", autouse=True)
def own_ledger(tmp_path_factory) -> Path:
    """The tests never read or write the bureau's own ledger: each session starts from an empty one."""
    path = tmp_path_factory.mktemp("ledger") / "bureau.sqlite"
    os.environ["PERF_LEDGER"] = str(path)
    return path


@pytest.fixture(scope="session")
def sample_warehouse(tmp_path_factory) -> Path:
    """The warehouse built by the real pipeline from the sample county in raw/, with the
    sample's 退回修改 notices in its ledger (sample_ledger)."""
    db = tmp_path_factory.mktemp("sample") / "performance.duckdb"
    run_pipeline(ROOT / "raw", db, ledger=sample_ledger_file(tmp_path_factory))
    return db


def sample_ledger_file(tmp_path_factory) -> Path:
    from sample_county.county import write_sample_ledger

    path = tmp_path_factory.getbasetemp() / "sample-ledger" / "bureau.sqlite"
    if not path.exists():
        write_sample_ledger(path)
    return path


@pytest.fixture(scope="session")
def sample_ledger(tmp_path_factory) -> Path:
    """A ledger holding the sample county's notices of 2025-08-05 (sample_county/notices.json)."""
    return sample_ledger_file(tmp_path_factory)


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
