"""Watermarks: the viewer's name, role and the time on every page and every export.

One `Watermark` per view or export, rendered four ways:
- `page_css`  the dashboards: a light, repeated diagonal text over the whole window (an SVG tile
              as a fixed, click-through layer; the text is not in the DOM, so copying a table
              does not copy it);
- `xlsx`      a workbook: the same tile as the sheets' background, the text in the printed
              header and footer, an "导出说明" sheet and the document properties;
- `stamp_pdf` any PDF (the bulletin, receipts): diagonal text on every page, plus a footer line;
- `stamp_docx` any .docx: a Word watermark (VML text shape) and a header line in every section.
A county user's watermark names the scope.
"""

from __future__ import annotations

import base64
import io
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from xml.sax.saxutils import escape, quoteattr

from qinglian.security.audit import OFFICE_TZ
from qinglian.security.scope import Scope

GREY = "#7F8C8D"


@dataclass(frozen=True)
class Watermark:
    viewer: str
    username: str
    role: str
    scope: str
    at: datetime = field(default_factory=lambda: datetime.now(OFFICE_TZ))

    @classmethod
    def for_scope(cls, scope: Scope, at: datetime | None = None) -> Watermark:
        return cls(scope.display_name, scope.username, scope.role_label, scope.scope_text,
                   at or datetime.now(OFFICE_TZ))

    @property
    def time_text(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M}"

    @property
    def who(self) -> str:
        return f"{self.viewer}（{self.username}）| {self.role}"

    @property
    def lines(self) -> tuple[str, str]:
        second = self.time_text if self.scope == "全部" else f"{self.time_text} | 范围：{self.scope}"
        return self.who, second

    @property
    def text(self) -> str:
        return "  ".join(self.lines)


# --- the dashboards -------------------------------------------------------------------------------


def svg_tile(wm: Watermark, width: int = 420, height: int = 230) -> str:
    a, b = (escape(x) for x in wm.lines)
    return (f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}">'
            f'<g transform="rotate(-22 {width // 2} {height // 2})" fill="{GREY}" fill-opacity="0.16" '
            'font-family="Noto Sans CJK SC, Microsoft YaHei, PingFang SC, sans-serif" font-size="15" '
            f'text-anchor="middle"><text x="{width // 2}" y="{height // 2 - 6}">{a}</text>'
            f'<text x="{width // 2}" y="{height // 2 + 16}">{b}</text></g></svg>')


def page_css(wm: Watermark) -> str:
    """A <style> block (st.html puts style-only HTML outside the layout): a fixed layer over the app."""
    tile = base64.b64encode(svg_tile(wm).encode("utf-8")).decode("ascii")
    return ("<style>.stApp::after{content:'';position:fixed;inset:0;pointer-events:none;z-index:999990;"
            f"background-image:url('data:image/svg+xml;base64,{tile}');background-repeat:repeat;}}"
            "@media print{.stApp::after{position:fixed;}}</style>")


def decode_page_css(css: str) -> str:
    """The SVG inside page_css (tests read the watermark back from the page)."""
    start = css.index("base64,") + len("base64,")
    return base64.b64decode(css[start:css.index("'", start)]).decode("utf-8")


# --- raster tile (xlsx background) ----------------------------------------------------------------


def _cjk_font_file() -> tuple[str, int] | None:
    """Noto Sans CJK SC (Debian fonts-noto-cjk) as PIL wants it: (file, face index); None when missing.
    The same lookup as the PDFs' (dashboards/pdf_fonts.py)."""
    from dashboards import pdf_fonts

    try:
        return pdf_fonts.font_file("regular")
    except pdf_fonts.FontMissing:
        return None


