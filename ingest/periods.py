"""Reading reporting periods out of titles and cells: quarters, year-to-date ranges, survey waves."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

from ingest.text import compact
from qinglian import quarters

# 第一季度 … 第四季度, Q1 … Q4: the quarter's number (the Chinese numerals are qinglian.quarters').
_CN_DIGITS = {**{cn: i for i, cn in enumerate(quarters.CN_QUARTER, start=1)}, **{str(i): i for i in range(1, 5)}}

_QUARTER_PATTERNS = (
    re.compile(r"(20\d{2})\s*[-_ ]?\s*[Qq]([1-4])"),
    re.compile(r"(20\d{2})年?度?第?([一二三四1-4])季"),
)
_MONTH_RANGE = re.compile(r"(20\d{2})年(\d{1,2})\s*[-—–~～至到]\s*(\d{1,2})月")
_SINGLE_MONTH = re.compile(r"(20\d{2})年(\d{1,2})月(?!\d)")
_WAVE = re.compile(r"(20\d{2})\s*年度")
_YEAR = re.compile(r"(20\d{2})\s*年")
_HALF_YEAR = re.compile(r"(20\d{2})年(上半年|下半年|全年)")
_AS_OF = re.compile(r"截[至止]\s*(20\d{2})[年./-](\d{1,2})[月./-](\d{1,2})")


@dataclass(frozen=True)
class Period:
    """A quarter the figures end in; `ytd` when the label spans January to that quarter."""

    year: int
    quarter: int
    ytd: bool | None = None  # None: the label does not say

    @property
    def key(self) -> str:
        return quarters.key(self.year, self.quarter)


def quarter_of(d: date) -> str:
    """The quarter a day falls in (qinglian.quarters, the one home of quarter arithmetic)."""
    return quarters.of_date(d)


def quarter_end(key: str) -> date:
    """The last day of a quarter (qinglian.quarters)."""
    return quarters.end(key)


def parse_period(text: str | None) -> Period | None:
    """"2025年第一季度", "2025Q2", "2025年1-6月", "截至2025年9月30日" → the quarter they end in.

    A month range starting in January and longer than a quarter is year to date; a range of
    exactly one calendar quarter is that quarter's own figures (for Q1 both readings agree).
    """
    if not text:
        return None
    s = compact(text)
    m = _MONTH_RANGE.search(s)
    if m:
        year, start, end = int(m[1]), int(m[2]), int(m[3])
        if not (1 <= start <= end <= 12) or end % 3 != 0:
            return None
        ytd = start == 1 if end - start > 2 else (None if start == 1 else False)
        return Period(year, end // 3, ytd)
    for pattern in _QUARTER_PATTERNS:
        m = pattern.search(s)
        if m:
            return Period(int(m[1]), _CN_DIGITS[m[2]])
    m = _HALF_YEAR.search(s)
    if m:
        return Period(int(m[1]), 2 if m[2] == "上半年" else 4, True)
    m = _AS_OF.search(s)
    if m:
        month = int(m[2])
        if 1 <= month <= 12:
            return Period(int(m[1]), (month - 1) // 3 + 1)
    m = _SINGLE_MONTH.search(s)
    if m and 1 <= int(m[2]) <= 12 and int(m[2]) % 3 == 0:
        return Period(int(m[1]), int(m[2]) // 3)
    return None


def parse_wave(text: str | None) -> str | None:
    """Survey waves are years: "2025年度", "2025年", "2025" → "2025"."""
    if not text:
        return None
    s = compact(text)
    m = _WAVE.search(s) or _YEAR.search(s) or re.fullmatch(r"(20\d{2})(?:\.0)?", s)
    return m[1] if m else None
