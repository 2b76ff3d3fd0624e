"""Write-audit-publish: freeze the quarter's ranking, then swap in a verified serving copy.

The dashboards never open the live warehouse (DuckDB: one writer, no readers while it
writes). They read a copy that is replaced with os.replace only after every blocking check
passed, so a reader sees either the old quarter or the new one, never half of each.

The publish log tells the truth. A publish is recorded — its log row and its frozen ranking
versions — first in the new copy (the dashboards read the log from the copy they show) and in the
warehouse only after the swap succeeded. A copy that fails (disk full, a kill) leaves nothing
behind: its temporary file is removed at once, or by the next publish if the process was killed.
The warehouse then says nothing was published, which is true, and a re-run publishes once.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import duckdb

from qinglian import office_time

log = logging.getLogger(__name__)

OPS_DDL = """
create schema if not exists ops;
create table if not exists ops.publish_log (
    publish_id bigint, published_at timestamp, quarter varchar, rules_version varchar,
    checks_passed boolean, status varchar, row_counts varchar, serving_path varchar, message varchar
);
create table if not exists ops.scorecard_versions (
    quarter varchar, version integer, frozen_at timestamp, rules_version varchar, changes integer
);
create table if not exists ops.scorecard_changes (
    quarter varchar, version integer, body_group varchar, body_code varchar, field varchar,
    old_value varchar, new_value varchar
);
"""

# What a ranking is: a change in any of these is a new published version.
FROZEN_FIELDS = ("composite_score", "rank", "flag", "veto", "talk_required")
PUBLISHED_TABLES = (
    "kpi_task_progress", "kpi_unit_coverage", "kpi_rectification", "kpi_satisfaction", "kpi_cases",
    "scorecard_quarterly", "assessment_annual",
)
TEMP_SUFFIX = ".tmp"


class PublishBlocked(Exception):
    """A blocking check failed; the serving copy was left as it was."""


class PublishFailed(Exception):
    """The new copy could not be made or swapped in; the serving copy was left as it was."""


@dataclass
class PublishResult:
    quarter: str
    publish_id: int
    row_counts: dict[str, int]
    new_versions: dict[str, int]
    serving: Path
    warning: str | None = None


@dataclass(frozen=True)
class _Plan:
    """Everything a publish records, fixed before any copy is made, so the same record can be
    written to the new copy and, after the swap, to the warehouse."""

    publish_id: int
    at: datetime
    quarter: str
    rules: str | None
    counts: dict[str, int]
    serving: Path


def ensure_ops(con: duckdb.DuckDBPyConnection) -> None:
    con.execute(OPS_DDL)


def blocking_failures(con: duckdb.DuckDBPyConnection, run_id: str) -> list[tuple[str, str, str]]:
    exists = con.execute("select count(*) from information_schema.tables where table_schema = 'ops' and table_name = 'dq_results'").fetchall()[0][0]
    if not exists:
        return []
    return con.execute(
        "select asset, expectation, coalesce(description_zh, '') from ops.dq_results where run_id = ? and severity = 'blocking' and not success",
        [run_id],
    ).fetchall()


def freeze_scorecards(con: duckdb.DuckDBPyConnection, up_to: str, now: datetime | None = None) -> dict[str, int]:
    """Snapshot each quarter's ranking once; a recomputation that differs becomes a new version.

    Deterministic for a given database and `now`: run on the new copy and then on the warehouse it
    was copied from, it records the same versions in both. Returns the quarters that got a new
    version and its number.
    """
    now = now or office_time.wall_clock()
    con.execute("create table if not exists ops.scorecard_frozen as select 0 as version, * from marts.scorecard_quarterly limit 0")
    quarters = [r[0] for r in con.execute("select distinct quarter from marts.scorecard_quarterly where quarter <= ? order by 1", [up_to]).fetchall()]
    new_versions: dict[str, int] = {}
    for quarter in quarters:
        latest = con.execute("select max(version) from ops.scorecard_versions where quarter = ?", [quarter]).fetchall()[0][0]
        changes: list[tuple] = []
        if latest is not None:
            for field in FROZEN_FIELDS:
                changes += con.execute(
                    f"""select coalesce(n.body_group, o.body_group), coalesce(n.body_code, o.body_code), ?,
                               cast(o.{field} as varchar), cast(n.{field} as varchar)
                        from (select * from ops.scorecard_frozen where quarter = ? and version = ?) o
                        full join (select * from marts.scorecard_quarterly where quarter = ?) n
                          on o.body_group = n.body_group and o.body_code = n.body_code
                        where o.{field} is distinct from n.{field}
                        order by 1, 2""",
                    [field, quarter, latest, quarter],
                ).fetchall()
            if not changes:
                continue
        version = (latest or 0) + 1
        con.execute("insert into ops.scorecard_frozen select ? as version, * from marts.scorecard_quarterly where quarter = ?", [version, quarter])
        rules = con.execute("select max(rules_version) from marts.scorecard_quarterly where quarter = ?", [quarter]).fetchall()[0][0]
        con.execute("insert into ops.scorecard_versions values (?, ?, ?, ?, ?)", [quarter, version, now, rules, len(changes)])
        for group, code, field, old, new in changes:
            con.execute("insert into ops.scorecard_changes values (?, ?, ?, ?, ?, ?, ?)", [quarter, version, group, code, field, old, new])
        new_versions[quarter] = version
    return new_versions


def _row_counts(con: duckdb.DuckDBPyConnection) -> dict[str, int]:
    counts = {}
    for table in PUBLISHED_TABLES:
        counts[table] = int(con.execute(f"select count(*) from marts.{table}").fetchall()[0][0])
    return counts


def _log(con: duckdb.DuckDBPyConnection, quarter: str, serving: Path, status: str, message: str) -> None:
    """A publish that did not happen, and why (blocked by a check, or failed)."""
    con.execute(
        "insert into ops.publish_log values ((select coalesce(max(publish_id), 0) + 1 from ops.publish_log), ?, ?, null, false, ?, null, ?, ?)",
        [office_time.wall_clock(), quarter, status, str(serving), message],
    )


def record_publish(con: duckdb.DuckDBPyConnection, plan: _Plan) -> dict[str, int]:
    """Freeze the rankings and log the publish, in one transaction of `con`'s database."""
    con.execute("begin transaction")
    try:
        ensure_ops(con)
        new_versions = freeze_scorecards(con, plan.quarter, plan.at)
        con.execute(
            "insert into ops.publish_log values (?, ?, ?, ?, true, 'published', ?, ?, ?)",
            [plan.publish_id, plan.at, plan.quarter, plan.rules, json.dumps(plan.counts, ensure_ascii=False), str(plan.serving),
             json.dumps({"new_versions": new_versions}, ensure_ascii=False)],
        )
        con.execute("commit")
    except BaseException:
        con.execute("rollback")
        raise
    return new_versions


