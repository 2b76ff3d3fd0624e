"""The quarterly run's Great Expectations checks in a process started ahead of time.

Importing Great Expectations costs ~5 s of one core (BENCHMARKS.md, fixed costs), and the quarterly
job needs it only after the ingest. `qinglian run` therefore starts this checker process first
thing: it imports GX on the second core while the run imports Dagster and ingests the landing
folder, then waits. The ingest step's checks and the marts gate send it one request each
("raw", "marts") and get back the outcome of every expectation; the checker opens the warehouse
only for the request (DuckDB has one writer: the run holds no connection meanwhile) and stores
the results itself (data_quality.validate.store_results), exactly as the in-process path does.

Without a started checker (a step the Dagster daemon launches, a test materialising an asset, a
process that has imported GX already, where the checker would pay the import a second time) the
callers validate in their own process: `run()` returns None and they fall back.

The checker dies with the run: the kernel sends it SIGKILL when its parent dies (requested between
fork and exec, as qinglian serve does for its services), and a run interrupted while it checks kills it; an interrupted check leaves nothing, since
its results are written in one transaction at the end.
"""

from __future__ import annotations

import json
import logging
import os
import signal
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

log = logging.getLogger(__name__)

KINDS = ("raw", "marts")


@dataclass(frozen=True)
class Outcome:
    """What a Dagster check needs of one expectation's result (data_quality.validate.CheckResult)."""

    source: str
    asset: str
    expectation: str
    severity: str
    success: bool


_process: subprocess.Popen | None = None


def start(warehouse: Path) -> None:
    """Start the checker if it is not running (idempotent); it imports GX and waits for requests.
    Its log goes to the run's log file (anything it prints too: no traceback on the terminal)."""
    global _process
    if _process is not None and _process.poll() is None:
        return
    from qinglian.dbt_child import die_with_parent
    from qinglian.logs import current

    env = dict(os.environ, PYTHONUNBUFFERED="1")
    with open(current() or os.devnull, "a", encoding="utf-8") as err:
        # die_with_parent between fork and exec, not in the child's own start: a run killed in the
        # child's first ~0.2 s would otherwise leave it behind (the request would come too late)
        _process = subprocess.Popen([sys.executable, "-m", "data_quality.checker", "--warehouse", str(warehouse)],
                                    stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=err, env=env,
                                    text=True, encoding="utf-8", preexec_fn=die_with_parent)


def stop() -> None:
    """End the checker (it exits when its input closes)."""
    global _process
    proc, _process = _process, None
    if proc is None:
        return
    try:
        proc.stdin.close()
        proc.wait(timeout=10)
    except (OSError, subprocess.TimeoutExpired):
        proc.kill()
        proc.wait()


def run(kind: str, warehouse: Path, run_id: str) -> list[Outcome] | None:
    """One request to the started checker; None when none is running or it failed (the caller checks
    in its own process instead, which also reports a real error the way it always has)."""
    global _process
    proc = _process
    if proc is None or proc.poll() is not None:
        return None
    try:
        proc.stdin.write(json.dumps({"kind": kind, "warehouse": str(warehouse), "run_id": run_id}) + "\n")
        proc.stdin.flush()
        line = proc.stdout.readline()
    except BaseException:  # a stop request while it checks: the check stops with the run
        proc.kill()
        proc.wait()
        _process = None
        raise
    reply = json.loads(line) if line.strip() else {"error": f"检查进程已退出（退出码 {proc.poll()}）"}
    if "error" in reply:
        log.warning("数据质量检查进程未能完成 %s 检查，改在本进程检查：%s", kind, reply["error"])
        stop()
        return None
    return [Outcome(**o) for o in reply["outcomes"]]


def check(kind: str, warehouse: Path, run_id: str) -> list[Outcome]:
    """Validate and store one kind of checks in this process (the checker's work, and the fallback)."""
    import duckdb

    from data_quality.validate import store_results, validate_marts, validate_raw
    from ingest.contracts import SOURCES

    con = duckdb.connect(str(warehouse))
    try:
        if kind == "marts":
            per_source = {"marts": validate_marts(con)}
        else:
            per_source = {s: validate_raw(con, sources=[s], period=None) for s in SOURCES}
        outcomes = []
        for source, results in per_source.items():
            store_results(con, run_id, results)
            outcomes += [Outcome(source, r.asset, r.expectation, r.severity, bool(r.success)) for r in results]
        return outcomes
    finally:
        con.close()


def _serve() -> None:
    from qinglian import logs

    logs.setup(sys.argv[1:])
    # GX logs every function it registers at INFO (~90 lines a run): the run's log keeps its warnings
    logging.getLogger("great_expectations").setLevel(logging.WARNING)
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # a Ctrl-C reaches the run, which decides for us
    import data_quality.validate  # noqa: F401  (the point of this process: GX imported ahead of time)

    for line in sys.stdin:
        request = json.loads(line)
        try:
            outcomes = check(request["kind"], Path(request["warehouse"]), request["run_id"])
            reply = {"outcomes": [o.__dict__ for o in outcomes]}
        except Exception as exc:  # noqa: BLE001 (reported to the run, which checks again itself)
            log.exception("数据质量检查失败")
            reply = {"error": f"{type(exc).__name__}: {exc}"}
        sys.stdout.write(json.dumps(reply, ensure_ascii=False) + "\n")
        sys.stdout.flush()


if __name__ == "__main__":  # pragma: no cover (a child process; tests/test_perf16_checker.py runs it)
    _serve()
