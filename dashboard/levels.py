"""What the chart pages share: the level comparison (地区 → 主管部门 → unit), the N of their
最低/最高 N charts and the view an officer is looking at, all kept in the address
(?region=…&dept=…&n=15&execution_view=执行分解).

A page shows one view at a time (a chart, or a chart and its table): the others are one click
away and are not drawn until chosen. Drawing every chart and table of a page at once cost
the browser seconds at a province's size (docs/benchmarks.md); st.tabs and st.expander
would not help, as they send their content whether opened or not."""

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
        bind="query-params", width=300, help="图表中列出的支出率（或得分）最低和最高的单位数"))


def choose_view(key: str, views: list[str], *, label: str = "查看") -> str:
    """The view of the page chosen among `views` (the first unless the address names another),
    bound to ?<key>=. Only the chosen view's code runs."""
    current = st.session_state.get(key, st.query_params.get(key))
    if current not in views:
        # A view this selection does not offer: the comparison one level up or down (drilling
        # down from 按地区比较 stays in 按主管部门比较), else the first (a county's charts
        # against a province's, a comparison at the last level).
        st.session_state[key] = next((v for v in views if is_comparison(v) and is_comparison(current)), views[0])
    chosen = st.segmented_control(label, views, key=key, required=True, bind="query-params")
    return chosen if chosen in views else views[0]


def is_comparison(view: str | None) -> bool:
    return isinstance(view, str) and view.startswith("按") and view.endswith("比较")


def comparison(scores: pd.DataFrame, chosen: filters.Filters, *, sort_by: str = "execution_rate",
               over_is_bad: bool = False) -> tuple[str, pd.DataFrame] | None:
    """(level, group table) of the current level (地区, else 主管部门); None when the units
    themselves are the level (one 主管部门 chosen) or there is one group only."""
    by = chosen.compare_by()
    if by is None:
        return None
    frame = filters.with_region(scores, chosen)
    table = cached(aggregates.group_table, frame, by, sort_by=sort_by, ascending=not over_is_bad)
    return None if len(table) < 2 else (by, table)


def comparison_view(scores: pd.DataFrame, chosen: filters.Filters, *, sort_by: str = "execution_rate",
                    over_is_bad: bool = False) -> list[str]:
    """[按地区比较 / 按主管部门比较], the view of the level comparison; empty when there is none."""
    compared = comparison(scores, chosen, sort_by=sort_by, over_is_bad=over_is_bad)
    return [] if compared is None else [f"按{aggregates.label(compared[0])}比较"]


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
    compared = comparison(scores, chosen, sort_by=sort_by, over_is_bad=over_is_bad)
    if compared is None:
        return None
    by, table = compared
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
