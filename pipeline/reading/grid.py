"""Reading a workbook from disk into a grid of strings with their cell addresses (IO edge).

calamine (python-calamine) reads .xlsx, .xlsm and .xls alike. Cells come back as
strings exactly as written where they are text, and as the shortest exact decimal where
Excel stored a number, so no value is guessed or rounded here. The grid starts at A1
(leading empty rows and columns are kept) so every address is the one Excel shows.

Before calamine sees a file it is checked against the limits of pipeline/settings.py
(size, zip entries, unpacked size, sheet extent) and for Office encryption, so a zip
bomb or a pasted ledger is refused in milliseconds with a message the unit can act on.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import functools
import html
import io
import os
import posixpath
import re
import struct
import zipfile
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from xml.etree import ElementTree

from python_calamine import CalamineWorkbook

from pipeline.checking.findings import clip

from pipeline.settings import (
    MAX_CELL_CHARS,
    MAX_SHEET_COLUMNS,
    MAX_SHEET_ROWS,
    MAX_UNPACKED_BYTES,
    MAX_WORKBOOK_BYTES,
    MAX_ZIP_ENTRIES,
)

# .et is WPS's own format; calamine reads the ones saved in its compound-file form, and
# the binary (.xlsb) and LibreOffice (.ods) workbooks too.
WORKBOOK_SUFFIXES = {".xlsx", ".xlsm", ".xls", ".et", ".xlsb", ".ods"}


class WorkbookReadError(Exception):
    """The file is not a workbook that may be read: broken, encrypted, or beyond the limits.

    The message says what is wrong with the file, in Chinese; ``rule`` names the kind of problem
    (file.unreadable, file.encrypted, file.too_large), whose registry entry says what to do.
    """

    def __init__(self, message: str, rule: str = "file.unreadable"):
        super().__init__(message)
        self.rule = rule

    def __reduce__(self):  # keep the rule through worker processes and the parse cache
        return (type(self), (str(self), self.rule))


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
    hidden_rows: frozenset[int] = frozenset()   # zero-based; known for .xlsx and .xls
    hidden_cols: frozenset[int] = frozenset()
    visible: bool = True               # the sheet itself (a hidden or very hidden sheet: False)
    merged: tuple[tuple[int, int, int, int], ...] = ()  # (first row, first col, last row, last col)

    def merged_range(self, row: int, col: int) -> str | None:
        """The range (e.g. C17:C18) a cell is covered by when it is not the range's top-left cell."""
        for r0, c0, r1, c1 in self.merged:
            if r0 <= row <= r1 and c0 <= col <= c1 and (row, col) != (r0, c0):
                return f"{cell_address(r0, c0)}:{cell_address(r1, c1)}"
        return None

    def get(self, row: int, col: int) -> str | None:
        try:
            return self.rows[row][col]
        except IndexError:  # beyond the sheet's last row or the row's last cell: empty
            return None

    def ref(self, row: int, col: int, sheet_label: str | None = None) -> str:
        return sheet_ref(sheet_label or self.name, row, col)


def cell_text(value: object) -> str | None:
    """One calamine value as text: numbers without float noise, dates in ISO form."""
    kind = type(value)
    if kind is str:  # most cells: checked first, and by exact type
        return (value if len(value) <= MAX_CELL_CHARS else clip(value, MAX_CELL_CHARS)) if value else None
    if kind is float:
        return str(int(value)) if value.is_integer() and abs(value) < 1e15 else repr(value)
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
    return clip(str(value), MAX_CELL_CHARS)


# ---------------------------------------------------------------- before calamine opens a file
#
# Submissions arrive by email and USB stick; a file is checked for what it claims to be
# before calamine allocates anything for it: its size, an Office encryption container,
# a zip's declared and actual unpacked size, the extent of every sheet, and formulas
# whose value is missing or comes from another file.

_CFB_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_CFB_END = 0xFFFFFFFA  # sector numbers from here up are markers, not sectors
# Excel, WPS and LibreOffice put a password-protected .xlsx into a compound file with these
# two streams instead of a zip.
_ENCRYPTED_STREAMS = frozenset({"EncryptionInfo", "EncryptedPackage"})
ENCRYPTED_MESSAGE = "已加密"

# The mark a cell gets instead of a value when it holds a formula the file gives no
# trustworthy result for; parse then names the cell and shows the formula.
FORMULA_WITHOUT_VALUE = "公式没有计算结果"
FORMULA_EXTERNAL = "公式引用外部文件"
FORMULA_ERROR_MARK = "公式出错"  # normalise.FORMULA_ERROR reads it back
_SHOWN_FORMULA_CHARS = 120

