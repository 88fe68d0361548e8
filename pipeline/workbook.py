"""Reading a workbook from disk into a grid of strings with their cell addresses (IO edge).

calamine (python-calamine) reads .xlsx, .xlsm and .xls alike. Cells come back as
strings exactly as written where they are text, and as the shortest exact decimal where
Excel stored a number, so no value is guessed or rounded here. The grid starts at A1
(leading empty rows and columns are kept) so every address is the one Excel shows.
"""

from __future__ import annotations

import datetime as dt
import functools
from dataclasses import dataclass
from pathlib import Path

from python_calamine import CalamineWorkbook

WORKBOOK_SUFFIXES = {".xlsx", ".xlsm", ".xls"}


class WorkbookReadError(Exception):
    """The file is not a workbook calamine can open."""


def column_letter(col: int) -> str:
    """0 → A, 25 → Z, 26 → AA."""
    letters = ""
    col += 1
    while col:
        col, rem = divmod(col - 1, 26)
        letters = chr(65 + rem) + letters
    return letters


@functools.lru_cache(maxsize=1 << 14)  # every form has its amounts in the same few cells
def cell_address(row: int, col: int) -> str:
    """Zero-based (row, col) → Excel address such as C14."""
    return f"{column_letter(col)}{row + 1}"


@functools.lru_cache(maxsize=1 << 14)
def sheet_ref(sheet: str, row: int, col: int) -> str:
    """数据表, 13, 2 → 数据表!C14 (one shared string per cell across a batch)."""
    return f"{sheet}!{cell_address(row, col)}"


@dataclass(frozen=True)
class Sheet:
    name: str                          # as written in the file
    rows: tuple[tuple[str | None, ...], ...]  # from A1; None for an empty cell

    def get(self, row: int, col: int) -> str | None:
        if row < len(self.rows) and col < len(self.rows[row]):
            return self.rows[row][col]
        return None

    def ref(self, row: int, col: int, sheet_label: str | None = None) -> str:
        return sheet_ref(sheet_label or self.name, row, col)


def cell_text(value: object) -> str | None:
    """One calamine value as text: numbers without float noise, dates in ISO form."""
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, float):
        if value.is_integer() and abs(value) < 1e15:
            return str(int(value))
        return repr(value)
    if isinstance(value, int):
        return str(value)
    if isinstance(value, dt.datetime):
        return value.date().isoformat() if value.time() == dt.time() else value.isoformat(sep=" ")
    if isinstance(value, (dt.date, dt.time)):
        return value.isoformat()
    if isinstance(value, dt.timedelta):
        return str(value)
    return str(value)


def _fill_merged(grid: list[list[str | None]], merged) -> None:
    """Give every cell of a merged range the value of its top-left cell."""
    for (r0, c0), (r1, c1) in merged or ():
        if r0 >= len(grid) or c0 >= len(grid[r0]):
            continue
        value = grid[r0][c0]
        for r in range(r0, min(r1, len(grid) - 1) + 1):
            for c in range(c0, min(c1, len(grid[r]) - 1) + 1):
                if grid[r][c] is None:
                    grid[r][c] = value


def read_workbook(path: Path) -> dict[str, Sheet]:
    """Every visible sheet of the workbook, by its name as written."""
    try:
        book = CalamineWorkbook.from_path(str(path))
        sheets: dict[str, Sheet] = {}
        for name in book.sheet_names:
            raw = book.get_sheet_by_name(name)
            grid = [[cell_text(v) for v in row] for row in raw.to_python(skip_empty_area=False)]
            try:
                merged = raw.merged_cell_ranges
            except Exception:  # .xls and some writers carry no merge table
                merged = None
            _fill_merged(grid, merged)
            sheets[name] = Sheet(name, tuple(tuple(r) for r in grid))
        return sheets
    except WorkbookReadError:
        raise
    except Exception as exc:  # calamine raises its own error types per format
        raise WorkbookReadError(f"无法作为Excel工作簿打开（{type(exc).__name__}: {exc}）") from exc
