"""年度考核: grades, scores, ranks and indicator breakdown per group and year; grades vs the 优秀 quota."""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from dashboards import colours, data, ui
from dashboards.exports import scores

GRADES = ["优秀", "良好", "合格", "不合格"]
# red means 红旗 and nothing else (dashboards/colours.py)
GRADE_COLOURS = {"优秀": colours.SERIES[1], "良好": colours.SERIES[0], "合格": colours.SERIES[3], "不合格": colours.GREY}


def render() -> None:
    src = ui.page_start("年度考核", "各考核对象的年度得分、等次、排名和指标构成；规则取自本年度的考核规则配置。")
    yrs = data.years(src)
    if not yrs:
        ui.empty("年度考核")
        return
    c1, c2 = st.columns([1, 2])
    with c1:
        year = ui.filter_select("年度", list(reversed(yrs)), key="annual_year", format_func=lambda y: f"{y}年度")
    with c2:
        group = ui.group_select(src, key="annual_group")
    st.caption(data.annual_rules_text(year, group, src))
    a = data.assessment(year, group, src)
    if a.empty:
        ui.empty(f"{data.GROUP_LABELS[group]}年度考核")
        return
    base = pd.DataFrame({
        "排名": a["rank"].astype("Int64"), "名称": a.body_name, "年度得分": scores(a.annual_score), "等次": a.grade,
        "红旗(面)": a.red_flags.astype("Int64"), "蜗牛(只)": a.snails.astype("Int64"),
        "一票否决": ui.yes(a.veto, "否决"),
    })
    extra = a.drop(columns=["body_code", "body_name", "annual_score", "rank", "grade", "red_flags", "snails", "veto",
                            "rules_version", "grade_note", "excellent_places", "group_size"])
    extra = extra.dropna(axis=1, how="all")
    extra = ui.round_cols(extra, [c for c in extra.columns if pd.api.types.is_float_dtype(extra[c])])
    table = pd.concat([base, extra], axis=1)
    table["规则版本"] = a.rules_version
    ui.table(table, f"年度考核_{data.GROUP_LABELS[group]}_{year}", key="annual", marked=["一票否决"],
             caption="“Qn得分”为各季度综合得分，“(年均)”为全年各季度指标得分的平均。",
             column_config={"排名": st.column_config.NumberColumn("排名", width=48, pinned=True),
                            "名称": ui.name_column(table["名称"])})

    st.markdown("##### 等次分布与优秀名额")
    if src.county is not None:
        st.info("县区用户仅显示本县的年度考核结果；全组等次分布由市清廉办查看。")
        return
    counts = a.grade.value_counts().reindex(GRADES, fill_value=0)
    quota = int(a.excellent_places.iloc[0])  # the warehouse's count: floor(quota × group size), at least 1
    fig = go.Figure(go.Bar(x=GRADES, y=counts.values, text=counts.values, marker_color=[GRADE_COLOURS[g] for g in GRADES],
                           name="实际", hovertemplate="%{x}：%{y} 个<extra></extra>"))
    fig.add_hline(y=quota, line_dash="dash", line_color=ui.GREY,
                  annotation_text=f"优秀名额上限 {quota} 个", annotation_position="top left")
    fig.update_layout(yaxis_title="个数", xaxis_title="等次", showlegend=False)
    ui.count_axis(fig, float(max(counts.max(), quota)) * 1.15)
    ui.chart(fig, key="grade_dist", height=320)
    over = a[a.grade_note.notna()]  # reached the 优秀 line, graded lower by the quota or a veto
    msg = (f"{data.GROUP_LABELS[group]}共 {int(a.group_size.iloc[0])} 个考核对象，优秀名额 {quota} 个，"
           f"实际评定优秀 {int(counts['优秀'])} 个。")
    if not over.empty:
        msg += " 年度得分达到优秀线但因名额或一票否决未评优秀：" + "、".join(map(ui.md, over.body_name)) + "。"
    st.caption(msg)


render()
