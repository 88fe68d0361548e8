"""Streamlit pieces shared by the pages: a table with its downloads, figure display, notices.

Every download is recorded in the audit log (dashboard.auth.audit_log_path) when it is
taken: who, when, from which page, which table, under which filters, how many rows. The
file is built only then, and not handed over if the record cannot be written.
"""

from __future__ import annotations

import functools
import html
import re
import urllib.parse
from collections.abc import Callable, Sequence
from datetime import datetime

import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from pipeline import settings

from . import auth, data, derived, export, filters
from presentation import tables as _tables
from presentation.tables import PCT, WAN, YUAN

# The entrypoint stores the title of the page being shown here, for the audit log.
PAGE_KEY = "page_title"

_PLOTLY_CONFIG = {"displaylogo": False, "locale": "zh-CN",
                  "toImageButtonOptions": {"format": "png", "scale": 2}}


def build_label(build: dict) -> str:
    built_at = build.get("built_at")
    when = built_at.strftime("%Y-%m-%d %H:%M") if hasattr(built_at, "strftime") else str(built_at)
    return f"{when}（批次 {str(build.get('build_id', ''))[:12]}）"


UNIT_COLUMN = "单位名称"
UNIT_PAGE = "unit"
# Characters that would end or split a query value; everything else (Chinese included) stays
# readable in the link, which the browser encodes when it follows it.
_URL_UNSAFE = re.compile(r"[%&#+?=\s\x00-\x1f]")
_UNIT_IN_LINK = r"[?&]unit=([^&]*)$"


RATE_SOURCES_COLUMN = "比率来源"
RATE_SOURCES_TAB = "比率的来源"  # the tab of 单位详情 that shows each rate's lines and cells


def unit_link(unit_name: str, year: int, *, tab: str | None = None) -> str:
    """The address of the unit's 单位详情 in that year (relative: it works under any base path);
    the unit comes last, where the table's link text is read from."""
    value = _URL_UNSAFE.sub(lambda m: "".join(f"%{b:02X}" for b in m.group().encode()), str(unit_name))
    opened = f"&tab={tab}" if tab else ""
    return f"{UNIT_PAGE}?year={int(year)}{opened}&unit={value}"


Filter = tuple[str, str]


def shown_filters(page_filters: Sequence[Filter] = ()) -> list[Filter]:
    """The sidebar's filters and the page's own (search text, severity, …) as a person reads them."""
    try:
        chosen = filters.current().describe()
    except KeyError:
        chosen = []
    return [*chosen, *[(label, value) for label, value in page_filters if value]]


def download_stem(title: str, year: int, *, unit: str | None = None, narrowed: bool = False) -> str:
    """表格_单位_年度[_筛选]: the file says whose table, which year, and that it is not the whole list."""
    parts = [title, *([unit] if unit else []), f"{year}年度"]
    if narrowed:
        parts.append("已筛选")
    return export.safe_stem("_".join(parts))


def export_notes(title: str, page_filters: Sequence[Filter] = (), unit: str | None = None) -> list[Filter]:
    """What the table shows: the page's filters and the data date, for the download's second sheet."""
    build = derived.read(data.build_info)  # asked for by every download button: kept, not copied
    return [
        *([("单位", unit)] if unit else []),
        *shown_filters(page_filters),
        ("数据日期", build_label(build)),
        ("数据来源", str(build.get("raw_dir", ""))),
        ("导出时间", datetime.now().strftime("%Y-%m-%d %H:%M")),
        ("说明", "金额单位见表头（万元或元），带千分位；比率为百分数"),
    ]


def _column_config(table: pd.DataFrame, *, linked: bool) -> dict:
    config = {}
    for header in table.columns:
        values = table[header]
        if header == UNIT_COLUMN and linked:
            config[header] = st.column_config.LinkColumn(header, display_text=_UNIT_IN_LINK, pinned=True,
                                                         help="点击单位名称打开其单位详情")
        elif header == UNIT_COLUMN:
            config[header] = st.column_config.TextColumn(header, pinned=True)
        elif str(header).endswith(WAN) or str(header).endswith(YUAN):
            config[header] = st.column_config.NumberColumn(header, format="accounting")
        elif str(header).endswith(PCT) or "百分点" in str(header) or pd.api.types.is_float_dtype(values):
            config[header] = st.column_config.NumberColumn(header, format="%.2f")
        elif pd.api.types.is_integer_dtype(values):
            config[header] = st.column_config.NumberColumn(header, format="%d")
    return config


