"""The Dagster code location (`dagster dev -m orchestration.definitions`, and `qinglian serve`).

Importing this module does no work: the definitions are made when Dagster (or `qinglian run`) loads
them, from the dbt manifest prepared beforehand (orchestration.prepare).
"""

from __future__ import annotations

import dagster as dg

from orchestration.resources import WarehouseResource


def build_definitions(warehouse: WarehouseResource | None = None) -> dg.Definitions:
    from orchestration.defs.dbt import dbt_definitions
    from orchestration.defs.ingest import ingest_assets
    from orchestration.defs.schedules import landing_sensor, quarterly_job, quarterly_schedule
    from orchestration.defs.serving import published_warehouse
    from orchestration.instance import tune_sqlite_storage

    tune_sqlite_storage()  # a run the daemon launches writes its events from the process that loads these

    dbt_assets, marts_quality = dbt_definitions()
    return dg.Definitions(
        assets=[*ingest_assets, dbt_assets, published_warehouse],
        asset_checks=[marts_quality],
        jobs=[quarterly_job],
        schedules=[quarterly_schedule],
        sensors=[landing_sensor],
        resources={"warehouse": warehouse or WarehouseResource()},
    )


@dg.definitions
def defs() -> dg.Definitions:
    return build_definitions()
