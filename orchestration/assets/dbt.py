"""raw → staging → intermediate → marts: the dbt project as Dagster assets (dagster-dbt)."""


import json
import os
from collections.abc import Iterator, Mapping
from typing import Any

from dagster import (
    AssetCheckExecutionContext,
    AssetCheckResult,
    AssetCheckSeverity,
    AssetExecutionContext,
    AssetKey,
    asset_check,
)
from dagster_dbt import DagsterDbtTranslator, DbtCliResource, DbtProject, dbt_assets

from orchestration.partitions import quarterly_partitions
from orchestration.resources import WarehouseResource
from qinglian.settings import DBT_PROJECT_DIR

dbt_project = DbtProject(project_dir=DBT_PROJECT_DIR, profiles_dir=DBT_PROJECT_DIR)
# `dagster dev` re-parses on load; everywhere else the manifest is prepared once by the build step.
dbt_project.prepare_if_dev()


def ensure_manifest() -> None:
    """Parse the dbt project once when no manifest exists yet (a fresh checkout)."""
    if dbt_project.manifest_path.exists():
        return
    from dbt.cli.main import dbtRunner

    os.environ.setdefault("QINGLIAN_WAREHOUSE", str(DBT_PROJECT_DIR.parent / "data" / "warehouse.duckdb"))
    result = dbtRunner().invoke(["parse", "--project-dir", str(DBT_PROJECT_DIR), "--profiles-dir", str(DBT_PROJECT_DIR), "--quiet"])
    if not result.success:
        raise RuntimeError(f"dbt parse 失败：{result.exception}")


ensure_manifest()

LAYER_GROUPS = {"staging": "staging", "intermediate": "intermediate", "marts": "marts", "seeds": "rules"}


class QinglianTranslator(DagsterDbtTranslator):
    """raw sources map onto the ingest assets; models are keyed by schema and grouped by layer."""

    def get_asset_key(self, dbt_resource_props: Mapping[str, Any]) -> AssetKey:
        if dbt_resource_props["resource_type"] == "source":
            return AssetKey(["raw", dbt_resource_props["name"]])
        schema = dbt_resource_props.get("config", {}).get("schema") or "marts"
        return AssetKey([schema, dbt_resource_props["name"]])

    def get_group_name(self, dbt_resource_props: Mapping[str, Any]) -> str | None:
        path = dbt_resource_props.get("original_file_path", "")
        for folder, group in LAYER_GROUPS.items():
            if f"/{folder}/" in path or path.startswith(f"{folder}/"):
                return group
        return "marts"


@dbt_assets(manifest=dbt_project.manifest_path, project=dbt_project, dagster_dbt_translator=QinglianTranslator(),
            partitions_def=quarterly_partitions)
def qinglian_dbt_assets(context: AssetExecutionContext, dbt: DbtCliResource, warehouse: WarehouseResource) -> Iterator:
    # dbt opens the warehouse itself; the profile reads its path from the environment.
    os.environ["QINGLIAN_WAREHOUSE"] = str(warehouse.warehouse)
    # The office's rules configuration, validated, becomes the warehouse's rules tables (dbt sources).
    from qinglian.rules import install_rules

    install_rules(warehouse.warehouse)
    dbt_vars = json.dumps({"quarter": context.partition_key})
    # Unit tests check the SQL, not the quarter's data: the test suite runs them, the quarterly run need not.
    invocation = dbt.cli(["build", "--vars", dbt_vars, "--exclude-resource-type", "unit_test"], context=context)
    yield from invocation.stream()
    # dbt keeps the warehouse locked until its process exits; the next step must not race it.
    invocation.wait()


MARTS_CHECK = "dq_marts_gx"


@asset_check(
    asset=AssetKey(["marts", "scorecard_quarterly"]),
    name=MARTS_CHECK,
    blocking=True,
    additional_deps=[AssetKey(["marts", t]) for t in ("kpi_task_progress", "kpi_unit_coverage", "kpi_rectification",
                                                      "kpi_satisfaction", "kpi_cases", "assessment_annual")],
    description="发布前指标表数据质量检查（比率在[0,1]、分子不大于分母、红旗/蜗牛数量、排名完整）",
    partitions_def=quarterly_partitions,
)
def marts_quality(context: AssetCheckExecutionContext, warehouse: WarehouseResource) -> AssetCheckResult:
    from data_quality.validate import store_results, validate_marts

    con = warehouse.connect()
    try:
        results = validate_marts(con)
        store_results(con, context.run.run_id, results)
    finally:
        con.close()
    blocking = [r for r in results if not r.success and r.severity == "blocking"]
    return AssetCheckResult(
        passed=not blocking,
        severity=AssetCheckSeverity.ERROR,
        metadata={"expectations": len(results), "blocking_failures": len(blocking),
                  "failed": ", ".join(f"{r.asset}:{r.expectation}" for r in blocking[:10]) or "无"},
    )
