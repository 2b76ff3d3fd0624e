"""The Chinese font every PDF the product writes embeds (bulletin, receipt, watermarks): one PDF library.

fpdf2 embeds Debian's Noto Sans CJK SC (fonts-noto-cjk, an OpenType/CFF collection) as it is — a
subset of the glyphs a document uses, one Type0/CID font per weight — so a PDF reads the same on any
viewer, with or without Chinese fonts installed (pdffonts: CID Type 0C, emb yes). reportlab, used
before for the bulletin, embedded only TrueType outlines and needed the CFF subset converted first;
the product now uses fpdf2 alone. The font file is found with fc-match, like the xlsx watermark tile's.
"""

from __future__ import annotations

import functools
import shutil
import subprocess
from pathlib import Path
from typing import Any

_FALLBACK_FILES = {
    "regular": "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
    "bold": "/usr/share/fonts/opentype/noto/NotoSansCJK-Bold.ttc",
}

FAMILY = "cjk"


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


def add_fonts(pdf: Any) -> str:
    """Register Noto Sans CJK SC regular (style "") and bold ("B") on an fpdf2 document; the family name."""
    for style, weight in (("", "regular"), ("B", "bold")):
        path, index = font_file(weight)
        if path.lower().endswith((".ttc", ".otc")):
            pdf.add_font(FAMILY, style=style, fname=path, collection_font_number=index)
        else:
            pdf.add_font(FAMILY, style=style, fname=path)
    return FAMILY


def rgb(hex_: str) -> tuple[int, int, int]:
    """'#C0392B' -> (192, 57, 43), as fpdf2's colour setters take it."""
    h = hex_.lstrip("#")
    return int(h[0:2], 16), int(h[2:4], 16), int(h[4:6], 16)
