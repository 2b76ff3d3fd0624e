"""The ingest journal: raw.ingest_files and the raw tables, written one decided file at a time.

A file's decision — its outcome row, its data rows, its rejects and the supersession of the file
it corrects — is one transaction: after a crash, the warehouse holds either all of it or none of
it. The journal's state is read only from what has committed:

- a (path, sha256) pair with a recorded outcome is *final*: seeing the same bytes under the same
  name again changes nothing;
- a file is *identical to a loaded file* only when its sha256 belongs to a file whose rows
  committed (accepted or accepted_with_rejects). So a copy is recorded as a duplicate only after
  its original has committed, and a copy of a rejected file is judged on its own.

`Journal.commit` takes a list of decisions and writes them with a fixed number of statements
(Arrow tables registered once per table), so a batch of many small files costs a few round trips,
not a few per file. File ids are the next numbers after the largest committed one, in commit
order, so an interrupted run followed by a re-run assigns the ids an uninterrupted run would.
"""

from __future__ import annotations

import logging
from contextlib import suppress
from dataclasses import dataclass
from datetime import datetime
from importlib import resources
from pathlib import Path

import duckdb
import polars as pl

from ingest.contracts import REFERENCE_SOURCES
from ingest.outcomes import LOADED, FileOutcome, label
from ingest.parse import ParsedFile
from ingest.resolve import Resolver
from qinglian import office_time
from qinglian.errors import UserError, os_reason

log = logging.getLogger(__name__)


class WarehouseError(UserError):
    """The warehouse file cannot be opened or is not a Qinglian warehouse."""


def connect(warehouse: Path, read_only: bool = False) -> duckdb.DuckDBPyConnection:
    warehouse = Path(warehouse)
    if warehouse.is_dir():
        raise WarehouseError(f"数据仓库路径 {warehouse} 是一个文件夹，请指定 .duckdb 文件（如 data/warehouse.duckdb）")
    if read_only and not warehouse.exists():
        raise WarehouseError(f"数据仓库文件不存在：{warehouse}。请先运行 qinglian ingest 或 qinglian run")
    try:
        if not read_only:
            warehouse.parent.mkdir(parents=True, exist_ok=True)
        con = duckdb.connect(str(warehouse), read_only=read_only)
    except OSError as exc:
        raise WarehouseError(f"无法创建数据仓库 {warehouse}（{os_reason(exc)}），请检查路径和权限") from exc
    except duckdb.Error as exc:
        raise WarehouseError(warehouse_problem(warehouse, exc)) from exc
    if not read_only:
        try:
            # One transaction: a run killed half-way through the script would leave the journal without
            # some source's raw table (a warehouse no later step expects).
            con.execute("BEGIN TRANSACTION")
            con.execute(resources.files("ingest").joinpath("schema.sql").read_text(encoding="utf-8"))
            con.execute("COMMIT")
        except duckdb.Error as exc:
            con.close()
            raise WarehouseError(warehouse_problem(warehouse, exc)) from exc
    return con


def warehouse_problem(warehouse: Path, exc: Exception) -> str:
    text = str(exc)
    if "lock" in text.lower():
        return (f"数据仓库 {warehouse} 正被其他程序打开（如另一个任务、DuckDB 命令行或分析工具），"
                "请关闭后再试")
    if "not a valid duckdb" in text.lower() or "invalid" in text.lower() or "serializ" in text.lower():
        return f"文件 {warehouse} 不是有效的数据仓库（DuckDB）文件，请检查 --warehouse 参数"
    if "permission" in text.lower() or "read-only" in text.lower():
        return f"没有写入数据仓库 {warehouse} 的权限，请检查文件权限"
    return f"无法打开数据仓库 {warehouse}，请检查路径、权限和磁盘空间（详情见日志）"


def _current(table: str, columns: str) -> str:
    """Rows of files that are still in force; the latest row wins for a reference code."""
    return f"""
        select {columns} from raw.{table} t join raw.ingest_files f using (file_id)
        where f.superseded_by is null and f.outcome in {LOADED}
    """


def load_resolver(con: duckdb.DuckDBPyConnection) -> Resolver:
    regions = con.execute(
        f"""select region_code, arg_max(region_name, t.loaded_at), arg_max(region_level, t.loaded_at), arg_max(parent_code, t.loaded_at)
            from ({_current('regions', 't.*')}) t group by region_code order by region_code"""
    ).fetchall()
    departments = con.execute(
        f"""select dept_code, arg_max(dept_name, t.loaded_at), arg_max(short_name, t.loaded_at), arg_max(aliases, t.loaded_at)
            from ({_current('departments', 't.*')}) t group by dept_code order by dept_code"""
    ).fetchall()
    return Resolver.build(regions, departments)


