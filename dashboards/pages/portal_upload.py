"""数据报送 (submitters): the pre-filled template, the upload, and within seconds the ingest's own answer."""

from __future__ import annotations

import streamlit as st

from dashboards import auth, portal_data, portal_ui, ui
from ingest.contracts import SOURCE_LABELS
from ingest.limits import Limits
from ingest.templates import template_bytes
from qinglian.settings import default_landing
from qinglian.submissions.intake import NotASubmitter, receive, sources_for

RESULTS = "_portal_results"
ROUND = "_portal_round"  # upload ids of this browser session's last batch, with their bytes

viewer = auth.current_viewer()
if viewer is None:
    st.stop()
sources = sources_for(viewer)
st.title("数据报送")
if not sources:
    st.warning("本账号不是报送单位账号，不能报送数据。")
    st.stop()
st.caption(f"报送单位：{ui.md(viewer.unit_name or viewer.unit_code)}。下载本单位的预填模板，填好后上传；"
           "系统按季度数据处理的同一套规则立即检查，并给出回执。")

src = portal_data.source_for(viewer)
left, right = st.columns([1, 1])
with left:
    source = ui.filter_select("报送内容", list(sources), key="portal_source", format_func=lambda s: SOURCE_LABELS[s])
with right:
    options = portal_data.period_options(src)
    if source == "surveys":
        options = sorted({q[:4] for q in options}, reverse=True)
    period = ui.filter_select("报告期", options, key=f"portal_period_{source == 'surveys'}",
                              format_func=portal_ui.period_text)
due = portal_data.due_date(src, period)
if due is not None:
    st.markdown(f"报送截止日期：**{due:%Y年%m月%d日}**（以系统接收时间为准；文件中填写了填报日期的，按填报日期判断是否按时）")

st.subheader("第一步：下载预填模板")
prefill = portal_data.prefill(src, viewer, source, period)
st.caption(f"模板已写好标题（{ui.md(prefill.title)}）、填报单位和本单位已知的"
           f"{'任务' if source == 'task_progress' else '清廉单元' if source == 'units' else '未整改问题' if source == 'inspections' else '区划'}"
           f"（{len(prefill.rows) if prefill.rows else len(prefill.reference)} 条）；下拉选项和「填表说明」与空白模板相同。")
finish = portal_ui.template_finish(viewer)
ui.download_export("下载预填模板（Excel）", lambda: template_bytes(source, prefill, finish), kind="xlsx",
                   file_name=f"{viewer.unit_name or viewer.unit_code}_{SOURCE_LABELS[source]}_{period}_预填模板",
                   what=f"预填模板 {SOURCE_LABELS[source]} {period}", key=f"tpl-{source}-{period}",
                   rows=len(prefill.rows), event="download")

st.subheader("第二步：上传填好的文件")
limits = Limits.from_env()
TYPES = ["xlsx", "xls", "csv"]
ui.uploader_css(limits, TYPES)
# The browser refuses a file over the ingest's own limit before it is sent (the dry run checks it again).
files = st.file_uploader(f"选择文件（可一次选多个；支持 .xlsx、.xls、.csv，单个文件不超过 {limits.file_mb:g} MB）",
                         type=TYPES, accept_multiple_files=True, max_upload_size=limits.upload_mb,
                         key=f"portal_files_{source}_{st.session_state.get(ROUND, 0)}")
if st.button("提交报送", type="primary", disabled=not files, key="portal_submit"):
    batch = []
    with st.spinner("正在检查……"):
        for f in files or []:
            content = f.getvalue()
            try:
                got = receive(viewer, source, f.name, content, serving=src.path, landing=default_landing(),
                              client=auth.client_address(), limits=limits)
            except NotASubmitter as exc:
                batch.append((None, b"", [str(exc)]))
                continue
            batch.append((got.upload.id, content, got.notes))
    st.session_state[RESULTS] = batch
    st.session_state[ROUND] = st.session_state.get(ROUND, 0) + 1  # a fresh, empty file picker for the next files
    st.rerun()

batch = st.session_state.get(RESULTS) or []
if batch:
    st.subheader("检查结果")
    from qinglian.submissions.store import SubmissionStore

    store = SubmissionStore()
    for upload_id, content, notes in batch:
        u = store.get(upload_id, viewer.unit_code) if upload_id is not None else None
        if u is None:
            for note in notes:
                st.error(note)
            continue
        with st.container(border=True):
            st.caption(portal_ui.receipt_caption(u))
            portal_ui.show_result(u, viewer, content, key="now")
            for note in notes:
                if not any(title in note for title in portal_data.REFERENCE_SHEETS):  # the template's own look-up sheets
                    st.caption(ui.md(note))
    st.caption("全部报送记录、回执和问题清单见「报送记录」。")
