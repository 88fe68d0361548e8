"""The filters every page shares: 年度, 地区, 单位类型, 主管部门, 复核等级.

The sidebar widgets are bound to the URL's query parameters (?year=2024&region=…&type=乡镇…),
so the address bar always reproduces the view and can be sent to a colleague.

地区 is offered when the roster has it (units.csv's optional 地区 column: the counties of a
city or a province). The pages then compare 地区 first, the 主管部门 of one 地区 next, and
the units of one 主管部门 last (Filters.compare_by); choosing a row of a comparison moves
one level down (drill_down), by setting the same URL-bound filter.

The year is always written out, the latest one too: a link shared today must not open next
year's data once a new year is loaded. A year the warehouse does not hold is not silently replaced:
the page says which year was asked for and which is shown.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import pandas as pd
import streamlit as st

from schemas.form import GRADES

YEAR_KEY = "year"
TYPE_KEY = "type"
DEPARTMENT_KEY = "dept"
GRADE_KEY = "grade"
REGION_KEY = "region"
LEVEL_KEYS = {"region": REGION_KEY, "department": DEPARTMENT_KEY}
_YEAR_WIDGET = "year"  # the widget's key; the link's parameter has the same name


@dataclass(frozen=True)
class Filters:
    year: int
    unit_types: tuple[str, ...] = field(default_factory=tuple)
    departments: tuple[str, ...] = field(default_factory=tuple)
    grades: tuple[str, ...] = field(default_factory=tuple)
    regions: tuple[str, ...] = field(default_factory=tuple)
    # 地区 of each roster unit (unit_name → 地区); empty when the roster has no 地区
    region_of: Mapping[str, str] = field(default_factory=dict, compare=False, repr=False)
    requested_year: str | None = None  # the link's year when the warehouse has no such year

    def key(self) -> tuple:
        """What the filters select, for keeping results per choice (the roster's 地区 come with the build)."""
        return (self.year, self.unit_types, self.departments, self.grades, self.regions)

    @property
    def has_regions(self) -> bool:
        return bool(self.region_of)

    @property
    def narrows_units(self) -> bool:
        """Whether 地区, 单位类型 or 主管部门 leave out some units (复核等级 aside)."""
        return bool(self.regions or self.unit_types or self.departments)

    def compare_by(self) -> str | None:
        """The level the pages compare: 地区 until one is chosen, then 主管部门 until one is
        chosen, then the units themselves (None)."""
        if self.has_regions and len(self.regions) != 1:
            return "region"
        if len(self.departments) != 1:
            return "department"
        return None

    @property
    def narrowed(self) -> bool:
        return bool(self.regions or self.unit_types or self.departments or self.grades)

    def excluded_by(self, row: dict) -> list[str]:
        """Which of the chosen filters leave out a unit with these 地区 / 单位类型 / 主管部门 / 复核等级."""
        reasons = []
        if self.regions and self.region_of.get(row.get("unit_name")) not in self.regions:
            region = self.region_of.get(row.get("unit_name")) or "未填"
            reasons.append(f"地区为“{region}”，不在所选的{'、'.join(self.regions)}中")
        if self.unit_types and row.get("unit_type") not in self.unit_types:
            reasons.append(f"单位类型为“{row.get('unit_type') or '未填'}”，不在所选的{'、'.join(self.unit_types)}中")
        if self.departments and row.get("department") not in self.departments:
            reasons.append(f"主管部门为“{row.get('department') or '未填'}”，不在所选的{'、'.join(self.departments)}中")
        if self.grades and row.get("review_grade") not in self.grades:
            reasons.append(f"复核等级为“{row.get('review_grade') or '无'}”，不在所选的{'、'.join(self.grades)}中")
        return reasons

    def describe(self) -> list[tuple[str, str]]:
        """The filters as a person reads them, one (名称, 取值) pair each."""
        regions = [("地区", "、".join(self.regions) or "全部")] if self.has_regions else []
        return [
            ("评价年度", str(self.year)),
            *regions,
            ("单位类型", "、".join(self.unit_types) or "全部"),
            ("主管部门", "、".join(self.departments) or "全部"),
            ("复核等级", "、".join(self.grades) or "全部"),
        ]


def apply(frame: pd.DataFrame, filters: Filters, *, grade_column: str | None = "review_grade") -> pd.DataFrame:
    """Rows of frame that pass 单位类型, 主管部门 and (when the frame has grades) 复核等级.

    The year is not applied here: every query already asks for one year.
    """
    keep = pd.Series(True, index=frame.index)
    if filters.regions:
        keep &= region_column(frame, filters).isin(filters.regions)
    if filters.unit_types and "unit_type" in frame:
        keep &= frame["unit_type"].isin(filters.unit_types)
    if filters.departments and "department" in frame:
        keep &= frame["department"].isin(filters.departments)
    if filters.grades and grade_column and grade_column in frame:
        keep &= frame[grade_column].isin(filters.grades)
    return frame[keep].reset_index(drop=True)


def region_column(frame: pd.DataFrame, filters: Filters) -> pd.Series:
    """The 地区 of each row: the frame's own region column, else the roster's by unit_name."""
    if "region" in frame:
        return frame["region"]
    if "unit_name" in frame:
        return frame["unit_name"].map(filters.region_of)
    return pd.Series(None, index=frame.index, dtype="object")


def with_region(frame: pd.DataFrame, filters: Filters) -> pd.DataFrame:
    """frame with a region column (the roster's 地区 of each unit), for comparing 地区."""
    if "region" in frame or not filters.has_regions:
        return frame
    return frame.assign(region=region_column(frame, filters))


def departments_in(regions: tuple[str, ...], roster: pd.DataFrame, departments: list[str]) -> list[str]:
    """The 主管部门 offered once 地区 are chosen: those with a unit in them (all when none is)."""
    if not regions or roster.empty:
        return departments
    inside = set(roster.loc[roster["region"].isin(regions), "department"].dropna())
    return [d for d in departments if d in inside]


def drill_down(level: str, name: str) -> None:
    """Choose `name` at `level` (region / department), as if picked in the sidebar: one level down."""
    key = LEVEL_KEYS[level]
    st.session_state[key] = [name]
    if level == "region":
        st.session_state[DEPARTMENT_KEY] = []


def _year_chosen() -> None:
    st.query_params[YEAR_KEY] = str(st.session_state[_YEAR_WIDGET])


def sidebar(years: list[int], unit_types: list[str], departments: list[str],
            roster_regions: pd.DataFrame | None = None) -> Filters:
    """Draw the shared filters in the sidebar and return what is selected.

    roster_regions: unit_name, department, region of the roster units that have a 地区
    (dashboard.data.regions()); read here when not given.
    """
    if roster_regions is None:
        from . import data

        roster_regions = data.regions()
    region_of = dict(zip(roster_regions["unit_name"], roster_regions["region"]))
    regions = sorted(set(region_of.values()))
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
        chosen_regions: list[str] = []
        if regions:
            chosen_regions = st.multiselect("地区", options=regions, key=REGION_KEY, placeholder="全部",
                                            bind="query-params")
        chosen_types = st.multiselect("单位类型", options=unit_types, key=TYPE_KEY, placeholder="全部",
                                      bind="query-params")
        offered = departments_in(tuple(chosen_regions), roster_regions, departments)
        # A 主管部门 already chosen stays offered, so a link that names it keeps working.
        offered += [d for d in st.session_state.get(DEPARTMENT_KEY) or [] if d not in offered and d in departments]
        chosen_departments = st.multiselect("主管部门", options=offered, key=DEPARTMENT_KEY,
                                            placeholder="全部", bind="query-params")
        chosen_grades = st.multiselect("复核等级", options=list(GRADES), key=GRADE_KEY, placeholder="全部",
                                       bind="query-params")
    return Filters(year=int(year), unit_types=tuple(chosen_types), departments=tuple(chosen_departments),
                   grades=tuple(chosen_grades), regions=tuple(chosen_regions), region_of=region_of,
                   requested_year=unknown)


def current() -> Filters:
    """The filters chosen in the sidebar on this run (the entrypoint draws them first)."""
    return st.session_state["filters"]
