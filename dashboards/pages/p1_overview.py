"""总览: the first screen a leader opens — this quarter's 红旗 and 蜗牛 of both groups, 约谈, 否决,
overdue issues per escalation stage and the early warnings, each line a link into its drill-down,
then the county and department rankings side by side; the headline KPIs with their change since
the previous quarter and the trends follow below."""

from __future__ import annotations

import pandas as pd
import plotly.express as px
import plotly.graph_objects as go
import streamlit as st

from dashboards import colours, data, data_ranking, data_warnings, ui
from dashboards.exports import count, half_up, num, pct, percent, percents, ratio, score, scores


def _pp_delta(cur: float | None, prev: float | None) -> str | None:
    """Change of a rate in percentage points, as st.metric delta text ('持平' when unchanged)."""
    if cur is None or prev is None or pd.isna(cur) or pd.isna(prev):
        return None
    # the difference of the two percentages as shown, so the card adds up
    change = round(percent(cur) - percent(prev), 1)
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


def _names(s: pd.Series) -> str:
    return "、".join(ui.md(n) for n in s) or "无"


def _points(src: data.Source, q: str, detail: pd.DataFrame) -> None:
    """要点: one line per fact, each a link to the page that explains it."""
    lines: list[tuple[str, str, str]] = []  # (markdown label, page file, icon)
    cur = detail[detail.quarter == q] if not detail.empty else detail
    for group, label in data.GROUP_LABELS.items():
        g = cur[cur.body_group == group].sort_values("rank") if not cur.empty else cur
        if g.empty:
            continue
        if src.county is not None:
            r = g.iloc[0]
            flag = "，:red[**红旗**]" if r.flag == "红旗" else "，:orange[**蜗牛**]" if r.flag == "蜗牛" else ""
            total = f"（共 {int(r.bodies_ranked)} 个）" if pd.notna(r.bodies_ranked) else ""
            lines.append((f"{ui.md(r.body_name)}：{label}组第 {int(r['rank'])} 名{total}，"
                          f"综合得分 {score(r.composite_score)}{flag}", "p2_ranking.py", ":material/flag:"))
            continue
        reds, snails = g[g.flag == "红旗"], g[g.flag == "蜗牛"]
        lines.append((f"{label}　:red[**红旗**] {_names(reds.body_name)}　:orange[**蜗牛**] {_names(snails.body_name)}",
                      "p2_ranking.py", ":material/flag:"))
    if not cur.empty:
        talk = cur[cur.talk_required.fillna(False).astype(bool)]
        veto = cur[cur.veto.fillna(False).astype(bool)]
        lines.append((f":blue[**约谈**] {_names(talk.body_name)}" + "　" +
                      ":violet[**否决**] " + ("、".join(ui.md(r.body_name) + (f"（逾期{int(r.max_days_overdue)}天）" if pd.notna(r.max_days_overdue) else "")
                                                   for r in veto.itertuples()) or "无"),
                      "p12_supervision.py", ":material/record_voice_over:"))
    od = data_warnings.overdue_with_stage(q, src)
    if not od.empty:
        text = f"逾期未整改 **{len(od)}** 个"
        stages = data_warnings.escalation_stages(q, src)
        if "stage" in od.columns and od.stage.notna().any() and not stages.empty:
            text += "：" + "　".join(f"{s.stage} **{int((od.stage == s.stage).sum())}**"
                                    for s in stages.sort_values("stage_order").itertuples())
        else:
            text += f"，最长 {int(od.days_overdue.max())} 天"
        lines.append((text, "p12_supervision.py", ":material/assignment_late:"))
    w = data_warnings.latest_warnings(q, src)
    if not w.empty:
        as_of = pd.Timestamp(w.as_of.iloc[0])
        kinds = w.groupby(["kind_order", "kind_label"]).size().reset_index(name="n")
        lines.append((f"预警（{as_of:%m-%d}）：" + "　".join(f"{k.kind_label} **{k.n}**" for k in kinds.itertuples()),
                      "p11_warnings.py", ":material/warning:"))
    # A link label is one line with an ellipsis by default: on a phone the names would be cut. Let it wrap.
    st.html("<style>[data-testid='stPageLink'] a, [data-testid='stPageLink'] a * {white-space: normal !important;"
            " overflow: visible !important; text-overflow: clip !important; height: auto !important;}</style>")
    with st.container(border=True):
        st.markdown("**要点**")
        for label, page, icon in lines:
            ui.page_link(page, label, icon)


