"""When the quarterly job runs: on the 10th day after quarter end, and when new files land."""


import hashlib
from datetime import date
from pathlib import Path

from dagster import (
    DefaultScheduleStatus,
    DefaultSensorStatus,
    RunRequest,
    ScheduleEvaluationContext,
    SensorEvaluationContext,
    SkipReason,
    define_asset_job,
    schedule,
    sensor,
)

from orchestration.partitions import previous_quarter, quarter_key, quarterly_partitions
from orchestration.resources import WarehouseResource

quarterly_job = define_asset_job(
    "quarterly_job",
    selection="*",
    partitions_def=quarterly_partitions,
    description="季度任务：读取报送 → 入库质量检查 → dbt 构建指标与排名 → 发布前检查 → 发布驾驶舱副本",
)

# 08:00 on 10 Jan/Apr/Jul/Oct in Beijing time: the reporting deadline of the quarter just ended.
QUARTERLY_CRON = "0 8 10 1,4,7,10 *"
TIMEZONE = "Asia/Shanghai"


@schedule(job=quarterly_job, cron_schedule=QUARTERLY_CRON, execution_timezone=TIMEZONE,
          default_status=DefaultScheduleStatus.RUNNING, description="每季度结束后第10天运行上一季度")
def quarterly_schedule(context: ScheduleEvaluationContext) -> RunRequest:
    quarter = previous_quarter(context.scheduled_execution_time.date())
    return RunRequest(run_key=f"schedule-{quarter}", partition_key=quarter, tags={"trigger": "schedule"})


def landing_fingerprint(landing: Path) -> dict[str, str]:
    """rel path -> size:mtime for every submitted file (cheap: no file is opened)."""
    from ingest.pipeline import discover

    out = {}
    for _, path in discover(landing):
        st = path.stat()
        out[path.relative_to(landing).as_posix()] = f"{st.st_size}:{st.st_mtime_ns}"
    return out


def quarters_of_files(landing: Path, rels: list[str], today: date | None = None) -> set[str]:
    """The quarter each new file reports on, read from its content; reference data → latest quarter."""
    from ingest.contracts import REFERENCE_SOURCES
    from ingest.parse import parse_file
    from ingest.resolve import Resolver

    fallback = previous_quarter(today or date.today())
    valid = set(quarterly_partitions.get_partition_keys())
    quarters = set()
    for rel in rels:
        source = rel.split("/", 1)[0]
        if source in REFERENCE_SOURCES:
            quarters.add(fallback)
            continue
        period = parse_file(landing / rel, rel, source, Resolver()).period
        quarter = f"{period}Q4" if period and len(period) == 4 else period
        quarters.add(quarter if quarter in valid else fallback)
    return quarters


@sensor(job=quarterly_job, minimum_interval_seconds=60, default_status=DefaultSensorStatus.RUNNING,
        description="落地文件夹有新文件或文件变更时，为其所属季度触发运行")
def landing_sensor(context: SensorEvaluationContext, warehouse: WarehouseResource):
    import json

    current = landing_fingerprint(warehouse.landing)
    previous = json.loads(context.cursor) if context.cursor else {}
    changed = sorted(rel for rel, fp in current.items() if previous.get(rel) != fp)
    if not changed:
        return SkipReason("落地文件夹没有新文件")
    digest = hashlib.sha256("|".join(f"{r}={current[r]}" for r in changed).encode()).hexdigest()[:12]
    requests = [
        RunRequest(run_key=f"landing-{q}-{digest}", partition_key=q, tags={"trigger": "landing_sensor"})
        for q in sorted(quarters_of_files(warehouse.landing, changed))
    ]
    context.update_cursor(json.dumps(current))
    return requests


__all__ = ["quarterly_job", "quarterly_schedule", "landing_sensor", "quarter_key"]
