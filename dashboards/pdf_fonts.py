"""An embeddable Chinese font for every PDF the product writes (bulletin, 督办单, watermarks).

Why not reportlab's STSong-Light: it is a CID font that is *referenced*, not embedded (pdffonts
shows emb=no), so the PDF looks different — or shows boxes — on a machine without that font, and
an office cannot send it on as a finished document.

Why the conversion: Debian's fonts-noto-cjk ships Noto Sans CJK as OpenType/CFF collections, and
reportlab's TTFont reads TrueType outlines only. So, per document, fontTools subsets Noto Sans CJK SC
to the characters the document uses (a few hundred glyphs, milliseconds) and converts that subset's
cubic outlines to TrueType quadratics; reportlab then registers it as a TTFont and embeds it
(subset again) in the PDF. The font file is found with fc-match, like the xlsx watermark tile's.
"""

from __future__ import annotations

import functools
import hashlib
import io
import shutil
import subprocess
import tempfile
from pathlib import Path

# Characters every document may need besides its own text: ASCII, the full-width forms and
# punctuation a Chinese text uses, digits in circles/boxes are not used.
_BASE = "".join(chr(c) for c in range(0x20, 0x7F)) + "，。、；：？！（）【】《》“”‘’—…·％０１２３４５６７８９／＋－＝≥≤×÷→←↑↓±"

_FALLBACK_FILES = {
    "regular": "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
    "bold": "/usr/share/fonts/opentype/noto/NotoSansCJK-Bold.ttc",
}


class FontMissing(RuntimeError):
    """No CJK font on this machine (Debian: apt-get install fonts-noto-cjk)."""


@functools.lru_cache(maxsize=4)
def font_file(weight: str = "regular") -> tuple[str, int]:
    """(path, face index) of Noto Sans CJK SC in the given weight."""
    style = "Bold" if weight == "bold" else "Regular"
    if shutil.which("fc-match"):
        try:
            out = subprocess.run(["fc-match", "-f", "%{file}:%{index}", f"Noto Sans CJK SC:style={style}:lang=zh-cn"],
                                 capture_output=True, text=True, timeout=10).stdout.strip()
            path, _, index = out.rpartition(":")
            if path and "CJK" in path and Path(path).exists():
                return path, int(index or 0)
        except (OSError, ValueError, subprocess.SubprocessError):
            pass
    path = _FALLBACK_FILES["bold" if weight == "bold" else "regular"]
    if Path(path).exists():
        return path, _sc_index(path)
    raise FontMissing("找不到中文字体（Noto Sans CJK）：请安装 fonts-noto-cjk 后重试")


def _sc_index(path: str) -> int:
    from fontTools.ttLib import TTCollection

    for i, face in enumerate(TTCollection(path, lazy=True).fonts):
        if "CJK SC" in str(face["name"].getDebugName(1)):
            return i
    return 0


def _cff_subset_to_truetype(path: str, index: int, text: str, ps_name: str) -> bytes:
    from fontTools import subset
    from fontTools.pens.cu2quPen import Cu2QuPen
    from fontTools.pens.ttGlyphPen import TTGlyphPen
    from fontTools.ttLib import TTFont, newTable

    font = TTFont(path, fontNumber=index, lazy=True)
    opts = subset.Options()
    opts.layout_features = []  # reportlab lays out glyph by glyph: no GSUB/GPOS needed
    opts.name_IDs = ["*"]
    opts.notdef_outline = True
    opts.drop_tables += ["GSUB", "GPOS", "GDEF", "BASE", "VORG", "vhea", "vmtx"]
    sub = subset.Subsetter(opts)
    sub.populate(text=text)
    sub.subset(font)
    if "CFF " in font:
        # cubic CFF outlines -> quadratic glyf (fontTools' otf2ttf recipe)
        order = font.getGlyphOrder()
        glyph_set = font.getGlyphSet()
        glyphs = {}
        for name in order:
            pen = TTGlyphPen(glyph_set)
            glyph_set[name].draw(Cu2QuPen(pen, max_err=1.0, reverse_direction=True))
            glyphs[name] = pen.glyph()
        font["loca"] = newTable("loca")
        glyf = font["glyf"] = newTable("glyf")
        glyf.glyphOrder = order
        glyf.glyphs = glyphs
        del font["CFF "]
        font["maxp"] = _maxp_v1(font)
        font["head"].glyphDataFormat = 0
        font["post"].formatType = 2.0
        font["post"].extraNames = []
        font["post"].mapping = {}
        font["post"].glyphOrder = order
        font.sfntVersion = "\x00\x01\x00\x00"
    # reportlab shares one font object between fonts of the same PostScript name: every subset gets
    # its own name, or a second document's text would be drawn with the first one's glyphs.
    for rec in font["name"].names:
        if rec.nameID == 6:
            rec.string = ps_name
    out = io.BytesIO()
    font.save(out)
    return out.getvalue()


def _maxp_v1(font: object) -> object:
    from fontTools.ttLib import newTable

    maxp = newTable("maxp")
    maxp.tableVersion = 0x00010000
    maxp.numGlyphs = len(font.getGlyphOrder())  # type: ignore[attr-defined]
    for attr in ("maxZones", "maxTwilightPoints", "maxStorage", "maxFunctionDefs", "maxInstructionDefs",
                 "maxStackElements", "maxSizeOfInstructions", "maxComponentElements", "maxPoints",
                 "maxContours", "maxCompositePoints", "maxCompositeContours", "maxComponentDepth"):
        setattr(maxp, attr, 0)
    maxp.maxZones = 2
    return maxp


_CACHE_DIR = Path(tempfile.gettempdir()) / "qinglian-fonts"


def register(text: str, weight: str = "regular") -> str:
    """A reportlab font name that can draw every character of `text` (plus ASCII and common
    punctuation), registered once per character set and embedded in the PDFs that use it."""
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.ttfonts import TTFont

    chars = "".join(sorted(set(_BASE + "".join(ch for ch in text if ch >= " "))))
    digest = hashlib.sha256(f"{weight}:{chars}".encode()).hexdigest()[:16]
    name = f"QinglianCJK-{weight}-{digest}"
    # (the cache file name carries the version of this recipe: a changed recipe never reads an old file)
    if name in pdfmetrics.getRegisteredFontNames():
        return name
    path, index = font_file(weight)
    _CACHE_DIR.mkdir(parents=True, exist_ok=True)
    target = _CACHE_DIR / f"{name}.v2.ttf"
    if not target.exists():
        tmp = target.with_suffix(f".{digest}.tmp")
        tmp.write_bytes(_cff_subset_to_truetype(path, index, chars, f"NotoSansCJKsc-{weight.title()}-{digest}"))
        tmp.replace(target)  # atomic: a parallel export never reads half a font file
    pdfmetrics.registerFont(TTFont(name, str(target)))
    return name
