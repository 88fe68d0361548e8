"""Reading the published build before anyone asks for it, in the dashboard's server process.

The first page after the dashboard starts (or after a new build is published) used to pay
for importing the chart and table libraries and for reading the latest year of a province
from the warehouse: seconds, on top of drawing the page. A thread of the server process
(started by dashboard/server.py) does this work ahead: it reads what every page reads for
the latest year without filters, as a bureau viewer, into the same caches the pages use,
then checks every PRELOAD_POLL_SECONDS whether a new build has been published.

The server waits for the first preload before it answers (at most PRELOAD_WAIT_SECONDS): a
few seconds at start, instead of on the officer's first page. It never stands in the
pipeline's way: every read is a short read-only connection to the
published file, which the pipeline replaces (os.replace) rather than writes, and a build
that disappears or changes while it is read is simply tried again at the next check.
A page asking for something the thread is computing waits for that one result rather than
computing it twice (the caches hold one lock per key).
"""

from __future__ import annotations

import logging
import threading
import time

from . import auth, data, derived, filters

PRELOAD_POLL_SECONDS = 10.0
# The server starts answering once the first preload is done, or after this long at most.
PRELOAD_WAIT_SECONDS = 30.0
_LOG = logging.getLogger(__name__)
_STARTED = threading.Event()
FIRST_DONE = threading.Event()  # the first check has ended (preloaded, nothing to read, or failed)


def _libraries() -> None:
    """The modules the pages import on their first run (plotly alone takes about a second)."""
    import plotly.graph_objects  # noqa: F401
    import xlsxwriter  # noqa: F401

    from presentation import aggregates, figures, rectification, review, tables, targets  # noqa: F401


def preload(viewer: auth.Viewer | None = None) -> dict:
    """Read the latest year as the pages do (and the derived tables they all start from).
    Returns the build preloaded: {"build": (path, signature), "year": latest year}."""
    from presentation import aggregates, tables
    from presentation import rectification as rectification_tables
    from presentation import targets as target_views

    viewer = viewer or auth.Viewer(name="preload", role=auth.BUREAU)
    _libraries()
    with data.reading_as(viewer):
        build = data.build_identity()
        data.build_info()
        derived.read(data.build_info)
        years = data.years()
        if not years:
            return {"build": build, "year": None}
        data.unit_types()
        data.departments()
        roster = data.regions()
        year = max(years)
        chosen = filters.Filters(year=year, region_of=dict(zip(roster["unit_name"], roster["region"])))
        scores = derived.scores(chosen)
        derived.scores(chosen, year=None)
        derived.scores(chosen, year=year - 1, grades=False)
        status = derived.rows(derived.read(data.submission_status, year), chosen, grades=False)
        derived.rows(derived.read(data.unit_changes, year), chosen)
        for read in (data.indicator_scores, data.targets, data.rectifications, data.ingest_files, data.findings,
                     data.submission_changes):
            derived.read(read, year)
        # what the pages query directly (cached per build in dashboard.data)
        for read in (data.submission_status, data.findings, data.ingest_files, data.unit_changes,
                     data.review_sample):
            read(year)
        # the tables every unit's row goes through, whatever the page's own controls say
        for build_table in (tables.ranking_table, tables.sangong_table, tables.inflation_table,
                            aggregates.execution_with_depth_table):
            derived.cached(build_table, scores)
        target_rows = derived.cached(tables.rows_of_units, derived.read(data.targets, year), scores)
        derived.cached(target_views.unit_completion, target_rows)
        rectification = [derived.cached(tables.rows_of_units, derived.read(read, year), status)
                         for read in (data.rectifications, data.ingest_files, data.findings)]
        derived.cached(rectification_tables.unit_overview, *rectification)
    return {"build": build, "year": year}


def watch(poll_seconds: float = PRELOAD_POLL_SECONDS, stop: threading.Event | None = None) -> None:
    """Preload the published build now and whenever a new one appears, until `stop` is set."""
    stop = stop or threading.Event()
    done = None
    while not stop.is_set():
        try:
            current = data.build_identity()
            if current != done:
                started = time.perf_counter()
                done = current
                preload()
                _LOG.info("preloaded build %s in %.1f s", current, time.perf_counter() - started)
        except data.WarehouseUnavailable:
            done = None  # not built yet, or replaced while read: the next check tries again
        except Exception:  # noqa: BLE001 - a failed preload costs speed only; the pages read for themselves
            _LOG.exception("preloading the build failed")
        FIRST_DONE.set()
        stop.wait(poll_seconds)


def start_watching() -> threading.Thread | None:
    """Start watch() on a daemon thread, once per process."""
    if _STARTED.is_set():
        return None
    _STARTED.set()
    thread = threading.Thread(target=watch, name="preload-build", daemon=True)
    thread.start()
    return thread