def _with_unit_links(frame: pd.DataFrame, year: int, *, rate_sources: bool = False) -> pd.DataFrame:
    linked = frame.copy()
    names = [name if isinstance(name, str) and name else None for name in frame[UNIT_COLUMN]]
    linked[UNIT_COLUMN] = [unit_link(name, year) if name else None for name in names]
    if rate_sources:
        # display only (downloads hold the table as computed): from a rate to its lines and cells
        linked[RATE_SOURCES_COLUMN] = [unit_link(name, year, tab=RATE_SOURCES_TAB) if name else None
                                       for name in names]
    return linked


def paged(frame: pd.DataFrame) -> bool:
    """Whether table() shows the frame a page at a time, as a plain table, rather than whole
    in the interactive grid: past settings.TABLE_ROWS_IN_FULL rows."""
    return len(frame) > settings.TABLE_ROWS_IN_FULL


def table(frame: pd.DataFrame, *, title: str, key: str, height: int | str = "auto",
          page_filters: Sequence[Filter] = (), unit: str | None = None, links: bool = True,
          year: int | None = None, rate_sources: bool = False, find: bool = True,
          row_styles: Callable[[pd.DataFrame], pd.DataFrame] | None = None,
          when_empty: str | None = None, static: bool = False) -> pd.DataFrame:
    """Show a table and offer it as .xlsx and CSV; both files come from this same DataFrame.
    With when_empty, a frame without rows is only that line, as good news.

    A short table (see paged) is the interactive grid (st.dataframe): the officer scrolls
    through every row, sorts by a click on a header and searches in its toolbar. static=True
    is for a small table of fixed length (a page's top 10, the lowest N): it is drawn as a
    plain HTML table (st.table) instead, as the grid costs the browser its script on a first
    visit and keeps changing about 0.3 s after it looks drawn (docs/benchmarks.md).

    A long table is shown a page of settings.TABLE_PAGE_ROWS rows at a time, as a plain HTML
    table too, with a search box (unless find is False: the page has its own), a sort and a
    page number that work on every row on the server; the downloads hold every row found,
    in the order chosen.

    A 单位名称 column links to each unit's 单位详情. page_filters are the page's own controls
    (search text, severity…) that narrowed the table; the download names them, as it names
    the unit when the table is one unit's. row_styles gives the CSS of every cell of the rows
    shown (a frame shaped like them).
    Returns the rows the downloads hold.
    """
    if when_empty is not None and frame.empty:
        st.success(when_empty)
        return frame
    year = filters.current().year if year is None else year
    shown = frame
    long = paged(frame)
    if long:
        shown, rows, searched = _paged(frame, key=key, find=find)
        page_filters = [*page_filters, ("查找", searched)]
    else:
        rows = frame
    linked = links and UNIT_COLUMN in rows.columns and not rows.empty
    display = _with_unit_links(rows, year, rate_sources=rate_sources) if linked else rows
    config = _column_config(rows, linked=linked)
    if RATE_SOURCES_COLUMN in display.columns:
        config[RATE_SOURCES_COLUMN] = st.column_config.LinkColumn(
            RATE_SOURCES_COLUMN, display_text="查看行次与单元格", help="该单位各比率的分子、分母行次和来源单元格")
    css = None
    if row_styles is not None and not rows.empty:
        css = row_styles(rows).reindex(index=display.index, columns=display.columns, fill_value="")
    if long:
        if not rows.empty:
            st.html(page_html(display, config, css))
    elif static:
        cells = static_cells(display, config)
        st.table(cells if css is None else cells.apply(lambda _: css, axis=None), hide_index=True)
    else:
        if css is not None:
            display = display.style.apply(lambda _: css, axis=None).format(precision=2, na_rep="")
        st.dataframe(display, hide_index=True, height=height, column_config=config, key=f"{key}_table",
                     placeholder="")
    narrowed = any(value for _, value in page_filters) or filters.current().narrowed
    stem = download_stem(title, year, unit=unit, narrowed=narrowed)
    notes = export_notes(title, page_filters, unit)
    buttons = st.container(horizontal=True, gap="small")
    audited_download_button(
        "下载 Excel", lambda: export.xlsx_bytes(shown, title=title, notes=notes), file_name=f"{stem}.xlsx",
        mime="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", key=f"{key}_xlsx",
        table=title, rows=len(shown), container=buttons, page_filters=page_filters)
    audited_download_button("下载 CSV", lambda: export.csv_bytes(shown), file_name=f"{stem}.csv", mime="text/csv",
                            key=f"{key}_csv", table=title, rows=len(shown), container=buttons,
                            page_filters=page_filters)
    return shown


