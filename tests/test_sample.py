"""The sample county: same bytes every run, the promised special files, sound clean files."""

from __future__ import annotations

import csv
import datetime as dt
import functools
import io
import unicodedata
import zipfile
from collections import Counter
from pathlib import Path

import docx
import pytest
from python_calamine import CalamineError, CalamineWorkbook

from sample_county import county as sample
from pipeline.scoring.framework import read_framework_file
from pipeline.settings import FRAMEWORKS_DIR, PROJECT_ROOT
from schemas.form import GRADE_ALIASES

KINDS = {"corrupt", "missing_sheet", "text_amount", "broken_identity", "score_above_max",
         "wrong_grade", "duplicate_older", "duplicate_newer", "lock_file", "wanyuan_form",
         "xls_form", "year_mismatch", "not_in_roster", "late",
         # contract section 8
         "two_amount_columns", "comma_decimal", "renumbered_rows", "merged_value_cell", "sheet_copy",
         "formula_error", "phone_in_staff", "name_by_code", "copied_workbook"}
STATE_OF_KIND = {"corrupt": "quarantined", "missing_sheet": "quarantined",
                 "text_amount": "quarantined", "duplicate_older": "superseded",
                 "lock_file": "skipped", "year_mismatch": "quarantined",
                 "two_amount_columns": "quarantined", "comma_decimal": "quarantined",
                 "renumbered_rows": "quarantined", "merged_value_cell": "quarantined",
                 "sheet_copy": "quarantined", "copied_workbook": "superseded"}

REFERENCE_FEN = {
    1: 1085099708, 2: 985099708, 3: 100000000, 4: 839790975, 5: 839720018, 6: 0, 7: 70957,
    8: 603813, 9: 1085099708, 10: 817128208, 11: 267971500, 12: 839720018, 13: 837403675,
    14: 703458475, 15: 133945200, 16: 2991113, 17: 25900000, 18: 17108657, 19: 34000000,
    20: 25692966,
}
REFERENCE_SCORES = {"A1": 20, "A2": 20, "A3": 10, "B1": 2, "B2": 3, "B3": 3, "B4": 3, "B5": 15,
                    "B6": 9, "B7": 10, "B8": 2, "B9": 1}


@pytest.fixture(scope="module")
def county(tmp_path_factory):
    out = tmp_path_factory.mktemp("county")
    paths = sample.build_sample(out)
    return out, paths


def relative(root: Path, path: Path) -> str:
    return path.relative_to(root).as_posix()


def framework(year):
    return read_framework_file(FRAMEWORKS_DIR / f"{year}.toml")


def sheets_of(path: Path) -> dict[str, list[list]]:
    with path.open("rb") as handle:  # by content: the sample has an .xlsx named .xls and an .et
        book = CalamineWorkbook.from_filelike(handle)
    return {name.strip().replace("\u3000", ""): book.get_sheet_by_name(name).to_python()
            for name in book.sheet_names}


def info_of(sheets: dict[str, list[list]]) -> dict:
    return {r[0].rstrip("：:"): (r[1].replace("\u200b", "").replace("\ufeff", "") if isinstance(r[1], str) else r[1])
            for r in sheets["基本信息"] if len(r) > 1 and r[0]}


@functools.lru_cache(maxsize=None)
def read_form(path: Path) -> dict:
    """The three sheets of a workbook, found by their header labels, as plain values."""
    sheets = sheets_of(path)
    info = info_of(sheets)
    data_rows = sheets["数据表"]
    header = next(i for i, r in enumerate(data_rows) if r[:2] == ["项目", "行次"] and r[2] in ("金额", "本年数"))
    unit = data_rows[header - 1][0]
    data = {int(r[1]): (None if r[2] == "" else r[2]) for r in data_rows[header + 1:] if r[1] != ""}
    score_rows = sheets["评分表"]
    header = next(i for i, r in enumerate(score_rows) if r[0] == "代码")
    scores, total, grade = {}, None, None
    for r in score_rows[header + 1:]:
        if r[0] in ("合计", "总计"):
            total = r[5]
        elif r[0] == "自评等级":
            grade = r[5]
        elif r[0]:
            scores[r[0]] = (r[4], r[5], r[6])
    return dict(info=info, unit=unit, data=data, scores=scores, total=total, grade=grade)


