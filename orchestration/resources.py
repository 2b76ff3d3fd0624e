"""Configured resources: where the warehouse, landing folder and serving copy are."""

from __future__ import annotations

from contextlib import AbstractContextManager
from pathlib import Path

import duckdb
from dagster import ConfigurableResource

from qinglian.settings import default_landing, default_warehouse, serving_path


class WarehouseResource(ConfigurableResource):
    """The one writable DuckDB file. Connections are opened per step and closed at once:
    DuckDB allows a single writer, and dbt opens its own connection between steps."""

    warehouse_path: str = str(default_warehouse())
    landing_path: str = str(default_landing())
    serving_path: str = ""

    @property
    def warehouse(self) -> Path:
        return Path(self.warehouse_path)

    @property
    def landing(self) -> Path:
        return Path(self.landing_path)

    @property
    def serving(self) -> Path:
        return Path(self.serving_path) if self.serving_path else serving_path(self.warehouse)

    def connect(self, read_only: bool = False) -> duckdb.DuckDBPyConnection:
        return duckdb.connect(str(self.warehouse), read_only=read_only)

    def lock(self, what: str) -> AbstractContextManager[None]:
        """Hold the warehouse's run lock for a step (re-entrant inside `qinglian run`, which holds it
        for the whole run; a step the Dagster daemon starts in its own process takes it itself)."""
        from qinglian.runlock import warehouse_lock

        return warehouse_lock(self.warehouse, what)
