"""巡察整改: rectification rates per body and over time; the overdue open issues ledger."""

from __future__ import annotations

import pandas as pd
import plotly.express as px
import streamlit as st

from dashboards import data, ui
from dashboards.exports import count, pct, percents, ratio


def render() -> None:
    src = ui.page_start("巡察整改", "整改完成率 = 季末前已整改的问题 / 整改时限已到的问题；按期整改率以问题自身的整改时限为准。")
    quarter = ui.quarter_select(src, key="rect_quarter")
    if quarter is None:
        ui.empty("巡察整改")
        return
    kpi = data.rect_kpi(quarter, src)
    if kpi.empty:
        ui.empty("巡察整改")
        return
    names = data.name_map(src)
    overdue = data.overdue_issues(quarter, src)
    head = data.rect_headline(quarter, src)  # the scope's sums and rates, as the warehouse computed them
    tot = head.iloc[0] if not head.empty else None
    c = st.columns(4)
    c[0].metric("整改完成率", pct(tot.rectification_rate) if tot is not None else "—",
                help=ratio(tot.issues_rectified, tot.issues_due) if tot is not None else None, border=True)
    c[1].metric("按期整改率", pct(tot.on_time_rate) if tot is not None else "—",
                help=ratio(tot.issues_on_time, tot.issues_due) if tot is not None else None, border=True)
    c[2].metric("逾期未整改（个）", count(tot.overdue_open) if tot is not None else "—", border=True)
    veto = data.veto_days_text(quarter, src)  # the rules' veto_days of the quarter's year
    c[3].metric(f"逾期超{veto}（个）", count(tot.overdue_over_veto) if tot is not None else "—",
                help="涉及对象本季度不得评红旗（一票否决）", border=True)

    left, right = st.columns(2)
    with left:
        st.markdown("##### 各对象整改完成率")
        k = kpi.assign(名称=kpi.body_code.map(names).fillna(kpi.body_code),
                       组别=kpi.body_group.map(data.GROUP_LABELS).fillna(kpi.body_group),
                       完成率=percents(kpi.rectification_rate).to_numpy()).dropna(subset=["完成率"])
        k = ui.chart_rows(k, "完成率", what="整改完成率").sort_values("完成率")
        if k.empty:
            st.info("本季度没有到期的整改问题。")
        else:
            fig = px.bar(k, y="名称", x="完成率", color="组别", orientation="h", text="完成率",
                         labels={"名称": "", "完成率": "整改完成率(%)"}, range_x=[0, 110])
            fig.update_traces(hovertemplate="%{y}（%{fullData.name}）：%{text}<extra></extra>")
            ui.chart(ui.bar_labels(fig, 1, suffix="%"), key="rect_bodies", height=max(260, 80 + 28 * len(k)))
    with right:
        st.markdown("##### 整改完成率趋势")
        tr = data.rect_trend(src)
        if not tr.empty:
            tr = tr.assign(组别=tr.body_group.map(data.GROUP_LABELS).fillna(tr.body_group),
                           完成率=percents(tr.rectification_rate).to_numpy())
            fig2 = px.line(tr, x="quarter", y="完成率", color="组别", markers=True,
                           labels={"quarter": "季度", "完成率": "整改完成率(%)"}, range_y=[0, 105])
            fig2.update_traces(hovertemplate="%{fullData.name}<br>%{x}：%{y:.1f}%<extra></extra>")
            ui.chart(fig2, key="rect_trend")

    st.markdown("##### 逾期未整改问题台账")
    if overdue.empty:
        st.success("本季度末没有逾期未整改的问题。")
    else:
        show = pd.DataFrame({
            "逾期天数": overdue.days_overdue.astype("Int64"),
            "一票否决": overdue.exceeds_veto.fillna(False).astype(bool).map({True: f"否决（超{veto}）", False: ""}),
            "责任对象": overdue.body_code.map(names).fillna(overdue.body_code),
            "组别": overdue.body_group.map(data.GROUP_LABELS).fillna(overdue.body_group),
            "问题编号": overdue.issue_code, "被巡察单位": overdue.inspected_body,
            "所属区划": overdue.region_code.map(names).fillna(overdue.region_code), "问题类别": overdue.category,
            "问题描述": overdue.description, "发现日期": overdue.found_date, "整改时限": overdue.deadline,
            "整改状态": overdue.status, "报送文件": overdue.file_path, "工作表": overdue.sheet,
            "行号": overdue.row_number.astype("Int64"),
        })
        ui.table(show, f"逾期未整改台账_{quarter}", key="overdue", marked=["一票否决"], sort="逾期天数",
                 name_col="责任对象", after_name=["一票否决"],
                 column_config={"问题描述": st.column_config.TextColumn("问题描述", width="large"), **ui.lineage_config()},
                 caption="按逾期天数从多到少排列。")

    st.markdown("##### 各对象整改指标")
    table = pd.DataFrame({
        "责任对象": kpi.body_code.map(names).fillna(kpi.body_code),
        "组别": kpi.body_group.map(data.GROUP_LABELS).fillna(kpi.body_group),
        "到期问题": kpi.issues_due, "已整改": kpi.issues_rectified, "整改完成率(%)": percents(kpi.rectification_rate).to_numpy(),
        "按期整改": kpi.issues_on_time, "按期整改率(%)": percents(kpi.on_time_rate).to_numpy(),
        "逾期未整改": kpi.overdue_open, "最长逾期天数": kpi.max_days_overdue,
    }).sort_values(["组别", "整改完成率(%)"])
    ui.table(table, f"整改指标_{quarter}", key="rect_kpi", sort="整改完成率(%)", name_col="责任对象",
             caption="按组别、整改完成率从低到高排列。")


render()
