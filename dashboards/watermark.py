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
import functools
import io
import shutil
import subprocess
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


@functools.lru_cache(maxsize=1)
def _cjk_font_file() -> tuple[str, int] | None:
    """Noto Sans CJK (Debian fonts-noto-cjk) as PIL wants it: (file, face index)."""
    if shutil.which("fc-match"):
        try:
            out = subprocess.run(["fc-match", "-f", "%{file}:%{index}", "Noto Sans CJK SC:lang=zh-cn"],
                                 capture_output=True, text=True, timeout=10).stdout.strip()
            path, _, index = out.rpartition(":")
            if path and "CJK" in path:
                return path, int(index or 0)
        except (OSError, ValueError, subprocess.SubprocessError):
            pass
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


def _pdf_font(wm: Watermark) -> str:
    """An embedded CJK font covering the watermark's text (dashboards/pdf_fonts.py)."""
    from dashboards import pdf_fonts

    return pdf_fonts.register(f"查看/导出：{wm.text}")


def draw_pdf(canvas: Any, wm: Watermark, width: float, height: float, font: str | None = None) -> None:
    """Diagonal repeated text and a footer line on one reportlab canvas page (usable in onPage too)."""
    from reportlab.lib.colors import Color

    font = font or _pdf_font(wm)
    canvas.saveState()
    canvas.setFillColor(Color(0.45, 0.48, 0.5, alpha=0.13))
    canvas.setFont(font, 13)
    step_x, step_y = 300, 170
    canvas.translate(width / 2, height / 2)
    canvas.rotate(25)
    reach = int(max(width, height) / min(step_x, step_y)) + 2
    for i in range(-reach, reach + 1):
        for j in range(-reach, reach + 1):
            x, y = i * step_x + (j % 2) * step_x / 2, j * step_y
            canvas.drawCentredString(x, y + 8, wm.lines[0])
            canvas.drawCentredString(x, y - 9, wm.lines[1])
    canvas.restoreState()
    canvas.saveState()
    canvas.setFillColor(Color(0.45, 0.48, 0.5, alpha=0.9))
    canvas.setFont(font, 7)
    canvas.drawString(28, 12, f"查看/导出：{wm.text}")
    canvas.restoreState()


def _own_font_names(mark: Any) -> Any:
    """Rename the watermark page's font resources (/F1 -> /QLWF1) so that merging it onto a page
    whose own fonts reportlab also called /F1… cannot swap one embedded subset for the other."""
    import re

    from pypdf.generic import DictionaryObject, NameObject

    resources = mark["/Resources"]
    fonts = resources.get("/Font")
    if not fonts:
        return mark
    fonts = fonts.get_object()
    renamed = DictionaryObject({NameObject(f"/QLW{str(k)[1:]}"): v for k, v in fonts.items()})
    resources[NameObject("/Font")] = renamed
    stream = mark["/Contents"].get_object()  # reportlab writes one content stream per page
    stream.set_data(re.sub(rb"/(F\d+(?:\+\d+)?)(?=[\s/\[<(])", rb"/QLW\1", stream.get_data()))
    return mark


def stamp_pdf(data: bytes, wm: Watermark, font: str | None = None) -> bytes:
    """Every page of a PDF under the watermark; the viewer also goes into the document's metadata."""
    from pypdf import PdfReader, PdfWriter
    from reportlab.pdfgen import canvas as rl_canvas

    reader = PdfReader(io.BytesIO(data))
    writer = PdfWriter(clone_from=reader)
    marks: dict[tuple[float, float], Any] = {}
    for page in writer.pages:
        size = (float(page.mediabox.width), float(page.mediabox.height))
        if size not in marks:
            buf = io.BytesIO()
            font = font or _pdf_font(wm)
            c = rl_canvas.Canvas(buf, pagesize=size, initialFontName=font, pageCompression=0)
            draw_pdf(c, wm, *size, font=font)
            c.showPage()
            c.save()
            marks[size] = _own_font_names(PdfReader(io.BytesIO(buf.getvalue())).pages[0])
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
