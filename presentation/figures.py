"""Plotly figures, as pure functions: warehouse frames in, figures out.

Inputs carry the warehouse's units (元, fractions); the figures show 万元 and %, with
the unit in every axis title, and a CJK font stack so Chinese renders on any desktop.
"""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go

from schemas.form import GRADES

from .tables import deduction_matrix, grade_flow_table, to_percent, to_wanyuan

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
