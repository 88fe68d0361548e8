"""三公经费: control rate by unit, overruns highlighted, composition, totals over the years."""

import pandas as pd
import streamlit as st

from dashboard import data, filters, ui
from presentation import figures
from presentation import tables
from pipeline.scoring.framework import scoring_note

chosen = filters.current()
st.title(f"三公经费 · {chosen.year} 年度")
st.caption("三公经费控制率 = 三公经费实际支出数（第20行）÷ 三公经费预算数（第19行）；超过 100% 即超预算。"
           + scoring_note(chosen.year, "sangong_control_rate")[1])

scores = ui.filtered_scores(chosen)
totals = tables.county_totals(scores)
columns = st.columns(4)
columns[0].metric("三公经费预算数", ui.wanyuan(totals.sangong_budget))
columns[1].metric("三公经费实际支出数", ui.wanyuan(totals.sangong_spent))
columns[2].metric("全县三公经费控制率", ui.percent(totals.sangong_control_rate))
overruns = int((pd.to_numeric(scores["sangong_control_rate"], errors="coerce") > 1).sum())
columns[3].metric("超预算单位", f"{overruns} 个")

ui.figure(figures.sangong_control(scores), key="sangong_chart")

table = tables.sangong_table(scores)
styled = len(table) <= tables.STYLED_ROWS_LIMIT
st.subheader("各单位三公经费（超预算的排在前面" + ("，整行标红）" if styled else "）"))
# Colouring costs Streamlit a second per ten thousand rows; past a county's size the
# 是否超预算 column (overruns sorted first) carries the mark alone.
shown = (table.style.apply(tables.overrun_styles, axis=None).format(precision=2, na_rep="")
         if styled else table)
ui.table(shown, title="三公经费", key="sangong")

left, right = st.columns(2)
with left:
    ui.figure(figures.sangong_composition(scores), key="sangong_parts")
with right:
    history = filters.apply(data.unit_scores(), chosen)
    ui.figure(figures.sangong_totals_by_year(history), key="sangong_years")
st.subheader("历年合计（当前筛选的单位）")
ui.table(tables.county_totals_by_year(history), title="历年合计", key="sangong_history")
