"""A CSV without quotes is split in Polars; it must give what the csv module gives, cell by cell.

Expected rows are written by hand from the CSV rules: a line is a row, a blank line is a row of
empty cells, a short row's missing cells are null, an empty field is an empty text, and a CSV over
a limit is rejected with the row where it goes over (the csv module path says it).
"""

import pytest

from ingest.errors import FileRejected
from ingest.limits import Limits
from ingest.readers import read_csv


def _rows(data: bytes, limits: Limits | None = None) -> list[tuple]:
    sheets = read_csv(data, "surveys/洋县.csv", limits or Limits.from_env())
    return [row for s in sheets for row in s.frame.rows()]


def test_plain_csv_rows_cells_and_blank_lines():
    data = "问卷编号,所属区划,Q1\r\nS1,洋县,满意\r\n\r\nS2,,\r\nS3\r\n".encode()
    assert _rows(data) == [("问卷编号", "所属区划", "Q1"), ("S1", "洋县", "满意"), (None, None, None),
                           ("S2", "", ""), ("S3", None, None)]


def test_gbk_csv_without_final_line_break():
    sheets = read_csv("编号,区划\n1,城固县".encode("gb18030"), "x/城固县.csv", Limits.from_env())
    assert [s.frame.rows() for s in sheets] == [[("编号", "区划"), ("1", "城固县")]]
    assert sheets[0].name == "城固县" and sheets[0].encoding == "gb18030" and not sheets[0].excel


def test_only_blank_lines_is_no_sheet():
    assert read_csv(b"\n\n", "x/a.csv", Limits.from_env()) == []


def test_quoted_csv_keeps_commas_inside_quotes():
    assert _rows(b'a,"b,c"\n"x ""y""",z\n') == [("a", "b,c"), ('x "y"', "z")]


def test_lone_carriage_return_is_a_format_error():
    with pytest.raises(FileRejected):
        read_csv(b"a,b\rc\n", "x/a.csv", Limits.from_env())


def test_limits_name_the_row_that_goes_over():
    limits = Limits(**{**Limits.from_env().__dict__, "columns": 3})
    with pytest.raises(FileRejected, match="第 2 行有 4 列"):
        read_csv(b"a,b\n1,2,3,4\n", "x/a.csv", limits)
    limits = Limits(**{**Limits.from_env().__dict__, "rows": 2})
    with pytest.raises(FileRejected, match="超过 2 行"):
        read_csv(b"a\nb\nc\n", "x/a.csv", limits)
