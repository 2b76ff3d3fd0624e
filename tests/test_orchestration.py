"""The quarterly job through Dagster: definitions, schedule, sensor, write-audit-publish, crash safety."""

from __future__ import annotations

import dataclasses
import hashlib
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import duckdb
import pytest
from dagster import DagsterInstance, RunRequest, SkipReason, build_schedule_context, build_sensor_context

from orchestration.definitions import defs
from orchestration.job import run_quarterly
from orchestration.resources import WarehouseResource
from orchestration.schedules import landing_sensor, quarterly_schedule

pytestmark = pytest.mark.slow
ROOT = Path(__file__).resolve().parents[1]


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _published(serving: Path) -> list[tuple]:
    with duckdb.connect(str(serving), read_only=True) as con:
        return con.execute(
            "select body_group, body_code, quarter, round(composite_score, 6), rank, flag from marts.scorecard_quarterly order by all"
        ).fetchall()


def test_definitions_load_with_every_layer() -> None:
    job = defs.resolve_job_def("quarterly_job")
    keys = {"/".join(k.path) for k in defs.resolve_asset_graph().get_all_asset_keys()}
    assert {f"raw/{t}" for t in ("regions", "departments", "tasks", "task_progress", "units", "inspections",
                                 "survey_responses", "survey_answers", "cases")} <= keys
    assert {"marts/scorecard_quarterly", "marts/assessment_annual", "marts/kpi_unit_coverage", "serving/published_warehouse"} <= keys
    assert job.partitions_def is not None and "2025Q1" in job.partitions_def.get_partition_keys()
    schedule = defs.resolve_schedule_def("quarterly_schedule")
    assert (schedule.cron_schedule, schedule.execution_timezone) == ("0 8 10 1,4,7,10 *", "Asia/Shanghai")
    assert defs.resolve_sensor_def("landing_sensor") is not None


def test_schedule_runs_the_quarter_that_just_ended() -> None:
    when = datetime(2025, 7, 10, 8, 0, tzinfo=ZoneInfo("Asia/Shanghai"))
    request = quarterly_schedule(build_schedule_context(scheduled_execution_time=when))
    assert isinstance(request, RunRequest) and request.partition_key == "2025Q2"


def test_sensor_triggers_the_quarter_of_a_new_file(tmp_path: Path) -> None:
    from tests.test_ingest_loading import units_file

    landing = tmp_path / "landing"
    units_file(landing, "洋县.xlsx", "创建中")  # titled 2025年第一季度
    resource = WarehouseResource(warehouse_path=str(tmp_path / "w.duckdb"), landing_path=str(landing))
    context = build_sensor_context(resources={"warehouse": resource})
    result = landing_sensor(context)
    assert [r.partition_key for r in result] == ["2025Q1"]
    again = landing_sensor(build_sensor_context(cursor=context.cursor, resources={"warehouse": resource}))
    assert isinstance(again, SkipReason)


