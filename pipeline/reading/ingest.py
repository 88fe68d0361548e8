"""Reading many workbooks: in parallel processes, and not again when they have not changed.

The per-file work (read with calamine, stage, parse cells) is pure given the file's
bytes, so its result is cached by the file's SHA-256 together with a fingerprint of
the code that produced it: a rerun reads only new or changed files, and a code change
invalidates the whole cache. Workers import only the light reading modules.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import multiprocessing
import os
import pickle
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

from pipeline.reading.parse import ParsedWorkbook, parse_workbook
from pipeline.reading.staging import stage_workbook
from pipeline.reading.targets import read_targets
from pipeline.reading.grid import WorkbookReadError, read_workbook

# Below this many files a pool costs more to start than it saves.
PARALLEL_THRESHOLD = 48
CHUNK = 16

ParseResult = ParsedWorkbook | WorkbookReadError  # a read error is a result too: cached alike


def parse_file(path: str) -> ParseResult:
    """Read, stage and parse one workbook; the read error when calamine cannot open it."""
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

@functools.cache  # the code does not change while a run reads and writes its cache
def code_fingerprint() -> str:
    """Changes whenever any module that shapes a parse result changes."""
    from pipeline.checking import findings
    from pipeline.reading import normalise
    from pipeline.reading import parse
    from pipeline.reading import staging
    from pipeline.reading import grid as workbook
    from pipeline.reading import targets
    from schemas import form

    digest = hashlib.sha256()
    for module in (findings, normalise, parse, staging, workbook, form, targets):
        digest.update(Path(module.__file__).read_bytes())
    return digest.hexdigest()


def load_cache(path: Path | None) -> dict[str, ParseResult]:
    """sha256 → parse result; empty when there is no usable cache (never an error)."""
    if path is None or not path.exists():
        return {}
    try:
        with path.open("rb") as handle:
            stored = pickle.load(handle)
        if stored.get("fingerprint") != code_fingerprint():
            return {}
        return stored["entries"]
    except Exception:  # a damaged cache is only a slower run
        return {}


def save_cache(path: Path | None, entries: dict[str, ParseResult]) -> None:
    if path is None:
        return
    tmp = path.with_name(path.name + f".tmp-{os.getpid()}")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with tmp.open("wb") as handle:
            pickle.dump({"fingerprint": code_fingerprint(), "entries": entries}, handle,
                        protocol=pickle.HIGHEST_PROTOCOL)
        os.replace(tmp, path)
    except OSError:  # an unwritable cache is only a slower next run
        with contextlib.suppress(OSError):
            tmp.unlink(missing_ok=True)


def parse_all(files: Sequence[tuple[str, Path]], cache: dict[str, ParseResult],
              on_done: Callable[[], None] = lambda: None,
              workers: int | None = None) -> dict[str, ParseResult]:
    """Parse results by sha256 for every (sha256, path); cached ones are not read again.

    The results are the cache's own objects: save the cache before adding findings to them.
    """
    results: dict[str, ParseResult] = {}
    todo: list[tuple[str, Path]] = []
    for sha, path in files:
        if sha in results:
            continue
        if sha in cache:
            results[sha] = cache[sha]
            on_done()
        else:
            todo.append((sha, path))
            results[sha] = None  # type: ignore[assignment]  # placeholder keeps the order
    workers = workers or os.cpu_count() or 1
    if len(todo) >= PARALLEL_THRESHOLD and workers > 1:
        context = multiprocessing.get_context("spawn")
        with ProcessPoolExecutor(max_workers=workers, mp_context=context) as pool:
            for (sha, _), result in zip(todo, pool.map(parse_file, [str(p) for _, p in todo], chunksize=CHUNK)):
                results[sha] = result
                on_done()
    else:
        for sha, path in todo:
            results[sha] = parse_file(str(path))
            on_done()
    for sha, _ in todo:
        cache[sha] = results[sha]
    return results
