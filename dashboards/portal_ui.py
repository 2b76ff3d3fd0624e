"""What the portal pages share: showing one upload's outcome (reasons, highlighted rows, receipt,
问题清单) and the downloads, each watermarked and audited through ui.download_export."""

from __future__ import annotations

from typing import Any

import pandas as pd
import streamlit as st

from dashboards import data, ui
from dashboards import watermark as wmk
from dashboards.exports import to_xlsx
from ingest.contracts import SOURCE_LABELS
from ingest.limits import Limits, column_letters
from ingest.outcomes import label
from ingest.readers import read_bytes_grids
from qinglian.security.scope import Scope
from qinglian.submissions.receipt import receipt_rows, render_receipt
from qinglian.submissions.store import Upload

PREVIEW_ROWS = 120
TEXT_TABLE_ROWS = 200  # up to this many reasons as an HTML table (readable, searchable, printable)
REJECT_COLUMNS = {"sheet": "工作表", "row": "行号", "column": "列", "value": "填写内容", "reason": "原因"}
_BAD_ROW = "background-color: #FADBD8"
_BAD_CELL = "background-color: #F1948A; font-weight: 600"


def period_text(period: str | None) -> str:
    if not period:
        return "未能识别"
    return data.quarter_label(period) if len(period) == 6 else f"{period}年度"


def status_text(u: Upload) -> str:
    if u.outcome == "duplicate":
        return "重复报送（以原文件为准）"
    if not u.loaded:
        return "未接收"
    return "已被更正文件替代" if u.superseded_by else "当前有效"


def rejects_table(u: Upload) -> pd.DataFrame:
    df = pd.DataFrame(u.rejects, columns=list(REJECT_COLUMNS))
    return df.rename(columns=REJECT_COLUMNS)


def text_table(df: pd.DataFrame) -> None:
    """A small table as HTML with every cell rendered literally (st.table reads Markdown: escape it)."""
    shown = df.copy()
    shown.columns = [ui.md(c) for c in shown.columns]
    st.table(shown.astype(object).map(lambda v: "" if v is None or v is pd.NA or (isinstance(v, float) and v != v)
                                      else ui.md(v)), hide_index=True)


def _outcome_box(u: Upload) -> None:
    counts = f"读入 {u.rows_read} 行 = 入库 {u.rows_loaded} 行 + 拒收 {u.rows_rejected} 行"
    head = f"**{ui.md(u.original_name)}** — {label(u.outcome)}（{counts}）"
    if u.outcome == "accepted":
        st.success(head, icon=":material/check_circle:")
    elif u.outcome == "accepted_with_rejects":
        st.warning(head, icon=":material/warning:")
    elif u.outcome == "duplicate":
        st.info(head, icon=":material/content_copy:")
    else:
        st.error(head, icon=":material/block:")
    if u.message:
        st.markdown(ui.md(u.message))


