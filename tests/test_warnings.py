"""Early warnings (DESIGN §5) of mid-quarter days of the city demo, against expectations worked out
here from the submitted rows (the typed staging views of what was loaded), not from the mart's SQL.

Day T = 2025-11-16 (2025Q4, quarter end D = 2025-12-31). What was known at T: the inspection
ledgers up to 2025Q3 and the task reports whose 填报日期 is on or before T.
  veto      open issues (per the latest ledger up to 2025Q3) whose deadline is more than 90 days
            (the demo's veto rule) before D
  task_due  tasks with a deadline inside 2025Q4 whose latest report known at T is not 已完成
  ledger    (T = 2025-10-16) owners of tasks active in 2025Q3 with no 2025Q3 report dated <= T
  snail     department group: projected composite (task rate with unreported = not on schedule,
            rectification from the known ledger, 2025Q3 timeliness) at or below the third-worst
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import duckdb
import pandas as pd
import pytest

pytestmark = pytest.mark.slow

T = date(2025, 11, 16)
T_LEDGER = date(2025, 10, 16)
Q_START, D = date(2025, 10, 1), date(2025, 12, 31)
Q3_END = date(2025, 9, 30)
VETO_DAYS = 90
DEPT_WEIGHTS = {"task": 45, "rectification": 35, "timeliness": 20}
DEPT_SNAILS = 3


@pytest.fixture(scope="module")
def con(demo_built: tuple[Path, object]):
    """The city demo built once for the whole run (tests/conftest.py), opened read-only."""
    warehouse, result = demo_built
    assert result.success, result
    c = duckdb.connect(str(warehouse), read_only=True)
    yield c
    c.close()


def _current(con, table: str) -> pd.DataFrame:
    return con.execute(f"select * from staging.{table} where file_id in "
                       "(select file_id from staging.stg_raw__ingest_files where is_current)").df()


def _warnings(con, as_of: date, kind: str) -> pd.DataFrame:
    return con.execute("select * from marts.early_warnings where as_of = ? and kind = ?", [as_of, kind]).df()


def _known_issues(con) -> pd.DataFrame:
    ins = _current(con, "stg_raw__inspections")
    ins = ins[ins.quarter <= "2025Q3"].sort_values(["quarter", "loaded_at", "file_id", "sheet", "row_number"])
    latest = ins.groupby("issue_code").tail(1)
    done = (latest.status == "已整改") & (latest.completed_date.isna() | (pd.to_datetime(latest.completed_date) <= pd.Timestamp(Q3_END)))
    return latest.assign(rectified=done)


def test_veto_warnings(con) -> None:
    known = _known_issues(con)
    deadline = pd.to_datetime(known.deadline)
    due_veto = ~known.rectified & ((pd.Timestamp(D) - deadline).dt.days > VETO_DAYS)
    expected = set(known[due_veto].issue_code)
    got = _warnings(con, T, "veto")
    assert set(got.item_code) == expected
    assert len(expected) > 5
    # the demo's planted long-open issue of 略阳县 (manifest story: open from Q2): 184 days at D
    row = got[got.item_code == "XC20252-610727-900"].iloc[0]
    assert row.body_name == "略阳县" and row.act_by == pd.Timestamp(D) and int(row.value) == 184
    assert "将逾期 184 天" in row.reason


def _known_reports(con, as_of: date) -> pd.DataFrame:
    rep = _current(con, "stg_raw__task_progress")
    rep = rep[pd.to_datetime(rep.report_date) <= pd.Timestamp(as_of)]
    return rep


def test_task_due_warnings(con) -> None:
    tasks = _current(con, "stg_raw__tasks").drop_duplicates("task_code", keep="last")
    rep = _known_reports(con, T).sort_values(["quarter", "report_date"])
    latest = rep.groupby("task_code").tail(1).set_index("task_code").status
    completed_before = set(rep[(rep.status == "已完成") & (rep.quarter < "2025Q4")].task_code)
    dl = pd.to_datetime(tasks.deadline)
    due = tasks[(dl >= pd.Timestamp(Q_START)) & (dl <= pd.Timestamp(D)) & ~tasks.task_code.isin(completed_before)]
    expected = {t for t in due.task_code if latest.get(t, "未报送") != "已完成"}
    got = _warnings(con, T, "task_due")
    assert set(got.item_code) == expected
    assert expected
    for r in got.itertuples():
        task_deadline = pd.Timestamp(tasks.set_index("task_code").deadline[r.item_code])
        assert r.act_by == (task_deadline if task_deadline >= pd.Timestamp(T) else pd.Timestamp(D))


def test_ledger_warnings(con) -> None:
    tasks = _current(con, "stg_raw__tasks").drop_duplicates("task_code", keep="last")
    rep_all = _current(con, "stg_raw__task_progress")
    done_before = set(rep_all[(rep_all.status == "已完成") & (rep_all.quarter < "2025Q3")].task_code)
    issued = pd.to_datetime(tasks.issued_date)
    active = tasks[(issued.isna() | (issued <= pd.Timestamp(Q3_END))) & ~tasks.task_code.isin(done_before)]
    q3 = rep_all[(rep_all.quarter == "2025Q3") & (pd.to_datetime(rep_all.report_date) <= pd.Timestamp(T_LEDGER))]
    reported_owners = set(active[active.task_code.isin(q3.task_code)].owner_code)
    expected = set(active.owner_code) - reported_owners
    got = _warnings(con, T_LEDGER, "ledger")
    assert set(got.body_code) == expected
    assert expected, "the demo has late reporters (manifest: late_reporters)"
    assert (got.act_by >= pd.Timestamp(T_LEDGER)).all()


def test_department_snail_projection(con) -> None:
    tasks = _current(con, "stg_raw__tasks").drop_duplicates("task_code", keep="last")
    tasks = tasks[tasks.owner_group == "department"]
    rep = _known_reports(con, T).sort_values(["quarter", "report_date"])
    latest = rep.groupby("task_code").tail(1).set_index("task_code").status
    done_before = set(rep[(rep.status == "已完成") & (rep.quarter < "2025Q4")].task_code)
    issued = pd.to_datetime(tasks.issued_date)
    active = tasks[(issued.isna() | (issued <= pd.Timestamp(D))) & ~tasks.task_code.isin(done_before)].copy()
    active["ok"] = active.task_code.map(lambda t: latest.get(t, "未报送") in ("已完成", "按序推进"))
    task = active.groupby("owner_code").ok.mean() * 100
    known = _known_issues(con)
    known = known[known.body_dept_code.notna()]
    due = known[pd.to_datetime(known.deadline) <= pd.Timestamp(D)]
    rect = due.groupby("body_dept_code").rectified.mean() * 100
    timely = con.execute("select owner_code, timeliness_rate * 100 as t from marts.kpi_task_progress "
                         "where quarter = '2025Q3' and owner_group = 'department'").df().set_index("owner_code").t
    scores = pd.DataFrame({"task": task, "rectification": rect, "timeliness": timely})
    w = pd.Series(DEPT_WEIGHTS, dtype=float)
    present = scores.notna()
    projected = ((scores.fillna(0) * w).sum(axis=1) / (present * w).sum(axis=1))[present.any(axis=1)]
    line = projected.sort_values().iloc[DEPT_SNAILS - 1]
    expected = set(projected[projected <= line + 1e-9].index)
    got = _warnings(con, T, "snail")
    got = got[got.body_group == "department"]
    assert set(got.body_code) == expected
    for r in got.itertuples():
        # the scorecard's formula: each indicator's contribution rounded to 4 decimals, then summed
        assert abs(r.value - projected[r.body_code]) < 2e-4
