"""Numbers written into the marts' Chinese text (flag_note) follow the pages' formats: scores with
2 decimals, rounded half up on the decimal value (dashboards/exports.py), never 4 decimals.

Margins hand-computed in tests/test_dbt_marts.py's scorecard comment for the small warehouse:
  county Q1   汉台区 red 97.5 − 70 = 27.5; 城固县 snail 70 − 64.375 = 5.625 (half up → 5.63,
              half-even printf would print 5.62)
  department Q1  D06 red 4500/65 − 60 = 9.2308; D04 red 60 − 60 = 0
  county Q3   西乡县 snail 83.125 − 66.6667 = 16.4583
"""

from __future__ import annotations

import re
from pathlib import Path

import duckdb
import pytest

from tests.fixtures.small_warehouse import CG, HT, XX


@pytest.fixture(scope="module")
def con(small_built: tuple[Path, object]) -> duckdb.DuckDBPyConnection:
    connection = duckdb.connect(str(small_built[0]), read_only=True)
    yield connection
    connection.close()


def note(con: duckdb.DuckDBPyConnection, code: str, quarter: str) -> str:
    return con.execute("select flag_note from marts.scorecard_quarterly where body_code = ? and quarter = ?",
                       [code, quarter]).fetchone()[0]


@pytest.mark.parametrize(("code", "quarter", "words"), [
    (HT, "2025Q1", "红旗（与最接近的未获红旗对象相差27.50分）"),
    (CG, "2025Q1", "蜗牛（与最接近的非蜗牛对象相差5.63分）"),
    ("D06", "2025Q1", "红旗（与最接近的未获红旗对象相差9.23分）"),
    ("D04", "2025Q1", "红旗（与最接近的未获红旗对象相差0.00分）"),
    (XX, "2025Q3", "蜗牛（与最接近的非蜗牛对象相差16.46分）"),
])
def test_flag_note_margin_has_two_decimals_half_up(con: duckdb.DuckDBPyConnection, code: str, quarter: str,
                                                   words: str) -> None:
    assert words in note(con, code, quarter)


def test_no_note_prints_more_than_two_decimals(con: duckdb.DuckDBPyConnection) -> None:
    notes = [r[0] for r in con.execute("select flag_note from marts.scorecard_quarterly").fetchall()]
    assert notes and not [n for n in notes if re.search(r"\d\.\d{3,}", n)]
