"""The quarterly job makes the staging views without starting dbt for them.

The ingest step's raw checks read dbt's staging views; the dbt build of the same run makes them again
from the same project. The ingest step makes them only when they are missing or are not what the
current project makes (data_quality.staging.views_current), from the SQL `qinglian prepare` saved, and
starts dbt for them only when that SQL is stale. These tests count the dbt processes the ingest step
starts (orchestration.dbt_run.run_dbt) on the hand-made small raw layer.
"""

from __future__ import annotations

import logging
from pathlib import Path
from types import SimpleNamespace

import duckdb
import pytest

import orchestration.dbt_run as dbt_run
from data_quality import staging
from orchestration.defs.ingest import _staging_views
from orchestration.resources import WarehouseResource
from tests.fixtures.small_warehouse import build_small_raw


@pytest.fixture
def counted(monkeypatch: pytest.MonkeyPatch) -> list[list[str]]:
    """Every dbt command the ingest step starts (each really runs)."""
    calls: list[list[str]] = []
    real = dbt_run.run_dbt

    def run_dbt(warehouse: Path, target: Path, args: list[str]):
        calls.append(list(args))
        return real(warehouse, target, args)

    monkeypatch.setattr(dbt_run, "run_dbt", run_dbt)
    return calls


def _step(warehouse: Path) -> None:
    context = SimpleNamespace(run=SimpleNamespace(run_id="onehome13-staging-once"),
                              log=logging.getLogger("test_onehome13"))
    resource = WarehouseResource(warehouse_path=str(warehouse), landing_path=str(warehouse.parent / "landing"))
    _staging_views(context, resource)  # type: ignore[arg-type]


def _view_columns(warehouse: Path, view: str) -> list[str]:
    with duckdb.connect(str(warehouse), read_only=True) as con:
        return [r[0] for r in con.execute(
            "select column_name from information_schema.columns where table_schema = 'staging' and table_name = ? "
            "order by ordinal_position", [view]).fetchall()]


def test_ingest_step_makes_the_views_without_dbt_from_the_prepared_sql(
        tmp_path: Path, counted: list[list[str]], monkeypatch: pytest.MonkeyPatch) -> None:
    warehouse = build_small_raw(tmp_path / "w.duckdb")
    assert staging.prepared_views() is not None, "qinglian prepare (make setup) saves the staging views' SQL"

    # A fresh warehouse has no staging views: the step makes them from the prepared SQL (no dbt) and stamps them.
    _step(warehouse)
    assert counted == []
    units_columns = _view_columns(warehouse, "stg_raw__units")
    assert "unit_code" in units_columns and "assessment_score" in units_columns
    made = _view_sql(warehouse)

    # The run's dbt build makes the staging views again, in-process with the full warehouse path: the same
    # SQL as the prepared one, so the views stay current and the next step does nothing.
    from qinglian.build import build_marts

    built = build_marts(warehouse, select="staging", exclude="resource_type:test resource_type:unit_test",
                        target_path=tmp_path / "target")
    assert built.models_ok == len(staging.VIEWS)
    assert _view_sql(warehouse) == made
    _step(warehouse)
    assert counted == []

    # A view that is not the project's (here hand-edited) is made again, still without dbt.
    with duckdb.connect(str(warehouse)) as con:
        con.execute("create or replace view staging.stg_raw__units as select 1 as x")
    _step(warehouse)
    assert counted == [] and _view_columns(warehouse, "stg_raw__units") == units_columns

    # The project's staging SQL changed since prepare (another fingerprint): the prepared SQL is stale,
    # so the step starts dbt once for the views; afterwards they are current.
    monkeypatch.setattr(staging, "project_fingerprint", lambda project_dir=None: "another project")
    assert staging.prepared_views() is None
    with duckdb.connect(str(warehouse)) as con:
        con.execute("drop view staging.stg_raw__cases")
    _step(warehouse)
    assert counted == [["run", "--select", "staging"]]
    assert "region_code" in _view_columns(warehouse, "stg_raw__cases")
    _step(warehouse)
    assert len(counted) == 1


def test_prepare_makes_the_staging_sql_again_when_it_is_missing_or_stale(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A project copy without the prepared SQL is not current; prepare writes it (from dbt, on an empty
    warehouse) and it equals the SQL of the real project's prepared views."""
    import shutil

    from orchestration import prepare
    from qinglian.settings import DBT_PROJECT_DIR

    project = tmp_path / "project"
    shutil.copytree(DBT_PROJECT_DIR, project, ignore=shutil.ignore_patterns("target", "logs"))
    (project / "target").mkdir()
    shutil.copy2(DBT_PROJECT_DIR / "target" / "manifest.json", project / "target" / "manifest.json")
    assert not prepare.is_current(project)  # the manifest is there, the staging SQL is not
    # the copy's parse state must not replace the real project's (every run starts from that one)
    monkeypatch.setattr(dbt_run, "parse_state", lambda name: tmp_path / "state" / f"{name}.msgpack")
    prepare.prepare(project)
    assert prepare.is_current(project)
    assert staging.prepared_views(project) == staging.prepared_views(DBT_PROJECT_DIR)
    # A staging edit makes the manifest and the saved SQL stale together.
    model = project / "models" / "staging" / "stg_raw__units.sql"
    model.write_text(model.read_text(encoding="utf-8") + "\n-- edit\n", encoding="utf-8")
    assert staging.prepared_views(project) is None and not prepare.is_current(project)


def _view_sql(warehouse: Path) -> dict[str, str]:
    with duckdb.connect(str(warehouse), read_only=True) as con:
        return dict(con.execute("select view_name, sql from duckdb_views() where schema_name = 'staging'").fetchall())


def test_project_fingerprint_follows_the_staging_sql(tmp_path: Path) -> None:
    """The fingerprint changes with a staging model, a staging YAML file or a macro, and not with a mart."""
    import shutil

    from qinglian.settings import DBT_PROJECT_DIR

    project = tmp_path / "project"
    shutil.copytree(DBT_PROJECT_DIR, project, ignore=shutil.ignore_patterns("target", "logs"))
    before = staging.project_fingerprint(project)
    assert before == staging.project_fingerprint(DBT_PROJECT_DIR)
    mart = next((project / "models" / "marts").rglob("*.sql"))
    mart.write_text(mart.read_text(encoding="utf-8") + "\n-- a mart edit\n", encoding="utf-8")
    assert staging.project_fingerprint(project) == before
    for edited in (project / "models" / "staging" / "stg_raw__units.sql",
                   project / "models" / "staging" / "_raw__sources.yml",
                   project / "macros" / "current_files.sql"):
        edited.write_text(edited.read_text(encoding="utf-8") + "\n-- edit\n", encoding="utf-8")
        after = staging.project_fingerprint(project)
        assert after != before
        before = after
