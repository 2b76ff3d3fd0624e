"""督办单: the supervision notice for one responsible body — its overdue rectifications with the
escalation stage (stage limits are rules values, published in marts.escalation_stages), as an
editable Word document or an xlsx workbook. Both go through exports.export (watermark + audit)."""

from __future__ import annotations

import io
from datetime import datetime

import pandas as pd

from dashboards import colours, data
from dashboards.exports import to_xlsx
from qinglian import office_time


def frame(issues: pd.DataFrame) -> pd.DataFrame:
    """The notice's table: one row per overdue issue, most overdue first."""
    stage = issues.stage.fillna("") if "stage" in issues.columns else ""
    nxt = issues.next_stage_date if "next_stage_date" in issues.columns else pd.NaT
    return pd.DataFrame({
        "督办阶段": stage, "逾期天数": issues.days_overdue.astype("Int64"), "问题编号": issues.issue_code,
        "问题类别": issues.category, "问题描述": issues.description, "整改时限": issues.deadline,
        "进入下一阶段日期": nxt, "整改状态": issues.status,
        "报送文件": issues.file_path, "工作表": issues.sheet, "行号": issues.row_number.astype("Int64"),
    }).reset_index(drop=True)


def title(body_name: str, quarter: str) -> str:
    return f"巡察整改督办单（{body_name}，{data.quarter_label(quarter)}）"


def render_xlsx(body_name: str, quarter: str, issues: pd.DataFrame) -> bytes:
    return to_xlsx({"督办单": frame(issues)}, title=title(body_name, quarter))


def render_docx(body_name: str, quarter: str, issues: pd.DataFrame, stages: pd.DataFrame) -> bytes:
    import docx
    from docx.enum.text import WD_ALIGN_PARAGRAPH
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn
    from docx.shared import Pt, RGBColor

    d = docx.Document()
    t = d.add_paragraph(style="Title")
    t.alignment = WD_ALIGN_PARAGRAPH.CENTER
    t.add_run("巡察整改督办单")
    d.add_paragraph(f"{body_name}：")
    f = frame(issues)
    worst = int(f["逾期天数"].max()) if not f.empty else 0
    p = d.add_paragraph()
    p.paragraph_format.first_line_indent = Pt(24)
    p.add_run(f"截至 {data.quarter_label(quarter)}末，你单位有 {len(f)} 个巡察发现问题逾期未整改，最长逾期 {worst} 天。")
    if not stages.empty and (f["督办阶段"] != "").any():
        counts = "，".join(f"{s.stage}（{s.range_text}）{int((f['督办阶段'] == s.stage).sum())} 个"
                          for s in stages.sort_values("stage_order").itertuples())
        p.add_run(f"按督办升级阶段：{counts}。")
    p.add_run("请逐项落实整改，并在整改完成后及时报送整改台账。")
    cols = ["督办阶段", "逾期天数", "问题编号", "问题类别", "问题描述", "整改时限", "进入下一阶段日期"]
    table = d.add_table(rows=1, cols=len(cols))
    table.style = "Table Grid"
    for j, c in enumerate(cols):
        table.rows[0].cells[j].text = c
    for rec in f[cols].itertuples(index=False):
        cells = table.add_row().cells
        for j, v in enumerate(rec):
            txt = "" if v is None or (not isinstance(v, str) and pd.isna(v)) else (
                f"{v:%Y-%m-%d}" if isinstance(v, pd.Timestamp | datetime) else str(v))
            cells[j].text = txt
            mark = colours.mark_of(txt) if j == 0 else None
            if mark and cells[j].paragraphs[0].runs:
                fg, bg = colours.MARKS[mark]
                run = cells[j].paragraphs[0].runs[0]
                run.bold = True
                run.font.color.rgb = RGBColor.from_string(fg.lstrip("#").upper())
                shd = OxmlElement("w:shd")
                shd.set(qn("w:val"), "clear")
                shd.set(qn("w:fill"), bg.lstrip("#"))
                cells[j]._tc.get_or_add_tcPr().append(shd)
            for r in cells[j].paragraphs[0].runs:
                r.font.size = Pt(9)
    d.add_paragraph()
    d.add_paragraph("清廉建设办公室").alignment = WD_ALIGN_PARAGRAPH.RIGHT
    d.add_paragraph(f"{office_time.now():%Y年%m月%d日}").alignment = WD_ALIGN_PARAGRAPH.RIGHT
    out = io.BytesIO()
    d.save(out)
    return out.getvalue()
