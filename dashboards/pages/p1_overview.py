"""总览: headline KPIs of the latest quarter with change vs the previous one, trends, county comparison."""

from __future__ import annotations

import pandas as pd
import plotly.express as px
import plotly.graph_objects as go
import streamlit as st

from dashboards import data, ui
from dashboards.exports import count, num, pct, ratio


def _pp_delta(cur: float | None, prev: float | None) -> str | None:
    """Change of a rate in percentage points, as st.metric delta text ('持平' when unchanged)."""
    if cur is None or prev is None or pd.isna(cur) or pd.isna(prev):
        return None
    change = round((cur - prev) * 100, 1)
    return "持平" if change == 0 else f"{change:+.1f} 个百分点"


def _int_delta(cur: float | None, prev: float | None) -> str | None:
    if cur is None or prev is None or pd.isna(cur) or pd.isna(prev):
        return None
    change = int(cur) - int(prev)
    return "持平" if change == 0 else f"{change:+d}"


def _colour(delta: str | None, colour: str = "normal") -> dict[str, str]:
    # st.metric reads any delta not starting with '-' as a rise; an unchanged figure is grey, no arrow.
    return {"delta_color": "off", "delta_arrow": "off"} if delta == "持平" else {"delta_color": colour}


def _val(row: pd.Series | None, col: str) -> float | None:
    if row is None or col not in row.index:
        return None
    v = row[col]
    # NaN from float columns, pd.NA from nullable integer ones (an empty roll-up)
    return None if v is None or pd.isna(v) else v


