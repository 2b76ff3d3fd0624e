"""Where things live: the project root, the warehouse, its published serving copy, the landing folder."""

from __future__ import annotations

import os
from pathlib import Path

from qinglian import quarters

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


# The first quarter the orchestrator offers partitions for. A deployment setting, not a rule: an office
# that loads its ledgers back to 2021 sets QINGLIAN_FIRST_QUARTER=2021Q1. The default reaches back
# far enough for a programme started before the demo's first quarter (2025Q1).
DEFAULT_FIRST_QUARTER = "2020Q1"


def first_quarter() -> str:
    """$QINGLIAN_FIRST_QUARTER (e.g. 2021Q1), else DEFAULT_FIRST_QUARTER; a malformed value is a Chinese error."""
    raw = os.environ.get("QINGLIAN_FIRST_QUARTER", "").strip()
    if not raw:
        return DEFAULT_FIRST_QUARTER
    value = raw.upper()
    parts = quarters.parse(value)
    if parts is None or not 1900 <= parts[0] <= 2200:
        from qinglian.errors import UserError

        raise UserError(f"环境变量 QINGLIAN_FIRST_QUARTER='{raw}' 不是季度：请写如 2021Q1（数据最早的季度）")
    return value


def dagster_home() -> Path:
    """The orchestrator's persistent instance (run history, schedule and sensor state): $DAGSTER_HOME,
    else dagster/ in the state directory, which survives publishes, upgrades and restarts."""
    env = os.environ.get("DAGSTER_HOME")
    if env:
        return Path(env).expanduser().resolve()
    from qinglian.security.config import state_dir

    return state_dir() / "dagster"


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


def positive_int_env(name: str, default: int, meaning: str) -> int:
    """A count set by the environment (e.g. how many backups to keep); a bad value is a Chinese error."""
    raw = os.environ.get(name, "").strip()
    if not raw:
        return default
    if not raw.isdigit() or int(raw) < 1:
        from qinglian.errors import UserError

        raise UserError(f"环境变量 {name}='{raw}' 应为正整数（{meaning}）")
    return int(raw)
