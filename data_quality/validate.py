"""Run the suites with Great Expectations and keep the results in the warehouse.

API used by the orchestration (each call is one Dagster asset check's worth of work):

    validate_raw(con, sources=None, period=None) -> list[CheckResult]
    validate_marts(con) -> list[CheckResult]
    store_results(con, run_id, results) -> None      # ops.dq_results + ops.dq_failures
    blocking_failures(results) -> list[CheckResult]  # non-empty: do not publish

GX runs on an ephemeral context over pandas frames read with DuckDB from dbt's staging views (GX's
SQL datasource does not work against DuckDB; see data_quality.staging for when the views are made). Row lineage comes from GX itself: raw frames are indexed by
(file_id, sheet, row_number) and validated with result_format COMPLETE and those columns as
unexpected_index_column_names.
"""

from __future__ import annotations

import functools
import json
import threading
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import duckdb
import great_expectations as gx
import pandas as pd
from great_expectations.data_context.types.base import ProgressBarsConfig

from data_quality import frames, staging
from data_quality.suites import (
    RAW_TABLES,
    SOURCE_TABLES,
    Check,
    FrameSuite,
    column_label,
    mart_suites,
    raw_suites,
)
from qinglian import office_time

MAX_EXAMPLES = 20


@dataclass(frozen=True)
class CheckResult:
    """The outcome of one expectation over one asset.

    `examples` holds up to 20 failing rows as {file, sheet, row, value} (marts: {file, key, value}).
    `failures` holds every failing row (columns file_id, sheet, row_number, key, column, value) for
    ops.dq_failures; it is a DataFrame because a broken province-scale file can fail 100k rows.
    """

    asset: str
    expectation: str
    column: str | None
    severity: str
    success: bool
    observed: str | None
    unexpected_count: int
    examples: tuple[Mapping[str, Any], ...] = field(default=(), hash=False)
    description_zh: str = ""
    layer: str = "raw"
    check_id: str = ""
    family: str = ""
    problem_zh: str = ""
    fix_zh: str = ""
    failures: pd.DataFrame | None = field(default=None, repr=False, compare=False, hash=False)

    @property
    def blocking(self) -> bool:
        return self.severity == "blocking" and not self.success


def blocking_failures(results: Iterable[CheckResult]) -> list[CheckResult]:
    """Failed checks that must stop publishing."""
    return [r for r in results if r.blocking]


# --- running GX ---


# One ephemeral GX context per process, with one pandas data source and one dataframe asset per suite
# frame (each validation hands its frame in as a batch parameter), and each ExpectationSuite built once:
# making a context costs about as much as checking a small quarter (measured in the report of this
# change: first call vs the next ones). The lock keeps threads (the portal's dry runs) off GX's shared
# state one validation at a time.
_GX_LOCK = threading.RLock()
_ASSETS: dict[str, Any] = {}  # asset name -> its whole-dataframe batch definition
_SUITES: dict[tuple[str, tuple[str, ...]], gx.ExpectationSuite] = {}


@functools.cache
def _context() -> Any:
    context = gx.get_context(mode="ephemeral")
    # tqdm bars on stderr would flood the Dagster and CLI logs, one per metric batch.
    context.variables.progress_bars = ProgressBarsConfig(globally=False, metric_calculations=False)
    return context


@functools.cache
def _source() -> Any:
    return _context().data_sources.add_pandas("qinglian_dq")


def _batch_definition(name: str) -> Any:
    if name not in _ASSETS:
        _ASSETS[name] = _source().add_dataframe_asset(name=name).add_batch_definition_whole_dataframe("whole")
    return _ASSETS[name]


def _expectation_suite(suite: FrameSuite, checks: tuple[Check, ...]) -> gx.ExpectationSuite:
    key = (suite.name, tuple(c.check_id for c in checks))
    if key not in _SUITES:
        _SUITES[key] = suite.expectation_suite(checks)
    return _SUITES[key]


