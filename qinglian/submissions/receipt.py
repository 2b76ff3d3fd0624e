"""The receipt (回执) of one upload as a PDF with an embedded CJK font.

fpdf2 embeds a subset of Noto Sans CJK SC (Debian fonts-noto-cjk, dashboards/pdf_fonts.py, the same
font and library as the bulletin and the watermark), so the receipt reads the same on any viewer, with or without Chinese fonts installed.
The watermark naming who downloaded it is stamped on afterwards by dashboards.exports.export.
"""

from __future__ import annotations

from ingest.contracts import SOURCE_LABELS
from ingest.outcomes import label
from qinglian.errors import UserError
from qinglian.submissions.store import Upload

MAX_REASONS = 30


def _add_font(pdf: object) -> str:
    from dashboards import pdf_fonts

    try:
        return pdf_fonts.add_fonts(pdf)
    except pdf_fonts.FontMissing:
        raise UserError("服务器缺少中文字体（Debian 软件包 fonts-noto-cjk），无法生成回执 PDF；请联系管理员安装") from None


def _size(n: int) -> str:
    return f"{n / 1024 / 1024:.2f} MB" if n >= 1024 * 1024 else f"{n / 1024:.1f} KB"


def receipt_rows(upload: Upload, period_label: str | None = None) -> list[tuple[str, str]]:
    """The receipt's fields, in order (also shown on screen)."""
    return [
        ("回执编号", upload.receipt_no),
        ("报送单位", upload.unit_name or upload.unit_code),
        ("报送账号", upload.username),
        ("报送内容", SOURCE_LABELS.get(upload.source, upload.source)),
        ("报告期", period_label or upload.period or "未能识别"),
        ("原文件名", upload.original_name),
        ("文件大小", _size(upload.size)),
        ("SHA-256", upload.sha256),
        ("接收时间", f"{upload.received_at:%Y-%m-%d %H:%M:%S}（北京时间）"),
        ("处理结果", label(upload.outcome)),
        ("数据行数", f"读入 {upload.rows_read} 行 = 入库 {upload.rows_loaded} 行 + 拒收 {upload.rows_rejected} 行"),
        ("说明", upload.message or ("已存入报送文件夹，将在本季度数据处理中入库" if upload.loaded else "—")),
    ]


def render_receipt(upload: Upload, period_label: str | None = None) -> bytes:
    from fpdf import FPDF
    from fpdf.enums import XPos, YPos
    from fpdf.fonts import FontFace

    pdf = FPDF(orientation="P", unit="mm", format="A4")
    pdf.set_auto_page_break(True, margin=18)
    _add_font(pdf)
    pdf.set_title(f"报送回执 {upload.receipt_no}")
    pdf.set_author("清廉建设办公室")
    pdf.set_creator("qinglian")
    pdf.add_page()
    pdf.set_font("cjk", size=18)
    pdf.cell(0, 12, "清廉建设数据报送回执", align="C", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.set_font("cjk", size=9)
    pdf.set_text_color(110, 110, 110)
    pdf.cell(0, 6, "本回执由清廉建设数据报送门户自动生成，可凭回执编号与 SHA-256 核对所报文件。", align="C",
             new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.ln(4)
    pdf.set_text_color(0, 0, 0)
    pdf.set_font("cjk", size=11)
    width = pdf.w - pdf.l_margin - pdf.r_margin
    with pdf.table(col_widths=(28, width - 28), text_align=("LEFT", "LEFT"), line_height=7,
                   first_row_as_headings=False) as table:
        for key, value in receipt_rows(upload, period_label):
            row = table.row()
            row.cell(key)
            row.cell(value)
    reasons = upload.rejects[:MAX_REASONS]
    if reasons:
        pdf.ln(5)
        pdf.set_font("cjk", size=12)
        more = f"（共 {len(upload.rejects)} 条，列出前 {MAX_REASONS} 条；完整清单请下载问题清单）" \
            if len(upload.rejects) > MAX_REASONS else f"（共 {len(upload.rejects)} 条）"
        pdf.multi_cell(0, 7, f"问题清单{more}", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        pdf.set_font("cjk", size=9)
        with pdf.table(col_widths=(22, 12, 24, width - 58), line_height=5.5,
                       headings_style=FontFace(emphasis="", fill_color=(235, 235, 235))) as table:
            head = table.row()
            for h in ("工作表", "行", "列", "原因"):
                head.cell(h)
            for r in reasons:
                row = table.row()
                row.cell(str(r.get("sheet") or ""))
                row.cell(str(r.get("row") or ""))
                row.cell(str(r.get("column") or ""))
                row.cell(str(r.get("reason") or ""))
    return bytes(pdf.output())
