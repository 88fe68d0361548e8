"""Hostile and broken submissions: each is refused or flagged with a Chinese finding the
unit can act on, in bounded time and memory, and never takes the run down.

Every file is made here, in tmp_path: real .xlsx written by the form writer, xlsxwriter or
openpyxl, then altered the way a damaged, malicious or merely unusual file would be.
Time and peak memory are measured in a fresh process per file, so one file's cost is
not hidden by another's.
"""

from __future__ import annotations

import html
import io
import json
import re
import struct
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import duckdb
import msoffcrypto
import openpyxl
import pytest
import xlsxwriter

from pipeline import settings
from pipeline.checking.findings import clip
from pipeline.forms.writer import plan_form, render_xlsx, write_workbook
from pipeline.run import LOADED, QUARANTINED, process
from pipeline.reading.grid import (
    ENCRYPTED_MESSAGE,
    FORMULA_EXTERNAL,
    FORMULA_WITHOUT_VALUE,
    WorkbookReadError,
    read_workbook,
)
from schemas.form import SHEET_DATA, SHEET_INFO, SHEET_SCORES
from tests.builders import REFERENCE_DATA, REFERENCE_UNIT, reference_form, unit_form
from tests.conftest import run_pipeline

ROOT = Path(__file__).resolve().parent.parent
# Generous for a slow CI machine: the checks take milliseconds, calamine on a form a few tens.
SECONDS_PER_FILE = 5.0
PEAK_MEMORY_MB = 250
GIB = 2**30


# ---------------------------------------------------------------- making the files

def rewrite_zip(path: Path, replace: dict[str, bytes] | None = None, add: dict[str, bytes] | None = None,
                drop: set[str] = frozenset()) -> None:
    """Rewrite an .xlsx with some parts replaced, added or dropped (everything else as it was)."""
    replace, add = replace or {}, add or {}
    with zipfile.ZipFile(path) as source:
        parts = [(info, source.read(info)) for info in source.infolist()]
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as target:
        for info, data in parts:
            if info.filename not in drop:
                target.writestr(info.filename, replace.get(info.filename, data))
        for name, data in add.items():
            target.writestr(name, data)


def sheet_part(path: Path, sheet: str) -> str:
    """The zip part that holds a sheet, found through workbook.xml and its relationships."""
    with zipfile.ZipFile(path) as archive:
        workbook = archive.read("xl/workbook.xml").decode()
        rels = archive.read("xl/_rels/workbook.xml.rels").decode()
    escaped = re.escape(html.escape(sheet, quote=True))
    rid = re.search(rf'<sheet name="{escaped}" sheetId="\d+" r:id="(rId\d+)"', workbook)
    target = re.search(rf'Id="{rid.group(1)}"[^>]*Target="([^"]+)"|Target="([^"]+)"[^>]*Id="{rid.group(1)}"', rels)
    return "xl/" + (target.group(1) or target.group(2)).lstrip("/").removeprefix("xl/")


def reference_workbook(path: Path, **overrides) -> Path:
    write_workbook(path, **reference_form(**overrides))
    return path


def workbook_with(path: Path, edit, form: dict | None = None) -> Path:
    """The reference workbook through xlsxwriter, with edit(worksheets, layout) applied before closing."""
    plan = plan_form(**(form or reference_form()))
    path.parent.mkdir(parents=True, exist_ok=True)
    book = xlsxwriter.Workbook(str(path))
    worksheets = render_xlsx(book, plan)
    edit(worksheets, plan.layout)
    book.close()
    return path


def amount_cell(layout, line: int) -> tuple[int, int]:
    """Zero-based (row, col) of a 数据表 line's amount, as xlsxwriter addresses it."""
    ref = layout.data_cells[line]
    return ref.row - 1, ref.col


def amount_ref(layout, line: int) -> str:
    from pipeline.reading.grid import cell_address
    row, col = amount_cell(layout, line)
    return f"{SHEET_DATA}!{cell_address(row, col)}"


