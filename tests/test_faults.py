"""Fault injection: kills at every journal boundary and at random moments, files vanishing, a full
disk, a killed quarterly job and two runs at once. After every re-run: the warehouse opens, the
serving copy is intact, the journal and the marts equal those of an uninterrupted run, and every
distinct file is loaded exactly once.

The landing folder is a small subset of the city demo (reference data, an identical re-send and its
original, a corrected file and the file it corrects, a rejected and an unreadable file, a file of a
later quarter), so that a kill-and-rerun costs seconds, not a minute.
"""

from __future__ import annotations

import dataclasses
import os
import random
import shutil
import signal
import subprocess
import threading
import time
from pathlib import Path

import duckdb
import psutil
import pytest

from ingest.pipeline import ingest_landing
from tests import faultkit
from tests.faultkit import Crash, crash_at

pytestmark = pytest.mark.faults
QUARTER = "2025Q2"  # tests/conftest.py TINY_QUARTER


@pytest.fixture(scope="module")
def tiny(tiny_landing: tuple[Path, dict[str, str]]) -> tuple[Path, dict[str, str]]:
    """The small landing folder (tests/conftest.py, cut once from the city demo for the whole run) and
    the expected journal outcome of each file a 2025Q2 run decides. Read-only: copy it to change it."""
    return tiny_landing


