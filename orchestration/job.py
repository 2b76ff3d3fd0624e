"""`qinglian run`: the quarterly job executed in-process — the same job the schedule launches."""

from __future__ import annotations

import os
from datetime import date, datetime
from pathlib import Path

from rich.console import Console

from qinglian.settings import serving_path


def run_quarterly(landing: Path, warehouse: Path, quarter: str | None = None, console: Console | None = None,
                  serving: Path | None = None, instance=None) -> bool:
    """Ingest, check, build, check again and publish one quarter. Returns whether it published."""
    console = console or Console()
    os.environ.setdefault("DAGSTER_HOME", str(warehouse.parent / "dagster_home"))
    Path(os.environ["DAGSTER_HOME"]).mkdir(parents=True, exist_ok=True)
    from dagster import DagsterInstance

    from orchestration.definitions import build_definitions
    from orchestration.partitions import previous_quarter, quarterly_partitions
    from orchestration.resources import WarehouseResource

    quarter = quarter or previous_quarter(date.today())
    if quarter not in quarterly_partitions.get_partition_keys():
        console.print(f"[red]季度 {quarter} 不在可运行的季度范围内（{quarterly_partitions.get_partition_keys()[0]} 起）[/red]")
        return False
    resource = WarehouseResource(warehouse_path=str(warehouse), landing_path=str(landing),
                                 serving_path=str(serving or serving_path(warehouse)))
    job = build_definitions(resource).get_job_def("quarterly_job")
    started = datetime.now()
    with console.status(f"正在运行 {quarter} 季度任务（读取 → 检查 → 构建 → 发布）…"):
        result = job.execute_in_process(partition_key=quarter, instance=instance or DagsterInstance.get(), raise_on_error=False)
    _report(console, warehouse, started, result, quarter, resource.serving)
    return result.success


def _report(console: Console, warehouse: Path, started: datetime, result, quarter: str, serving: Path) -> None:
    import duckdb

    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        files = con.execute(
            """select path, outcome, coalesce(submitter_name, ''), coalesce(period, ''), rows_read, rows_loaded, rows_rejected,
                      coalesce(message, '') from raw.ingest_files where loaded_at >= ? order by file_id""", [started]).fetchall()
        totals = con.execute("""select count(*), count(*) filter (outcome = 'accepted'), count(*) filter (outcome = 'accepted_with_rejects'),
                                       count(*) filter (outcome = 'rejected'), count(*) filter (outcome = 'duplicate'),
                                       coalesce(sum(rows_read), 0), coalesce(sum(rows_loaded), 0), coalesce(sum(rows_rejected), 0)
                                from raw.ingest_files where loaded_at >= ?""", [started]).fetchone()
        has_log = con.execute("select count(*) from information_schema.tables where table_schema='ops' and table_name='publish_log'").fetchone()[0]
        last = con.execute("select status, message from ops.publish_log order by publish_id desc limit 1").fetchone() if has_log else None
    finally:
        con.close()
    from ingest.pipeline import FileOutcome
    from qinglian.cli import outcome_line

    for path, outcome, submitter, period, read, loaded, rejected, message in files:
        line = outcome_line(FileOutcome(path, None, outcome, submitter, period, read, loaded, rejected, message or None))
        console.print(line, overflow="ellipsis", no_wrap=True, crop=True)
    n, ok, partial, rejected, dup, read, loaded, rej = totals
    console.print(f"报送文件 {n} 个：已接收 {ok}，部分接收 {partial}，已拒收 {rejected}，重复 {dup}；读入 {read} 行 = 入库 {loaded} 行 + 拒收 {rej} 行")
    failed_steps = [e.step_key for e in result.all_events if e.event_type_value == "STEP_FAILURE"]
    if result.success:
        console.print(f"[green]{quarter} 季度任务完成：指标已构建，驾驶舱数据已发布 → {serving}[/green]")
    else:
        reason = f"（{last[1]}）" if last and last[0] == "blocked" else ""
        console.print(f"[red]{quarter} 季度任务未完成，失败步骤：{', '.join(failed_steps) or '未知'}{reason}；驾驶舱仍显示上一次发布的数据[/red]")
