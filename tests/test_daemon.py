"""The orchestrator as a service: `qinglian serve start` by path, the Dagster daemon's schedule pointed at
"now" (QINGLIAN_SCHEDULE_CRON, the deployment setting), a scheduled run that completes and publishes,
a killed daemon restarted by the supervisor, and `qinglian serve stop` leaving no process behind.

The warehouse holds the tiny cut of the city demo (tests/conftest.py: 2025Q1–Q3 files), ingested
beforehand; the landing folder is empty (the sensor has nothing to do, so the run is the schedule's), and
the run builds and publishes. The instance is the product's own dagster.yaml (orchestration.instance) with
the run queue polled every second instead of every five, and without the asset, freshness and backfill
daemons the product never uses: one daemon start serves every assertion. The schedule's state is recorded
as running since just before the last minute's tick (as after a daemon that was down over a tick): the
real daemon's first look finds that tick due and catches it up (Dagster's catch-up of partitioned
schedules), so the wait is one real run, not the next minute's tick plus one run.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from datetime import date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import duckdb
import psutil
import pytest

pytestmark = pytest.mark.slow
ROOT = Path(__file__).resolve().parents[1]
QINGLIAN = Path(sys.executable).parent / "qinglian"  # the venv's script, called by path
SCHEDULE_CRON = "* * * * *"
RUN_TIMEOUT = 900  # s: a deadline, not a wait: one run on a two-core machine shared with other work


def _env(tmp: Path) -> dict[str, str]:
    # No venv on PATH (systemd, cron): the command must find dagster and dbt by itself.
    return {
        "PATH": "/usr/bin:/bin", "HOME": os.environ.get("HOME", str(tmp)), "LANG": "C.UTF-8",
        "QINGLIAN_STATE": str(tmp / "state"), "QINGLIAN_WAREHOUSE": str(tmp / "warehouse.duckdb"),
        "QINGLIAN_LANDING": str(tmp / "landing"), "QINGLIAN_LOG_DIR": str(tmp / "logs"),
        "QINGLIAN_SCHEDULE_CRON": SCHEDULE_CRON,  # every minute: a tick was due less than a minute ago
        # Due the day after quarter end, so that whatever today is, the quarter that ended last is due.
        "QINGLIAN_RULES": str(tmp / "rules.yaml"),
        # dbt's own setting (DBT_RESOURCE_TYPES), inherited by the run's `dbt build`: every model and the
        # rules seed are built, dbt's data tests are not — they gate the runs of test_orchestration and
        # test_faults; here the property is the daemon's (schedule → run → published), not the figures'.
        "DBT_RESOURCE_TYPES": "model seed",
    }


def _qinglian(env: dict[str, str], *args: str, timeout: float = 240) -> subprocess.CompletedProcess:
    return subprocess.run([str(QINGLIAN), *args], env=env, cwd="/", capture_output=True, text=True, timeout=timeout)


def _ours(home: Path) -> list[psutil.Process]:
    """Every live process started for this test's instance (its environment names our DAGSTER_HOME)."""
    found = []
    for p in psutil.process_iter():
        try:
            if p.status() != psutil.STATUS_ZOMBIE and p.environ().get("DAGSTER_HOME") == str(home):
                found.append(p)
        except psutil.Error:
            continue
    return found


def _runs(home: Path) -> list:
    from dagster import DagsterInstance
    from dagster._core.instance.ref import InstanceRef

    if not (home / "dagster.yaml").exists():
        return []
    with DagsterInstance.from_ref(InstanceRef.from_dir(str(home))) as instance:
        return instance.get_runs()


def _expected_quarter(today: date) -> str:
    """The quarter that ended last, by hand: quarters ended this year, or last year's Q4."""
    q = (today.month - 1) // 3
    return f"{today.year}Q{q}" if q else f"{today.year - 1}Q4"


def _quick_instance(home: Path) -> None:
    """The product's dagster.yaml, with the run queue polled every second and the daemons the product does
    not use (auto-materialise, freshness) off; ensure_instance keeps an existing file."""
    import yaml

    from orchestration.instance import dagster_yaml

    config = yaml.safe_load(dagster_yaml(home))
    config["run_coordinator"]["config"]["dequeue_interval_seconds"] = 1
    config["auto_materialize"] = {"enabled": False, "use_sensors": False}
    config["freshness"] = {"enabled": False}
    home.mkdir(parents=True)
    (home / "dagster.yaml").write_text(yaml.safe_dump(config, allow_unicode=True), encoding="utf-8")


