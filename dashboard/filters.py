"""The filters every page shares: 年度, 单位类型, 主管部门, 复核等级.

The sidebar widgets are bound to the URL's query parameters (?year=2024&type=乡镇…),
so the address bar always reproduces the view and can be sent to a colleague. The year is
always written out, the latest one too: a link shared today must not open next year's data
once a new year is loaded. A year the warehouse does not hold is not silently replaced:
the page says which year was asked for and which is shown.
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
_YEAR_WIDGET = "year"  # the widget's key; the link's parameter has the same name


@dataclass(frozen=True)
class Filters:
    year: int
    unit_types: tuple[str, ...] = field(default_factory=tuple)
    departments: tuple[str, ...] = field(default_factory=tuple)
    grades: tuple[str, ...] = field(default_factory=tuple)
    requested_year: str | None = None  # the link's year when the warehouse has no such year

    @property
    def narrowed(self) -> bool:
        return bool(self.unit_types or self.departments or self.grades)

    def excluded_by(self, row: dict) -> list[str]:
        """Which of the chosen filters leave out a unit with these 单位类型 / 主管部门 / 复核等级."""
        reasons = []
        if self.unit_types and row.get("unit_type") not in self.unit_types:
            reasons.append(f"单位类型为“{row.get('unit_type') or '未填'}”，不在所选的{'、'.join(self.unit_types)}中")
        if self.departments and row.get("department") not in self.departments:
            reasons.append(f"主管部门为“{row.get('department') or '未填'}”，不在所选的{'、'.join(self.departments)}中")
        if self.grades and row.get("review_grade") not in self.grades:
            reasons.append(f"复核等级为“{row.get('review_grade') or '无'}”，不在所选的{'、'.join(self.grades)}中")
        return reasons

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


def _year_chosen() -> None:
    st.query_params[YEAR_KEY] = str(st.session_state[_YEAR_WIDGET])


def sidebar(years: list[int], unit_types: list[str], departments: list[str]) -> Filters:
    """Draw the shared filters in the sidebar and return what is selected."""
    with st.sidebar:
        st.header("筛选")
        options = sorted(years, reverse=True)
        known = {str(y) for y in years}
        requested = st.query_params.get(YEAR_KEY)
        if requested in known and st.session_state.get(_YEAR_WIDGET) != int(requested):
            # The link decides on arrival and whenever the address is edited; the widget afterwards.
            st.session_state[_YEAR_WIDGET] = int(requested)
        elif st.session_state.get(_YEAR_WIDGET) not in options:
            st.session_state[_YEAR_WIDGET] = options[0]
        year = st.selectbox("评价年度", options=options, key=_YEAR_WIDGET, on_change=_year_chosen)
        unknown = requested if requested is not None and requested not in known else None
        if unknown is None:
            st.query_params[YEAR_KEY] = str(year)
        chosen_types = st.multiselect("单位类型", options=unit_types, key=TYPE_KEY, placeholder="全部",
                                      bind="query-params")
        chosen_departments = st.multiselect("主管部门", options=departments, key=DEPARTMENT_KEY,
                                            placeholder="全部", bind="query-params")
        chosen_grades = st.multiselect("复核等级", options=list(GRADES), key=GRADE_KEY, placeholder="全部",
                                       bind="query-params")
    return Filters(year=int(year), unit_types=tuple(chosen_types), departments=tuple(chosen_departments),
                   grades=tuple(chosen_grades), requested_year=unknown)


def current() -> Filters:
    """The filters chosen in the sidebar on this run (the entrypoint draws them first)."""
    return st.session_state["filters"]
