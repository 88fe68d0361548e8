"""Reading many workbooks: in worker processes where they pay, and not again when they have not changed.

The per-file work (read with calamine, stage, parse cells, validate against the pandera
models) is pure given the file's bytes, so its result is cached by the file's SHA-256
together with a fingerprint of everything that can change it: every source file of
pipeline/reading, pipeline/checking, schemas/ and pipeline/settings.py, and the versions
of the libraries that read and validate. A rerun reads only new or changed files.

The cache is a SQLite file of JSON entries, one row per file content: a 1 % change writes
1 % of the rows, and a cache folder someone else can write gives them no way to run code
(an entry that does not decode into the parse result types is a miss, never an error).

Workers are plain `python -m pipeline.reading.ingest` processes that read batches of the
files alongside the main process and hand back their cache entries, so they import only the
reading modules and never whatever script `__main__` happens to be (Streamlit, a notebook,
pytest).
"""

from __future__ import annotations

import collections
import contextlib
import dataclasses
import datetime as dt
import functools
import gc
import hashlib
import importlib
import json
import operator
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Collection, Iterable, Sequence
from pathlib import Path

from pipeline.reading.grid import WorkbookReadError, read_workbook
from pipeline.reading.parse import Indicator, ParsedWorkbook, parse_workbook
from pipeline.reading.staging import stage_workbook
from pipeline.reading.targets import TargetRow, read_targets
from pipeline.checking.findings import Finding, internal_error
from pipeline.settings import PARALLEL_READ_THRESHOLD as PARALLEL_THRESHOLD, PROJECT_ROOT, read_workers

# new cache entries are written in batches of this many, so their JSON is not all held at once
FLUSH_ENTRIES = 500

ParseResult = ParsedWorkbook | WorkbookReadError  # a read error is a result too: cached alike

# What shapes a cached result: the code of these folders and files, and these libraries.
CODE_PARTS = ("pipeline/reading", "pipeline/checking", "schemas", "pipeline/settings.py", "pipeline/__init__.py")
LIBRARIES = ("python-calamine", "xlrd", "polars", "pandera")
CACHE_FORMAT = 2


def parse_file(path: str) -> ParseResult:
    """Read, stage and parse one workbook; the read error when calamine cannot open it."""
    # Reading a workbook makes thousands of small objects and no reference cycle to collect: the
    # cyclic collector, which ran several times a file over every object the process holds, waits
    # until the file is read (a cycle made meanwhile is collected then).
    collecting = gc.isenabled()
    gc.disable()
    try:
        return _parse_file(path)
    finally:
        if collecting:
            gc.enable()


def _parse_file(path: str) -> ParseResult:
    try:
        sheets = read_workbook(Path(path))
        parsed = parse_workbook(stage_workbook(sheets))
        parsed.targets, more = read_targets(sheets, parsed.year)
        parsed.findings += more
        return parsed
    except WorkbookReadError as exc:
        return exc
    except Exception as exc:  # a bug in reading one file costs that file only, with a finding
        return WorkbookReadError(f"读取时程序出错（{type(exc).__name__}），本文件未能处理", rule="file.internal_error")

# ---------------------------------------------------------------- what a result depends on

def code_files(root: Path = PROJECT_ROOT, parts: tuple[str, ...] = CODE_PARTS) -> list[Path]:
    """Every Python source file of `parts` (folders or files under root): by default those whose
    change can change a cached parse result."""
    files: set[Path] = set()
    for part in parts:
        path = root / part
        if path.is_file():
            files.add(path)
        elif path.is_dir():
            files.update(p for p in path.rglob("*.py") if "__pycache__" not in p.parts)
    return sorted(files)


def _library_version(name: str) -> str:
    import importlib.metadata  # a tenth of a second: not in every worker's start

    try:
        return importlib.metadata.version(name)
    except importlib.metadata.PackageNotFoundError:
        return "absent"


@functools.cache  # the code does not change while a run reads and writes its cache
def code_fingerprint() -> str:
    """Changes whenever any file or library that shapes a parse result changes."""
    digest = hashlib.sha256(f"cache format {CACHE_FORMAT}\n".encode())
    for name in LIBRARIES:
        digest.update(f"{name} {_library_version(name)}\n".encode())
    hash_files(digest, code_files())
    return digest.hexdigest()


def hash_files(digest, paths: list[Path], root: Path = PROJECT_ROOT) -> None:
    """Add each file's place under root and its content to digest."""
    for path in paths:
        digest.update(path.relative_to(root).as_posix().encode() + b"\0")
        digest.update(hashlib.sha256(path.read_bytes()).digest())


