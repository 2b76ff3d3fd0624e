"""The pandas frames the suites validate, read from dbt's staging views.

GX's SQL datasource cannot talk to DuckDB (MetricResolutionError, GX issues #11579/#10738), so
every frame is a DuckDB query over the staging views (staging.stg_raw__*, see data_quality.staging)
turned into a DataFrame. The views decide which rows are current (rows of files that were superseded
or rejected are history) and how columns are named; the frames only give a view's columns back their
template names (the clerk report speaks of the template's fields) and add, as columns, what a single
GX expectation cannot express row by row (the reference code a value resolves to, the quarter's date
window from qinglian.quarters, the year-to-date decrease count); the expectation then checks that column, keeping GX's
result shape and row lineage.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

import duckdb
import pandas as pd
import pyarrow as pa

from data_quality import staging
from data_quality.suites import (
    CASE_FIGURES,
    COLUMN_LABELS,
    REPORT_WINDOW_DAYS,
    STAGE_LEVELS,
    SURVEY_ANSWERS,
)
from qinglian import quarters

_PERIOD = re.compile(r"^(\d{4})(Q[1-4])?$")


# Staging renamed a few template fields; the checks and the clerk report use the template's names.
_RAW_NAMES: dict[str, dict[str, str]] = {
    "task_progress": {"reporter_code": "owner_code"},
    "units": {"assessment_score": "score"},
}


def current(table: str) -> str:
    """The current rows of a raw table: its staging view, with the template's column names."""
    renames = _RAW_NAMES.get(table)
    star = "*" if not renames else "* rename (" + ", ".join(f"{new} as {old}" for new, old in renames.items()) + ")"
    return f"(select {star} from {staging.view(table)})"


# The quarter windows the date checks compare with (a quarter's first and last day, its year and number)
# are qinglian.quarters' arithmetic, not SQL of this module's: raw_frame registers them as this relation,
# one row per quarter key the table's current rows carry (a value that is no quarter key has no row).
WINDOWS = "_dq_quarter_windows"


def quarter_windows(keys: Iterable[object]) -> pa.Table:
    """(quarter, year, quarter_of_year, quarter_start, quarter_end) of every quarter key among `keys`."""
    parsed = {str(k): quarters.parse(k) for k in keys}
    valid = sorted(q for q, part in parsed.items() if part is not None)
    parts = [parsed[q] for q in valid]
    return pa.table({
        "quarter": pa.array(valid, pa.string()),
        "year": pa.array([y for y, _ in parts], pa.int32()),  # type: ignore[misc]
        "quarter_of_year": pa.array([n for _, n in parts], pa.int32()),  # type: ignore[misc]
        "quarter_start": pa.array([quarters.start(q) for q in valid], pa.date32()),
        "quarter_end": pa.array([quarters.end(q) for q in valid], pa.date32()),
    })


def _windows_join(alias: str = "t") -> str:
    return f"left join {WINDOWS} w on w.quarter = {alias}.quarter"


def _plus_days(expr: str, days: int) -> str:
    return f"cast({expr} + interval {days} day as date)"


def _lineage(alias: str = "t") -> str:
    # CSV files have no sheet; '' keeps the pandas index free of NaN so lookups stay exact.
    return f"{alias}.file_id, coalesce({alias}.sheet, '') as sheet, {alias}.row_number"


def _case(col: str, mapping: Mapping[str, int]) -> str:
    whens = " ".join(f"when '{k}' then {v}" for k, v in mapping.items())
    return f"(case {col} {whens} end)"


@dataclass(frozen=True)
class Period:
    """A validation scope: a quarter (2025Q2), a year (2025) or everything (None)."""

    text: str | None = None

    def __post_init__(self) -> None:
        if self.text is not None and not _PERIOD.match(self.text):
            raise ValueError(f"period must look like 2025Q2 or 2025, got {self.text!r}")

    @property
    def year(self) -> str | None:
        return self.text[:4] if self.text else None

    def quarter_filter(self, col: str) -> str:
        if self.text is None:
            return ""
        if len(self.text) == 4:
            return f" and {col} like '{self.text}Q%'"
        return f" and {col} = '{self.text}'"

    def wave_filter(self, col: str) -> str:
        # Survey waves are years; a quarterly run checks the wave of its year.
        return "" if self.text is None else f" and ({col} = '{self.year}' or {col} is null)"


REFERENCE_CTES = f"""
    regions_cur as (select distinct region_code, region_level from {current('regions')}),
    region_codes as (select distinct region_code from regions_cur),
    depts_cur as (select distinct dept_code from {current('departments')}),
    owners as (select dept_code as code from depts_cur
               union select region_code from regions_cur where region_level = '县')
"""

