"""Pure string normalisation shared by header matching, value parsing and name resolution."""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

_SPACES = re.compile(r"[\s\u3000\u00a0]+")
_BRACKETED = re.compile(r"[(\[【][^)\]】]*[)\]】]")
_STAR = re.compile(r"[*＊※]")

FOOTER_PREFIXES = ("填表人", "填报人", "联系电话", "联系人", "备注", "审核人", "负责人签字", "单位负责人", "说明", "注:", "注：", "制表")
TOTAL_WORDS = frozenset({"合计", "总计", "小计", "全市合计", "合计数"})


def nfkc(value: str) -> str:
    """Full-width digits, letters, brackets and ％ become their ASCII forms."""
    return unicodedata.normalize("NFKC", value)


def clean(value: str | None) -> str | None:
    """A cell as a clerk meant it: NFKC, trimmed, inner line breaks and runs of spaces folded."""
    if value is None:
        return None
    text = _SPACES.sub(" ", nfkc(str(value))).strip()
    return text or None


@lru_cache(maxsize=1 << 16)  # header cells repeat across every file of a source
def header_key(value: str | None) -> str:
    """A header cell reduced to what identifies the column.

    "完成\\n进度（%）" and " 完成进度 " both become "完成进度": spaces, line breaks,
    bracketed units and required-field stars carry no meaning for matching.
    """
    if value is None:
        return ""
    text = nfkc(str(value))
    text = _BRACKETED.sub("", text)
    text = _STAR.sub("", text)
    return _SPACES.sub("", text).strip(":：")


def compact(value: str) -> str:
    """A name with all white space removed, for matching spellings such as "洋 县"."""
    return _SPACES.sub("", nfkc(value))


def is_footer(first_cell: str | None) -> bool:
    if not first_cell:
        return False
    text = compact(first_cell)
    return text.startswith(FOOTER_PREFIXES)


def is_total(cells: list[str | None]) -> bool:
    """A 合计 row names itself in one of its first cells."""
    return any(c is not None and compact(c) in TOTAL_WORDS for c in cells[:3])
