"""Quarter arithmetic has one home (qinglian.quarters); the ingest's period reader, the settings and the
orchestrator's partitions read it. Expected dates are calendar facts written by hand."""

from __future__ import annotations

from datetime import date

import pytest

from ingest import periods
from orchestration import partitions
from qinglian import quarters, settings
from qinglian.errors import UserError


def test_quarter_dates_by_hand() -> None:
    assert quarters.start("2025Q1") == date(2025, 1, 1)
    assert quarters.end("2025Q1") == date(2025, 3, 31)
    assert quarters.start("2025Q3") == date(2025, 7, 1)
    assert quarters.end("2025Q2") == date(2025, 6, 30)
    assert quarters.end("2025Q3") == date(2025, 9, 30)
    assert quarters.end("2025Q4") == date(2025, 12, 31)
    assert quarters.of_date(date(2025, 5, 17)) == "2025Q2"
    assert quarters.of_date(date(2025, 12, 31)) == "2025Q4"
    assert quarters.of_date(date(2026, 1, 1)) == "2026Q1"
    assert quarters.following("2025Q4") == "2026Q1" and quarters.following("2025Q2") == "2025Q3"
    assert quarters.span("2025Q3", "2026Q2") == ["2025Q3", "2025Q4", "2026Q1", "2026Q2"]
    assert quarters.span("2026Q1", "2025Q4") == []
    with pytest.raises(ValueError):
        quarters.end("2025Q5")


def test_readers_use_the_one_home() -> None:
    # the ingest's period reader
    assert periods.quarter_end("2024Q1") == date(2024, 3, 31)
    assert periods.quarter_of(date(2025, 10, 8)) == "2025Q4"
    assert periods.parse_period("2025年第三季度").key == "2025Q3"
    assert periods.parse_period("2025 Q4").key == "2025Q4"
    assert periods.parse_period("2025年1-6月") == periods.Period(2025, 2, True)
    # the orchestrator's partitions
    assert partitions.quarter_end("2025Q2") == date(2025, 6, 30)
    assert partitions.quarter_start("2025Q4") == date(2025, 10, 1)
    assert partitions.quarter_key(date(2025, 2, 28)) == "2025Q1"


def test_first_quarter_setting(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("QINGLIAN_FIRST_QUARTER", "2021q2")
    assert settings.first_quarter() == "2021Q2"
    for bad in ("2021Q5", "2021-04", "1800Q1"):
        monkeypatch.setenv("QINGLIAN_FIRST_QUARTER", bad)
        with pytest.raises(UserError, match="不是季度"):
            settings.first_quarter()