@pytest.fixture(scope="module")
def reference(tiny: tuple[Path, dict[str, str]], tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The journal of an uninterrupted ingest of the small folder (no marts)."""
    landing, _ = tiny
    warehouse = tmp_path_factory.mktemp("ref") / "w.duckdb"
    ingest_landing(landing, warehouse, quarter=QUARTER)
    return warehouse


@pytest.fixture(scope="module")
def reference_all(tiny: tuple[Path, dict[str, str]], tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The same, as `qinglian ingest` does it: every quarter's files."""
    landing, _ = tiny
    warehouse = tmp_path_factory.mktemp("ref_all") / "w.duckdb"
    ingest_landing(landing, warehouse)
    return warehouse


def _expected_journal(reference: Path) -> dict[str, str]:
    return faultkit.journal_state(reference)


# --- the ingest journal --------------------------------------------------------------------------


def test_copy_is_decided_only_after_its_original_committed(tiny, reference, tmp_path: Path) -> None:
    """The silent-loss scenario of issue 11: an original whose identical copy sits beside it, and a
    crash before the original committed. The re-run must load the original, not call it a
    duplicate of a copy that never loaded."""
    landing, expected = tiny
    original = next(r for r, o in expected.items() if o != "duplicate" and r.startswith("units/")
                    and (landing / r.replace(".xlsx", "_重发.xlsx")).exists())
    warehouse = tmp_path / "w.duckdb"
    original_commit = {"n": 0}
    real_commit = faultkit._resolve("ingest.load:Journal.commit")
    owner, name = real_commit
    original_fn = getattr(owner, name)

    def commit(self, decisions):
        if any(d.parsed.rel == original for d in decisions):
            original_commit["n"] += 1
            raise Crash("killed before the original committed")
        return original_fn(self, decisions)

    setattr(owner, name, commit)
    try:
        with pytest.raises(Crash):
            ingest_landing(landing, warehouse, quarter=QUARTER)
    finally:
        setattr(owner, name, original_fn)
    assert original_commit["n"] == 1
    with duckdb.connect(str(warehouse), read_only=True) as con:
        # Nothing was said about the copy while its original had not committed.
        assert con.execute("select count(*) from raw.ingest_files where path like 'units/%重发%'").fetchall() == [(0,)]
    ingest_landing(landing, warehouse, quarter=QUARTER)
    with duckdb.connect(str(warehouse), read_only=True) as con:
        rows = dict(con.execute("select path, outcome from raw.ingest_files where path like 'units/汉台区2025年第一季度%'").fetchall())
        loaded = con.execute("""select count(*) from raw.units u join raw.ingest_files f using (file_id)
                                where f.path = ?""", [original]).fetchall()[0][0]
    assert rows[original] == "accepted" and rows[original.replace(".xlsx", "_重发.xlsx")] == "duplicate"
    assert loaded > 500  # the ledger's rows reached the warehouse
    assert faultkit.journal_state(warehouse) == _expected_journal(reference)


BOUNDARIES = (
    ("ingest.load:Journal.commit", "before"),  # between two files: the previous one committed
    ("ingest.load:Journal._supersede", "before"),  # inside a transaction, after its rows were inserted
    ("ingest.load:Journal.commit", "after"),  # committed, not yet reported
)


def _memoize_parsing(monkeypatch) -> None:
    """Parsing is pure (bytes + reference data → result), and so is building the name resolver from the
    reference rows the warehouse holds: the crash chain re-parses the same files and rebuilds the same
    resolver (three times a run) fifty times, so it reuses results for identical inputs. The reference
    rows are still read from the warehouse every time. The final clean run reuses nothing."""
    import ingest.pipeline as pipeline
    from ingest.resolve import Resolver

    real_build, built = Resolver.build, {}

    def build(regions, departments):
        key = (tuple(regions), tuple((code, name, short, tuple(aliases or ())) for code, name, short, aliases in departments))
        if key not in built:
            built[key] = real_build(regions, departments)
        return built[key]  # read only: resolving looks names up, it never changes the resolver

    monkeypatch.setattr(Resolver, "build", build)

    real, cache = pipeline.parse_bytes, {}

    def parse_bytes(data, rel, source, resolver, known_tasks, **kw):
        key = (rel, kw.get("sha256"), source, tuple(sorted(resolver.regions)), tuple(sorted(resolver.dept_names.items())),
               tuple(sorted(known_tasks)))
        if key not in cache:
            cache[key] = real(data, rel, source, resolver, known_tasks, **kw)
        return dataclasses.replace(cache[key])  # the run may clear or spill its copy

    monkeypatch.setattr(pipeline, "parse_bytes", parse_bytes)


def test_ingest_crashed_at_every_commit_boundary_ends_like_an_uninterrupted_run(tiny, reference, tmp_path: Path, monkeypatch) -> None:
    """A chain of runs, the k-th crashed at its first commit boundary, cycling through before a
    commit, inside its transaction and right after it: every file's decision is interrupted at all
    three; then one clean run: the journal equals the uninterrupted one, file ids included."""
    landing, expected = tiny
    warehouse = tmp_path / "w.duckdb"
    _memoize_parsing(monkeypatch)
    crashes = 0
    for k in range(4 * len(expected) + 10):
        target, when = BOUNDARIES[k % len(BOUNDARIES)]
        try:
            with crash_at(target, 1, when):
                ingest_landing(landing, warehouse, quarter=QUARTER)
            break  # nothing left to decide: the crash point was never reached
        except Crash:
            crashes += 1
            faultkit.assert_consistent(warehouse)
    assert crashes == len(BOUNDARIES) * len(expected), crashes  # every decided file, at every boundary
    print(f"\n提交边界中断 {crashes} 次后重新运行：与未中断运行一致")
    monkeypatch.undo()
    ingest_landing(landing, warehouse, quarter=QUARTER)
    assert faultkit.journal_state(warehouse) == _expected_journal(reference)
    faultkit.assert_each_distinct_file_loaded_once(warehouse, landing, expected)


def test_ingest_sigkilled_at_random_moments_ends_like_an_uninterrupted_run(tiny, reference_all, tmp_path: Path) -> None:
    """`qinglian ingest` by path, SIGKILLed (process group) at three random moments in a row, then
    run to the end: the journal equals that of one uninterrupted `qinglian ingest`."""
    landing, expected = tiny
    warehouse = tmp_path / "w.duckdb"
    args = ["ingest", "--landing", str(landing), "--warehouse", str(warehouse)]
    env = {"QINGLIAN_LOG_DIR": str(tmp_path / "logs")}
    # The kill moments are fractions of a warm run: the first run of a session also pays for cold
    # imports and caches, and the batch ingest is fast enough that a cold timing put every moment past
    # the end of a warm run.
    durations = []
    for n in range(2):
        started = time.monotonic()
        timing = faultkit.qinglian(["ingest", "--landing", str(landing), "--warehouse", str(tmp_path / f"timing{n}.duckdb")],
                                   env=env)
        assert timing.returncode == 0, timing.stderr
        durations.append(time.monotonic() - started)
    duration = min(durations)
    rng = random.Random(11)
    kills = attempts = 0
    # Three kills in a row on the same warehouse. On a loaded machine a run can be faster than the timing
    # runs were and end before its moment: that run's moment becomes the new bound of a run (a smaller
    # window next time) and another attempt is made, so the test still kills three times.
    while kills < 3 and attempts < 8:
        attempts += 1
        delay = rng.uniform(0.3, 0.9) * duration
        proc = subprocess.Popen([str(faultkit.BIN / "qinglian"), *args], env=faultkit.minimal_env(env), cwd=faultkit.ROOT,
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
        time.sleep(delay)
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            kills += 1
        else:
            duration = delay  # it took less than that
        proc.wait(timeout=30)
        faultkit.assert_consistent(warehouse)
        if proc.returncode == 0:  # it finished: start the next kills from an empty warehouse again
            for leftover in warehouse.parent.glob(warehouse.name + "*"):
                leftover.unlink()
    assert kills >= 2, "the ingest finished before it could be killed; the delays no longer fall inside it"
    out = faultkit.qinglian(args, env=env, timeout=120)
    assert out.returncode == 0, out.stdout[-2000:] + out.stderr[-2000:]
    assert "Traceback" not in out.stdout + out.stderr
    assert faultkit.journal_state(warehouse) == _expected_journal(reference_all)
    faultkit.assert_each_distinct_file_loaded_once(warehouse, landing, expected)


def test_a_file_removed_mid_run_gets_its_own_outcome_and_the_batch_goes_on(tiny, tmp_path: Path, monkeypatch) -> None:
    landing_src, expected = tiny
    landing = tmp_path / "landing"
    shutil.copytree(landing_src, landing, copy_function=shutil.copy2)
    victim = next(r for r in expected if r.startswith("inspections/") and expected[r] == "accepted")
    trigger = next(r for r in expected if r.startswith("cases/"))  # read before inspections/
    import ingest.pipeline as pipeline

    real_read = pipeline.read

    def read(root, entry, limits):
        if entry.rel == trigger and (landing / victim).exists():
            (landing / victim).unlink()  # a clerk takes the file back while the run reads others
        return real_read(root, entry, limits)

    monkeypatch.setattr(pipeline, "read", read)
    monkeypatch.setenv("QINGLIAN_INGEST_WORKERS", "1")
    summary = ingest_landing(landing, tmp_path / "w.duckdb", quarter=QUARTER)
    outcomes = {f.rel: f.outcome for f in summary.files}
    assert outcomes[victim] == "vanished"
    assert all(outcomes[r] == o for r, o in expected.items() if r != victim)
    assert summary.complete  # a file that is gone is not a failure of the run
    # An uninterrupted run over the folder as it now is gives the same journal.
    fresh = tmp_path / "fresh.duckdb"
    ingest_landing(landing, fresh, quarter=QUARTER)
    assert faultkit.journal_state(tmp_path / "w.duckdb") == faultkit.journal_state(fresh)


def test_an_unreadable_file_gets_its_own_outcome_and_is_retried(tiny, reference, tmp_path: Path, monkeypatch) -> None:
    """An I/O error on one file: it fails alone (every other file is read and reported), the files
    after it in the order wait, and the next run ends exactly where an uninterrupted run ends."""
    landing, expected = tiny
    victim = next(r for r in expected if r.startswith("cases/") and expected[r] == "accepted")
    import ingest.pipeline as pipeline
    from ingest.landing import ReadFailed

    real_read = pipeline.read

    def read(root, entry, limits):
        if entry.rel == victim:
            raise ReadFailed("文件无法读取（磁盘读取错误），下次运行将重试")
        return real_read(root, entry, limits)

    monkeypatch.setattr(pipeline, "read", read)
    warehouse = tmp_path / "w.duckdb"
    summary = ingest_landing(landing, warehouse, quarter=QUARTER)
    assert not summary.complete
    outcomes = {f.rel: (f.outcome, f.message) for f in summary.files}
    assert outcomes[victim] == ("failed", "文件无法读取（磁盘读取错误），下次运行将重试")
    assert {r for r in expected if r not in outcomes} == set()  # every file got an outcome
    waiting = [r for r, (o, m) in outcomes.items() if o == "failed" and m.startswith("等待：")]
    assert waiting and all(expected[r] != "" for r in waiting)
    faultkit.assert_consistent(warehouse)
    monkeypatch.setattr(pipeline, "read", real_read)
    again = ingest_landing(landing, warehouse, quarter=QUARTER)
    assert again.complete
    assert faultkit.journal_state(warehouse) == _expected_journal(reference)


def test_a_full_disk_during_ingest_is_contained_per_file_and_retried(tiny, reference_all, tmp_path: Path) -> None:
    landing, expected = tiny
    warehouse = tmp_path / "w.duckdb"
    args = ["ingest", "--landing", str(landing), "--warehouse", str(warehouse)]
    env = {"QINGLIAN_LOG_DIR": str(tmp_path / "logs")}
    # Room for the reference data, not for the ledgers: the WAL cannot grow past 1.5 MB.
    full = faultkit.qinglian(args, env=env, preexec=faultkit.limit_file_size(1_500_000), timeout=120)
    text = full.stdout + full.stderr
    assert full.returncode == 1, text[-3000:]
    assert "Traceback" not in text
    assert "磁盘空间不足，本文件未入库（已全部回退）" in text
    assert "本次未能处理" in text
    faultkit.assert_consistent(warehouse)
    with duckdb.connect(str(warehouse), read_only=True) as con:
        decided = con.execute("select count(*) from raw.ingest_files").fetchall()[0][0]
    assert 0 < decided < len(expected)  # some files committed before the disk filled, not all
    out = faultkit.qinglian(args, env=env, timeout=120)
    assert out.returncode == 0, out.stdout[-2000:] + out.stderr[-2000:]
    assert faultkit.journal_state(warehouse) == _expected_journal(reference_all)
    faultkit.assert_each_distinct_file_loaded_once(warehouse, landing, expected)


def test_a_second_ingest_is_refused_while_one_holds_the_warehouse(tiny, tmp_path: Path) -> None:
    from qinglian.runlock import warehouse_lock

    landing, _ = tiny
    warehouse = tmp_path / "w.duckdb"
    with warehouse_lock(warehouse, "测试中的另一个任务"):
        out = faultkit.qinglian(["ingest", "--landing", str(landing), "--warehouse", str(warehouse)], timeout=60)
    assert out.returncode == 75
    assert "另一个任务正在使用数据仓库" in out.stderr and "测试中的另一个任务" in out.stderr
    assert "Traceback" not in out.stdout + out.stderr
    assert not warehouse.exists()  # refused before anything was written
    again = faultkit.qinglian(["ingest", "--landing", str(landing), "--warehouse", str(warehouse)], timeout=120)
    assert again.returncode == 0, again.stderr[-2000:]


# --- publish ---------------------------------------------------------------------------------------


def _published_copy(tmp_path: Path) -> tuple[Path, Path]:
    from orchestration.publish import publish
    from tests.test_publish import _fake_marts

    warehouse, serving = tmp_path / "warehouse.duckdb", tmp_path / "serving" / "warehouse.duckdb"
    _fake_marts(warehouse)
    publish(warehouse, serving, "2025Q1", run_id="first")
    with duckdb.connect(str(warehouse)) as con:  # the next quarter's figures differ
        con.execute("update marts.scorecard_quarterly set composite_score = composite_score + 1")
    return warehouse, serving


def _publish_rows(path: Path) -> list[tuple]:
    with duckdb.connect(str(path), read_only=True) as con:
        return con.execute("select publish_id, quarter, status from ops.publish_log order by publish_id").fetchall()


def _temps(serving: Path) -> list[str]:
    return sorted(p.name for p in serving.parent.iterdir() if p.name.startswith("."))


PUBLISH_CHILD = """
import sys
sys.path.insert(0, {root!r})
import tests.faultkit as f
for target, when in {faults!r}:
    f.arm(target, 1, when, f.kill_self)
from orchestration.publish import publish, PublishFailed
try:
    publish({warehouse!r} and __import__('pathlib').Path({warehouse!r}), __import__('pathlib').Path({serving!r}), '2025Q2', 'second')
except PublishFailed as exc:
    print(exc)
    sys.exit(1)
"""


def _publish_child(warehouse: Path, serving: Path, faults: list[tuple[str, str]], preexec=None) -> subprocess.CompletedProcess:
    code = PUBLISH_CHILD.format(root=str(faultkit.ROOT), faults=faults, warehouse=str(warehouse), serving=str(serving))
    return subprocess.run([os.sys.executable, "-c", code], capture_output=True, text=True, timeout=60, preexec_fn=preexec)


def test_a_full_disk_during_publish_leaves_nothing_behind_and_logs_no_publish(tmp_path: Path) -> None:
    warehouse, serving = _published_copy(tmp_path)
    before, log_before = serving.read_bytes(), _publish_rows(warehouse)
    out = _publish_child(warehouse, serving, [], preexec=faultkit.limit_file_size(warehouse.stat().st_size // 3))
    assert out.returncode == 1, out.stdout + out.stderr
    assert "磁盘空间不足，新的驾驶舱数据未能写入（临时文件已删除）" in out.stdout
    assert serving.read_bytes() == before
    assert _temps(serving) == []
    published = [r for r in _publish_rows(warehouse) if r[2] == "published"]
    assert published == [r for r in log_before if r[2] == "published"]  # no publish was claimed
    # Room again: one publish, recorded once, in the warehouse and in the copy the dashboards read.
    out = _publish_child(warehouse, serving, [])
    assert out.returncode == 0, out.stderr
    after = [r for r in _publish_rows(warehouse) if r[2] == "published"]
    assert len(after) == len(published) + 1
    assert [r for r in _publish_rows(serving) if r[2] == "published"] == after


@pytest.mark.parametrize("target,when", [
    ("orchestration.publish:make_serving_file", "before"),
    ("orchestration.publish:make_serving_file", "after"),
    ("orchestration.publish:record_publish", "after"),  # recorded in the new copy, not yet swapped
    ("orchestration.publish:_keep_previous", "after"),
    ("os:replace", "after"),  # swapped in, not yet recorded in the warehouse
])
def test_publish_killed_at_each_step_leaves_old_or_new_and_a_rerun_publishes_once(tmp_path: Path, target: str, when: str) -> None:
    from orchestration.publish import PUBLISHED_TABLES

    warehouse, serving = _published_copy(tmp_path)
    old = serving.read_bytes()
    published_before = [r for r in _publish_rows(warehouse) if r[2] == "published"]
    killed = _publish_child(warehouse, serving, [(target, when)])
    assert killed.returncode == -signal.SIGKILL
    # The dashboards' copy is the old one or the complete new one, never partial.
    with duckdb.connect(str(serving), read_only=True) as con:
        for table in PUBLISHED_TABLES:
            con.execute(f"select count(*) from marts.{table}").fetchall()
    if serving.read_bytes() != old:
        assert target == "os:replace"
        assert [r for r in _publish_rows(serving) if r[2] == "published"][-1][1] == "2025Q2"
    assert [r for r in _publish_rows(warehouse) if r[2] == "published"] == published_before  # not claimed yet
    rerun = _publish_child(warehouse, serving, [])
    assert rerun.returncode == 0, rerun.stderr
    assert _temps(serving) == []  # the killed attempt's temporary file is gone
    after = [r for r in _publish_rows(warehouse) if r[2] == "published"]
    assert after == published_before + [(published_before[-1][0] + 1, "2025Q2", "published")]
    assert [r for r in _publish_rows(serving) if r[2] == "published"] == after
    with duckdb.connect(str(warehouse), read_only=True) as w, duckdb.connect(str(serving), read_only=True) as s:
        q = "select quarter, version, rules_version, changes from ops.scorecard_versions order by all"
        assert w.execute(q).fetchall() == s.execute(q).fetchall()


# --- the quarterly job -----------------------------------------------------------------------------


def _dbt_children(pid: int) -> list[psutil.Process]:
    """The `dbt build` processes under `pid` (not the short `dbt --version` dagster-dbt runs first)."""
    try:
        return [c for c in psutil.Process(pid).children(recursive=True)
                if any(part.endswith(("/dbt", "qinglian-dbt")) for part in c.cmdline()[:2]) and "build" in c.cmdline()]
    except psutil.Error:
        return []


def test_parent_killed_with_sigkill_takes_dbt_with_it(reference, tmp_path: Path) -> None:
    """dbt is started through qinglian-dbt (PR_SET_PDEATHSIG): an orchestrator killed by SIGKILL,
    which cannot clean up, still leaves no dbt writing the warehouse."""
    from qinglian.settings import DBT_PROJECT_DIR, dbt_executable

    warehouse = tmp_path / "w.duckdb"
    shutil.copy(reference, warehouse)
    parent = subprocess.Popen(
        [os.sys.executable, "-c", "import subprocess, sys, time; subprocess.Popen(sys.argv[1:]); time.sleep(120)",
         str(dbt_executable()), "build", "--project-dir", str(DBT_PROJECT_DIR), "--profiles-dir", str(DBT_PROJECT_DIR),
         "--target-path", str(tmp_path / "target"), "--log-path", str(tmp_path / "target")],
        env=faultkit.minimal_env({"QINGLIAN_WAREHOUSE": str(warehouse)}), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        start_new_session=True)
    try:
        deadline = time.monotonic() + 60
        children: list[psutil.Process] = []
        while time.monotonic() < deadline and not children:
            children = [c for c in _dbt_children(parent.pid) if c.cmdline()[1].endswith("/dbt")]
            time.sleep(0.1)
        assert children, "dbt was never seen running"
        time.sleep(1.0)
        parent.send_signal(signal.SIGKILL)
        parent.wait(timeout=10)
        gone, alive = psutil.wait_procs(children, timeout=10)
        assert alive == [], [c.cmdline() for c in alive]
    finally:
        with pytest.raises(ProcessLookupError):
            os.killpg(parent.pid, signal.SIGKILL)


def test_quarterly_job_stopped_mid_build_and_a_second_run_refused(tiny, reference, tmp_path: Path) -> None:
    """`.venv/bin/qinglian run` by path without PATH (as cron runs it): a second run started while it
    builds is refused at once with exit code 75; SIGTERM to the first stops it and its dbt child; the
    serving copy is untouched; a run then SIGKILLed (process group) mid-build, which cleans up nothing,
    leaves the serving copy untouched too; the next run publishes marts identical to an uninterrupted run."""
    from orchestration.dbt_run import run_dbt
    from qinglian.rules import install_rules
    from tests.test_publish import _fake_marts

    landing, expected = tiny
    root = tmp_path / "run"
    warehouse, serving = root / "warehouse.duckdb", root / "serving" / "warehouse.duckdb"
    # An earlier quarter is on the dashboards: it must stay there until a complete quarter replaces it.
    _fake_marts(tmp_path / "old.duckdb")
    from orchestration.publish import publish

    publish(tmp_path / "old.duckdb", serving, "2025Q1", "old")
    old_serving = serving.read_bytes()
    env = {"QINGLIAN_LOG_DIR": str(root / "logs"), "DAGSTER_HOME": str(root / "dagster_home")}
    # The runs after the first build models and seeds only (dbt's own setting DBT_RESOURCE_TYPES, inherited
    # by the job's `dbt build`): the SIGKILLed one dies a second into its build, and the recovering run's
    # property is its marts, which the data tests do not change. The first run keeps the data tests, so
    # that its build outlasts the refused second run; it is stopped before they end. A job run with
    # the data tests that completes: tests/test_orchestration.py (published_q1).
    models_only = {**env, "DBT_RESOURCE_TYPES": "model seed"}
    args = ["run", "--landing", str(landing), "--warehouse", str(warehouse), "--quarter", QUARTER, "--no-dashboard"]
    first = subprocess.Popen([str(faultkit.BIN / "qinglian"), *args], env=faultkit.minimal_env(env), cwd="/",
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True)
    seen: dict[str, object] = {}

    def watch() -> None:
        deadline = time.monotonic() + 600  # a deadline, not a wait: the machine may be shared
        while time.monotonic() < deadline and first.poll() is None:
            kids = _dbt_children(first.pid)
            if kids:
                seen["dbt"] = kids
                time.sleep(1.5)
                seen["second"] = faultkit.qinglian(args, env=env, timeout=120)
                seen["dbt_before_term"] = [k for k in kids if k.is_running()]
                first.send_signal(signal.SIGTERM)
                return
            time.sleep(0.1)

    watcher = threading.Thread(target=watch)
    watcher.start()
    # Meanwhile, the reference: the same folder ingested and built without interruption (the rules
    # installed, then dbt as the job's step runs it: a child in the warehouse's folder, which starts from
    # the prepared partial-parse state instead of parsing the project; the data tests change no table:
    # models and seeds only).
    ref = tmp_path / "ref" / "warehouse.duckdb"
    ref.parent.mkdir()
    shutil.copy(reference, ref)
    install_rules(ref)
    built = run_dbt(ref, tmp_path / "ref" / "target",
                    ["build", "--exclude-resource-type", "test", "--exclude-resource-type", "unit_test"])
    watcher.join()
    assert built.returncode == 0, (tmp_path / "ref" / "target" / "stdout.log").read_text(encoding="utf-8")[-3000:]
    try:
        out, err = first.communicate(timeout=120)
    finally:
        with __import__("contextlib").suppress(ProcessLookupError):
            os.killpg(first.pid, signal.SIGKILL)
    assert "dbt" in seen, f"dbt never started: {out[-2000:]} {err[-2000:]}"
    second = seen["second"]
    assert second.returncode == 75, second.stdout + second.stderr
    assert "另一个任务正在使用数据仓库" in second.stderr and "Traceback" not in second.stdout + second.stderr
    assert first.returncode == 143, out[-2000:] + err[-2000:]
    assert "已停止" in err and "Traceback" not in out + err
    gone, alive = psutil.wait_procs(seen["dbt"], timeout=15)
    assert alive == [], "the dbt child outlived the stopped run"
    assert serving.read_bytes() == old_serving
    assert [p.name for p in serving.parent.iterdir() if p.name.startswith(".")] == []
    faultkit.assert_consistent(warehouse)
    assert faultkit.journal_state(warehouse) == faultkit.journal_state(reference)
    # Again, killed with SIGKILL this time (no handler runs, dbt dies with it) one second into its dbt build.
    killed = subprocess.Popen([str(faultkit.BIN / "qinglian"), *args], env=faultkit.minimal_env(models_only), cwd="/",
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        deadline = time.monotonic() + 600
        kids: list[psutil.Process] = []
        while time.monotonic() < deadline and killed.poll() is None and not kids:
            kids = _dbt_children(killed.pid)
            time.sleep(0.1)
        assert kids, "the second run's dbt build was never seen running"
        time.sleep(1.0)  # let dbt start writing tables
        os.killpg(killed.pid, signal.SIGKILL)
        killed.wait(timeout=30)
    finally:
        with __import__("contextlib").suppress(ProcessLookupError):
            os.killpg(killed.pid, signal.SIGKILL)
    gone, alive = psutil.wait_procs(kids, timeout=15)
    assert alive == [], "dbt outlived the killed run"
    assert serving.read_bytes() == old_serving
    faultkit.assert_consistent(warehouse)
    # The next run, through the same command, recovers the warehouse and publishes what an uninterrupted
    # run would have.
    again = faultkit.qinglian(args, env=models_only, timeout=900)
    assert again.returncode == 0, again.stdout[-3000:] + again.stderr[-3000:]
    assert "驾驶舱数据已发布" in again.stdout and "Traceback" not in again.stdout + again.stderr
    reference_marts = faultkit.marts_state(ref)
    assert faultkit.marts_state(warehouse) == reference_marts
    assert faultkit.marts_state(serving) == reference_marts
    assert [r for r in _publish_rows(serving) if r[2] == "published"][-1][1:] == (QUARTER, "published")
    assert len([r for r in _publish_rows(warehouse) if r[1] == QUARTER and r[2] == "published"]) == 1
    faultkit.assert_each_distinct_file_loaded_once(warehouse, landing, expected)
