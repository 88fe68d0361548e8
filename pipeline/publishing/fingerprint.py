"""What a build is made of, as one hash: the input files, the roster, the frameworks,
the bureau's ledger and the code. Equal fingerprints mean equal warehouse content, so an unchanged rerun
can keep the published build instead of making the same one again."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from pathlib import Path

from pipeline.reading.discover import FoundFile
from pipeline.settings import PROJECT_ROOT, ROSTER_FILE, frameworks_dir

CODE_DIRS = ("pipeline", "schemas")


def code_files() -> list[Path]:
    """Every file of the code that shapes the warehouse (the dashboard does not)."""
    files = []
    for folder in CODE_DIRS:
        files += [p for p in (PROJECT_ROOT / folder).rglob("*")
                  if p.is_file() and p.suffix in (".py", ".sql", ".toml") and "__pycache__" not in p.parts]
    return sorted(files)


def build_fingerprint(raw: Path, files: Iterable[FoundFile], ledger: Path | None = None) -> str:
    digest = hashlib.sha256()
    if ledger is not None:
        from pipeline.ledger import fingerprint as ledger_fingerprint
        digest.update(b"ledger\0" + ledger_fingerprint(ledger).encode())
    for found in sorted(files, key=lambda f: f.relative):
        digest.update(f"{found.relative}\0{found.sha256}\0{found.mtime_ns}\n".encode())
    roster = raw / ROSTER_FILE
    digest.update(roster.read_bytes() if roster.exists() else b"")
    for path in code_files() + sorted(frameworks_dir().glob("*.toml")):
        digest.update(path.name.encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()[:32]
