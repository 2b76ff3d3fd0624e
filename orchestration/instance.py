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


def ensure_instance(home: Path | None = None) -> object:
    """Create DAGSTER_HOME and its dagster.yaml when missing, export DAGSTER_HOME for child processes,
    and return the instance's ref (DagsterInstance.from_ref)."""
    from dagster._core.instance.ref import InstanceRef

    home = Path(home or dagster_home())
    home.mkdir(parents=True, exist_ok=True, mode=0o700)
    config = home / "dagster.yaml"
    if not config.exists():
        tmp = config.with_suffix(".yaml.tmp")
        tmp.write_text(dagster_yaml(home), encoding="utf-8")
        os.replace(tmp, config)
    os.environ["DAGSTER_HOME"] = str(home)
    return InstanceRef.from_dir(str(home))
