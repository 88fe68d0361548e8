"""Load: the only writer of the warehouse (IO edge).

A build goes to a new file beside the published one, is checked, and only then
replaces it with os.replace, which is atomic on one filesystem. The build it replaces is
kept as <db>.previous, so `python -m pipeline rollback` can publish it again. The published file is
never opened for writing: a killed or failed build leaves the previous warehouse as
it was, and a dashboard reading it is never blocked.
"""

from __future__ import annotations

import os
import re
import shutil
from collections.abc import Mapping
from pathlib import Path

import duckdb
import polars as pl

from pipeline.publishing.carry import CARRIED_TABLES, Carried
from pipeline.publishing.contract import CONTRACT, NOTE, Table

# The DDL as a file for readers outside the project; generated from contract.py, never edited.
DDL_PATH = Path(__file__).with_name("warehouse.sql")

# Load order: the contract's order.
TABLES = tuple(CONTRACT)


def ddl() -> str:
    """The warehouse's DDL, from the contract: what warehouse.sql holds."""
    header = [f"-- {line}" for line in NOTE.splitlines()] + [
        "-- Generated from pipeline/publishing/contract.py by `python -m pipeline docs`: edit that file, not this one."]
    return "\n\n".join(["\n".join(header)] + [table.ddl() for table in CONTRACT.values()]) + "\n"


class WarehouseCheckError(Exception):
    """The new build failed a check; the previous warehouse stays published."""


class PublishError(WarehouseCheckError):
    """The new build could not be written (full disk, quota, I/O); nothing was published."""


def building_path(db: Path) -> Path:
    return db.with_name(f".{db.name}.building-{os.getpid()}")


def _remove(path: Path) -> None:
    for candidate in (path, path.with_name(path.name + ".wal")):
        candidate.unlink(missing_ok=True)


def check_build(con: duckdb.DuckDBPyConnection) -> list[str]:
    """What is wrong with a build, in Chinese; empty when it may be published."""
    problems = []
    loaded = con.execute("SELECT count(*) FROM ingest_files WHERE kind = 'workbook' AND state = 'loaded'").fetchone()[0]
    scored = con.execute("SELECT count(*) FROM unit_scores").fetchone()[0]
    if loaded != scored:
        problems.append(f"已入库工作簿{loaded}个，但unit_scores有{scored}行")
    missing = con.execute("""
        SELECT count(*) FROM ingest_files f
        WHERE f.kind = 'workbook' AND f.state = 'loaded'
          AND NOT EXISTS (SELECT 1 FROM unit_scores s WHERE s.file = f.file)""").fetchone()[0]
    if missing:
        problems.append(f"{missing}个已入库工作簿在unit_scores中没有对应行")
    unflagged = con.execute("""
        SELECT count(*) FROM data_lines d JOIN unit_scores s USING (unit_name, year)
        WHERE d.amount < 0 AND NOT EXISTS (
            SELECT 1 FROM findings f WHERE f.file = s.file AND f.location = d.source_cell
              AND f.rule = 'data.negative')""").fetchone()[0]
    if unflagged:
        problems.append(f"{unflagged}个负数金额没有对应的校验问题记录")
    files = con.execute("SELECT files FROM build_info").fetchone()[0]
    recorded = con.execute("SELECT count(*) FROM ingest_files").fetchone()[0]
    if files != recorded:
        problems.append(f"发现文件{files}个，ingest_files记录{recorded}个")
    return problems


def publish(tables: Mapping[str, pl.DataFrame], db: Path, carried: Carried | None = None) -> None:
    """Build the warehouse in a new file, check it, then swap it in atomically.

    With `carried`, the rows of its unit-years in CARRIED_TABLES are copied from the build
    it names (the frames leave them out), and each such table is sorted as a whole build's.
    WarehouseCheckError when the build fails a check; PublishError (one line) when it
    cannot be written, e.g. on a full disk. Either way the published warehouse is unchanged.
    """
    db.parent.mkdir(parents=True, exist_ok=True)
    clear_stale(db)
    tmp = building_path(db)
    _remove(tmp)
    try:
        con = duckdb.connect(str(tmp))
        try:
            problems = [p for name in TABLES for p in CONTRACT[name].problems(tables[name])]
            if problems:
                raise WarehouseCheckError("新库未通过检查，未发布：" + "；".join(problems))
            con.execute(ddl())
            for name in TABLES:
                frame = tables[name]
                con.register("incoming", frame.to_arrow())
                rows = (carried.rows(name, tuple(c.name for c in CONTRACT[name].columns), last=True)
                        if carried is not None and name in CARRIED_TABLES else None)
                if rows is not None:
                    con.register("carried_rows", rows)
                    _insert_carried(con, CONTRACT[name])
                    con.unregister("carried_rows")
                else:
                    con.execute(f"INSERT INTO {name} BY NAME SELECT * FROM incoming")
                con.unregister("incoming")
            problems = check_build(con)
            if problems:
                raise WarehouseCheckError("新库未通过检查，未发布：" + "；".join(problems))
            con.execute("CHECKPOINT")
        finally:
            con.close()
        keep_previous(db)
        os.replace(tmp, db)
        _fsync_dir(db.parent)
    except WarehouseCheckError:
        raise
    except (duckdb.Error, OSError) as exc:
        reason = " ".join(str(exc).split())
        raise PublishError(f"无法写入新的数据仓库（{reason}），已发布的数据仓库未改变") from exc
    finally:
        _remove(tmp)