_CELL = re.compile(rb"<(?:\w+:)?c\b([^>]*?)(?:/>|>(.*?)</(?:\w+:)?c>)", re.S)
_CELL_COLUMN = re.compile(rb"<(?:\w+:)?c\b[^>]*?\sr=\"([A-Z]{1,3})\d")
_ROW = re.compile(rb"<(?:\w+:)?row\b([^>]*)>")
_ROW_NUMBER = re.compile(rb"\sr=\"(\d{1,9})\"")
_REF = re.compile(rb"\sr=\"([A-Z]{1,3})(\d{1,9})\"")
_TYPE = re.compile(rb"\st=\"([^\"]*)\"")
_FORMULA = re.compile(rb"<(?:\w+:)?f\b[^>]*?(?:/>|>(.*?)</(?:\w+:)?f>)", re.S)
_VALUE = re.compile(rb"<(?:\w+:)?v\b[^>]*?(?:/>|>(.*?)</(?:\w+:)?v>)", re.S)
_HIDDEN = re.compile(rb"\shidden=\"(?:1|true)\"")
_COL = re.compile(rb"<(?:\w+:)?col\b([^>]*)/?>")
_COL_SPAN = re.compile(rb"\smin=\"(\d{1,5})\"[^>]*?\smax=\"(\d{1,5})\"|\smax=\"(\d{1,5})\"[^>]*?\smin=\"(\d{1,5})\"")
_HAS_VALUE = re.compile(rb"<(?:\w+:)?(?:v|is|f)\b")
# A quick screen, one pass in C: an r="…" whose column has as many letters as the last allowed
# column (IV for 256) or whose row has as many digits as the row limit (5 000) might pass the
# limits; only then are rows and columns counted precisely. Fewer letters or digits cannot.
_BEYOND_LIMITS = re.compile(rb'r="(?:[A-Z]{%d,}|[A-Z]*0*[1-9]\d{%d,})' % (
    len(column_letter(MAX_SHEET_COLUMNS - 1)), len(str(MAX_SHEET_ROWS)) - 1))
_EXTERNAL_REF = re.compile(r"\[(\d+)\]|\[[^\]]*\.xl[a-z]*\]", re.I)
_EXTERNAL_LINK_RELS = re.compile(r"^xl/externalLinks/_rels/externalLink(\d+)\.xml\.rels$")

_NS_MAIN = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
_NS_REL = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}"
_NS_PKG_REL = "{http://schemas.openxmlformats.org/package/2006/relationships}"


def _megabytes(size: int) -> str:
    return f"{size / 2**20:,.1f} MB"


def _too_large(message: str) -> WorkbookReadError:
    return WorkbookReadError(message, rule="file.too_large")


def cfb_stream_names(data: bytes) -> set[str]:
    """The names in a compound file's directory (.xls, encrypted .xlsx); empty if not one."""
    if len(data) < 512 or not data.startswith(_CFB_MAGIC):
        return set()
    shift = struct.unpack_from("<H", data, 30)[0]
    if shift not in (9, 12):
        return set()
    size = 1 << shift

    def sector(number: int) -> bytes:
        start = (number + 1) * size
        return data[start:start + size] if start + size <= len(data) else b""

    first_directory, = struct.unpack_from("<I", data, 48)
    next_difat, difat_count = struct.unpack_from("<II", data, 68)
    fat_sectors = [n for n in struct.unpack_from("<109I", data, 76) if n < _CFB_END]
    seen: set[int] = set()
    while next_difat < _CFB_END and next_difat not in seen and len(seen) <= difat_count:
        seen.add(next_difat)
        block = sector(next_difat)
        if not block:
            break
        numbers = struct.unpack(f"<{size // 4}I", block)
        fat_sectors += [n for n in numbers[:-1] if n < _CFB_END]
        next_difat = numbers[-1]
    fat: list[int] = []
    for number in fat_sectors:
        block = sector(number)
        if block:
            fat.extend(struct.unpack(f"<{size // 4}I", block))

    names: set[str] = set()
    number, visited = first_directory, set()
    while number < _CFB_END and number not in visited:
        visited.add(number)
        block = sector(number)
        for offset in range(0, len(block) - 127, 128):
            length, = struct.unpack_from("<H", block, offset + 64)
            if 2 <= length <= 64:
                names.add(block[offset:offset + length - 2].decode("utf-16-le", "replace"))
        number = fat[number] if number < len(fat) else _CFB_END
    return names


