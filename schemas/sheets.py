"""pandera models: the single definition of each sheet's typed columns and checks.

Frames hold a whole batch of workbooks; `submission` says which one a row came from.

The parse stage turns staged strings into these typed frames (a cell that cannot be
converted becomes null and a finding of its own), then validates them here lazily, so
every failing cell is reported, not only the first. Each check names the finding it
produces in CHECK_FINDINGS: its rule id (severity, label and message are the rule's).
"""

from __future__ import annotations

import polars as pl
from schemas.pandera_polars import pa

from schemas.form import TARGET_CATEGORIES, TARGET_DIRECTIONS, TARGET_KINDS, UNIT_TYPES


class InfoSheet(pa.DataFrameModel):
    """基本信息, one row per submission."""

    submission: int = pa.Field(unique=True)  # which workbook of the batch
    unit_name: str = pa.Field(nullable=False, str_length={"min_value": 2})
    year: int = pa.Field(ge=2000, le=2100, nullable=False)
    unit_code: str = pa.Field(nullable=True)
    department: str = pa.Field(nullable=True)
    unit_type: str = pa.Field(nullable=True, isin=list(UNIT_TYPES))
    filed_on: pl.Date = pa.Field(nullable=True)
    contact: str = pa.Field(nullable=True)
    phone: str = pa.Field(nullable=True)
    offices: int = pa.Field(ge=0, nullable=True)
    establishment: int = pa.Field(ge=0, nullable=True)
    staff: int = pa.Field(ge=0, nullable=True)
    retired: int = pa.Field(ge=0, nullable=True)

    class Config:
        strict = True


class DataSheet(pa.DataFrameModel):
    """数据表, one row per 行次; amounts in 元 (a 万元 form is converted before this)."""

    submission: int  # which workbook of the batch
    line: int = pa.Field(ge=1, le=25)
    item: str = pa.Field(nullable=True)
    amount: float = pa.Field(ge=0, nullable=True)
    cell: str

    class Config:
        strict = True
        unique = ["submission", "line"]  # each 行次 once per workbook


class ScoreSheet(pa.DataFrameModel):
    """评分表, one row per indicator."""

    submission: int  # which workbook of the batch
    code: str = pa.Field(str_matches=r"^[A-Z]\d{1,2}$")
    max_score: float = pa.Field(ge=0, nullable=True)
    self_score: float = pa.Field(ge=0, nullable=True)
    note: str = pa.Field(nullable=True)
    cell: str

    @pa.dataframe_check(name="self_score_within_max")
    def self_score_within_max(cls, data: pa.PolarsData) -> pl.LazyFrame:
        return data.lazyframe.select(
            (pl.col("self_score").is_null() | pl.col("max_score").is_null()
             | (pl.col("self_score") <= pl.col("max_score") + 1e-9)).alias("ok"))

    class Config:
        strict = True
        unique = ["submission", "code"]  # each indicator once per workbook


class TargetSheet(pa.DataFrameModel):
    """绩效目标表, one row per target (numbers in the row's own unit; None where unreadable)."""

    submission: int  # which workbook of the batch
    kind: str = pa.Field(nullable=True, isin=list(TARGET_KINDS))
    category: str = pa.Field(nullable=True, isin=list(TARGET_CATEGORIES))
    name: str = pa.Field(nullable=True)
    direction: str = pa.Field(nullable=True, isin=list(dict.fromkeys(TARGET_DIRECTIONS.values())))
    target: float = pa.Field(nullable=True)
    actual: float = pa.Field(nullable=True)
    weight: float = pa.Field(gt=0, nullable=True)
    cell: str                # the 一级指标 cell of the row, e.g. 绩效目标表!A5
    category_cell: str

    @pa.dataframe_check(name="target_named")
    def target_named(cls, data: pa.PolarsData) -> pl.LazyFrame:
        return data.lazyframe.select(pl.col("name").is_not_null().alias("ok"))

    class Config:
        strict = True


# (schema, column, check) → (rule, case, fields): the finding a failing check raises. The
# message template (its case), severity and label are the rule's, in the rule registry
# (pipeline/checking/findings.py); {found} is the failing value, fields fill the rest.
CHECK_FINDINGS: dict[tuple[str, str | None, str], tuple[str, str | None, dict[str, str]]] = {
    ("InfoSheet", "year", "greater_than_or_equal_to"): ("info.year_invalid", "year_range", {}),
    ("InfoSheet", "year", "less_than_or_equal_to"): ("info.year_invalid", "year_range", {}),
    ("InfoSheet", "unit_name", "str_length"): ("info.unit_name_invalid", "name_too_short", {}),
    ("InfoSheet", "unit_type", "isin"): ("info.unit_type_unknown", None, {"allowed": "、".join(UNIT_TYPES)}),
    ("InfoSheet", None, "greater_than_or_equal_to"): ("info.negative", None, {}),
    ("DataSheet", "amount", "greater_than_or_equal_to"): ("data.negative", None, {}),
    ("DataSheet", None, "multiple_fields_uniqueness"): ("data.line_repeated", "schema", {}),
    ("ScoreSheet", None, "multiple_fields_uniqueness"): ("scores.code_repeated", None, {}),
    ("ScoreSheet", "code", "str_matches"): ("scores.code_invalid", None, {}),
    ("ScoreSheet", "self_score", "greater_than_or_equal_to"): ("scores.negative", None, {}),
    ("ScoreSheet", "max_score", "greater_than_or_equal_to"): ("scores.max_negative", None, {}),
    ("ScoreSheet", None, "self_score_within_max"): ("scores.above_max", None, {}),
    ("TargetSheet", "kind", "isin"): ("targets.kind_unknown", None, {"allowed": "、".join(TARGET_KINDS)}),
    ("TargetSheet", "category", "isin"): ("targets.category_unknown", None, {"allowed": "、".join(TARGET_CATEGORIES)}),
    ("TargetSheet", None, "target_named"): ("targets.name_missing", None, {}),
}
