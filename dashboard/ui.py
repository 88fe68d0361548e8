"""Streamlit pieces shared by the pages: a table with its downloads, figure display, notices."""

from __future__ import annotations

from datetime import datetime

import pandas as pd
import plotly.graph_objects as go
import streamlit as st
from pandas.io.formats.style import Styler

from pipeline import settings

from . import data, export, filters
from .tables import PCT, WAN

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
    buttons = st.container(horizontal=True, gap="small")
    buttons.download_button("下载 Excel", data=export.xlsx_bytes(shown, title=title, notes=export_notes(title)),
                         file_name=f"{stem}.xlsx", key=f"{key}_xlsx", on_click="ignore", icon=":material/download:",
                         mime="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
    buttons.download_button("下载 CSV", data=export.csv_bytes(shown), file_name=f"{stem}.csv",
                          key=f"{key}_csv", on_click="ignore", mime="text/csv",
                            icon=":material/download:")
    return shown


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
