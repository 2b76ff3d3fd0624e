"""Quarterly partitions from the office's first quarter, and the quarter labels (2025Q1) they stand for.

The partitions are a Dagster time window (one window per calendar quarter, Beijing time), so the set
grows with the calendar by itself: a daemon started in December knows the next quarter in April
without a restart, and nothing is computed from today's date when the module is imported. The first
quarter is a deployment setting (QINGLIAN_FIRST_QUARTER, qinglian.settings.first_quarter), so an
office can load its ledgers back to any year.

A window's key is its first day (2025-04-01 for 2025Q2): Dagster parses keys with strptime, which
knows no quarters. Everything outside Dagster speaks quarter labels; the two functions below are the
only translation between them.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

from dagster import TimeWindowPartitionsDefinition

from qinglian import quarters
from qinglian.office_time import OFFICE_TZ
from qinglian.settings import first_quarter

TIMEZONE = OFFICE_TZ.key  # the schedule, the partitions and the pages share the office's clock
KEY_FORMAT = "%Y-%m-%d"
# A window starts on the first day of each quarter.
QUARTER_STARTS_CRON = "0 0 1 1,4,7,10 *"


def quarter_key(d: date) -> str:
    """The quarter label of a day: 2025-05-17 → 2025Q2 (qinglian.quarters, the one home)."""
    return quarters.of_date(d)


def quarter_start(quarter: str) -> date:
    return quarters.start(quarter)


def quarter_end(quarter: str) -> date:
    return quarters.end(quarter)


def partition_key(quarter: str) -> str:
    """2025Q2 → 2025-04-01, the key of its partition."""
    return quarter_start(quarter).strftime(KEY_FORMAT)


def quarter_of(key: str) -> str:
    """2025-04-01 → 2025Q2."""
    return quarter_key(datetime.strptime(key, KEY_FORMAT).date())


def quarter_range(first: str, last: str) -> list[str]:
    return quarters.span(first, last)


def previous_quarter(d: date) -> str:
    """The quarter that ended most recently before day `d`."""
    return quarter_key(quarter_start(quarter_key(d)) - timedelta(days=1))


def quarterly_partitions_def(first: str | None = None) -> TimeWindowPartitionsDefinition:
    """One partition per quarter from `first` (default: the deployment's first quarter) up to the
    current quarter (end_offset=1: the quarter in progress can be previewed; the schedule runs the
    one that ended)."""
    start = quarter_start(first or first_quarter())
    return TimeWindowPartitionsDefinition(
        start=datetime(start.year, start.month, 1), cron_schedule=QUARTER_STARTS_CRON, fmt=KEY_FORMAT,
        timezone=TIMEZONE, end_offset=1,
    )


def runnable_quarters(now: datetime | None = None, partitions: TimeWindowPartitionsDefinition | None = None) -> list[str]:
    """The quarters a run may be started for at `now` (default: the current time), as labels."""
    partitions = partitions or quarterly_partitions
    return [quarter_of(k) for k in partitions.get_partition_keys(current_time=now)]


quarterly_partitions = quarterly_partitions_def()
