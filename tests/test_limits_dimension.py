"""The limit scan's fast path: a sheet's own <dimension> as its bounds, trusted only once verified.

Each workbook here is written byte by byte (tests/hostile.py) with a <dimension> that tells the
truth, overstates the used range (formatted empty cells, as Excel writes it) or lies (a cell far
outside it, or one the fast path cannot place). Expected facts are the cell positions written by
hand; a lie must end exactly as the same file without any <dimension> does: refused before a
reader allocates the range.
"""

from __future__ import annotations

import pytest

from ingest.errors import FileRejected
from ingest.limits import inspect_file
from ingest.readers import read_raw
from tests import hostile

ROWS = [["2025年第一季度清廉单元创建情况台账"], ["单元编码", "单元名称", "单元类型"], ["U1", "单元1", "学校"], ["U2", "单元2", "医院"]]
FAR = b'<row r="1048576"><c r="XFD1048576"><v>1</v></c></row>'


def _xlsx(xml: bytes) -> bytes:
    import io
    import zipfile

    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        for name, data in hostile.workbook_parts([("Sheet1", xml)]):
            z.writestr(name, data)
    return buf.getvalue()


def _sheet(dimension: str | None, extra_cells: bytes = b"", merges: list[str] | None = None) -> bytes:
    xml = hostile.sheet_xml(ROWS, merges=merges)
    if dimension is not None:
        xml = xml.replace(b"<sheetData>", f'<dimension ref="{dimension}"/><sheetData>'.encode())
    return xml.replace(b"</sheetData>", extra_cells + b"</sheetData>")


def test_an_honest_dimension_gives_the_range_of_the_cells_written() -> None:
    facts = inspect_file(_xlsx(_sheet("A1:C4", merges=["A1:C1"])), "u.xlsx")
    sheet = facts.sheets["Sheet1"]
    assert (sheet.box, sheet.last_row, sheet.first_col, sheet.last_col, sheet.merges) == (True, 4, 0, 2, [(1, 0, 1, 2)])
    sheets, _ = read_raw(_xlsx(_sheet("A1:C4")), "u.xlsx")
    assert sheets[0].frame.shape == (4, 3)
    assert sheets[0].frame.row(2) == ("U1", "单元1", "学校")


def test_a_dimension_over_formatted_empty_cells_reads_the_cells_with_values() -> None:
    # Excel's dimension counts formatted cells; the grid (and the merges' placement) is the valued range.
    formatted = b"".join(b'<row r="%d"><c r="E%d" s="1"/></row>' % (r, r) for r in range(5, 41))
    data = _xlsx(_sheet("A1:E40", formatted))
    assert inspect_file(data, "u.xlsx").sheets["Sheet1"].last_row == 40  # the box, an upper bound
    sheets, facts = read_raw(data, "u.xlsx")
    assert sheets[0].frame.shape == (4, 3)
    exact = facts.sheets["Sheet1"]
    assert (exact.box, exact.last_row, exact.first_col, exact.last_col) == (False, 4, 0, 2)


@pytest.mark.parametrize("dimension", ["A1:C4", "A1", None])
def test_a_cell_beyond_the_claimed_dimension_is_refused_like_one_without_it(dimension: str | None) -> None:
    with pytest.raises(FileRejected, match="延伸到第 1048576 行、从 A 列到 XFD 列"):
        inspect_file(_xlsx(_sheet(dimension, FAR)), "u.xlsx")


@pytest.mark.parametrize("cell", [
    b'<row r="1048576"><c\tr="XFD1048576"><v>1</v></c></row>',  # not r="…" first: a pattern would not see it
    b'<row r="1048576"><c s="1" r="XFD1048576"><v>1</v></c></row>',
    b'<row r="1048576"><x:c xmlns:x="http://schemas.openxmlformats.org/spreadsheetml/2006/main" r="XFD1048576"><x:v>1</x:v></x:c></row>',
])
def test_cells_the_fast_path_cannot_place_are_scanned_exactly(cell: bytes) -> None:
    with pytest.raises(FileRejected, match="延伸到第 1048576 行"):
        inspect_file(_xlsx(_sheet("A1:C4", cell)), "u.xlsx")


def test_an_attribute_that_looks_like_a_tag_end_does_not_hide_a_cell() -> None:
    # x="/>" made the cell look self-closing (formatting only) to the pattern scan.
    hidden = b'<row r="1048576"><c r="XFD1048576" x="/>"><v>1</v></c></row>'
    for dimension in ("A1:C4", None):
        with pytest.raises(FileRejected, match="延伸到第 1048576 行"):
            inspect_file(_xlsx(_sheet(dimension, hidden)), "u.xlsx")


def test_a_dimension_beyond_the_limits_is_decided_by_the_cells_not_the_claim() -> None:
    # A claim of 200,000 rows over four written rows: the exact range is within every limit.
    data = _xlsx(_sheet("A1:C200000"))
    sheet = inspect_file(data, "u.xlsx").sheets["Sheet1"]
    assert (sheet.box, sheet.last_row, sheet.last_col) == (False, 4, 2)
    assert read_raw(data, "u.xlsx")[0][0].frame.shape == (4, 3)
