"""marts → serving: the published read-only copy the dashboards read."""


from dagster import AssetExecutionContext, AssetKey, Failure, MaterializeResult, asset

from orchestration.defs.dbt import CONTRACT_MARTS
from orchestration.partitions import quarter_of, quarterly_partitions
from orchestration.publish import PublishBlocked, PublishFailed, publish
from orchestration.resources import WarehouseResource


@asset(
    key=AssetKey(["serving", "published_warehouse"]),
    # Any mart orders this after the whole dbt step (one op); the blocking marts gate guards them.
    deps=[AssetKey(["marts", t]) for t in CONTRACT_MARTS],
    group_name="serving",
    partitions_def=quarterly_partitions,
    kinds={"duckdb"},
    description="驾驶舱读取的只读发布副本：全部阻断性检查通过后才原子替换，并冻结本季度排名",
)
def published_warehouse(context: AssetExecutionContext, warehouse: WarehouseResource) -> MaterializeResult:
    from qinglian import progress, stopping

    progress.step("发布驾驶舱数据")
    quarter = quarter_of(context.partition_key)
    if stopping.requested() is not None:
        raise Failure(description="已收到停止信号，未发布")
    try:
        with warehouse.lock(f"季度任务 {quarter}：发布驾驶舱数据"):
            result = publish(warehouse.warehouse, warehouse.serving, quarter, context.run.run_id)
    except (PublishBlocked, PublishFailed) as exc:
        raise Failure(description=str(exc)) from exc
    context.log.info(f"已发布 {result.serving}（第 {result.publish_id} 次发布）")
    if result.warning:
        context.log.warning(result.warning)
    return MaterializeResult(metadata={
        "publish_id": result.publish_id,
        "serving_path": str(result.serving),
        "new_ranking_versions": str(result.new_versions) or "无",
        **{f"rows_{k}": v for k, v in result.row_counts.items()},
    })