def zip_bomb(path: Path, inflated: int = GIB) -> Path:
    """A real form whose 数据表 part is replaced by `inflated` bytes of spaces: a few MB on disk."""
    reference_workbook(path)
    part = sheet_part(path, SHEET_DATA)
    with zipfile.ZipFile(path) as source:
        parts = [(info.filename, source.read(info)) for info in source.infolist()]
    block = b" " * (16 * 2**20)
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as target:
        for name, data in parts:
            if name != part:
                target.writestr(name, data)
        with target.open(part, "w", force_zip64=True) as handle:
            handle.write(b'<?xml version="1.0" encoding="UTF-8"?><worksheet '
                         b'xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>')
            for _ in range(inflated // len(block)):
                handle.write(block)
            handle.write(b"</sheetData></worksheet>")
    return path


def many_parts(path: Path, count: int) -> Path:
    reference_workbook(path)
    rewrite_zip(path, add={f"xl/media/pad{i}.bin": b"" for i in range(count)})
    return path


def encrypted(path: Path, password: str = "2024") -> Path:
    """The reference workbook encrypted the way Excel's 用密码进行加密 does (ECMA-376 agile)."""
    plain_path = path.with_name(path.stem + "-plain.xlsx")
    write_workbook(plain_path, **reference_form())
    plain = io.BytesIO(plain_path.read_bytes())
    plain_path.unlink()
    office = msoffcrypto.OfficeFile(plain)
    with path.open("wb") as out:
        office.encrypt(password, out)
    return path


def openpyxl_formula(path: Path, line: int, formula: str) -> Path:
    """The reference workbook re-saved by openpyxl with a formula in a 数据表 amount:
    openpyxl stores formulas without any computed value."""
    layout = write_workbook(path, **reference_form())
    book = openpyxl.load_workbook(path)
    ref = layout.data_cells[line]
    book[SHEET_DATA].cell(row=ref.row, column=ref.col + 1).value = formula
    book.save(path)
    return path


def external_link(path: Path, target: str = "file:///D:/财务/2024年决算报表.xlsx") -> Path:
    """An amount that reads another workbook ([1]…), with the cached value Excel keeps and the
    externalLink parts Excel writes."""
    def edit(worksheets, layout):
        row, col = amount_cell(layout, 13)
        worksheets[SHEET_DATA].write_formula(row, col, "=[1]决算!$C$16", None, REFERENCE_DATA[13])
    workbook_with(path, edit)
    with zipfile.ZipFile(path) as archive:
        types = archive.read("[Content_Types].xml").decode()
        rels = archive.read("xl/_rels/workbook.xml.rels").decode()
        book = archive.read("xl/workbook.xml").decode()
    types = types.replace("</Types>", '<Override PartName="/xl/externalLinks/externalLink1.xml" ContentType='
                          '"application/vnd.openxmlformats-officedocument.spreadsheetml.externalLink+xml"/></Types>')
    rels = rels.replace("</Relationships>", '<Relationship Id="rId99" Type="http://schemas.openxmlformats.org/'
                        'officeDocument/2006/relationships/externalLink" Target="externalLinks/externalLink1.xml"/>'
                        "</Relationships>")
    book = book.replace("<calcPr", '<externalReferences><externalReference r:id="rId99"/></externalReferences><calcPr')
    link = ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?><externalLink xmlns="http://schemas.'
            'openxmlformats.org/spreadsheetml/2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/'
            '2006/relationships"><externalBook r:id="rId1"><sheetNames><sheetName val="决算"/></sheetNames>'
            '</externalBook></externalLink>')
    link_rels = ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?><Relationships xmlns="http://schemas.'
                 'openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.'
                 'openxmlformats.org/officeDocument/2006/relationships/externalLinkPath" '
                 f'Target="{html.escape(target)}" TargetMode="External"/></Relationships>')
    rewrite_zip(path, replace={"[Content_Types].xml": types.encode(), "xl/_rels/workbook.xml.rels": rels.encode(),
                               "xl/workbook.xml": book.encode()},
                add={"xl/externalLinks/externalLink1.xml": link.encode(),
                     "xl/externalLinks/_rels/externalLink1.xml.rels": link_rels.encode()})
    return path


