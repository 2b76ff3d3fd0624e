"""The quarterly run's Great Expectations checks in a process started ahead of time (data_quality.checker):
the same results as checking in the run's own process, a fallback when it is not running or fails, and
no checker left behind by a finished or a killed run."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import duckdb
import pytest

from data_quality import checker
from ingest.contracts import SOURCES

ROOT = Path(__file__).resolve().parents[1]
# what a stored result is, leaving out when it was stored (office_time.wall_clock at the moment)
RESULT_COLUMNS = ("run_id, layer, asset, expectation, column_name, severity, success, observed_value, "
                  "unexpected_count, unexpected_examples, check_id")
FAILURE_COLUMNS = "run_id, file_id, sheet, row_number, column_name, value, asset, expectation, severity"


def _stored(warehouse: Path) -> tuple[list[tuple], list[tuple]]:
    with duckdb.connect(str(warehouse), read_only=True) as con:
        results = con.execute(f"select {RESULT_COLUMNS} from ops.dq_results order by all").fetchall()
        failures = con.execute(f"select {FAILURE_COLUMNS} from ops.dq_failures order by all").fetchall()
    return results, failures


def _checker_pids() -> list[int]:
    """Checker processes whose parent is this test process."""
    out = subprocess.run(["pgrep", "-P", str(os.getpid()), "-f", "data_quality.checker"], capture_output=True, text=True)
    return [int(p) for p in out.stdout.split()]


def _alive(pid: int) -> bool:
    """Running, not just a zombie waiting for init to reap it."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except (FileNotFoundError, ProcessLookupError):
        return False


@pytest.fixture()
def two_copies(small_built: tuple[Path, object], tmp_path: Path) -> tuple[Path, Path]:
    a, b = tmp_path / "in_process.duckdb", tmp_path / "checker.duckdb"
    shutil.copyfile(small_built[0], a)
    shutil.copyfile(small_built[0], b)
    return a, b


def test_the_checker_process_stores_and_returns_what_the_run_itself_would(two_copies: tuple[Path, Path]) -> None:
    in_process, via_checker = two_copies
    here = {kind: checker.check(kind, in_process, f"run-{kind}") for kind in checker.KINDS}
    checker.start(via_checker)
    try:
        assert len(_checker_pids()) == 1
        there = {kind: checker.run(kind, via_checker, f"run-{kind}") for kind in checker.KINDS}
    finally:
        checker.stop()
    assert _checker_pids() == []  # stop() ends it
    assert there == here
    # every submission source is checked, each with its own expectations, and the marts gate once
    assert {o.source for o in there["raw"]} == set(SOURCES)
    assert {o.source for o in there["marts"]} == {"marts"}
    with duckdb.connect(str(in_process), read_only=True) as con:
        stored = con.execute("select count(*) filter (layer = 'raw'), count(*) filter (layer = 'marts'), "
                             "count(*) filter (not success and severity = 'blocking') from ops.dq_results").fetchone()
    assert stored[:2] == (len(there["raw"]), len(there["marts"]))
    blocking = sum(1 for outs in there.values() for o in outs if not o.success and o.severity == "blocking")
    assert stored[2] == blocking
    # and the checker process wrote the same rows (results and the failing raw rows the clerk report lists)
    assert _stored(via_checker) == _stored(in_process)
    assert _stored(via_checker)[1], "the small warehouse has planted problems: some raw rows must fail"


def test_without_a_checker_or_when_it_fails_the_caller_checks_itself(two_copies: tuple[Path, Path], tmp_path: Path) -> None:
    warehouse = two_copies[0]
    assert checker.run("raw", warehouse, "r") is None  # none started (a daemon-launched step, a test)
    broken = tmp_path / "broken.duckdb"  # not a DuckDB file: the check itself fails in the checker
    broken.write_bytes(b"not a warehouse" * 100)
    checker.start(broken)
    try:
        assert checker.run("raw", broken, "r") is None
        assert checker._process is None and _checker_pids() == []  # a failed checker is ended, not reused
    finally:
        checker.stop()


def test_a_killed_run_takes_its_checker_with_it(small_built: tuple[Path, object], tmp_path: Path) -> None:
    # A stand-in for `qinglian run`: starts the checker, says its pid, then waits to be killed. A sleeper
    # holds the checker's input open, so the checker cannot just see its input close: only dying with its
    # parent ends it (qinglian.dbt_child.die_with_parent).
    script = ("import subprocess, sys, time; from pathlib import Path; from data_quality import checker; "
              f"checker.start(Path({str(small_built[0])!r})); fd = checker._process.stdin.fileno(); "
              "s = subprocess.Popen(['sleep', '120'], pass_fds=[fd]); "
              "print(checker._process.pid, s.pid, flush=True); time.sleep(120)")
    run = subprocess.Popen([sys.executable, "-c", script], cwd=ROOT, stdout=subprocess.PIPE, text=True,
                           env=dict(os.environ, QINGLIAN_LOG_DIR=str(tmp_path)))
    try:
        child, sleeper = (int(p) for p in run.stdout.readline().split())
        os.kill(run.pid, signal.SIGKILL)
        run.wait()
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline and _alive(child):
            time.sleep(0.1)
        alive = _alive(child)
        assert not alive, "the checker outlived the run that started it"
    finally:
        run.kill()
        if "sleeper" in locals():
            os.kill(sleeper, signal.SIGKILL)
