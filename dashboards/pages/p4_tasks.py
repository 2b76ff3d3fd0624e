"""重点任务: progress by area and owner; the 督办清单 of lagging and unreported tasks."""

from __future__ import annotations

import pandas as pd
import plotly.express as px
import streamlit as st

from dashboards import colours, data, ui
from dashboards.exports import pct, percents, ratio

STATUS_ORDER = ["已完成", "按序推进", "滞后", "未启动", "未报送"]
# red means 红旗 only (dashboards/colours.py): 未报送 is the darkest neutral, 滞后 the snail's amber.
STATUS_COLOURS = {"已完成": colours.SERIES[1], "按序推进": colours.SERIES[0], "滞后": colours.SNAIL, "未启动": colours.NO_FLAG,
                  "未报送": colours.SERIES[5]}


def render() -> None:
    src = ui.page_start("重点任务", "任务推进率 = 状态为已完成或按序推进的任务 / 本季度在办任务；未报送的任务按未按序推进计。")
    quarter = ui.quarter_select(src, key="tasks_quarter")
    if quarter is None:
        ui.empty("重点任务")
        return
    kpi = data.task_kpi(quarter, src)
    if kpi.empty:
        ui.empty("任务推进")
        return
    names = data.name_map(src)
    tot = kpi[["tasks_active", "tasks_on_schedule", "tasks_due", "tasks_completed", "reports_due", "reports_on_time"]].sum()
    lag = data.lagging_tasks(quarter, src)
    c = st.columns(4)
    c[0].metric("任务推进率", pct(tot.tasks_on_schedule / tot.tasks_active if tot.tasks_active else None),
                help=ratio(tot.tasks_on_schedule, tot.tasks_active), border=True)
    c[1].metric("任务完成率", pct(tot.tasks_completed / tot.tasks_due if tot.tasks_due else None),
                help=f"已完成 / 完成时限已到：{ratio(tot.tasks_completed, tot.tasks_due)}", border=True)
    c[2].metric("按时报送率", pct(tot.reports_on_time / tot.reports_due if tot.reports_due else None),
                help=ratio(tot.reports_on_time, tot.reports_due), border=True)
    c[3].metric("督办任务（项）", f"{len(lag)}", border=True)

    left, right = st.columns(2)
    with left:
        st.markdown("##### 分领域推进状态")
        area = data.task_status_by_area(quarter, src)
        if area.empty:
            ui.empty("任务状态")
        else:
            fig = px.bar(area, y="area", x="n", color="status", orientation="h",
                         category_orders={"status": STATUS_ORDER}, color_discrete_map=STATUS_COLOURS,
                         labels={"area": "", "n": "任务数（项）", "status": "状态"})
            fig.update_traces(hovertemplate="%{y}<br>%{fullData.name}：%{x} 项<extra></extra>")
            ui.chart(fig, key="tasks_area", height=max(260, 80 + 40 * area.area.nunique()))
    with right:
        st.markdown("##### 各牵头单位推进率")
        k = kpi.assign(名称=kpi.owner_code.map(names).fillna(kpi.owner_code),
                       组别=kpi.owner_group.map(data.GROUP_LABELS).fillna(kpi.owner_group),
                       推进率=percents(kpi.on_schedule_rate).to_numpy())
        k = ui.chart_rows(k, "推进率", what="推进率").sort_values("推进率")
        fig2 = px.bar(k, y="名称", x="推进率", color="组别", orientation="h", text="推进率",
                      labels={"名称": "", "推进率": "任务推进率(%)"}, range_x=[0, 110])
        fig2.update_traces(hovertemplate="%{y}（%{fullData.name}）：%{text}<extra></extra>")
        ui.chart(ui.bar_labels(fig2, 1, suffix="%"), key="tasks_owner", height=max(260, 80 + 28 * len(k)))

    st.markdown("##### 督办清单（滞后、未启动、未报送）")
    if lag.empty:
        st.success("本季度没有滞后或未报送的任务。")
    else:
        show = pd.DataFrame({
            "牵头单位": lag.owner_code.map(names).fillna(lag.owner_code),
            "组别": lag.owner_group.map(data.GROUP_LABELS).fillna(lag.owner_group),
            "任务编号": lag.task_code, "任务名称": lag.task_name, "领域": lag.area, "推进状态": lag.status,
            "完成进度(%)": lag.progress_pct, "完成时限": lag.deadline, "滞后天数": lag.days_late.astype("Int64"),
            "填报日期": lag.report_date, "报送文件": lag.file_path, "工作表": lag.sheet,
            "行号": lag.row_number.astype("Int64"),
        })
        ui.table(show, f"督办清单_{quarter}", key="lagging", sort="滞后天数", name_col="牵头单位", column_config={
            "任务名称": st.column_config.TextColumn("任务名称", width="large"), **ui.lineage_config()},
            caption="按滞后天数从多到少排列；未报送的任务没有报送文件行。")

    st.markdown("##### 各牵头单位任务指标")
    table = pd.DataFrame({
        "牵头单位": kpi.owner_code.map(names).fillna(kpi.owner_code),
        "组别": kpi.owner_group.map(data.GROUP_LABELS).fillna(kpi.owner_group),
        "在办任务": kpi.tasks_active, "按序推进": kpi.tasks_on_schedule, "推进率(%)": percents(kpi.on_schedule_rate).to_numpy(),
        "到期任务": kpi.tasks_due, "已完成": kpi.tasks_completed, "完成率(%)": percents(kpi.completion_rate).to_numpy(),
        "应报送": kpi.reports_due, "按时报送": kpi.reports_on_time, "按时报送率(%)": percents(kpi.timeliness_rate).to_numpy(),
    }).sort_values(["组别", "推进率(%)"])
    ui.table(table, f"任务指标_{quarter}", key="task_kpi", sort="推进率(%)", name_col="牵头单位",
             caption="按组别、推进率从低到高排列。")


render()
