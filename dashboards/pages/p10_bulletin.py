"""季度通报: the drafted bulletin (text and tables) and its downloads as Word, PDF or Excel."""

from __future__ import annotations

import html
from pathlib import Path

import streamlit as st

from dashboards import bulletin, colours, data, ui


@st.cache_data(show_spinner=False, max_entries=32)
def _built(path: str, version: tuple, county: str | None, quarter: str) -> bulletin.Bulletin:
    # Keyed on the serving copy's version: a new publish drafts anew; a viewer's county is part of the key.
    return bulletin.build_bulletin(data.Source(Path(path), county), quarter)


def _runs_html(para: object) -> str:
    out = []
    for text, mark in para.runs:  # type: ignore[attr-defined]
        t = html.escape(text)
        if mark in colours.MARKS:
            fg, bg = colours.MARKS[mark]
            out.append(f'<span style="color:{fg};background:{bg};font-weight:600;padding:0 2px">{t}</span>')
        else:
            out.append(t)
    return "".join(out)


def render() -> None:
    src = ui.page_start("季度通报", "通报正文由发布数据自动起草（红旗蜗牛及其依据、名次变化、并列、否决、约谈、逾期督办、滞后任务、预警），"
                                    "附表列出文中引用的全部数字；可下载 Word（便于修改）、PDF 与 Excel。")
    quarter = ui.quarter_select(src, key="bulletin_quarter")
    if quarter is None:
        ui.empty("通报")
        return
    b = _built(str(src.path), src.version, src.county, quarter)
    stem = bulletin.file_stem(b, src.county)
    c1, c2, c3, _ = st.columns([1, 1, 1, 2])
    rows = sum(len(df) for df in b.sheets().values())
    common = dict(file_name=stem, what=f"季度通报 {quarter}", rows=rows, event="bulletin")
    with c1:
        # Built only when clicked (deferred download), watermarked and audited.
        ui.download_export("下载通报 Word", lambda: bulletin.render_docx(b), kind="docx", key="bulletin_docx",
                           icon=":material/edit_document:", type="primary", **common)
    with c2:
        ui.download_export("下载通报 PDF", lambda: bulletin.render_pdf(b), kind="pdf", key="bulletin_pdf",
                           icon=":material/picture_as_pdf:", **common)
    with c3:
        ui.download_export("下载通报 Excel", lambda: bulletin.render_xlsx(b), kind="xlsx", key="bulletin_xlsx", **common)
    st.subheader(f"{ui.md(b.title)} · {ui.md(b.subtitle)}")
    if b.source_line:
        st.caption(ui.md(b.source_line))
    for sec in b.sections:
        st.markdown(f"##### {ui.md(sec.title)}")
        st.html("".join(f'<p style="text-indent:2em;line-height:1.8;margin:0 0 .4em">{_runs_html(p)}</p>'
                        for p in sec.paras))
    st.markdown("##### 附表")
    if b.tie_rule:
        st.caption(f"并列说明：{ui.md(b.tie_rule)}。")
    for name, df in b.sheets().items():
        st.markdown(f"###### {ui.md(name)}")
        if df.empty:
            st.caption("无。")
        else:
            ui.frame(df, marked=bulletin.TABLE_MARKS)


render()
