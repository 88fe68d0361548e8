"""The checks of one workbook, kept so that a rerun checks only the files that changed (IO edge).

Checking a workbook (pipeline.run.check_workbook) depends on nothing but its parse result,
where it lies (its path under RAW and its year folder), the roster, the year's framework and
the code. Its outcome (state, reason, unit, year, findings, 指标复核) is kept beside the parse
cache, in the same SQLite file, under a key made of all of these: a file whose bytes, place,
roster, framework or code changed is checked again. What depends on other files (duplicates,
copies, the previous year's 复核, the ledger, the 自评报告) runs after it, on every run.

Entries are plain JSON put together field by field into Finding and IndicatorReview, as the
parse cache's are: an entry of any other shape is a miss, never code run.
"""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import json
import operator
from collections.abc import Collection
from dataclasses import dataclass
from pathlib import Path

from pipeline.checking.findings import Finding
from pipeline.reading.discover import FoundFile
from pipeline.reading import ingest
from pipeline.reading.ingest import code_files, code_fingerprint, hash_files, restore
from pipeline.scoring.review import IndicatorReview
from pipeline.settings import PROJECT_ROOT

# Checking runs code from all of pipeline/ (run.py, checking, scoring) and schemas/.
CHECK_CODE_PARTS = ("pipeline", "schemas")

_FIELDS = {cls: tuple(f.name for f in dataclasses.fields(cls)) for cls in (Finding, IndicatorReview)}
# each record type's field values in order, as one tuple (JSON writes it as a list)
_VALUES = {cls: operator.attrgetter(*names) for cls, names in _FIELDS.items()}


@dataclass
class CheckOutcome:
    """What check_workbook made of one file, before anything that looks at other files."""

    state: str
    reason: str | None
    unit_name: str | None
    year: int | None
    findings: list[Finding]
    reviews: list[IndicatorReview]
    with_parsed: bool     # the Submission holds the parse result (not when it is a read error)
    with_framework: bool  # the Submission holds the year's framework


@functools.cache  # the code does not change while a run checks and caches
def check_code_fingerprint(root: Path = PROJECT_ROOT) -> str:
    digest = hashlib.sha256(code_fingerprint().encode())
    hash_files(digest, code_files(root, CHECK_CODE_PARTS), root)
    return digest.hexdigest()


def context_fingerprint(roster: list[dict], frameworks_folder: Path) -> str:
    """The roster's rows and every file of the frameworks folder, as one hash."""
    digest = hashlib.sha256(json.dumps(roster, ensure_ascii=False, sort_keys=True, default=str).encode())
    if frameworks_folder.is_dir():
        for path in sorted(p for p in frameworks_folder.rglob("*") if p.is_file()):
            digest.update(path.relative_to(frameworks_folder).as_posix().encode() + b"\0")
            digest.update(hashlib.sha256(path.read_bytes()).digest())
    return digest.hexdigest()


def entry_key(found: FoundFile) -> str:
    """One file's key: its bytes and where it lies (its findings name the file and the year)."""
    return hashlib.sha256(json.dumps([found.sha256, found.relative, found.folder_year,
                                      found.path.suffix]).encode()).hexdigest()


def encode(outcome: CheckOutcome) -> str:
    return json.dumps([outcome.state, outcome.reason, outcome.unit_name, outcome.year,
                       list(map(_VALUES[Finding], outcome.findings)),
                       list(map(_VALUES[IndicatorReview], outcome.reviews)),
                       outcome.with_parsed, outcome.with_framework],
                      ensure_ascii=False, separators=(",", ":"), allow_nan=True, check_circular=False)


def decode(text: str) -> CheckOutcome:
    """The outcome an entry holds; ValueError when it holds anything else."""
    try:
        state, reason, unit_name, year, findings, reviews, with_parsed, with_framework = json.loads(text)
        if not all(isinstance(v, (str, type(None))) for v in (state, reason, unit_name)) \
                or not isinstance(year, (int, type(None))) or not isinstance(state, str) \
                or not isinstance(with_parsed, bool) or not isinstance(with_framework, bool):
            raise ValueError("not a check outcome")
        finding_fields, review_fields = _FIELDS[Finding], _FIELDS[IndicatorReview]
        return CheckOutcome(state, reason, unit_name, year, [restore(Finding, finding_fields, v) for v in findings],
                            [restore(IndicatorReview, review_fields, v) for v in reviews], with_parsed, with_framework)
    except (TypeError, KeyError, AttributeError, IndexError, RecursionError) as exc:
        raise ValueError(str(exc)) from exc


CHECKED_SQL = ingest.CacheSql(
    create="CREATE TABLE IF NOT EXISTS checked (key TEXT PRIMARY KEY, code TEXT NOT NULL, outcome TEXT NOT NULL)",
    select="SELECT key, outcome FROM checked WHERE code = ?",
    drop_other_code="DELETE FROM checked WHERE code <> ?",
    drop_key="DELETE FROM checked WHERE key = ?",
    insert="INSERT OR REPLACE INTO checked VALUES (?, ?, ?)")


class CheckCache(ingest.CacheTable):
    """entry key → JSON of the check outcome, for one code and context."""

    def __init__(self, path: Path | None, context: str, wanted: Collection[str] = ()):
        code = hashlib.sha256((check_code_fingerprint() + context).encode()).hexdigest()
        super().__init__(path, CHECKED_SQL, code, decode, wanted)

    def put(self, key: str, outcome: CheckOutcome) -> None:
        try:
            text = encode(outcome)
        except (TypeError, ValueError):  # a value JSON cannot hold: this file is checked on every run
            return
        self.put_text(key, text)
