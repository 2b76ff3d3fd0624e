"""Quarter keys, labels and neighbours have one home outside the warehouse (qinglian.quarters), and it
agrees with the warehouse's own (marts.dim_quarters)."""

from __future__ import annotations

from pathlib import Path

import duckdb

from qinglian import quarters


def test_labels_and_previous_quarters_by_hand() -> None:
    assert quarters.label("2025Q1") == "2025年第一季度"
    assert quarters.label("2026Q4") == "2026年第四季度"
    assert quarters.label("2025Q5") == "2025Q5"  # not a quarter key: shown as it is
    assert quarters.previous("2025Q1") == "2024Q4"
    assert quarters.previous("2025Q3") == "2025Q2"
    assert quarters.previous("2025") is None
    assert quarters.QUARTER.fullmatch("2025Q2") and not quarters.QUARTER.fullmatch("2025Q0")


def test_python_labels_agree_with_the_warehouse(small_built: tuple[Path, object]) -> None:
    with duckdb.connect(str(small_built[0]), read_only=True) as con:
        rows = con.execute("select quarter, quarter_label, previous_quarter from marts.dim_quarters order by 1").fetchall()
    assert [q for q, _, _ in rows] == ["2025Q1", "2025Q2", "2025Q3", "2025Q4"]
    for q, label, prev in rows:
        assert quarters.label(q) == label
        assert quarters.previous(q) == prev