_LEVELS = {"省": 1, "市": 2, "县": 3, "乡": 4, "村": 5}


def _regions(_: Period) -> str:
    # The top level loaded has its parent outside the warehouse (the city's province), so its
    # parent code is accepted as is; every other parent must be a loaded region.
    lvl = _case("t.region_level", _LEVELS)
    return f"""
    with cur as {current('regions')},
    top as (select min({_case('region_level', _LEVELS)}) as lvl from cur),
    codes as (select distinct region_code from cur)
    select {_lineage()}, t.region_code, t.region_name, t.region_level, t.parent_code,
           cast(t.population as double) as population,
           case when p.region_code is not null then p.region_code
                when {lvl} = (select lvl from top) then t.parent_code end as parent_code_ref
    from cur t left join codes p on p.region_code = t.parent_code
    """


def _departments(_: Period) -> str:
    return f"select {_lineage()}, t.dept_code, t.dept_name, t.short_name from {current('departments')} t"


def _tasks(_: Period) -> str:
    return f"""
    with {REFERENCE_CTES}
    select {_lineage()}, t.task_code, t.task_name, t.lead_unit_name, t.owner_code, t.owner_group,
           t.deadline, t.issued_date, o.code as owner_code_ref
    from {current('tasks')} t left join owners o on o.code = t.owner_code
    """


def _task_progress(p: Period) -> str:
    return f"""
    with {REFERENCE_CTES},
    tasks_cur as (select distinct task_code from {current('tasks')})
    select {_lineage()}, t.task_code, t.owner_code, t.quarter, t.status,
           cast(t.progress_pct as double) as progress_pct, cast(t.evidence_count as double) as evidence_count,
           t.report_date, k.task_code as task_code_ref, o.code as owner_code_ref,
           w.quarter_start, {_plus_days('w.quarter_end', REPORT_WINDOW_DAYS)} as report_date_limit
    from {current('task_progress')} t
    {_windows_join()}
    left join tasks_cur k on k.task_code = t.task_code
    left join owners o on o.code = t.owner_code
    where true {p.quarter_filter('t.quarter')}
    """


def _units(p: Period) -> str:
    return f"""
    with {REFERENCE_CTES}
    select {_lineage()}, t.unit_code, t.unit_type, t.region_code, t.stage, t.stage_level, t.quarter,
           cast(t.score as double) as score, t.assessed_date, r.region_code as region_code_ref,
           {_case('t.stage', STAGE_LEVELS)} as stage_level_expected,
           {_plus_days('w.quarter_end', REPORT_WINDOW_DAYS)} as assessed_date_limit
    from {current('units')} t left join region_codes r on r.region_code = t.region_code
    {_windows_join()}
    where true {p.quarter_filter('t.quarter')}
    """


def _inspections(p: Period) -> str:
    return f"""
    with {REFERENCE_CTES}
    select {_lineage()}, t.issue_code, t.inspected_body, t.body_dept_code, t.region_code, t.found_date,
           t.deadline, t.status, t.completed_date, t.quarter,
           r.region_code as region_code_ref, d.dept_code as body_dept_code_ref,
           coalesce(d.dept_code, r.region_code) as attribution_code,
           w.quarter_end, {_plus_days('w.quarter_end', REPORT_WINDOW_DAYS)} as completed_date_limit
    from {current('inspections')} t
    {_windows_join()}
    left join region_codes r on r.region_code = t.region_code
    left join depts_cur d on d.dept_code = t.body_dept_code
    where true {p.quarter_filter('t.quarter')}
    """


def _survey_responses(p: Period) -> str:
    return f"""
    with {REFERENCE_CTES}
    select {_lineage()}, t.response_id, t.wave, t.region_code, t.respondent_type, t.survey_mode,
           r.region_code as region_code_ref
    from {current('survey_responses')} t left join region_codes r on r.region_code = t.region_code
    where true {p.wave_filter('t.wave')}
    """


def _survey_answers(p: Period) -> str:
    # An answer belongs to the response with its id in the same file; the wave comes from there.
    # The question is part of the row's identity (one sheet row holds all of a respondent's answers).
    return f"""
    with resp as (select file_id, response_id, any_value(wave) as wave
                  from {current('survey_responses')} group by file_id, response_id)
    select {_lineage()}, t.question as _question, t.response_id, t.question, t.answer, t.answer_code,
           r.wave, r.response_id as response_id_ref,
           {_case('t.answer', SURVEY_ANSWERS)} as answer_code_expected
    from {current('survey_answers')} t
    left join resp r on r.file_id = t.file_id and r.response_id = t.response_id
    where true {p.wave_filter('r.wave')}
    """