def png_tile(wm: Watermark, width: int = 560, height: int = 300) -> bytes:
    """The tile as a PNG (light grey text on white): Excel shows it behind the cells."""
    from PIL import Image, ImageDraw, ImageFont

    found = _cjk_font_file()
    lines = list(wm.lines)
    if found:
        font: Any = ImageFont.truetype(found[0], 18, index=found[1])
    else:  # no CJK font: the ASCII parts still name the viewer
        font = ImageFont.load_default()
        lines = [f"{wm.username}", wm.time_text]
    text = Image.new("RGBA", (width, height), (255, 255, 255, 0))
    draw = ImageDraw.Draw(text)
    for i, line in enumerate(lines):
        draw.text((width / 2, height / 2 - 14 + i * 28), line, font=font, fill=(150, 150, 150, 90), anchor="mm")
    text = text.rotate(20, resample=Image.BICUBIC)
    tile = Image.new("RGB", (width, height), (255, 255, 255))
    tile.paste(text, (0, 0), text)
    buf = io.BytesIO()
    tile.save(buf, format="PNG", optimize=True)
    return buf.getvalue()


# --- xlsx (xlsxwriter) ----------------------------------------------------------------------------

NOTE_SHEET = "导出说明"


def xlsx_note_rows(wm: Watermark, rows: dict[str, int]) -> list[tuple[str, str]]:
    out = [("导出人", wm.who), ("导出时间", wm.time_text), ("数据范围", wm.scope)]
    out += [(f"工作表「{name}」", f"{n} 行") for name, n in rows.items()]
    out.append(("说明", "本文件含纪检监察工作数据，仅限本人工作使用，不得转发、公开；每次导出均记入审计日志。"))
    return out


def xlsx_sheet(ws: Any, wm: Watermark, background: bytes) -> None:
    """Header/footer text (printing) and the background tile (on screen) of one worksheet."""
    header = wm.text.replace("&", "&&")
    ws.set_header(f"&C&8&K7F8C8D{header}")
    ws.set_footer(f"&L&8&K7F8C8D{header}&R&8第 &P 页，共 &N 页")
    ws.set_background(io.BytesIO(background))


def xlsx_properties(wb: Any, wm: Watermark) -> None:
    wb.set_properties({"author": wm.who, "company": "清廉建设办公室", "comments": wm.text,
                       "keywords": f"qinglian-watermark;{wm.username}"})
    wb.set_custom_property("导出人", wm.who)
    wb.set_custom_property("导出时间", wm.time_text)
    wb.set_custom_property("数据范围", wm.scope)


# --- PDF --------------------------------------------------------------------------------------------


def _overlay(wm: Watermark, width: float, height: float) -> bytes:
    """One page of the given size (points) carrying the mark: diagonal repeated text and a footer line."""
    from fpdf import FPDF

    from dashboards import pdf_fonts

    pdf = FPDF(unit="pt", format=(width, height))
    pdf.set_compression(False)  # _own_names rewrites the content stream
    pdf.set_auto_page_break(False)
    pdf.set_margins(0, 0, 0)
    family = pdf_fonts.add_fonts(pdf)
    pdf.add_page()
    step_x, step_y = 300, 170
    reach = int(max(width, height) / min(step_x, step_y)) + 2
    pdf.set_font(family, size=13)
    with pdf.local_context(fill_opacity=0.13, text_color=(115, 122, 128)), \
            pdf.rotation(25, x=width / 2, y=height / 2):
        for i in range(-reach, reach + 1):
            for j in range(-reach, reach + 1):
                x, y = width / 2 + i * step_x + (j % 2) * step_x / 2, height / 2 - j * step_y
                for line, dy in ((wm.lines[0], -8), (wm.lines[1], 9)):
                    pdf.text(x - pdf.get_string_width(line) / 2, y + dy, line)
    pdf.set_font(family, size=7)
    with pdf.local_context(fill_opacity=0.9, text_color=(115, 122, 128)):
        pdf.text(28, height - 12, f"查看/导出：{wm.text}")
    return bytes(pdf.output())


