"""The quarterly job through Dagster: definitions, schedule, sensor, write-audit-publish, crash safety."""

from __future__ import annotations

import dataclasses
import hashlib
import os
import shutil
import subprocess
import sys
import threading
import time
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import duckdb
import pytest
from dagster import DagsterInstance, RunRequest, SkipReason, build_schedule_context, build_sensor_context

from orchestration.definitions import defs as load_defs
from orchestration.defs.schedules import landing_sensor, quarterly_schedule
from orchestration.job import run_quarterly
from orchestration.partitions import partition_key, quarter_of, runnable_quarters
from orchestration.resources import WarehouseResource

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
    defs = load_defs()
    job = defs.resolve_job_def("quarterly_job")
    keys = {"/".join(k.path) for k in defs.resolve_asset_graph().get_all_asset_keys()}
    assert {f"raw/{t}" for t in ("regions", "departments", "tasks", "task_progress", "units", "inspections",
                                 "survey_responses", "survey_answers", "cases")} <= keys
    assert {"marts/scorecard_quarterly", "marts/assessment_annual", "marts/kpi_unit_coverage", "serving/published_warehouse"} <= keys
    assert job.partitions_def is not None and partition_key("2025Q1") in job.partitions_def.get_partition_keys()
    # dbt assets are not partitioned (every build recomputes every quarter); ingest and publish are.
    graph = defs.resolve_asset_graph()
    partitioned = {"/".join(k.path) for k in graph.get_all_asset_keys() if graph.get(k).partitions_def is not None}
    assert {"raw/units", "raw/ingest_files", "serving/published_warehouse"} <= partitioned
    assert not {k for k in partitioned if k.split("/")[0] in ("staging", "intermediate", "marts")}
    schedule = defs.resolve_schedule_def("quarterly_schedule")
    assert (schedule.cron_schedule, schedule.execution_timezone) == ("0 8 * * *", "Asia/Shanghai")
    assert defs.resolve_sensor_def("landing_sensor") is not None


def _tick(day: datetime):
    return quarterly_schedule(build_schedule_context(scheduled_execution_time=day))


@pytest.mark.parametrize("deadline,quarter", [
    (datetime(2025, 4, 10, 8, 0), "2025Q1"),
    (datetime(2025, 7, 10, 8, 0), "2025Q2"),
    (datetime(2025, 10, 10, 8, 0), "2025Q3"),
    (datetime(2026, 1, 10, 8, 0), "2025Q4"),
])
def test_schedule_runs_the_quarter_that_just_ended_from_its_report_deadline(deadline: datetime, quarter: str,
                                                                            monkeypatch: pytest.MonkeyPatch) -> None:
    """The 10th day after quarter end (Beijing time): the run of the quarter that ended; the day before,
    nothing; a later day (a server that was down on the 10th) asks again under the same run key, which
    Dagster launches once."""
    monkeypatch.delenv("QINGLIAN_RULES", raising=False)
    monkeypatch.delenv("QINGLIAN_ENV", raising=False)
    tz = ZoneInfo("Asia/Shanghai")
    day = deadline.replace(tzinfo=tz)
    before = _tick(day - timedelta(days=1))
    assert isinstance(before, SkipReason) and quarter in before.skip_message
    request = _tick(day)
    assert isinstance(request, RunRequest)
    assert (request.partition_key, request.run_key, request.tags["qinglian/quarter"]) == (partition_key(quarter), f"schedule-{quarter}", quarter)
    later = _tick(day + timedelta(days=40))
    assert isinstance(later, RunRequest) and later.run_key == request.run_key
    # 23:30 on the 9th in Beijing is already the 10th's 15:30 of the previous day in UTC terms: the
    # schedule decides by the Beijing calendar day.
    assert isinstance(_tick(datetime(deadline.year, deadline.month, 9, 23, 30, tzinfo=tz)), SkipReason)
    assert isinstance(_tick(datetime(deadline.year, deadline.month, 10, 0, 30, tzinfo=tz).astimezone(ZoneInfo("UTC"))), RunRequest)