def _schedule_due_now(home: Path) -> None:
    """Record quarterly_schedule (every minute here) as running since one second before the last minute's
    tick, in the instance the daemon will use: its first iteration has that tick due. The state is keyed
    the way the daemon keys it (code location `-m orchestration.definitions -d <repo>`, the singleton
    repository of @dg.definitions, the schedule's name)."""
    from dagster import DagsterInstance
    from dagster._core.definitions.repository_definition import SINGLETON_REPOSITORY_NAME
    from dagster._core.instance.ref import InstanceRef
    from dagster._core.remote_origin import RemoteInstigatorOrigin, RemoteRepositoryOrigin
    from dagster._core.scheduler.instigation import (
        InstigatorState,
        InstigatorStatus,
        InstigatorType,
        ScheduleInstigatorData,
    )
    from dagster._core.workspace.load_target import ModuleTarget

    from qinglian.serve import CODE_LOCATION

    location = ModuleTarget(CODE_LOCATION, None, str(ROOT), None).create_origins()[0]
    origin = RemoteInstigatorOrigin(RemoteRepositoryOrigin(location, SINGLETON_REPOSITORY_NAME), "quarterly_schedule")
    last_tick = time.time() // 60 * 60
    with DagsterInstance.from_ref(InstanceRef.from_dir(str(home))) as instance:
        instance.add_instigator_state(InstigatorState(origin, InstigatorType.SCHEDULE, InstigatorStatus.DECLARED_IN_CODE,
                                                      ScheduleInstigatorData(SCHEDULE_CRON, start_timestamp=last_tick - 1)))


def test_daemon_runs_the_schedule_restarts_a_killed_child_and_stops_clean(
        tmp_path: Path, tiny_landing: tuple[Path, dict[str, str]]) -> None:
    from orchestration.partitions import TIMEZONE

    env = _env(tmp_path)
    home = tmp_path / "state" / "dagster"
    from ingest.pipeline import ingest_landing

    (tmp_path / "landing").mkdir()
    assert ingest_landing(tiny_landing[0], tmp_path / "warehouse.duckdb").complete
    _quick_instance(home)
    _schedule_due_now(home)
    (tmp_path / "rules.yaml").write_text("default:\n  report_deadline_days: 1\n", encoding="utf-8")
    today = datetime.now(ZoneInfo(TIMEZONE)).date()
    started = _qinglian(env, "serve", "start", "--only", "daemon")
    try:
        assert started.returncode == 0, started.stdout + started.stderr
        assert "调度守护进程  运行中" in started.stdout
        state = json.loads((tmp_path / "state" / "serve" / "state.json").read_text(encoding="utf-8"))
        daemon_pid = state["services"]["daemon"]["pid"]
        assert (tmp_path / "state" / "serve" / "daemon.pid").read_text().strip() == str(daemon_pid)
        # The daemon runs from the venv's own bin folder although PATH has no venv.
        assert psutil.Process(daemon_pid).cmdline()[1] == str(QINGLIAN.parent / "dagster-daemon")

        deadline = time.monotonic() + RUN_TIMEOUT
        done = []
        while time.monotonic() < deadline:
            runs = _runs(home)
            done = [r for r in runs if r.status.value in ("SUCCESS", "FAILURE", "CANCELED")]
            if done:
                break
            time.sleep(2)
        daemon_log = (tmp_path / "logs" / "serve" / "daemon.log").read_text(encoding="utf-8", errors="replace")
        assert done, f"{RUN_TIMEOUT} 秒内守护进程没有完成任何运行；守护进程日志末尾：\n{daemon_log[-3000:]}"
        run = done[0]
        quarter = _expected_quarter(today)
        assert (run.status.value, run.tags.get("trigger"), run.tags.get("qinglian/quarter")) == ("SUCCESS", "schedule", quarter), \
            f"{run.status} {run.tags}\n{daemon_log[-3000:]}"
        # The run built and published the demo quarter.
        serving = tmp_path / "serving" / "warehouse.duckdb"
        with duckdb.connect(str(serving), read_only=True) as con:
            quarters = [q for (q,) in con.execute("select distinct quarter from marts.scorecard_quarterly order by 1").fetchall()]
            published = con.execute("select quarter, status from ops.publish_log").fetchall()
        assert quarters[0] == "2025Q1"
        assert published == [(quarter, "published")]

        status = _qinglian(env, "serve", "status")
        assert status.returncode == 0, status.stdout + status.stderr
        assert f"最近一次运行：{quarter} 成功（调度触发" in status.stdout

        # A crashed daemon is started again by the supervisor.
        os.kill(daemon_pid, signal.SIGKILL)
        restarted = None
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            info = json.loads((tmp_path / "state" / "serve" / "state.json").read_text(encoding="utf-8"))["services"]["daemon"]
            if info.get("restarts") == 1 and info.get("pid") and info["pid"] != daemon_pid:
                restarted = info["pid"]
                break
            time.sleep(0.5)
        assert restarted and psutil.pid_exists(restarted), "被杀的守护进程没有被重新启动"
        status = _qinglian(env, "serve", "status")
        assert "已重启 1 次" in status.stdout and "上次被信号 9 结束" in status.stdout, status.stdout
    finally:
        stopped = _qinglian(env, "serve", "stop", timeout=120)
    assert stopped.returncode == 0, stopped.stdout + stopped.stderr
    assert "已停止全部服务" in stopped.stdout
    left = _ours(home)
    assert left == [], f"serve stop 之后仍有进程：{[(p.pid, p.cmdline()) for p in left]}"
    status = _qinglian(env, "serve", "status")
    assert status.returncode == 3 and "监管进程  已停止" in status.stdout, status.stdout