# st.table reads every cell as Markdown: text is escaped (a unit named "A*B" stays so) and a
# link's address has the characters that would end it encoded.
_MARKDOWN_PUNCTUATION = re.compile(r"([!-/:-@\[-`{-~])")
_LINK_UNSAFE = re.compile(r"[()<>\[\]\\ ]")


def _markdown_text(text: str) -> str:
    return _MARKDOWN_PUNCTUATION.sub(r"\\\1", text)


def _markdown_link(text: str, address: str) -> str:
    safe = _LINK_UNSAFE.sub(lambda m: "".join(f"%{b:02X}" for b in m.group().encode()), address)
    return f"[{_markdown_text(text)}]({safe})"


def _type_config(column: dict | None) -> dict:
    """A column config's kind and format (st.column_config's "type_config"); {} for no config."""
    return (column or {}).get("type_config") or {}


def _cell(value, column) -> tuple[str, str | None]:
    """One cell as the grid would show it under its column config: its text, and the address
    it links to (None for a cell that is no link)."""
    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return "", None
    kind = _type_config(column)
    if kind.get("type") == "link":
        shown = kind.get("display_text") or value
        found = re.search(shown, value) if shown == _UNIT_IN_LINK else None
        return (urllib.parse.unquote(found.group(1)) if found else shown), value
    number = kind.get("format") if kind.get("type") == "number" else None
    if number == "accounting":
        return f"{value:,.2f}", None
    if number:
        return number % value, None
    return str(value), None


def _static_cell(value, column) -> str:
    """One cell as the grid would show it under its column config, in Markdown."""
    text, address = _cell(value, column)
    return _markdown_link(text, address) if address else _markdown_text(text)


def static_table(frame: pd.DataFrame, config: dict | None = None) -> None:
    """A small table of fixed length as plain HTML (st.table), its cells formatted as the grid
    would format them (config: as for st.dataframe; by default from the headers and types)."""
    st.table(static_cells(frame, _column_config(frame, linked=False) if config is None else config),
             hide_index=True)


def static_cells(frame: pd.DataFrame, config: dict):
    """The frame (its values kept) styled to show each cell as Markdown formatted as the grid
    formats it under config (thousands separators for amounts, two decimals for rates and
    scores, links for units), numbers aligned right as in the grid."""
    styled = frame.style.format({header: functools.partial(_static_cell, column=config.get(header))
                                 for header in frame.columns})
    numbers = [header for header in frame.columns if _type_config(config.get(header)).get("type") == "number"]
    return styled.set_properties(subset=numbers, **{"text-align": "right"}) if numbers else styled


# The page of a long table is one piece of HTML, not st.table: st.table renders every cell as
# its own Markdown element, and fifty rows of twenty columns cost the browser more than the
# grid they replace (docs/benchmarks.md). The look follows st.table's.
_PAGE_CLASS = "perf-page-table"
_PAGE_CSS = (f"<style>.{_PAGE_CLASS}{{overflow-x:auto}}"
             f".{_PAGE_CLASS} table{{border-collapse:collapse;font-size:0.875rem;line-height:1.4;min-width:100%}}"
             f".{_PAGE_CLASS} th,.{_PAGE_CLASS} td{{border:1px solid rgba(128,128,128,0.25);padding:0.25rem 0.5rem;"
             f"vertical-align:middle;text-align:left;white-space:nowrap}}"
             f".{_PAGE_CLASS} th{{font-weight:normal;opacity:0.7}}"
             f".{_PAGE_CLASS} .n{{text-align:right}}"
             f".{_PAGE_CLASS} td.w{{white-space:normal;min-width:16rem}}</style>")
_NUMBER, _WRAPPED = ' class="n"', ' class="w"'
_ONE_LINE_CHARS = 24  # a column with longer text wraps it; the others keep each cell on one line


