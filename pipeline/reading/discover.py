"""Finding the inputs under RAW: the roster and every file of every year folder (IO edge)."""

from __future__ import annotations

import csv
import hashlib
import io
import os
import re
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from pipeline.reading.normalise import nfkc, squash
from pipeline.reading.grid import WORKBOOK_SUFFIXES
from schemas.form import ROSTER_COLUMNS

REPORT_SUFFIXES = {".txt", ".docx", ".pdf"}


class RosterError(Exception):
    """units.csv cannot be used; the message says why."""


@dataclass(frozen=True)
class FoundFile:
    path: Path
    relative: str          # path relative to RAW, '/' separated
    folder_year: int | None  # None: not in a year folder (directly under RAW, or an unknown folder)
    kind: str              # workbook / report / other
    is_lock_file: bool
    sha256: str
    mtime_ns: int


def decode_text(data: bytes) -> str:
    """Text from UTF-8 (with or without BOM) or, failing that, GB18030 (a superset of GBK)."""
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return data.decode("gb18030")


def read_roster(path: Path) -> list[dict[str, str]]:
    """预算单位名录: 单位编码, 单位名称, 主管部门, 单位类型 (and 地区 when given)."""
    if not path.exists():
        raise RosterError(f"找不到预算单位名录 {path}")
    try:
        text = decode_text(path.read_bytes())
    except UnicodeDecodeError as exc:
        raise RosterError(f"{path}: 既不是UTF-8也不是GB18030/GBK编码") from exc
    rows = list(csv.reader(io.StringIO(text)))
    if not rows:
        raise RosterError(f"{path}: 文件为空")
    header = [squash(h) for h in rows[0]]
    missing = [c for c in ROSTER_COLUMNS if c not in header]
    if missing:
        raise RosterError(f"{path}: 缺少列 {'、'.join(missing)}（第1行为 {','.join(header)}）")
    index = {name: header.index(name) for name in header}
    units = []
    for line_no, row in enumerate(rows[1:], start=2):
        if not any(cell.strip() for cell in row):
            continue
        def get(column: str, row: list[str] = row) -> str:
            i = index.get(column)
            return nfkc(row[i]) if i is not None and i < len(row) else ""
        unit = {
            "unit_code": get("单位编码"),
            "unit_name": squash(get("单位名称")),
            "department": squash(get("主管部门")),
            "unit_type": squash(get("单位类型")),
            "region": get("地区") or None,
        }
        if not unit["unit_name"]:
            raise RosterError(f"{path} 第{line_no}行: 单位名称为空")
        units.append(unit)
    counts = Counter(u["unit_name"] for u in units)
    duplicates = sorted(n for n, c in counts.items() if c > 1)
    if duplicates:
        raise RosterError(f"{path}: 单位名称重复 {'、'.join(duplicates)}")
    codes = Counter(u["unit_code"] for u in units if u["unit_code"])
    duplicates = sorted(c for c, n in codes.items() if n > 1)
    if duplicates:
        raise RosterError(f"{path}: 单位编码重复 {'、'.join(duplicates)}")
    return units


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def file_kind(path: Path) -> str:
    suffix = path.suffix.lower()
    if suffix in WORKBOOK_SUFFIXES:
        return "workbook"
    if suffix in REPORT_SUFFIXES:
        return "report"
    return "other"


def is_lock_file(path: Path) -> bool:
    """Editor lock and temp files: ~$name.xlsx (Excel/WPS), .~lock.name# (LibreOffice), .hidden."""
    return path.name.startswith("~$") or path.name.startswith(".")


_YEAR_FOLDER = re.compile(r"^(\d{4})(?:年度?)?$")


def folder_year(name: str) -> int | None:
    """The evaluation year a folder stands for: `2024`, `2024年`, `2024年度`; None otherwise."""
    match = _YEAR_FOLDER.match(squash(name))
    return int(match.group(1)) if match and 2000 <= int(match.group(1)) <= 2100 else None


def display_path(relative: str) -> str:
    """A path as people read it, whatever encoding its name was written in.

    A zip or a USB stick from Chinese Windows can leave file names in GBK bytes, which
    Python keeps as undecodable surrogates; they are read as GB18030 here, so the name
    can be shown, stored and hashed (the file itself is still opened by its real path).
    """
    try:
        relative.encode("utf-8")
        return relative
    except UnicodeEncodeError:
        raw = os.fsencode(relative)
    for encoding in ("utf-8", "gb18030"):
        try:
            return raw.decode(encoding)
        except UnicodeDecodeError:
            continue
    return raw.decode("utf-8", "replace")


def _found(path: Path, raw: Path, year: int | None) -> FoundFile:
    return FoundFile(
        path=path,
        relative=display_path(path.relative_to(raw).as_posix()),
        folder_year=year,
        kind=file_kind(path),
        is_lock_file=is_lock_file(path),
        sha256=sha256_of(path),
        mtime_ns=path.stat().st_mtime_ns,
    )


def discover(raw: Path) -> list[FoundFile]:
    """Every file under RAW/<year>/ (sub-folders included), in a stable order.

    Workbooks and reports elsewhere (directly under RAW, or in a folder that names no year)
    are found too, with no folder year, so that the run reports them instead of passing
    them by.
    """
    found = []
    for entry in sorted(raw.iterdir()):
        if entry.is_dir():
            year = folder_year(entry.name)
            for path in sorted(p for p in entry.rglob("*") if p.is_file()):
                if year is not None or (file_kind(path) != "other" and not is_lock_file(path)):
                    found.append(_found(path, raw, year))
        elif entry.is_file() and file_kind(entry) != "other" and not is_lock_file(entry):
            found.append(_found(entry, raw, None))
    return found
