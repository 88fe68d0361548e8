"""No SQL is built by pasting values into it.

End to end: units whose names are SQL go from the roster and their workbooks through the
real pipeline into the warehouse, and the dashboard's data layer finds them by name and
returns them intact, with every table still there. In the source: every f-string,
concatenation or .format that builds SQL in pipeline/ and dashboard/ only places fixed
table and column names, listed below with the reason each is safe.
"""

from __future__ import annotations

import ast
import csv
import io
import re
from pathlib import Path

import duckdb
import pytest

from dashboard import auth, data
from pipeline.reading.normalise import squash
from pipeline.publishing.warehouse import TABLES
from tests.builders import County, unit_form
from tests.conftest import run_pipeline

ROOT = Path(__file__).resolve().parent.parent

# Unit names are compared without spaces (contract section 5: 单位名称 is matched with
# every space removed), so a name with spaces is stored in its space-less form.
HOSTILE_UNITS = [
    "某局'; DROP TABLE x; --",
    "某局'; DROP TABLE unit_scores; --",
    '遂溪县"引号"局',
    "O'Brien办公室",
    "测试局'||(SELECT build_id FROM build_info)||'",
    "反斜杠局\\'; DELETE FROM findings WHERE '1'='1",
    "百分号%局_?$1",
]
YEAR = 2024


@pytest.fixture(scope="module")
def hostile_warehouse(tmp_path_factory) -> Path:
    raw = tmp_path_factory.mktemp("hostile") / "raw"
    county = County(raw, roster=[])
    rows = [("单位编码", "单位名称", "主管部门", "单位类型")]
    rows += [(f"44082390{i}", name, name, "行政单位") for i, name in enumerate(HOSTILE_UNITS)]
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\r\n").writerows(rows)
    (raw / "units.csv").write_text(buffer.getvalue(), encoding="utf-8-sig")
    for i, name in enumerate(HOSTILE_UNITS):
        county.workbook(f"{i:02d}_自评表.xlsx", unit_form(name, YEAR))
    # one of them also sends a file that cannot be read, so findings carry the name too
    county.workbook("00_更正版.xlsx", unit_form(HOSTILE_UNITS[0], YEAR, data={13: "见附表"}))
    db = raw.parent / "warehouse" / "performance.duckdb"
    run_pipeline(raw, db)
    return db


@pytest.fixture
def bureau(hostile_warehouse, monkeypatch) -> auth.Viewer:
    monkeypatch.setenv("PERF_DB", str(hostile_warehouse))
    return auth.Viewer("财政局绩效股", auth.BUREAU)


def stored(name: str) -> str:
    return squash(name)


def test_hostile_names_are_stored_intact_and_every_table_survives(hostile_warehouse):
    with duckdb.connect(str(hostile_warehouse), read_only=True) as con:
        tables = {t for (t,) in con.execute("SELECT table_name FROM duckdb_tables()").fetchall()}
        roster = {n for (n,) in con.execute("SELECT unit_name FROM units").fetchall()}
        scored = {n for (n,) in con.execute("SELECT unit_name FROM unit_scores").fetchall()}
        findings = con.execute("SELECT count(*) FROM findings").fetchone()[0]
    assert tables == set(TABLES)
    assert roster == {stored(n) for n in HOSTILE_UNITS}
    assert scored == {stored(n) for n in HOSTILE_UNITS}
    assert findings > 0


@pytest.mark.parametrize("name", HOSTILE_UNITS)
def test_data_layer_finds_each_unit_by_its_name(bureau, name):
    unit = stored(name)
    history = data.unit_history(unit, viewer=bureau)
    assert history["unit_name"].tolist() == [unit]
    assert len(data.data_lines(unit, YEAR, viewer=bureau)) == 25
    assert data.unit_info(unit, YEAR, viewer=bureau)["unit_name"].tolist() == [unit]
    assert len(data.unit_indicator_scores(unit, YEAR, viewer=bureau)) > 0
    # the names are parameters: nothing was dropped or deleted on the way
    assert len(data.unit_scores(YEAR, viewer=bureau)) == len(HOSTILE_UNITS)
    assert set(data.submission_status(YEAR, viewer=bureau)["unit_name"]) == {stored(n) for n in HOSTILE_UNITS}


def test_unit_account_named_as_sql_sees_only_its_own_rows(bureau):
    name = stored(HOSTILE_UNITS[0])
    viewer = auth.Viewer("某局财务", auth.UNIT, unit=name)
    assert set(data.unit_scores(YEAR, viewer=viewer)["unit_name"]) == {name}
    files = data.ingest_files(YEAR, viewer=viewer)
    assert set(files["unit_name"]) == {name} and len(files) == 2
    assert set(data.unit_findings(name, YEAR, viewer=viewer)["unit_name"]) == {name}
    assert len(data.unit_scores(YEAR, viewer=bureau)) == len(HOSTILE_UNITS)


def test_a_name_that_is_not_there_finds_nothing_and_breaks_nothing(bureau):
    for probe in ("' OR '1'='1", "x'; DROP TABLE units; --", "%", "_"):
        assert data.unit_history(probe, viewer=bureau).empty
        assert data.unit_findings(probe, YEAR, viewer=bureau).empty
    assert len(data.unit_scores(YEAR, viewer=bureau)) == len(HOSTILE_UNITS)


# ---------------------------------------------------------------- in the source