def long_sheet(path: Path, rows: int = 100_000) -> Path:
    """The form with a ledger of `rows` rows pasted below the 数据表."""
    def edit(worksheets, layout):
        sheet = worksheets[SHEET_DATA]
        for r in range(60, 60 + rows):
            sheet.write_row(r, 0, (f"明细{r}", r, r * 1.5))
    return workbook_with(path, edit)


def rename_sheets(path: Path, names: dict[str, str]) -> Path:
    """Rename sheets in workbook.xml directly, past what Excel's own dialog allows
    ([], very long names)."""
    with zipfile.ZipFile(path) as archive:
        book = archive.read("xl/workbook.xml").decode()
    for old, new in names.items():
        book = book.replace(f'name="{html.escape(old, quote=True)}"', f'name="{html.escape(new, quote=True)}"', 1)
    rewrite_zip(path, replace={"xl/workbook.xml": book.encode()}, drop={"docProps/app.xml"})
    return path


# ---------------------------------------------------------------- measuring one read

_MEASURE = """
import json, resource, sys, time
from pathlib import Path
# CPU seconds, not wall time: what reading costs, however busy the machine is
started = time.process_time()
from pipeline.reading.ingest import parse_file
from pipeline.reading.grid import WorkbookReadError
imported = time.process_time()
result = parse_file(sys.argv[1])
done = time.process_time()
if isinstance(result, WorkbookReadError):
    outcome = {"error": str(result), "rule": result.rule}
else:
    outcome = {"fatal": [f.message for f in result.findings if f.severity == "fatal"]}
try:  # VmHWM starts afresh at exec; ru_maxrss keeps the forking parent's peak
    status = Path("/proc/self/status").read_text()
    peak_kb = int(next(line.split()[1] for line in status.splitlines() if line.startswith("VmHWM:")))
except OSError:
    peak_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
outcome.update(seconds=done - imported, peak_mb=peak_kb / 1024)
print(json.dumps(outcome, ensure_ascii=False))
"""


def measured_read(path: Path) -> dict:
    """Read one file in a fresh process: outcome, CPU seconds spent reading, peak memory in MB."""
    child = subprocess.run([sys.executable, "-c", _MEASURE, str(path)], cwd=ROOT, capture_output=True,
                           text=True, timeout=120)
    assert child.returncode == 0, child.stderr[-2000:]
    outcome = json.loads(child.stdout)
    print(f"{path.name}: {outcome['seconds']:.3f} s, peak {outcome['peak_mb']:.0f} MB")
    assert outcome["seconds"] < SECONDS_PER_FILE, outcome
    assert outcome["peak_mb"] < PEAK_MEMORY_MB, outcome
    return outcome


def fatal_messages(result, relative: str) -> list[str]:
    sub = next(s for s in result.submissions if s.found.relative == relative)
    assert sub.state == QUARANTINED, (sub.state, [f.message for f in sub.findings])
    fatal = [f.message for f in sub.findings if f.severity == "fatal"]
    assert fatal
    return fatal


# ---------------------------------------------------------------- the limits themselves

def test_limits_leave_room_for_the_form_and_stop_far_below_harm(tmp_path):
    form = reference_workbook(tmp_path / "form.xlsx")
    with zipfile.ZipFile(form) as archive:
        unpacked = sum(i.file_size for i in archive.infolist())
        entries = len(archive.infolist())
    assert form.stat().st_size * 100 < settings.MAX_WORKBOOK_BYTES
    assert unpacked * 100 < settings.MAX_UNPACKED_BYTES <= 256 * 2**20
    assert entries * 10 < settings.MAX_ZIP_ENTRIES
    sheets = read_workbook(form)
    assert max(len(s.rows) for s in sheets.values()) * 50 < settings.MAX_SHEET_ROWS
    assert settings.SHOWN_VALUE_CHARS <= settings.MAX_CELL_CHARS


# ---------------------------------------------------------------- zip bombs

def test_zip_bomb_is_refused_before_it_is_inflated(tmp_path):
    bomb = zip_bomb(tmp_path / "绩效自评表.xlsx")
    with zipfile.ZipFile(bomb) as archive:
        assert sum(i.file_size for i in archive.infolist()) > GIB
    assert bomb.stat().st_size < 8 * 2**20
    outcome = measured_read(bomb)
    assert outcome["rule"] == "file.too_large"
    assert "疑似压缩炸弹" in outcome["error"] and "1,024.0 MB" in outcome["error"]
    assert outcome["seconds"] < 0.5


