"""In-process dbt parses the project once per process (qinglian.build): a second build, on another
warehouse of the same file name, reuses the parsed project and gives identical marts; a change to a
model, or to the warehouse's file name (dbt-duckdb names the database after it), is parsed again."""

from __future__ import annotations

import shutil
from pathlib import Path

import duckdb

from qinglian import build
from qinglian.settings import DBT_PROJECT_DIR
from tests.fixtures.small_warehouse import build_small_raw

MODELS_ONLY = "resource_type:test resource_type:unit_test"
SELECT = "+kpi_unit_coverage"


def _marts(warehouse: Path) -> dict[str, list[tuple]]:
    with duckdb.connect(str(warehouse), read_only=True) as con:
        tables = [t for (t,) in con.execute("select table_name from duckdb_tables() where schema_name = 'marts' order by 1").fetchall()]
        return {t: con.execute(f"select * from marts.{t} order by all").fetchall() for t in tables}


def _parsed(target: Path) -> bool:
    """Whether dbt parsed the project in this target folder (its log says how it parsed)."""
    log = (target / "dbt.log").read_text(encoding="utf-8") if (target / "dbt.log").exists() else ""
    return "Starting full parse" in log or "Partial parsing enabled" in log


def test_a_second_build_reuses_the_parse_and_gives_identical_marts(tmp_path: Path) -> None:
    first, second = tmp_path / "a" / "warehouse.duckdb", tmp_path / "b" / "warehouse.duckdb"
    first.parent.mkdir()
    build_small_raw(first)
    second.parent.mkdir()
    shutil.copyfile(first, second)
    build._PARSED.clear()  # this process may have parsed before: start from nothing
    one = build.build_marts(first, select=SELECT, exclude=MODELS_ONLY, target_path=tmp_path / "t1")
    assert one.success and one.models_ok >= 5, one
    assert _parsed(tmp_path / "t1")
    invocation = build.invoke_dbt(second, ["build", "--select", SELECT, "--exclude", *MODELS_ONLY.split()],
                                  target_path=tmp_path / "t2")
    assert invocation.success and invocation.parse_reused
    assert not _parsed(tmp_path / "t2")  # dbt did not parse again, not even partially
    assert sum(1 for r in invocation.result.results if r.node.resource_type == "model") == one.models_ok
    marts = _marts(first)
    assert marts and "kpi_unit_coverage" in marts and marts["kpi_unit_coverage"]
    assert _marts(second) == marts


def test_a_changed_model_or_another_file_name_is_parsed_again(tmp_path: Path) -> None:
    project = tmp_path / "project"
    shutil.copytree(DBT_PROJECT_DIR, project, ignore=shutil.ignore_patterns("target", "logs"))
    (tmp_path / "w1").mkdir()
    warehouse = build_small_raw(tmp_path / "w1" / "warehouse.duckdb")
    args = ["build", "--select", "+dim_regions", "--exclude", *MODELS_ONLY.split()]
    assert build.invoke_dbt(warehouse, args, target_path=tmp_path / "t1", project_dir=project).success
    # what a parse depends on: the warehouse's file name (dbt-duckdb's database name), not its folder;
    # the --vars; every project file
    key = build._parse_key(project, warehouse, args)
    assert key == build._parse_key(project, tmp_path / "elsewhere" / "warehouse.duckdb", args)
    assert key != build._parse_key(project, tmp_path / "w1" / "other.duckdb", args)
    assert key != build._parse_key(project, warehouse, [*args, "--vars", '{"ci_z": 2.0}'])
    assert key != build._parse_key(DBT_PROJECT_DIR, warehouse, args)
    # an edit of the model: the next build must see it (parsed again, the new column in the mart)
    model = project / "models" / "marts" / "dim_regions.sql"
    model.write_text(f"select *, 42 as parse_probe from (\n{model.read_text(encoding='utf-8')}\n)", encoding="utf-8")
    assert build._parse_key(project, warehouse, args) != key
    edited = build.invoke_dbt(warehouse, args, target_path=tmp_path / "t2", project_dir=project)
    assert edited.success and not edited.parse_reused and _parsed(tmp_path / "t2")
    with duckdb.connect(str(warehouse), read_only=True) as con:
        assert {p for (p,) in con.execute("select distinct parse_probe from marts.dim_regions").fetchall()} == {42}
