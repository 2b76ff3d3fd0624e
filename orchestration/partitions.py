"""Quarterly partitions keyed like 2025Q1, and the calendar rules of the quarterly run."""

from __future__ import annotations

from datetime import date, timedelta

from dagster import StaticPartitionsDefinition

FIRST_QUARTER = "2025Q1"
# Reports are due by the 10th day after quarter end (DESIGN §4); the run starts that day.
RUN_DAY_AFTER_QUARTER_END = 10


def quarter_key(d: date) -> str:
    return f"{d.year}Q{(d.month - 1) // 3 + 1}"


def quarter_range(first: str, last: str) -> list[str]:
    out, (y, q) = [], (int(first[:4]), int(first[-1]))
    while f"{y}Q{q}" <= last:
        out.append(f"{y}Q{q}")
        y, q = (y + 1, 1) if q == 4 else (y, q + 1)
    return out


def previous_quarter(d: date) -> str:
    """The quarter that ended most recently before day `d`."""
    first_of_quarter = date(d.year, 3 * ((d.month - 1) // 3) + 1, 1)
    return quarter_key(first_of_quarter - timedelta(days=1))


def quarters_until(today: date | None = None) -> list[str]:
    today = today or date.today()
    return quarter_range(FIRST_QUARTER, quarter_key(today))


quarterly_partitions = StaticPartitionsDefinition(quarters_until())