def identity_gaps(d: dict, scale: int = 100) -> dict[str, int]:
    """Identity gaps in whole steps (fen for a 元 form, 0.01 万元 for a 万元 form)."""
    def v(line):
        return round((d.get(line) or 0) * scale)
    gaps = {
        "r1": v(1) - v(2) - v(3), "r4": v(4) - v(5) - v(6) - v(7), "r9": v(9) - v(10) - v(11),
        "r13": v(13) - v(14) - v(15), "r16": v(16) - v(4) - v(8) + v(13),
    }
    if any(d.get(k) is not None for k in (21, 22, 23)):
        gaps["r20"] = v(20) - v(21) - v(22) - v(23)
    return {k: g for k, g in gaps.items() if g}


def band(total: float) -> str:
    return "优" if total >= 90 else "良" if total >= 80 else "中" if total >= 60 else "差"


def special_files() -> set[str]:
    return ({c["file"] for c in sample.FAULTY_CASES} | {c["file"] for c in sample.MESSY_CASES}
            | {c["file"] for c in sample.REPORT_CASES}
            | {f for c in sample.RESUBMISSION_CASES for f in c["files"]})


def clean_workbooks(root: Path) -> list[Path]:
    specials = special_files()
    return sorted(p for p in root.glob("*/*.xlsx")
                  if relative(root, p) not in specials and not p.name.startswith("~$"))


def test_two_runs_write_identical_bytes_and_drop_stale_files(county, tmp_path):
    first_root, first_paths = county
    stale = tmp_path / "2024" / "旧文件.xlsx"
    stale.parent.mkdir(parents=True)
    stale.write_bytes(b"old")
    second_paths = sample.build_sample(tmp_path)
    assert not stale.exists()
    assert sorted(p for p in tmp_path.rglob("*") if p.is_file()) == second_paths
    first = {relative(first_root, p): p.read_bytes() for p in first_paths}
    second = {relative(tmp_path, p): p.read_bytes() for p in second_paths}
    assert first.keys() == second.keys()
    differing = [name for name in first if first[name] != second[name]]
    assert differing == []
    assert any(name.endswith(".docx") for name in first)
    assert any(name.endswith(".xls") for name in first)


def test_roster(county):
    root, _ = county
    raw = (root / "units.csv").read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    rows = list(csv.DictReader(io.StringIO(raw.decode("utf-8-sig"))))
    assert list(rows[0].keys()) == ["单位编码", "单位名称", "主管部门", "单位类型", "地区"]
    assert 55 <= len(rows) <= 65
    names = {r["单位名称"] for r in rows}
    assert len(names) == len(rows) and len({r["单位编码"] for r in rows}) == len(rows)
    towns = [r for r in rows if r["单位类型"] == "乡镇"]
    assert sorted(r["地区"] for r in towns) == sorted(sample.TOWNS)
    assert all(r["单位名称"] == f"遂溪县{r['地区']}人民政府" for r in towns)
    assert {r["单位类型"] for r in rows} == {"行政单位", "参公事业单位", "事业单位", "乡镇"}
    assert all(r["主管部门"] in names for r in rows)
    office = next(r for r in rows if r["单位名称"] == sample.REFERENCE_UNIT)
    assert (office["单位类型"], office["主管部门"]) == ("行政单位", sample.REFERENCE_UNIT)
    assert {"遂溪县第一中学": "遂溪县教育局", "遂溪县人民医院": "遂溪县卫生健康局"}.items() <= {
        r["单位名称"]: r["主管部门"] for r in rows}.items()


def test_who_submits_when(county):
    root, _ = county
    by_year = {}
    for year in sample.YEARS:
        names = set()
        for path in (root / str(year)).glob("*.xls*"):
            if path.name.startswith("~$") or relative(root, path) in {
                    c["file"] for c in sample.FAULTY_CASES if c["kind"] == "corrupt"}:
                continue
            names.add(info_of(sheets_of(path))["单位名称"])
        by_year[year] = names
    roster = {u.name for u in sample.roster()}
    for names in by_year.values():
        assert not names & set(sample.NEVER_SUBMIT)
        assert len(roster & names) >= 50
    assert sample.NOT_IN_ROSTER_UNIT in by_year[2024] and sample.NOT_IN_ROSTER_UNIT not in roster
    for unit, year in sample.SKIPPED_YEARS:
        assert unit not in by_year[year]
        assert all(unit in by_year[y] for y in sample.YEARS if y != year)