def test_zip_with_thousands_of_parts_is_refused(tmp_path):
    outcome = measured_read(many_parts(tmp_path / "parts.xlsx", settings.MAX_ZIP_ENTRIES + 50))
    assert outcome["rule"] == "file.too_large" and "个部件" in outcome["error"]


def test_understated_sizes_are_caught_while_inflating(tmp_path):
    """A header that declares less than its data inflates to: the reader stops at the limit."""
    from pipeline.reading.grid import _inflate  # the guard calamine never gets past
    bomb = zip_bomb(tmp_path / "bomb.xlsx", inflated=128 * 2**20)
    with zipfile.ZipFile(bomb) as archive:
        entry = next(i for i in archive.infolist() if i.file_size > 2**20)
        with pytest.raises(WorkbookReadError, match="疑似压缩炸弹"):
            _inflate(archive, entry, budget=64 * 2**20)


def test_understated_shared_strings_are_still_inflated_and_refused(tmp_path):
    """Shared strings and styles are inflated only when they could pass the budget; a part whose
    header claims 4 KB but whose data inflates to 128 MB is one of those, and is refused."""
    path = reference_workbook(tmp_path / "绩效自评表.xlsx")
    with zipfile.ZipFile(path) as source:
        parts = [(info.filename, source.read(info)) for info in source.infolist()]
    part = "xl/sharedStrings.xml"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as target:
        for name, data in parts:
            if name != part:
                target.writestr(name, data)
        with target.open(part, "w") as handle:
            handle.write(b'<?xml version="1.0" encoding="UTF-8"?><sst '
                         b'xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">')
            for _ in range(8):
                handle.write(b" " * (16 * 2**20))
            handle.write(b"</sst>")
    data = bytearray(path.read_bytes())
    with zipfile.ZipFile(io.BytesIO(bytes(data))) as archive:
        local = archive.getinfo(part).header_offset
    central = bytes(data).rindex(part.encode()) - 46
    assert data[central:central + 4] == b"PK\x01\x02" and data[local:local + 4] == b"PK\x03\x04"
    struct.pack_into("<I", data, central + 24, 4096)  # the size the header claims
    struct.pack_into("<I", data, local + 22, 4096)
    path.write_bytes(bytes(data))
    outcome = measured_read(path)
    assert outcome["rule"] == "file.too_large" and "疑似压缩炸弹" in outcome["error"], outcome


def test_formula_screen_answers_as_the_substring_tests_do(tmp_path):
    import random

    from pipeline.reading.grid import _names_formula

    sheet = zipfile.ZipFile(reference_workbook(tmp_path / "绩效自评表.xlsx")).read(
        sheet_part(tmp_path / "绩效自评表.xlsx", SHEET_DATA))
    rnd = random.Random(17)
    samples = [sheet, sheet.replace(b"</sheetData>", b'<x:c r="A99"><x:f>1+1</x:f></x:c></sheetData>'),
               b"", b"f", b"<f", b"f" * 200 + b"<f", b"af" * 100 + b":f", b"f" * 200]
    samples += [bytes(rnd.choice(b"<:ffa ") for _ in range(rnd.randint(0, 300))) for _ in range(5000)]
    for xml in samples:
        assert _names_formula(xml) == (b"<f" in xml or b":f" in xml), xml[:80]


def facts_both_ways(data: bytes) -> tuple[dict, dict]:
    """What the checks learn from a workbook's zip read straight from its bytes, and through zipfile."""
    from pipeline.reading import grid

    entries = grid._central_directory(data)
    assert entries is not None  # a plain zip: the bytes are read directly
    direct = grid._inspect_parts(entries, lambda e, budget: grid._inflate_bytes(data, e, budget), len(data))
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        through_zipfile = grid._inspect_parts(
            archive.infolist(), lambda e, budget: grid._inflate(archive, e, budget), len(data))
    return direct, through_zipfile


