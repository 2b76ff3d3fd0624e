"""The Dagster code location: `dagster dev -m orchestration.definitions`."""

from __future__ import annotations

from dagster import Definitions
from dagster_dbt import DbtCliResource

from orchestration.assets.dbt import dbt_project, marts_quality, qinglian_dbt_assets
from orchestration.assets.ingest import ingest_assets
from orchestration.assets.publish import published_warehouse
from orchestration.resources import WarehouseResource
from orchestration.schedules import landing_sensor, quarterly_job, quarterly_schedule
from qinglian.settings import dbt_executable


def build_definitions(warehouse: WarehouseResource | None = None) -> Definitions:
    return Definitions(
        assets=[*ingest_assets, qinglian_dbt_assets, published_warehouse],
        asset_checks=[marts_quality],
        jobs=[quarterly_job],
        schedules=[quarterly_schedule],
        sensors=[landing_sensor],
        resources={"warehouse": warehouse or WarehouseResource(), "dbt": DbtCliResource(project_dir=dbt_project, dbt_executable=str(dbt_executable()))},
    )


defs = build_definitions()
