"""Dates a person sees are the office's (Asia/Shanghai), not the server's: on a UTC server at 16:57 UTC
it is already the next day in the office, and the audit page's default 截止日期 of the server's date hid
every entry written since the office's midnight."""

from __future__ import annotations

from datetime import UTC, date, datetime

from qinglian import office_time


def _clock_at(moment: datetime) -> type[datetime]:
    """A datetime class whose now() is `moment` (UTC), for office_time to read."""
    class _Clock(datetime):
        @classmethod
        def now(cls, tz=None):
            return moment.astimezone(tz) if tz else moment.replace(tzinfo=None)
    return _Clock


_Clock = _clock_at(datetime(2026, 12, 2, 16, 57, tzinfo=UTC))  # 2026-12-03 00:57 in the office
_NEW_YEAR = _clock_at(datetime(2026, 12, 31, 16, 30, tzinfo=UTC))  # 2027-01-01 00:30 in the office


def test_office_date_runs_eight_hours_ahead_of_utc(monkeypatch) -> None:
    monkeypatch.setattr(office_time, "datetime", _Clock)
    assert office_time.today() == date(2026, 12, 3)
    assert office_time.now().strftime("%Y-%m-%d %H:%M") == "2026-12-03 00:57"


def test_collecting_quarter_follows_the_office_date(monkeypatch) -> None:
    """2026-12-31 16:30 UTC is 2027-01-01 00:30 in the office: 2026Q4 has ended and is being collected."""
    from dashboards import portal_data

    monkeypatch.setattr(office_time, "datetime", _NEW_YEAR)
    assert portal_data.collecting_quarter() == "2026Q4"


def test_a_run_without_quarter_is_for_the_quarter_that_ended_on_the_office_date(monkeypatch) -> None:
    """At 2026-12-31 16:30 UTC the server's date still says 2026Q4 is running (previous quarter 2026Q3);
    in the office it is 2027-01-01 and 2026Q4 has ended: `qinglian run` without --quarter runs 2026Q4."""
    from orchestration.job import default_quarter

    monkeypatch.setattr(office_time, "datetime", _NEW_YEAR)
    assert default_quarter() == "2026Q4"


def test_service_and_lock_times_are_office_times(monkeypatch, tmp_path) -> None:
    """The time a service started (qinglian serve status) and the time a warehouse lock was taken (shown
    to whoever is refused) are the office's wall clock, not the UTC server's: 16:57 UTC is 00:57."""
    from qinglian import runlock, serve

    monkeypatch.setattr(office_time, "datetime", _Clock)
    assert serve._now() == "2026-12-03 00:57:00"
    monkeypatch.setenv("QINGLIAN_STATE", str(tmp_path))
    warehouse = tmp_path / "w.duckdb"
    with runlock.warehouse_lock(warehouse, "测试"):
        assert runlock.holder(warehouse)["since"] == "2026-12-03 00:57:00"