def test_zip_read_from_its_bytes_says_what_zipfile_says(tmp_path):
    def edit(worksheets, layout):
        data = worksheets[SHEET_DATA]
        data.write_formula(*amount_cell(layout, 13), "=C17+C18")                 # no value kept
        data.write_formula(*amount_cell(layout, 16), "=1/0", None, "#DIV/0!")     # an error value
        data.set_row(amount_cell(layout, 17)[0], None, None, {"hidden": True})
        data.set_column(5, 6, None, None, {"hidden": True})
    path = workbook_with(tmp_path / "公式.xlsx", edit)
    direct, through_zipfile = facts_both_ways(path.read_bytes())
    assert direct == through_zipfile
    facts = direct[SHEET_DATA]
    assert len(facts.marks) == 2 and facts.hidden_rows and facts.hidden_cols == {5, 6}
    linked = external_link(tmp_path / "外部.xlsx").read_bytes()
    assert facts_both_ways(linked)[0] == facts_both_ways(linked)[1]


def test_zip_with_bytes_before_it_goes_to_zipfile(tmp_path):
    from pipeline.reading import grid

    plain = reference_workbook(tmp_path / "绩效自评表.xlsx").read_bytes()
    prefixed = b"\0" * 512 + plain  # a self-extracting stub, or a download that kept a header
    assert grid._central_directory(prefixed) is None
    assert grid.inspect_zip(tmp_path / "x.xlsx", prefixed) == grid.inspect_zip(tmp_path / "x.xlsx", plain)
    assert {SHEET_INFO, SHEET_DATA, SHEET_SCORES} <= grid.inspect_zip(tmp_path / "x.xlsx", prefixed).keys()