def page_html(frame: pd.DataFrame, config: dict, css: pd.DataFrame | None = None) -> str:
    """The rows as one HTML table, each cell formatted as the grid formats it under config
    (thousands separators, two decimals, links for units, numbers aligned right) and text
    escaped; css (a frame shaped like the rows) gives each cell's style."""
    columns = [config.get(header) for header in frame.columns]
    cells = [[_cell(value, column) for value, column in zip(values, columns)]
             for values in frame.itertuples(index=False, name=None)]
    kinds = [_NUMBER if _type_config(column).get("type") == "number"
             else _WRAPPED if any(len(row[j][0]) > _ONE_LINE_CHARS for row in cells) else ""
             for j, column in enumerate(columns)]
    head = "".join(f"<th{kind if kind == _NUMBER else ''}>{html.escape(str(header))}</th>"
                   for header, kind in zip(frame.columns, kinds))
    styles = css.to_numpy() if css is not None else None
    body = []
    for i, row in enumerate(cells):
        shown = []
        for j, (text, address) in enumerate(row):
            content = (f'<a href="{html.escape(address)}" target="_blank">{html.escape(text)}</a>' if address
                       else html.escape(text))
            style = f' style="{html.escape(styles[i, j])}"' if styles is not None and styles[i, j] else ""
            shown.append(f"<td{kinds[j]}{style}>{content}</td>")
        body.append(f"<tr>{''.join(shown)}</tr>")
    return (f'{_PAGE_CSS}<div class="{_PAGE_CLASS}"><table><thead><tr>{head}</tr></thead>'
            f'<tbody>{"".join(body)}</tbody></table></div>')


DEFAULT_ORDER = "（表格原有顺序）"
ORDERS = ("从低到高", "从高到低")


def _first_page(page_key: str) -> None:
    st.session_state[page_key] = 1


def _paged(frame: pd.DataFrame, *, key: str, find: bool) -> tuple[pd.DataFrame, pd.DataFrame, str]:
    """The controls of a long table: (every row found, in the order chosen; the rows of the
    page shown; the search text). Search, sort and order are kept in the address. The page is
    a plain table: its headers do not sort, the 排序 box sorts every row."""
    controls = st.container(horizontal=True, vertical_alignment="bottom", gap="small")
    page_key = f"{key}_page"
    back_to_first = {"on_change": _first_page, "args": (page_key,)}  # a new search or order starts at its top
    text = ""
    if find:
        text = controls.text_input("查找", key=f"{key}_find", placeholder="单位名称、类型、部门等文字",
                                   bind="query-params", help="在全部行的文字列中查找（不只是当前页）",
                                   **back_to_first).strip()
    column = controls.selectbox("排序", [DEFAULT_ORDER, *map(str, frame.columns)], key=f"{key}_sort",
                                bind="query-params", help="按所选列对全部行排序",
                                **back_to_first)
    order = controls.radio("顺序", ORDERS, key=f"{key}_order", horizontal=True, bind="query-params",
                           disabled=column == DEFAULT_ORDER, **back_to_first)
    found = _tables.find_rows(frame, text)
    ordered = _tables.order_rows(found, None if column == DEFAULT_ORDER else column, order == ORDERS[1])
    size = settings.TABLE_PAGE_ROWS
    pages = _tables.page_count(len(ordered), size)
    if not 1 <= int(st.session_state.get(page_key) or 1) <= pages:
        st.session_state[page_key] = 1  # a new search or sort found fewer pages
    page = int(controls.number_input(f"页（共 {pages} 页）", min_value=1, max_value=pages, step=1, key=page_key))
    rows = _tables.page_rows(ordered, page, size)
    first, last = (page - 1) * size + 1, (page - 1) * size + len(rows)
    found_note = f"查找“{text}”得到 {len(ordered):,} 行，" if text else ""
    st.caption(f"共 {len(frame):,} 行，{found_note}每页 {size} 行，这是第 {page} 页（第 {first:,}–{last:,} 行）。"
               f"下载的 Excel 和 CSV 包含{'查找到的' if text else '全部'} {len(ordered):,} 行。"
               if len(ordered) else f"共 {len(frame):,} 行，没有包含“{text}”的行。")
    return ordered, rows, text


def audited_download(content: Callable[[], bytes], *, viewer: auth.Viewer, page: str | None, table: str,
                     file_name: str, rows: int | None, filters_shown: list[tuple[str, str]],
                     build_id: str | None, address: str | None = None,
                     log_path=None) -> Callable[[], bytes]:
    """The file's content as a callable that first records who takes it; for a deferred download.

    Streamlit calls it on another thread when the button is clicked, so everything it needs
    is captured here, on the page's run.
    """
    log_path = auth.audit_log_path() if log_path is None else log_path

    def deliver() -> bytes:
        payload = content()
        auth.append_audit(auth.audit_record(
            "download", viewer, page=page, table=table, file=file_name,
            format=file_name.rsplit(".", 1)[-1].lower(), rows=rows, filters=dict(filters_shown),
            build_id=build_id, address=address), log_path)
        return payload

    return deliver