def _cases(p: Period) -> str:
    # Year-to-date rows (累计, and Q1 rows of either scope: Q1's own figures are its YTD) of one
    # region and year, in quarter order; a figure lower than the previous row's is a decrease.
    # Computed over every quarter and filtered afterwards, so checking 2025Q2 still compares with Q1.
    lags = ", ".join(f"lag({c}) over w as prev_{c}" for c in CASE_FIGURES)
    count = " + ".join(f"coalesce(cast(t.{c} < y.prev_{c} as integer), 0)" for c in CASE_FIGURES)
    labels = COLUMN_LABELS["cases"]
    detail = ", ".join(
        f"case when t.{c} < y.prev_{c} then '{labels[c]} ' || cast(y.prev_{c} as varchar) || '→' "
        f"|| cast(t.{c} as varchar) end" for c in CASE_FIGURES
    )
    figures = ", ".join(f"cast(t.{c} as double) as {c}" for c in CASE_FIGURES)
    return f"""
    with {REFERENCE_CTES},
    cur as (select * from {current('cases')}),
    ytd as (
        select c.file_id, c.sheet, c.row_number, lag(c.quarter) over w as prev_quarter, {lags}
        from cur c join {WINDOWS} q on q.quarter = c.quarter
        where c.scope = '累计' or q.quarter_of_year = 1
        window w as (partition by c.region_code, q.year order by q.quarter_start, c.file_id, c.sheet, c.row_number)
    )
    select {_lineage()}, t.region_code, t.quarter, t.scope, {figures}, r.region_code as region_code_ref,
           {count} as ytd_decreases,
           case when ({count}) > 0 then '与' || y.prev_quarter || '累计数相比：' || concat_ws('；', {detail}) end
               as ytd_decrease_detail
    from cur t
    left join ytd y on y.file_id = t.file_id and y.row_number = t.row_number and y.sheet is not distinct from t.sheet
    left join region_codes r on r.region_code = t.region_code
    where true {p.quarter_filter('t.quarter')}
    """


RAW_FRAME_SQL = {
    "regions": _regions, "departments": _departments, "tasks": _tasks, "task_progress": _task_progress,
    "units": _units, "inspections": _inspections, "survey_responses": _survey_responses,
    "survey_answers": _survey_answers, "cases": _cases,
}


def table_columns(con: duckdb.DuckDBPyConnection, schema: str, table: str) -> tuple[str, ...] | None:
    """Columns of a table in order, or None when the table does not exist."""
    rows = con.execute(
        "select column_name from information_schema.columns where table_schema = ? and table_name = ? "
        "order by ordinal_position", [schema, table]).fetchall()
    return tuple(r[0] for r in rows) if rows else None


def schema_tables(con: duckdb.DuckDBPyConnection, schema: str) -> dict[str, tuple[str, ...]]:
    rows = con.execute(
        "select table_name, column_name from information_schema.columns where table_schema = ? "
        "order by table_name, ordinal_position", [schema]).fetchall()
    out: dict[str, list[str]] = {}
    for table, col in rows:
        out.setdefault(table, []).append(col)
    return {t: tuple(c) for t, c in out.items()}


def to_pandas(con: duckdb.DuckDBPyConnection, sql: str, params: list[object] | None = None) -> pd.DataFrame:
    # Through Arrow: 0.7 s instead of 3.4 s for the 2M survey answers (.df() builds Python
    # strings first). Dates become datetime64 so date pairs compare vectorised.
    df = con.sql(sql, params=params or None).to_arrow_table().to_pandas(date_as_object=False)
    # Nullable integer columns make GX fall back to a per-value Python loop for ranges; floats
    # keep every range check vectorised (values are shown without a trailing .0 anyway).
    for col in df.columns:
        if isinstance(df[col].dtype, pd.api.extensions.ExtensionDtype) and pd.api.types.is_integer_dtype(df[col]):
            df[col] = df[col].astype("float64")
    return df


def raw_frame(con: duckdb.DuckDBPyConnection, table: str, period: Period) -> pd.DataFrame:
    sql = RAW_FRAME_SQL[table](period)
    if WINDOWS not in sql:  # only the date checks' frames join the windows
        return to_pandas(con, sql)
    keys = [q for (q,) in con.execute(f"select distinct quarter from {current(table)}").fetchall()]
    con.register(WINDOWS, quarter_windows(keys))
    try:
        return to_pandas(con, sql)
    finally:
        con.unregister(WINDOWS)
