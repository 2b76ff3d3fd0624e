"""Write-audit-publish: freeze the quarter's ranking, then swap in a verified serving copy.

The dashboards never open the live warehouse (DuckDB: one writer, no readers while it
writes). They read a copy that is replaced with os.replace only after every blocking check
passed, so a reader sees either the old quarter or the new one, never half of each.
"""

from __future__ import annotations

import json
import os
import shutil
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import duckdb

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


class PublishBlocked(Exception):
    """A blocking check failed; the serving copy was left as it was."""


@dataclass
class PublishResult:
    quarter: str
    publish_id: int
    row_counts: dict[str, int]
    new_versions: dict[str, int]
    serving: Path


def ensure_ops(con: duckdb.DuckDBPyConnection) -> None:
    con.execute(OPS_DDL)


def blocking_failures(con: duckdb.DuckDBPyConnection, run_id: str) -> list[tuple[str, str, str]]:
    exists = con.execute("select count(*) from information_schema.tables where table_schema = 'ops' and table_name = 'dq_results'").fetchone()[0]
    if not exists:
        return []
    return con.execute(
        "select asset, expectation, coalesce(description_zh, '') from ops.dq_results where run_id = ? and severity = 'blocking' and not success",
        [run_id],
    ).fetchall()


def freeze_scorecards(con: duckdb.DuckDBPyConnection, up_to: str) -> dict[str, int]:
    """Snapshot each quarter's ranking once; a recomputation that differs becomes a new version.

    Returns the quarters that got a new version and its number.
    """
    con.execute("create table if not exists ops.scorecard_frozen as select 0 as version, * from marts.scorecard_quarterly limit 0")
    quarters = [r[0] for r in con.execute("select distinct quarter from marts.scorecard_quarterly where quarter <= ? order by 1", [up_to]).fetchall()]
    new_versions: dict[str, int] = {}
    now = datetime.now()
    for quarter in quarters:
        latest = con.execute("select max(version) from ops.scorecard_versions where quarter = ?", [quarter]).fetchone()[0]
        changes: list[tuple] = []
        if latest is not None:
            for field in FROZEN_FIELDS:
                changes += con.execute(
                    f"""select coalesce(n.body_group, o.body_group), coalesce(n.body_code, o.body_code), ?,
                               cast(o.{field} as varchar), cast(n.{field} as varchar)
                        from (select * from ops.scorecard_frozen where quarter = ? and version = ?) o
                        full join (select * from marts.scorecard_quarterly where quarter = ?) n
                          on o.body_group = n.body_group and o.body_code = n.body_code
                        where o.{field} is distinct from n.{field}""",
                    [field, quarter, latest, quarter],
                ).fetchall()
            if not changes:
                continue
        version = (latest or 0) + 1
        con.execute("insert into ops.scorecard_frozen select ? as version, * from marts.scorecard_quarterly where quarter = ?", [version, quarter])
        rules = con.execute("select max(rules_version) from marts.scorecard_quarterly where quarter = ?", [quarter]).fetchone()[0]
        con.execute("insert into ops.scorecard_versions values (?, ?, ?, ?, ?)", [quarter, version, now, rules, len(changes)])
        for group, code, field, old, new in changes:
            con.execute("insert into ops.scorecard_changes values (?, ?, ?, ?, ?, ?, ?)", [quarter, version, group, code, field, old, new])
        new_versions[quarter] = version
    return new_versions


def _row_counts(con: duckdb.DuckDBPyConnection) -> dict[str, int]:
    counts = {}
    for table in PUBLISHED_TABLES:
        counts[table] = int(con.execute(f"select count(*) from marts.{table}").fetchone()[0])
    return counts


def publish(warehouse: Path, serving: Path, quarter: str, run_id: str) -> PublishResult:
    """Audit the run's checks, freeze rankings, then atomically replace the serving copy."""
    con = duckdb.connect(str(warehouse))
    try:
        ensure_ops(con)
        failures = blocking_failures(con, run_id)
        if failures:
            details = "；".join(f"{a} {e} {d}".strip() for a, e, d in failures[:5])
            con.execute(
                "insert into ops.publish_log values ((select coalesce(max(publish_id), 0) + 1 from ops.publish_log), ?, ?, null, false, 'blocked', null, ?, ?)",
                [datetime.now(), quarter, str(serving), details],
            )
            raise PublishBlocked(f"有 {len(failures)} 项阻断性数据质量检查未通过，未发布：{details}")
        new_versions = freeze_scorecards(con, quarter)
        counts = _row_counts(con)
        if not counts["scorecard_quarterly"]:
            raise PublishBlocked("排名表为空，未发布")
        rules = con.execute("select max(rules_version) from marts.scorecard_quarterly where quarter <= ?", [quarter]).fetchone()[0]
        publish_id = int(con.execute("select coalesce(max(publish_id), 0) + 1 from ops.publish_log").fetchone()[0])
        con.execute(
            "insert into ops.publish_log values (?, ?, ?, ?, true, 'published', ?, ?, ?)",
            [publish_id, datetime.now(), quarter, rules, json.dumps(counts, ensure_ascii=False), str(serving),
             json.dumps({"new_versions": new_versions}, ensure_ascii=False)],
        )
        con.execute("checkpoint")
    finally:
        con.close()
    swap_in(warehouse, serving, counts)
    return PublishResult(quarter, publish_id, counts, new_versions, serving)


def swap_in(warehouse: Path, serving: Path, expected: dict[str, int]) -> None:
    """Copy, verify the copy, keep the previous one for rollback, then os.replace."""
    serving.parent.mkdir(parents=True, exist_ok=True)
    tmp = serving.with_name(f".{serving.name}.{os.getpid()}.tmp")
    shutil.copyfile(warehouse, tmp)
    try:
        with duckdb.connect(str(tmp), read_only=True) as check:
            for table, n in expected.items():
                got = check.execute(f"select count(*) from marts.{table}").fetchone()[0]
                if got != n:
                    raise PublishBlocked(f"发布副本校验失败：marts.{table} 应有 {n} 行，实际 {got} 行")
        if serving.exists():
            shutil.copyfile(serving, serving.with_name("previous_" + serving.name))
        os.replace(tmp, serving)
    finally:
        tmp.unlink(missing_ok=True)


def rollback(serving: Path) -> bool:
    """Put the previous serving copy back (e.g. after a bad publish noticed by a person)."""
    previous = serving.with_name("previous_" + serving.name)
    if not previous.exists():
        return False
    tmp = serving.with_name(f".{serving.name}.rollback.tmp")
    shutil.copyfile(previous, tmp)
    os.replace(tmp, serving)
    return True
