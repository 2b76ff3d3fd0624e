"""Great Expectations checks the submissions through dbt's staging views (data_quality.staging), not
through SQL of its own: which rows are current is staging's rule, and the checks run before the first
dbt build, so validate_raw makes the views when they are missing.

The warehouse is tests/fixtures/small_warehouse.py's hand-made raw layer (no dbt build). Its story has
one superseded task-progress file (D03's first 2025Q2 file: RW05 and RW06 滞后) and one rejected file
(RW10 已完成 for 2025Q2), whose rows must never be checked.
"""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from data_quality import staging
from data_quality.validate import blocking_failures, validate_raw
from tests.fixtures.small_warehouse import build_small_raw


@pytest.fixture(scope="module")
def raw_only(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_small_raw(tmp_path_factory.mktemp("dq_staging") / "warehouse.duckdb")


def _views(con: duckdb.DuckDBPyConnection) -> set[str]:
    return {r[0] for r in con.execute(
        "select view_name from duckdb_views() where schema_name = 'staging'").fetchall()}


def test_checks_make_the_staging_views_and_pass_on_the_clean_story(raw_only: Path) -> None:
    con = duckdb.connect(str(raw_only))
    try:
        assert _views(con) == set()  # before any dbt build
        results = validate_raw(con)
        assert set(staging.VIEWS.values()) <= _views(con)
        # the small warehouse is a clean quarter: nothing blocks (城固县's 1-9月 立案 8 < 9 is a warning)
        assert not blocking_failures(results)
        warned = {r.check_id for r in results if not r.success}
        assert warned == {"raw.cases.ytd_decreases.ytd_monotonic"}
        # staging keeps the current reports only: PROGRESS has 20 + 22 + 22 + 20 = 84 (Q1 lacks RW12 and RW22,
        # Q4 RW01 and RW10); the superseded file's 2 rows and the rejected file's 1 are not among them
        unique = next(r for r in results if r.check_id == "raw.task_progress.task_code.unique")
        assert unique.success
        (n,) = con.execute("select count(*) from staging.stg_raw__task_progress").fetchone()
        assert n == 84
    finally:
        con.close()


def test_a_row_staging_drops_is_not_checked(raw_only: Path, tmp_path: Path) -> None:
    copy = tmp_path / "w.duckdb"
    copy.write_bytes(raw_only.read_bytes())
    con = duckdb.connect(str(copy))
    try:
        # a broken status in the rejected file: history, never checked
        con.execute("update raw.task_progress set status = '乱写' where file_id = "
                    "(select file_id from raw.ingest_files where outcome = 'rejected')")
        assert not blocking_failures(validate_raw(con, sources=["task_progress"]))
        # the same break in a current file fails the blocking enumeration check, with the file and row
        con.execute("update raw.task_progress set status = '乱写' where task_code = 'RW22' and quarter = '2025Q2'")
        bad = [r for r in validate_raw(con, sources=["task_progress"]) if not r.success]
        assert [(r.check_id, r.severity, r.unexpected_count) for r in bad] == [
            ("raw.task_progress.status.in_set", "blocking", 1)]
        assert bad[0].examples[0]["file"] == "task_progress/西乡县_2025Q2_重点任务推进台账.xlsx"
    finally:
        con.close()