def _ranking(rk: pd.DataFrame, label: str, key: str, height: int, single: set[tuple[str, str, str]]) -> None:
    """A compact ranking: rank, name (pinned, never cut), flag beside it, score (2 decimals), markers
    (并列, 否决, 约谈, 边界接近, and 单项指标 for a flag that rests on one indicator with data)."""
    if rk.empty:
        return
    ties = data_ranking.tie_label(rk)
    one = pd.Series([(g, b, q) in single for g, b, q in zip(rk.body_group, rk.body_code, rk.quarter, strict=True)],
                    index=rk.index) & rk.flag.notna()
    marks = [("、".join(x for x in parts if x)) for parts in zip(
        ties, ui.yes(rk.veto, "否决"), ui.yes(rk.talk_required, "约谈"), ui.yes(rk.near_tie, "边界接近"),
        ui.yes(one, "单项指标"), strict=True)]
    show = pd.DataFrame({"名次": rk["rank"].astype("Int64"), label: rk.body_name, "旗帜": rk.flag.fillna(""),
                         "综合得分": scores(rk.composite_score), "标记": marks})
    st.markdown(f"**{label}排名**")
    ui.frame(show, marked=["旗帜", "标记"], height=height,
             column_config={label: ui.name_column(show[label], label),
                            "名次": st.column_config.NumberColumn("名次", width=40, pinned=True),
                            "旗帜": st.column_config.TextColumn("旗帜", width=52),
                            "综合得分": st.column_config.NumberColumn("综合得分", format="%.2f", width=72),
                            # sized to its longest text: a stretched grid otherwise gives the slack to the
                            # first columns and cuts the markers off at the right edge
                            "标记": st.column_config.TextColumn("标记", width=ui.text_px(marks, "标记"))})