def test_the_schedule_day_comes_from_the_rules_configuration(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """An office that sets report_deadline_days: 15 is run on the 15th day after quarter end, not the 10th."""
    rules = tmp_path / "rules.yaml"
    rules.write_text("default:\n  report_deadline_days: 15\n", encoding="utf-8")
    monkeypatch.setenv("QINGLIAN_RULES", str(rules))
    tz = ZoneInfo("Asia/Shanghai")
    assert isinstance(_tick(datetime(2025, 7, 14, 8, tzinfo=tz)), SkipReason)
    request = _tick(datetime(2025, 7, 15, 8, tzinfo=tz))
    assert isinstance(request, RunRequest) and request.tags["qinglian/quarter"] == "2025Q2"


def test_partitions_start_at_the_configured_first_quarter(monkeypatch: pytest.MonkeyPatch) -> None:
    from orchestration.partitions import quarterly_partitions_def
    from qinglian.errors import UserError
    from qinglian.settings import first_quarter

    monkeypatch.setenv("QINGLIAN_FIRST_QUARTER", "2018q3")
    assert first_quarter() == "2018Q3"
    keys = quarterly_partitions_def().get_partition_keys(current_time=datetime(2019, 2, 1, tzinfo=ZoneInfo("Asia/Shanghai")))
    assert [quarter_of(k) for k in keys] == ["2018Q3", "2018Q4", "2019Q1"]
    # The set grows with the calendar, not with the moment the module was imported.
    later = quarterly_partitions_def().get_partition_keys(current_time=datetime(2019, 7, 1, 1, tzinfo=ZoneInfo("Asia/Shanghai")))
    assert quarter_of(later[-1]) == "2019Q3" and len(later) == 5
    monkeypatch.setenv("QINGLIAN_FIRST_QUARTER", "2018年")
    with pytest.raises(UserError, match="QINGLIAN_FIRST_QUARTER"):
        first_quarter()
    monkeypatch.delenv("QINGLIAN_FIRST_QUARTER")
    assert runnable_quarters(datetime(2025, 5, 1, tzinfo=ZoneInfo("Asia/Shanghai")))[-2:] == ["2025Q1", "2025Q2"]


def test_sensor_triggers_the_quarter_of_a_new_file(tmp_path: Path) -> None:
    from tests.test_ingest_loading import units_file

    landing = tmp_path / "landing"
    units_file(landing, "洋县.xlsx", "创建中")  # titled 2025年第一季度
    resource = WarehouseResource(warehouse_path=str(tmp_path / "w.duckdb"), landing_path=str(landing))
    context = build_sensor_context(resources={"warehouse": resource})
    result = landing_sensor(context)
    assert [(r.partition_key, r.tags["qinglian/quarter"], r.tags["trigger"]) for r in result] == [
        (partition_key("2025Q1"), "2025Q1", "landing_sensor")]
    again = landing_sensor(build_sensor_context(cursor=context.cursor, resources={"warehouse": resource}))
    assert isinstance(again, SkipReason)
    # A corrected upload of the same file (new bytes) asks again, under a new run key.
    units_file(landing, "洋县.xlsx", "已达标")
    third = landing_sensor(build_sensor_context(cursor=context.cursor, resources={"warehouse": resource}))
    assert [r.partition_key for r in third] == [partition_key("2025Q1")] and third[0].run_key != result[0].run_key


def test_orchestration_imports_no_cli_and_loads_nothing_at_import() -> None:
    """No import cycle with the command line, and no dbt parse when the definitions module is imported."""
    code = ("import sys; import orchestration.definitions, orchestration.job; "
            "assert 'qinglian.cli' not in sys.modules, 'cli imported'; "
            "assert not any(m.startswith('dbt.') for m in sys.modules), 'dbt imported'")
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr[-2000:]


@pytest.fixture(scope="module")
def small_landing(tiny_landing: tuple[Path, dict[str, str]]) -> Path:
    """The tiny cut of the city demo (tests/conftest.py, shared with the fault tests): files of 2025Q1,
    2025Q2 and one of 2025Q3, so a run costs seconds of ingest and a dbt build on little data."""
    return tiny_landing[0]


def _run(landing: Path, warehouse: Path, quarter: str = "2025Q2") -> bool:
    ok = run_quarterly(landing, warehouse, quarter=quarter, instance=DagsterInstance.ephemeral())
    # the run's Great Expectations checker (data_quality.checker) ends with the run, passed or blocked
    checkers = subprocess.run(["pgrep", "-P", str(os.getpid()), "-f", "data_quality.checker"],
                              capture_output=True, text=True).stdout.split()
    assert checkers == [], f"checker processes left behind: {checkers}"
    return ok


def _models_only(monkeypatch: pytest.MonkeyPatch) -> None:
    """The job's `dbt build` without dbt's data tests, for a run whose property is not about them (the
    check gate, a publish, an idempotent re-run): every model is still built and materialised, the rest of
    the job is unchanged. The 2025Q1 run of this file (published_q1) builds with the data tests, as the job
    always does."""
    import orchestration.dbt_run as dbt_run

    real = dbt_run.run_dbt

    def run_dbt(warehouse: Path, target: Path, args: list[str]):
        if args[0] != "build":  # the ingest step's `dbt run --select staging` (views for the checks) runs as is
            return real(warehouse, target, args)
        return real(warehouse, target, [*args, "--exclude-resource-type", "test"])

    monkeypatch.setattr(dbt_run, "run_dbt", run_dbt)


@pytest.fixture
def without_data_tests(monkeypatch: pytest.MonkeyPatch) -> None:
    _models_only(monkeypatch)


@pytest.fixture(scope="module")
def published_q1(small_landing: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One 2025Q1 run, published; each test continues from a copy of it."""
    root = tmp_path_factory.mktemp("q1")
    assert _run(small_landing, root / "warehouse.duckdb", "2025Q1")
    return root


@pytest.fixture
def after_q1(published_q1: Path, tmp_path: Path) -> tuple[Path, Path]:
    shutil.copytree(published_q1, tmp_path / "run")
    return tmp_path / "run" / "warehouse.duckdb", tmp_path / "run" / "serving" / "warehouse.duckdb"


def _failing_gate(monkeypatch: pytest.MonkeyPatch) -> None:
    """The pre-publish marts suite with one blocking failure injected (its other results are real)."""
    import data_quality.validate as validate

    real = validate.validate_marts

    def failing(con):
        results = real(con)
        bad = dataclasses.replace(results[0], success=False, severity="blocking", description_zh="测试注入的阻断性失败")
        return [bad, *results[1:]]

    monkeypatch.setattr(validate, "validate_marts", failing)

    # the run's checker process (data_quality.checker) validates in a process of its own, which the
    # patch above does not reach: its outcomes get the same injected failure
    from data_quality import checker

    real_run = checker.run

    def failing_run(kind, warehouse, run_id):
        outcomes = real_run(kind, warehouse, run_id)
        if kind != "marts" or outcomes is None:
            return outcomes
        return [dataclasses.replace(outcomes[0], success=False, severity="blocking"), *outcomes[1:]]

    monkeypatch.setattr(checker, "run", failing_run)


def test_blocked_run_keeps_the_copy_then_the_partition_run_publishes_and_is_idempotent_while_readers_read(
        small_landing: Path, after_q1: tuple[Path, Path], without_data_tests: None) -> None:
    """After 2025Q1: a 2025Q2 run whose blocking pre-publish check fails publishes nothing and keeps the
    previous serving copy byte for byte. The next 2025Q2 run publishes both quarters while a dashboard
    reads the serving copy (a connection held open through the swap, and one reconnecting every 20 ms: no
    lock error); the same run again changes nothing.

    One warehouse goes through the three runs (a 2025Q2 run costs an ingest and two dbt invocations);
    their dbt builds leave out dbt's data tests, which passed in the 2025Q1 run (published_q1) and change
    no table: every model is still built, and the properties here are the gate's and the publish's."""
    warehouse, serving = after_q1
    with duckdb.connect(str(serving), read_only=True) as con:
        assert {q for (q,) in con.execute("select distinct quarter from marts.scorecard_quarterly").fetchall()} == {"2025Q1"}
    with duckdb.connect(str(warehouse), read_only=True) as con:
        q1_units = con.execute("select count(*) from raw.units").fetchone()[0]

    # 1. The blocking check fails: nothing is published, the dashboards keep 2025Q1.
    before = _digest(serving)
    with pytest.MonkeyPatch.context() as mp:
        _failing_gate(mp)
        assert not _run(small_landing, warehouse, "2025Q2")
    assert _digest(serving) == before
    with duckdb.connect(str(warehouse), read_only=True) as con:
        assert con.execute("select count(*) from ops.publish_log where quarter = '2025Q2'").fetchone()[0] == 0

    # 2. The check passes: the run publishes while readers read.
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
        assert _run(small_landing, warehouse)
    finally:
        stop.set()
        thread.join()
    # The connection opened before the swap still reads its (old) copy.
    assert held.execute("select count(distinct quarter) from marts.scorecard_quarterly").fetchone()[0] == 1
    held.close()
    assert errors == [] and reads > 10
    first = _published(serving)
    assert {q for _, _, q, *_ in first} == {"2025Q1", "2025Q2"}
    with duckdb.connect(str(warehouse), read_only=True) as con:
        counts = con.execute("select (select count(*) from raw.units), (select count(*) from marts.kpi_unit_coverage)").fetchone()
    with duckdb.connect(str(serving), read_only=True) as con:
        log = con.execute("select quarter, status from ops.publish_log order by publish_id").fetchall()
    # The 2025Q2 runs loaded only files up to 2025Q2 on top of what 2025Q1 had.
    assert counts[0] > q1_units
    assert log == [("2025Q1", "published"), ("2025Q2", "published")]

    # 3. The same run again: nothing dbt reads has changed, so no dbt build runs (qinglian.build_state).
    import orchestration.dbt_run as dbt_run

    builds: list[list[str]] = []
    counted = dbt_run.run_dbt

    def counting(warehouse: Path, target: Path, args: list[str]):
        builds.append(args)
        return counted(warehouse, target, args)

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(dbt_run, "run_dbt", counting)
        assert _run(small_landing, warehouse)
    assert [a for a in builds if a[0] == "build"] == []
    assert _published(serving) == first
    with duckdb.connect(str(warehouse), read_only=True) as con:
        assert con.execute("select (select count(*) from raw.units), (select count(*) from marts.kpi_unit_coverage)").fetchone() == counts
    with duckdb.connect(str(serving), read_only=True) as con:
        assert con.execute("select quarter, version from ops.scorecard_versions order by 1").fetchall() == [("2025Q1", 1), ("2025Q2", 1)]


# A run killed mid-build (SIGKILL to its process group, and SIGTERM) and the run after it that recovers and
# publishes: tests/test_faults.py::test_quarterly_job_stopped_mid_build_and_a_second_run_refused.
