"""The warehouse lock is re-entrant within a process, and a hold that outlives the outer one (a step's
generator that Dagster abandons on an error is closed later, by the garbage collector) ends quietly:
no exception from its cleanup, and the lock is free for the next run."""

from __future__ import annotations

import gc
import sys
from pathlib import Path

from qinglian import runlock


def test_a_nested_hold_closed_after_the_outer_one_ends_quietly(tmp_path: Path) -> None:
    warehouse = tmp_path / "w.duckdb"

    def step():  # like a multi-asset step: holds the lock while it yields
        with runlock.warehouse_lock(warehouse, "步骤"):
            yield 1
            yield 2

    unraisable: list[object] = []
    hook, sys.unraisablehook = sys.unraisablehook, unraisable.append
    try:
        with runlock.warehouse_lock(warehouse, "外层任务"):
            gen = step()
            assert next(gen) == 1
            assert runlock._held[str(runlock.lock_path(warehouse.resolve()))] == 2
        # the outer hold has ended: the lock is released although the step's generator still holds it
        assert str(runlock.lock_path(warehouse.resolve())) not in runlock._held
        del gen
        gc.collect()
    finally:
        sys.unraisablehook = hook
    assert unraisable == []
    with runlock.warehouse_lock(warehouse, "下一次运行"):  # free, and held from scratch
        assert runlock.holder(warehouse)["what"] == "下一次运行"
