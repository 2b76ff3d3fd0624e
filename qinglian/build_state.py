"""What the marts were last built from, so that the quarterly job skips a dbt build that would change nothing.

dbt's output is a function of its inputs: the raw and rules schemas of the warehouse (its only
sources; no model reads the clock or the ops schema), the files of the dbt project, the build's
arguments and dbt's own environment (DBT_* settings such as DBT_RESOURCE_TYPES), and the versions of
dbt and DuckDB. The job's build step fingerprints these (a content hash of every source table, in
one query per table) and, when the fingerprint equals that of the last complete build, reports the
models as current instead of rebuilding them: a re-run of a quarter nobody re-submitted to (a retry,
a schedule tick after a manual run) costs a second instead of the whole build.

Integrity: the stored fingerprint is removed, and committed, before any dbt command writes to the
warehouse (the job's build, qinglian build, any in-process dbt), and written again only after a
build that passed. A build killed at any moment therefore leaves no fingerprint, and the next run
builds. Marts written by another dbt project copy (a test's edited models) leave none either.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Sequence
from pathlib import Path

import duckdb

TABLE = "ops.dbt_build_state"
# dbt commands that write no model (every other one removes the fingerprint before it runs)
READ_ONLY_COMMANDS = frozenset({"parse", "compile", "ls", "list", "debug", "deps", "clean", "docs", "show", "source", "init"})
SOURCE_SCHEMAS = ("raw", "rules")


def _table_digests(con: duckdb.DuckDBPyConnection) -> list[tuple]:
    tables = con.execute(
        "select schema_name, table_name from duckdb_tables() where schema_name in (?, ?) "
        "order by schema_name, table_name", list(SOURCE_SCHEMAS)).fetchall()
    digests = []
    for schema, table in tables:
        columns = con.execute(
            "select string_agg(column_name || ' ' || data_type, ', ' order by column_index) "
            "from duckdb_columns() where schema_name = ? and table_name = ?", [schema, table]).fetchone()[0]
        # a sum of row hashes: independent of row order, and unlike an xor a duplicated row counts
        count, total = con.execute(
            f'select count(*), coalesce(sum(hash(t)::hugeint), 0)::varchar from "{schema}"."{table}" as t').fetchone()
        digests.append((schema, table, columns, count, total))
    return digests


def fingerprint(warehouse: Path, args: Sequence[str], project_dir: Path) -> str:
    """The build's inputs as one hex digest (read-only; the caller holds the warehouse lock)."""
    from importlib.metadata import version

    from orchestration.prepare import parse_input_files

    h = hashlib.sha256()
    h.update(repr(list(args)).encode())
    h.update(repr(sorted((k, v) for k, v in os.environ.items() if k.startswith("DBT_"))).encode())
    h.update(repr([version(p) for p in ("dbt-core", "dbt-duckdb", "duckdb")]).encode())
    for path in parse_input_files(project_dir):
        h.update(str(path.relative_to(project_dir)).encode() + b"\0" + path.read_bytes() + b"\0")
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        h.update(repr(_table_digests(con)).encode())
    finally:
        con.close()
    return h.hexdigest()


def _has_table(con: duckdb.DuckDBPyConnection) -> bool:
    return bool(con.execute("select count(*) from duckdb_tables() where schema_name = 'ops' "
                            "and table_name = 'dbt_build_state'").fetchone()[0])


def last_built(warehouse: Path) -> str | None:
    """The fingerprint of the last complete build, if no dbt command has written since."""
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        if not _has_table(con):
            return None
        row = con.execute(f"select fingerprint from {TABLE}").fetchone()
        return row[0] if row else None
    finally:
        con.close()


def forget(warehouse: Path) -> None:
    """Before dbt writes: the marts are about to change, so no fingerprint describes them."""
    if not Path(warehouse).is_file():
        return
    con = duckdb.connect(str(warehouse))
    try:
        if _has_table(con):
            con.execute(f"delete from {TABLE}")
    finally:
        con.close()


def remember(warehouse: Path, digest: str) -> None:
    """After a build that passed: these inputs made the marts now in the warehouse."""
    from qinglian.office_time import wall_clock

    con = duckdb.connect(str(warehouse))
    try:
        con.execute("begin")
        con.execute("create schema if not exists ops")
        con.execute(f"create table if not exists {TABLE} (fingerprint varchar not null, built_at timestamp not null)")
        con.execute(f"delete from {TABLE}")
        con.execute(f"insert into {TABLE} values (?, ?)", [digest, wall_clock()])
        con.execute("commit")
    finally:
        con.close()
