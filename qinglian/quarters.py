"""Quarter keys ('2025Q3'), their Chinese labels, neighbours and dates: the one home for quarter
arithmetic outside the warehouse (the warehouse's own is dim_quarters: quarter_label,
previous_quarter, quarter_end_date, which the same rule produces)."""

from __future__ import annotations

import re
from datetime import date, timedelta

PATTERN = r"\d{4}Q[1-4]"
QUARTER = re.compile(PATTERN)
_PARTS = re.compile(r"(\d{4})Q([1-4])")
CN_QUARTER = "一二三四"


def parse(q: object) -> tuple[int, int] | None:
    """'2025Q3' -> (2025, 3); anything else -> None."""
    m = _PARTS.fullmatch(str(q))
    return (int(m.group(1)), int(m.group(2))) if m else None


def key(year: int, quarter: int) -> str:
    """(2025, 3) -> '2025Q3'."""
    return f"{year}Q{quarter}"


def of_date(d: date) -> str:
    """The quarter a day falls in: 2025-05-17 -> '2025Q2'."""
    return key(d.year, (d.month - 1) // 3 + 1)


def _parts(q: object) -> tuple[int, int]:
    p = parse(q)
    if p is None:
        raise ValueError(f"not a quarter key (like 2025Q3): {q!r}")
    return p


def start(q: object) -> date:
    """'2025Q2' -> 2025-04-01 (ValueError for a value that is not a quarter key)."""
    y, n = _parts(q)
    return date(y, 3 * n - 2, 1)


def end(q: object) -> date:
    """'2025Q2' -> 2025-06-30, the quarter end D (ValueError for a value that is not a quarter key)."""
    y, n = _parts(q)
    return (date(y + 1, 1, 1) if n == 4 else date(y, 3 * n + 1, 1)) - timedelta(days=1)


def label(q: object) -> str:
    """2025Q3 -> 2025年第三季度 (anything else unchanged)."""
    p = parse(q)
    return f"{p[0]}年第{CN_QUARTER[p[1] - 1]}季度" if p else str(q)


def previous(q: object) -> str | None:
    """2025Q1 -> 2024Q4; None for a value that is not a quarter key."""
    p = parse(q)
    if p is None:
        return None
    y, n = p
    return key(y - 1, 4) if n == 1 else key(y, n - 1)


def following(q: object) -> str | None:
    """2025Q4 -> 2026Q1; None for a value that is not a quarter key."""
    p = parse(q)
    if p is None:
        return None
    y, n = p
    return key(y + 1, 1) if n == 4 else key(y, n + 1)


def span(first: str, last: str) -> list[str]:
    """Every quarter from `first` to `last`, both included ([] when last is before first)."""
    out: list[str] = []
    q: str | None = key(*_parts(first))
    last = key(*_parts(last))
    while q is not None and q <= last:
        out.append(q)
        q = following(q)
    return out
