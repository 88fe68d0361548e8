"""Streamlit pieces shared by the pages: a table with its downloads, figure display, notices.

Every download is recorded in the audit log (dashboard.auth.audit_log_path) when it is
taken: who, when, from which page, which table, under which filters, how many rows. The
file is built only then, and not handed over if the record cannot be written.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

import pandas as pd
import plotly.graph_objects as go
import streamlit as st
from pandas.io.formats.style import Styler

from pipeline import settings

from . import auth, data, export, filters
from presentation.tables import PCT, WAN

# The entrypoint stores the title of the page being shown here, for the audit log.
PAGE_KEY = "page_title"

_PLOTLY_CONFIG = {"displaylogo": False, "locale": "zh-CN",
                  "toImageButtonOptions": {"format": "png", "scale": 2}}


def build_label(build: dict) -> str:
    built_at = build.get("built_at")
    when = built_at.strftime("%Y-%m-%d %H:%M") if hasattr(built_at, "strftime") else str(built_at)
    return f"{when}（批次 {str(build.get('build_id', ''))[:12]}）"


def export_notes(title: str) -> list[tuple[str, str]]:
    """What the table shows: the page's filters and the data date, for the download's second sheet."""
    build = data.build_info()
    chosen = filters.current()
    return [
        *chosen.describe(),
        ("数据日期", build_label(build)),
        ("数据来源", str(build.get("raw_dir", ""))),
        ("导出时间", datetime.now().strftime("%Y-%m-%d %H:%M")),
        ("说明", "金额单位：万元（表头注明）；比率为百分数（表头注明 %）"),
    ]


def _column_config(table: pd.DataFrame) -> dict:
    config = {}
    for header in table.columns:
        values = table[header]
        if str(header).endswith(WAN):
            config[header] = st.column_config.NumberColumn(header, format="accounting")
        elif str(header).endswith(PCT) or "百分点" in str(header) or pd.api.types.is_float_dtype(values):
            config[header] = st.column_config.NumberColumn(header, format="%.2f")
        elif pd.api.types.is_integer_dtype(values):
            config[header] = st.column_config.NumberColumn(header, format="%d")
    return config


def table(frame: pd.DataFrame | Styler, *, title: str, key: str,
          height: int | str = "auto") -> pd.DataFrame:
    """Show a table and offer it as .xlsx and CSV; both files come from this same DataFrame."""
    styler = frame if not isinstance(frame, pd.DataFrame) else None
    shown = styler.data if styler is not None else frame
    st.dataframe(styler if styler is not None else shown, hide_index=True, height=height,
                 column_config=_column_config(shown), key=f"{key}_table", placeholder="")
    stem = f"{title}_{filters.current().year}"
    notes = export_notes(title)
    buttons = st.container(horizontal=True, gap="small")
    audited_download_button(
        "下载 Excel", lambda: export.xlsx_bytes(shown, title=title, notes=notes), file_name=f"{stem}.xlsx",
        mime="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", key=f"{key}_xlsx",
        table=title, rows=len(shown), container=buttons)
    audited_download_button("下载 CSV", lambda: export.csv_bytes(shown), file_name=f"{stem}.csv", mime="text/csv",
                            key=f"{key}_csv", table=title, rows=len(shown), container=buttons)
    return shown


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
                            icon: str = ":material/download:", **options) -> None:
    """st.download_button whose file is built on click and recorded in the audit log."""
    try:
        shown_filters = filters.current().describe()
    except KeyError:
        shown_filters = []
    deliver = audited_download(
        content, viewer=auth.current_viewer(), page=st.session_state.get(PAGE_KEY), table=table,
        file_name=file_name, rows=rows, filters_shown=shown_filters,
        build_id=str(data.build_info().get("build_id", "")), address=auth.client_address())
    (container or st).download_button(label, data=deliver, file_name=file_name, mime=mime, key=key,
                                      on_click="ignore", icon=icon, **options)


def figure(fig: go.Figure, *, key: str) -> None:
    st.plotly_chart(fig, key=key, config=_PLOTLY_CONFIG, theme=None)


def wanyuan(value: float | None) -> str:
    return "—" if value is None else f"{value / settings.WANYUAN:,.2f} 万元"


def percent(value: float | None) -> str:
    return "—" if value is None else f"{value * 100:.2f}%"


def points(value: float | None) -> str:
    return "—" if value is None or pd.isna(value) else f"{value:.2f} 分"


def empty(message: str = "当前筛选条件下没有数据。") -> None:
    st.info(message)


def filtered_scores(chosen: filters.Filters) -> pd.DataFrame:
    """The year's unit_scores under the shared filters; when none match, the page says so and stops."""
    scores = filters.apply(data.unit_scores(chosen.year), chosen)
    if scores.empty:
        empty()
        st.stop()
    return scores
