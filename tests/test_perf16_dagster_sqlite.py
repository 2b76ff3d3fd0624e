"""Dagster's sqlite storage runs with synchronous=NORMAL (orchestration.instance.tune_sqlite_storage):
every event commit of a quarterly run otherwise waits for the disk."""

from __future__ import annotations

from pathlib import Path

import pytest


def _synchronous(instance) -> int:  # noqa: ANN001
    with instance.event_log_storage.index_connection() as conn:
        return conn.exec_driver_sql("PRAGMA synchronous").scalar()


def test_the_instance_the_run_uses_commits_without_waiting_for_the_disk(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from dagster import DagsterInstance

    from orchestration.instance import ensure_instance

    monkeypatch.setenv("DAGSTER_HOME", str(tmp_path / "home"))
    with DagsterInstance.from_ref(ensure_instance(tmp_path / "home")) as instance:
        # sqlite's values: 2 = FULL (its default, a disk wait per commit), 1 = NORMAL
        assert _synchronous(instance) == 1
        with instance.run_storage.connect() as conn:
            assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"  # NORMAL is crash-safe in WAL only