def publish(warehouse: Path, serving: Path, quarter: str, run_id: str) -> PublishResult:
    """Audit the run's checks, make and verify the new copy with its record, swap it in, then record
    the publish in the warehouse."""
    warehouse, serving = Path(warehouse), Path(serving)
    remove_stale_temps(serving)
    con = duckdb.connect(str(warehouse))
    try:
        ensure_ops(con)
        failures = blocking_failures(con, run_id)
        if failures:
            details = "；".join(f"{a} {e} {d}".strip() for a, e, d in failures[:5])
            _log(con, quarter, serving, "blocked", details)
            raise PublishBlocked(f"有 {len(failures)} 项阻断性数据质量检查未通过，未发布：{details}")
        counts = _row_counts(con)
        if not counts["scorecard_quarterly"]:
            _log(con, quarter, serving, "blocked", "排名表为空")
            raise PublishBlocked("排名表为空，未发布")
        rules = con.execute("select max(rules_version) from marts.scorecard_quarterly where quarter <= ?", [quarter]).fetchall()[0][0]
        publish_id = int(con.execute("select coalesce(max(publish_id), 0) + 1 from ops.publish_log").fetchall()[0][0])
        plan = _Plan(publish_id, office_time.wall_clock(), quarter, rules, counts, serving)  # 发布时间: the office's clock
        con.execute("checkpoint")  # the copy below must hold everything committed so far
    finally:
        con.close()
    try:
        new_versions = swap_in(warehouse, serving, plan)
    except PublishFailed as exc:
        _log_failure(warehouse, quarter, serving, str(exc))
        raise
    warning = None
    try:
        with duckdb.connect(str(warehouse)) as con:
            record_publish(con, plan)
    except Exception:  # the dashboards already show the new copy, which carries the record
        log.exception("发布记录写入数据仓库失败")
        warning = "驾驶舱数据已发布，但发布记录未能写入数据仓库（详情见日志）；下次运行会重新发布并补记"
    backup = _backup(warehouse, plan)
    if backup is not None:
        warning = f"{warning}；{backup}" if warning else backup
    return PublishResult(quarter, plan.publish_id, counts, new_versions, serving, warning)


