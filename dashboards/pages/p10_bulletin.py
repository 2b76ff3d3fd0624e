"""季度通报: preview the quarter's bulletin and download it as PDF or xlsx."""

from __future__ import annotations

import streamlit as st

from dashboards import bulletin, ui


def render() -> None:
    src = ui.page_start("季度通报", "红旗/蜗牛榜、年度考核（第四季度）、滞后任务督办清单和逾期未整改问题；可下载 PDF 与 Excel。")
    quarter = ui.quarter_select(src, key="bulletin_quarter")
    if quarter is None:
        ui.empty("通报")
        return
    b = bulletin.build_bulletin(src, quarter)
    stem = bulletin.file_stem(b, src.county)
    c1, c2, _ = st.columns([1, 1, 3])
    rows = sum(len(df) for df in b.sheets().values())
    with c1:
        # Built only when clicked (deferred download), watermarked and audited; the PDF takes a moment.
        ui.download_export("下载通报 PDF", lambda: bulletin.render_pdf(b), kind="pdf", file_name=stem,
                           what=f"季度通报 {quarter}", rows=rows, event="bulletin", key="bulletin_pdf",
                           icon=":material/picture_as_pdf:", type="primary")
    with c2:
        ui.download_export("下载通报 Excel", lambda: bulletin.render_xlsx(b), kind="xlsx", file_name=stem,
                           what=f"季度通报 {quarter}", rows=rows, event="bulletin", key="bulletin_xlsx")
    st.subheader(f"{ui.md(b.title)} · {ui.md(b.subtitle)}")
    for line in b.summary:
        st.markdown(f"- {ui.md(line)}")
    for name, df in b.sheets().items():
        st.markdown(f"##### {ui.md(name)}")
        if df.empty:
            st.caption("无。")
        else:
            ui.frame(df, marked=["旗帜", "一票否决", "约谈", "边界接近", "备注"])


render()