@pytest.fixture(scope="module")
def small_landing(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from qinglian.demo import generate

    landing = tmp_path_factory.mktemp("orch") / "landing"
    generate(landing, scale="city", seed=7, quarters=2)
    return landing


def _run(landing: Path, warehouse: Path, quarter: str = "2025Q2") -> bool:
    return run_quarterly(landing, warehouse, quarter=quarter, instance=DagsterInstance.ephemeral())


@pytest.fixture(scope="module")
def published_q1(small_landing: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One 2025Q1 run, published; each test continues from a copy of it."""
    root = tmp_path_factory.mktemp("q1")
    assert _run(small_landing, root / "w.duckdb", "2025Q1")
    return root


@pytest.fixture
def after_q1(published_q1: Path, tmp_path: Path) -> tuple[Path, Path]:
    shutil.copytree(published_q1, tmp_path / "run")
    return tmp_path / "run" / "w.duckdb", tmp_path / "run" / "serving" / "warehouse.duckdb"


def test_partition_run_publishes_and_is_idempotent(small_landing: Path, after_q1: tuple[Path, Path]) -> None:
    warehouse, serving = after_q1
    with duckdb.connect(str(serving), read_only=True) as con:
        assert {q for (q,) in con.execute("select distinct quarter from marts.scorecard_quarterly").fetchall()} == {"2025Q1"}
        q1_units = con.execute("select count(*) from raw.units").fetchone()[0]
    assert _run(small_landing, warehouse)
    first = _published(serving)
    assert {q for _, _, q, *_ in first} == {"2025Q1", "2025Q2"}
    with duckdb.connect(str(serving), read_only=True) as con:
        counts = con.execute("select (select count(*) from raw.units), (select count(*) from marts.kpi_unit_coverage)").fetchone()
        log = con.execute("select quarter, status from ops.publish_log order by publish_id").fetchall()
    # The 2025Q2 run loaded only files up to 2025Q2 on top of what 2025Q1 had.
    assert counts[0] > q1_units
    assert log == [("2025Q1", "published"), ("2025Q2", "published")]
    assert _run(small_landing, warehouse)
    assert _published(serving) == first
    with duckdb.connect(str(serving), read_only=True) as con:
        assert con.execute("select (select count(*) from raw.units), (select count(*) from marts.kpi_unit_coverage)").fetchone() == counts
        assert con.execute("select quarter, version from ops.scorecard_versions order by 1").fetchall() == [("2025Q1", 1), ("2025Q2", 1)]


def test_blocking_check_failure_keeps_the_previous_serving_copy(small_landing: Path, after_q1: tuple[Path, Path],
                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    import data_quality.validate as validate

    warehouse, serving = after_q1
    before = _digest(serving)
    real = validate.validate_marts

    def failing(con):
        results = real(con)
        bad = dataclasses.replace(results[0], success=False, severity="blocking", description_zh="测试注入的阻断性失败")
        return [bad, *results[1:]]

    monkeypatch.setattr(validate, "validate_marts", failing)
    assert not _run(small_landing, warehouse, "2025Q2")
    assert _digest(serving) == before
    with duckdb.connect(str(warehouse), read_only=True) as con:
        assert con.execute("select count(*) from ops.publish_log where quarter = '2025Q2'").fetchone()[0] == 0


def test_killed_run_leaves_serving_intact_and_next_run_completes(small_landing: Path, after_q1: tuple[Path, Path]) -> None:
    import psutil
    warehouse, serving = after_q1
    before = _digest(serving)
    env = dict(os.environ, QINGLIAN_WAREHOUSE=str(warehouse), DAGSTER_HOME=str(warehouse.parent / "dh"))
    cmd = [sys.executable, "-m", "qinglian", "run", "--landing", str(small_landing), "--quarter", "2025Q2"]
    proc = subprocess.Popen(cmd, env=env, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    killed = False
    deadline = time.time() + 300
    while time.time() < deadline and proc.poll() is None:
        try:
            children = psutil.Process(proc.pid).children(recursive=True)
            building = any("dbt" in " ".join(c.cmdline()) and "build" in c.cmdline() for c in children)
        except psutil.Error:
            building = False
        if building:
            time.sleep(1.0)  # let dbt start writing tables
            os.killpg(proc.pid, signal.SIGKILL)
            killed = True
            break
        time.sleep(0.05)
    proc.wait(timeout=30)
    assert killed, "the dbt build step was never seen running"
    assert _digest(serving) == before
    # The next run, through the same CLI a person would use, recovers the warehouse and publishes.
    out = subprocess.run(cmd, env=env, cwd=ROOT, capture_output=True, text=True, timeout=900)
    assert out.returncode == 0, out.stdout[-3000:] + out.stderr[-3000:]
    assert "驾驶舱数据已发布" in out.stdout
    assert {q for _, _, q, *_ in _published(serving)} == {"2025Q1", "2025Q2"}


def test_reader_held_open_during_a_full_run_sees_no_lock_errors(small_landing: Path, after_q1: tuple[Path, Path]) -> None:
    warehouse, serving = after_q1
    held = duckdb.connect(str(serving), read_only=True)
    errors: list[str] = []
    reads = 0
    stop = threading.Event()

    def dashboard_reader() -> None:
        nonlocal reads
        while not stop.is_set():
            try:
                with duckdb.connect(str(serving), read_only=True) as con:
                    con.execute("select count(*) from marts.scorecard_quarterly").fetchone()
                reads += 1
            except Exception as exc:  # any lock error fails the test below
                errors.append(str(exc))
            time.sleep(0.02)

    thread = threading.Thread(target=dashboard_reader)
    thread.start()
    try:
        assert _run(small_landing, warehouse, "2025Q2")
    finally:
        stop.set()
        thread.join()
    # The connection opened before the swap still reads its (old) copy.
    assert held.execute("select count(distinct quarter) from marts.scorecard_quarterly").fetchone()[0] == 1
    held.close()
    assert errors == [] and reads > 10
    assert {q for _, _, q, *_ in _published(serving)} == {"2025Q1", "2025Q2"}