def _backup(warehouse: Path, plan: _Plan) -> str | None:
    """A consistent backup of the warehouse as published (qinglian.backup: checkpoint and copy under the
    run lock, which the publish step holds, so no run writes meanwhile). Returns a warning, or None."""
    from qinglian.backup import take_backup

    try:
        path = take_backup(warehouse, label=f"publish{plan.publish_id}-{plan.quarter}")
    except Exception as exc:  # the publish stands; the backup is retried by the next publish
        log.exception("发布后备份数据仓库失败")
        return f"驾驶舱数据已发布，但数据仓库备份未成功（{exc}）；请运行 qinglian backup"
    log.info("发布后已备份数据仓库 → %s", path)
    return None


def _log_failure(warehouse: Path, quarter: str, serving: Path, message: str) -> None:
    try:
        with duckdb.connect(str(warehouse)) as con:
            _log(con, quarter, serving, "failed", message)
    except Exception:  # a full disk may refuse even this; the run's own failure says it
        log.warning("发布失败记录未能写入", exc_info=True)


# What readers need, and nothing else: every reader of the serving copy (dashboards, analysts' SQL,
# exports) sees the marts, the rules they were computed with, the publish and check logs, and the
# ingest outcomes and rejects that trace figures back to files (lineage of the rows lives in the marts'
# file/sheet/row columns). The raw reference data (regions, departments, tasks: no personal data) is
# published too, because the upload portal's dry run resolves names against it in the serving copy
# (qinglian.submissions.intake). Other raw rows, staging and intermediate stay in the warehouse.
PUBLISHED_SCHEMAS = ("marts", "rules", "ops")
PUBLISHED_RAW_TABLES = ("ingest_files", "ingest_rejects", "regions", "departments", "tasks")


def published_tables(con: duckdb.DuckDBPyConnection, database: str) -> list[tuple[str, str]]:
    rows = con.execute("select schema_name, table_name from duckdb_tables() where database_name = ? order by 1, 2",
                       [database]).fetchall()
    return [(s, t) for s, t in rows if s in PUBLISHED_SCHEMAS or (s == "raw" and t in PUBLISHED_RAW_TABLES)]


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def make_serving_file(warehouse: Path, target: Path) -> None:
    """Write the file the dashboards will read: the published tables of the (checkpointed) warehouse,
    with their descriptions (DuckDB comments), in a new database."""
    con = duckdb.connect(str(target))
    try:
        con.execute(f"attach {_sql_text(str(warehouse))} as src (read_only)")
        for schema, table in published_tables(con, "src"):
            s, t = _quote(schema), _quote(table)
            con.execute(f"create schema if not exists {s}")
            con.execute(f"create table {s}.{t} as select * from src.{s}.{t}")
            comment = con.execute("select comment from duckdb_tables() where database_name = 'src' and schema_name = ? and table_name = ?",
                                  [schema, table]).fetchall()[0][0]
            if comment:
                con.execute(f"comment on table {s}.{t} is {_sql_text(comment)}")
            for column, text in con.execute(
                    "select column_name, comment from duckdb_columns() where database_name = 'src' and schema_name = ? "
                    "and table_name = ? and comment is not null", [schema, table]).fetchall():
                con.execute(f"comment on column {s}.{t}.{_quote(column)} is {_sql_text(text)}")
        con.execute("detach src")
        con.execute("checkpoint")
    finally:
        con.close()


