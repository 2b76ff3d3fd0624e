"""The upload portal's and 报送情况's reads of the serving copy (through data.Source's scoped placeholders).

Everything here names the unit it reads for: a submitter's templates are built from its own tasks,
units, open issues and regions only. The report deadline is the warehouse's: `marts.dim_quarters.
report_due_date` (computed by dbt from the rules); for a quarter not yet in the serving copy, the rules
configuration's report_deadline_days for its year (qinglian.rules), else the lag of the quarters there.
"""

from __future__ import annotations

import re
from datetime import date, timedelta

import pandas as pd

from dashboards import data
from ingest.periods import quarter_end, quarter_of
from ingest.templates import Prefill
from qinglian import office_time, quarters
from qinglian.security.scope import Scope

QUARTER = quarters.QUARTER
# The pre-filled templates' look-up sheets (their headers are not the contract's: the ingest skips them).
TASK_SHEET, REGION_SHEET = "本单位任务及时限", "本县区划代码"
REFERENCE_SHEETS = (TASK_SHEET, REGION_SHEET)


def source_for(viewer: Scope) -> data.Source:
    return data.Source(data.serving_path(), viewer.unit_code if viewer.unit_kind == "county" else None)


def office_source(viewer: Scope) -> data.Source:
    return data.Source(data.serving_path(), viewer.county_code)


def next_quarter(q: str) -> str:
    y, n = int(q[:4]), int(q[5])
    return f"{y + 1}Q1" if n == 4 else f"{y}Q{n + 1}"


def published_quarters(src: data.Source) -> list[str]:
    if not src.has("quarter_dates"):
        return []
    df = src.query("SELECT quarter FROM {quarter_dates} ORDER BY quarter_index")
    return [str(q) for q in df["quarter"]] if not df.empty else []


