"""The warehouse contract (pipeline/publishing/contract.py) is the one specification of each
table: the DDL, the frames' types, the checks before publishing and the rows follow from it."""

from __future__ import annotations

from pathlib import Path

import duckdb
import polars as pl
import pytest

from pipeline.publishing import warehouse
from pipeline.publishing.contract import CONTRACT, DOUBLE, Column, Table
from pipeline.run import UNIT_SCORES, process, run
from schemas.form import DATA_LINE_BY_NAME, DATA_LINES
from tests.builders import County, reference_form, unit_form


def test_generated_ddl_is_the_committed_one():
    assert warehouse.DDL_PATH.read_text(encoding="utf-8") == warehouse.ddl(), \
        "warehouse.sql 已过时：运行 python -m pipeline docs"


@pytest.mark.parametrize("table", list(CONTRACT))
def test_ddl_types_and_keys_follow_the_specification(table: str):
    spec = CONTRACT[table]
    with duckdb.connect() as con:
        con.execute(spec.ddl())
        described = con.execute(f"DESCRIBE {table}").fetchall()
        key = con.execute("SELECT constraint_column_names FROM duckdb_constraints() "
                          "WHERE constraint_type = 'PRIMARY KEY'").fetchall()
    assert [(name, kind, null) for name, kind, null, *_ in described] == [
        (c.name, c.type, "NO" if c.required or c.name in spec.key else "YES") for c in spec.columns]
    assert [tuple(k) for (k,) in key] == ([spec.key] if spec.key else [])
    assert spec.frame([]).schema == pl.Schema(spec.schema)


def test_every_figure_column_copies_the_line_it_is_named_after():
    for table in CONTRACT.values():
        for column in table.columns:
            if column.line is not None:
                assert DATA_LINE_BY_NAME[column.name].line == column.line
                assert column.doc.startswith(f"r{column.line} ")


def test_a_row_naming_an_unknown_column_is_refused():
    with pytest.raises(KeyError, match="execution_rat"):
        CONTRACT["unit_info"].frame([{"unit_name": "x", "year": 2024, "execution_rat": 0.9}])
    with pytest.raises(TypeError):
        CONTRACT["data_lines"].Row(unit_name="x", year=2024, line=1, item="a", amount=1.0, source_cell=None,
                                   source_valu=None)
    with pytest.raises(KeyError, match="spentt"):
        UNIT_SCORES.derive_row({"spentt": 1.0}, {})
    with pytest.raises(KeyError, match="execution_rat"):
        CONTRACT["unit_info"].column_frame({"unit_name": ["x"], "year": [2024], "execution_rat": [0.9]})


def test_a_column_neither_given_nor_derived_is_an_error():
    table = Table("t", "doc", (Column("a", DOUBLE), Column("b", DOUBLE)))
    with pytest.raises(KeyError, match="t.b"):
        table.derive_row({"a": 1.0}, {})


def test_a_derived_column_takes_its_inputs_by_name():
    def ratio(numerator, denominator):
        """numerator / denominator."""
        return numerator / denominator

    table = Table("t", "doc", (Column("denominator", DOUBLE), Column("ratio", DOUBLE, derive=ratio)))
    assert table.derive_row({"denominator": 4.0}, {"numerator": 1.0}) == {"denominator": 4.0, "ratio": 0.25}
    with pytest.raises(KeyError, match="numerator"):
        table.derive_row({"denominator": 4.0}, {})


def test_columns_derived_at_once_are_the_rows_derived_one_by_one():
    def share(part, whole):
        """part / whole."""
        return part / whole

    table = Table("t", "doc", (Column("whole", DOUBLE), Column("part", DOUBLE, line=1), Column("share", DOUBLE, derive=share)))
    given, figures = {"whole": [4.0, 2.0, 8.0]}, {"part": [1.0, 3.0, 2.0]}
    columns = table.derive_columns(given, figures)
    assert {k: list(v) for k, v in columns.items()} == {"whole": [4.0, 2.0, 8.0], "part": [1.0, 3.0, 2.0],
                                                       "share": [0.25, 1.5, 0.25]}
    assert [table.derive_row({"whole": w}, {"part": p}) for w, p in zip(given["whole"], figures["part"])] == [
        {k: v[n] for k, v in columns.items()} for n in range(3)]
    frame = table.column_frame(columns)
    assert frame.rows() == [(4.0, 1.0, 0.25), (2.0, 3.0, 1.5), (8.0, 2.0, 0.25)]


