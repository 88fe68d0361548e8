"""Reading the published build ahead of the first page (dashboard.preload) and the results
kept per build (dashboard.derived): what is preloaded is what the pages then use, a new build
is preloaded when it appears, and the pipeline can still write its warehouse."""

from __future__ import annotations

import shutil
import subprocess
import sys
import threading
from pathlib import Path

import pandas as pd
import pytest

from dashboard import auth, data, derived, filters, preload
from presentation import tables

BUREAU = auth.Viewer(name="测试", role=auth.BUREAU)


@pytest.fixture
def warehouse(sample_warehouse: Path, tmp_path: Path, monkeypatch) -> Path:
    db = tmp_path / "performance.duckdb"
    shutil.copy(sample_warehouse, db)
    monkeypatch.setenv("PERF_DB", str(db))
    return db


def _default_view(year: int) -> filters.Filters:
    with data.reading_as(BUREAU):
        roster = data.regions()
    return filters.Filters(year=year, region_of=dict(zip(roster["unit_name"], roster["region"])))


def test_after_preloading_the_default_view_needs_no_read(warehouse, monkeypatch):
    done = preload.preload(BUREAU)
    assert done["build"] == (str(warehouse), data.file_signature(warehouse))

    def no_reads(*_args, **_kwargs):
        raise AssertionError("read the warehouse after preloading")

    monkeypatch.setattr(data, "_read", no_reads)
    with data.reading_as(BUREAU):
        scores = derived.scores(_default_view(done["year"]))
        ranking = derived.cached(tables.ranking_table, scores)
    assert len(scores) > 0 and len(ranking) == len(scores)
    # the same objects on every rerun: kept, not copied
    with data.reading_as(BUREAU):
        assert derived.scores(_default_view(done["year"])) is scores
        assert derived.cached(tables.ranking_table, scores) is ranking


def test_a_kept_result_is_known_by_its_origin_and_a_new_build_gets_new_ones(warehouse):
    year = preload.preload(BUREAU)["year"]
    with data.reading_as(BUREAU):
        before = derived.scores(_default_view(year))
    assert derived.origin_of(before) is not None
    # the same content passed as a copy is found by its content
    assert derived.origin_of(before.copy()) is None
    with data.reading_as(BUREAU):
        assert derived.cached(tables.ranking_table, before.copy()).equals(derived.cached(tables.ranking_table, before))

    replacement = warehouse.with_name("next.duckdb")
    shutil.copy(warehouse, replacement)
    replacement.replace(warehouse)  # what the pipeline's publication does
    with data.reading_as(BUREAU):
        after = derived.scores(_default_view(year))
    assert after is not before and derived.origin_of(after) != derived.origin_of(before)
    pd.testing.assert_frame_equal(after, before)


def test_the_watcher_preloads_each_new_build_once(warehouse, monkeypatch):
    seen: list[tuple] = []
    monkeypatch.setattr(preload, "preload", lambda viewer=None: seen.append(data.build_identity()) or {})
    stop = threading.Event()
    watcher = threading.Thread(target=preload.watch, kwargs={"poll_seconds": 0.05, "stop": stop}, daemon=True)
    watcher.start()
    try:
        preload.FIRST_DONE.wait(10)
        first = data.build_identity()
        shutil.copy(warehouse, warehouse.with_name("next.duckdb"))
        warehouse.with_name("next.duckdb").replace(warehouse)
        second = data.build_identity()
        assert second != first
        for _ in range(200):
            if second in seen:
                break
            stop.wait(0.05)
    finally:
        stop.set()
        watcher.join(10)
    assert seen[0] == first and second in seen
    assert len(seen) == len(set(seen))  # each build once, however many checks


def test_the_pipeline_can_write_the_warehouse_after_preloading(warehouse):
    preload.preload(BUREAU)
    # another process, as the pipeline is: it must get the write lock
    code = ("import duckdb, sys; con = duckdb.connect(sys.argv[1]); "
            "con.execute('CREATE TABLE written_after_preload AS SELECT 1 AS x'); con.close()")
    subprocess.run([sys.executable, "-c", code, str(warehouse)], check=True, timeout=120)
