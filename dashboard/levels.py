"""The level comparison the chart pages share (地区 → 主管部门 → unit) and the N of their
最低/最高 N charts, both kept in the address (?region=…&dept=…&n=15)."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from pipeline import settings
from presentation import aggregates, figures

from . import derived, filters, ui

EXTREMES_KEY = "n"


def cached(function, *args, **kwargs):
    """function(*args, **kwargs), a pure builder of presentation/, kept for the next rerun: going
    back to a page or changing a widget elsewhere redraws without recomputing a province's
    aggregates and figures (dashboard.derived)."""
    return derived.cached(function, *args, **kwargs)


def extremes_count(container=None) -> int:
    """The officer's N for the lowest and highest N units (bound to ?n=)."""
    if EXTREMES_KEY not in st.session_state and EXTREMES_KEY not in st.query_params:
        st.session_state[EXTREMES_KEY] = settings.EXTREMES_DEFAULT
    return int((container or st).number_input(
        "最低、最高单位数（N）", min_value=1, max_value=settings.EXTREMES_MAX, step=1, key=EXTREMES_KEY,
        bind="query-params", help="图表中列出的支出率（或得分）最低和最高的单位数"))


def grouping(scores: pd.DataFrame, chosen: filters.Filters) -> tuple[str, str]:
    """(column, label) to group the page's distributions by: the level being compared, else 单位类型."""
    by = chosen.compare_by() or "unit_type"
    if by == "department" and scores["department"].nunique() > settings.GROUP_CHART_LIMIT * 5:
        by = "unit_type"  # a province's thousands of 主管部门 are compared in the table, not in boxes
    return by, aggregates.label(by)


def compare(scores: pd.DataFrame, chosen: filters.Filters, *, value: str, title: str, axis_title: str,
            key: str, sort_by: str = "execution_rate", reference: float | None = None,
            over_is_bad: bool = False) -> pd.DataFrame | None:
    """Compare the groups of the current level (地区, else the 主管部门): a bar per group of the
    table's `value` column and the table itself; choosing one moves a level down. None when
    the units themselves are the level (one 主管部门 chosen) or there is one group only."""
    by = chosen.compare_by()
    if by is None:
        return None
    frame = filters.with_region(scores, chosen)
    table = cached(aggregates.group_table, frame, by, sort_by=sort_by, ascending=not over_is_bad)
    if len(table) < 2:
        return None
    level = aggregates.label(by)
    st.subheader(f"按{level}比较（{len(table)} 个{level}）")
    st.caption("比率为各组支出（实际数）之和 ÷ 预算数之和，不是各单位比率的平均；"
               + ("选择一个地区，查看其中各主管部门。" if by == "region" else "选择一个主管部门，查看其中各单位。"))
    ui.figure(cached(figures.group_bars, table, level, value, title=title, axis_title=axis_title,
                     reference=reference, over_is_bad=over_is_bad), key=f"{key}_{by}_chart")
    names = table[level].astype(str).tolist()
    choice_key = f"{key}_{by}_drill"

    def go_down() -> None:
        name = st.session_state.get(choice_key)
        if name and name != aggregates.NO_GROUP:
            filters.drill_down(by, name)
        st.session_state[choice_key] = None

    st.selectbox(f"进入{level}", names, index=None, key=choice_key, on_change=go_down,
                 placeholder=f"选择{level}（表中按{value}{'从高到低' if over_is_bad else '从低到高'}排列）")
    ui.table(table, title=f"按{level}比较", key=f"{key}_{by}")
    return table