def audited_download_button(label: str, content: Callable[[], bytes], *, file_name: str, mime: str, key: str,
                            table: str, rows: int | None = None, container=None,
                            icon: str = ":material/download:", page_filters: Sequence[Filter] = (),
                            **options) -> None:
    """st.download_button whose file is built on click and recorded in the audit log."""
    deliver = audited_download(
        content, viewer=auth.current_viewer(), page=st.session_state.get(PAGE_KEY), table=table,
        file_name=file_name, rows=rows, filters_shown=shown_filters(page_filters),
        build_id=str(derived.read(data.build_info).get("build_id", "")), address=auth.client_address())
    (container or st).download_button(label, data=deliver, file_name=file_name, mime=mime, key=key,
                                      on_click="ignore", icon=icon, **options)


def figure(fig: go.Figure, *, key: str, toolbar: bool = True) -> None:
    """toolbar=False for a small summary chart: no mode bar (zoom, PNG) for the browser to build."""
    config = _PLOTLY_CONFIG if toolbar else {**_PLOTLY_CONFIG, "displayModeBar": False}
    st.plotly_chart(fig, key=key, config=config, theme=None)


def wanyuan(value: float | None) -> str:
    return "—" if value is None else f"{value / settings.WANYUAN:,.2f} 万元"


def percent(value: float | None) -> str:
    return "—" if value is None else f"{value * 100:.2f}%"


def points(value: float | None) -> str:
    return "—" if value is None or pd.isna(value) else f"{value:.2f} 分"


def empty(message: str = "当前筛选条件下没有数据。") -> None:
    st.info(message)


def filtered_scores(chosen: filters.Filters) -> pd.DataFrame:
    """The year's unit_scores under the shared filters (with each unit's 地区 when the roster has
    them); when none match, the page says why and stops.

    A unit account whose unit has nothing loaded is told why (quarantined, not submitted…),
    not that the filters match nothing.
    """
    scores = derived.scores(chosen)  # shared between reruns: read, never modify
    if scores.empty:
        viewer = auth.current_viewer()
        if not viewer.sees_everything and viewer.unit:
            explain_absence(viewer.unit, chosen.year)
        else:
            empty()
        st.stop()
    return scores


def explain_own_absence(unit: str, year: int) -> None:
    explain_absence(unit, year)


def explain_absence(unit: str, year: int) -> None:
    """Why the unit asked for is not shown for the year, in the words an officer or the unit needs."""
    chosen = filters.current()
    everyone = data.unit_scores(year)
    here = everyone[everyone["unit_name"] == unit]
    if not here.empty:
        reasons = chosen.excluded_by(here.iloc[0].to_dict())
        st.warning(f"“{unit}”{year} 年度已入库，但不在当前侧栏筛选范围内：{'；'.join(reasons)}。"
                   "清除侧栏中的筛选即可查看。")
        return
    files = data.unit_files(unit, year)
    quarantined = files[files["state"] == "quarantined"]
    if not quarantined.empty:
        st.error(f"“{unit}”{year} 年度报送的文件已被隔离，无法入库，因此没有可显示的数字。")
        for file in quarantined.itertuples(index=False):
            st.markdown(f"- 文件 `{file.file}`：{file.reason or '见问题清单'}")
        findings = data.unit_findings(unit, year)
        if not findings.empty:
            st.markdown("须改正的问题（改正后请重新报送）：")
            table(_tables.findings_table(findings), title="问题清单", key="absent_findings", unit=unit, year=year)
        return
    status = data.unit_status(unit, year)
    if not status.empty and not bool(status.iloc[0]["submitted"]):
        st.warning(f"“{unit}”在单位名录中，但 {year} 年度尚未报送。")
        return
    if not files.empty:
        states = "、".join(f"{_tables.file_state_label(s)} {n} 个" for s, n in files["state"].value_counts().items())
        st.warning(f"“{unit}”{year} 年度没有已入库的工作簿（文件：{states}）。")
        return
    st.warning(f"数据仓库中 {year} 年度没有名为“{unit}”的单位（不在名录中，也没有报送）。请核对链接中的单位名称。")