def _own_names(mark: Any) -> Any:
    """Rename the watermark page's font and graphics-state resources (/F1 -> /QLWF1, /GS1 -> /QLWGS1)
    so that merging it onto a page whose own resources fpdf2 also called /F1… cannot swap one
    embedded font subset (or opacity) for the other."""
    import re

    from pypdf.generic import DictionaryObject, NameObject

    resources = mark["/Resources"]
    for kind in ("/Font", "/ExtGState"):
        entries = resources.get(kind)
        if entries:
            entries = entries.get_object()
            resources[NameObject(kind)] = DictionaryObject({NameObject(f"/QLW{str(k)[1:]}"): v for k, v in entries.items()})
    stream = mark["/Contents"].get_object()  # one uncompressed content stream (set_compression(False))
    stream.set_data(re.sub(rb"/((?:F|GS)\d+)(?=[\s/\[<(])", rb"/QLW\1", stream.get_data()))
    return mark


def stamp_pdf(data: bytes, wm: Watermark) -> bytes:
    """Every page of a PDF under the watermark; the viewer also goes into the document's metadata."""
    from pypdf import PdfReader, PdfWriter

    reader = PdfReader(io.BytesIO(data))
    writer = PdfWriter(clone_from=reader)
    marks: dict[tuple[float, float], Any] = {}
    for page in writer.pages:
        size = (float(page.mediabox.width), float(page.mediabox.height))
        if size not in marks:
            marks[size] = _own_names(PdfReader(io.BytesIO(_overlay(wm, *size))).pages[0])
        page.merge_page(marks[size], over=True)
    meta = dict(reader.metadata or {})
    meta.update({"/Subject": f"查看/导出：{wm.text}", "/Keywords": f"qinglian-watermark;{wm.username}"})
    writer.add_metadata(meta)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


# --- docx -------------------------------------------------------------------------------------------

_VML = ('<w:p xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main" '
        'xmlns:v="urn:schemas-microsoft-com:vml" xmlns:o="urn:schemas-microsoft-com:office:office">'
        '<w:pPr><w:pStyle w:val="Header"/></w:pPr><w:r><w:pict>'
        '<v:shapetype id="_x0000_t136" coordsize="21600,21600" o:spt="136" adj="10800" '
        'path="m@7,l@8,m@5,21600l@6,21600e"><v:path textpathok="t" o:connecttype="custom"/>'
        '<v:textpath on="t" fitshape="t"/></v:shapetype>'
        '<v:shape id="QinglianWatermark" type="#_x0000_t136" '
        'style="position:absolute;margin-left:0;margin-top:0;width:470pt;height:52pt;rotation:315;'
        'z-index:-251654144;mso-position-horizontal:center;mso-position-horizontal-relative:margin;'
        'mso-position-vertical:center;mso-position-vertical-relative:margin" fillcolor="#BFBFBF" stroked="f">'
        '<v:fill opacity=".3"/><v:textpath style="font-family:&quot;SimSun&quot;;font-size:1pt" string={text}/>'
        '</v:shape></w:pict></w:r></w:p>')


def docx_document(document: Any, wm: Watermark) -> None:
    """Watermark a python-docx Document in place: a header line and a Word watermark per section."""
    from docx.oxml import parse_xml
    from docx.shared import Pt, RGBColor

    for section in document.sections:
        header = section.header
        header.is_linked_to_previous = False
        para = header.add_paragraph()
        run = para.add_run(f"查看/导出：{wm.text}")
        run.font.size = Pt(7.5)
        run.font.color.rgb = RGBColor(0x7F, 0x8C, 0x8D)
        header._element.append(parse_xml(_VML.format(text=quoteattr(wm.text))))
    props = document.core_properties
    props.author = wm.who
    props.comments = wm.text
    props.keywords = f"qinglian-watermark;{wm.username}"


def stamp_docx(data: bytes, wm: Watermark) -> bytes:
    import docx

    document = docx.Document(io.BytesIO(data))
    docx_document(document, wm)
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()