# ---------------------------------------------------------------- results as JSON
#
# An entry is one JSON object of plain values, decoded by json.loads alone (no per-object
# hook) and then put together field by field into the few result types below: the record
# types (Indicator, Finding, TargetRow) as lists of their field values in order, dicts keyed
# by 行次 as lists of pairs, dates as [ISO text]. Anything of another shape is not a result.

_RECORDS = {"indicators": Indicator, "findings": Finding}
_RECORD_FIELDS = {cls: tuple(f.name for f in dataclasses.fields(cls)) for cls in (Indicator, Finding, TargetRow)}


def restore(cls: type, names: tuple[str, ...], values: list):
    """A record (a frozen dataclass of plain values) from its field values in order, as stored.

    Its __init__ is not run: the values were checked and cut short (Finding) when it was first
    made, and cutting them again would change the length they say they had; setting the fields
    directly also costs a fifth of what a frozen dataclass's __init__ does.
    """
    if type(values) is not list or len(values) != len(names):
        raise ValueError(f"not a {cls.__name__}")
    record = object.__new__(cls)
    record.__dict__.update(zip(names, values))
    return record
_BY_LINE = ("amounts", "amount_cells", "amount_raw", "line_labels")
_PARSED_FIELDS = tuple(f.name for f in dataclasses.fields(ParsedWorkbook))


# each record type's field values in order, as one tuple (JSON writes it as a list)
_RECORD_VALUES = {cls: operator.attrgetter(*names) for cls, names in _RECORD_FIELDS.items()}


def _plain_info(value):
    return [value.isoformat()] if isinstance(value, dt.date) else value


def _typed_info(value):
    if isinstance(value, list):
        text, = value
        return dt.date.fromisoformat(text)
    if value is None or isinstance(value, (str, int, float)):
        return value
    raise ValueError("not a parse result")


def _plain(result: ParseResult) -> dict:
    """A parse result as JSON-ready values."""
    if isinstance(result, WorkbookReadError):
        return {"read_error": [str(result), result.rule]}
    out = {name: getattr(result, name) for name in _PARSED_FIELDS}
    out["info"] = {key: _plain_info(value) for key, value in result.info.items()}
    for name in _BY_LINE:
        out[name] = list(out[name].items())
    for name, cls in _RECORDS.items():
        out[name] = list(map(_RECORD_VALUES[cls], out[name]))
    out["sheets_found"] = sorted(result.sheets_found)
    if result.targets is not None:
        out["targets"] = list(map(_RECORD_VALUES[TargetRow], result.targets))
    return out


def _typed(plain: dict) -> ParseResult:
    """The inverse of _plain; TypeError, ValueError, KeyError … for anything else."""
    if "read_error" in plain:
        message, rule = (str(v) for v in plain["read_error"])
        return WorkbookReadError(message, rule)
    if set(plain) != set(_PARSED_FIELDS):
        raise ValueError("not a parse result")
    fields = dict(plain)
    fields["info"] = {str(key): _typed_info(value) for key, value in plain["info"].items()}
    for name in _BY_LINE:
        fields[name] = {int(line): value for line, value in plain[name]}
    for name, cls in _RECORDS.items():
        names = _RECORD_FIELDS[cls]
        fields[name] = [restore(cls, names, values) for values in plain[name]]
    fields["sheets_found"] = frozenset(map(str, plain["sheets_found"]))
    if plain["targets"] is not None:
        names = _RECORD_FIELDS[TargetRow]
        fields["targets"] = [restore(TargetRow, names, values) for values in plain["targets"]]
    return ParsedWorkbook(**fields)


def encode(result: ParseResult) -> str:
    # a tree of plain values just made: nothing in it can refer back to itself
    return json.dumps(_plain(result), ensure_ascii=False, separators=(",", ":"), check_circular=False)


def decode(text: str) -> ParseResult:
    """The result an entry holds; ValueError when it holds anything else."""
    try:
        plain = json.loads(text)
        if not isinstance(plain, dict):
            raise ValueError("not a parse result")
        return _typed(plain)
    except (TypeError, KeyError, AttributeError, IndexError, RecursionError) as exc:
        raise ValueError(str(exc)) from exc


# ---------------------------------------------------------------- the cache file

@dataclasses.dataclass(frozen=True)
class CacheSql:
    """The statements of one cache table (key TEXT PRIMARY KEY, code TEXT, JSON TEXT), written out."""

    create: str
    select: str           # (key, JSON) of one code
    drop_other_code: str
    drop_key: str
    insert: str           # (key, code, JSON)


