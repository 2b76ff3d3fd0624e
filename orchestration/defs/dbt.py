"""raw → staging → intermediate → marts: the dbt project as Dagster assets (dagster-dbt).

The dbt assets are not partitioned: every build recomputes every quarter (the marts are small and a
quarter's figures depend on earlier quarters), so a quarterly run and a rebuild are the same thing.
The assets are made from the prepared manifest when the definitions load (orchestration.prepare),
never at import.
"""


from collections.abc import Iterator, Mapping
from functools import cache
from typing import Any

from dagster import (
    AssetCheckExecutionContext,
    AssetCheckResult,
    AssetChecksDefinition,
    AssetCheckSeverity,
    AssetExecutionContext,
    AssetKey,
    AssetsDefinition,
    asset_check,
)
from dagster_dbt import DagsterDbtTranslator, DagsterDbtTranslatorSettings, DbtProject, dbt_assets

from orchestration.resources import WarehouseResource
from qinglian.settings import DBT_PROJECT_DIR

LAYER_GROUPS = {"staging": "staging", "intermediate": "intermediate", "marts": "marts", "seeds": "rules"}
DBT_STEP = "qinglian_dbt_assets"
MARTS_CHECK = "dq_marts_gx"
# The marts the serving copy and the publish gate are about (DESIGN §7).
CONTRACT_MARTS = ("kpi_task_progress", "kpi_unit_coverage", "kpi_rectification", "kpi_satisfaction", "kpi_cases",
                  "scorecard_quarterly", "assessment_annual")


@cache
def dbt_project() -> DbtProject:
    project = DbtProject(project_dir=DBT_PROJECT_DIR, profiles_dir=DBT_PROJECT_DIR)
    project.prepare_if_dev()  # only under `dagster dev`, which re-parses on every reload
    return project


class QinglianTranslator(DagsterDbtTranslator):
    """Sources map onto the assets that write them (raw/… from the ingest); models are keyed by schema
    and grouped by layer."""

    def get_asset_key(self, dbt_resource_props: Mapping[str, Any]) -> AssetKey:
        if dbt_resource_props["resource_type"] == "source":
            return AssetKey([dbt_resource_props["source_name"], dbt_resource_props["name"]])
        schema = dbt_resource_props.get("config", {}).get("schema") or "marts"
        return AssetKey([schema, dbt_resource_props["name"]])

    def get_group_name(self, dbt_resource_props: Mapping[str, Any]) -> str | None:
        path = dbt_resource_props.get("original_file_path", "")
        for folder, group in LAYER_GROUPS.items():
            if f"/{folder}/" in path or path.startswith(f"{folder}/"):
                return group
        return "marts"


@cache
def dbt_definitions() -> tuple[AssetsDefinition, AssetChecksDefinition]:
    """The dbt multi-asset and the marts gate, made from the prepared manifest."""
    from orchestration.prepare import require_manifest

    manifest = require_manifest()
    # dbt's ~200 data tests are not 217 Dagster asset checks: one `dbt build` runs them and its
    # run_results.json decides the step (orchestration.dbt_run). Per-test Dagster events cost as much
    # as the build itself (BENCHMARKS.md, dagster-dbt overhead).
    translator = QinglianTranslator(settings=DagsterDbtTranslatorSettings(enable_asset_checks=False))

    @dbt_assets(manifest=manifest, project=dbt_project(), dagster_dbt_translator=translator, name=DBT_STEP)
    def qinglian_dbt_assets(context: AssetExecutionContext, warehouse: WarehouseResource) -> Iterator:
        from orchestration.dbt_run import build
        from qinglian import progress

        progress.step("构建指标（dbt）")
        with warehouse.lock("季度任务：构建指标（dbt）"):
            yield from build(context, warehouse.warehouse, manifest, translator)

    @asset_check(
        asset=AssetKey(["marts", "scorecard_quarterly"]),
        name=MARTS_CHECK,
        blocking=True,
        additional_deps=[AssetKey(["marts", t]) for t in CONTRACT_MARTS if t != "scorecard_quarterly"],
        description="发布前指标表数据质量检查（比率在[0,1]、分子不大于分母、红旗/蜗牛数量、排名完整）",
    )
    def marts_quality(context: AssetCheckExecutionContext, warehouse: WarehouseResource) -> AssetCheckResult:
        from data_quality import checker
        from qinglian import progress

        progress.step("发布前检查")
        results = checker.run("marts", warehouse.warehouse, context.run.run_id)
        if results is None:
            results = checker.check("marts", warehouse.warehouse, context.run.run_id)
        blocking = [r for r in results if not r.success and r.severity == "blocking"]
        return AssetCheckResult(
            passed=not blocking,
            severity=AssetCheckSeverity.ERROR,
            metadata={"expectations": len(results), "blocking_failures": len(blocking),
                      "failed": ", ".join(f"{r.asset}:{r.expectation}" for r in blocking[:10]) or "无"},
        )

    return qinglian_dbt_assets, marts_quality
