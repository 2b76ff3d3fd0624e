"""Landing → raw: one asset per source, partitioned by quarter, with data-quality checks."""


from collections.abc import Iterator

from dagster import (
    AssetCheckResult,
    AssetCheckSeverity,
    AssetCheckSpec,
    AssetExecutionContext,
    AssetKey,
    MaterializeResult,
    multi_asset,
)

from ingest.contracts import SOURCE_LABELS, SOURCES
from ingest.pipeline import ingest_landing
from orchestration.partitions import quarterly_partitions
from orchestration.resources import WarehouseResource

# Survey files fill two raw tables; every other source fills the table of its name.
RAW_TABLES: dict[str, tuple[str, ...]] = {s: (s,) for s in SOURCES} | {"surveys": ("survey_responses", "survey_answers")}
UPSTREAM: dict[str, tuple[str, ...]] = {
    "regions": (),
    "departments": ("regions",),
    "tasks": ("regions", "departments"),
} | {s: ("regions", "departments", "tasks") for s in SOURCES if s not in ("regions", "departments", "tasks")}


def raw_key(table: str) -> AssetKey:
    return AssetKey(["raw", table])


def _check_name(source: str) -> str:
    return f"dq_{source}"


def _ingest_asset(source: str):
    tables = RAW_TABLES[source]
    deps = [raw_key(RAW_TABLES[u][0]) for u in UPSTREAM[source]]
    from dagster import AssetSpec

    specs = [
        AssetSpec(raw_key(t), deps=deps, group_name="raw", kinds={"duckdb", "polars"},
                  description=f"{SOURCE_LABELS[source]}：落地文件夹 {source}/ 中报送文件的原始入库数据（含文件、工作表、行号溯源）")
        for t in tables
    ]
    check = AssetCheckSpec(_check_name(source), asset=raw_key(tables[0]), blocking=True,
                           description=f"{SOURCE_LABELS[source]}入库数据质量检查（Great Expectations）")

    @multi_asset(name=f"ingest_{source}", specs=specs, check_specs=[check], partitions_def=quarterly_partitions,
                 can_subset=False)
    def _asset(context: AssetExecutionContext, warehouse: WarehouseResource) -> Iterator[MaterializeResult | AssetCheckResult]:
        quarter = context.partition_key
        summary = ingest_landing(warehouse.landing, warehouse.warehouse, sources=[source], quarter=quarter)
        for f in summary.files:
            if f.outcome != "unchanged":
                context.log.info(f"{f.rel}: {f.outcome} 读入{f.rows_read} 入库{f.rows_loaded} 拒收{f.rows_rejected} {f.message or ''}")
        meta = {
            "files": len(summary.files),
            "accepted": summary.count("accepted"),
            "accepted_with_rejects": summary.count("accepted_with_rejects"),
            "rejected": summary.count("rejected"),
            "rows_read": summary.rows_read,
            "rows_loaded": summary.rows_loaded,
            "rows_rejected": summary.rows_rejected,
        }
        for t in tables:
            yield MaterializeResult(asset_key=raw_key(t), metadata=meta)
        yield _raw_check(context, warehouse, source, quarter)

    return _asset


def _raw_check(context: AssetExecutionContext, warehouse: WarehouseResource, source: str, quarter: str) -> AssetCheckResult:
    from data_quality.validate import store_results, validate_raw

    con = warehouse.connect()
    try:
        results = validate_raw(con, sources=[source], period=None)
        store_results(con, context.run.run_id, results)
    finally:
        con.close()
    blocking = [r for r in results if not r.success and r.severity == "blocking"]
    warnings = [r for r in results if not r.success and r.severity != "blocking"]
    return AssetCheckResult(
        asset_key=raw_key(RAW_TABLES[source][0]),
        check_name=_check_name(source),
        passed=not blocking,
        severity=AssetCheckSeverity.ERROR if blocking else AssetCheckSeverity.WARN,
        metadata={
            "expectations": len(results),
            "blocking_failures": len(blocking),
            "warnings": len(warnings),
            "failed": ", ".join(f"{r.asset}:{r.expectation}" for r in (blocking + warnings)[:10]) or "无",
        },
    )


ingest_assets = [_ingest_asset(s) for s in SOURCES]
