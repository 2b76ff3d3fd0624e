"""Writing parsed files into the raw layer: one transaction per file, lineage on every row."""

from __future__ import annotations

from datetime import datetime
from importlib import resources
from pathlib import Path

import duckdb
import polars as pl

from ingest.contracts import REFERENCE_SOURCES
from ingest.parse import ParsedFile
from ingest.resolve import Resolver

OUTCOME_LABELS = {
    "accepted": "已接收",
    "accepted_with_rejects": "部分接收（有拒收行）",
    "rejected": "已拒收",
    "duplicate": "重复报送（已忽略）",
}


class WarehouseError(Exception):
    """The warehouse file cannot be opened or is not a Qinglian warehouse."""


def connect(warehouse: Path) -> duckdb.DuckDBPyConnection:
    warehouse.parent.mkdir(parents=True, exist_ok=True)
    try:
        con = duckdb.connect(str(warehouse))
    except duckdb.Error as exc:
        raise WarehouseError(f"无法打开数据仓库 {warehouse}：{exc}") from exc
    con.execute(resources.files("ingest").joinpath("schema.sql").read_text(encoding="utf-8"))
    return con


def _current(table: str, columns: str) -> str:
    """Rows of files that are still in force; the latest row wins for a reference code."""
    return f"""
        select {columns} from raw.{table} t join raw.ingest_files f using (file_id)
        where f.superseded_by is null and f.outcome in ('accepted', 'accepted_with_rejects')
    """


def load_resolver(con: duckdb.DuckDBPyConnection) -> Resolver:
    regions = con.execute(
        f"""select region_code, arg_max(region_name, t.loaded_at), arg_max(region_level, t.loaded_at), arg_max(parent_code, t.loaded_at)
            from ({_current('regions', 't.*')}) t group by region_code"""
    ).fetchall()
    departments = con.execute(
        f"""select dept_code, arg_max(dept_name, t.loaded_at), arg_max(short_name, t.loaded_at), arg_max(aliases, t.loaded_at)
            from ({_current('departments', 't.*')}) t group by dept_code"""
    ).fetchall()
    return Resolver.build(regions, departments)


def load_known_tasks(con: duckdb.DuckDBPyConnection) -> frozenset[str]:
    return frozenset(r[0] for r in con.execute(f"select distinct task_code from ({_current('tasks', 't.task_code')})").fetchall())


def seen_files(con: duckdb.DuckDBPyConnection) -> dict[str, tuple[str, str]]:
    """sha256 -> (first path it arrived under, outcome)."""
    rows = con.execute("select sha256, arg_min(path, file_id), arg_min(outcome, file_id) from raw.ingest_files group by sha256").fetchall()
    return {sha: (path, outcome) for sha, path, outcome in rows}


_COLUMNS: dict[str, list[str]] = {}


def _table_columns(con: duckdb.DuckDBPyConnection, table: str) -> list[str]:
    """Raw-table columns; the schema is fixed by schema.sql, so one look-up per process is enough."""
    if table not in _COLUMNS:
        _COLUMNS[table] = _query_columns(con, table)
    return _COLUMNS[table]


def _query_columns(con: duckdb.DuckDBPyConnection, table: str) -> list[str]:
    return [r[0] for r in con.execute(
        "select column_name from information_schema.columns where table_schema = 'raw' and table_name = ? order by ordinal_position",
        [table],
    ).fetchall()]


def _next_id(con: duckdb.DuckDBPyConnection) -> int:
    return int(con.execute("select nextval('raw.ingest_file_id')").fetchone()[0])


def _insert_file_row(con: duckdb.DuckDBPyConnection, file_id: int, parsed: ParsedFile, outcome: str, message: str | None,
                     rows: tuple[int, int, int], loaded_at: datetime) -> None:
    con.execute(
        """insert into raw.ingest_files (file_id, path, file_name, sha256, source, submitter, submitter_name, period, outcome,
               outcome_label, message, sheets, rows_read, rows_loaded, rows_rejected, dropped_columns, loaded_at, superseded_by)
           values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, null)""",
        [file_id, parsed.rel, parsed.path.name, parsed.sha256, parsed.source, parsed.submitter, parsed.submitter_name,
         parsed.period, outcome, OUTCOME_LABELS[outcome], message, ",".join(parsed.sheets) or None, *rows,
         ",".join(parsed.dropped_columns) or None, loaded_at],
    )


