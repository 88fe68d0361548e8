"""Faults: the pipeline killed mid-build, the dashboard reading while builds are published,
a full disk and a folder that cannot be written.

The warehouse is the bureau's record: whatever happens to a build, the published file
opens and is exactly one complete build, never a mixture and never a half-written file.
Every build here is the real pipeline in its own process (`python -m pipeline run`) on
the sample county, generated into tmp_path.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import random
import resource
import shutil
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import duckdb
import pytest

from dashboard import auth, data
from sample_county.county import build_sample
from pipeline.publishing.warehouse import TABLES

ROOT = Path(__file__).resolve().parent.parent
KILLS = 20                 # runs killed, at least
KILLS_WHILE_WRITING = KILLS // 4  # of them, killed while the new file was being written
MAX_RUNS = KILLS * 4       # a run that finishes before its kill counts as a run, not a kill
SEED = 20240728


def pipeline_command(raw: Path, db: Path) -> list[str]:
    return [sys.executable, "-m", "pipeline", "run", "--raw", str(raw), "--db", str(db), "--no-progress", "--force"]


def build(raw: Path, db: Path, **kwargs) -> subprocess.CompletedProcess:
    return subprocess.run(pipeline_command(raw, db), cwd=ROOT, capture_output=True, text=True, timeout=300,
                          **kwargs)


def contents(db: Path) -> dict[str, str]:
    """A digest of every table of a warehouse (build_info without built_at, the one clock value)."""
    digests = {}
    with duckdb.connect(str(db), read_only=True) as con:
        for table in TABLES:
            # build_id also fingerprints the code, which is the same for both builds of a test
            # run but not across an edit of the tree while it runs; raw_dir and files still tell
            # the builds apart
            columns = "* EXCLUDE (built_at, build_id)" if table == "build_info" else "*"
            rows = con.execute(f"SELECT {columns} FROM {table} ORDER BY ALL").fetchall()
            digests[table] = hashlib.sha256(repr(rows).encode()).hexdigest()
    return digests


def leftovers(folder: Path, db: Path) -> list[str]:
    """Files left beside the warehouse other than those kept on purpose: the parse cache
    and the replaced build kept for rollback (<db>.previous)."""
    kept = {db.name, f"{db.name}.previous", f".{db.stem}.parse-cache.sqlite"}
    return sorted(p.name for p in folder.iterdir() if p.name not in kept)


def publish_copy(db_from: Path, folder: Path) -> Path:
    """A complete build put in place the way a finished run leaves it (faster than building)."""
    folder.mkdir(parents=True, exist_ok=True)
    for path in db_from.parent.iterdir():
        shutil.copy2(path, folder / path.name)
    return folder / db_from.name


@pytest.fixture(scope="module")
def county(tmp_path_factory) -> dict:
    """Two RAW folders that differ by one submission, and the complete build of each."""
    base = tmp_path_factory.mktemp("faults")
    before, after = base / "raw-before", base / "raw-after"
    if (ROOT / "raw" / "units.csv").exists():
        shutil.copytree(ROOT / "raw", before)  # the sample county as committed (make sample)
    else:
        build_sample(before)
    shutil.copytree(before, after)
    dropped = sorted((after / "2024").glob("*.xlsx"))[0]
    dropped.unlink()
    builds = {}
    for name, raw in (("before", before), ("after", after)):
        db = base / f"complete-{name}" / "performance.duckdb"
        result = build(raw, db)
        assert result.returncode == 0, result.stderr
        builds[name] = dict(raw=raw, db=db, contents=contents(db))
    assert builds["before"]["contents"] != builds["after"]["contents"]
    return builds


def which_build(db: Path, county: dict) -> str:
    found = contents(db)
    for name in ("before", "after"):
        if found == county[name]["contents"]:
            return name
    differing = [t for t in TABLES if found[t] not in (county["before"]["contents"][t],
                                                        county["after"]["contents"][t])]
    raise AssertionError(f"the published warehouse is neither complete build; tables differing from both: {differing}")


# ---------------------------------------------------------------- SIGKILL at random moments

def build_or_neither(db: Path, county: dict) -> str:
    try:
        return which_build(db, county)
    except (AssertionError, duckdb.Error) as error:
        return f"neither: {error}"


@pytest.fixture(scope="module")
def killed_builds(county, tmp_path_factory) -> dict:
    """SIGKILL at seeded random moments of real builds that alternate between the two RAW
    folders: every other kill anywhere in the run (start-up, reading, checking), the others
    while the new file is written and swapped in, where a half-done build could show.
    Each step records what the published file was before, what the run was building, how
    the run ended and what the published file is after."""
    folder = tmp_path_factory.mktemp("killed") / "warehouse"
    db = publish_copy(county["before"]["db"], folder)
    # The length of a build here, and when it writes its new file, measured once.
    started = time.perf_counter()
    measured = subprocess.Popen(pipeline_command(county["after"]["raw"], db), cwd=ROOT,
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    new_file = folder / f".{db.name}.building-{measured.pid}"
    writing_from = writing_until = None
    while measured.poll() is None:
        exists = new_file.exists()
        if writing_from is None and exists:
            writing_from = time.perf_counter() - started
        if writing_from is not None and writing_until is None and not exists:
            writing_until = time.perf_counter() - started
        time.sleep(0.002)
    duration = time.perf_counter() - started
    assert measured.returncode == 0
    writing_from = writing_from or duration * 0.6
    writing_until = writing_until or duration
    published = build_or_neither(db, county)

    rng = random.Random(SEED)
    steps: list[dict] = []

    def killed() -> int:
        return sum(step["code"] != 0 for step in steps)

    def killed_while_writing() -> int:
        return sum(step["writing"] for step in steps if step["code"] != 0)

    # Counted in runs, not seconds: on a busy machine a run takes longer, the kills follow it.
    def published_other() -> bool:
        return any(step["after"] != step["before"] for step in steps)

    while ((killed() < KILLS or killed_while_writing() < KILLS_WHILE_WRITING or not published_other())
           and len(steps) < MAX_RUNS):
        target = "before" if published == "after" else "after"
        process = subprocess.Popen(pipeline_command(county[target]["raw"], db), cwd=ROOT,
                                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        new_file = folder / f".{db.name}.building-{process.pid}"
        started = time.perf_counter()
        if len(steps) % 2:
            # from the moment this run starts writing its new file until a little after the swap;
            # at once when the writing kills fall behind (the writing can be over in milliseconds)
            while process.poll() is None and not new_file.exists():
                time.sleep(0.002)
            behind = killed_while_writing() < KILLS_WHILE_WRITING * (len(steps) + 1) / KILLS
            time.sleep(0 if behind else rng.uniform(0, (writing_until - writing_from) * 1.1))
        elif not published_other() and killed() >= KILLS // 2:
            # every kill so far came before the swap: this run is let finish (or killed after it)
            time.sleep(1.5 * duration)
        else:
            time.sleep(rng.uniform(0.05, 1.05) * duration)
        writing = new_file.exists()
        process.send_signal(signal.SIGKILL)
        code = process.wait(timeout=300)
        if code == 0:  # finished before its kill: the machine is quicker now than when measured
            duration = min(duration, time.perf_counter() - started)
        now = build_or_neither(db, county)
        steps.append(dict(before=published, target=target, code=code, writing=writing, after=now,
                          wal=(folder / f"{db.name}.wal").exists()))
        published = now
    previous = db.with_name(db.name + ".previous")
    kept = build_or_neither(previous, county) if previous.exists() else None
    stale_before_rerun = leftovers(folder, db)
    rerun = build(county["before"]["raw"], db)
    print(f"build {duration:.2f} s, new file written {writing_from:.2f}–{writing_until:.2f} s; "
          f"{killed()} killed ({killed_while_writing()} while writing the new file), "
          f"{sum(s['code'] == 0 for s in steps)} finished first; left before the rerun: {stale_before_rerun}")
    return dict(steps=steps, kept=kept, rerun=rerun, stale=leftovers(folder, db),
                after_rerun=build_or_neither(db, county), first=published if not steps else steps[0]["before"])


def test_killed_builds_leave_exactly_one_complete_build(killed_builds):
    steps = killed_builds["steps"]
    assert killed_builds["first"] == "after"
    for step in steps:
        assert step["code"] in (0, -signal.SIGKILL), step
        # the published file opens and is one complete build: the previous one, or the new
        # one (always the new one when the run finished before the kill)
        assert step["after"] in (step["before"], step["target"]), step
        if step["code"] == 0:
            assert step["after"] == step["target"], step
        assert not step["wal"], step
    killed = [s for s in steps if s["code"] != 0]
    assert len(killed) >= KILLS
    assert sum(s["writing"] for s in killed) >= KILLS_WHILE_WRITING
    assert {s["after"] for s in steps} == {"before", "after"}
    # the build kept for rollback is a complete one too, and a run after all that publishes
    assert killed_builds["kept"] in (None, "before", "after")
    assert killed_builds["rerun"].returncode == 0, killed_builds["rerun"].stderr
    assert killed_builds["after_rerun"] == "before"


def test_a_later_run_clears_what_killed_runs_left(killed_builds):
    assert killed_builds["stale"] == []


# ---------------------------------------------------------------- reading while publishing

def test_dashboard_reads_stay_consistent_while_builds_are_published(county, tmp_path, monkeypatch):
    folder = tmp_path / "warehouse"
    db = folder / "performance.duckdb"
    publish_copy(county["before"]["db"], folder)
    monkeypatch.setenv("PERF_DB", str(db))
    bureau = auth.Viewer("财政局绩效股", auth.BUREAU)
    summary = ("SELECT (SELECT raw_dir FROM build_info) AS raw_dir, (SELECT count(*) FROM ingest_files) AS files, "
               "(SELECT count(*) FROM unit_scores) AS scored, (SELECT sum(spent) FROM unit_scores) AS spent")

    def one_build_each(frame_of) -> dict:
        expected = {}
        for name in ("before", "after"):
            monkeypatch.setenv("PERF_DB", str(county[name]["db"]))
            expected[name] = frame_of()
        monkeypatch.setenv("PERF_DB", str(db))
        return expected

    summaries = one_build_each(lambda: tuple(data.query(summary, viewer=bureau).iloc[0]))
    rankings = one_build_each(lambda: data.unit_scores(2024, viewer=bureau))
    assert summaries["before"] != summaries["after"]

    reads, seen, errors = [0], set(), []
    stop = threading.Event()

    def reader():
        while not stop.is_set():
            try:
                row = tuple(data.query(summary, viewer=bureau).iloc[0])
                ranking = data.unit_scores(2024, viewer=bureau)
                assert row in summaries.values(), row
                assert any(ranking.equals(r) for r in rankings.values()), "a ranking from neither build"
                seen.add(next(n for n, s in summaries.items() if s == row))
                reads[0] += 1
            except Exception as error:  # every failure is collected and reported below
                errors.append(repr(error))

    def read_until(enough) -> None:
        """Let the reader go on until it has done what is asked (a guard, not a budget, against a hang)."""
        guard = time.monotonic() + 600
        while not enough() and not errors and thread.is_alive() and time.monotonic() < guard:
            time.sleep(0.01)

    thread = threading.Thread(target=reader, daemon=True)
    thread.start()
    try:
        for name in ("after", "before"):
            result = build(county[name]["raw"], db)
            assert result.returncode == 0, result.stderr
            read_until(lambda name=name: name in seen)
        read_until(lambda: reads[0] >= 20)
    finally:
        stop.set()
        thread.join(timeout=300)
    print(f"{reads[0]} reads during 2 publishes, builds seen: {sorted(seen)}")
    assert errors == []
    assert reads[0] >= 20
    assert seen == {"before", "after"}


# ---------------------------------------------------------------- full disk, unwritable folder

@contextlib.contextmanager
def mounted_tmpfs(where: Path, size_kb: int):
    """A small tmpfs at where, or a skip saying why there can be none."""
    where.mkdir(parents=True, exist_ok=True)
    if os.geteuid() != 0 or shutil.which("mount") is None:
        pytest.skip("a small filesystem needs root and mount(8)")
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size_kb}k", "tmpfs", str(where)],
                             capture_output=True, text=True)
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {mounted.stderr.strip()}")
    try:
        yield where
    finally:
        subprocess.run(["umount", "-l", str(where)], check=False)


def fill(folder: Path, leave_kb: int) -> None:
    free = os.statvfs(folder)
    spare = free.f_bavail * free.f_frsize - leave_kb * 1024
    with (folder / "filler").open("wb") as handle:
        handle.write(b"\0" * max(spare, 0))


def file_size_limit(limit_bytes: int):
    def apply():
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit_bytes, limit_bytes))
    return apply


@pytest.fixture(scope="module", params=["full disk", "file size quota"])
def unwritable_build(request, county, tmp_path_factory) -> dict:
    """The previous build published; a build of other inputs then cannot be written, for
    want of space (a small tmpfs, filled) or under a file size quota (RLIMIT_FSIZE)."""
    how = request.param
    db_size_kb = county["before"]["db"].stat().st_size // 1024
    base = tmp_path_factory.mktemp("unwritable")
    if how == "full disk":
        folder = base / "small-disk"
        context = mounted_tmpfs(folder, size_kb=db_size_kb * 2 + 2048)
    else:
        folder = base / "warehouse"
        context = contextlib.nullcontext()
    with context:
        db = publish_copy(county["before"]["db"], folder)
        if how == "full disk":
            fill(folder, leave_kb=256)
            result = build(county["after"]["raw"], db)
        else:  # no file of this run may grow past 256 KB
            result = build(county["after"]["raw"], db, preexec_fn=file_size_limit(256 * 1024))
        return dict(how=how, result=result, published=build_or_neither(db, county),
                    stale=[name for name in leftovers(folder, db) if name != "filler"],
                    problem="No space left on device" if how == "full disk" else "File too large")


def test_build_that_cannot_be_written_leaves_the_previous_warehouse(unwritable_build):
    assert unwritable_build["result"].returncode != 0
    assert unwritable_build["published"] == "before"
    assert unwritable_build["stale"] == []
    assert unwritable_build["problem"] in unwritable_build["result"].stderr


def test_build_that_cannot_be_written_says_so_in_one_line(unwritable_build):
    result = unwritable_build["result"]
    lines = result.stderr.strip().splitlines()
    assert result.returncode == 2
    assert len(lines) == 1 and lines[0].startswith("pipeline: "), result.stderr
    assert unwritable_build["problem"] in lines[0]


def assert_one_line_naming(result: subprocess.CompletedProcess, *words: str) -> None:
    assert result.returncode == 2, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("pipeline: 无法写入数据仓库路径"), result.stderr
    for word in words:
        assert word in lines[0], lines[0]


def test_warehouse_path_under_a_file_is_one_clear_line(county, tmp_path):
    blocker = tmp_path / "warehouse"
    blocker.write_text("不是文件夹")
    result = build(county["before"]["raw"], blocker / "performance.duckdb")
    assert_one_line_naming(result, str(blocker / "performance.duckdb"))
    assert "File exists" in result.stderr or "Not a directory" in result.stderr
    assert blocker.read_text() == "不是文件夹"


def test_read_only_folder_is_one_clear_line_and_keeps_the_warehouse(county, tmp_path):
    """The folder of the warehouse cannot be written: a read-only mount as root (where a
    chmod stops nothing), the folder's mode otherwise."""
    folder = tmp_path / "warehouse"
    db = folder / "performance.duckdb"
    if os.geteuid() == 0:
        with mounted_tmpfs(folder, size_kb=county["before"]["db"].stat().st_size // 1024 * 3):
            publish_copy(county["before"]["db"], folder)
            remount = subprocess.run(["mount", "-o", "remount,ro", str(folder)], capture_output=True, text=True)
            if remount.returncode != 0:
                pytest.skip(f"cannot remount read-only: {remount.stderr.strip()}")
            result = build(county["after"]["raw"], db)
            assert_one_line_naming(result, str(db), "Read-only file system")
            assert which_build(db, county) == "before"
    else:
        publish_copy(county["before"]["db"], folder)
        folder.chmod(0o555)
        try:
            result = build(county["after"]["raw"], db)
        finally:
            folder.chmod(0o755)
        assert_one_line_naming(result, str(db), "Permission denied")
        assert which_build(db, county) == "before"