def _insert_carried(con: duckdb.DuckDBPyConnection, table: Table) -> None:
    """The table from the carried unit-years' rows of the source build and the new rows, in the
    order a whole build has. The DDL's NOT NULL and primary key hold for the whole table."""
    columns = ", ".join(c.name for c in table.columns)
    order = ", ".join(f"{c} NULLS LAST" for c in table.sort)
    try:
        con.execute(f"""
            INSERT INTO {table.name} ({columns})
            SELECT {columns} FROM (SELECT {columns} FROM carried_rows UNION ALL SELECT {columns} FROM incoming)
            ORDER BY {order}""")
    except duckdb.ConstraintException as exc:
        raise WarehouseCheckError(f"新库未通过检查，未发布：{table.name}: {' '.join(str(exc).split())}") from exc


# What a run leaves beside the warehouse while it works, named with its process id.
_TEMPORARY = r"^\.{name}(?:\.previous)?\.(?:building|swap|rollback|carry)-(\d+)(?:\.wal)?$"
# What older versions left beside it and nothing reads any more: the parse cache as a pickle
# (loading one would run whatever code a writer of the folder put in it), and its temporary files.
_OBSOLETE = r"^\.{stem}\.parse-cache\.pickle(?:\.tmp-\d+)?$"


def _running(pid: int, named_at: float) -> bool:
    """Whether the run that left a file named with this process id (the file's inode changed
    last at `named_at`, epoch seconds) may still be going. A freed process id is given out
    again (here after 32 768), so a process with that id that started after the file was
    made is another one."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # alive, someone else's
        pass
    started = _process_start(pid)
    return started is None or started <= named_at + 1.0


def _process_start(pid: int) -> float | None:
    """When a process started (epoch seconds), where /proc tells; None elsewhere."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
        boot = next(float(line.split()[1]) for line in Path("/proc/stat").read_text().splitlines()
                    if line.startswith("btime "))
        # the fields after the command name, which may itself hold spaces and parentheses
        ticks = int(stat.rsplit(")", 1)[1].split()[19])
        return boot + ticks / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError, StopIteration):
        return None


def clear_stale(db: Path) -> list[Path]:
    """Remove the temporary files of runs that were killed (their process is gone) and the
    files of older versions that nothing reads."""
    temporary = re.compile(_TEMPORARY.format(name=re.escape(db.name)))
    obsolete = re.compile(_OBSOLETE.format(stem=re.escape(db.stem)))
    removed = []
    for path in db.parent.iterdir():
        match = temporary.match(path.name)
        try:
            stale = obsolete.match(path.name) or (
                match and not _running(int(match.group(1)), path.stat(follow_symlinks=False).st_ctime))
        except FileNotFoundError:  # another run's file, gone meanwhile
            continue
        if stale:
            path.unlink(missing_ok=True)
            removed.append(path)
    return removed


def previous_path(db: Path) -> Path:
    return db.with_name(db.name + ".previous")


def _swap_in(source: Path, target: Path) -> None:
    """target becomes an exact copy of source, atomically (a hard link where the disk allows)."""
    staging = target.with_name(f".{target.name}.swap-{os.getpid()}")
    staging.unlink(missing_ok=True)
    try:
        os.link(source, staging)
    except OSError:
        shutil.copy2(source, staging)
    os.replace(staging, target)


def keep_previous(db: Path) -> None:
    """Keep the published build as <db>.previous before it is replaced. A link is an exact
    snapshot: the published file is never written in place."""
    if db.exists():
        _swap_in(db, previous_path(db))


def roll_back(db: Path) -> None:
    """Publish <db>.previous again; the build it replaces becomes the new .previous."""
    previous = previous_path(db)
    if not previous.exists():
        raise FileNotFoundError(f"没有上一次构建可以回退：{previous} 不存在")
    staging = db.with_name(f".{db.name}.rollback-{os.getpid()}")
    _swap_in(previous, staging)
    keep_previous(db)
    os.replace(staging, db)
    _fsync_dir(db.parent)


def _fsync_dir(directory: Path) -> None:
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:  # pragma: no cover - not every platform opens directories
        return
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