def _xml(data: bytes | None) -> ElementTree.Element | None:
    try:
        return ElementTree.fromstring(data) if data else None
    except ElementTree.ParseError:
        return None


def _targets(rels: bytes | None, base: str) -> dict[str, str]:
    """Relationship id → target part (or external address) of one .rels part."""
    return dict(_target_pairs(rels, base))


# Workbooks made from one template carry the same workbook.xml and relations byte for byte:
# each distinct part is parsed once per process (a few hundred bytes kept per entry).
@functools.lru_cache(maxsize=256)
def _target_pairs(rels: bytes | None, base: str) -> tuple[tuple[str, str], ...]:
    root = _xml(rels)
    targets: dict[str, str] = {}
    for rel in root.iter(f"{_NS_PKG_REL}Relationship") if root is not None else ():
        target = rel.get("Target") or ""
        if rel.get("TargetMode") != "External":
            target = target.lstrip("/") if target.startswith("/") else posixpath.normpath(
                posixpath.join(base, target))
        targets[rel.get("Id") or ""] = target
    return tuple(targets.items())


@functools.lru_cache(maxsize=256)
def _workbook_facts(data: bytes | None) -> tuple[tuple[tuple[str, str], ...], bool] | None:
    """(sheet name, relationship id) of every sheet in workbook.xml, and whether the file asks to be
    recalculated when opened; None when workbook.xml is not XML."""
    workbook = _xml(data)
    if workbook is None:
        return None
    calc = workbook.find(f"{_NS_MAIN}calcPr")
    recalculate_on_open = calc is not None and calc.get("fullCalcOnLoad") in ("1", "true")
    sheets = tuple((sheet.get("name") or "", sheet.get(f"{_NS_REL}id") or "")
                   for sheet in workbook.iter(f"{_NS_MAIN}sheet"))
    return sheets, recalculate_on_open


def _inflates_too_much(part: str) -> WorkbookReadError:
    return _too_large(f"解压后超过{_megabytes(MAX_UNPACKED_BYTES)}（压缩包内“{clip(part, 80)}”），疑似压缩炸弹，已拒绝打开")


def _inflate(archive: zipfile.ZipFile, entry: zipfile.ZipInfo, budget: int) -> bytes:
    """An entry's bytes, read in blocks so that no more than budget bytes are ever inflated
    (a header may understate what its data inflates to)."""
    blocks, total = [], 0
    with archive.open(entry) as handle:
        while block := handle.read(1 << 20):
            total += len(block)
            if total > budget:
                raise _inflates_too_much(entry.filename)
            blocks.append(block)
    return b"".join(blocks)


class _Entry:
    """One member of a zip as its central directory describes it (what zipfile.ZipInfo says, and
    no more: read straight from the bytes, it costs a few microseconds where ZipInfo costs tens)."""

    __slots__ = ("filename", "file_size", "compress_size", "method", "crc", "header_offset")

    def __init__(self, filename, file_size, compress_size, method, crc, header_offset):
        self.filename, self.file_size, self.compress_size = filename, file_size, compress_size
        self.method, self.crc, self.header_offset = method, crc, header_offset


_END = struct.Struct("<4s4H2LH")          # end of central directory record
_CENTRAL = struct.Struct("<4s4B4HL2L5H2L")  # central directory file header
_LOCAL = struct.Struct("<4s2B4HL2L2H")     # local file header
_PLAIN_METHODS = (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED)
# No deflate stream inflates to more than 1 032 times its own size (a 258-byte match in 2 bits).
_DEFLATE_UTMOST_RATIO = 1032


def _central_directory(data: bytes) -> list[_Entry] | None:
    """The entries of a plain zip (one disk, no zip64, no encryption, stored or deflated parts);
    None for anything else, which zipfile then reads the slow, thorough way."""
    at = data.rfind(b"PK\x05\x06", max(0, len(data) - _END.size - 0xFFFF))
    if at < 0 or at + _END.size > len(data):
        return None
    _, disk, cd_disk, _, count, cd_size, cd_offset, _ = _END.unpack_from(data, at)
    if disk or cd_disk or count == 0xFFFF or cd_offset + cd_size != at:
        return None  # several disks, zip64, or bytes before the zip: zipfile knows these
    entries, offset = [], cd_offset
    for _ in range(count):
        if offset + _CENTRAL.size > at:
            return None
        (signature, _, _, _, _, flags, method, _, _, crc, compress_size, file_size,
         name_length, extra_length, comment_length, _, _, _, header_offset) = _CENTRAL.unpack_from(data, offset)
        if signature != b"PK\x01\x02" or flags & 0x1 or method not in _PLAIN_METHODS \
                or 0xFFFFFFFF in (compress_size, file_size, header_offset):
            return None
        raw_name = data[offset + _CENTRAL.size:offset + _CENTRAL.size + name_length]
        # ASCII reads the same in both; its codec is in C where cp437's is Python
        name = raw_name.decode("ascii" if raw_name.isascii() else "utf-8" if flags & 0x800 else "cp437")
        entries.append(_Entry(name, file_size, compress_size, method, crc, header_offset))
        offset += _CENTRAL.size + name_length + extra_length + comment_length
    return entries if offset == at else None


