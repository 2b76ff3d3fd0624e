"""报送情况 (the office; a county user sees its own county): per period and source, who has submitted,
on time or late, who has not, and the 催报 list."""

from __future__ import annotations

import streamlit as st

from dashboards import auth, portal_data, portal_ui, ui
from ingest.contracts import SOURCE_LABELS
from qinglian.submissions import status as st_status
from qinglian.submissions.store import SubmissionStore

viewer = auth.current_viewer()
if viewer is None:
    st.stop()
st.title("报送情况")
src = portal_data.office_source(viewer)
if src.version is None:
    st.info(f"尚未发布驾驶舱数据：找不到发布副本 {src.path}。请先运行 `qinglian run` 完成一次季度任务。")
    st.stop()
if viewer.county_code:
    st.caption(f"数据范围：{ui.md(viewer.scope_text)}")

left, right = st.columns([1, 1])
with left:
    source = ui.filter_select("报送内容", list(portal_data.PERIODIC_SOURCES), key="status_source",
                              format_func=lambda s: SOURCE_LABELS[s])
with right:
    options = portal_data.period_options(src)
    if source == "surveys":
        options = sorted({q[:4] for q in options}, reverse=True)
    period = ui.filter_select("报告期", options, key=f"status_period_{source == 'surveys'}",
                              format_func=portal_ui.period_text)
due = portal_data.due_date(src, period)
expected = portal_data.expected_units(src, source, period)
units = None if viewer.county_code is None else [viewer.county_code]
uploads = [u for u in SubmissionStore().all(period, units) if u.source == source]
status = st_status.submission_status(expected, uploads, portal_data.journal_files(src, source, period), due)
counts = st_status.summary(status)

st.markdown(f"**{SOURCE_LABELS[source]} · {portal_ui.period_text(period)}** — 截止日期 "
            f"{due:%Y年%m月%d日}" if due else f"**{SOURCE_LABELS[source]} · {portal_ui.period_text(period)}** — 截止日期未知")
m = st.columns(5)
m[0].metric("应报单位", counts["应报"])
m[1].metric("按时报送", counts[st_status.ON_TIME])
m[2].metric("逾期报送", counts[st_status.LATE])
m[3].metric("其他渠道入库", counts[st_status.OTHER])
m[4].metric("未报送/未通过", counts[st_status.MISSING] + counts[st_status.REFUSED])

shown = status.drop(columns=["unit_code"])
if shown.empty:
    ui.empty("应报单位")
else:
    portal_ui.text_table(shown)
    ui.download_xlsx({"报送情况": shown}, f"报送情况_{SOURCE_LABELS[source]}_{period}", key="dl_status",
                     label="导出报送情况（Excel）")

st.subheader("催报名单")
chase = status[status["状态"].isin(st_status.TO_CHASE)]
if chase.empty:
    st.success("应报单位均已报送。")
else:
    chase = chase.assign(报送内容=SOURCE_LABELS[source], 报告期=portal_ui.period_text(period),
                         截止日期=f"{due:%Y-%m-%d}" if due else "未知")[["单位", "类别", "报送内容", "报告期", "截止日期", "状态", "说明"]]
    portal_ui.text_table(chase)
    ui.download_xlsx({"催报名单": chase}, f"催报名单_{SOURCE_LABELS[source]}_{period}", key="dl_chase",
                     label="导出催报名单（Excel）")