def test_faulty_cases_are_complete_and_on_disk(county):
    root, paths = county
    written = {relative(root, p) for p in paths}
    kinds = Counter(c["kind"] for c in sample.FAULTY_CASES)
    assert set(kinds) == KINDS
    roster = {u.name for u in sample.roster()}
    for case in sample.FAULTY_CASES:
        assert case["file"] in written, case
        assert case["expected_state"] == STATE_OF_KIND.get(case["kind"], "loaded")
        assert (case["unit_name"] in roster) == (case["kind"] != "not_in_roster")
        assert case["file"].startswith(f"{case['year']}/")
    assert sum(1 for c in sample.FAULTY_CASES if c["year"] == 2023) in (1, 2)


def test_each_fault_is_what_it_claims(county):
    root, _ = county
    case = {c["kind"]: root / c["file"] for c in sample.FAULTY_CASES if c["year"] == 2024}
    assert not zipfile.is_zipfile(case["corrupt"])
    with pytest.raises(CalamineError):
        CalamineWorkbook.from_path(str(case["corrupt"]))
    assert case["lock_file"].name.startswith("~$") and case["lock_file"].stat().st_size < 1024
    assert case["xls_form"].read_bytes()[:4] == bytes.fromhex("D0CF11E0")
    assert "评分表" not in CalamineWorkbook.from_path(str(case["missing_sheet"])).sheet_names
    assert read_form(case["text_amount"])["data"][13] == "见附表"
    assert set(identity_gaps(read_form(case["broken_identity"])["data"])) == {"r13"}

    above = read_form(case["score_above_max"])
    assert any(score > top for top, score, _ in above["scores"].values())

    wrong = read_form(case["wrong_grade"])
    assert wrong["grade"] != band(wrong["total"])

    older, newer = read_form(case["duplicate_older"]), read_form(case["duplicate_newer"])
    assert older["info"]["单位名称"] == newer["info"]["单位名称"]
    assert older["info"]["填报日期"] < newer["info"]["填报日期"]
    assert identity_gaps(older["data"]) and not identity_gaps(newer["data"])

    wanyuan = read_form(case["wanyuan_form"])
    assert wanyuan["unit"] == "金额单位：万元"
    assert identity_gaps(wanyuan["data"]) == {}
    assert all(v is None or round(v * 100) == pytest.approx(v * 100, abs=1e-6)
               for line, v in wanyuan["data"].items() if line < 24)
    assert wanyuan["data"][1] < 100_000  # 万元, not 元

    late = read_form(case["late"])
    assert late["info"]["填报日期"] > framework(2024)["deadline"]

    mismatch = next(root / c["file"] for c in sample.FAULTY_CASES if c["kind"] == "year_mismatch")
    folder_year = int(mismatch.parent.name)
    assert read_form(mismatch)["info"]["评价年度"] != folder_year


def test_reference_unit_2024_has_the_section_7_figures(county):
    root, _ = county
    form = read_form(root / sample.REFERENCE_FILE_2024)
    assert {line: round(v * 100) for line, v in form["data"].items() if line <= 20} == REFERENCE_FEN
    assert [form["data"][k] for k in (21, 22, 23)] == [None, None, None]
    assert (form["data"][24], form["data"][25]) == (1, 0)
    assert {code: s for code, (_, s, _) in form["scores"].items()} == REFERENCE_SCORES
    assert form["scores"]["B6"][2] == "采购合同未在两个工作日内备案，扣1分"
    assert (form["total"], form["grade"]) == (98, "优")
    info = form["info"]
    assert info["单位名称"] == info["主管部门"] == sample.REFERENCE_UNIT
    assert info["单位类型"] == "行政单位" and info["评价年度"] == 2024
    assert info["填报日期"] == dt.date(2025, 7, 28)
    assert [info[k] for k in ("内设机构数", "编制数", "在职人数", "退休人数")] == [13, 57, 51, 50]