def record_duplicate(con: duckdb.DuckDBPyConnection, parsed: ParsedFile, first_path: str) -> int:
    file_id = _next_id(con)
    _insert_file_row(con, file_id, parsed, "duplicate", f"与已报送文件 {first_path} 内容完全相同，未重复入库", (0, 0, 0), datetime.now())
    return file_id


def load_file(con: duckdb.DuckDBPyConnection, parsed: ParsedFile) -> int:
    """Load one parsed file atomically; on any failure nothing of it remains but a rejected record."""
    loaded_at = datetime.now()
    file_id = _next_id(con)
    if parsed.error is not None:
        _insert_rejected(con, file_id, parsed, parsed.error, loaded_at)
        return file_id
    con.execute("begin transaction")
    try:
        message = "；".join(parsed.notes) or None
        _insert_file_row(con, file_id, parsed, parsed.outcome, message,
                         (parsed.rows_read, parsed.rows_loaded, parsed.rows_rejected), loaded_at)
        if parsed.rejects.height:
            rejects = parsed.rejects.with_columns(pl.lit(file_id).alias("file_id"), pl.lit(parsed.rel).alias("file"))
            con.register("_rejects", rejects.to_arrow())
            con.execute('insert into raw.ingest_rejects by name select file_id, file, sheet, "row", "column", value, reason from _rejects')
            con.unregister("_rejects")
        for table, frame in parsed.tables.items():
            _insert_rows(con, table, frame, file_id, loaded_at)
        _supersede(con, parsed, file_id)
        loaded = sum(t.height for name, t in parsed.tables.items() if name != "survey_answers")
        if loaded != parsed.rows_loaded:
            raise RuntimeError(f"行数核对失败：读入 {parsed.rows_read} 行，入库 {loaded} 行，拒收 {parsed.rows_rejected} 行")
        con.execute("commit")
    except Exception as exc:
        con.execute("rollback")
        _insert_rejected(con, file_id, parsed, f"入库失败，本文件未载入任何数据：{exc}", loaded_at)
    return file_id


def _insert_rejected(con: duckdb.DuckDBPyConnection, file_id: int, parsed: ParsedFile, reason: str, loaded_at: datetime) -> None:
    con.execute("begin transaction")
    _insert_file_row(con, file_id, parsed, "rejected", reason, (parsed.rows_read, 0, parsed.rows_read), loaded_at)
    con.execute('insert into raw.ingest_rejects (file_id, file, sheet, "row", "column", value, reason) values (?, ?, null, null, null, null, ?)',
                [file_id, parsed.rel, reason])
    con.execute("commit")


def _insert_rows(con: duckdb.DuckDBPyConnection, table: str, frame: pl.DataFrame, file_id: int, loaded_at: datetime) -> None:
    columns = _table_columns(con, table)
    lineage = frame.with_columns(
        pl.lit(file_id, dtype=pl.Int64).alias("file_id"),
        pl.col("_row").alias("row_number"),
        pl.lit(loaded_at).alias("loaded_at"),
    )
    present = [c for c in columns if c in lineage.columns]
    con.register("_rows", lineage.select(present).to_arrow())
    con.execute(f"insert into raw.{table} by name select * from _rows")
    con.unregister("_rows")


def _supersede(con: duckdb.DuckDBPyConnection, parsed: ParsedFile, file_id: int) -> None:
    """A corrected file replaces the earlier one for the same source, submitter and period.

    Reference data (regions, departments, tasks) is not replaced file by file: a later row for
    the same code wins, so a supplementary task list adds to the catalogue.
    """
    if parsed.source in REFERENCE_SOURCES:
        return
    con.execute(
        """update raw.ingest_files set superseded_by = ?
           where source = ? and submitter is not distinct from ? and period is not distinct from ?
             and file_id <> ? and superseded_by is null and outcome in ('accepted', 'accepted_with_rejects')""",
        [file_id, parsed.source, parsed.submitter, parsed.period, file_id],
    )
