"""Times the office reads or files (backup names, the publish log, 入库时间, the check time) are on the
office's clock (Asia/Shanghai, UTC+8), whatever zone the server runs in.

The clock is frozen at 2025-03-31 17:00 UTC on a server whose local zone is UTC: in the office it is
already 2025-04-01 01:00, a new day, month and quarter. `datetime.now()` (the server's local wall clock)
would give 2025-03-31 17:00 in every one of these places.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import duckdb
import pytest

INSTANT = datetime(2025, 3, 31, 17, 0, 0, tzinfo=UTC)
OFFICE = datetime(2025, 4, 1, 1, 0, 0)  # 17:00 UTC + 8 h, by hand


class _Frozen(datetime):
    @classmethod
    def now(cls, tz=None):  # type: ignore[override]
        # a UTC server: its local (naive) clock is the UTC wall time
        return INSTANT.astimezone(tz) if tz is not None else INSTANT.replace(tzinfo=None)


@pytest.fixture
def frozen(monkeypatch: pytest.MonkeyPatch) -> None:
    import data_quality.validate
    import ingest.load
    import orchestration.publish
    import qinglian.backup
    import qinglian.office_time

    for module in (qinglian.office_time, qinglian.backup, ingest.load, orchestration.publish, data_quality.validate):
        monkeypatch.setattr(module, "datetime", _Frozen, raising=False)


def test_backup_is_named_by_the_office_clock(frozen: None, tmp_path: Path) -> None:
    from qinglian.backup import take_backup

    warehouse = tmp_path / "w.duckdb"
    with duckdb.connect(str(warehouse)) as con:
        con.execute("create table t as select 1 as x")
    backup = take_backup(warehouse)
    assert "20250401-010000-" in backup.name, backup.name


def test_publish_log_and_blocked_publish_are_on_the_office_clock(frozen: None, tmp_path: Path) -> None:
    from orchestration.publish import publish
    from tests.test_publish import _fake_marts

    warehouse, serving = tmp_path / "w.duckdb", tmp_path / "serving" / "warehouse.duckdb"
    _fake_marts(warehouse)
    publish(warehouse, serving, "2025Q1", "run-1")
    for path in (warehouse, serving):
        with duckdb.connect(str(path), read_only=True) as con:
            assert con.execute("select published_at from ops.publish_log").fetchall() == [(OFFICE,)]
    with duckdb.connect(str(warehouse), read_only=True) as con:
        assert {r[0] for r in con.execute("select frozen_at from ops.scorecard_versions").fetchall()} == {OFFICE}


def test_ingest_journal_and_check_results_are_on_the_office_clock(frozen: None, tmp_path: Path) -> None:
    from data_quality.validate import CheckResult, store_results
    from ingest.pipeline import ingest_landing

    landing, warehouse = tmp_path / "landing", tmp_path / "w.duckdb"
    (landing / "regions").mkdir(parents=True)
    (landing / "regions" / "乱码.csv").write_text("甲,乙\n1,2\n", encoding="utf-8")  # rejected, and journalled
    ingest_landing(landing, warehouse)
    with duckdb.connect(str(warehouse)) as con:
        assert con.execute("select distinct loaded_at from raw.ingest_files").fetchall() == [(OFFICE,)]
        store_results(con, "run-1", [CheckResult(asset="raw.regions", expectation="x", column=None,
                                                 severity="warning", success=True, observed=None, unexpected_count=0,
                                                 check_id="raw.regions.x")])
        assert con.execute("select checked_at from ops.dq_results").fetchall() == [(OFFICE,)]