def test_clean_workbooks_are_sound(county):
    """Identities to the fen, 合计 = sum, grade = band, every deduction explained, on time."""
    root, _ = county
    paths = clean_workbooks(root)
    assert len(paths) > 120  # the rest are the special cases
    for path in paths:
        form = read_form(path)
        year = int(path.parent.name)
        assert form["info"]["评价年度"] == year, path
        assert form["unit"] == "金额单位：元", path
        assert identity_gaps(form["data"]) == {}, path
        assert all(v is None or v >= 0 for v in form["data"].values()), path
        scores = form["scores"]
        assert list(scores) == [i["code"] for i in framework(year)["indicator"]], path
        for code, (top, score, note) in scores.items():
            assert 0 <= score <= top, (path, code)
            assert score == top or note, (path, code)
        assert form["total"] == pytest.approx(sum(s for _, s, _ in scores.values()), abs=1e-9)
        assert form["grade"] == band(form["total"]), path
        assert form["info"]["填报日期"] <= framework(year)["deadline"], path


def test_messy_files_keep_their_figures(county):
    root, _ = county
    assert len({c["variation"] for c in sample.MESSY_CASES}) >= 7
    for case in sample.MESSY_CASES:
        path = root / case["file"]
        form = read_form(path)
        values = [v for line, v in form["data"].items() if line < 24 and v is not None]
        text = [v for v in values if isinstance(v, str)]
        if case["variation"] == "amounts_as_text_with_commas":
            assert text and all("," in v for v in text if len(v) > 8)
        elif case["variation"] == "amounts_full_width_with_yuan":
            assert text and all(v.endswith("元") and "０" <= v[0] <= "９" for v in text)
        elif case["variation"] == "dash_for_zero":
            assert "-" in text and 0.0 not in values
        elif case["variation"] == "grade_written_youxiu":
            assert form["grade"] == "优秀" and GRADE_ALIASES["优秀"] == band(form["total"])
        else:
            assert not text
            assert identity_gaps(form["data"]) == {}
    names = CalamineWorkbook.from_path(str(root / next(
        c["file"] for c in sample.MESSY_CASES if c["variation"] == "sheet_names_with_spaces"))).sheet_names
    assert any(n != n.strip() or "\u3000" in n for n in names)


def test_grades_and_execution_rates_spread_like_a_county(county):
    root, _ = county
    for year in sample.YEARS:
        forms = [read_form(p) for p in clean_workbooks(root) if p.parent.name == str(year)]
        grades = Counter(f["grade"] for f in forms)
        assert grades["优"] > 0.6 * len(forms) and grades["良"] >= 2, (year, grades)
        rates = [f["data"][13] / f["data"][12] for f in forms]
        assert sum(0.85 <= r <= 1.0 for r in rates) > 0.85 * len(rates)
        assert all(0.6 <= r <= 1.0 for r in rates)
    all_grades = Counter(f["grade"] for p in clean_workbooks(root) for f in [read_form(p)])
    assert all_grades["中"] >= 3


def test_budgets_grow_year_to_year(county):
    root, _ = county
    opening: dict[str, dict[int, float]] = {}
    for path in clean_workbooks(root):
        form = read_form(path)
        opening.setdefault(form["info"]["单位名称"], {})[int(path.parent.name)] = form["data"][1]
    complete = {u: v for u, v in opening.items() if set(v) == set(sample.YEARS)}
    assert len(complete) >= 12  # units whose three years are all plain
    for unit, by_year in complete.items():
        assert by_year[2024] > by_year[2022] * 0.98, unit
        assert by_year[2024] < by_year[2022] * 1.25, unit


def amount(value) -> float:
    """An amount cell as a number: text such as "8,374,036.75" or "８３７４０３６.７５元" too."""
    if isinstance(value, str):
        return float(unicodedata.normalize("NFKC", value).replace(",", "").removesuffix("元"))
    return value


def report_text(path: Path, encoding: str | None) -> str:
    if path.suffix == ".docx":
        return "\n".join(p.text for p in docx.Document(str(path)).paragraphs)
    return path.read_bytes().decode(encoding or "utf-8")