class _Runner:
    def __init__(self, files: Mapping[int, str]) -> None:
        self.files = files

    def run(self, suite: FrameSuite, frame: pd.DataFrame | None, table_columns: Sequence[str] | None,
            run_schema: bool = True) -> list[CheckResult]:
        results: list[CheckResult] = []
        if run_schema and suite.schema_checks():
            # Column presence is a property of the table, not of the derived frame: validate it
            # on an empty frame with exactly the table's columns.
            results += self._validate(suite, suite.schema_checks(), pd.DataFrame(columns=list(table_columns or ())), "schema")
        if frame is None:
            return results
        checks = tuple(c for c in suite.data_checks() if all(col in frame.columns for col in c.columns()))
        if checks:
            results += self._validate(suite, checks, _indexed(frame, suite), "rows")
        return results

    def _validate(self, suite: FrameSuite, checks: tuple[Check, ...], frame: pd.DataFrame, role: str) -> list[CheckResult]:
        index_names = [n for n in frame.index.names if n is not None]
        result_format: dict[str, Any] = {"result_format": "COMPLETE", "partial_unexpected_count": MAX_EXAMPLES,
                                         "return_unexpected_index_query": False}
        if index_names:
            # exclude_unexpected_values with lineage in the (multi-)index makes GX return the
            # failing rows' index tuples without a per-row .at[] lookup: 2 s instead of minutes
            # for 500k failing rows. The values are read back from the frame in _failures().
            result_format |= {"unexpected_index_column_names": index_names, "exclude_unexpected_values": True}
        # One asset per suite and role (the schema's empty frame, the rows' frame), made once; the
        # metrics belong to the batch, so a reused asset never answers from a previous call's frame.
        asset = f"{suite.name}.{role}"
        with _GX_LOCK:
            batch = _batch_definition(asset).get_batch(batch_parameters={"dataframe": frame})
            validation = batch.validate(_expectation_suite(suite, checks), result_format=result_format)
        by_id = {c.check_id: c for c in checks}
        out = []
        for r in validation.results:
            check = by_id[r.expectation_config.meta["check_id"]]
            out.append(self._result(suite, check, r, frame, index_names))
        order = {c.check_id: i for i, c in enumerate(checks)}
        return sorted(out, key=lambda res: order[res.check_id])

    def _result(self, suite: FrameSuite, check: Check, r: Any, frame: pd.DataFrame,
                index_names: list[str]) -> CheckResult:
        res: dict[str, Any] = dict(r.result or {})
        error = _exception_message(r.exception_info)
        unexpected = int(res.get("unexpected_count") or 0)
        failures = None
        if not r.success and not error and index_names and unexpected:
            failures = _failures(check, res, frame, index_names, suite.layer)
        examples = _examples(failures, suite, self.files)
        return CheckResult(
            asset=suite.asset, expectation=check.expectation_type, column=check.column, severity=check.severity,
            success=bool(r.success) and error is None, observed=_observed(check, bool(r.success), res, error),
            unexpected_count=unexpected, examples=examples, description_zh=check.description_zh,
            layer=suite.layer, check_id=check.check_id, family=check.family,
            problem_zh=check.problem_zh, fix_zh=check.fix_zh, failures=failures,
        )


def _indexed(frame: pd.DataFrame, suite: FrameSuite) -> pd.DataFrame:
    if suite.layer == "raw":
        index = list(suite.index)
        if "_question" in frame.columns:
            index.append("_question")
        return frame.set_index(index)
    # Marts: one string key per grain row ("county/610723000000/2025Q1"), so failures name the row.
    frame = frame.copy()
    if suite.index and all(c in frame.columns for c in suite.index):
        key = _fmt(frame[suite.index[0]]).fillna("").astype("string")
        for col in suite.index[1:]:
            key = key + "/" + _fmt(frame[col]).fillna("").astype("string")
        frame["_key"] = key
    else:
        frame["_key"] = [str(i + 1) for i in range(len(frame))]
    return frame.set_index("_key")


def _exception_message(info: Any) -> str | None:
    if not info:
        return None
    items = [info] if "raised_exception" in info else list(info.values())
    msgs = [str(i.get("exception_message")) for i in items if isinstance(i, Mapping) and i.get("raised_exception")]
    return "; ".join(msgs) or None