def test_a_damaged_part_is_a_damaged_file(tmp_path):
    path = reference_workbook(tmp_path / "绩效自评表.xlsx")
    part = sheet_part(path, SHEET_DATA)
    with zipfile.ZipFile(path) as archive:
        info = archive.getinfo(part)
    data = bytearray(path.read_bytes())
    name_length, extra_length = struct.unpack_from("<2H", data, info.header_offset + 26)
    start = info.header_offset + 30 + name_length + extra_length
    data[start + info.compress_size // 2] ^= 0xFF  # a flipped byte: inflate fails or the CRC does not match
    path.write_bytes(bytes(data))
    with pytest.raises(WorkbookReadError, match="已损坏"):
        read_workbook(path)


def _with_crc(data: bytes, entry, crc: int) -> bytes:
    """The zip with one entry's CRC-32 replaced in its central and its local header."""
    changed = bytearray(data)
    struct.pack_into("<L", changed, entry.header_offset + 14, crc)
    offset = struct.unpack_from("<L", data, data.rfind(b"PK\x05\x06") + 16)[0]
    while True:  # walk the central directory to the entry's own record
        name_length, extra_length, comment_length = struct.unpack_from("<3H", data, offset + 28)
        name = data[offset + 46:offset + 46 + name_length].decode()
        if name == entry.filename:
            struct.pack_into("<L", changed, offset + 16, crc)
            return bytes(changed)
        offset += 46 + name_length + extra_length + comment_length


@pytest.mark.parametrize("part", ["xl/workbook.xml", "xl/_rels/workbook.xml.rels"])
def test_a_template_part_read_before_is_checked_again(tmp_path, part):
    """workbook.xml and its relations are inflated once per content: a later file with the same packed
    bytes under another CRC, or with them damaged, is refused as the first reading would refuse it."""
    from pipeline.reading import grid

    path = reference_workbook(tmp_path / "绩效自评表.xlsx")
    data = path.read_bytes()
    entry = next(e for e in grid._central_directory(data) if e.filename == part)
    assert grid._inflate_bytes(data, entry, budget=10**6) == zipfile.ZipFile(io.BytesIO(data)).read(part)
    assert read_workbook(path)  # the part is now known
    path.write_bytes(_with_crc(data, entry, entry.crc ^ 1))
    with pytest.raises(WorkbookReadError, match="已损坏"):
        read_workbook(path)
    damaged = bytearray(data)
    name_length, extra_length = struct.unpack_from("<2H", data, entry.header_offset + 26)
    damaged[entry.header_offset + 30 + name_length + extra_length + entry.compress_size // 2] ^= 0xFF
    path.write_bytes(bytes(damaged))
    with pytest.raises(WorkbookReadError, match="已损坏"):
        read_workbook(path)
    path.write_bytes(data)
    assert read_workbook(path)


def test_understated_size_is_caught_reading_from_the_bytes(tmp_path):
    """The direct reader inflates no more than the budget, whatever a header says."""
    from pipeline.reading import grid

    data = reference_workbook(tmp_path / "绩效自评表.xlsx").read_bytes()
    entry = next(e for e in grid._central_directory(data) if e.filename == "xl/sharedStrings.xml")
    assert grid._inflate_bytes(data, entry, budget=entry.file_size) == zipfile.ZipFile(
        io.BytesIO(data)).read("xl/sharedStrings.xml")
    with pytest.raises(WorkbookReadError, match="疑似压缩炸弹"):
        grid._inflate_bytes(data, entry, budget=entry.file_size - 1)


# ---------------------------------------------------------------- encryption

def test_encrypted_workbook_says_to_remove_the_password(tmp_path):
    locked = encrypted(tmp_path / "加密.xlsx")
    assert locked.read_bytes()[:8] == bytes.fromhex("d0cf11e0a1b11ae1")
    outcome = measured_read(locked)
    assert outcome == {**outcome, "error": ENCRYPTED_MESSAGE, "rule": "file.encrypted"}


# ---------------------------------------------------------------- formulas

def test_formula_without_value_is_named_not_read_as_zero(tmp_path):
    """xlsxwriter stores 0 for a formula it was given no value for, and flags the workbook
    for recalculation on open: that 0 is no value at all."""
    def edit(worksheets, layout):
        worksheets[SHEET_DATA].write_formula(*amount_cell(layout, 13), "=C17+C18")
    path = workbook_with(tmp_path / "xw.xlsx", edit)
    layout = plan_form(**reference_form()).layout
    cell = read_workbook(path)[SHEET_DATA].rows[amount_cell(layout, 13)[0]][amount_cell(layout, 13)[1]]
    assert cell == f"〔{FORMULA_WITHOUT_VALUE}：=C17+C18〕"
    outcome = measured_read(path)
    assert any(amount_ref(layout, 13) in m and FORMULA_WITHOUT_VALUE in m and "=C17+C18" in m
               for m in outcome["fatal"]), outcome


def test_formula_with_its_computed_value_is_read(tmp_path):
    """A formula Excel saved with its result is ordinary: the result is the amount."""
    def edit(worksheets, layout):
        worksheets[SHEET_DATA].write_formula(*amount_cell(layout, 13), "=C17+C18", None, REFERENCE_DATA[13])
    path = workbook_with(tmp_path / "computed.xlsx", edit)
    outcome = measured_read(path)
    assert outcome["fatal"] == []
    layout = plan_form(**reference_form()).layout
    row, col = amount_cell(layout, 13)
    assert read_workbook(path)[SHEET_DATA].rows[row][col] == "8374036.75"


def test_formulas_end_to_end_required_is_fatal_optional_is_an_error(county):
    openpyxl_formula(county.raw / "2024" / "必填公式.xlsx", 13, "=SUM(C17:C18)")
    # 行次21 因公出国（境）费 may be left blank, so a formula there is to correct, not to refuse.
    other = unit_form("遂溪县财政局")
    layout = plan_form(**other).layout

    def edit(worksheets, _):
        worksheets[SHEET_DATA].write_formula(*amount_cell(layout, 21), "=0*1")
    workbook_with(county.raw / "2024" / "选填公式.xlsx", edit, other)
    result = process(county.raw)

    messages = fatal_messages(result, "2024/必填公式.xlsx")
    assert any(FORMULA_WITHOUT_VALUE in m and "=SUM(C17:C18)" in m and amount_ref(layout, 13) in m
               for m in messages), messages
    optional = next(s for s in result.submissions if s.found.relative == "2024/选填公式.xlsx")
    assert optional.state == LOADED
    errors = [f for f in optional.findings if f.severity == "error"]
    assert [f.location for f in errors if FORMULA_WITHOUT_VALUE in f.message] == [amount_ref(layout, 21)]
    scores = result.tables["unit_scores"].filter(unit_name="遂溪县财政局")
    assert scores["must_resubmit"].to_list() == [True]


def test_external_link_is_not_taken_as_the_amount(county):
    path = external_link(county.raw / "2024" / "外部链接.xlsx")
    layout = plan_form(**reference_form()).layout
    row, col = amount_cell(layout, 13)
    mark = read_workbook(path)[SHEET_DATA].rows[row][col]
    assert mark.startswith(f"〔{FORMULA_EXTERNAL}：=[1]决算!$C$16") and "2024年决算报表.xlsx" in mark
    measured_read(path)
    messages = fatal_messages(process(county.raw), "2024/外部链接.xlsx")
    assert any(FORMULA_EXTERNAL in m and amount_ref(layout, 13) in m for m in messages), messages


# ---------------------------------------------------------------- size

def test_hundred_thousand_rows_are_refused_with_the_sheet_named(tmp_path):
    path = long_sheet(tmp_path / "台账.xlsx")
    outcome = measured_read(path)
    assert outcome["rule"] == "file.too_large"
    assert f"工作表“{SHEET_DATA}”有100,060行，超过上限{settings.MAX_SHEET_ROWS:,}行" in outcome["error"]
    assert outcome["seconds"] < 2


def test_rows_up_to_the_limit_are_read(tmp_path):
    path = long_sheet(tmp_path / "附注.xlsx", rows=settings.MAX_SHEET_ROWS - 100)
    outcome = measured_read(path)
    assert outcome["fatal"] == []


MEGABYTE_TEXT = "详见附件。" * (2**20 // 5)
_PLACEHOLDER = "〈长文本〉"


def megabyte_cells(path: Path, **form) -> Path:
    """Cells of a megabyte of text: past Excel's own 32 767 characters, as a crafted file has them."""
    write_workbook(path, **reference_form(**form))
    with zipfile.ZipFile(path) as archive:
        strings = archive.read("xl/sharedStrings.xml").decode()
    assert _PLACEHOLDER in strings
    rewrite_zip(path, replace={"xl/sharedStrings.xml": strings.replace(_PLACEHOLDER, MEGABYTE_TEXT).encode()})
    return path


def test_megabyte_cells_are_clipped_and_the_file_quarantined(county):
    path = megabyte_cells(county.raw / "2024" / "长文本.xlsx",
                          data={13: _PLACEHOLDER}, scores={"A1": (20, _PLACEHOLDER)})
    layout = plan_form(**reference_form()).layout
    row, col = amount_cell(layout, 13)
    cell = read_workbook(path)[SHEET_DATA].rows[row][col]
    assert cell.startswith(MEGABYTE_TEXT[:settings.MAX_CELL_CHARS])
    assert cell.endswith(f"…（共{len(MEGABYTE_TEXT):,}字，已截断）")
    outcome = measured_read(path)
    assert outcome["fatal"]
    result = process(county.raw)
    fatal_messages(result, "2024/长文本.xlsx")
    # The reader's clip bounds every message (the shorter quote is findings.py's part, below).
    assert result.tables["findings"]["message"].str.len_chars().max() < settings.MAX_CELL_CHARS + 200


def test_findings_quote_at_most_the_shown_length(county):
    megabyte_cells(county.raw / "2024" / "长文本.xlsx", data={13: _PLACEHOLDER})
    findings = process(county.raw).tables["findings"]
    assert findings["message"].str.len_chars().max() <= settings.SHOWN_VALUE_CHARS + 120
    assert findings["found"].str.len_chars().max() <= settings.SHOWN_VALUE_CHARS + 30


# ---------------------------------------------------------------- odd names

ODD_SHEET_NAMES = ["'引号'", '"双引号"', "[方括号]", "📊图表😀", "长" * 200, "a&b<c>"]


def test_odd_sheet_names_are_read_as_written(county):
    path = county.workbook("奇怪的工作表名.xlsx", reference_form(
        extra_sheets={f"附{i}": [["备注", i]] for i in range(len(ODD_SHEET_NAMES))}))
    rename_sheets(path, {f"附{i}": name for i, name in enumerate(ODD_SHEET_NAMES)})
    assert list(read_workbook(path)) == [SHEET_INFO, SHEET_DATA, SHEET_SCORES, *ODD_SHEET_NAMES]
    measured_read(path)

    only_odd = county.workbook("全是怪名.xlsx", unit_form("遂溪县教育局"))
    rename_sheets(only_odd, {SHEET_INFO: ODD_SHEET_NAMES[3], SHEET_DATA: ODD_SHEET_NAMES[4],
                             SHEET_SCORES: ODD_SHEET_NAMES[5]})
    result = process(county.raw)
    odd = next(s for s in result.submissions if s.found.relative == "2024/奇怪的工作表名.xlsx")
    assert odd.state == LOADED
    messages = fatal_messages(result, "2024/全是怪名.xlsx")
    assert any(f"缺少“{SHEET_DATA}”工作表" in m for m in messages)
    missing = next(f for s in result.submissions if s.found.relative == "2024/全是怪名.xlsx"
                   for f in s.findings if f.rule == "sheet.missing")
    assert missing.found == clip("、".join(ODD_SHEET_NAMES[3:]))  # quoted back at most SHOWN_VALUE_CHARS


ODD_FILE_NAMES = [
    "遂溪县人民政府办公室 2024年 自评表.xlsx",
    "财政局“定稿”'最终'\"版\".xlsx",
    "教育局\n第二版.xlsx",
    "第一中学；DROP TABLE x; --.xlsx",
]


def test_odd_file_names_are_recorded_exactly(county, tmp_path):
    units = [REFERENCE_UNIT, "遂溪县财政局", "遂溪县教育局", "遂溪县第一中学"]
    for name, unit in zip(ODD_FILE_NAMES, units):
        county.workbook(name, reference_form() if unit == REFERENCE_UNIT else unit_form(unit))
    broken = "损坏 “文件”\n'x'.xlsx"
    county.file(broken, b"PK\x03\x04 not really a workbook")
    db = tmp_path / "warehouse" / "performance.duckdb"
    run_pipeline(county.raw, db)
    with duckdb.connect(str(db), read_only=True) as con:
        rows = dict(con.execute("SELECT file, state FROM ingest_files").fetchall())
        messages = [m for (m,) in con.execute("SELECT message FROM findings WHERE file = ?",
                                              [f"2024/{broken}"]).fetchall()]
    assert rows == {**{f"2024/{n}": LOADED for n in ODD_FILE_NAMES}, f"2024/{broken}": QUARANTINED}
    assert any(f"“2024/{broken}”" in m for m in messages), messages


# ---------------------------------------------------------------- through the pipeline

def test_refused_files_end_quarantined_and_the_rest_loads(county):
    """One run over every refused kind beside a clean workbook: each refused file is
    quarantined with its own fatal finding, and the clean one still loads."""
    folder = county.raw / "2024"
    zip_bomb(folder / "压缩炸弹.xlsx")
    encrypted(folder / "加密.xlsx")
    many_parts(folder / "部件过多.xlsx", settings.MAX_ZIP_ENTRIES + 1)
    long_sheet(folder / "十万行.xlsx")
    county.workbook("正常.xlsx", unit_form("遂溪县财政局"))
    started = time.process_time()  # CPU, not wall time: the machine may be busy
    result = process(county.raw)
    elapsed = time.process_time() - started
    expected = {"压缩炸弹.xlsx": "疑似压缩炸弹", "加密.xlsx": ENCRYPTED_MESSAGE,
                "部件过多.xlsx": "个部件", "十万行.xlsx": "有100,060行"}
    for name, words in expected.items():
        messages = fatal_messages(result, f"2024/{name}")
        assert any(words in m and f"“2024/{name}”" in m for m in messages), messages
    clean = next(s for s in result.submissions if s.found.relative == "2024/正常.xlsx")
    assert clean.state == LOADED
    assert elapsed < 20


def test_read_error_findings_carry_their_own_rule_and_advice(county):
    encrypted(county.raw / "2024" / "加密.xlsx")
    sub = process(county.raw).submissions[0]
    finding = next(f for f in sub.findings if f.severity == "fatal")
    assert finding.rule == "file.encrypted"
    assert finding.message == "文件“2024/加密.xlsx”已加密，请去除密码后重新报送。"