PARSED_SQL = CacheSql(
    create="CREATE TABLE IF NOT EXISTS parsed (sha256 TEXT PRIMARY KEY, code TEXT NOT NULL, result TEXT NOT NULL)",
    select="SELECT sha256, result FROM parsed WHERE code = ?",
    drop_other_code="DELETE FROM parsed WHERE code <> ?",
    drop_key="DELETE FROM parsed WHERE sha256 = ?",
    insert="INSERT OR REPLACE INTO parsed VALUES (?, ?, ?)")


class CacheTable:
    """One table of the cache file: key → JSON of one result, for one code fingerprint. Never
    an error: a cache that cannot be opened, read or written only makes the run slower.

    Only the entries asked for are decoded, one row at a time, and new entries are written
    every FLUSH_ENTRIES: a province's entries held as text at once took a few hundred MB.
    `decode` turns an entry's JSON back into its result and raises ValueError for any entry
    of another shape (tampered or damaged), which then counts as a miss."""

    def __init__(self, path: Path | None, sql: CacheSql, code: str, decode: Callable[[str], object],
                 wanted: Collection[str] = ()):
        self.path, self.sql, self.code = path, sql, code
        self.stored: set[str] = set()   # keys the file holds for this code
        self.found: dict[str, object] = {}
        self.added: dict[str, str] = {}
        if path is None or not path.exists():
            return
        wanted = set(wanted)
        try:
            with contextlib.closing(self._connect()) as con:
                for entry_key, text in con.execute(self.sql.select, (code,)):
                    self.stored.add(entry_key)
                    if entry_key in wanted:
                        try:
                            self.found[entry_key] = decode(text)
                        except ValueError:  # tampered or damaged: read or check the file again
                            self.stored.discard(entry_key)
        except (sqlite3.Error, OSError, ValueError):  # damaged or not a cache: start afresh
            self.stored, self.found = set(), {}

    def _connect(self) -> sqlite3.Connection:
        con = sqlite3.connect(self.path, timeout=60, isolation_level=None)
        try:
            con.execute(self.sql.create)
        except sqlite3.Error:
            con.close()
            raise
        return con

    def get(self, key: str):
        """The cached result of one of the wanted keys, once (the caller owns it)."""
        return self.found.pop(key, None)

    def put_text(self, key: str, text: str) -> None:
        self.added[key] = text
        if len(self.added) >= FLUSH_ENTRIES:
            self._write(())

    def save(self, keep: Iterable[str]) -> None:
        """Write the new entries and drop those of files no longer present or of other code."""
        if self.path is None:
            return
        stale = self.stored - set(keep)
        if not self.added and not stale and self.path.exists():
            return
        self._write(stale)

    def _write(self, stale: Iterable[str]) -> None:
        if self.path is None:
            self.added = {}
            return
        stale = set(stale)
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            try:
                con = self._connect()
            except sqlite3.DatabaseError:  # not a cache (damaged, or another file): replace it
                self.path.unlink()
                con = self._connect()
            with contextlib.closing(con):
                con.execute("BEGIN IMMEDIATE")
                con.execute(self.sql.drop_other_code, (self.code,))
                con.executemany(self.sql.drop_key, ((key,) for key in stale))
                con.executemany(self.sql.insert, ((key, self.code, text) for key, text in self.added.items()))
                con.execute("COMMIT")
        except (sqlite3.Error, OSError):
            # A write that failed part-way (a full disk, a file size quota) leaves a journal
            # that only undoes it: the cache goes with it, and the next run is only slower.
            for path in (self.path, self.path.with_name(self.path.name + "-journal")):
                with contextlib.suppress(OSError):
                    path.unlink(missing_ok=True)
            self.stored = set()
        else:
            self.stored = (self.stored - stale) | set(self.added)
        self.added = {}


class ParseCache(CacheTable):
    """sha256 → JSON of the validated parse result."""

    def __init__(self, path: Path | None, wanted: Collection[str] = ()):
        super().__init__(path, PARSED_SQL, code_fingerprint(), decode, wanted)

    def put(self, sha: str, result: ParseResult, text: str | None = None) -> None:
        """Add a result; `text` is its JSON when already at hand."""
        self.put_text(sha, text or encode(result))


# ---------------------------------------------------------------- workers
#
# The main process and the workers take the files from one list: the main process one at a
# time, each worker a batch of consecutive files at a time, whose cache entries it writes as
# one file (an entry per line) into a folder of the run's own. Between two files of its own
# the main process looks for finished batches (a stat), hands that worker its next batch and
# decodes the entries: the one copy of each result it needs, and the text the cache keeps.
# No thread waits on a pipe, so nothing competes for the interpreter lock, and a worker never
# waits for the main process to read what it wrote.