def _observed(check: Check, success: bool, res: Mapping[str, Any], error: str | None) -> str:
    if error:
        return f"检查未能执行：{error}"
    if check.family == "schema":
        return "字段存在" if success else f"缺少字段 {check.column}"
    if "observed_value" in res:
        return str(res["observed_value"])
    count, total = int(res.get("unexpected_count") or 0), res.get("element_count")
    return f"{count}/{total} 行不符合" if total is not None else f"{count} 行不符合"


def _fmt(series: pd.Series) -> pd.Series:
    """Values as a clerk would type them: dates as 2025-03-31, whole numbers without .0."""
    if pd.api.types.is_datetime64_any_dtype(series):
        out = series.dt.strftime("%Y-%m-%d")
    elif pd.api.types.is_float_dtype(series):
        finite = series.dropna()
        if (finite == finite.round()).all():
            out = series.astype("Int64").astype("string")
        else:
            out = series.astype("string")
    else:
        out = series.astype("string")
    return out.astype(object).where(series.notna(), None)


def _failures(check: Check, res: Mapping[str, Any], frame: pd.DataFrame, index_names: list[str],
              layer: str) -> pd.DataFrame | None:
    listed = res.get("unexpected_index_list") or []
    if not listed:
        return None
    if isinstance(listed[0], Mapping) and all(isinstance(v, list) for v in listed[0].values()):
        # exclude_unexpected_values: one dict of parallel lists.
        cols = {n: [v for part in listed for v in part.get(n, [])] for n in index_names}
    else:
        cols = {n: [row.get(n) for row in listed] for n in index_names}
    if len(index_names) == 1:
        keys: pd.Index = pd.Index(cols[index_names[0]], name=index_names[0])
    else:
        keys = pd.MultiIndex.from_arrays([cols[n] for n in index_names], names=index_names)
    lookup = frame if frame.index.is_unique else frame[~frame.index.duplicated()]
    rows = lookup.iloc[lookup.index.get_indexer(keys)]
    shown = [c for c in check.shown_columns if c in rows.columns]
    if len(shown) == 1:
        value = _fmt(rows[shown[0]])
    elif shown:
        parts = [(c, _fmt(rows[c])) for c in shown]
        value = pd.Series(
            [", ".join(f"{c}={v}" for (c, _), v in zip(parts, vals, strict=True)) for vals in zip(*(p for _, p in parts), strict=True)],
            index=rows.index, dtype=object)
    else:
        value = pd.Series([None] * len(rows), index=rows.index, dtype=object)
    out = pd.DataFrame({"value": value.to_numpy()})
    if layer == "raw":
        out.insert(0, "file_id", pd.array(cols["file_id"], dtype="Int64"))
        out.insert(1, "sheet", [s or None for s in cols["sheet"]])
        out.insert(2, "row_number", pd.array(cols["row_number"], dtype="Int64"))
        out.insert(3, "key", None)
        # A survey sheet row holds every answer of a respondent: for an answer the field is its
        # question column (Q3), which is what the clerk sees in the sheet.
        by_question = "_question" in cols and check.column in ("answer", "answer_code")
        out.insert(4, "column", cols["_question"] if by_question else check.column)
    else:
        out.insert(0, "file_id", pd.array([None] * len(out), dtype="Int64"))
        out.insert(1, "sheet", None)
        out.insert(2, "row_number", pd.array([None] * len(out), dtype="Int64"))
        out.insert(3, "key", [str(k) for k in cols[index_names[0]]])
        out.insert(4, "column", check.column)
    return out


def _examples(failures: pd.DataFrame | None, suite: FrameSuite, files: Mapping[int, str]) -> tuple[dict[str, Any], ...]:
    if failures is None:
        return ()
    examples = []
    for rec in failures.head(MAX_EXAMPLES).itertuples(index=False):
        if suite.layer == "raw":
            file_id = None if pd.isna(rec.file_id) else int(rec.file_id)
            ex: dict[str, Any] = {"file": files.get(file_id, str(file_id)) if file_id is not None else None,
                                  "sheet": rec.sheet, "row": None if pd.isna(rec.row_number) else int(rec.row_number),
                                  "value": rec.value}
            if suite.table == "survey_answers":
                ex["column"] = rec.column
        else:
            ex = {"file": suite.asset, "sheet": None, "row": None, "key": rec.key, "value": rec.value}
        examples.append(ex)
    return tuple(examples)


