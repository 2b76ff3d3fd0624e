"""The quarterly job skips a dbt build whose inputs are those of the last complete build (qinglian.build_state):
the fingerprint changes with every input dbt reads (a raw row, a duplicated row, a rules value, a file
of the project, the build's arguments, a DBT_ setting) and with nothing else, and every dbt command
that may write removes it before it runs. The job-level skip (a re-run publishes the same and runs no
dbt build) is asserted in tests/test_orchestration.py."""

from __future__ import annotations

import shutil
from pathlib import Path

import duckdb
import pytest

from qinglian import build_state
from qinglian.settings import DBT_PROJECT_DIR

ARGS = ["build", "--exclude-resource-type", "unit_test"]


@pytest.fixture()
def built(small_built: tuple[Path, object], tmp_path: Path) -> Path:
    warehouse = tmp_path / "w" / "warehouse.duckdb"
    warehouse.parent.mkdir()
    shutil.copyfile(small_built[0], warehouse)
    return warehouse


def _sql(warehouse: Path, sql: str) -> None:
    with duckdb.connect(str(warehouse)) as con:
        con.execute(sql)


def test_the_fingerprint_follows_every_input_and_nothing_else(built: Path, tmp_path: Path,
                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    fp = build_state.fingerprint(built, ARGS, DBT_PROJECT_DIR)
    copy = tmp_path / "copy.duckdb"
    shutil.copyfile(built, copy)
    assert build_state.fingerprint(copy, ARGS, DBT_PROJECT_DIR) == fp  # the file's name and place are no input
    # what dbt writes is no input: a changed mart, an ops table
    _sql(copy, "update marts.scorecard_quarterly set composite_score = composite_score * 0.5")
    _sql(copy, "create schema if not exists ops; create table ops.something_else as select 1 as x")
    assert build_state.fingerprint(copy, ARGS, DBT_PROJECT_DIR) == fp

    # one raw value changed, then changed back
    (code, quarter, status), = duckdb.connect(str(built), read_only=True).execute(
        "select task_code, quarter, status from raw.task_progress order by all limit 1").fetchall()
    _sql(built, f"update raw.task_progress set status = '乱写' where task_code = '{code}' and quarter = '{quarter}'")
    changed = build_state.fingerprint(built, ARGS, DBT_PROJECT_DIR)
    assert changed != fp
    _sql(built, f"update raw.task_progress set status = '{status}' where task_code = '{code}' and quarter = '{quarter}'")
    assert build_state.fingerprint(built, ARGS, DBT_PROJECT_DIR) == fp  # content, not history
    # a row sent twice
    _sql(copy, "insert into raw.units select * from raw.units order by all limit 1")
    assert build_state.fingerprint(copy, ARGS, DBT_PROJECT_DIR) not in (fp, changed)
    # a rules value
    shutil.copyfile(built, copy)
    _sql(copy, "update rules.rule_weights set weight = weight + 0.01 where indicator = (select min(indicator) from rules.rule_weights)")
    assert build_state.fingerprint(copy, ARGS, DBT_PROJECT_DIR) != fp
    # the build's arguments and dbt's own settings
    assert build_state.fingerprint(built, [*ARGS, "--exclude-resource-type", "test"], DBT_PROJECT_DIR) != fp
    monkeypatch.setenv("DBT_RESOURCE_TYPES", "model seed")
    assert build_state.fingerprint(built, ARGS, DBT_PROJECT_DIR) != fp
    monkeypatch.delenv("DBT_RESOURCE_TYPES")
    # a file of the dbt project (a copy with one model edited)
    project = tmp_path / "project"
    shutil.copytree(DBT_PROJECT_DIR, project, ignore=shutil.ignore_patterns("target", "logs", "dbt_packages"))
    assert build_state.fingerprint(built, ARGS, project) == fp
    model = next((project / "models" / "marts").rglob("scorecard_quarterly.sql"))
    model.write_text(model.read_text(encoding="utf-8") + "\n-- a comment is a change\n", encoding="utf-8")
    assert build_state.fingerprint(built, ARGS, project) != fp


def test_every_dbt_command_that_may_write_removes_the_fingerprint_first(built: Path, tmp_path: Path,
                                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    from orchestration.dbt_run import run_dbt
    from qinglian.build import invoke_dbt

    assert build_state.last_built(built) is None  # built by build_marts: no job build claims these marts
    build_state.remember(built, "f" * 64)
    assert build_state.last_built(built) == "f" * 64
    # read-only commands leave it
    assert invoke_dbt(built, ["ls", "--select", "scorecard_quarterly"], target_path=tmp_path / "t0").success
    assert build_state.last_built(built) == "f" * 64
    # the in-process dbt of qinglian build and the fixtures, even when it selects nothing
    assert invoke_dbt(built, ["run", "--select", "no_such_model"], target_path=tmp_path / "t1").success
    assert build_state.last_built(built) is None
    # the job's dbt child: removed, and committed, before the child starts (a build killed at any moment
    # leaves none), as the fingerprint read at the moment of the spawn shows
    import orchestration.dbt_run as dbt_run

    build_state.remember(built, "e" * 64)
    at_spawn: list[str | None] = []
    real_popen = dbt_run.subprocess.Popen

    def popen(*args, **kwargs):
        at_spawn.append(build_state.last_built(built))
        return real_popen(*args, **kwargs)

    monkeypatch.setattr(dbt_run.subprocess, "Popen", popen)
    assert run_dbt(built, tmp_path / "t2", ["seed", "--select", "no_such_seed"]).returncode == 0
    assert at_spawn == [None] and build_state.last_built(built) is None