def render() -> None:
    src = ui.page_start("总览")
    hb = data.headline_by_quarter(src)
    if hb.empty or len(hb.columns) <= 1:
        ui.empty("季度指标")
        return
    _, root_name = data.scope_root(src)
    latest = hb.iloc[-1]
    prev = hb.iloc[-2] if len(hb) > 1 else None
    q = str(latest.quarter)
    st.caption(f"{ui.md(root_name)} · {data.quarter_label(q)}；点击每行查看明细")
    detail = data_ranking.scorecard_detail([q], src)
    _points(src, q, detail)

    counties = data.ranking(q, "county", src)
    depts = data.ranking(q, "department", src)
    rows = max(len(counties), 1)
    height = min(ui.ROW_PX * (rows + 1) + 3, 350)  # the rankings end above the fold at 1440×900
    if src.county is None:
        single = data_ranking.one_indicator_flags(data_ranking.contributions([q], src))
        # Department names and markers are longer than the counties': the wider half, so that at 1440×900
        # both tables show every column without scrolling sideways.
        left, right = st.columns([0.45, 0.55])
        with left:
            _ranking(counties, "县区", "ov_rank_county", height, single)
        with right:
            _ranking(depts, "市直部门", "ov_rank_dept", height, single)
        rule = data_ranking.tie_break_rule(src)
        if rule:
            st.caption(f"并列：综合得分相同的对象标“并列”，{ui.md(rule)}。")
        both = pd.concat([counties, depts])
        lone = [n for g, b, qq, n, f in zip(both.body_group, both.body_code, both.quarter, both.body_name, both.flag,
                                            strict=True) if (g, b, qq) in single and pd.notna(f)]
        if lone:
            st.warning("以下对象的旗帜只依据 1 项有数据的指标（其余指标缺项）：" + "、".join(ui.md(n) for n in lone) +
                       "。详见“红旗/蜗牛榜”的缺项指标。")

    sat = data.satisfaction_overall(src)
    st.markdown("##### 核心指标（较上季度）")
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
    cols[3].metric("逾期未整改（个）", count(overdue), d, **_colour(d, "inverse"), border=True)
    if not sat.empty:
        s_last = sat.iloc[-1]
        s_prev = sat.iloc[-2] if len(sat) > 1 else None
        delta = None if s_prev is None else f"{half_up(s_last.satisfaction_index, 2) - half_up(s_prev.satisfaction_index, 2):+.2f}"
        cols[4].metric("满意度指数", num(s_last.satisfaction_index, 2), delta, **_colour(delta),
                       help=f"{s_last.wave}年度测评：满意率 {pct(s_last.satisfaction_rate)}，受访 {int(s_last.respondents)} 人",
                       border=True)
    else:
        cols[4].metric("满意度指数", "—", border=True)
    cases = _val(latest, "cases_filed")
    cols[5].metric("本季度立案（件）", count(cases), _int_delta(cases, _val(prev, "cases_filed")), delta_color="off",
                   border=True)

    left, right = st.columns(2)
    with left:
        st.markdown("##### 各项比率趋势")
        rate_cols = {"task_rate": "任务推进率", "completion_rate": "任务完成率", "coverage_rate": "清廉单元达标率",
                     "rectification_rate": "整改完成率"}
        present = [c for c in rate_cols if c in hb.columns]
        long = hb.melt(id_vars="quarter", value_vars=present, var_name="指标", value_name="比率").dropna()
        long["指标"] = long["指标"].map(rate_cols)
        long["比率(%)"] = percents(long["比率"]).to_numpy()
        fig = px.line(long, x="quarter", y="比率(%)", color="指标", markers=True,
                      labels={"quarter": "季度"}, range_y=[0, 105], color_discrete_sequence=colours.SERIES)
        fig.update_traces(hovertemplate="%{fullData.name}<br>%{x}：%{y:.1f}%<extra></extra>")
        ui.chart(fig, key="trend_rates")
    with right:
        st.markdown("##### 逾期未整改与立案")
        fig2 = go.Figure()
        if "cases_filed" in hb.columns:
            fig2.add_bar(x=hb.quarter, y=hb.cases_filed, name="立案（件）", marker_color=colours.SERIES[0],
                         text=hb.cases_filed, textposition="auto", hovertemplate="%{x}：立案 %{y} 件<extra></extra>")
            # An empty roll-up (a county's year-to-date figure went down) must not read as zero cases.
            for q_missing in hb.quarter[hb.cases_filed.isna()]:
                fig2.add_annotation(x=q_missing, y=0, yref="y", text="未汇总<br>见案件统计页", showarrow=False,
                                    yanchor="bottom", font=dict(color=colours.SERIES[0]))
        if "overdue_open" in hb.columns:
            # Its own axis: a handful of overdue issues would be a flat line next to dozens of cases.
            fig2.add_scatter(x=hb.quarter, y=hb.overdue_open, name="逾期未整改（个，右轴）", mode="lines+markers+text",
                             text=hb.overdue_open, textposition="top center", line=dict(color=colours.SERIES[2]),
                             yaxis="y2", textfont=dict(color=colours.SERIES[2]),
                             hovertemplate="%{x}：逾期未整改 %{y} 个<extra></extra>")
        fig2.update_layout(xaxis_title="季度", yaxis_title="立案（件）",
                           yaxis2=dict(title="逾期未整改（个）", overlaying="y", side="right", showgrid=False))
        if "overdue_open" in hb.columns:
            ui.count_axis(fig2, float(hb.overdue_open.max() or 0) * 1.2, axis="yaxis2")
        ui.chart(fig2, key="trend_counts")

    st.markdown("##### 县区比较" if src.county is None else "##### 本县得分")
    rk = counties
    if rk.empty:
        ui.empty("县区排名")
        return
    rk = rk.assign(旗帜=rk.flag.fillna("无"))
    shown = rk
    if len(rk) > ui.CHART_ROWS:  # province scale: the best and the worst, the table has everyone
        half = ui.CHART_ROWS // 2
        shown = pd.concat([rk.head(half), rk.tail(half)])
        st.caption(f"图中显示得分最高和最低的各 {half} 个县区（共 {len(rk)} 个），完整排名见下表。")
    shown = shown.assign(composite_score=scores(shown.composite_score).to_numpy())  # rounded as the table is
    fig3 = px.bar(shown.sort_values("composite_score"), x="composite_score", y="body_name", orientation="h",
                  color="旗帜", text="composite_score", color_discrete_map=ui.FLAG_COLOURS,
                  category_orders={"旗帜": ["红旗", "无", "蜗牛"]},
                  labels={"composite_score": "综合得分", "body_name": ""}, range_x=[0, 105])
    fig3.update_traces(hovertemplate="%{y}：%{x:.2f} 分<extra></extra>")
    fig3.update_yaxes(categoryorder="total ascending")  # colour traces would otherwise regroup the rows
    if len(rk) > 1:  # a county user's single bar says nothing the table does not
        ui.chart(ui.bar_labels(fig3, 2), key="county_bar", height=max(220, 80 + 36 * len(shown)), legend_title="旗帜")
    show = pd.DataFrame({
        "综合得分": scores(rk.composite_score), "排名": rk["rank"], "县区": rk.body_name, "旗帜": rk.flag.fillna(""),
        "任务推进": scores(rk.task_score), "单元达标": scores(rk.coverage_score),
        "整改完成": scores(rk.rectification_score), "满意度": scores(rk.satisfaction_score),
        "缺项指标": rk.missing_indicators.map(data.missing_labels),
    })
    ui.table(show, f"县区比较_{q}", key="overview_counties", marked=["旗帜"], sort="排名", name_col="县区",
             after_name=["旗帜", "综合得分"],
             column_config={"排名": st.column_config.NumberColumn("排名", width=48),
                            "综合得分": st.column_config.NumberColumn("综合得分", format="%.2f")})


render()