SQL_WORDS = re.compile(r"\b(SELECT|INSERT|UPDATE|DELETE|CREATE|DROP|ATTACH|DETACH|COPY|PRAGMA|WHERE|FROM|INTO|"
                       r"VALUES|ALTER|JOIN|TABLE)\b")
# Calls that run SQL, and which positional argument is the SQL text.
SQL_CALLS = {"execute": 0, "executemany": 0, "sql": 0, "query": 0, "read_query": 1, "_read": 1}

# (file, expression placed into SQL) → why it is a fixed identifier and never a value.
ALLOWED = {
    ("pipeline/publishing/warehouse.py", "ddl()"): "the warehouse's own DDL, generated from the contract",
    ("pipeline/publishing/warehouse.py", "name"): "a table name from the TABLES constant",
    ("pipeline/publishing/contract.py", "self.name"): "a table name of the contract, written in the code",
    ("pipeline/publishing/warehouse.py", "table.name"): "a table name of the contract, written in the code",
    ("pipeline/publishing/warehouse.py", "columns"): "the contract's column names of that table, joined",
    ("pipeline/publishing/warehouse.py", "order"): "the contract's sort columns of that table, joined",
    ("pipeline/publishing/carry.py", "table"): "a table of CARRIED_TABLES, checked before the query is made",
    ("pipeline/publishing/carry.py", "every"): "every column name of that table in the contract, joined",
    ("dashboard/data.py", "_quoted(table)"): "a table name from the published warehouse's own catalogue, "
                                             "quoted as an identifier",
    ("dashboard/data.py", "rows.format(table=_quoted(table))"): "one of UNIT_SCOPE's fixed SELECTs, given "
                                                                "the quoted table name; the unit is a parameter",
    ("presentation/queries.py", "_FINDINGS_COLUMNS"): "the fixed column list shared by the findings queries",
    ("presentation/queries.py", "_FINDINGS_ORDER"): "the fixed ORDER BY shared by the findings queries",
    ("dashboard/data.py", "', '.join((f'count({c}) AS {c}__n, avg({c}) AS {c}__mean, quantile_cont({c}, 0.25) "
                          "AS {c}__p25, quantile_cont({c}, 0.5) AS {c}__median, quantile_cont({c}, 0.75) "
                          "AS {c}__p75' for c in _PROFILED))"): "aggregates of the fixed column names in _PROFILED",
}


def _is_sql_text(node: ast.AST) -> bool:
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return bool(SQL_WORDS.search(node.value))
    if isinstance(node, ast.JoinedStr):
        return bool(SQL_WORDS.search("".join(v.value for v in node.values if isinstance(v, ast.Constant))))
    return False


def pasted_values(source: str, file: str) -> list[str]:
    """Every place where source builds SQL text from something that is not a fixed literal
    and not on the allowlist: `file:line expression`."""
    problems = []

    def check(expression: ast.AST, line: int) -> None:
        text = ast.unparse(expression)
        if (file, text) not in ALLOWED:
            problems.append(f"{file}:{line} {text}")

    def check_sql_argument(node: ast.AST) -> None:
        if isinstance(node, (ast.Constant, ast.Name, ast.JoinedStr, ast.Attribute)):
            return  # names hold literals or checked f-strings; f-strings are checked on their own
        if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
            check_sql_argument(node.left)
            check_sql_argument(node.right)
            return
        check(node, node.lineno)

    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.JoinedStr) and _is_sql_text(node):
            for value in node.values:
                if isinstance(value, ast.FormattedValue):
                    check(value.value, node.lineno)
        elif isinstance(node, ast.BinOp) and isinstance(node.op, ast.Mod) and _is_sql_text(node.left):
            check(node, node.lineno)
        elif isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add) and (
                _is_sql_text(node.left) or _is_sql_text(node.right)):
            for side in (node.left, node.right):
                if not isinstance(side, (ast.Constant, ast.JoinedStr, ast.BinOp)):
                    check(side, node.lineno)
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "format" \
                and _is_sql_text(node.func.value):
            check(node, node.lineno)
        elif isinstance(node, ast.Call):
            called = node.func.attr if isinstance(node.func, ast.Attribute) else getattr(node.func, "id", None)
            position = SQL_CALLS.get(called)
            if position is not None and len(node.args) > position:
                check_sql_argument(node.args[position])
    return problems


def test_no_sql_in_pipeline_or_dashboard_pastes_a_value():
    problems = []
    for folder in ("pipeline", "presentation", "dashboard"):
        for path in sorted((ROOT / folder).rglob("*.py")):
            problems += pasted_values(path.read_text(encoding="utf-8"), path.relative_to(ROOT).as_posix())
    assert problems == []


@pytest.mark.parametrize("snippet", [
    "con.execute(f\"SELECT * FROM unit_scores WHERE unit_name = '{unit}'\")",
    "con.execute(\"SELECT * FROM units WHERE unit_name = '\" + unit + \"'\")",
    "con.execute(\"DELETE FROM findings WHERE file = '%s'\" % path)",
    "con.execute(\"SELECT * FROM units WHERE unit_name = '{}'\".format(unit))",
    "data.query(build_sql(unit))",
])
def test_the_check_catches_a_pasted_value(snippet):
    assert pasted_values(snippet, "pipeline/example.py")


def test_the_check_lets_parameters_through():
    assert pasted_values("con.execute('SELECT * FROM units WHERE unit_name = ?', [unit])", "pipeline/x.py") == []