def render() -> None:
    src = ui.page_start("总览", "最新季度的核心指标及较上季度变化；各项比率的分子、分母见悬停提示。")
    hb = data.headline_by_quarter(src)
    if hb.empty or len(hb.columns) <= 1:
        ui.empty("季度指标")
        return
    _, root_name = data.scope_root(src)
    latest = hb.iloc[-1]
    prev = hb.iloc[-2] if len(hb) > 1 else None
    q = str(latest.quarter)
    st.subheader(f"{ui.md(root_name)} · {data.quarter_label(q)}")

    sat = data.satisfaction_overall(src)
    cols = st.columns(6)
    d = _pp_delta(_val(latest, "task_rate"), _val(prev, "task_rate"))
    cols[0].metric("任务推进率", pct(_val(latest, "task_rate")), d, **_colour(d),
                   help=f"按序推进或已完成 {ratio(_val(latest, 'tasks_on_schedule'), _val(latest, 'tasks_active'))} 项", border=True)
    d = _pp_delta(_val(latest, "coverage_rate"), _val(prev, "coverage_rate"))
    cols[1].metric("清廉单元达标率", pct(_val(latest, "coverage_rate")), d, **_colour(d),
                   help=f"已达标及示范 {ratio(_val(latest, 'units_standard'), _val(latest, 'units_registered'))} 个单元",
                   border=True)
    d = _pp_delta(_val(latest, "rectification_rate"), _val(prev, "rectification_rate"))
    cols[2].metric("整改完成率", pct(_val(latest, "rectification_rate")), d, **_colour(d),
                   help=f"已整改 {ratio(_val(latest, 'issues_rectified'), _val(latest, 'issues_due'))} 个到期问题", border=True)
    overdue = _val(latest, "overdue_open")
    d = _int_delta(overdue, _val(prev, "overdue_open"))
    cols[3].metric("逾期未整改（个）", count(overdue), d,
                   **_colour(d, "inverse"), border=True)
    if not sat.empty:
        s_last = sat.iloc[-1]
        s_prev = sat.iloc[-2] if len(sat) > 1 else None
        delta = None if s_prev is None else f"{s_last.satisfaction_index - s_prev.satisfaction_index:+.1f}"
        cols[4].metric("满意度指数", num(s_last.satisfaction_index), delta, **_colour(delta),
                       help=f"{s_last.wave}年度测评：满意率 {pct(s_last.satisfaction_rate)}，受访 {int(s_last.respondents)} 人",
                       border=True)
    else:
        cols[4].metric("满意度指数", "—", border=True)
    cases = _val(latest, "cases_filed")
    cols[5].metric("本季度立案（件）", count(cases),
                   _int_delta(cases, _val(prev, "cases_filed")), delta_color="off", border=True)

    left, right = st.columns(2)
    with left:
        st.markdown("##### 各项比率趋势")
        rate_cols = {"task_rate": "任务推进率", "completion_rate": "任务完成率", "coverage_rate": "清廉单元达标率",
                     "rectification_rate": "整改完成率"}
        present = [c for c in rate_cols if c in hb.columns]
        long = hb.melt(id_vars="quarter", value_vars=present, var_name="指标", value_name="比率").dropna()
        long["指标"] = long["指标"].map(rate_cols)
        long["比率(%)"] = (long["比率"] * 100).round(1)
        fig = px.line(long, x="quarter", y="比率(%)", color="指标", markers=True,
                      labels={"quarter": "季度"}, range_y=[0, 105])
        ui.chart(fig, key="trend_rates")
    with right:
        st.markdown("##### 逾期未整改与立案")
        fig2 = go.Figure()
        if "cases_filed" in hb.columns:
            fig2.add_bar(x=hb.quarter, y=hb.cases_filed, name="立案（件）", marker_color=ui.PALETTE[1],
                         text=hb.cases_filed, textposition="auto")
            # An empty roll-up (a county's year-to-date figure went down) must not read as zero cases.
            for q_missing in hb.quarter[hb.cases_filed.isna()]:
                fig2.add_annotation(x=q_missing, y=0, yref="y", text="未汇总<br>见案件统计页", showarrow=False,
                                    yanchor="bottom", font=dict(color=ui.PALETTE[1]))
        if "overdue_open" in hb.columns:
            # Its own axis: a handful of overdue issues would be a flat line next to dozens of cases.
            fig2.add_scatter(x=hb.quarter, y=hb.overdue_open, name="逾期未整改（个，右轴）", mode="lines+markers+text",
                             text=hb.overdue_open, textposition="top center", line=dict(color=ui.RED), yaxis="y2",
                             textfont=dict(color=ui.RED))
        fig2.update_layout(xaxis_title="季度", yaxis_title="立案（件）",
                           yaxis2=dict(title="逾期未整改（个）", overlaying="y", side="right", showgrid=False))
        if "overdue_open" in hb.columns:
            ui.count_axis(fig2, float(hb.overdue_open.max() or 0) * 1.2, axis="yaxis2")
        ui.chart(fig2, key="trend_counts")

    st.markdown("##### 县区比较" if src.county is None else "##### 本县得分")
    rk = data.ranking(q, "county", src)
    if rk.empty:
        ui.empty("县区排名")
        return
    rk = rk.assign(旗帜=rk.flag.fillna("无"))
    shown = rk
    if len(rk) > ui.CHART_ROWS:  # province scale: the best and the worst, the table has everyone
        half = ui.CHART_ROWS // 2
        shown = pd.concat([rk.head(half), rk.tail(half)])
        st.caption(f"图中显示得分最高和最低的各 {half} 个县区（共 {len(rk)} 个），完整排名见下表。")
    fig3 = px.bar(shown.sort_values("composite_score"), x="composite_score", y="body_name", orientation="h",
                  color="旗帜", text="composite_score", color_discrete_map=ui.FLAG_COLOURS,
                  category_orders={"旗帜": ["红旗", "无", "蜗牛"]},
                  labels={"composite_score": "综合得分", "body_name": ""}, range_x=[0, 105])
    fig3.update_yaxes(categoryorder="total ascending")  # colour traces would otherwise regroup the rows
    if len(rk) > 1:  # a county user's single bar says nothing the table does not
        ui.chart(ui.bar_labels(fig3), key="county_bar", height=max(220, 80 + 36 * len(shown)), legend_title="旗帜")
    show = pd.DataFrame({
        "排名": rk["rank"], "县区": rk.body_name, "综合得分": rk.composite_score.round(2),
        "任务推进": rk.task_score.round(1), "单元达标": rk.coverage_score.round(1),
        "整改完成": rk.rectification_score.round(1), "满意度": rk.satisfaction_score.round(1),
        "旗帜": rk.flag.fillna(""), "缺项指标": rk.missing_indicators.map(data.missing_labels),
    })
    ui.table(show, f"县区比较_{q}", key="overview_counties", marked=["旗帜"],
             column_config={"综合得分": st.column_config.NumberColumn("综合得分", format="%.2f")})


render()
