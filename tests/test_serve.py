"""Production as services, without starting them: the systemd units, the schedule's once-per-quarter
rule against a real instance, the cron setting, and the sensor on a file the upload portal wrote.

(tests/test_daemon.py starts the daemon for real.)
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from dagster import (
    DagsterInstance,
    DagsterRunStatus,
    RunRequest,
    SkipReason,
    build_schedule_context,
    build_sensor_context,
    instance_for_test,
)

from orchestration.defs.schedules import landing_sensor, quarterly_schedule
from orchestration.partitions import partition_key
from orchestration.resources import WarehouseResource

ROOT = Path(__file__).resolve().parents[1]
BEIJING = ZoneInfo("Asia/Shanghai")


def _unit(text: str) -> dict[str, list[str]]:
    """A systemd unit file as key -> values (keys may repeat, e.g. Environment)."""
    out: dict[str, list[str]] = {}
    for line in text.splitlines():
        if line and not line.startswith(("#", "[")) and "=" in line:
            key, value = line.split("=", 1)
            out.setdefault(key, []).append(value)
    return out


def test_units_name_the_venv_the_state_and_restart_on_failure(tmp_path: Path) -> None:
    state, warehouse = tmp_path / "srv" / "state", tmp_path / "srv" / "w.duckdb"
    env = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), "QINGLIAN_STATE": str(state),
           "QINGLIAN_WAREHOUSE": str(warehouse), "QINGLIAN_DASHBOARD_PORT": "8601"}
    qinglian = Path(sys.executable).parent / "qinglian"
    out = subprocess.run([str(qinglian), "serve", "units", "--out", str(tmp_path / "units"), "--user", "qinglian"],
                         env=env, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stdout + out.stderr
    names = sorted(p.name for p in (tmp_path / "units").iterdir())
    assert names == ["qinglian-daemon.service", "qinglian-dashboards.service", "qinglian-webserver.service", "qinglian.target"]
    for service in ("daemon", "webserver", "dashboards"):
        unit = _unit((tmp_path / "units" / f"qinglian-{service}.service").read_text(encoding="utf-8"))
        assert unit["ExecStart"] == [f"{qinglian} serve run {service}"]
        assert Path(unit["ExecStart"][0].split()[0]).is_absolute()
        assert unit["WorkingDirectory"] == [str(ROOT)]
        assert unit["Restart"] == ["on-failure"] and unit["KillMode"] == ["control-group"]
        assert unit["User"] == ["qinglian"] and unit["WantedBy"] == ["qinglian.target"]
        pairs = dict(kv.split("=", 1) for line in unit["Environment"] for kv in line.split())
        assert pairs["QINGLIAN_STATE"] == str(state)
        assert pairs["DAGSTER_HOME"] == str(state / "dagster")
        assert pairs["QINGLIAN_WAREHOUSE"] == str(warehouse)
        assert pairs["QINGLIAN_SERVING"] == str(warehouse.parent / "serving" / "warehouse.duckdb")
        assert pairs["QINGLIAN_ENV"] == "production"
        assert pairs["QINGLIAN_DASHBOARD_PORT"] == "8601" and pairs["QINGLIAN_DAGSTER_ADDRESS"] == "127.0.0.1"
    target = (tmp_path / "units" / "qinglian.target").read_text(encoding="utf-8")
    assert "Wants=qinglian-daemon.service qinglian-webserver.service qinglian-dashboards.service" in target
    assert "@" not in "".join(p.read_text(encoding="utf-8") for p in (tmp_path / "units").iterdir())
    # systemd's own reading of the files (every key known, ExecStart an existing absolute executable, the
    # target's dependencies resolvable): Debian ships systemd-analyze with systemd, as on the server.
    analyze = shutil.which("systemd-analyze")
    assert analyze, "systemd-analyze 不可用：请安装 systemd（Debian 自带）"
    units = sorted(str(p) for p in (tmp_path / "units").iterdir())
    verified = subprocess.run([analyze, "verify", "--man=no", *units], cwd=tmp_path / "units",
                              capture_output=True, text=True, timeout=120)
    assert verified.returncode == 0 and verified.stderr.strip() == "", verified.stdout + verified.stderr
    # …and it does catch a unit systemd would refuse (so the check above can fail).
    broken = tmp_path / "units" / "qinglian-daemon.service"
    broken.write_text(broken.read_text(encoding="utf-8").replace(f"ExecStart={qinglian}", "ExecStart=venv/bin/qinglian"),
                      encoding="utf-8")
    refused = subprocess.run([analyze, "verify", "--man=no", str(broken)], cwd=tmp_path / "units",
                             capture_output=True, text=True, timeout=120)
    assert refused.returncode != 0 and "venv/bin/qinglian" in refused.stderr, refused.stderr


def test_a_path_systemd_cannot_quote_is_refused(tmp_path: Path) -> None:
    env = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), "QINGLIAN_STATE": str(tmp_path / "my state")}
    out = subprocess.run([str(Path(sys.executable).parent / "qinglian"), "serve", "units", "--out", str(tmp_path / "u")],
                         env=env, capture_output=True, text=True, timeout=120)
    assert out.returncode != 0 and "Traceback" not in out.stderr
    assert "QINGLIAN_STATE" in out.stderr and "空格" in out.stderr


def test_the_schedule_cron_is_a_deployment_setting() -> None:
    code = ("from orchestration.defs.schedules import quarterly_schedule as s; "
            "print(s.cron_schedule, s.execution_timezone)")
    got = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120,
                         env={"PATH": "/usr/bin:/bin", "QINGLIAN_SCHEDULE_CRON": "*/5 * * * *"})
    assert got.stdout.split() == ["*/5", "*", "*", "*", "*", "Asia/Shanghai"], got.stderr[-2000:]


def _tick(instance: DagsterInstance, day: datetime):
    return quarterly_schedule(build_schedule_context(instance=instance, scheduled_execution_time=day))


def test_a_quarter_is_scheduled_once_and_a_failed_run_is_retried(monkeypatch: pytest.MonkeyPatch) -> None:
    """Dagster deduplicates a schedule's run key within one tick only: the schedule itself must not ask
    for 2025Q2 again on 11 July once the 10 July run is there — unless that run failed."""
    from dagster._core.test_utils import create_run_for_test

    monkeypatch.delenv("QINGLIAN_RULES", raising=False)
    with instance_for_test() as instance:
        first = _tick(instance, datetime(2025, 7, 10, 8, tzinfo=BEIJING))
        assert isinstance(first, RunRequest) and first.tags["qinglian/quarter"] == "2025Q2"
        failed = create_run_for_test(instance, job_name="quarterly_job", tags=dict(first.tags), status=DagsterRunStatus.FAILURE)
        retry = _tick(instance, datetime(2025, 7, 11, 8, tzinfo=BEIJING))
        assert isinstance(retry, RunRequest) and retry.tags["qinglian/quarter"] == "2025Q2"
        ok = create_run_for_test(instance, job_name="quarterly_job", tags=dict(first.tags), status=DagsterRunStatus.SUCCESS)
        later = _tick(instance, datetime(2025, 7, 12, 8, tzinfo=BEIJING))
        assert isinstance(later, SkipReason) and ok.run_id[:8] in later.skip_message and failed.run_id[:8] not in later.skip_message
        # A run of 2025Q2 by hand (qinglian run) or by the sensor does not stand for the scheduled one.
        with instance_for_test() as other:
            create_run_for_test(other, job_name="quarterly_job", status=DagsterRunStatus.SUCCESS,
                                tags={"trigger": "landing_sensor", "qinglian/quarter": "2025Q2"})
            assert isinstance(_tick(other, datetime(2025, 7, 12, 8, tzinfo=BEIJING)), RunRequest)
        # The next quarter is scheduled on its own deadline.
        nxt = _tick(instance, datetime(2025, 10, 10, 8, tzinfo=BEIJING))
        assert isinstance(nxt, RunRequest) and nxt.partition_key == partition_key("2025Q3")


def test_sensor_asks_for_the_quarter_of_a_file_the_portal_wrote(tmp_path: Path) -> None:
    """The upload portal stores an accepted file with ingest.landing_writer; the sensor's next tick asks
    for the quarter the file reports on (2025Q1, read from its title), once."""
    from ingest.landing_writer import write_submission
    from tests.test_ingest_loading import units_file

    made = units_file(tmp_path / "made", "洋县.xlsx", "创建中")  # titled 2025年第一季度
    landing = tmp_path / "landing"
    landing.mkdir()
    resource = WarehouseResource(warehouse_path=str(tmp_path / "w.duckdb"), landing_path=str(landing))
    empty = build_sensor_context(resources={"warehouse": resource})
    assert isinstance(landing_sensor(empty), SkipReason)
    written = write_submission(landing, "units", made.read_bytes(), kind="xlsx", submitter="610723000000", period="2025Q1",
                               received_at=datetime(2025, 4, 6, 9, 30, tzinfo=BEIJING))
    assert written.rel.startswith("units/610723000000_2025Q1_20250406T093000_")
    context = build_sensor_context(cursor=empty.cursor, resources={"warehouse": resource})
    requests = landing_sensor(context)
    assert [(r.partition_key, r.tags["trigger"], r.tags["qinglian/quarter"]) for r in requests] == [
        (partition_key("2025Q1"), "landing_sensor", "2025Q1")]
    assert isinstance(landing_sensor(build_sensor_context(cursor=context.cursor, resources={"warehouse": resource})), SkipReason)


def test_serve_start_marks_runs_of_a_killed_daemon_failed_unless_one_holds_the_warehouse(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from dagster._core.test_utils import create_run_for_test

    from orchestration.instance import ensure_instance
    from qinglian.serve import fail_orphaned_runs
    from qinglian.settings import lock_path

    monkeypatch.setenv("DAGSTER_HOME", str(tmp_path / "dagster"))
    monkeypatch.setenv("QINGLIAN_WAREHOUSE", str(tmp_path / "w.duckdb"))
    with DagsterInstance.from_ref(ensure_instance()) as instance:
        run = create_run_for_test(instance, job_name="quarterly_job", status=DagsterRunStatus.STARTED)
        done = create_run_for_test(instance, job_name="quarterly_job", status=DagsterRunStatus.SUCCESS)
    # Another process writes the warehouse (a `qinglian run`): its run is alive and left alone.
    holder = subprocess.Popen([sys.executable, "-c", "import fcntl, os, sys, time; fd = os.open(sys.argv[1], os.O_RDWR | os.O_CREAT); "
                               "fcntl.flock(fd, fcntl.LOCK_EX); print('held', flush=True); time.sleep(60)",
                               str(lock_path(tmp_path / "w.duckdb"))], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "held"
        assert fail_orphaned_runs() == []
    finally:
        holder.kill()
        holder.wait()
    lines = fail_orphaned_runs()
    assert len(lines) == 1 and run.run_id[:8] in lines[0]
    with DagsterInstance.from_ref(ensure_instance()) as instance:
        assert instance.get_run_by_id(run.run_id).status == DagsterRunStatus.FAILURE
        assert instance.get_run_by_id(done.run_id).status == DagsterRunStatus.SUCCESS


def test_the_run_progress_shows_steps_and_files_on_a_terminal_only() -> None:
    import io
    from types import SimpleNamespace

    from rich.console import Console

    from qinglian import progress

    progress.step("构建指标（dbt）")  # no display open (a daemon run): nothing happens
    out = io.StringIO()
    console = Console(file=out, force_terminal=True, width=120)
    with progress.showing(console, "2025Q2", files=2):
        progress.step("读取报送文件")
        progress.file_done(SimpleNamespace(rel="units/洋县.xlsx"))
        progress._display[0].refresh()
        progress.step("构建指标（dbt）")
        progress._display[0].refresh()
    text = out.getvalue()
    assert "步骤 1/4：读取报送文件" in text and "units/洋县.xlsx" in text and "1/2" in text
    assert "步骤 2/4：构建指标（dbt）" in text
    piped = io.StringIO()
    with progress.showing(Console(file=piped, force_terminal=False), "2025Q2", files=2):
        progress.step("读取报送文件")
    assert piped.getvalue() == ""