def load_known_tasks(con: duckdb.DuckDBPyConnection) -> frozenset[str]:
    return frozenset(r[0] for r in con.execute(f"select distinct task_code from ({_current('tasks', 't.task_code')})").fetchall())


_COLUMNS: dict[str, list[str]] = {}


def _table_columns(con: duckdb.DuckDBPyConnection, table: str) -> list[str]:
    """Raw-table columns; the schema is fixed by schema.sql, so one look-up per process is enough."""
    if table not in _COLUMNS:
        _COLUMNS[table] = [r[0] for r in con.execute(
            "select column_name from information_schema.columns where table_schema = 'raw' and table_name = ? order by ordinal_position",
            [table],
        ).fetchall()]
    return _COLUMNS[table]


@dataclass
class Decision:
    """What is to be recorded about one file: loaded (its parse result) or a duplicate of `original`."""

    parsed: ParsedFile
    duplicate_of: str | None = None

    @property
    def outcome(self) -> str:
        return "duplicate" if self.duplicate_of else self.parsed.outcome


class CommitFailed(Exception):
    """The transaction did not commit: nothing of the batch was recorded.

    `transient` failures (a full disk, an I/O error, a database that must be reopened) are the
    run's problem, not the file's: the file is retried next run. Others (the rows cannot be
    stored as they are) would fail again on every run; the caller records the file as rejected.
    """

    def __init__(self, message: str, transient: bool = True):
        super().__init__(message)
        self.transient = transient


_TRANSIENT = (OSError, MemoryError, duckdb.IOException, duckdb.FatalException, duckdb.InterruptException,
              duckdb.OutOfMemoryException, duckdb.ConnectionException, duckdb.PermissionException,
              duckdb.TransactionException, duckdb.ResourceInUseException)


def _is_transient(exc: BaseException) -> bool:
    text = str(exc).lower()
    return isinstance(exc, _TRANSIENT) or any(w in text for w in ("no space", "disk", "file too large", "i/o error", "invalidated"))


_FILE_SCHEMA = {
    "file_id": pl.Int64, "path": pl.String, "file_name": pl.String, "sha256": pl.String, "source": pl.String,
    "submitter": pl.String, "submitter_name": pl.String, "period": pl.String, "outcome": pl.String,
    "outcome_label": pl.String, "message": pl.String, "sheets": pl.String, "rows_read": pl.Int64,
    "rows_loaded": pl.Int64, "rows_rejected": pl.Int64, "dropped_columns": pl.String, "loaded_at": pl.Datetime("us"),
    "superseded_by": pl.Int64,
}


