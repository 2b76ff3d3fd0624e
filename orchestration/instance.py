"""The orchestrator's persistent instance: DAGSTER_HOME with its dagster.yaml, sqlite storage inside.

One home for every process of the orchestrator — `qinglian run`, the daemon (schedule, sensor, run
queue) and the webserver — so the run history, the schedule's ticks and the sensor's cursor survive
restarts. It lives in the state directory (qinglian.settings.dagster_home), never beside the serving
copy. The run queue starts one run at a time: the warehouse has one writer.
"""

from __future__ import annotations

import os
from pathlib import Path

from qinglian.settings import dagster_home

MAX_CONCURRENT_RUNS = 1


def dagster_yaml(home: Path) -> str:
    storage = home / "storage"
    return f"""# Written by qinglian (orchestration/instance.py); edits are kept.
storage:
  sqlite:
    base_dir: {storage}
run_coordinator:
  module: dagster.core.run_coordinator
  class: QueuedRunCoordinator
  config:
    # The warehouse has one writer: one run at a time, the others wait in the queue.
    max_concurrent_runs: {MAX_CONCURRENT_RUNS}
run_launcher:
  module: dagster.core.launcher
  class: DefaultRunLauncher
compute_logs:
  module: dagster.core.storage.local_compute_log_manager
  class: LocalComputeLogManager
  config:
    base_dir: {home / "compute_logs"}
local_artifact_storage:
  module: dagster.core.storage.root
  class: LocalArtifactStorage
  config:
    base_dir: {home}
telemetry:
  enabled: false
nux:
  enabled: false
"""


_SQLITE_TUNED = False


def tune_sqlite_storage() -> None:
    """Dagster's sqlite storage commits every event in its own connection, and sqlite's default
    (synchronous=FULL) makes each commit wait for the disk: hundreds of fsyncs per quarterly run
    (BENCHMARKS.md, Dagster's event log). Dagster already keeps these files in WAL mode, where
    synchronous=NORMAL stays consistent after a crash or a kill and can lose at most the last events
    on a power cut, never the warehouse (a separate DuckDB file with its own journal). Registered once
    per process on SQLAlchemy's Engine class, so it reaches the engines Dagster creates per operation."""
    global _SQLITE_TUNED
    if _SQLITE_TUNED:
        return
    import sqlite3

    from sqlalchemy import event
    from sqlalchemy.engine import Engine

    @event.listens_for(Engine, "connect")
    def _synchronous_normal(dbapi_connection, _record) -> None:  # noqa: ANN001 (SQLAlchemy's hook signature)
        if isinstance(dbapi_connection, sqlite3.Connection):
            dbapi_connection.execute("PRAGMA synchronous=NORMAL")

    _SQLITE_TUNED = True


def ensure_instance(home: Path | None = None) -> object:
    """Create DAGSTER_HOME and its dagster.yaml when missing, export DAGSTER_HOME for child processes,
    and return the instance's ref (DagsterInstance.from_ref)."""
    from dagster._core.instance.ref import InstanceRef

    tune_sqlite_storage()

    home = Path(home or dagster_home())
    home.mkdir(parents=True, exist_ok=True, mode=0o700)
    config = home / "dagster.yaml"
    if not config.exists():
        tmp = config.with_suffix(".yaml.tmp")
        tmp.write_text(dagster_yaml(home), encoding="utf-8")
        os.replace(tmp, config)
    os.environ["DAGSTER_HOME"] = str(home)
    return InstanceRef.from_dir(str(home))
