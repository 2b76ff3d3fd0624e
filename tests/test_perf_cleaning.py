"""Cell cleaning runs once per distinct text of a batch: every cell still gets its own cleaned text.

The expected values are written by hand from the cleaning rules (NFKC, white space folded to one
space and stripped, empty → null, and for Excel cells only a midnight time after a date dropped).
"""

import polars as pl

from ingest.readers import RawSheet, finish_sheets


def _sheet(name: str, rows: list[list[str | None]], excel: bool) -> RawSheet:
    width = max(len(r) for r in rows)
    frame = pl.DataFrame({f"x{i}": [r[i] if i < len(r) else None for r in rows] for i in range(width)},
                         schema={f"x{i}": pl.String for i in range(width)})
    return RawSheet(name, frame, excel=excel)


def test_each_cell_cleaned_by_its_own_text_and_kind():
    excel = _sheet("表1", [
        ["2025-03-31 00:00:00", "ＡＢＣ１２３", "  洋　县  "],
        ["2025-03-31 00:00:00", "a\t\tb", ""],
        ["２０２５-03-31 00:00:00", "2025-03-31 08:00:00", None],
    ], excel=True)
    csv = _sheet("问卷", [
        ["2025-03-31 00:00:00", "ＡＢＣ１２３"],  # same texts as in the Excel sheet: no date fix in a CSV
        ["   ", "满意"],
    ], excel=False)
    grid, offsets = finish_sheets([excel, csv])
    assert offsets == [0, 3]
    assert grid["_sid"].to_list() == [0, 0, 0, 1, 1]
    assert grid["_row"].to_list() == [1, 2, 3, 1, 2]
    assert grid["c0"].to_list() == ["2025-03-31", "2025-03-31", "2025-03-31", "2025-03-31 00:00:00", None]
    assert grid["c1"].to_list() == ["ABC123", "a b", "2025-03-31 08:00:00", "ABC123", "满意"]
    assert grid["c2"].to_list() == ["洋 县", None, None, None, None]


def test_only_csv_sheets_keep_midnight_times():
    grid, _ = finish_sheets([_sheet("a", [["2025-01-02 00:00:00", "\u00a0x\u00a0"]], excel=False)])
    assert grid.row(0) == (0, 1, "2025-01-02 00:00:00", "x")