# --- public API ---


def _raw_tables(sources: Sequence[str] | None) -> list[str]:
    if sources is None:
        return list(RAW_TABLES)
    tables: list[str] = []
    for name in sources:
        key = name.removeprefix("raw.")
        if key in SOURCE_TABLES:
            tables += SOURCE_TABLES[key]
        elif key in RAW_TABLES:
            tables.append(key)
        else:
            raise ValueError(f"unknown source {name!r}; expected one of {sorted({*SOURCE_TABLES, *RAW_TABLES})}")
    return list(dict.fromkeys(tables))


# Every frame resolves codes against the current regions and departments (frames.REFERENCE_CTES), and
# task reports against the current task list.
_REFERENCE_TABLES = ("regions", "departments", "tasks", "survey_responses")


def _file_paths(con: duckdb.DuckDBPyConnection) -> dict[int, str]:
    if frames.table_columns(con, "raw", "ingest_files") is None:
        return {}
    return {int(fid): str(path) for fid, path in con.execute("select file_id, path from raw.ingest_files").fetchall()}


def validate_raw(con: duckdb.DuckDBPyConnection, sources: list[str] | None = None,
                 period: str | None = None) -> list[CheckResult]:
    """Check the current rows of the raw tables.

    `sources`: source folders (DESIGN §3: units, surveys, ...) or raw table names; None = all.
    `period`: '2025Q2' or '2025' limits quarterly tables to that quarter/year and surveys to that
    year's wave; reference tables (regions, departments, tasks) are always checked whole.
    """
    scope = frames.Period(period)
    suites = raw_suites()
    tables = _raw_tables(sources)
    # The frames read the staging views; before the quarter's first dbt build they may not exist yet.
    staging.ensure_views(con, [*tables, *_REFERENCE_TABLES])
    runner = _Runner(_file_paths(con))
    results: list[CheckResult] = []
    for table in tables:
        suite = suites[table]
        columns = frames.table_columns(con, "raw", table)
        frame = None
        # A table missing a contract column cannot be framed; its schema checks say why.
        if columns is not None and all(c.column in columns for c in suite.schema_checks()):
            frame = frames.raw_frame(con, table, scope)
        results += runner.run(suite, frame, columns)
    return results


def validate_marts(con: duckdb.DuckDBPyConnection) -> list[CheckResult]:
    """Before publishing: every DESIGN §7 mart is there with its contract columns.

    The figures themselves are guarded by dbt (contracts and data tests fail the build); this gate
    does not re-check them.
    """
    marts = frames.schema_tables(con, "marts")
    runner = _Runner({})
    results: list[CheckResult] = []
    for suite in mart_suites(marts).values():
        results += runner.run(suite, None, marts.get(suite.table.removeprefix("marts.")))
    return results


_RESULTS_DDL = """
create table if not exists ops.dq_results (
    run_id VARCHAR, checked_at TIMESTAMP, layer VARCHAR, asset VARCHAR, expectation VARCHAR,
    column_name VARCHAR, description_zh VARCHAR, severity VARCHAR, success BOOLEAN,
    observed_value VARCHAR, unexpected_count BIGINT, unexpected_examples VARCHAR
)"""
_FAILURES_DDL = """
create table if not exists ops.dq_failures (
    run_id VARCHAR, asset VARCHAR, expectation VARCHAR, severity VARCHAR, file_id BIGINT, file VARCHAR,
    submitter VARCHAR, submitter_name VARCHAR, sheet VARCHAR, row_number BIGINT, column_name VARCHAR,
    value VARCHAR, fix_zh VARCHAR
)"""
# Beyond the agreed columns: a stable check id (to join results and failures, and to name Dagster
# checks), the problem statement and field label the clerk report shows.
_EXTRA_COLUMNS = {
    "dq_results": ("check_id", "problem_zh", "fix_zh"),
    "dq_failures": ("check_id", "problem_zh", "column_label"),
}


