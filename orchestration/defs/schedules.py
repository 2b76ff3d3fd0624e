"""When the quarterly job runs: on the report deadline of the quarter just ended, and when files land.

The schedule looks once a day (08:00 Beijing time) and asks for the quarter that ended most recently
as soon as its report deadline (the 10th day after quarter end by default) has come. Its run key is
the quarter, so Dagster launches each quarter's scheduled run once; a server that was down on the
deadline day catches up on the next tick instead of skipping the quarter.
"""


import hashlib
import json
import os
from datetime import date, datetime, timedelta
from pathlib import Path

from dagster import (
    DefaultScheduleStatus,
    DefaultSensorStatus,
    RunRequest,
    ScheduleEvaluationContext,
    SensorEvaluationContext,
    SkipReason,
    define_asset_job,
    in_process_executor,
    schedule,
    sensor,
)

from orchestration.partitions import (
    TIMEZONE,
    partition_key,
    previous_quarter,
    quarter_end,
    quarter_key,
    quarterly_partitions,
    runnable_quarters,
)
from orchestration.resources import WarehouseResource

quarterly_job = define_asset_job(
    "quarterly_job",
    selection="*",
    partitions_def=quarterly_partitions,
    description="季度任务：读取报送 → 入库质量检查 → dbt 构建指标与排名 → 发布前检查 → 发布驾驶舱副本",
    # The steps run one after another on one warehouse (one writer): in the run's own process, as in
    # `qinglian run`, instead of one process per step that imports everything again.
    executor_def=in_process_executor,
)

# When the schedule looks (a deployment setting: QINGLIAN_SCHEDULE_CRON; a test points it at every minute).
DEFAULT_SCHEDULE_CRON = "0 8 * * *"


def schedule_cron() -> str:
    return os.environ.get("QINGLIAN_SCHEDULE_CRON", "").strip() or DEFAULT_SCHEDULE_CRON


def report_deadline(quarter: str) -> date:
    """The day a quarter's reports are due (the rules' report_deadline_days after quarter end, one value
    per year for both groups: DESIGN §4, qinglian.rules), and its scheduled run starts."""
    from qinglian.rules import load_rules

    days = load_rules().in_force(int(quarter[:4]), "county").report_deadline_days
    return quarter_end(quarter) + timedelta(days=int(days))


def scheduled_quarter(day: date) -> "str | None":
    """The quarter the schedule runs on `day`: the one that ended last, once its deadline has come."""
    quarter = previous_quarter(day)
    return quarter if day >= report_deadline(quarter) else None


def run_tags(quarter: str, trigger: str) -> dict[str, str]:
    return {"trigger": trigger, "qinglian/quarter": quarter}


@schedule(job=quarterly_job, cron_schedule=schedule_cron(), execution_timezone=TIMEZONE,
          default_status=DefaultScheduleStatus.RUNNING, description="上一季度报送截止日（规则配置 report_deadline_days，默认季末后第10天）起运行该季度，每季度一次")
def quarterly_schedule(context: ScheduleEvaluationContext) -> RunRequest | SkipReason:
    day = context.scheduled_execution_time.astimezone(_tz()).date()
    quarter = scheduled_quarter(day)
    if quarter is None:
        waiting = previous_quarter(day)
        return SkipReason(f"{waiting} 的报送截止日 {report_deadline(waiting)} 未到")
    done = _scheduled_run_of(context, quarter)
    if done is not None:
        return SkipReason(f"{quarter} 的季度任务已由调度运行（运行号 {done[:8]}）；之后的新文件由落地传感器触发运行")
    return RunRequest(run_key=f"schedule-{quarter}", partition_key=partition_key(quarter), tags=run_tags(quarter, "schedule"))


# A scheduled run that did not fail: once one exists, the quarter is not scheduled again. (Dagster
# deduplicates a schedule's run key only within one tick, so without this every day after the deadline
# would launch the quarter again; a failed run is retried on the next day's tick.)
_NOT_FAILED = ("SUCCESS", "STARTED", "STARTING", "QUEUED", "NOT_STARTED", "CANCELING")


def _scheduled_run_of(context: ScheduleEvaluationContext, quarter: str) -> "str | None":
    from dagster import DagsterRunStatus, RunsFilter

    try:
        instance = context.instance
    except Exception:  # a context built without an instance (a unit test of the dates alone)
        return None
    runs = instance.get_runs(RunsFilter(tags=run_tags(quarter, "schedule"),
                                        statuses=[DagsterRunStatus(s) for s in _NOT_FAILED]), limit=1)
    return runs[0].run_id if runs else None


def _tz():
    from zoneinfo import ZoneInfo

    return ZoneInfo(TIMEZONE)


def landing_fingerprint(landing: Path) -> dict[str, str]:
    """rel path -> size:mtime for every submitted file (cheap: no file is opened)."""
    from ingest.pipeline import discover

    out = {}
    for _, path in discover(landing):
        st = path.stat()
        out[path.relative_to(landing).as_posix()] = f"{st.st_size}:{st.st_mtime_ns}"
    return out


def quarters_of_files(landing: Path, rels: list[str], now: datetime | None = None) -> set[str]:
    """The quarter each new file reports on, read from its content by the ingest's own dry run;
    reference data, and a file whose period is unknown or outside the partitions → the quarter that
    ended last."""
    from ingest.contracts import REFERENCE_SOURCES
    from ingest.pipeline import dry_run

    now = now or datetime.now(_tz())
    fallback = previous_quarter(now.date())
    valid = set(runnable_quarters(now))
    quarters = set()
    for rel in rels:
        source, _, name = rel.partition("/")
        if source in REFERENCE_SOURCES or not name:
            quarters.add(fallback)
            continue
        try:
            period = dry_run((landing / rel).read_bytes(), name, source).period
        except Exception:  # an unreadable or unknown file: the run decides and reports it
            period = None
        quarter = f"{period}Q4" if period and len(period) == 4 else period
        quarters.add(quarter if quarter in valid else fallback)
    return quarters


@sensor(job=quarterly_job, minimum_interval_seconds=60, default_status=DefaultSensorStatus.RUNNING,
        description="落地文件夹有新文件或文件变更时，为其所属季度触发运行")
def landing_sensor(context: SensorEvaluationContext, warehouse: WarehouseResource):
    current = landing_fingerprint(warehouse.landing)
    previous = json.loads(context.cursor) if context.cursor else {}
    changed = sorted(rel for rel, fp in current.items() if previous.get(rel) != fp)
    if not changed:
        return SkipReason("落地文件夹没有新文件")
    digest = hashlib.sha256("|".join(f"{r}={current[r]}" for r in changed).encode()).hexdigest()[:12]
    requests = [
        RunRequest(run_key=f"landing-{q}-{digest}", partition_key=partition_key(q), tags=run_tags(q, "landing_sensor"))
        for q in sorted(quarters_of_files(warehouse.landing, changed))
    ]
    context.update_cursor(json.dumps(current))
    return requests


__all__ = ["quarterly_job", "quarterly_schedule", "landing_sensor", "quarter_key", "scheduled_quarter"]