def test_a_table_from_columns_converts_its_values_as_one_from_rows():
    lines = CONTRACT["data_lines"]
    row = dict(unit_name="甲", year=2024, line=3, item=12, amount=5, source_cell=None, source_value=1.5)
    assert lines.column_frame({k: [v] for k, v in row.items()}).equals(lines.frame([row]))
    with pytest.raises(TypeError, match="data_lines.year"):
        lines.column_frame({"unit_name": ["甲"], "year": ["二〇二四"], "line": [1]})


def test_the_schema_names_what_keeps_a_frame_from_being_published(county: County):
    county.workbook("ref.xlsx", reference_form())
    county.workbook("cz.xlsx", unit_form("遂溪县财政局"))
    tables = process(county.raw).tables
    lines = tables["data_lines"]
    assert CONTRACT["data_lines"].problems(lines) == []
    duplicated = pl.concat([lines, lines.head(1)])
    assert any("multiple_fields_uniqueness" in p for p in CONTRACT["data_lines"].problems(duplicated))
    nulled = lines.with_columns(pl.lit(None, pl.String).alias("item"))
    assert any(p.startswith("data_lines.item: not_nullable") for p in CONTRACT["data_lines"].problems(nulled))
    retyped = lines.with_columns(pl.col("line").cast(pl.Float64))
    assert any(p.startswith("data_lines.line:") for p in CONTRACT["data_lines"].problems(retyped))
    widened = lines.with_columns(pl.lit("x").alias("extra"))
    assert any(p.startswith("data_lines.extra: column_in_schema") for p in CONTRACT["data_lines"].problems(widened))
    narrowed = lines.drop("source_value")
    assert any(p.startswith("data_lines.source_value: column_in_dataframe")
               for p in CONTRACT["data_lines"].problems(narrowed))
    scores = tables["indicator_scores"]
    assert CONTRACT["indicator_scores"].problems(scores) == []
    not_a_number = scores.with_columns(pl.lit(float("nan")).alias("max_score"))
    assert any(p.startswith("indicator_scores.max_score: not_nullable")
               for p in CONTRACT["indicator_scores"].problems(not_a_number))
    built = tables["build_info"]
    assert CONTRACT["build_info"].problems(built) == []
    coarser = built.with_columns(pl.col("built_at").cast(pl.Datetime("ms")))
    assert any(p.startswith("build_info.built_at: dtype") for p in CONTRACT["build_info"].problems(coarser))


def test_a_build_that_fails_its_schema_is_not_published(county: County, tmp_path: Path, monkeypatch):
    county.workbook("ref.xlsx", reference_form())
    db = tmp_path / "performance.duckdb"
    run(county.raw, db, progress=False)
    with duckdb.connect(str(db), read_only=True) as con:
        before = con.execute("SELECT * FROM unit_scores").fetchall()
    county.workbook("cz.xlsx", unit_form("遂溪县财政局"))
    real = warehouse.publish

    def publish_with_a_duplicate(tables, path, carried=None):
        scores = tables["unit_scores"]
        return real({**tables, "unit_scores": pl.concat([scores, scores.head(1)])}, path, carried)

    monkeypatch.setattr("pipeline.run.publish", publish_with_a_duplicate)
    with pytest.raises(warehouse.WarehouseCheckError, match="unit_scores"):
        run(county.raw, db, progress=False)
    with duckdb.connect(str(db), read_only=True) as con:
        assert con.execute("SELECT * FROM unit_scores").fetchall() == before


def test_old_pickle_caches_are_removed(county: County, tmp_path: Path):
    county.workbook("ref.xlsx", reference_form())
    db = tmp_path / "performance.duckdb"
    run(county.raw, db, progress=False)
    old = [tmp_path / ".performance.parse-cache.pickle", tmp_path / ".performance.parse-cache.pickle.tmp-99999"]
    for path in old:
        path.write_bytes(b"\x80\x04K\x01.")
    assert run(county.raw, db, progress=False) is None  # nothing changed: no build
    assert not any(path.exists() for path in old)


def test_every_data_line_has_a_distinct_name():
    assert len({d.name for d in DATA_LINES}) == len(DATA_LINES)
    assert all(d.name.isidentifier() for d in DATA_LINES)
