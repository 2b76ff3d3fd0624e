"""The raw checks' quarter windows come from qinglian.quarters (the one home of quarter arithmetic
outside the warehouse), not from SQL of data_quality.frames. Expected dates are calendar facts."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import duckdb
import pandas as pd

from data_quality import frames, staging
from tests.fixtures.small_warehouse import build_small_raw


def test_windows_are_the_calendar_quarters_of_the_keys_given() -> None:
    table = frames.quarter_windows(["2025Q1", "2024Q4", "2024Q1", "2025Q1", "2025Q5", "25Q1", None, "2025q2"])
    assert table.to_pylist() == [
        {"quarter": "2024Q1", "year": 2024, "quarter_of_year": 1,
         "quarter_start": date(2024, 1, 1), "quarter_end": date(2024, 3, 31)},
        {"quarter": "2024Q4", "year": 2024, "quarter_of_year": 4,
         "quarter_start": date(2024, 10, 1), "quarter_end": date(2024, 12, 31)},
        {"quarter": "2025Q1", "year": 2025, "quarter_of_year": 1,
         "quarter_start": date(2025, 1, 1), "quarter_end": date(2025, 3, 31)},
    ]


def test_frames_carry_the_windows_and_the_60_day_limits(tmp_path: Path) -> None:
    warehouse = build_small_raw(tmp_path / "w.duckdb")
    con = duckdb.connect(str(warehouse))
    try:
        staging.ensure_views(con)
        # a leap year and a quarter that is no key, to see the window of each
        con.execute("update raw.task_progress set quarter = '2024Q1' where task_code = 'RW01' and quarter = '2025Q1'")
        con.execute("update raw.task_progress set quarter = '2025Q9' where task_code = 'RW02' and quarter = '2025Q1'")
        tp = frames.raw_frame(con, "task_progress", frames.Period())
        by_quarter = tp.drop_duplicates("quarter").set_index("quarter")
        assert by_quarter.loc["2024Q1", "quarter_start"] == pd.Timestamp("2024-01-01")
        assert by_quarter.loc["2024Q1", "report_date_limit"] == pd.Timestamp("2024-05-30")  # 31 March + 60 days
        assert by_quarter.loc["2025Q2", "quarter_start"] == pd.Timestamp("2025-04-01")
        assert by_quarter.loc["2025Q2", "report_date_limit"] == pd.Timestamp("2025-08-29")  # 30 June + 60 days
        assert pd.isna(by_quarter.loc["2025Q9", "quarter_start"]) and pd.isna(by_quarter.loc["2025Q9", "report_date_limit"])
        ins = frames.raw_frame(con, "inspections", frames.Period("2025Q4"))
        assert len(ins) > 0 and set(ins["quarter"]) == {"2025Q4"}
        assert set(ins["quarter_end"]) == {pd.Timestamp("2025-12-31")}
        assert set(ins["completed_date_limit"]) == {pd.Timestamp("2026-03-01")}  # 31 Dec + 60 days
        units = frames.raw_frame(con, "units", frames.Period("2025Q3"))
        assert len(units) > 0 and set(units["assessed_date_limit"]) == {pd.Timestamp("2025-11-29")}  # 30 Sep + 60
        # the relation is registered for the query only
        assert frames.WINDOWS not in {r[0] for r in con.execute("show tables").fetchall()}
    finally:
        con.close()
