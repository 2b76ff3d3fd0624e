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
