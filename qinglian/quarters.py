"""Quarter keys ('2025Q3'), their Chinese labels and neighbours: the one home for quarter
arithmetic outside the warehouse (the warehouse's own is dim_quarters: quarter_label,
previous_quarter, which the same rule produces)."""

from __future__ import annotations

import re

PATTERN = r"\d{4}Q[1-4]"
QUARTER = re.compile(PATTERN)
_PARTS = re.compile(r"(\d{4})Q([1-4])")
CN_QUARTER = "一二三四"


def parse(q: object) -> tuple[int, int] | None:
    """'2025Q3' -> (2025, 3); anything else -> None."""
    m = _PARTS.fullmatch(str(q))
    return (int(m.group(1)), int(m.group(2))) if m else None


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
    return f"{y - 1}Q4" if n == 1 else f"{y}Q{n - 1}"