def _inflate_bytes(data: bytes, entry: _Entry, budget: int) -> bytes:
    """An entry's bytes out of the whole file's, never inflating more than budget bytes;
    the CRC is checked as zipfile checks it."""
    start = entry.header_offset
    if start + _LOCAL.size > len(data) or data[start:start + 4] != b"PK\x03\x04":
        raise zipfile.BadZipFile(f"bad local header: {entry.filename}")
    name_length, extra_length = struct.unpack_from("<2H", data, start + 26)
    start += _LOCAL.size + name_length + extra_length
    packed = data[start:start + entry.compress_size]
    if len(packed) != entry.compress_size:
        raise EOFError(entry.filename)
    if entry.filename in _TEMPLATE_PARTS and entry.method == zipfile.ZIP_DEFLATED \
            and entry.compress_size * _DEFLATE_UTMOST_RATIO <= _TEMPLATE_PART_BYTES <= budget:
        return _inflate_template_part(packed, entry.crc, entry.filename)
    return _inflate_checked(packed, entry.method, entry.crc, entry.filename, budget)


def _inflate_checked(packed: bytes, method: int, crc: int, name: str, budget: int) -> bytes:
    """A stored or deflated part's content, never inflating more than budget bytes; the CRC
    is checked as zipfile checks it."""
    if method == zipfile.ZIP_STORED:
        content = packed
    else:
        inflater = zlib.decompressobj(-zlib.MAX_WBITS)
        try:
            content = inflater.decompress(packed, budget + 1)
        except zlib.error as exc:
            raise zipfile.BadZipFile(str(exc)) from exc
        if len(content) <= budget and not inflater.eof:
            raise EOFError(name)
    if len(content) > budget:
        raise _inflates_too_much(name)
    if zlib.crc32(content) != crc:
        raise zipfile.BadZipFile(f"bad CRC-32 for {name}")
    return content


# Workbooks made from one template carry workbook.xml and its relations byte for byte the same,
# packed the same: each is inflated and its CRC checked once per process (a few kilobytes kept
# per entry). Only one whose utmost inflated size fits in what is left of the budget, so that
# inflating it within _TEMPLATE_PART_BYTES ends as inflating it within the budget would.
_TEMPLATE_PARTS = frozenset({"xl/workbook.xml", "xl/_rels/workbook.xml.rels"})
_TEMPLATE_PART_BYTES = 1 << 20


@functools.lru_cache(maxsize=64)
def _inflate_template_part(packed: bytes, crc: int, name: str) -> bytes:
    """_inflate_checked of a deflated template part, once per content (an error is not kept)."""
    return _inflate_checked(packed, zipfile.ZIP_DEFLATED, crc, name, _TEMPLATE_PART_BYTES)


def _utmost_size(entry) -> int | None:
    """The most an entry (_Entry or zipfile.ZipInfo) can inflate to, whatever its header says;
    None for a compression other than stored or deflated (bzip2 and LZMA have no such bound)."""
    method = entry.method if isinstance(entry, _Entry) else entry.compress_type
    if method == zipfile.ZIP_STORED:
        return entry.compress_size
    if method == zipfile.ZIP_DEFLATED:
        return entry.compress_size * _DEFLATE_UTMOST_RATIO
    return None


def _column_number(letters: bytes) -> int:
    number = 0
    for letter in letters:
        number = number * 26 + letter - 64
    return number


