"""The office's clock: dates a person sees (today's date, a deadline's status, a generation time) are the
office's local date, whatever time zone the server runs in (a UTC server is eight hours behind: between
00:00 and 08:00 in the office, its date.today() is still yesterday)."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

OFFICE_TZ = ZoneInfo("Asia/Shanghai")


def now() -> datetime:
    """Now on the office's clock (aware)."""
    return datetime.now(OFFICE_TZ)


def wall_clock() -> datetime:
    """Now on the office's clock, without a zone: what the warehouse's TIMESTAMP columns (loaded_at,
    published_at, checked_at) and the backup file names hold. An aware value would be stored in the
    DuckDB session's zone, which is the server's (UTC)."""
    return now().replace(tzinfo=None)


def today() -> date:
    """The office's date today."""
    return now().date()
