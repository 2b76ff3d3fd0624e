"""案件统计: quarterly increments, the four forms and first-form share, rates per 10,000 residents."""

from __future__ import annotations

import pandas as pd
import plotly.express as px
import plotly.graph_objects as go
import streamlit as st

from dashboards import data, exports, ui
from dashboards.exports import count, num, pct, percents, rounded

FORMS = {"form1": "第一种形态", "form2": "第二种形态", "form3": "第三种形态", "form4": "第四种形态"}
# Short headers so the table fits the page; the units are in the caption.
COUNTS = {"petitions": "信访举报", "clues": "问题线索", "talks": "谈话函询", "cases_filed": "立案", "punished": "处分",
          "form1": "第一种形态", "form2": "第二种形态", "form3": "第三种形态", "form4": "第四种形态", "detained": "留置",
          "transferred": "移送检察", "recovered_10k_yuan": "挽回损失(万元)"}
UNITS_NOTE = ("单位：信访举报、谈话函询为件次；问题线索、立案为件；处分、留置、移送检察机关为人；四种形态为人次；"
              "挽回经济损失为万元。")


def render() -> None:
    src = ui.page_start("案件统计", "各季度为当季增量（由年度累计数推算）；第一种形态占比 = 第一种 / 四种形态合计；"
                        "立案万人比 = 立案数 / 常住人口 × 1万。")
    cases = data.cases_by_region(src)
    if cases.empty:
        ui.empty("监督执纪统计")
        return
    # The viewer's scope's own figures per quarter (the city, or the county itself for a county user), as the
    # warehouse rolled them up; an empty roll-up (a county's year-to-date figure went down) stays empty.
    per_q = data.cases_overall(src)
    if per_q.empty:
        ui.empty("监督执纪统计")
        return
    qs = list(per_q.quarter)
    quarter = ui.filter_select("季度", list(reversed(qs)), key="cases_quarter",
                               format_func=lambda q: f"{data.quarter_label(q)}（{q}）")
    cur = per_q[per_q.quarter == quarter].iloc[0]
    if "ytd_decrease" in cases.columns:
        wrong = cases[(cases.quarter == quarter) & cases.ytd_decrease.fillna(False).astype(bool)]
        if not wrong.empty:
            st.warning("累计数比上季度减少（数据错误，该项本季度增量不计算，上级汇总为空）：" + "、".join(
                ui.md(f"{r.region_name}（{r.ytd_decrease_items}）" if "ytd_decrease_items" in wrong.columns else r.region_name)
                for r in wrong.drop_duplicates("region_code").itertuples()))
    c = st.columns(5)
    c[0].metric("立案（件）", count(cur.cases_filed), border=True)
    c[1].metric("处分（人）", count(cur.punished), border=True)
    c[2].metric("第一种形态占比", pct(cur.form1_share), border=True)
    c[3].metric("立案万人比", num(cur.cases_per_10k, 2), border=True)
    c[4].metric("挽回经济损失（万元）", num(cur.recovered_10k_yuan), border=True)

    left, right = st.columns(2)
    with left:
        st.markdown("##### 各季度立案（当季增量）")
        top = cases[cases.level_rank == cases.level_rank.min()]  # the scope's own rows
        fig = px.bar(top, x="quarter", y="cases_filed", color="region_name", labels={"quarter": "季度",
                     "cases_filed": "立案(件)", "region_name": "区划"})
        fig.update_traces(hovertemplate="%{fullData.name} · %{x}：立案 %{y} 件<extra></extra>")
        ui.chart(fig, key="cases_quarterly")
    with right:
        st.markdown("##### 四种形态构成与第一种形态占比")
        long = per_q.melt(id_vars="quarter", value_vars=list(FORMS), var_name="形态", value_name="人次")
        long["形态"] = long["形态"].map(FORMS)
        fig2 = go.Figure()
        for i, (form, part) in enumerate(long.groupby("形态", sort=True)):
            fig2.add_bar(x=part.quarter, y=part["人次"], name=form, marker_color=ui.PALETTE[i + 1],
                         hovertemplate=f"{form} · %{{x}}：%{{y}} 人次<extra></extra>")
        share = percents(per_q.form1_share)
        fig2.add_scatter(x=per_q.quarter, y=share, name="第一种形态占比(%)", yaxis="y2",
                         mode="lines+markers+text", text=exports.texts(share, 1), textposition="top center",
                         hovertemplate="%{x}：第一种形态占比 %{text}%<extra></extra>",
                         textfont=dict(color=ui.PALETTE[2]), line=dict(color=ui.PALETTE[2], width=3))
        fig2.update_layout(barmode="stack", xaxis_title="季度", yaxis_title="人次",
                           yaxis2=dict(title="第一种形态占比(%)", overlaying="y", side="right", range=[0, 110],
                                       tickmode="linear", tick0=0, dtick=20, showgrid=False))
        ui.chart(fig2, key="cases_forms")

    st.markdown(f"##### 各区划 {quarter} 指标")
    cq = cases[cases.quarter == quarter]
    level_rank = cq.level_rank.min() + (1 if src.county is None and (cq.level_rank > cq.level_rank.min()).any() else 0)
    cmp_ = cq[cq.level_rank == level_rank] if (cq.level_rank == level_rank).any() else cq
    cmp_ = cmp_.assign(万人比=rounded(cmp_.cases_per_10k, 2).to_numpy())
    if cmp_.万人比.notna().any():
        cmp_ = ui.chart_rows(cmp_, "万人比", ascending=False, what="立案万人比")
        fig3 = px.bar(cmp_.sort_values("万人比"), x="万人比", y="region_name", orientation="h",
                      labels={"region_name": "", "万人比": "立案万人比"})
        fig3.update_traces(hovertemplate="%{y}：立案万人比 %{text}<extra></extra>")
        ui.chart(ui.bar_labels(fig3, 2), key="cases_per10k", height=max(220, 80 + 36 * len(cmp_)))
    table = pd.DataFrame({"区划": cq.region_name, **{v: cq[k] for k, v in COUNTS.items()},
                          "第一种形态占比(%)": percents(cq.form1_share).to_numpy(),
                          "立案万人比": rounded(cq.cases_per_10k, 2).to_numpy()})
    ui.table(table, f"案件统计_{quarter}", key="cases_table", caption=UNITS_NOTE, name_col="区划")
    st.markdown("##### 各季度合计")
    totals = per_q[["quarter", *COUNTS]].rename(columns=COUNTS).assign(
        **{"第一种形态占比(%)": percents(per_q.form1_share).to_numpy()})
    ui.table(totals.rename(columns={"quarter": "季度"}), "案件统计_各季度", key="cases_totals")


render()
