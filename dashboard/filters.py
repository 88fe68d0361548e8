"""The filters every page shares: 年度, 单位类型, 主管部门, 复核等级.

The sidebar widgets are bound to the URL's query parameters (?year=2024&type=乡镇…),
so the address bar always reproduces the view and can be sent to a colleague.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd
import streamlit as st

from schemas.form import GRADES

YEAR_KEY = "year"
TYPE_KEY = "type"
DEPARTMENT_KEY = "dept"
GRADE_KEY = "grade"


@dataclass(frozen=True)
class Filters:
    year: int
    unit_types: tuple[str, ...] = field(default_factory=tuple)
    departments: tuple[str, ...] = field(default_factory=tuple)
    grades: tuple[str, ...] = field(default_factory=tuple)

    def describe(self) -> list[tuple[str, str]]:
        """The filters as a person reads them, one (名称, 取值) pair each."""
        return [
            ("评价年度", str(self.year)),
            ("单位类型", "、".join(self.unit_types) or "全部"),
            ("主管部门", "、".join(self.departments) or "全部"),
            ("复核等级", "、".join(self.grades) or "全部"),
        ]


def apply(frame: pd.DataFrame, filters: Filters, *, grade_column: str | None = "review_grade") -> pd.DataFrame:
    """Rows of frame that pass 单位类型, 主管部门 and (when the frame has grades) 复核等级.

    The year is not applied here: every query already asks for one year.
    """
    keep = pd.Series(True, index=frame.index)
    if filters.unit_types and "unit_type" in frame:
        keep &= frame["unit_type"].isin(filters.unit_types)
    if filters.departments and "department" in frame:
        keep &= frame["department"].isin(filters.departments)
    if filters.grades and grade_column and grade_column in frame:
        keep &= frame[grade_column].isin(filters.grades)
    return frame[keep].reset_index(drop=True)


def sidebar(years: list[int], unit_types: list[str], departments: list[str]) -> Filters:
    """Draw the shared filters in the sidebar and return what is selected."""
    with st.sidebar:
        st.header("筛选")
        year = st.selectbox("评价年度", options=sorted(years, reverse=True), key=YEAR_KEY,
                            bind="query-params")
        chosen_types = st.multiselect("单位类型", options=unit_types, key=TYPE_KEY, placeholder="全部",
                                      bind="query-params")
        chosen_departments = st.multiselect("主管部门", options=departments, key=DEPARTMENT_KEY,
                                            placeholder="全部", bind="query-params")
        chosen_grades = st.multiselect("复核等级", options=list(GRADES), key=GRADE_KEY, placeholder="全部",
                                       bind="query-params")
    return Filters(year=int(year), unit_types=tuple(chosen_types), departments=tuple(chosen_departments),
                   grades=tuple(chosen_grades))


def current() -> Filters:
    """The filters chosen in the sidebar on this run (the entrypoint draws them first)."""
    return st.session_state["filters"]
