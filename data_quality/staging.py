"""The staging views the raw-layer checks read (dbt's stg_raw__* models: the current files' rows, typed).

Great Expectations checks the submissions through the same views dbt builds on, so "which rows are
current" (a superseded or rejected file's rows are history) and every rename have one home: the dbt
staging models. The checks run before the quarter's first `dbt build`, so the views may not exist yet;
they are views (no data is copied), so making them is cheap:

- `refresh_views(warehouse)` runs `dbt run --select staging` (the orchestrator does this before the
  raw checks, so the checks always read the current project's views);
- `ensure_views(con)`, called by `validate_raw`, makes them only when missing: with dbt the first time
  in a process, afterwards with the view definitions dbt made then (the same SQL, without starting dbt
  again for every warehouse a process checks);
- `prepared_views()`: the views' SQL as dbt makes it, written by `qinglian prepare` beside the manifest
  (orchestration.prepare runs `dbt run --select staging` once on an empty warehouse when the project
  changes) and valid while the project's staging fingerprint is the one it was made from: a run makes
  the views from it without starting dbt (a dbt start costs 8–17 s on this machine);
- `views_current(con)` / `record_views(con)`: the quarterly job's dbt build makes the same views again,
  so the next run's ingest step need not start dbt for them (a dbt start is seconds of fixed cost).
  After making them, the stamp table staging.qinglian_views_made records a fingerprint of the project
  files the views come from and of the views' SQL as DuckDB stores it; the views are current while both
  still match (a build from the same project recreates identical SQL; any other change refreshes them).
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
from pathlib import Path

import duckdb

from qinglian.errors import UserError

log = logging.getLogger(__name__)

SCHEMA = "staging"
# raw table -> its staging view
VIEWS: dict[str, str] = {t: f"stg_raw__{t}" for t in (
    "ingest_files", "regions", "departments", "tasks", "task_progress", "units", "inspections",
    "survey_responses", "survey_answers", "cases")}

STAMP = f"{SCHEMA}.qinglian_views_made"
_DDL: dict[str, str] = {}  # view name -> CREATE VIEW statement, as dbt made it in this process


def prepared_file(project_dir: Path | None = None) -> Path:
    from qinglian.settings import DBT_PROJECT_DIR

    return Path(project_dir or DBT_PROJECT_DIR) / "target" / "staging_views.json"


class StagingError(UserError):
    """The staging views could not be made (details in the log file)."""


def view(table: str) -> str:
    """The staging view of a raw table: staging.stg_raw__units."""
    return f"{SCHEMA}.{VIEWS[table]}"


def _view_sql(con: duckdb.DuckDBPyConnection) -> dict[str, str]:
    """Every view of the staging schema in the warehouse behind `con`, with its SQL as DuckDB stores it."""
    return dict(con.execute("select view_name, sql from duckdb_views() where schema_name = ? "
                            "and database_name = current_database()", [SCHEMA]).fetchall())


def _present(con: duckdb.DuckDBPyConnection) -> set[str]:
    return set(_view_sql(con))


def _database_path(con: duckdb.DuckDBPyConnection) -> Path:
    row = con.execute("select path from duckdb_databases() where database_name = current_database()").fetchone()
    if not row or not row[0]:
        raise StagingError("数据质量检查需要 staging 视图，但当前连接不是一个数据仓库文件")
    return Path(row[0])


def refresh_views(warehouse: Path, target_path: Path | None = None) -> None:
    """`dbt run --select staging` on `warehouse` (views only: seconds). Raises StagingError when dbt cannot run."""
    from qinglian.build import BuildError, invoke_dbt

    if target_path is None:  # never dbt_project/target: the orchestrator reads the prepared manifest there
        import tempfile

        target_path = Path(tempfile.mkdtemp(prefix="qinglian-staging-"))
    try:
        result = invoke_dbt(warehouse, ["run", "--select", SCHEMA], target_path=target_path)
    except BuildError as exc:
        raise StagingError("无法建立 staging 视图（dbt 无法运行，详情见日志）") from exc
    failed = [str(getattr(getattr(r, "node", None), "name", "?")) for r in (getattr(result.result, "results", None) or [])
              if str(getattr(r, "status", "")) not in ("success", "skipped")]
    if result.exception is not None or failed:
        # A raw table missing a contract column leaves its view unmade; its schema checks say why.
        log.warning("staging 视图未能全部建立：%s %s", failed, result.exception)


def _remember(con: duckdb.DuckDBPyConnection) -> None:
    for name, sql in _view_sql(con).items():
        if name in VIEWS.values():
            _DDL[name] = sql


def prepared_views(project_dir: Path | None = None) -> dict[str, str] | None:
    """The staging views' SQL `qinglian prepare` saved, or None when it is missing or was made from
    other staging SQL than the project's now."""
    try:
        saved = json.loads(prepared_file(project_dir).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    views = saved.get("views") if isinstance(saved, dict) else None
    if saved.get("project_hash") != project_fingerprint(project_dir) or not isinstance(views, dict) \
            or set(views) != set(VIEWS.values()):
        return None
    return views


def save_prepared(con: duckdb.DuckDBPyConnection, project_dir: Path | None = None) -> bool:
    """After dbt made the staging views in `con`'s warehouse: save their SQL for prepared_views()
    (atomically: a reader sees the old file or the new one). False when a view is missing."""
    rows = _view_sql(con)
    if not set(VIEWS.values()) <= set(rows):
        return False
    target = prepared_file(project_dir)
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(f".{target.name}.{os.getpid()}.tmp")
    tmp.write_text(json.dumps({"project_hash": project_fingerprint(project_dir),
                               "views": {n: rows[n] for n in VIEWS.values()}}, ensure_ascii=False, indent=1),
                   encoding="utf-8")
    os.replace(tmp, target)
    return True


def make_views(con: duckdb.DuckDBPyConnection, ddl: dict[str, str], names: set[str] | None = None) -> None:
    """(Re)make the staging views `names` (default: all of `ddl`) from their SQL, then stamp them."""
    con.execute(f"create schema if not exists {SCHEMA}")
    for name in sorted(names if names is not None else ddl):
        if name not in ddl:
            continue
        try:
            con.execute(ddl[name].replace("CREATE VIEW", "CREATE OR REPLACE VIEW", 1))
        except duckdb.Error as exc:  # a raw table without a contract column: its schema checks fail instead
            log.warning("staging 视图 %s 未能建立：%s", name, exc)
    record_views(con)


def ensure_views(con: duckdb.DuckDBPyConnection, tables: list[str] | None = None) -> None:
    """Make the staging views of `tables` (default: all) that the warehouse behind `con` lacks."""
    wanted = {VIEWS[t] for t in (tables or VIEWS)} | {VIEWS["ingest_files"]}
    missing = wanted - _present(con)
    if not missing:
        return
    if not missing <= set(_DDL):
        _DDL.update(prepared_views() or {})
    if not missing <= set(_DDL):
        refresh_views(_database_path(con))
        _remember(con)
        missing -= _present(con)
    make_views(con, _DDL, missing)


def project_fingerprint(project_dir: Path | None = None) -> str:
    """A hash of every project file the staging views' SQL comes from: the staging models and their
    YAML (sources, configs), the macros and dbt_project.yml."""
    from qinglian.settings import DBT_PROJECT_DIR

    root = Path(project_dir or DBT_PROJECT_DIR)
    files = [root / "dbt_project.yml", *sorted((root / "models" / SCHEMA).rglob("*")), *sorted((root / "macros").rglob("*"))]
    h = hashlib.sha256()
    for f in files:
        if f.is_file():
            h.update(str(f.relative_to(root)).encode() + b"\0" + f.read_bytes() + b"\0")
    return h.hexdigest()


def _views_fingerprint(con: duckdb.DuckDBPyConnection) -> str | None:
    """A hash of the staging views' SQL as stored in the warehouse; None when any view is missing."""
    rows = _view_sql(con)
    if not set(VIEWS.values()) <= set(rows):
        return None
    h = hashlib.sha256()
    for name in sorted(VIEWS.values()):
        h.update(name.encode() + b"\0" + rows[name].encode() + b"\0")
    return h.hexdigest()


def views_current(con: duckdb.DuckDBPyConnection) -> bool:
    """Every staging view exists and is what the current project makes (see the module docstring)."""
    views = _views_fingerprint(con)
    if views is None:
        return False
    try:
        row = con.execute(f"select project_hash, views_hash from {STAMP}").fetchone()
    except duckdb.CatalogException:  # never recorded
        return False
    return row == (project_fingerprint(), views)


def record_views(con: duckdb.DuckDBPyConnection) -> None:
    """After the current project made the views: stamp them (nothing when a view is missing)."""
    views = _views_fingerprint(con)
    if views is None:
        return
    con.execute(f"create schema if not exists {SCHEMA}")
    con.execute(f"create or replace table {STAMP} (project_hash varchar, views_hash varchar)")
    con.execute(f"insert into {STAMP} values (?, ?)", [project_fingerprint(), views])