def test_reports_exist_and_say_what_the_cases_record(county):
    root, _ = county
    cases = sample.REPORT_CASES
    assert 6 <= len(cases) <= 10
    assert {Path(c["file"]).suffix for c in cases} == {".txt", ".docx"}
    assert any(c["encoding"] == "gb18030" for c in cases)
    assert any(c["agrees"] for c in cases) and any(not c["agrees"] for c in cases)
    assert any(c["missing_sections"] for c in cases) and any(c["wanyuan"] for c in cases)
    roster = {u.name for u in sample.roster()}
    for case in cases:
        path = root / case["file"]
        text = report_text(path, case["encoding"])
        assert f"评价单位（公章）：{case['stated_unit_name']}" in text
        assert f"评价年度：{case['year']} 年度" in text
        assert "一、单位基本情况" in text
        assert case["agrees"] == (not case["disagreements"])
        if case["unit_name"] is None:
            assert case["stated_unit_name"] not in roster
            continue
        assert case["unit_name"] in roster
        if case["missing_sections"]:
            assert "绩效自评情况" not in text
        else:
            assert "自评分数为" in text and "部门预算资金支出率" in text


def test_gb18030_report_is_not_utf8(county):
    root, _ = county
    case = next(c for c in sample.REPORT_CASES if c["encoding"] == "gb18030")
    blob = (root / case["file"]).read_bytes()
    with pytest.raises(UnicodeDecodeError):
        blob.decode("utf-8")
    assert case["unit_name"] in blob.decode("gb18030")


def test_reports_agree_or_disagree_with_their_tables(county):
    root, _ = county
    tables = {}
    for path in root.glob("*/*.xls*"):
        if relative(root, path) in special_files() - {c["file"] for c in sample.MESSY_CASES}:
            continue
        form = read_form(path)
        tables[(form["info"]["单位名称"], int(path.parent.name))] = form
    for case in sample.REPORT_CASES:
        if case["unit_name"] is None or case["missing_sections"]:
            continue
        form = tables[(case["unit_name"], case["year"])]
        text = report_text(root / case["file"], case["encoding"]).replace(",", "")
        r12, r13 = amount(form["data"][12]), amount(form["data"][13])
        rate = f"{r13 / r12 * 100:.2f}%"
        total = f"自评分数为{form['total']:g}分"
        if case["wanyuan"]:
            spent_forms = {f"支出决算数{r13 / 10000:.2f}万元"}
        else:
            spent_forms = {f"支出决算数{r13:.2f}", f"支出决算数{r13:.2f}".removesuffix(".00") + " 元"}
        spent_ok = any(form_ in text for form_ in spent_forms)
        checks = {"rate": rate in text, "total": total in text, "spent": spent_ok}
        if case["agrees"]:
            assert all(checks.values()), (case["file"], checks)
        else:
            assert not all(checks.values()) or "100%" in text, (case["file"], checks)
    office = next(c for c in sample.REPORT_CASES
                  if c["unit_name"] == sample.REFERENCE_UNIT and c["year"] == 2024)
    text = report_text(root / office["file"], office["encoding"])
    assert "财政拨款资金整体支出完成率达到100%" in text
    assert "8374036.75/8397200.18*100%=99.72%" in text


def test_raw_size_is_modest(county):
    _, paths = county
    assert sum(p.stat().st_size for p in paths) < 4 * 1024 * 1024


def test_committed_raw_matches_the_generator(county):
    """The sample in the repository is the generator's output (text files compared by
    bytes; workbooks and documents by name, since zlib builds may compress differently)."""
    committed = PROJECT_ROOT / "raw"
    if not (committed / "units.csv").exists():
        pytest.skip("no raw/ folder in this checkout")
    root, paths = county
    generated = {relative(root, p) for p in paths}
    on_disk = {relative(committed, p) for p in committed.rglob("*")
               if p.is_file() and (p.parent == committed or p.parent.name.isdigit())}
    assert on_disk == generated
    for name in generated:
        if name.endswith((".csv", ".txt")):
            assert (committed / name).read_bytes() == (root / name).read_bytes(), name
