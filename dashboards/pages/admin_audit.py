"""审计日志 (admin only): read the append-only log, filter it, check its chain, export it."""

from __future__ import annotations

from datetime import datetime, time, timedelta

import streamlit as st

from dashboards import security_ui, ui
from qinglian import office_time
from qinglian.security import audit

LIMIT = 5000


def render() -> None:
    security_ui.require_viewer(admin=True)
    st.title("审计日志")
    st.caption("登录（成功与失败）、锁定、退出、页面查看、导出与下载、通报、上传、账号与规则变更，逐条记录：谁、何时、"
               "角色、范围、地址、对象。日志只能追加，本系统中任何人都无法修改或删除；每条记录带链式校验值。")
    log = audit.log()
    c1, c2, c3, c4 = st.columns([1, 1, 1, 2])
    today = office_time.today()  # the entries are shown and filtered on the office clock
    # The filters go through ui.filter_widget: they are what this page view's audit entry records.
    since = ui.filter_widget(c1.date_input, "起始日期", today - timedelta(days=7), key="audit_since")
    until = ui.filter_widget(c2.date_input, "截止日期", today, key="audit_until")
    user = ui.filter_widget(c3.text_input, "用户名", key="audit_user").strip().lower()
    events = ui.filter_widget(c4.multiselect, "事件", list(audit.EVENTS), format_func=lambda e: audit.EVENTS[e],
                              key="audit_events", placeholder="全部事件")
    entries = log.read(since=datetime.combine(since, time.min), until=datetime.combine(until, time.min) + timedelta(days=1),
                       username=user or None, events=tuple(events), limit=LIMIT)
    df = security_ui.entries_frame(entries)
    st.caption(f"共 {len(df)} 条（最多显示 {LIMIT} 条，最新在前）。")
    ui.table(df, "审计日志", key="audit_log", column_config={
        "详情": st.column_config.TextColumn("详情", width="large"),
        "时间": st.column_config.DatetimeColumn("时间", format="YYYY-MM-DD HH:mm:ss")})
    if st.button("校验日志完整性", key="audit_verify", icon=":material/verified:"):
        result = log.verify(audit.app_log_files())  # the chain, its head file and the heads in the application log
        (st.success if result.ok else st.error)(result.message)


render()
