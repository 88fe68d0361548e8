"""The bureau's ledger: its own decisions, kept apart from the units' files and from the
warehouse (contract sections 10 and 12).

An append-only SQLite file (WAL mode, so officers can record while the pipeline reads).
Rows are only ever inserted: a withdrawal is a new row, a correction is a new row, and the
latest row per key counts. The pipeline reads the ledger as one of its inputs, so the
same raw/, roster, frameworks and ledger always give the same warehouse.

Two kinds of entry:
- ``decisions``: an officer's 复核 score for one indicator of one unit-year, with a reason
  (or the withdrawal of an earlier one);
- ``notices``: a 退回修改 notice sent to a unit for a year, with its date and deadline.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

SCHEMA = """
CREATE TABLE IF NOT EXISTS decisions (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    year        INTEGER NOT NULL,
    unit_name   TEXT NOT NULL,
    code        TEXT NOT NULL,      -- indicator code, e.g. B6
    score       REAL,               -- 0..分值, two decimals; NULL = withdrawn
    reason      TEXT NOT NULL,
    officer     TEXT NOT NULL,
    recorded_at TEXT NOT NULL       -- ISO time, second precision
);
CREATE TABLE IF NOT EXISTS notices (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    year        INTEGER NOT NULL,
    unit_name   TEXT NOT NULL,
    round       INTEGER NOT NULL,   -- 1 for the first notice of a unit-year, 2 for the next …
    issued_on   TEXT NOT NULL,      -- ISO date
    deadline    TEXT NOT NULL,      -- ISO date: resubmit by
    document    TEXT NOT NULL,      -- file name of the notice
    items       TEXT NOT NULL,      -- JSON list of [rule, location] asked to be fixed
    recorded_at TEXT NOT NULL
);
CREATE TRIGGER IF NOT EXISTS decisions_append_only_u BEFORE UPDATE ON decisions
    BEGIN SELECT RAISE(ABORT, 'the ledger is append-only'); END;
CREATE TRIGGER IF NOT EXISTS decisions_append_only_d BEFORE DELETE ON decisions
    BEGIN SELECT RAISE(ABORT, 'the ledger is append-only'); END;
CREATE TRIGGER IF NOT EXISTS notices_append_only_u BEFORE UPDATE ON notices
    BEGIN SELECT RAISE(ABORT, 'the ledger is append-only'); END;
CREATE TRIGGER IF NOT EXISTS notices_append_only_d BEFORE DELETE ON notices
    BEGIN SELECT RAISE(ABORT, 'the ledger is append-only'); END;
"""

BUSY_TIMEOUT_S = 30  # several officers recording at once wait for each other, never fail


@dataclass(frozen=True)
class Decision:
    year: int
    unit_name: str
    code: str
    score: float | None   # None: withdrawn
    reason: str
    officer: str
    recorded_at: str


@dataclass(frozen=True)
class Notice:
    year: int
    unit_name: str
    round: int
    issued_on: dt.date
    deadline: dt.date
    document: str
    items: str            # JSON list of [rule, location]
    recorded_at: str


@contextmanager
def connect(path: Path, *, write: bool = False) -> Iterator[sqlite3.Connection]:
    """A connection to the ledger. Reading a ledger that does not exist yet gives an empty
    in-memory one (no file is created by reading)."""
    if not write and not path.exists():
        con = sqlite3.connect(":memory:")
        con.executescript(SCHEMA)
    else:
        path.parent.mkdir(parents=True, exist_ok=True)
        con = sqlite3.connect(path, timeout=BUSY_TIMEOUT_S, isolation_level=None)
        con.execute("PRAGMA journal_mode=WAL")
        if write:
            con.executescript(SCHEMA)
    try:
        yield con
    finally:
        con.close()


def now() -> str:
    return dt.datetime.now().replace(microsecond=0).isoformat()


def append_decision(path: Path, decision: Decision) -> None:
    with connect(path, write=True) as con:
        con.execute("BEGIN IMMEDIATE")
        con.execute("INSERT INTO decisions (year, unit_name, code, score, reason, officer, recorded_at)"
                    " VALUES (?, ?, ?, ?, ?, ?, ?)",
                    (decision.year, decision.unit_name, decision.code, decision.score,
                     decision.reason, decision.officer, decision.recorded_at))
        con.execute("COMMIT")


def append_notice(path: Path, notice: Notice) -> None:
    with connect(path, write=True) as con:
        con.execute("BEGIN IMMEDIATE")
        con.execute("INSERT INTO notices (year, unit_name, round, issued_on, deadline, document, items, recorded_at)"
                    " VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                    (notice.year, notice.unit_name, notice.round, notice.issued_on.isoformat(),
                     notice.deadline.isoformat(), notice.document, notice.items, notice.recorded_at))
        con.execute("COMMIT")


def all_decisions(path: Path) -> list[Decision]:
    """Every decision ever recorded, oldest first."""
    with connect(path) as con:
        rows = con.execute("SELECT year, unit_name, code, score, reason, officer, recorded_at"
                           " FROM decisions ORDER BY id").fetchall()
    return [Decision(*row) for row in rows]


def current_decisions(path: Path) -> dict[tuple[int, str, str], Decision]:
    """(year, unit_name, code) → the latest decision that still stands (withdrawals removed)."""
    latest: dict[tuple[int, str, str], Decision] = {}
    for decision in all_decisions(path):
        latest[(decision.year, decision.unit_name, decision.code)] = decision
    return {key: d for key, d in latest.items() if d.score is not None}


def all_notices(path: Path) -> list[Notice]:
    """Every notice recorded, oldest first."""
    with connect(path) as con:
        rows = con.execute("SELECT year, unit_name, round, issued_on, deadline, document, items, recorded_at"
                           " FROM notices ORDER BY id").fetchall()
    return [Notice(y, u, r, dt.date.fromisoformat(i), dt.date.fromisoformat(d), doc, items, at)
            for y, u, r, i, d, doc, items, at in rows]


def fingerprint(path: Path) -> str:
    """What of the ledger shapes a build: its rows, not the file's bytes (WAL pages differ)."""
    digest = hashlib.sha256()
    for decision in all_decisions(path):
        digest.update(repr(decision).encode())
    for notice in all_notices(path):
        digest.update(repr(notice).encode())
    return digest.hexdigest()