def collecting_quarter(today: date | None = None) -> str:
    """The quarter whose ledgers are being collected: the last one that has ended."""
    today = today or office_time.today()
    this_quarter_start = date(today.year, (today.month - 1) // 3 * 3 + 1, 1)
    return quarter_of(this_quarter_start - timedelta(days=1))


def period_options(src: data.Source, today: date | None = None) -> list[str]:
    """Quarters a clerk may report for, newest first: the published ones and those after them up to
    the quarter being collected."""
    quarters = published_quarters(src)
    target = collecting_quarter(today)
    if not quarters:
        return [target]
    extra, q = [], quarters[-1]
    while len(extra) < 8 and q < target:
        q = next_quarter(q)
        extra.append(q)
    return list(reversed(quarters + extra))


def due_lag_days(src: data.Source) -> int | None:
    """Days from quarter end to the report deadline, as the warehouse computed them."""
    if not src.has("quarter_dates"):
        return None
    df = src.query("SELECT DISTINCT datediff('day', quarter_end_date, report_due_date) AS lag FROM {quarter_dates}")
    return int(df["lag"].iloc[0]) if len(df) == 1 else None


def due_date(src: data.Source, period: str) -> date | None:
    """The report deadline of a quarter (a survey year: of its fourth quarter)."""
    quarter = f"{period}Q4" if re.fullmatch(r"\d{4}", period) else period
    if not QUARTER.fullmatch(quarter):
        return None
    if src.has("quarter_dates"):
        df = src.query("SELECT report_due_date FROM {quarter_dates} WHERE quarter = $q", q=quarter)
        if not df.empty:
            return pd.Timestamp(df["report_due_date"].iloc[0]).date()
    lag = _rules_deadline_days(int(quarter[:4]))
    if lag is None:
        lag = due_lag_days(src)
    return None if lag is None else quarter_end(quarter) + timedelta(days=lag)


def _rules_deadline_days(year: int) -> int | None:
    """The rules configuration's report_deadline_days for a year not yet in the serving copy."""
    try:
        from qinglian.rules.config import load_rules

        return int(load_rules().in_force(year, "county").report_deadline_days)
    except Exception:  # no rules for that year, or an unreadable configuration: the warehouse's lag
        return None


# --- what a unit's templates carry --------------------------------------------------------------------


def unit_tasks(src: data.Source, unit: str, quarter: str) -> pd.DataFrame:
    """The unit's tasks still to report in `quarter`: issued by its end, not completed before it."""
    if not src.has("task_list"):
        return pd.DataFrame()
    done = ""
    if src.has("tasks"):
        done = """AND t.task_code NOT IN (SELECT task_code FROM {tasks} WHERE owner_code = $unit
                                         AND status = '已完成' AND quarter < $q)"""
    return src.query(
        f"""SELECT t.task_code, t.task_name, t.area, t.deadline, t.acceptance_standard, t.owner_name
            FROM {{task_list}} t
            WHERE t.owner_code = $unit AND (t.issued_date IS NULL OR t.issued_date <= $end) {done}
            ORDER BY t.task_code""", unit=unit, q=quarter, end=quarter_end(quarter))


def last_task_status(src: data.Source, unit: str, quarter: str) -> pd.DataFrame:
    if not src.has("tasks"):
        return pd.DataFrame(columns=["task_code", "status", "progress_pct", "quarter"])
    return src.query(
        """SELECT task_code, arg_max(status, quarter) AS status, arg_max(progress_pct, quarter) AS progress_pct,
                  max(quarter) AS quarter
           FROM {tasks} WHERE owner_code = $unit AND quarter < $q GROUP BY task_code""", unit=unit, q=quarter)


def unit_units(src: data.Source, county: str, quarter: str) -> pd.DataFrame:
    """The county's clean units as last known at or before `quarter`."""
    if not src.has("units"):
        return pd.DataFrame()
    return src.query(
        """WITH latest AS (SELECT max(quarter) AS q FROM {units} WHERE county_code = $unit AND quarter <= $q)
           SELECT u.unit_code, u.unit_name, u.unit_type, u.region_code, u.stage, u.quarter
           FROM {units} u, latest WHERE u.county_code = $unit AND u.quarter = latest.q
           ORDER BY u.unit_code""", unit=county, q=quarter)


def unit_open_issues(src: data.Source, county: str, quarter: str) -> pd.DataFrame:
    """Issues of the county still open at its last report before `quarter` (to be reported again)."""
    if not src.has("issues"):
        return pd.DataFrame()
    return src.query(
        """WITH latest AS (SELECT max(quarter) AS q FROM {issues} WHERE body_code = $unit AND quarter < $q)
           SELECT i.issue_code, i.inspected_body, i.region_code, i.category, i.description, i.found_date,
                  i.deadline, i.status
           FROM {issues} i, latest WHERE i.body_code = $unit AND i.quarter = latest.q AND i.status <> '已整改'
           ORDER BY i.issue_code""", unit=county, q=quarter)


def unit_regions(src: data.Source, county: str) -> pd.DataFrame:
    if not src.has("regions"):
        return pd.DataFrame()
    return src.query(
        """SELECT region_code, region_name, region_level, parent_code FROM {regions}
           WHERE county_code = $unit OR region_code = $unit ORDER BY region_code""", unit=county)


def period_title(source: str, period: str) -> str:
    if source == "surveys":
        return f"{period}年度"
    return data.quarter_label(period)


def survey_year(period: str) -> str:
    return period[:4]


def prefill(src: data.Source, viewer: Scope, source: str, period: str) -> Prefill:
    """The pre-filled template content for the viewer's unit, source and period."""
    unit, name = viewer.unit_code or "", viewer.unit_name or viewer.unit_code or ""
    title = period_title(source, survey_year(period) if source == "surveys" else period)
    rows: list[dict] = []
    reference: list[dict] = []
    ref_title, notes = "", []
    if source == "task_progress":
        tasks = unit_tasks(src, unit, period)
        last = last_task_status(src, unit, period)
        last_by = {r.task_code: r for r in last.itertuples()} if not last.empty else {}
        for t in tasks.itertuples():
            rows.append({"task_code": t.task_code, "task_name": t.task_name, "reporter_name": name, "quarter": period})
            prev = last_by.get(t.task_code)
            reference.append({
                "编号": t.task_code, "重点任务名称": t.task_name, "领域": t.area,
                "任务完成时限": pd.Timestamp(t.deadline).date() if pd.notna(t.deadline) else None,
                "验收要求": t.acceptance_standard,
                "上次报送季度": prev.quarter if prev is not None else None,
                "上次状态": prev.status if prev is not None else None,
                "上次进度(%)": float(prev.progress_pct) if prev is not None and pd.notna(prev.progress_pct) else None,
            })
        ref_title = TASK_SHEET
        notes = [f"「填报表」已列出本单位在 {title} 需报送的 {len(rows)} 项任务（任务编号、名称、牵头单位、季度已填好），"
                 f"请逐项填写推进状态、完成进度等；完成时限见「{TASK_SHEET}」工作表。"]
    elif source == "units":
        units = unit_units(src, unit, period)
        for u in units.itertuples():
            rows.append({"unit_code": u.unit_code, "unit_name": u.unit_name, "unit_type": u.unit_type,
                         "region_input": u.region_code})
        reference = _region_reference(src, unit)
        ref_title = REGION_SHEET
        notes = [f"「填报表」已列出系统中本县区的 {len(rows)} 个清廉单元（编码、名称、类型、所属区划已填好），"
                 f"请逐个填写本期创建阶段；新增单元请在末尾追加，区划代码见「{REGION_SHEET}」工作表。"]
    elif source == "inspections":
        issues = unit_open_issues(src, unit, period)
        for i in issues.itertuples():
            rows.append({"issue_code": i.issue_code, "inspected_body": i.inspected_body, "region_input": i.region_code,
                         "category": i.category, "description": i.description,
                         "found_date": _day(i.found_date), "deadline": _day(i.deadline)})
        reference = _region_reference(src, unit)
        ref_title = REGION_SHEET
        notes = [f"「填报表」已列出上期尚未整改完成的 {len(rows)} 个问题，请更新整改状态和完成日期；新发现问题请在末尾追加。"]
    elif source == "cases":
        rows.append({"region_input": name, "period_label": period})
        reference = _region_reference(src, unit)
        ref_title = REGION_SHEET
    elif source == "surveys":
        reference = _region_reference(src, unit)
        ref_title = REGION_SHEET
    return Prefill(title=title, submitter_name=name, rows=rows, reference_title=ref_title, reference=reference,
                   notes=notes)


def _day(value: object) -> date | None:
    return pd.Timestamp(value).date() if value is not None and pd.notna(value) else None


def _region_reference(src: data.Source, county: str) -> list[dict]:
    regions = unit_regions(src, county)
    return [{"代码": r.region_code, "名称": r.region_name, "级别": r.region_level}
            for r in regions.itertuples()]


# --- 报送情况: who is expected, what the warehouse already holds ---------------------------------------

PERIODIC_SOURCES = ("task_progress", "units", "inspections", "cases", "surveys")


def expected_units(src: data.Source, source: str, period: str) -> pd.DataFrame:
    """Who must report `source` for `period`: a task owner with a task to report (task progress),
    every county (the county ledgers)."""
    cols = ["unit_code", "unit_name", "unit_group"]
    if source == "task_progress":
        if not src.has("task_list") or not QUARTER.fullmatch(period):
            return pd.DataFrame(columns=cols)
        done = ""
        if src.has("tasks"):
            done = """AND NOT EXISTS (SELECT 1 FROM {tasks} s WHERE s.task_code = t.task_code AND s.status = '已完成'
                                      AND s.quarter < $q)"""
        return src.query(
            f"""SELECT DISTINCT t.owner_code AS unit_code, t.owner_name AS unit_name, t.owner_group AS unit_group
                FROM {{task_list}} t WHERE t.owner_code IS NOT NULL
                  AND (t.issued_date IS NULL OR t.issued_date <= $end) {done}
                ORDER BY unit_group, unit_code""", q=period, end=quarter_end(period))
    if not src.has("bodies"):
        return pd.DataFrame(columns=cols)
    return src.query("""SELECT body_code AS unit_code, body_name AS unit_name, body_group AS unit_group FROM {bodies}
                        WHERE body_group = 'county' ORDER BY body_code""")


def journal_files(src: data.Source, source: str, period: str) -> pd.DataFrame:
    """Files of `source` and `period` the published warehouse loaded (any channel), per submitter code."""
    if not src.has("files"):
        return pd.DataFrame(columns=["submitter", "submitter_name", "files", "first_loaded"])
    return src.query(
        """SELECT submitter, any_value(submitter_name) AS submitter_name, count(*) AS files,
                  min(loaded_at) AS first_loaded FROM {files}
           WHERE source = $s AND period = $p AND outcome IN ('accepted', 'accepted_with_rejects')
           GROUP BY submitter""", s=source, p=period)
