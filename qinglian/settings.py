"""Where things live: the project root, the warehouse, its published serving copy, the landing folder."""

from __future__ import annotations

import os
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parents[1]
DBT_PROJECT_DIR = PROJECT_ROOT / "dbt_project"


def default_warehouse() -> Path:
    env = os.environ.get("QINGLIAN_WAREHOUSE")
    return Path(env).expanduser().resolve() if env else PROJECT_ROOT / "data" / "warehouse.duckdb"


def default_landing() -> Path:
    env = os.environ.get("QINGLIAN_LANDING")
    return Path(env).expanduser().resolve() if env else PROJECT_ROOT / "data" / "landing"


def serving_path(warehouse: Path) -> Path:
    """The published read-only copy the dashboards read; it sits beside the warehouse."""
    env = os.environ.get("QINGLIAN_SERVING")
    return Path(env).expanduser().resolve() if env else warehouse.parent / "serving" / "warehouse.duckdb"


def lock_path(warehouse: Path) -> Path:
    """The run lock sits beside the warehouse it guards: data/warehouse.duckdb.lock."""
    return warehouse.with_name(warehouse.name + ".lock")


def log_dir(warehouse: Path | None = None) -> Path:
    """Where the commands' log file goes: $QINGLIAN_LOG_DIR, else a logs/ folder beside the warehouse."""
    env = os.environ.get("QINGLIAN_LOG_DIR")
    if env:
        return Path(env).expanduser().resolve()
    return (warehouse or default_warehouse()).parent / "logs"


def dbt_executable() -> Path:
    """The dbt the orchestrator runs: the project's own, found beside this interpreter, never on PATH.

    cron and systemd start `.venv/bin/qinglian` without the venv on PATH. The launcher
    `qinglian-dbt` (qinglian.dbt_child) makes dbt die with the process that started it, then
    becomes the venv's `dbt`.
    """
    import sys

    bindir = Path(sys.executable).parent
    for name in ("qinglian-dbt", "dbt"):
        candidate = bindir / name
        if candidate.is_file() and os.access(candidate, os.X_OK):
            return candidate
    return bindir / "dbt"
