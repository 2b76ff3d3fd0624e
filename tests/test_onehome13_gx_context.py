"""Great Expectations' context is made once per process and reused (a context is a big fixed cost);
a reused context still checks each call's own rows."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from data_quality import validate
from tests.fixtures.small_warehouse import build_small_raw


def test_one_context_for_every_call_and_each_call_sees_its_own_rows(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    made: list[str] = []
    real = validate.gx.get_context

    def get_context(*args, **kwargs):
        made.append(kwargs.get("mode", ""))
        return real(*args, **kwargs)

    monkeypatch.setattr(validate.gx, "get_context", get_context)
    # start this process's GX state afresh, so the count covers the calls below only; cleared, not
    # monkeypatched: restoring the old asset cache at teardown would leave it out of step with the new
    # context (the next test on this worker would add an asset the context already has)
    validate._context.cache_clear()
    validate._source.cache_clear()
    validate._ASSETS.clear()
    validate._SUITES.clear()

    warehouse = build_small_raw(tmp_path / "w.duckdb")
    con = duckdb.connect(str(warehouse))
    try:
        first = validate.validate_raw(con, sources=["task_progress"])
        assert not validate.blocking_failures(first)
        # a broken status in a current 2025Q2 report: the next call must see it, though GX is reused
        kept = con.execute("select file_id, row_number, status from raw.task_progress "
                           "where task_code = 'RW22' and quarter = '2025Q2'").fetchall()
        con.execute("update raw.task_progress set status = '乱写' where task_code = 'RW22' and quarter = '2025Q2'")
        second = validate.validate_raw(con, sources=["task_progress"])
        bad = [(r.check_id, r.unexpected_count) for r in second if not r.success]
        assert bad == [("raw.task_progress.status.in_set", 1)]
        assert validate.validate_marts(con)  # marts presence checks on the same context
        # and repaired, the same suite passes again
        for file_id, row_number, status in kept:
            con.execute("update raw.task_progress set status = ? where file_id = ? and row_number = ?",
                        [status, file_id, row_number])
        third = validate.validate_raw(con, sources=["task_progress"])
        assert [r.check_id for r in third if not r.success] == []
    finally:
        con.close()
    assert made == ["ephemeral"]