def _check_extent(sheet: str, xml: bytes) -> None:
    """Refuse a sheet whose cells with values reach beyond the row or column limit.

    Cells that are only formatted (a fill dragged to column JZ, borders down to row 60 000)
    hold nothing and do not count; the precise count runs only when the quick one, which
    counts every cell, is over the limit.
    """
    # "row" cannot occur more than len // 3 times: a sheet too short to pass the limit is not counted
    if (len(xml) // 3 <= MAX_SHEET_ROWS or xml.count(b"row") <= MAX_SHEET_ROWS) and not _BEYOND_LIMITS.search(xml):
        return  # no row or column number beyond the limits, and too few rows to pass them
    rows = _ROW.findall(xml)
    last_row = max((int(m.group(1)) for attrs in rows if (m := _ROW_NUMBER.search(attrs))), default=0)
    height = max(last_row, len(rows))
    columns = set(_CELL_COLUMN.findall(xml))
    width = max((_column_number(c) for c in columns), default=0)
    if height <= MAX_SHEET_ROWS and width <= MAX_SHEET_COLUMNS:
        return
    if height > MAX_SHEET_ROWS:
        height = _last_valued_row(xml)
    if width > MAX_SHEET_COLUMNS:
        width = 0
        for cell in _CELL.finditer(xml):
            if cell.group(2) and _HAS_VALUE.search(cell.group(2)) and (ref := _REF.search(cell.group(1))):
                width = max(width, _column_number(ref.group(1)))
    if height > MAX_SHEET_ROWS:
        raise _too_large(f"工作表“{clip(sheet, 40)}”有{height:,}行，超过上限{MAX_SHEET_ROWS:,}行")
    if width > MAX_SHEET_COLUMNS:
        raise _too_large(f"工作表“{clip(sheet, 40)}”用到第{width:,}列，超过上限{MAX_SHEET_COLUMNS}列")


def _last_valued_row(xml: bytes) -> int:
    """The number of the last row holding a value: rows come in order, so it is the row of
    the last value in the XML, found from the end without scanning the sheet."""
    last = max(xml.rfind(tag) for tag in (b"<v>", b"<v ", b"<is>", b"<f>", b"<f ", b":v>", b":is>", b":f>", b":f "))
    if last < 0:
        return 0
    start = max(xml.rfind(b"<row", 0, last), xml.rfind(b":row", 0, last))
    number = _ROW_NUMBER.search(xml, start, start + 400) if start >= 0 else None
    if number:
        return int(number.group(1))
    return max((int(m.group(1)) for attrs in _ROW.findall(xml) if (m := _ROW_NUMBER.search(attrs))), default=0)


def _hidden_lines(xml: bytes) -> tuple[frozenset[int], frozenset[int]]:
    """Zero-based hidden rows and hidden columns of one sheet's XML."""
    if b"hidden=" not in xml:
        return frozenset(), frozenset()
    rows = frozenset(int(m.group(1)) - 1 for attrs in _ROW.findall(xml)
                     if _HIDDEN.search(attrs) and (m := _ROW_NUMBER.search(attrs)))
    cols: set[int] = set()
    head = xml[:xml.find(b"sheetData")] if b"sheetData" in xml else xml
    for attrs in _COL.findall(head):
        span = _COL_SPAN.search(attrs)
        if _HIDDEN.search(attrs) and span:
            low, high = (span.group(1), span.group(2)) if span.group(1) else (span.group(4), span.group(3))
            cols.update(range(int(low) - 1, min(int(high), MAX_SHEET_COLUMNS)))
    return rows, frozenset(cols)


def _error_marks(xml: bytes, marks: dict[tuple[int, int], str]) -> None:
    """Mark every cell whose cached value is an Excel error (#DIV/0! …): calamine reads it empty."""
    if b't="e"' not in xml:
        return
    for cell in _CELL.finditer(xml):
        attrs = cell.group(1)
        if b't="e"' not in attrs or (ref := _REF.search(attrs)) is None:
            continue
        value_match = _VALUE.search(cell.group(2) or b"")
        value = html.unescape(((value_match.group(1) or b"") if value_match else b"").decode("utf-8", "replace"))
        where = (int(ref.group(2)) - 1, _column_number(ref.group(1)) - 1)
        marks[where] = f"〔{FORMULA_ERROR_MARK}：{value.strip() or '#VALUE!'}〕"


def _names_formula(xml: bytes) -> bool:
    """Whether the XML holds <f or :f (a formula element, or a rarely false alarm): the answer of
    the two substring tests, found from the few f bytes a sheet has when it has few (a search
    for one byte runs in C at memory speed, one for <f stops at every tag)."""
    at, looked = xml.find(b"f", 1), 0
    while at > 0:
        if xml[at - 1] in b"<:":
            return True
        looked += 1
        if looked > 64:  # a sheet full of f (text in inline strings): the substring tests from here
            return xml.find(b"<f", at - 1) >= 0 or xml.find(b":f", at - 1) >= 0
        at = xml.find(b"f", at + 1)
    return False


def _formula_marks(xml: bytes, recalculate_on_open: bool,
                   external_files: dict[str, str]) -> dict[tuple[int, int], str]:
    """(row, col) → mark for every formula cell without a value to trust.

    A value is missing when the writer left it out (openpyxl, hand-made files), or is the
    0 that xlsxwriter writes for a formula it did not compute, which is what a workbook
    flagged fullCalcOnLoad with a cached 0 looks like. A formula that reads another
    workbook ([1]Sheet1!C16) gets no value either: that file was not submitted.
    """
    marks: dict[tuple[int, int], str] = {}
    if not _names_formula(xml):
        return marks
    for cell in _CELL.finditer(xml):
        inner = cell.group(2) or b""
        formula = _FORMULA.search(inner)
        ref = _REF.search(cell.group(1))
        if formula is None or ref is None:
            continue
        text = html.unescape((formula.group(1) or b"").decode("utf-8", "replace")).strip()
        shown = "=" + clip(text, _SHOWN_FORMULA_CHARS) if text else "（共享公式）"
        value_match = _VALUE.search(inner)
        value = (value_match.group(1) or b"").strip() if value_match else None
        kind = (m.group(1) if (m := _TYPE.search(cell.group(1))) else b"n") or b"n"
        where = (int(ref.group(2)) - 1, _column_number(ref.group(1)) - 1)
        external = _EXTERNAL_REF.search(text)
        if external:
            target = external_files.get(external.group(1) or "")
            source = f"，外部文件：{clip(target, 80)}" if target else ""
            marks[where] = f"〔{FORMULA_EXTERNAL}：{shown}{source}〕"
        elif kind in (b"n", b"b") and (not value or (recalculate_on_open and value == b"0")):
            # t="str" with an empty value is a formula whose result is the empty string
            marks[where] = f"〔{FORMULA_WITHOUT_VALUE}：{shown}〕"
    return marks


@dataclass(frozen=True)
class SheetXml:
    """What the reader learns from a sheet's XML that calamine does not say."""

    marks: dict[tuple[int, int], str]
    hidden_rows: frozenset[int] = frozenset()
    hidden_cols: frozenset[int] = frozenset()


def inspect_zip(path: Path, data: bytes | None = None) -> dict[str, SheetXml]:
    """Check a zip-based workbook before calamine reads it; the formula marks of each sheet.

    Raises WorkbookReadError for too many entries, a declared or actual unpacked size
    beyond the limit, or a sheet beyond the row or column limit. A file that is not a zip
    or not an .xlsx returns no marks: calamine then says what it is. `data` is the file's
    bytes when already read.
    """
    data = path.read_bytes() if data is None else data
    entries = _central_directory(data)
    if entries is not None:
        return _inspect_parts(entries, lambda entry, budget: _inflate_bytes(data, entry, budget), len(data))
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except (zipfile.BadZipFile, OSError, ValueError, EOFError):
        return {}
    with archive:
        return _inspect_parts(archive.infolist(), lambda entry, budget: _inflate(archive, entry, budget), len(data))


def _inspect_parts(entries: list, inflate: Callable[[object, int], bytes], size: int) -> dict[str, SheetXml]:
    """The checks of inspect_zip over a zip's entries (zipfile's or _central_directory's), each
    part read by inflate(entry, budget)."""
    if len(entries) > MAX_ZIP_ENTRIES:
        raise _too_large(f"压缩包内有{len(entries):,}个部件，超过上限{MAX_ZIP_ENTRIES:,}个，不是正常的Excel工作簿")
    declared = sum(e.file_size for e in entries)
    if declared > MAX_UNPACKED_BYTES:
        raise _too_large(f"只有{_megabytes(size)}，解压后却有{_megabytes(declared)}，"
                         f"超过上限{_megabytes(MAX_UNPACKED_BYTES)}，疑似压缩炸弹，已拒绝打开")
    by_name = {e.filename: e for e in entries}
    if "xl/workbook.xml" not in by_name:
        return {}
    # Only the parts calamine reads are inflated here, each once, from one budget.
    budget = [MAX_UNPACKED_BYTES]
    parts: dict[str, bytes] = {}

    def read(name: str) -> bytes | None:
        if name not in parts and name in by_name:
            parts[name] = inflate(by_name[name], budget[0])
            budget[0] -= len(parts[name])
        return parts.get(name)

    workbook = _workbook_facts(read("xl/workbook.xml"))
    if workbook is None:
        return {}
    sheets, recalculate_on_open = workbook
    relations = _targets(read("xl/_rels/workbook.xml.rels"), "xl")
    sheet_parts = {relations.get(rel_id, "") for _, rel_id in sheets}
    others: dict[str, object] = {}  # shared strings, styles: read by calamine, not looked into here
    for target in relations.values():
        if target.endswith(".xml") and not target.startswith("xl/theme/"):
            if target in sheet_parts or target not in by_name:
                read(target)
            else:
                others[target] = by_name[target]
    external_files = {}
    for name in by_name:
        if number := _EXTERNAL_LINK_RELS.match(name):
            links = _targets(read(name), "xl/externalLinks")
            if links:
                external_files[number.group(1)] = next(iter(links.values()))
    # The other parts are inflated only to know they stay within the budget: when even deflate's
    # utmost ratio cannot take them all past what is left of it, calamine inflates them itself
    # (checking their CRC as it does); otherwise each is inflated here as before, so a file is
    # refused exactly when its parts together inflate to more than the budget.
    utmost = [_utmost_size(entry) for entry in others.values()]
    if None in utmost or sum(utmost) > budget[0]:
        for target in others:
            read(target)
    found: dict[str, SheetXml] = {}
    for name, rel_id in sheets:
        xml = parts.get(relations.get(rel_id, ""))
        if xml is None:
            continue
        _check_extent(name, xml)
        marks = _formula_marks(xml, recalculate_on_open, external_files)
        _error_marks(xml, marks)
        found[name] = SheetXml(marks, *_hidden_lines(xml))
    return found


def inspect_xls(data: bytes) -> dict[str, SheetXml]:
    """What calamine does not say of an Excel 97-2003 (.xls) workbook: error values (it reads
    them empty) and hidden rows and columns, by sheet name. A compound file that is not an .xls
    returns nothing: calamine then says what it is."""
    import xlrd  # only for .xls files, which few units still send

    try:
        book = xlrd.open_workbook(file_contents=data, formatting_info=True, on_demand=True,
                                  logfile=io.StringIO())
    except Exception:  # xlrd raises its own error types, and struct/index errors on a broken file
        return {}
    found: dict[str, SheetXml] = {}
    try:
        for index, name in enumerate(book.sheet_names()):
            try:
                sheet = book.sheet_by_index(index)
            except Exception:
                continue
            marks = {}
            for row in range(sheet.nrows):
                for col, kind in enumerate(sheet.row_types(row)):
                    if kind == xlrd.XL_CELL_ERROR:
                        text = xlrd.error_text_from_code.get(sheet.cell_value(row, col), "#VALUE!")
                        marks[(row, col)] = f"〔{FORMULA_ERROR_MARK}：{text}〕"
            hidden_rows = frozenset(r for r, info in sheet.rowinfo_map.items() if info.hidden)
            hidden_cols = frozenset(c for c, info in sheet.colinfo_map.items() if info.hidden)
            if marks or hidden_rows or hidden_cols:
                found[name] = SheetXml(marks, hidden_rows, hidden_cols)
            book.unload_sheet(index)
    finally:
        book.release_resources()
    return found


def checked_bytes(path: Path) -> tuple[bytes, dict[str, SheetXml]]:
    """A workbook's bytes once every check that comes before calamine passed, read once for
    both; what each sheet's XML says, by sheet name."""
    try:
        with open(path, "rb") as handle:  # the size and the bytes from one open file, the path resolved once
            size = os.fstat(handle.fileno()).st_size
            if size > MAX_WORKBOOK_BYTES:
                raise _too_large(f"有{_megabytes(size)}，超过上限{_megabytes(MAX_WORKBOOK_BYTES)}"
                                 "（财政局下发的自评表约10 KB）")
            data = handle.read()
    except OSError as exc:
        raise WorkbookReadError(f"无法读取（{exc.strerror or type(exc).__name__}）") from exc
    if len(data) > MAX_WORKBOOK_BYTES:  # grown since stat
        raise _too_large(f"有{_megabytes(len(data))}，超过上限{_megabytes(MAX_WORKBOOK_BYTES)}"
                         "（财政局下发的自评表约10 KB）")
    if data.startswith(_CFB_MAGIC):
        if cfb_stream_names(data) & _ENCRYPTED_STREAMS:
            raise WorkbookReadError(ENCRYPTED_MESSAGE, rule="file.encrypted")
        return data, inspect_xls(data)
    if data.startswith(b"PK"):
        try:
            return data, inspect_zip(path, data)
        except (zipfile.BadZipFile, zipfile.LargeZipFile, EOFError, NotImplementedError) as exc:
            raise WorkbookReadError("已损坏（压缩包内容不完整），无法作为Excel工作簿打开") from exc
    return data, {}


def check_file(path: Path) -> dict[str, SheetXml]:
    """Every check that comes before calamine; what each sheet's XML says, by sheet name."""
    return checked_bytes(path)[1]


def _blank_merged(grid: list[list[str | None]], merged) -> None:
    """Empty every cell of a merged range but its top-left one, as Excel shows it: a value
    the file still holds under the merge is not what the unit sees."""
    for (r0, c0), (r1, c1) in merged or ():
        for r in range(r0, min(r1, len(grid) - 1) + 1):
            row = grid[r]
            first, last = (c0 + 1 if r == r0 else c0), min(c1, len(row) - 1)
            if first <= last:
                row[first:last + 1] = [None] * (last + 1 - first)


def _mark_formulas(grid: list[list[str | None]], marks: dict[tuple[int, int], str]) -> None:
    if not marks:
        return
    width = max((len(row) for row in grid), default=0)
    for (row, col), mark in marks.items():
        while len(grid) <= row:
            grid.append([None] * width)
        if len(grid[row]) <= col:
            grid[row].extend([None] * (col + 1 - len(grid[row])))
        grid[row][col] = mark


def read_workbook(path: Path) -> dict[str, Sheet]:
    """Every sheet of the workbook, by its name as written, once the file passed its checks."""
    path = Path(path)
    data, xml_facts = checked_bytes(path)
    try:
        # The format is told by the content, not the extension: an .xlsx renamed .xls is read.
        book = CalamineWorkbook.from_filelike(io.BytesIO(data))
        visible = {m.name: str(m.visible).endswith("Visible") for m in book.sheets_metadata}
        sheets: dict[str, Sheet] = {}
        for name in book.sheet_names:
            raw = book.get_sheet_by_name(name)
            end = raw.end or (0, 0)
            if end[0] + 1 > MAX_SHEET_ROWS or end[1] + 1 > MAX_SHEET_COLUMNS:
                raise _too_large(f"工作表“{clip(name, 40)}”有{end[0] + 1:,}行、{end[1] + 1:,}列，"
                                 f"超过上限{MAX_SHEET_ROWS:,}行、{MAX_SHEET_COLUMNS}列")
            # A merged range's value is in its top-left cell only: the others are empty, as
            # Excel shows them (一级/二级指标 are carried down by staging, not here).
            # text as it is (the most cells) without a call; other values through cell_text
            # and numbers (most amounts) as cell_text writes them, inline
            grid = [[(v or None) if (kind := type(v)) is str and len(v) <= MAX_CELL_CHARS
                     else (str(int(v)) if v.is_integer() and -1e15 < v < 1e15 else repr(v)) if kind is float
                     else cell_text(v) for v in row]
                    for row in raw.to_python(skip_empty_area=False)]
            try:
                merged = raw.merged_cell_ranges
            except Exception:  # some formats and writers carry no merge table
                merged = None
            _blank_merged(grid, merged)
            facts = xml_facts.get(name, SheetXml({}))
            _mark_formulas(grid, facts.marks)
            sheets[name] = Sheet(name, tuple(map(tuple, grid)), facts.hidden_rows,
                                 facts.hidden_cols, visible.get(name, True),
                                 tuple((r0, c0, r1, c1) for (r0, c0), (r1, c1) in merged or ()))
        return sheets
    except WorkbookReadError:
        raise
    except Exception as exc:  # calamine raises its own error types per format
        text = str(exc)
        if re.search(r"password|encrypt", text, re.I):
            raise WorkbookReadError(ENCRYPTED_MESSAGE, rule="file.encrypted") from exc
        raise unreadable(path) from exc


def unreadable(path: Path) -> WorkbookReadError:
    """The read error for a file calamine cannot open, in words a finance officer can act on
    (the reader library's own message stays out of it)."""
    suffix = path.suffix.lower()
    if suffix == ".et":
        return WorkbookReadError("是WPS表格格式（.et），本系统无法直接读取", rule="file.not_supported")
    if suffix in (".ods", ".xlsb"):
        return WorkbookReadError(f"是{suffix}格式，且内容无法读取", rule="file.not_supported")
    with contextlib.suppress(OSError), path.open("rb") as handle:
        head = handle.read(8)
        if head.startswith(b"PK"):
            return WorkbookReadError("已损坏（压缩包内容不完整），无法作为Excel工作簿打开")
        if head == _CFB_MAGIC:
            return WorkbookReadError("已损坏或不是Excel工作簿（旧版.xls格式内容无法识别）")
    return WorkbookReadError("不是Excel工作簿（文件内容既不是.xlsx也不是.xls），无法打开")