def _highlighted(data_bytes: bytes, name: str, rejects: list[dict[str, Any]]) -> list[tuple[str, Any]]:
    """Each sheet that has rejects, as the clerk sees it in Excel (row numbers, column letters), the
    rejected rows tinted and the cells named by a reason marked."""
    try:
        grids, _ = read_bytes_grids(data_bytes, name, Limits.from_env())
    except Exception:  # the file could not be read at all: its reason says why, no preview
        return []
    by_sheet: dict[str, dict[int, list[dict[str, Any]]]] = {}
    for r in rejects:
        if r.get("row") is not None:
            by_sheet.setdefault(str(r.get("sheet")), {}).setdefault(int(r["row"]), []).append(r)
    out = []
    for grid in grids:
        bad = by_sheet.get(grid.name)
        if not bad:
            continue
        frame = grid.frame.to_pandas()
        rows = frame.pop("_row").astype(int)
        frame.columns = [column_letters(i) for i in range(len(frame.columns))]
        frame.index = rows
        first_bad = min(bad)
        frame = frame[(frame.index >= max(1, first_bad - 3)) & (frame.index <= max(bad) + 2)].head(PREVIEW_ROWS)
        # which letters hold the header labels the reasons name (the header row is above the first data row)
        header = {}
        above = grid.frame.to_pandas()
        above = above[above["_row"] < first_bad].drop(columns="_row")
        for letters, col in zip(frame.columns, above.columns, strict=False):
            for v in above[col].dropna().astype(str):
                header.setdefault(v.replace("\n", "").replace(" ", ""), letters)
        reasons = {row: "；".join(str(r["reason"]) for r in rs) for row, rs in bad.items()}
        excel_rows = [int(i) for i in frame.index]
        frame.insert(0, "问题", [reasons.get(i, "") for i in excel_rows])
        frame.insert(0, "行号", excel_rows)
        frame = frame.reset_index(drop=True)
        frame = frame.map(lambda v: "" if v is None or (isinstance(v, float) and v != v) else ui.md(v))
        marks = {(row, header.get(str(r.get("column") or "").replace(" ", ""))) for row, rs in bad.items() for r in rs}

        def style(row: pd.Series, marks: set = marks, bad: dict = bad, excel_rows: list = excel_rows) -> list[str]:
            at = excel_rows[int(row.name)]
            if at not in bad:
                return [""] * len(row)
            return [_BAD_CELL if (at, c) in marks or c == "问题" else _BAD_ROW for c in row.index]

        out.append((grid.name, frame.style.apply(style, axis=1).hide(axis="index")))
    return out


def show_result(u: Upload, viewer: Scope, data_bytes: bytes | None = None, key: str = "r") -> None:
    """One upload: outcome, reasons, the highlighted rows (when the bytes are at hand), downloads."""
    _outcome_box(u)
    if u.rejects:
        st.markdown(f"**问题清单**（{len(u.rejects)} 条，请按行号在原文件中修改后重新上传）")
        table = rejects_table(u)
        if len(table) <= TEXT_TABLE_ROWS:
            text_table(table)
        else:
            ui.frame(table, height=360)
        if data_bytes is not None:
            for sheet, styled in _highlighted(data_bytes, u.original_name, u.rejects):
                with st.expander(f"在原表中查看：工作表「{sheet}」（标红的为有问题的行）", expanded=False):
                    st.table(styled)
    cols = st.columns(3)
    with cols[0]:
        ui.download_export("下载回执（PDF）", lambda: render_receipt(u, period_text(u.period)), kind="pdf",
                           file_name=f"报送回执_{u.receipt_no}", what=f"报送回执 {u.receipt_no}", key=f"{key}-receipt-{u.id}",
                           event="download")
    if u.rejects:
        sheets = {"问题清单": rejects_table(u), "回执": pd.DataFrame(receipt_rows(u, period_text(u.period)),
                                                                columns=["项目", "内容"])}
        with cols[1]:
            ui.download_export("下载问题清单（Excel）", lambda: to_xlsx(sheets, title=f"问题清单 {u.original_name}"),
                               kind="xlsx", file_name=f"问题清单_{u.receipt_no}", what=f"问题清单 {u.receipt_no}",
                               key=f"{key}-issues-{u.id}", rows=len(u.rejects), event="download")


def receipt_caption(u: Upload) -> str:
    """Our own words and numbers only (the file name is shown escaped elsewhere): no escaping needed."""
    return (f"回执编号 {u.receipt_no} · 接收时间 {u.received_at:%Y-%m-%d %H:%M:%S} · "
            f"{SOURCE_LABELS.get(u.source, u.source)} · {period_text(u.period)}")


def template_finish(viewer: Scope):  # noqa: ANN201 - a callback for ingest.templates.template_bytes
    """Watermark a template workbook for the viewer (header/footer, background, properties)."""
    wm = wmk.Watermark.for_scope(viewer)
    tile = wmk.png_tile(wm)

    def finish(wb: Any, sheets: list[Any]) -> None:
        for ws in sheets:
            wmk.xlsx_sheet(ws, wm, tile)
        wmk.xlsx_properties(wb, wm)

    return finish
