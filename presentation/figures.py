"""Plotly figures, as pure functions: warehouse frames in, figures out.

Inputs carry the warehouse's units (元, fractions); the figures show 万元 and %, with
the unit in every axis title, and a CJK font stack so Chinese renders on any desktop.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from pipeline import settings
from schemas.form import GRADES

from .tables import REPORT_ITEM_LABELS, deduction_matrix, deductions, grade_flow_table, to_percent, to_wanyuan

FONT_FAMILY = "Noto Sans CJK SC, Source Han Sans SC, Microsoft YaHei, PingFang SC, SimHei, sans-serif"
GRADE_COLOURS = {"优": "#2e7d32", "良": "#1976d2", "中": "#f9a825", "差": "#c62828"}
OVER_COLOUR = "#c62828"
UNDER_COLOUR = "#1976d2"
SELF_COLOUR = "#ef6c00"
REVIEW_COLOUR = "#1565c0"


def _layout(figure: go.Figure, title: str, *, height: int | None = None,
            labels: pd.Series | None = None) -> go.Figure:
    """Common layout; labels are the category names of a horizontal bar chart (they set the left margin)."""
    left = 70 if labels is None or labels.empty else min(360, 14 * int(labels.astype(str).str.len().max()) + 24)
    figure.update_layout(
        title={"text": title, "x": 0.01},
        font={"family": FONT_FAMILY, "size": 13},
        hoverlabel={"font": {"family": FONT_FAMILY}},
        # above the plot, right-aligned: below it the legend ran into the x axis title
        legend={"orientation": "h", "yanchor": "bottom", "y": 1.02, "xanchor": "right", "x": 1},
        margin={"l": left, "r": 30, "t": 70, "b": 20},
        separators=".,",
    )
    figure.update_xaxes(automargin=True)
    figure.update_yaxes(automargin=True)
    if height:
        figure.update_layout(height=height)
    return figure


def _bar_height(rows: int) -> int:
    return max(320, 28 * rows + 120)


def score_ranking(scores: pd.DataFrame) -> go.Figure:
    """Horizontal bars of 复核得分 by unit (best on top), 自评得分 as markers beside them."""
    ordered = scores.sort_values(["review_score", "unit_name"], ascending=[True, False])
    figure = go.Figure()
    figure.add_bar(y=ordered["unit_name"], x=ordered["review_score"], orientation="h", name="复核得分",
                   marker_color=[GRADE_COLOURS.get(g, "#9e9e9e") for g in ordered["review_grade"]],
                   text=ordered["review_score"].round(2), textposition="auto",
                   hovertemplate="%{y}<br>复核得分 %{x:.2f} 分<extra></extra>")
    figure.add_scatter(y=ordered["unit_name"], x=ordered["self_score"], mode="markers", name="自评得分",
                       marker={"color": SELF_COLOUR, "symbol": "diamond", "size": 9},
                       hovertemplate="%{y}<br>自评得分 %{x:.2f} 分<extra></extra>")
    lowest = pd.concat([ordered["review_score"], ordered["self_score"]]).min()
    start = 0.0 if pd.isna(lowest) else max(0.0, float(lowest) - 5)
    figure.update_xaxes(title_text="得分（分）", range=[start, 101])
    figure.update_yaxes(title_text=None)
    return _layout(figure, "复核得分与自评得分（条形颜色为复核等级）", height=_bar_height(len(ordered)),
                   labels=ordered["unit_name"])


def execution_by_unit(scores: pd.DataFrame, reference_rate: float = 0.9) -> go.Figure:
    """预算资金支出率 by unit, lowest at the top, against a reference line (fraction, e.g. 0.9)."""
    ordered = scores.dropna(subset=["execution_rate"]).sort_values(
        ["execution_rate", "unit_name"], ascending=[False, True])
    percent = to_percent(ordered["execution_rate"])
    below = ordered["execution_rate"] < reference_rate
    figure = go.Figure()
    figure.add_bar(y=ordered["unit_name"], x=percent, orientation="h", name="预算资金支出率",
                   marker_color=[OVER_COLOUR if b else UNDER_COLOUR for b in below],
                   text=[f"{p:.2f}%" for p in percent], textposition="auto",
                   customdata=to_wanyuan(ordered["budget_issued"]),
                   hovertemplate="%{y}<br>支出率 %{x:.2f}%<br>财政下达预算数 %{customdata:,.2f} 万元<extra></extra>")
    figure.add_vline(x=reference_rate * 100, line_dash="dash", line_color="#424242",
                     annotation_text=f"参考线 {reference_rate * 100:.0f}%", annotation_position="top")
    # Rates cluster between 70 % and 100 %: start the axis below the lowest bar, not at 0.
    start = max(0.0, min(float(percent.min()) if len(percent) else 0.0, reference_rate * 100) - 10)
    figure.update_xaxes(title_text="预算资金支出率（%）",
                        range=[start, max(105.0, float(percent.max() if len(percent) else 0) + 5)])
    return _layout(figure, f"各单位预算资金支出率（红色：低于 {reference_rate * 100:.0f}%）",
                   height=_bar_height(len(ordered)),
                   labels=ordered["unit_name"])


LABELLED_POINTS = 15


def budget_against_rate(scores: pd.DataFrame, reference_rate: float = 0.9) -> go.Figure:
    """Budget size (万元, log scale) against 预算资金支出率 (%), one point per unit."""
    present = scores.dropna(subset=["execution_rate", "budget_issued"])
    present = present[present["budget_issued"] > 0]
    figure = go.Figure()
    for unit_type, group in present.groupby("unit_type", sort=True, dropna=False):
        figure.add_scatter(x=to_wanyuan(group["budget_issued"]), y=to_percent(group["execution_rate"]),
                           mode="markers", name=str(unit_type), text=group["unit_name"],
                           marker={"size": 11, "opacity": 0.85},
                           hovertemplate="%{text}<br>财政下达预算数 %{x:,.2f} 万元<br>支出率 %{y:.2f}%<extra></extra>")
    below = present[present["execution_rate"] < reference_rate].nsmallest(LABELLED_POINTS, "execution_rate")
    if len(below):
        # the units under the reference line are the ones to look at: name them on the chart
        figure.add_scatter(x=to_wanyuan(below["budget_issued"]), y=to_percent(below["execution_rate"]),
                           mode="text", text=below["unit_name"], textposition="top center", showlegend=False,
                           textfont={"size": 11}, hoverinfo="skip")
    figure.add_hline(y=reference_rate * 100, line_dash="dash", line_color="#424242")
    # ticks at powers of ten only (1, 10, 100, 1,000 万元), not "2 3 4 … 1000"
    figure.update_xaxes(title_text="财政下达预算数（万元，对数刻度）", type="log", dtick=1, tickformat=",")
    figure.update_yaxes(title_text="预算资金支出率（%）")
    return _layout(figure, "预算规模与支出率", height=440)


def sangong_control(scores: pd.DataFrame) -> go.Figure:
    """三公经费控制率 by unit; above 100 % (an overrun) in red."""
    ordered = scores.dropna(subset=["sangong_control_rate"]).sort_values(
        ["sangong_control_rate", "unit_name"], ascending=[True, False])
    percent = to_percent(ordered["sangong_control_rate"])
    figure = go.Figure()
    figure.add_bar(y=ordered["unit_name"], x=percent, orientation="h", name="三公经费控制率",
                   marker_color=[OVER_COLOUR if r > 1 else UNDER_COLOUR for r in ordered["sangong_control_rate"]],
                   text=[f"{p:.2f}%" for p in percent], textposition="auto",
                   hovertemplate="%{y}<br>控制率 %{x:.2f}%<extra></extra>")
    figure.add_vline(x=100, line_dash="dash", line_color="#424242", annotation_text="预算数 100%",
                     annotation_position="top")
    figure.update_xaxes(title_text="三公经费控制率（%）= 实际支出 / 预算",
                        range=[0, max(105.0, float(percent.max() if len(percent) else 0) + 5)])
    return _layout(figure, "各单位三公经费控制率（红色：超预算）", height=_bar_height(len(ordered)),
                   labels=ordered["unit_name"])


SANGONG_PARTS = (("sangong_abroad", "因公出国（境）费"), ("sangong_vehicles", "公务用车购置及运行维护费"),
                 ("sangong_reception", "公务接待费"))


def sangong_composition(scores: pd.DataFrame) -> go.Figure:
    """Stacked 三公 parts (万元) of the units that gave the breakdown (rows 21–23)."""
    columns = [c for c, _ in SANGONG_PARTS]
    given = scores[scores[columns].notna().any(axis=1)].sort_values("sangong_spent", ascending=True)
    figure = go.Figure()
    for column, label in SANGONG_PARTS:
        figure.add_bar(y=given["unit_name"], x=to_wanyuan(given[column].fillna(0.0)), orientation="h",
                       name=label, hovertemplate="%{y}<br>" + label + " %{x:,.2f} 万元<extra></extra>")
    figure.update_layout(barmode="stack")
    figure.update_xaxes(title_text="金额（万元）")
    return _layout(figure, f"三公经费构成（填报了明细的 {len(given)} 个单位）", height=_bar_height(len(given)),
                   labels=given["unit_name"])


def sangong_totals_by_year(scores: pd.DataFrame) -> go.Figure:
    """三公 budget and spending summed over the units in view, per year (万元)."""
    totals = scores.groupby("year", sort=True)[["sangong_budget", "sangong_spent"]].sum(min_count=1)
    years = [str(int(y)) for y in totals.index]
    figure = go.Figure()
    figure.add_bar(x=years, y=to_wanyuan(totals["sangong_budget"]), name="三公经费预算数",
                   marker_color="#90caf9", hovertemplate="%{x} 年<br>预算 %{y:,.2f} 万元<extra></extra>")
    figure.add_bar(x=years, y=to_wanyuan(totals["sangong_spent"]), name="三公经费实际支出数",
                   marker_color=REVIEW_COLOUR, hovertemplate="%{x} 年<br>实际支出 %{y:,.2f} 万元<extra></extra>")
    figure.update_layout(barmode="group")
    figure.update_xaxes(title_text="评价年度", type="category")
    figure.update_yaxes(title_text="金额（万元）")
    return _layout(figure, "三公经费历年合计", height=380)


def grade_distribution(scores: pd.DataFrame) -> go.Figure:
    """Units per grade: 自评等级 against 复核等级."""
    self_counts = scores["self_grade"].value_counts()
    review_counts = scores["review_grade"].value_counts()
    figure = go.Figure()
    figure.add_bar(x=list(GRADES), y=[int(self_counts.get(g, 0)) for g in GRADES], name="自评等级",
                   marker_color=SELF_COLOUR)
    figure.add_bar(x=list(GRADES), y=[int(review_counts.get(g, 0)) for g in GRADES], name="复核等级",
                   marker_color=REVIEW_COLOUR)
    figure.update_layout(barmode="group")
    most = max([int(self_counts.max()) if len(self_counts) else 0, int(review_counts.max()) if len(review_counts) else 0])
    # whole units: no 0.2 steps when only a unit or two are in view
    figure.update_yaxes(title_text="单位数（个）", rangemode="tozero", tickformat=",d",
                        dtick=1 if most <= 10 else None)
    return _layout(figure, "等级分布：自评与复核", height=360)


def self_against_review(scores: pd.DataFrame) -> go.Figure:
    """自评得分 against 复核得分; points above the diagonal claimed more than the figures support."""
    present = scores.dropna(subset=["self_score", "review_score"])
    low = float(min(present["self_score"].min(), present["review_score"].min(), 100)) if len(present) else 0.0
    low = max(0.0, low - 2)
    figure = go.Figure()
    figure.add_scatter(x=[low, 100], y=[low, 100], mode="lines", name="自评 = 复核",
                       line={"dash": "dash", "color": "#757575"}, hoverinfo="skip")
    figure.add_scatter(x=present["review_score"], y=present["self_score"], mode="markers", name="单位",
                       text=present["unit_name"], customdata=present["inflation"],
                       marker={"size": 11, "color": [OVER_COLOUR if (i or 0) > 0 else UNDER_COLOUR
                                                     for i in present["inflation"]]},
                       hovertemplate="%{text}<br>复核 %{x:.2f} 分<br>自评 %{y:.2f} 分<br>"
                                     "高出 %{customdata:.2f} 分<extra></extra>")
    # A wrong total can exceed 100: keep such a point inside the frame.
    high = max(100.0, float(present[["self_score", "review_score"]].max().max()) if len(present) else 100.0) + 0.5
    figure.update_xaxes(title_text="复核得分（分）", range=[low, high])
    figure.update_yaxes(title_text="自评得分（分）", range=[low, high])
    return _layout(figure, "自评得分与复核得分（对角线以上：自评高于复核）", height=460)


def deduction_heatmap(indicators: pd.DataFrame, *, basis: str = "review") -> go.Figure:
    """Points off per unit (rows) and indicator (columns)."""
    matrix = deduction_matrix(indicators, basis=basis)
    codes = [c for c in matrix.columns if c != "单位名称"]
    title = "各指标复核扣分（分值 − 复核得分）" if basis == "review" else "各指标自评高出复核的分数"
    figure = go.Figure(go.Heatmap(
        z=matrix[codes].to_numpy(), x=codes, y=matrix["单位名称"], colorscale="Reds", zmin=0,
        colorbar={"title": {"text": "分"}},
        hovertemplate="%{y}<br>%{x}：%{z:.2f} 分<extra></extra>"))
    figure.update_yaxes(autorange="reversed")
    figure.update_xaxes(title_text="指标代码", side="top")
    return _layout(figure, title, height=_bar_height(len(matrix)), labels=matrix["单位名称"])


def grade_flows(changes: pd.DataFrame) -> go.Figure:
    """Sankey of 复核等级 from the previous year to this one."""
    flows = grade_flow_table(changes)
    previous_labels = [f"上年 {g}" for g in GRADES]
    current_labels = [f"本年 {g}" for g in GRADES]
    source = [GRADES.index(g) for g in flows["上年复核等级"]]
    target = [len(GRADES) + GRADES.index(g) for g in flows["本年复核等级"]]
    colours = [GRADE_COLOURS[g] for g in GRADES] * 2
    figure = go.Figure(go.Sankey(
        node={"label": previous_labels + current_labels, "color": colours, "pad": 18},
        link={"source": source, "target": target, "value": flows["单位数"].tolist(),
              "hovertemplate": "%{source.label} → %{target.label}：%{value} 个单位<extra></extra>"},
    ))
    return _layout(figure, "复核等级的年度流向", height=380)


def unit_trend(history: pd.DataFrame) -> go.Figure:
    """One unit over the years: scores (left axis, 分) and 预算资金支出率 (right axis, %)."""
    years = [str(int(y)) for y in history["year"]]
    figure = go.Figure()
    figure.add_scatter(x=years, y=history["review_score"], mode="lines+markers", name="复核得分（分）",
                       line={"color": REVIEW_COLOUR})
    figure.add_scatter(x=years, y=history["self_score"], mode="lines+markers", name="自评得分（分）",
                       line={"color": SELF_COLOUR, "dash": "dot"})
    figure.add_scatter(x=years, y=to_percent(history["execution_rate"]), mode="lines+markers",
                       name="预算资金支出率（%）", yaxis="y2", line={"color": "#2e7d32"})
    # Fixed ranges from 0: auto-scaled axes made a one-point change fill the chart.
    top_rate = max([105.0, *[float(v) + 5 for v in to_percent(history["execution_rate"]).dropna()]])
    figure.update_layout(yaxis={"title": {"text": "得分（分）"}, "range": [0, 105]},
                         yaxis2={"title": {"text": "支出率（%）"}, "overlaying": "y", "side": "right",
                                 "range": [0, top_rate], "showgrid": False})
    figure.update_xaxes(title_text="评价年度", type="category")
    return _layout(figure, "历年得分与预算资金支出率", height=380)


# --- beyond a county: distributions, extremes and group aggregates ------------------
#
# Past settings.PER_UNIT_CHART_LIMIT units a chart never draws one mark per unit: a
# province's 10 000 bars make a page tens of thousands of pixels tall and keep the browser
# busy for a minute. Every figure below draws a bounded number of marks whatever the
# number of units: bins, one box per group (statistics computed here, not in the browser),
# the lowest and highest N, one bar per group.

HISTOGRAM_BINS = 30
DENSITY_BINS = 25
BAND_COLOURS = ("#1565c0", "#ef6c00", "#2e7d32", "#6a1b9a", "#00838f", "#ad1457", "#5d4037", "#546e7a")


def shows_units(scores: pd.DataFrame) -> bool:
    """Whether the page can draw one mark per unit (a county) or shows distributions (beyond)."""
    return len(scores) <= settings.PER_UNIT_CHART_LIMIT


def _finite(values: pd.Series) -> pd.Series:
    numbers = pd.to_numeric(values, errors="coerce").astype(float)
    return numbers[np.isfinite(numbers)]


def _edges(values: pd.Series, bins: int, reference: float | None = None) -> np.ndarray:
    """Bin edges over the 1st–99th percentile (and the reference line): a few extreme rates
    (a 3 000 % slip of the pen) go to the end bins instead of squeezing every other bin."""
    low, high = (float(v) for v in values.quantile([0.01, 0.99]))
    if reference is not None:
        low, high = min(low, reference), max(high, reference)
    if high <= low:
        low, high = low - 0.5, high + 0.5
    return np.linspace(low, high, bins + 1)


def histogram(scores: pd.DataFrame, column: str, *, title: str, axis_title: str, scale: float = 100.0,
              colour_by: str | None = None, reference: float | None = None,
              bins: int = HISTOGRAM_BINS) -> go.Figure:
    """Units per bin of `column` (shown × scale, e.g. fractions as %), stacked by `colour_by`;
    values beyond the 1st–99th percentile are counted in the end bins."""
    values = _finite(scores[column]) * scale
    figure = go.Figure()
    if values.empty:
        return _layout(figure, title, height=360)
    edges = _edges(values, bins, None if reference is None else reference * scale)
    clipped = values.clip(edges[0], edges[-1])
    width = float(edges[1] - edges[0])
    centres = (edges[:-1] + edges[1:]) / 2
    if colour_by is None:
        groups = [("单位", clipped)]
    else:
        keys = scores.loc[values.index, colour_by].astype("string").fillna("（未填）")
        order = list(GRADES) if colour_by in ("review_grade", "self_grade") else sorted(keys.unique())
        groups = [(str(k), clipped[keys == k]) for k in order if (keys == k).any()]
    for index, (name, part) in enumerate(groups):
        counts, _ = np.histogram(part, bins=edges)
        colour = GRADE_COLOURS.get(name, BAND_COLOURS[index % len(BAND_COLOURS)])
        figure.add_bar(x=centres, y=counts, width=width, name=name, marker_color=colour,
                       customdata=np.stack([edges[:-1], edges[1:]], axis=1),
                       hovertemplate=name + "<br>%{customdata[0]:.1f}–%{customdata[1]:.1f}：%{y} 个单位"
                                     "<extra></extra>")
    figure.update_layout(barmode="stack", bargap=0.02, showlegend=colour_by is not None)
    if reference is not None:
        figure.add_vline(x=reference * scale, line_dash="dash", line_color="#424242",
                         annotation_text=f"参考线 {reference * scale:.0f}", annotation_position="top")
    figure.update_xaxes(title_text=axis_title)
    figure.update_yaxes(title_text="单位数（个）", rangemode="tozero")
    return _layout(figure, f"{title}（{len(values)} 个单位的分布）", height=380)


def _limited_groups(keys: pd.Series, order: pd.Series, limit: int) -> tuple[list[str], int]:
    """The groups to draw (by `order`, lowest first) and how many were left out."""
    ranked = order.sort_values(kind="stable")
    shown = [str(k) for k in ranked.index[:limit]]
    return shown, max(0, len(ranked) - limit)


def box_by_group(scores: pd.DataFrame, column: str, by: str, *, title: str, axis_title: str,
                 scale: float = 100.0, reference: float | None = None,
                 limit: int | None = None) -> go.Figure:
    """One box per group of `column` (× scale): quartiles, median, mean, whiskers at the 5th and
    95th percentile; statistics computed here, so the browser draws a box, not 10 000 points.
    Past `limit` groups the ones with the lowest median are drawn."""
    limit = settings.GROUP_CHART_LIMIT if limit is None else limit
    values = _finite(scores[column]) * scale
    keys = scores.loc[values.index, by].astype("string").fillna("（未填）").replace("", "（未填）")
    grouped = values.groupby(keys)
    stats = grouped.quantile([0.05, 0.25, 0.5, 0.75, 0.95]).unstack()
    figure = go.Figure()
    if stats.empty:
        return _layout(figure, title, height=360)
    shown, left_out = _limited_groups(keys, stats[0.5], limit)
    # plotly draws the first category at the bottom: lowest median on top
    shown = shown[::-1]
    stats = stats.loc[shown]
    counts = grouped.size().loc[shown]
    figure.add_trace(go.Box(
        y=shown, q1=stats[0.25], median=stats[0.5], q3=stats[0.75], lowerfence=stats[0.05],
        upperfence=stats[0.95], mean=grouped.mean().loc[shown], orientation="h", name=axis_title,
        marker_color=REVIEW_COLOUR, boxpoints=False, showlegend=False,
        customdata=counts.to_numpy(), hoverinfo="y+x"))
    if reference is not None:
        figure.add_vline(x=reference * scale, line_dash="dash", line_color="#424242")
    figure.update_xaxes(title_text=axis_title)
    note = f"；另有 {left_out} 组未画出，见下表" if left_out else ""
    return _layout(figure, f"{title}（箱体为四分位数，须为 5%–95% 分位{note}）",
                   height=_bar_height(len(shown)), labels=pd.Series(shown))


def group_bars(table: pd.DataFrame, group: str, value: str, *, title: str, axis_title: str,
               reference: float | None = None, limit: int | None = None,
               over_is_bad: bool = False) -> go.Figure:
    """One bar per group of a group table (aggregates.group_table: first rows drawn on top);
    bars beyond the reference in red (below it, or above it when over_is_bad)."""
    limit = settings.GROUP_CHART_LIMIT if limit is None else limit
    present = table.dropna(subset=[value])
    shown = present.head(limit).iloc[::-1]
    values = shown[value].astype(float)
    if reference is None:
        colours = [UNDER_COLOUR] * len(shown)
    else:
        colours = [OVER_COLOUR if (v > reference if over_is_bad else v < reference) else UNDER_COLOUR
                   for v in values]
    figure = go.Figure()
    figure.add_bar(y=shown[group].astype(str), x=values, orientation="h", marker_color=colours,
                   text=[f"{v:.2f}" for v in values], textposition="auto", name=axis_title,
                   customdata=shown["单位数"] if "单位数" in shown else None,
                   hovertemplate="%{y}<br>%{x:.2f}<br>%{customdata} 个单位<extra></extra>")
    if reference is not None:
        figure.add_vline(x=reference, line_dash="dash", line_color="#424242",
                         annotation_text=f"参考线 {reference:.0f}", annotation_position="top")
    figure.update_xaxes(title_text=axis_title)
    left_out = len(present) - len(shown)
    note = f"（前 {len(shown)} 组，另有 {left_out} 组见下表）" if left_out else ""
    return _layout(figure, title + note, height=_bar_height(len(shown)), labels=shown[group].astype(str))


def extremes(lowest: pd.DataFrame, highest: pd.DataFrame, column: str, *, title: str, axis_title: str,
             scale: float = 100.0, reference: float | None = None, low_is_bad: bool = True,
             beside: str | None = None, beside_name: str = "") -> go.Figure:
    """The lowest and the highest N units (aggregates.extremes) side by side, worst on top;
    `beside` adds a marker per unit (e.g. 自评得分 beside 复核得分)."""
    figure = make_subplots(rows=1, cols=2, horizontal_spacing=0.28,
                           subplot_titles=(f"最低 {len(lowest)} 个", f"最高 {len(highest)} 个"))
    for col, part, bad in ((1, lowest, low_is_bad), (2, highest, not low_is_bad)):
        part = part.iloc[::-1]  # the first row (the extreme) drawn on top
        values = pd.to_numeric(part[column], errors="coerce") * scale
        colour = OVER_COLOUR if bad else UNDER_COLOUR
        figure.add_bar(y=part["unit_name"], x=values, orientation="h", marker_color=colour, showlegend=False,
                       text=[f"{v:.2f}" for v in values], textposition="auto", name=axis_title,
                       hovertemplate="%{y}<br>%{x:.2f}<extra></extra>", row=1, col=col)
        if beside is not None:
            figure.add_scatter(y=part["unit_name"], x=pd.to_numeric(part[beside], errors="coerce") * scale,
                               mode="markers", name=beside_name, showlegend=col == 1,
                               marker={"color": SELF_COLOUR, "symbol": "diamond", "size": 9},
                               hovertemplate="%{y}<br>" + beside_name + " %{x:.2f}<extra></extra>",
                               row=1, col=col)
        if reference is not None:
            figure.add_vline(x=reference * scale, line_dash="dash", line_color="#424242", row=1, col=col)
    figure.update_xaxes(title_text=axis_title)
    rows = max(len(lowest), len(highest))
    names = pd.concat([lowest["unit_name"], highest["unit_name"]]).astype(str)
    figure = _layout(figure, title, height=_bar_height(rows))
    # Two columns of unit names: each panel's names need their own room.
    width = min(300, 14 * int(names.str.len().max() if len(names) else 4) + 24)
    figure.update_layout(margin={"l": width})
    return figure


def self_against_review_density(scores: pd.DataFrame, bins: int = DENSITY_BINS) -> go.Figure:
    """自评得分 against 复核得分 as units per cell; cells above the diagonal claimed more than
    the figures support."""
    present = scores.dropna(subset=["self_score", "review_score"])
    figure = go.Figure()
    if present.empty:
        return _layout(figure, "自评得分与复核得分", height=460)
    low = max(0.0, float(min(present["self_score"].quantile(0.01), present["review_score"].quantile(0.01))) - 1)
    high = max(100.0, float(present[["self_score", "review_score"]].max().max())) + 0.5
    edges = np.linspace(low, high, bins + 1)
    counts, _, _ = np.histogram2d(present["review_score"].clip(low, high), present["self_score"].clip(low, high),
                                  bins=[edges, edges])
    centres = (edges[:-1] + edges[1:]) / 2
    figure.add_trace(go.Heatmap(x=centres, y=centres, z=np.where(counts.T > 0, counts.T, np.nan),
                                colorscale="Blues", colorbar={"title": {"text": "单位数"}},
                                hovertemplate="复核 %{x:.1f} 分<br>自评 %{y:.1f} 分<br>%{z} 个单位<extra></extra>"))
    figure.add_scatter(x=[low, high], y=[low, high], mode="lines", name="自评 = 复核",
                       line={"dash": "dash", "color": "#757575"}, hoverinfo="skip")
    figure.update_xaxes(title_text="复核得分（分）", range=[low, high])
    figure.update_yaxes(title_text="自评得分（分）", range=[low, high])
    above = int((present["self_score"] > present["review_score"]).sum())
    return _layout(figure, f"自评得分与复核得分（{len(present)} 个单位，{above} 个在对角线以上：自评高于复核）",
                   height=480)


def deduction_heatmap_by_group(indicators: pd.DataFrame, groups: pd.Series, *, basis: str = "review",
                               label: str = "分组", limit: int | None = None) -> go.Figure:
    """Mean points off per unit, by group (rows, `groups` maps unit_name → group) and indicator."""
    limit = settings.GROUP_CHART_LIMIT if limit is None else limit
    points = deductions(indicators, basis=basis)
    per_unit = points.pivot_table(index="unit_name", columns="code", values="points", aggfunc="sum")
    per_unit = per_unit.reindex(sorted(per_unit.columns), axis=1)
    keys = per_unit.index.map(groups).astype("string").fillna("（未填）")
    matrix = per_unit.groupby(keys.to_numpy()).mean().round(2)
    matrix = matrix.loc[matrix.sum(axis=1).sort_values(ascending=False).index].head(limit)
    title = ("各指标平均复核扣分（分值 − 复核得分，每单位）" if basis == "review"
             else "各指标自评平均高出复核的分数（每单位）")
    figure = go.Figure(go.Heatmap(
        z=matrix.to_numpy(), x=list(matrix.columns), y=[str(i) for i in matrix.index], colorscale="Reds", zmin=0,
        colorbar={"title": {"text": "分"}},
        hovertemplate="%{y}<br>%{x}：平均 %{z:.2f} 分<extra></extra>"))
    figure.update_yaxes(autorange="reversed", title_text=label)
    figure.update_xaxes(title_text="指标代码", side="top")
    return _layout(figure, f"{title}，按{label}", height=_bar_height(len(matrix)),
                   labels=pd.Series([str(i) for i in matrix.index]))


def sangong_composition_by_group(scores: pd.DataFrame, by: str, *, label: str = "分组",
                                 limit: int | None = None) -> go.Figure:
    """Stacked 三公 parts (万元) summed per group, for the units that gave the breakdown;
    past `limit` groups the ones spending most are drawn."""
    limit = settings.GROUP_CHART_LIMIT if limit is None else limit
    columns = [c for c, _ in SANGONG_PARTS]
    given = scores[scores[columns].notna().any(axis=1)]
    keys = given[by].astype("string").fillna("（未填）").replace("", "（未填）")
    sums = given[columns].fillna(0.0).groupby(keys.to_numpy()).sum()
    sums = sums.loc[sums.sum(axis=1).sort_values(ascending=False).index].head(limit).iloc[::-1]
    figure = go.Figure()
    names = pd.Series([str(i) for i in sums.index])
    for column, part in SANGONG_PARTS:
        figure.add_bar(y=names, x=to_wanyuan(sums[column]), orientation="h", name=part,
                       hovertemplate="%{y}<br>" + part + " %{x:,.2f} 万元<extra></extra>")
    figure.update_layout(barmode="stack")
    figure.update_xaxes(title_text="金额（万元）")
    return _layout(figure, f"三公经费构成，按{label}合计（填报了明细的 {len(given)} 个单位）",
                   height=_bar_height(len(sums)), labels=names)


def execution_depth_by_unit(scores: pd.DataFrame, reference_rate: float = 0.9) -> go.Figure:
    """A county's units, one row each: 预算资金支出率, 年初预算执行率, 基本支出执行率 and
    项目支出执行率 as markers (%), lowest 年初预算执行率 on top."""
    ordered = scores.sort_values(["opening_execution_rate", "unit_name"], ascending=[False, True],
                                 na_position="first")
    figure = go.Figure()
    for (rate, name), colour in zip(_DEPTH_RATES, BAND_COLOURS):
        figure.add_scatter(y=ordered["unit_name"], x=to_percent(ordered[rate]), mode="markers", name=name,
                           marker={"color": colour, "size": 9, "symbol": _DEPTH_SYMBOLS[rate]},
                           hovertemplate="%{y}<br>" + name + " %{x:.2f}%<extra></extra>")
    figure.add_vline(x=reference_rate * 100, line_dash="dash", line_color="#424242")
    figure.update_xaxes(title_text="执行率（%）")
    return _layout(figure, "各单位预算执行：对财政下达预算、年初预算、基本支出与项目支出",
                   height=_bar_height(len(ordered)), labels=ordered["unit_name"])


def execution_depth_by_group(table: pd.DataFrame, group: str, *, reference_rate: float = 0.9,
                             limit: int | None = None) -> go.Figure:
    """Grouped bars of the four pooled execution rates (%) per group (aggregates.group_table)."""
    limit = settings.GROUP_CHART_LIMIT if limit is None else limit
    shown = table.head(limit).iloc[::-1]
    names = shown[group].astype(str)
    figure = go.Figure()
    for (_, name), colour in zip(_DEPTH_RATES, BAND_COLOURS):
        figure.add_bar(y=names, x=shown[name + "（%）"], orientation="h", name=name, marker_color=colour,
                       hovertemplate="%{y}<br>" + name + " %{x:.2f}%<extra></extra>")
    figure.add_vline(x=reference_rate * 100, line_dash="dash", line_color="#424242")
    figure.update_layout(barmode="group")
    figure.update_xaxes(title_text="执行率（%，支出之和 ÷ 预算之和）")
    left_out = len(table) - len(shown)
    note = f"（前 {len(shown)} 组，另有 {left_out} 组见下表）" if left_out else ""
    return _layout(figure, f"预算执行分解，按{group}{note}", height=max(360, 4 * 16 * len(shown) + 140),
                   labels=names)


def execution_depth_totals(rates: dict[str, float | None], reference_rate: float = 0.9) -> go.Figure:
    """The pooled rates of the units in view (aggregates.pooled_rates), one bar each (%)."""
    names = [name for rate, name in _DEPTH_RATES]
    values = [None if rates.get(rate) is None else round(rates[rate] * 100, 2) for rate, _ in _DEPTH_RATES]
    figure = go.Figure()
    figure.add_bar(x=names, y=values, marker_color=[OVER_COLOUR if v is not None and v < reference_rate * 100
                                                    else UNDER_COLOUR for v in values],
                   text=["—" if v is None else f"{v:.2f}%" for v in values], textposition="auto",
                   hovertemplate="%{x} %{y:.2f}%<extra></extra>")
    figure.add_hline(y=reference_rate * 100, line_dash="dash", line_color="#424242")
    figure.update_yaxes(title_text="执行率（%，支出之和 ÷ 预算之和）", rangemode="tozero")
    return _layout(figure, "预算执行分解（当前筛选的全部单位合计）", height=360)


_DEPTH_RATES = tuple((rate, REPORT_ITEM_LABELS[rate]) for rate in
                     ("execution_rate", "opening_execution_rate", "basic_execution_rate", "project_execution_rate"))
_DEPTH_SYMBOLS = {"execution_rate": "circle", "opening_execution_rate": "diamond",
                  "basic_execution_rate": "square", "project_execution_rate": "triangle-up"}
