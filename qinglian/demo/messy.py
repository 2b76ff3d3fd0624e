"""Writing tables the way units really send them: titles, merged headers, footers, odd encodings.

A builder describes a sheet as titles + header rows + typed rows + footers; the writers here
turn that into .xlsx (xlsxwriter) or .csv (UTF-8 with/without BOM, GBK) and report where each
data row landed, so planted bad rows can be recorded with their true Excel row numbers.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import NamedTuple

import xlsxwriter
from xlsxwriter.format import Format
from xlsxwriter.worksheet import Worksheet

# Fixed workbook metadata: the same seed must give byte-identical files.
FIXED_CREATED = datetime(2025, 1, 1, 8, 0, 0)


class Num(NamedTuple):
    """A number with an Excel display format (0.8 shown as 80%); CSV gets the bare number."""

    value: float
    num_format: str


Cell = str | int | float | date | Num | None


@dataclass
class Row:
    kind: str  # data | blank | total
    cells: Sequence[Cell] = ()
    tag: str | None = None  # lets a builder find the Excel row of a planted bad row


@dataclass
class Sheet:
    name: str
    header: list[list[str | None]] = field(default_factory=list)  # one or two rows
    rows: list[Row] = field(default_factory=list)
    titles: list[str] = field(default_factory=list)  # rows above the header
    footers: list[str] = field(default_factory=list)  # rows below the data
    header_merges: list[tuple[int, int, int, int]] = field(default_factory=list)  # within the header block
    merge_column: int | None = None  # equal consecutive values in this column are merged vertically
    validations: dict[int, list[str]] = field(default_factory=dict)  # column -> drop-down choices
    widths: dict[int, float] = field(default_factory=dict)
    blank_before_footer: bool = True
    is_data: bool = True  # False for 汇总-style sheets the ingest must skip

    @property
    def width(self) -> int:
        return max([len(h) for h in self.header] + [1])


@dataclass
class Written:
    sheet: str
    data_rows: int
    row_of_tag: dict[str, int]
    header_row: int  # Excel row of the (last) header row
    is_data: bool = True


def _layout(sheet: Sheet) -> tuple[int, list[int]]:
    """Excel row (1-based) of the last header row and of every entry in sheet.rows."""
    r = len(sheet.titles) + len(sheet.header)
    rows = [r + 1 + i for i in range(len(sheet.rows))]
    return r, rows


def _summary(sheet: Sheet, name: str) -> Written:
    header_row, positions = _layout(sheet)
    tags = {row.tag: pos for row, pos in zip(sheet.rows, positions, strict=True) if row.tag}
    return Written(name, sum(1 for row in sheet.rows if row.kind == "data"), tags, header_row, sheet.is_data)


def _runs(rows: list[Row], col: int) -> dict[int, int]:
    """Start index -> length of runs of equal values in a column among consecutive data rows."""
    runs: dict[int, int] = {}
    i = 0
    while i < len(rows):
        row = rows[i]
        if row.kind != "data" or col >= len(row.cells) or row.cells[col] in (None, ""):
            i += 1
            continue
        j = i + 1
        while j < len(rows) and rows[j].kind == "data" and col < len(rows[j].cells) and rows[j].cells[col] == row.cells[col]:
            j += 1
        if j - i > 1:
            runs[i] = j - i
        i = j
    return runs


class _Formats:
    def __init__(self, wb: xlsxwriter.Workbook, plain: bool):
        self.wb = wb
        self.plain = plain  # constant_memory: merged ranges must not carry a format
        self.date = wb.add_format({"num_format": "yyyy-mm-dd"})
        self.header = None if plain else wb.add_format({"bold": True, "text_wrap": True, "align": "center", "valign": "vcenter", "border": 1})
        self.title = None if plain else wb.add_format({"bold": True, "font_size": 14, "align": "center"})
        self.merged = None if plain else wb.add_format({"valign": "vcenter"})
        self._num: dict[str, Format] = {}

    def num(self, fmt: str) -> Format:
        if fmt not in self._num:
            self._num[fmt] = self.wb.add_format({"num_format": fmt})
        return self._num[fmt]


def _write_cell(ws: Worksheet, r: int, c: int, value: Cell, fm: _Formats) -> None:
    if value is None:
        return
    if isinstance(value, str):
        ws.write_string(r, c, value)
    elif isinstance(value, Num):
        ws.write_number(r, c, value.value, fm.num(value.num_format))
    elif isinstance(value, bool):
        ws.write_boolean(r, c, value)
    elif isinstance(value, int | float):
        ws.write_number(r, c, value)
    elif isinstance(value, date):
        ws.write_datetime(r, c, datetime(value.year, value.month, value.day), fm.date)
    else:  # pragma: no cover - builders only produce the types above
        raise TypeError(type(value))


def _write_sheet(wb: xlsxwriter.Workbook, sheet: Sheet, fm: _Formats) -> Written:
    ws = wb.add_worksheet(sheet.name)
    for col, w in sheet.widths.items():
        ws.set_column(col, col, w)
    width = sheet.width
    r = 0
    for title in sheet.titles:
        if width > 1:
            ws.merge_range(r, 0, r, width - 1, title, fm.title)
        else:
            ws.write_string(r, 0, title)
        r += 1
    merged_header: set[tuple[int, int]] = set()
    header_top = r
    for r1, c1, r2, c2 in sheet.header_merges:
        for rr in range(r1, r2 + 1):
            for cc in range(c1, c2 + 1):
                merged_header.add((rr, cc))
    for i, cells in enumerate(sheet.header):
        for r1, c1, r2, c2 in sheet.header_merges:
            if r1 == i:
                ws.merge_range(header_top + r1, c1, header_top + r2, c2, sheet.header[r1][c1] or "", fm.header)
        for c, text in enumerate(cells):
            if (i, c) in merged_header or text is None:
                continue
            ws.write_string(r, c, text, fm.header)
        r += 1
    first_data = r
    runs = _runs(sheet.rows, sheet.merge_column) if sheet.merge_column is not None else {}
    skip_until = -1
    for i, row in enumerate(sheet.rows):
        if row.kind != "blank":
            for c, value in enumerate(row.cells):
                if c == sheet.merge_column and i in runs:
                    ws.merge_range(r, c, r + runs[i] - 1, c, value, fm.merged)
                    skip_until = i + runs[i] - 1
                    continue
                if c == sheet.merge_column and i <= skip_until:
                    continue
                _write_cell(ws, r, c, value, fm)
        r += 1
    last_data = r - 1
    for col, choices in sheet.validations.items():
        if last_data >= first_data:
            ws.data_validation(first_data, col, last_data, col, {"validate": "list", "source": choices})
    if sheet.footers:
        if sheet.blank_before_footer:
            r += 1
        for line in sheet.footers:
            ws.write_string(r, 0, line)
            r += 1
    return _summary(sheet, sheet.name)


def write_xlsx(path: Path, sheets: Iterable[Sheet], prose: dict[str, list[str]] | None = None,
               prose_first: bool = True, constant_memory: bool = False) -> list[Written]:
    """Data sheets plus optional prose sheets (e.g. 填表说明) that have no header at all."""
    path.parent.mkdir(parents=True, exist_ok=True)
    # in_memory skips temp files (faster for the many small ledgers); big ones stream row by row instead.
    wb = xlsxwriter.Workbook(str(path), {"constant_memory": True} if constant_memory else {"in_memory": True})
    wb.set_properties({"created": FIXED_CREATED, "author": "清廉建设办公室"})
    fm = _Formats(wb, constant_memory)
    written = []

    def add_prose() -> None:
        for name, lines in (prose or {}).items():
            ws = wb.add_worksheet(name)
            ws.set_column(0, 0, 80)
            for i, line in enumerate(lines):
                ws.write_string(i, 0, line)

    if prose_first:
        add_prose()
    for sheet in sheets:
        written.append(_write_sheet(wb, sheet, fm))
    if not prose_first:
        add_prose()
    wb.close()
    return written


def add_summary_sheet(sheets: list[Sheet], name: str, header: list[str], rows: list[list[Cell]], total: list[Cell]) -> None:
    """A 汇总 sheet: a small pivot a clerk makes for the leader, not a data table."""
    s = Sheet(name, header=[header], rows=[Row("data", r) for r in rows] + [Row("total", total)], is_data=False)
    sheets.append(s)


def _csv_text(value: Cell) -> str:
    if value is None:
        return ""
    if isinstance(value, Num):
        return _csv_text(value.value)
    if isinstance(value, float):
        return f"{value:.10g}"
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


def write_csv(path: Path, sheet: Sheet, encoding: str) -> Written:
    """One table per CSV; encoding is utf-8-sig (BOM), utf-8 or gbk. Merges do not exist in CSV."""
    path.parent.mkdir(parents=True, exist_ok=True)
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\r\n")
    width = sheet.width
    for title in sheet.titles:
        w.writerow([title] + [""] * (width - 1))
    for cells in sheet.header:
        w.writerow([(c or "").replace("\n", "") for c in cells])
    for row in sheet.rows:
        w.writerow([] if row.kind == "blank" else [_csv_text(v) for v in row.cells])
    if sheet.footers:
        if sheet.blank_before_footer:
            w.writerow([])
        for line in sheet.footers:
            w.writerow([line])
    path.write_bytes(buf.getvalue().encode(encoding))
    return _summary(sheet, path.stem)


# --- value spellings -------------------------------------------------------------------------

_FW = str.maketrans("0123456789%()-.", "０１２３４５６７８９％（）－．")


def fullwidth(text: str) -> str:
    """８０％ and （万元）: what a Chinese IME types when full-width mode is on."""
    return text.translate(_FW)


DATE_STYLES = ("excel", "iso", "slash", "dot", "cn")


def fmt_date(d: date | None, style: str) -> Cell:
    if d is None:
        return None
    if style == "excel":
        return d
    if style == "iso":
        return d.isoformat()
    if style == "slash":
        return f"{d.year}/{d.month}/{d.day}"
    if style == "dot":
        return f"{d.year}.{d.month}.{d.day}"
    if style == "cn":
        return f"{d.year}年{d.month}月{d.day}日"
    raise ValueError(style)


def csv_date_style(style: str) -> str:
    return "iso" if style == "excel" else style


PCT_STYLES = ("fraction", "number", "percent", "fw_percent", "fw_digits")


def fmt_pct(p: int, style: str) -> Cell:
    """Progress written five ways; values are multiples of 5, so 0.8 vs 80 is never ambiguous."""
    if style == "fraction":
        return Num(p / 100, "0%")
    if style == "number":
        return p
    if style == "percent":
        return f"{p}%"
    if style == "fw_percent":
        return f"{p}％"
    if style == "fw_digits":
        return fullwidth(f"{p}%")
    raise ValueError(style)


def cn_date(d: date) -> str:
    return f"{d.year}年{d.month}月{d.day}日"


def submitter_line(name: str, report: date | None, gap: str = "　　") -> str:
    line = f"填报单位：{name}"
    return line + (f"{gap}填报日期：{cn_date(report)}" if report else "")