_BATCH_MIN, _BATCH_MAX = 16, 200  # files in a worker's batch


class ReadingFailed(RuntimeError):
    """A worker process ended before it had read every file it was given."""


def _worker_command(folder: Path) -> tuple[list[str], dict[str, str]]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(PROJECT_ROOT), *filter(None, [env.get("PYTHONPATH")])])
    # -P: this code from PROJECT_ROOT, never a `pipeline` folder in the current directory
    return [sys.executable, "-P", "-m", "pipeline.reading.ingest", str(folder)], env


class _Worker:
    def __init__(self, proc: subprocess.Popen, folder: str):
        self.proc, self.folder = proc, folder
        self.batches: collections.deque[range] = collections.deque()  # given, not yet collected

    def written(self) -> str | None:
        """The file of its oldest batch once the worker has written it."""
        name = os.path.join(self.folder, f"{self.batches[0].start}.txt")
        return name if os.path.exists(name) else None

    def give(self, batch: range) -> None:
        self.batches.append(batch)
        try:
            self.proc.stdin.write(f"{batch.start} {batch.stop}\n".encode())
            self.proc.stdin.flush()
        except OSError:  # it has ended (killed): collect() reports it with the files it was given
            pass

    def done(self) -> None:
        """No more batches: the worker ends once it has written those it holds."""
        with contextlib.suppress(OSError):
            self.proc.stdin.close()