def ensure_ops_tables(con: duckdb.DuckDBPyConnection) -> None:
    con.execute("create schema if not exists ops")
    con.execute(_RESULTS_DDL)
    con.execute(_FAILURES_DDL)
    for table, cols in _EXTRA_COLUMNS.items():
        for col in cols:
            con.execute(f"alter table ops.{table} add column if not exists {col} VARCHAR")


def store_results(con: duckdb.DuckDBPyConnection, run_id: str, results: Sequence[CheckResult]) -> None:
    """Write results to ops.dq_results and failing raw rows to ops.dq_failures.

    Storing the same checks again under the same run_id replaces them, so a retried Dagster step
    does not double the clerk report.
    """
    ensure_ops_tables(con)
    if not results:
        return
    checked_at = office_time.wall_clock()  # shown on the quality page: the office's clock
    res = pd.DataFrame({
        "run_id": run_id, "checked_at": checked_at,
        "layer": [r.layer for r in results], "asset": [r.asset for r in results],
        "expectation": [r.expectation for r in results], "column_name": [r.column for r in results],
        "description_zh": [r.description_zh for r in results], "severity": [r.severity for r in results],
        "success": [r.success for r in results], "observed_value": [r.observed for r in results],
        "unexpected_count": [r.unexpected_count for r in results],
        "unexpected_examples": [json.dumps(list(r.examples), ensure_ascii=False, default=str) for r in results],
        "check_id": [r.check_id for r in results], "problem_zh": [r.problem_zh for r in results],
        "fix_zh": [r.fix_zh for r in results],
    })
    parts = []
    for r in results:
        if r.layer != "raw" or r.failures is None or r.failures.empty:
            continue
        f = r.failures[["file_id", "sheet", "row_number", "column", "value"]].copy()
        f["asset"], f["expectation"], f["severity"] = r.asset, r.expectation, r.severity
        f["fix_zh"], f["check_id"], f["problem_zh"] = r.fix_zh, r.check_id, r.problem_zh
        table = r.asset.removeprefix("raw.")
        f["column_label"] = f["column"].map(lambda c, t=table: column_label(t, c))
        parts.append(f)
    fails = pd.concat(parts, ignore_index=True) if parts else None
    ids = pd.DataFrame({"check_id": sorted({r.check_id for r in results})})
    con.register("_dq_ids", ids)
    con.register("_dq_results", res)
    if fails is not None:
        con.register("_dq_failures", fails)
    try:
        con.execute("delete from ops.dq_results where run_id = ? and check_id in (select check_id from _dq_ids)", [run_id])
        con.execute("delete from ops.dq_failures where run_id = ? and check_id in (select check_id from _dq_ids)", [run_id])
        con.execute("""
            insert into ops.dq_results (run_id, checked_at, layer, asset, expectation, column_name, description_zh,
                severity, success, observed_value, unexpected_count, unexpected_examples, check_id, problem_zh, fix_zh)
            select run_id, checked_at, layer, asset, expectation, column_name, description_zh, severity, success,
                   observed_value, unexpected_count, unexpected_examples, check_id, problem_zh, fix_zh
            from _dq_results""")
        if fails is not None:
            has_files = frames.table_columns(con, "raw", "ingest_files") is not None
            join = "left join raw.ingest_files i on i.file_id = d.file_id" if has_files else ""
            src = "i.path, i.submitter, i.submitter_name" if has_files else "null, null, null"
            con.execute(f"""
                insert into ops.dq_failures (run_id, asset, expectation, severity, file_id, file, submitter,
                    submitter_name, sheet, row_number, column_name, value, fix_zh, check_id, problem_zh, column_label)
                select ?, d.asset, d.expectation, d.severity, d.file_id, {src}, d.sheet, d.row_number,
                       d."column", d.value, d.fix_zh, d.check_id, d.problem_zh, d.column_label
                from _dq_failures d {join}""", [run_id])
    finally:
        con.unregister("_dq_ids")
        con.unregister("_dq_results")
        if fails is not None:
            con.unregister("_dq_failures")
