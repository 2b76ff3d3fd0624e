"""报送记录 (submitters): every upload of the unit per quarter, its outcome, receipt and 问题清单."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from dashboards import auth, portal_ui, ui
from ingest.contracts import SOURCE_LABELS
from ingest.outcomes import label
from qinglian.submissions.intake import sources_for
from qinglian.submissions.store import SubmissionStore

viewer = auth.current_viewer()
if viewer is None:
    st.stop()
st.title("报送记录")
if not sources_for(viewer):
    st.warning("本账号不是报送单位账号，没有报送记录。")
    st.stop()
st.caption(f"报送单位：{ui.md(viewer.unit_name or viewer.unit_code)}。同一内容、同一报告期再次报送时，以最后一次接收的文件为准，"
           "之前的文件标为“已被更正文件替代”并保留备查。")

store = SubmissionStore()
uploads = store.history(viewer.unit_code or "")
if not uploads:
    st.info("本单位尚未通过门户报送文件。请在「数据报送」下载预填模板并上传。")
    st.stop()
periods = sorted({u.period or "" for u in uploads}, reverse=True)
period = ui.filter_select("报告期", periods, key="portal_history_period",
                          format_func=lambda p: portal_ui.period_text(p) if p else "未能识别报告期")
shown = [u for u in uploads if (u.period or "") == period]
table = pd.DataFrame([{
    "回执编号": u.receipt_no, "接收时间": u.received_at.strftime("%Y-%m-%d %H:%M:%S"),
    "报送内容": SOURCE_LABELS.get(u.source, u.source), "原文件名": u.original_name, "处理结果": label(u.outcome),
    "读入": u.rows_read, "入库": u.rows_loaded, "拒收": u.rows_rejected, "状态": portal_ui.status_text(u),
} for u in shown])
portal_ui.text_table(table)
choice = ui.filter_select("查看回执", [u.id for u in shown], key="portal_history_pick",
                          format_func=lambda i: next(f"{u.receipt_no}  {u.original_name}" for u in shown if u.id == i))
u = store.get(int(choice), viewer.unit_code)
if u is not None:
    with st.container(border=True):
        st.caption(portal_ui.receipt_caption(u) + f" · {portal_ui.status_text(u)}")
        portal_ui.show_result(u, viewer, None, key="hist")
