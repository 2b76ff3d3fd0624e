"""`qinglian run`: the quarterly job executed in-process — the same job the schedule launches.

The run holds the warehouse's run lock from start to end (a second run is refused with a
Chinese message), prints one outcome line per file and one verdict, and sends Dagster's event
stream (hundreds of DEBUG lines, tracebacks of failed steps) to the log file instead of the
terminal.
"""

from __future__ import annotations

import logging
import sys
from pathlib import Path

from rich.console import Console

from qinglian.errors import UserError
from qinglian.settings import serving_path

log = logging.getLogger("qinglian.job")

# The terminal shows the outcome lines and the verdict; Dagster's own events go to the log file.
QUIET = {"loggers": {"console": {"config": {"log_level": "CRITICAL"}}}}
_STEP_NAMES = {"ingest_landing": "读取报送文件", "qinglian_dbt_assets": "构建指标（dbt）", "marts_quality": "发布前检查",
               "serving__published_warehouse": "发布驾驶舱数据"}


def default_quarter() -> str:
    """The quarter a run without --quarter is for: the one that ended last on the office's date (on a
    UTC server the office's new quarter starts eight hours before the server's)."""
    from orchestration.partitions import previous_quarter
    from qinglian import office_time

    return previous_quarter(office_time.today())


def run_quarterly(landing: Path, warehouse: Path, quarter: str | None = None, console: Console | None = None,
                  serving: Path | None = None, instance=None) -> bool:
    """Ingest, check, build, check again and publish one quarter. Returns whether it published.

    Raises UserError (Chinese) before touching anything when the landing folder or the quarter is
    unusable, and Busy when another run holds the warehouse.
    """
    console = console or Console()
    landing, warehouse = Path(landing), Path(warehouse)
    if not landing.is_dir():
        raise UserError(f"落地文件夹不存在或不是文件夹：{landing}。请检查 --landing 参数")
    from orchestration.partitions import runnable_quarters
    quarter = quarter or default_quarter()
    keys = runnable_quarters()
    if quarter not in keys:
        raise UserError(f"季度 {quarter} 不在可运行的季度范围内（{keys[0]} 至 {keys[-1]}；"
                        "更早的季度请设置 QINGLIAN_FIRST_QUARTER）")
    from qinglian.runlock import warehouse_lock

    with warehouse_lock(warehouse, f"qinglian run 季度任务 {quarter}"):
        from data_quality import checker
        from orchestration.prepare import prepare

        # GX is imported by a process of its own on the other core meanwhile (data_quality.checker),
        # unless this process has it already (a second run in one process: nothing to win)
        if "great_expectations" not in sys.modules:
            checker.start(warehouse)
        try:
            prepare()  # the dbt manifest, parsed again only when the dbt project changed
            return _run_locked(landing, warehouse, quarter, console, serving, instance)
        finally:
            checker.stop()


def _run_locked(landing: Path, warehouse: Path, quarter: str, console: Console, serving: Path | None, instance) -> bool:
    from dagster import DagsterInstance

    from orchestration.definitions import build_definitions
    from orchestration.instance import ensure_instance
    from orchestration.partitions import partition_key
    from orchestration.resources import WarehouseResource

    # Dagster's preview/beta warnings are for developers: into the log file, not onto the terminal.
    logging.captureWarnings(True)
    resource = WarehouseResource(warehouse_path=str(warehouse), landing_path=str(landing),
                                 serving_path=str(serving or serving_path(warehouse)))
    job = build_definitions(resource).get_job_def("quarterly_job")
    from ingest.landing import scan
    from qinglian import progress

    files = sum(1 for e in scan(landing) if e.kind == "file")
    with progress.showing(console, quarter, files):
        result = job.execute_in_process(partition_key=partition_key(quarter), raise_on_error=False, run_config=QUIET,
                                        instance=instance or DagsterInstance.from_ref(ensure_instance()),
                                        tags={"trigger": "qinglian run", "qinglian/quarter": quarter})
    _log_events(result)
    _report(console, result, quarter, resource.serving)
    from qinglian.logs import current

    if current() is not None:
        console.print(f"完整日志（含 Dagster 事件与错误详情）：{current()}")
    return result.success


def _log_events(result) -> None:
    for event in result.all_events:
        log.info("dagster %s %s %s", event.event_type_value, event.step_key or "", event.message or "")
        failure = getattr(event, "step_failure_data", None) if event.is_step_failure else None
        if failure is not None and failure.error is not None:
            log.error("步骤 %s 失败：\n%s", event.step_key, failure.error.to_string())


def _outcomes(result) -> list[dict] | None:
    from orchestration.defs.ingest import OUTCOMES_KEY

    for event in result.all_events:
        meta = None
        if event.is_step_materialization:
            mat = event.step_materialization_data.materialization
            if mat.asset_key.path == ["raw", "ingest_files"]:
                meta = mat.metadata
        elif event.is_step_failure and event.step_failure_data.user_failure_data is not None:
            meta = event.step_failure_data.user_failure_data.metadata
        if meta and OUTCOMES_KEY in meta:
            return list(meta[OUTCOMES_KEY].value)
    return None


def _failure_reasons(result) -> list[str]:
    from qinglian.logs import current

    reasons = []
    for event in result.all_events:
        if not event.is_step_failure:
            continue
        step = _STEP_NAMES.get(event.step_key or "", event.step_key)
        data = event.step_failure_data
        if data.user_failure_data is not None and data.user_failure_data.description:
            reasons.append(f"{step}：{data.user_failure_data.description}")
        elif event.step_key == "qinglian_dbt_assets":
            reasons.append(f"{step}：有模型出错或数据测试未通过（详见日志 {current() or ''}）")
        else:
            reasons.append(f"{step}：发生意外错误（详见日志 {current() or ''}）")
    blocked = [e for e in result.all_events if e.event_type_value == "ASSET_CHECK_EVALUATION"
               and not e.event_specific_data.passed and e.event_specific_data.severity.value == "ERROR"]
    if blocked and not reasons:
        names = "、".join(sorted({e.event_specific_data.check_name for e in blocked}))
        reasons.append(f"阻断性数据质量检查未通过（{names}），未构建或未发布")
    return reasons


def _report(console: Console, result, quarter: str, serving: Path) -> None:
    from ingest.outcomes import FileOutcome, outcome_line, summary_line

    outcomes = [FileOutcome(**o) for o in (_outcomes(result) or [])]
    for f in outcomes:
        if f.outcome != "unchanged":
            console.print(outcome_line(f), overflow="ellipsis", no_wrap=True, crop=True)
    if outcomes:
        console.print(summary_line(outcomes))
    if result.success:
        console.print(f"[green]{quarter} 季度任务完成：指标已构建，驾驶舱数据已发布 → {serving}[/green]")
        return
    from qinglian import stopping

    if stopping.requested() is not None:
        return  # the command says it was stopped
    reasons = _failure_reasons(result) or ["未知原因（详见日志）"]
    console.print(f"[red]{quarter} 季度任务未完成 — {'；'.join(reasons)}；驾驶舱仍显示上一次发布的数据[/red]")