class Journal:
    """The committed state of raw.ingest_files, and the one way to add to it."""

    def __init__(self, con: duckdb.DuckDBPyConnection, warehouse: Path | None = None):
        self.con = con
        self.warehouse = warehouse
        rows = con.execute("select path, sha256, outcome, source, submitter, period from raw.ingest_files order by file_id").fetchall()
        self.final: set[tuple[str, str]] = {(r[0], r[1]) for r in rows}
        self.loaded: dict[str, str] = {}
        self.keys: set[tuple] = set()  # (source, submitter, period) of every loaded periodic file
        for path, sha, outcome, source, submitter, period in rows:
            if outcome in LOADED:
                self.loaded.setdefault(sha, path)
                self.keys.add((source, submitter, period))
        self.next_id: int | None = None  # the journal has one writer (the run lock): ids are counted here

    def is_final(self, rel: str, sha: str) -> bool:
        return (rel, sha) in self.final

    def original_of(self, sha: str, rel: str) -> str | None:
        """The committed, loaded file these bytes duplicate, if any (never the file itself)."""
        path = self.loaded.get(sha)
        return path if path is not None and path != rel else None

    def commit(self, decisions: list[Decision]) -> list[FileOutcome]:
        """Record the decisions in one transaction; CommitFailed leaves the journal as it was."""
        for d in decisions:
            _check_identity(d)
        loaded_at = office_time.wall_clock()  # 入库时间 on the quality page: the office's clock
        con = self.con
        try:
            con.execute("begin transaction")
            if self.next_id is None:
                self.next_id = int(con.execute("select coalesce(max(file_id), 0) + 1 from raw.ingest_files").fetchall()[0][0])
            ids = list(range(self.next_id, self.next_id + len(decisions)))
            rows = _file_rows(decisions, ids, loaded_at)
            if len(rows) == 1:
                con.execute(f"insert into raw.ingest_files ({', '.join(_FILE_SCHEMA)}) values ({', '.join('?' * len(_FILE_SCHEMA))})",
                            list(rows[0]))
            else:  # many parameters bind slowly; a group's rows go in as one Arrow table
                con.register("_files", pl.DataFrame(rows, schema=_FILE_SCHEMA, orient="row").to_arrow())
                con.execute(f"insert into raw.ingest_files ({', '.join(_FILE_SCHEMA)}) select {', '.join(_FILE_SCHEMA)} from _files")
                con.unregister("_files")
            rejects = _reject_rows(decisions, ids)
            if rejects.height:
                con.register("_rejects", rejects.to_arrow())
                con.execute('insert into raw.ingest_rejects by name select file_id, file, sheet, "row", "column", value, reason from _rejects')
            for table, frame in _data_rows(decisions, ids, loaded_at).items():
                present = [c for c in _table_columns(con, table) if c in frame.columns]
                con.register("_rows", frame.select(present).to_arrow())
                con.execute(f"insert into raw.{table} by name select * from _rows")
                con.unregister("_rows")
            self._supersede(ids, decisions)
            con.execute("commit")
        except Exception as exc:
            self.next_id = None
            self._abort()
            raise CommitFailed(_commit_problem(exc), _is_transient(exc)) from exc
        finally:
            for view in ("_rejects", "_files", "_rows"):
                with suppress(Exception):  # the connection may be gone after a failed commit
                    con.unregister(view)
        self.next_id += len(decisions)
        outcomes = []
        for d, file_id in zip(decisions, ids, strict=True):
            p = d.parsed
            self.final.add((p.rel, p.sha256))
            if d.outcome in LOADED:
                self.loaded.setdefault(p.sha256, p.rel)
                if p.source not in REFERENCE_SOURCES:
                    self.keys.add((p.source, p.submitter, p.period))
            outcomes.append(_outcome(d, file_id))
        return outcomes

    def _supersede(self, ids: list[int], decisions: list[Decision]) -> None:
        """A corrected file replaces the earlier one for the same source, submitter and period.

        Each current file is superseded by the next loaded file of its key, which is what loading
        the batch's files one after another would do. Reference data (regions, departments, tasks)
        is not replaced file by file: a later row for the same code wins, so a supplementary task
        list adds to the catalogue.
        """
        new = [(i, (d.parsed.source, d.parsed.submitter, d.parsed.period)) for i, d in zip(ids, decisions, strict=True)
               if d.outcome in LOADED and d.parsed.source not in REFERENCE_SOURCES]
        keys = [k for _, k in new]
        if not any(k in self.keys for k in keys) and len(set(keys)) == len(keys):
            return  # nothing loaded before for these keys: nothing to supersede
        new = [i for i, _ in new]
        self.con.execute(
            f"""update raw.ingest_files f set superseded_by = n.next_id
                from (
                    select old.file_id, min(nf.file_id) as next_id
                    from raw.ingest_files old
                    join raw.ingest_files nf
                      on nf.source = old.source and nf.submitter is not distinct from old.submitter
                     and nf.period is not distinct from old.period and nf.file_id > old.file_id
                    where nf.file_id in ({", ".join(map(str, new))})
                      and old.superseded_by is null and old.outcome in {LOADED}
                    group by old.file_id
                ) n
                where f.file_id = n.file_id"""
        )

    def _abort(self) -> None:
        with suppress(Exception):  # no transaction left, or the database was invalidated
            self.con.execute("rollback")
        try:
            self.con.execute("select 1").fetchall()
        except Exception:
            # DuckDB invalidates a database after a failed write; a fresh connection recovers
            # the committed state from its write-ahead log.
            if self.warehouse is None:
                raise
            with suppress(Exception):
                self.con.close()
            self.con = connect(self.warehouse)


def _commit_problem(exc: Exception) -> str:
    text = str(exc).lower()
    if "no space" in text or "file too large" in text or "disk" in text:
        return "磁盘空间不足，本文件未入库（已全部回退）；清理磁盘后重新运行即可"
    if "i/o" in text or "io error" in text or "ioexception" in type(exc).__name__.lower():
        return "写入数据仓库时发生读写错误，本文件未入库（已全部回退）；排除故障后重新运行即可"
    return "写入数据仓库失败，本文件未入库（已全部回退）；详情已记入系统日志"


def _check_identity(d: Decision) -> None:
    """Rows read = rows loaded + rows rejected, for the rows about to be written."""
    p = d.parsed
    if d.duplicate_of or p.error is not None:
        return
    loaded = sum(t.height for name, t in p.tables.items() if name != "survey_answers")
    if loaded != p.rows_loaded:
        raise CommitFailed(f"行数核对失败：读入 {p.rows_read} 行，入库 {loaded} 行，拒收 {p.rows_rejected} 行（系统错误，已记入日志）",
                           transient=False)


def _message(d: Decision) -> str | None:
    p = d.parsed
    if d.duplicate_of:
        return f"与已报送文件 {d.duplicate_of} 内容完全相同，未重复入库"
    if p.error is not None:
        return p.error
    return "；".join(p.notes) or None


