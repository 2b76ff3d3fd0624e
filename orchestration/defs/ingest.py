"""Landing → raw: one ingest of the whole landing folder, with a data-quality check per source.

The landing folder is ingested as one batch in the journal's fixed order (ingest.pipeline), the
same order `qinglian ingest` uses: whichever command loads a folder, the warehouse ends in the
same state, and every file in the folder — also one at the root or in an unknown folder — gets an
outcome. The raw tables stay separate assets (each dbt source maps onto one), materialised
together. If any file could not be processed (an I/O error, a full disk), the step fails after
deciding every other file: nothing downstream is built or published from an incomplete quarter,
and the next run retries exactly those files.
"""


from collections.abc import Iterator

from dagster import (
    AssetCheckResult,
    AssetCheckSeverity,
    AssetCheckSpec,
    AssetExecutionContext,
    AssetKey,
    AssetSpec,
    Failure,
    MaterializeResult,
    MetadataValue,
    multi_asset,
)

from ingest.contracts import SOURCE_LABELS, SOURCES
from ingest.outcomes import outcome_line, summary_line
from ingest.pipeline import ingest_landing
from orchestration.partitions import quarter_of, quarterly_partitions
from orchestration.resources import WarehouseResource

# Survey files fill two raw tables; every other source fills the table of its name.
RAW_TABLES: dict[str, tuple[str, ...]] = {s: (s,) for s in SOURCES} | {"surveys": ("survey_responses", "survey_answers")}
JOURNAL_TABLES = ("ingest_files", "ingest_rejects")
OUTCOMES_KEY = "outcomes"  # materialisation metadata of raw/ingest_files: every file's outcome


def raw_key(table: str) -> AssetKey:
    return AssetKey(["raw", table])


def _check_name(source: str) -> str:
    return f"dq_{source}"


_SPECS = [
    AssetSpec(raw_key("ingest_files"), group_name="raw", kinds={"duckdb"},
              description="报送文件登记：落地文件夹中每个文件的处理结果（接收、部分接收、拒收、重复）"),
    AssetSpec(raw_key("ingest_rejects"), group_name="raw", kinds={"duckdb"},
              description="拒收明细：被拒收的文件或行，含工作表、行号、列名、填报值和中文原因"),
    *[
        AssetSpec(raw_key(t), group_name="raw", kinds={"duckdb", "polars"},
                  description=f"{SOURCE_LABELS[s]}：落地文件夹 {s}/ 中报送文件的原始入库数据（含文件、工作表、行号溯源）")
        for s in SOURCES for t in RAW_TABLES[s]
    ],
]
_CHECKS = [
    AssetCheckSpec(_check_name(s), asset=raw_key(RAW_TABLES[s][0]), blocking=True,
                   description=f"{SOURCE_LABELS[s]}入库数据质量检查（Great Expectations）")
    for s in SOURCES
]


@multi_asset(name="ingest_landing", specs=_SPECS, check_specs=_CHECKS, partitions_def=quarterly_partitions, can_subset=False)
def ingest_landing_asset(context: AssetExecutionContext, warehouse: WarehouseResource) -> Iterator[MaterializeResult | AssetCheckResult]:
    from qinglian import stopping

    quarter = quarter_of(context.partition_key)
    if stopping.requested() is not None:
        raise Failure(description="已收到停止信号，未读取报送文件")
    from qinglian import progress

    progress.step("读取报送文件")
    with warehouse.lock(f"季度任务 {quarter}：读取报送文件"):
        summary = ingest_landing(warehouse.landing, warehouse.warehouse, quarter=quarter, on_file=progress.file_done)
        for f in summary.files:
            if f.outcome != "unchanged":
                context.log.info(outcome_line(f, markup=False))
        outcomes = MetadataValue.json([f.as_dict() for f in summary.files])
        if not summary.complete:
            names = "、".join(f.rel for f in summary.failed[:5]) + ("等" if len(summary.failed) > 5 else "")
            raise Failure(
                description=f"有 {len(summary.failed)} 个文件本次未能处理（{names}），本季度暂不构建和发布；"
                            "排除故障后重新运行即可，已入库的文件不会重复处理",
                metadata={OUTCOMES_KEY: outcomes},
            )
        counts = {"summary": summary_line(summary.files), "files": len(summary.files),
                  "rows_read": summary.rows_read, "rows_loaded": summary.rows_loaded, "rows_rejected": summary.rows_rejected}
        yield MaterializeResult(asset_key=raw_key("ingest_files"), metadata={**counts, OUTCOMES_KEY: outcomes})
        yield MaterializeResult(asset_key=raw_key("ingest_rejects"), metadata=counts)
        for source in SOURCES:
            mine = [f for f in summary.files if f.source == source]
            meta = {"files": len(mine), "rows_loaded": sum(f.rows_loaded for f in mine),
                    "rows_rejected": sum(f.rows_rejected for f in mine)}
            for t in RAW_TABLES[source]:
                yield MaterializeResult(asset_key=raw_key(t), metadata=meta)
        yield from _raw_checks(context, warehouse)


def _staging_views(context: AssetExecutionContext, warehouse: WarehouseResource) -> None:
    """The checks read dbt's staging views (data_quality.staging); they run before this quarter's dbt build.
    The previous run's build made them from the same project, so they are made only when they are missing
    or differ from what the current project makes (data_quality.staging.views_current): from the SQL
    `qinglian prepare` saved for this project (no dbt start), or, when that is missing or stale,
    by `dbt run --select staging` (views only)."""
    from data_quality import staging
    from orchestration.dbt_run import run_dbt, run_folder

    con = warehouse.connect()
    try:
        if staging.views_current(con):
            context.log.info("staging 视图与当前 dbt 项目一致，沿用（本步不运行 dbt）")
            return
        ddl = staging.prepared_views()
        if ddl is not None:
            staging.make_views(con, ddl)
            context.log.info("staging 视图按准备好的 dbt 定义建立（本步不运行 dbt）")
            return
    finally:
        con.close()
    done = run_dbt(warehouse.warehouse, run_folder(context.run.run_id) / "staging", ["run", "--select", "staging"])
    if done.returncode != 0:
        # A raw table without a contract column leaves its view unmade; its blocking schema checks say why.
        context.log.warning("部分 staging 视图未能建立（详见 dbt 日志）；相应报送表的字段检查将说明原因")
    con = warehouse.connect()
    try:
        staging.record_views(con)
    finally:
        con.close()


def _raw_checks(context: AssetExecutionContext, warehouse: WarehouseResource) -> Iterator[AssetCheckResult]:
    from data_quality import checker

    _staging_views(context, warehouse)
    # The checker `qinglian run` started with GX imported ahead of time, else this process.
    outcomes = checker.run("raw", warehouse.warehouse, context.run.run_id)
    if outcomes is None:
        outcomes = checker.check("raw", warehouse.warehouse, context.run.run_id)
    for source in SOURCES:
        results = [o for o in outcomes if o.source == source]
        blocking = [r for r in results if not r.success and r.severity == "blocking"]
        warnings = [r for r in results if not r.success and r.severity != "blocking"]
        yield AssetCheckResult(
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


ingest_assets = [ingest_landing_asset]