def _sql_text(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _temp_name(serving: Path, tag: str) -> Path:
    return serving.with_name(f".{serving.name}.{tag}.{os.getpid()}{TEMP_SUFFIX}")


def _remove(path: Path) -> None:
    for p in (path, path.with_name(path.name + ".wal")):
        try:
            p.unlink(missing_ok=True)
        except OSError:
            log.warning("临时文件 %s 未能删除", p, exc_info=True)


def remove_stale_temps(serving: Path) -> list[Path]:
    """Temporary copies left by a publish that was killed (the run lock guarantees none is in use)."""
    removed = []
    if not serving.parent.is_dir():
        return removed
    for p in serving.parent.glob(f".{serving.name}.*{TEMP_SUFFIX}*"):
        try:
            pid = int(p.name.removesuffix(".wal").removesuffix(TEMP_SUFFIX).rsplit(".", 1)[-1])
        except ValueError:
            pid = -1
        if pid == os.getpid() or not _alive(pid):
            _remove(p)
            removed.append(p)
    return removed


def _alive(pid: int) -> bool:
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def swap_in(warehouse: Path, serving: Path, plan: _Plan | dict[str, int]) -> dict[str, int]:
    """Make the new copy, record the publish in it, verify it, keep the previous copy for rollback,
    then os.replace. Any failure removes the temporary files and leaves `serving` untouched."""
    if not isinstance(plan, _Plan):  # the older signature: expected row counts only
        plan = _Plan(0, office_time.wall_clock(), "", None, plan, serving)
    serving.parent.mkdir(parents=True, exist_ok=True)
    tmp = _temp_name(serving, "new")
    try:
        make_serving_file(warehouse, tmp)
        with duckdb.connect(str(tmp)) as copy:
            new_versions = record_publish(copy, plan) if plan.publish_id else {}
            copy.execute("checkpoint")
        with duckdb.connect(str(tmp), read_only=True) as check:
            for table, n in plan.counts.items():
                got = check.execute(f"select count(*) from marts.{table}").fetchall()[0][0]
                if got != n:
                    raise PublishFailed(f"发布副本校验失败：marts.{table} 应有 {n} 行，实际 {got} 行")
            if plan.publish_id and not check.execute("select count(*) from ops.publish_log where publish_id = ? and status = 'published'",
                                                     [plan.publish_id]).fetchall()[0][0]:
                raise PublishFailed("发布副本校验失败：副本中缺少本次发布记录")
        _keep_previous(serving)
        os.replace(tmp, serving)
    except PublishFailed:
        _remove(tmp)
        raise
    except (OSError, duckdb.Error) as exc:
        _remove(tmp)
        raise PublishFailed(_copy_problem(exc)) from exc
    except BaseException:
        _remove(tmp)
        raise
    return new_versions


DEFAULT_SERVING_KEEP = 4  # a year of quarterly publishes; QINGLIAN_SERVING_KEEP sets it


def serving_keep() -> int:
    from qinglian.settings import positive_int_env

    return positive_int_env("QINGLIAN_SERVING_KEEP", DEFAULT_SERVING_KEEP, "保留的历史发布副本份数")


def kept_dir(serving: Path) -> Path:
    """Where the previous serving copies are kept: previous/ beside the serving copy."""
    return serving.parent / "previous"


def kept_copies(serving: Path) -> list[Path]:
    """The kept previous serving copies, newest first."""
    folder = kept_dir(serving)
    if not folder.is_dir():
        return []
    return sorted((p for p in folder.glob(f"{serving.stem}-*{serving.suffix}") if not p.name.startswith(".")), reverse=True)


def _keep_previous(serving: Path) -> None:
    """The copy being replaced is kept: as previous_<name> (the one rollback() puts back) and in previous/
    under its publish time, the newest QINGLIAN_SERVING_KEEP of them. Hard links (no space, never
    partial: the replaced file is not written again), or copies through a temporary file where links
    are not possible."""
    if not serving.exists():
        return
    keep = serving_keep()
    previous = serving.with_name("previous_" + serving.name)
    stamp = datetime.fromtimestamp(serving.stat().st_mtime, office_time.OFFICE_TZ).strftime("%Y%m%d-%H%M%S-%f")
    kept = kept_dir(serving) / f"{serving.stem}-{stamp}{serving.suffix}"
    kept.parent.mkdir(parents=True, exist_ok=True)
    for target in (previous, kept):
        tmp = _temp_name(serving, "previous")
        try:
            try:
                os.link(serving, tmp)
            except OSError:
                shutil.copyfile(serving, tmp)
            os.replace(tmp, target)
        finally:
            _remove(tmp)
    for old in kept_copies(serving)[keep:]:
        _remove(old)


def _copy_problem(exc: BaseException) -> str:
    text = str(exc).lower()
    errno_ = getattr(exc, "errno", None)
    if errno_ in (28, 27) or "no space" in text or "file too large" in text:
        return "磁盘空间不足，新的驾驶舱数据未能写入（临时文件已删除）；驾驶舱仍显示上一次发布的数据。请清理磁盘后重新运行"
    return f"新的驾驶舱数据未能写入（{type(exc).__name__}，临时文件已删除）；驾驶舱仍显示上一次发布的数据。详情见日志"


def rollback(serving: Path, copy: Path | None = None) -> bool:
    """Put a previous serving copy back (e.g. after a bad publish noticed by a person): `copy`, one of
    kept_copies(), or else previous_<name>. Atomic: readers see the old file or the whole new one."""
    previous = Path(copy) if copy is not None else serving.with_name("previous_" + serving.name)
    if not previous.exists():
        return False
    tmp = _temp_name(serving, "rollback")
    try:
        shutil.copyfile(previous, tmp)
        os.replace(tmp, serving)
    finally:
        _remove(tmp)
    return True