def _counts(d: Decision) -> tuple[int, int, int]:
    p = d.parsed
    if d.duplicate_of:
        return (0, 0, 0)
    if p.error is not None:
        return (p.rows_read, 0, p.rows_read)
    return (p.rows_read, p.rows_loaded, p.rows_rejected)


def _file_rows(decisions: list[Decision], ids: list[int], loaded_at: datetime) -> list[tuple]:
    rows = []
    for d, file_id in zip(decisions, ids, strict=True):
        p = d.parsed
        read, loaded, rejected = _counts(d)
        rows.append({
            "file_id": file_id, "path": p.rel, "file_name": p.rel.rsplit("/", 1)[-1], "sha256": p.sha256,
            "source": p.source, "submitter": p.submitter, "submitter_name": p.submitter_name, "period": p.period,
            "outcome": d.outcome, "outcome_label": label(d.outcome), "message": _message(d),
            "sheets": ",".join(p.sheets) or None if not d.duplicate_of else None,
            "rows_read": read, "rows_loaded": loaded, "rows_rejected": rejected,
            "dropped_columns": ",".join(p.dropped_columns) or None if not d.duplicate_of else None,
            "loaded_at": loaded_at, "superseded_by": None,
        })
    return [tuple(r[c] for c in _FILE_SCHEMA) for r in rows]


_REJECT_COLUMNS = {"file_id": pl.Int64, "file": pl.String, "sheet": pl.String, "row": pl.Int64,
                   "column": pl.String, "value": pl.String, "reason": pl.String}


def _reject_rows(decisions: list[Decision], ids: list[int]) -> pl.DataFrame:
    frames, file_ids, files = [], [], []
    for d, file_id in zip(decisions, ids, strict=True):
        p = d.parsed
        if d.duplicate_of:
            continue
        if p.error is not None:
            frame = pl.DataFrame([{"sheet": None, "row": None, "column": None, "value": None, "reason": p.error}],
                                 schema={k: v for k, v in _REJECT_COLUMNS.items() if k not in ("file_id", "file")})
        elif p.rejects.height:
            frame = p.rejects
        else:
            continue
        frames.append(frame.select("sheet", "row", "column", "value", "reason"))
        file_ids.extend([file_id] * frame.height)
        files.extend([p.rel] * frame.height)
    if not frames:
        return pl.DataFrame(schema=_REJECT_COLUMNS)
    return (pl.concat(frames, how="vertical_relaxed")
            .with_columns(pl.Series("file_id", file_ids, dtype=pl.Int64), pl.Series("file", files, dtype=pl.String))
            .select(list(_REJECT_COLUMNS)).cast(_REJECT_COLUMNS))


def _data_rows(decisions: list[Decision], ids: list[int], loaded_at: datetime) -> dict[str, pl.DataFrame]:
    tables: dict[str, list[pl.DataFrame]] = {}
    file_ids: dict[str, list[int]] = {}
    for d, file_id in zip(decisions, ids, strict=True):
        p = d.parsed
        if d.duplicate_of or p.error is not None:
            continue
        for table, frame in p.tables.items():
            if frame.height == 0:
                continue
            tables.setdefault(table, []).append(frame)
            file_ids.setdefault(table, []).extend([file_id] * frame.height)
    # One operation per table for the whole group, not one per file.
    return {t: pl.concat(fs, how="diagonal_relaxed").with_columns(
                pl.Series("file_id", file_ids[t], dtype=pl.Int64),
                pl.col("_row").alias("row_number"),
                pl.lit(loaded_at).alias("loaded_at"))
            for t, fs in tables.items()}


def _outcome(d: Decision, file_id: int) -> FileOutcome:
    p = d.parsed
    read, loaded, rejected = _counts(d)
    message = _message(d)
    if d.outcome == "accepted_with_rejects" and p.rejects.height:
        # The clerk's first question is "what was wrong": show the first reason inline.
        first = p.rejects.row(0, named=True)["reason"]
        message = "；".join(m for m in (f"例：{first}", message) if m)
    return FileOutcome(p.rel, p.source, d.outcome, p.submitter_name, p.period, read, loaded, rejected, message)


def record_duplicate(con: duckdb.DuckDBPyConnection, parsed: ParsedFile, first_path: str) -> int:
    """Record `parsed` as a duplicate of the committed file `first_path` (one transaction)."""
    Journal(con).commit([Decision(parsed, duplicate_of=first_path)])
    return int(con.execute("select max(file_id) from raw.ingest_files").fetchall()[0][0])


def load_file(con: duckdb.DuckDBPyConnection, parsed: ParsedFile) -> int:
    """Load one parsed file in one transaction; returns its file id."""
    Journal(con).commit([Decision(parsed)])
    return int(con.execute("select max(file_id) from raw.ingest_files").fetchall()[0][0])