def _parse_shared(paths: Sequence[str], workers: int, on_done: Callable[[], None],
                  texts: list[str | None], meanwhile: Callable[[], object]) -> list[ParseResult]:
    """Parse every path in this process and `workers` more; the results in the order of the
    paths, and in `texts` the cache entry of each that a worker read."""
    results: list[ParseResult] = [None] * len(paths)  # type: ignore[list-item]
    folder = Path(tempfile.mkdtemp(prefix="perf-read-"))
    crew: list[_Worker] = []
    taken = 0  # paths[:taken] are read or given to a worker

    def take(size: int, worker: _Worker | None = None) -> range:
        """The next `size` files (fewer at the end), for `worker` or else this process."""
        nonlocal taken
        batch = range(taken, min(len(paths), taken + size))
        taken = batch.stop
        if worker is not None:
            worker.give(batch)
        if taken == len(paths):
            for each in crew:
                each.done()
        return batch

    def give_next(worker: _Worker) -> None:
        # smaller batches as the list runs out, so that all finish at about the same time
        take(min(_BATCH_MAX, max(_BATCH_MIN, (len(paths) - taken) // (2 * (workers + 1)))), worker)

    def collect(check_alive: bool) -> bool:
        """Take in every batch a worker has finished; whether there was one. A worker that
        has ended without writing its batch is an error (looked for when `check_alive`)."""
        found = False
        for worker in crew:
            while worker.batches:
                batch = worker.batches[0]
                entries = worker.written()
                if entries is None:
                    if check_alive and worker.proc.poll() is not None and worker.written() is None:
                        raise ReadingFailed(
                            f"读取工作簿的工作进程异常退出（退出码 {worker.proc.returncode}），"
                            f"它正在读取的 {len(batch)} 份文件（自 {paths[batch.start]} 起）没有读完；"
                            "请重新运行，若再次出现，可设 PERF_READ_WORKERS=1 在一个进程中读取")
                    break
                worker.batches.popleft()
                if taken < len(paths):
                    give_next(worker)
                with open(entries, encoding="utf-8") as file:
                    lines = file.read().split("\n")
                os.unlink(entries)
                if len(lines) != len(batch):
                    raise ReadingFailed(f"读取工作簿的工作进程交回的结果不全（{len(lines)} 份，应为 {len(batch)} 份）")
                for i, text in zip(batch, lines):
                    results[i], texts[i] = decode(text), text
                    on_done()
                found = True
        return found

    try:
        # \u escapes keep a name in GBK bytes (a lone surrogate here) as it is
        (folder / "paths.json").write_text(json.dumps(list(paths)), encoding="ascii")
        command, env = _worker_command(folder)
        for _ in range(workers):
            crew.append(_Worker(subprocess.Popen(command, env=env, stdin=subprocess.PIPE,
                                                 stdout=subprocess.DEVNULL), str(folder)))
        for worker in crew:
            if taken < len(paths):
                give_next(worker)
        # Work for this process alone, done while the workers start (a tenth of a second or
        # more): the files are shared as they are taken, so the workers read more meanwhile.
        meanwhile()
        while taken < len(paths):
            i, = take(1)
            results[i] = parse_file(paths[i])
            on_done()
            collect(check_alive=i % 32 == 0)  # a few µs a look: whether they still run, now and then
        while any(worker.batches for worker in crew):
            if not collect(check_alive=True):
                time.sleep(0.001)
        return results
    finally:
        for worker in crew:
            worker.done()
            if worker.batches:  # stopped part-way (an error, Ctrl-C): its work is not wanted
                worker.proc.kill()
            worker.proc.wait()
        shutil.rmtree(folder, ignore_errors=True)


def serve_worker(folder: Path) -> None:
    """A worker: reads paths.json in `folder`, then for each line "start stop" on stdin parses
    those paths and writes their cache entries, one a line, as folder/<start>.txt."""
    # Ctrl-C reaches the whole process group: the main process ends the workers itself
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    paths = json.loads((folder / "paths.json").read_text(encoding="ascii"))
    for line in sys.stdin:
        start, stop = map(int, line.split())
        # json.dumps writes a line break inside a text as \n: an entry is one line
        text = "\n".join(encode(parse_file(paths[i])) for i in range(start, stop))
        part = folder / f"{start}.part"
        part.write_text(text, encoding="utf-8")
        os.replace(part, folder / f"{start}.txt")  # whole or not there


# ---------------------------------------------------------------- reading a batch

def validate_each(batch: list[ParsedWorkbook], validate) -> None:
    """Validate the batch at once; should that fail, each workbook alone, and one whose
    validation fails gets a fatal finding of its own while the others go on."""
    try:
        validate(batch)
        return
    except Exception:
        pass
    for parsed in batch:
        kept = list(parsed.findings)
        try:
            validate([parsed])
        except Exception as exc:
            parsed.findings = kept + [internal_error("校验数据", exc)]


def read_all(files: Sequence[tuple[str, Path]], cache_file: Path | None,
             on_done: Callable[[], None] = lambda: None,
             workers: int | None = None) -> dict[str, ParseResult]:
    """Validated parse results by sha256 for every (sha256, path). Cached results are
    not read again; the others are read (in workers when there are enough of them),
    validated as one batch and added to the cache. Each result is a fresh object."""
    cache = ParseCache(cache_file, {sha for sha, _ in files})
    results: dict[str, ParseResult] = {}
    todo: list[tuple[str, Path]] = []
    for sha, path in files:
        if sha in results:
            continue
        cached = cache.get(sha)
        if cached is not None:
            results[sha] = cached
            on_done()
        else:
            todo.append((sha, path))
            results[sha] = None  # type: ignore[assignment]  # placeholder keeps the order
    texts: list[str | None] = []
    # pandera (half a second of CPU) is imported while workers read, if any: they read more meanwhile
    fresh = parse_all([str(p) for _, p in todo], on_done, workers, texts,
                      meanwhile=lambda: importlib.import_module("pipeline.checking.validate"))
    workbooks = [r for r in fresh if isinstance(r, ParsedWorkbook)]
    if workbooks:
        from pipeline.checking.validate import validate_batch  # pandera: only when something is new

        before = [len(r.findings) for r in workbooks]
        validate_each(workbooks, validate_batch)
        # a worker's JSON still holds the result where validation found nothing to add
        changed = {id(r) for r, count in zip(workbooks, before) if len(r.findings) != count}
        texts = [None if id(r) in changed else t for r, t in zip(fresh, texts)]
    for (sha, _), result, text in zip(todo, fresh, texts):
        results[sha] = result
        cache.put(sha, result, text)
    cache.save(results)
    return results


def parse_all(paths: Sequence[str], on_done: Callable[[], None] = lambda: None,
              workers: int | None = None, texts: list[str | None] | None = None,
              meanwhile: Callable[[], object] = lambda: None) -> list[ParseResult]:
    """Parse results in the order of the paths; shared with worker processes from
    PARALLEL_THRESHOLD paths on, `workers` processes in all (this one included; by default
    settings.read_workers()), and then `meanwhile` is called while they read. A list given
    as `texts` receives each result's cache entry where a worker wrote it (else None)."""
    processes = min(workers or read_workers(), len(paths) // _BATCH_MIN)
    texts = [] if texts is None else texts
    texts[:] = [None] * len(paths)
    if len(paths) < max(PARALLEL_THRESHOLD, 2 * _BATCH_MIN) or processes < 2:
        results = []
        for path in paths:
            results.append(parse_file(path))
            on_done()
        return results
    return _parse_shared(paths, processes - 1, on_done, texts, meanwhile)


if __name__ == "__main__":
    serve_worker(Path(sys.argv[1]))
