"""Reading a submitted file into raw string grids, one per sheet, with Excel row numbers.

Input is the file's bytes, already measured by `ingest.limits.inspect_file` (the facts it returns
say what the bytes are and where each worksheet's grid starts). Cells are read as text (calamine
through fastexcel for Excel, the csv module for CSV) so the layout can be found before anything is
typed. Merged ranges are filled with their top-left value: a region name merged over several rows
belongs to every one of them.
"""

from __future__ import annotations

import bisect
import codecs
import csv
import io
import re
import sys
import zipfile
from collections.abc import Callable
from dataclasses import dataclass

import fastexcel
import polars as pl
import pyarrow.compute as pc

from ingest.errors import FileRejected, UnreadableFile, is_reader_failure
from ingest.limits import (
    CSV_SUFFIXES,
    EXCEL_SUFFIXES,
    FileFacts,
    Limits,
    SheetFacts,
    column_letters,
    exact_sheet_facts,
    inspect_file,
)

__all__ = ["CSV_SUFFIXES", "EXCEL_SUFFIXES", "RawSheet", "SheetGrid", "UnreadableFile", "finish_sheets", "read_bytes_grids", "read_grids", "read_raw",
           "split_grids"]

# CSV fields are bounded by the file size limit, not by the csv module's 128 KiB default: a long
# cell is then reported on its row, like in an .xlsx, instead of failing the whole file.
csv.field_size_limit(min(sys.maxsize, 2**31 - 1))


@dataclass
class SheetGrid:
    name: str
    frame: pl.DataFrame  # columns c0..cN (String) and _row (Excel row number, 1-based)
    encoding: str | None = None


@dataclass
class RawSheet:
    """One sheet's cells as the reader gave them (text, not yet cleaned), with what cleaning needs."""

    name: str
    frame: pl.DataFrame  # the reader's columns, String; row i is Excel row i + 1
    geometry: SheetFacts | None = None  # merged ranges and where the grid starts (xlsx)
    excel: bool = True
    encoding: str | None = None
    lotus: Callable[[pl.DataFrame], pl.DataFrame] | None = None  # the 1900 date fix, for sheets that need it


# A date cell is shown by Excel as 2025-03-31; calamine appends a midnight time.
_MIDNIGHT = r"^(\d{4}-\d{2}-\d{2}) 00:00:00$"


def finish_sheets(sheets: list[RawSheet]) -> tuple[pl.DataFrame, list[int]]:
    """Every sheet's cells cleaned in one Polars pass: one frame of columns c0..cN (the widest
    sheet's width; a narrower sheet's extra columns are null), `_sid` (the sheet's index in
    `sheets`) and `_row` (its Excel row number), sheets one after another. Returns the frame and
    each sheet's first row in it.

    Ledgers are many small files: cleaning each sheet on its own costs a Polars pass per column
    per sheet, which is what made the ingest many times slower than reading the cells.
    """
    if not sheets:
        return pl.DataFrame(schema={"_sid": pl.Int32, "_row": pl.Int64}), []
    heights = [s.frame.height for s in sheets]
    offsets = [0]
    for h in heights[:-1]:
        offsets.append(offsets[-1] + h)
    width = max(s.frame.width for s in sheets)
    names = [f"c{i}" for i in range(width)]
    parts = [s.frame.rename(dict(zip(s.frame.columns, names, strict=False))) for s in sheets]
    grid = _stack(parts, names)
    codes, uniques = _distinct(grid, names)
    fixable = [s.lotus is not None for s in sheets]
    if any(fixable) and uniques.str.contains(_SUSPECT_DATE.pattern).any():
        suspect = _suspect_sheets(grid, heights, fixable)
        if suspect:
            for i in suspect:
                fixed = sheets[i].lotus(sheets[i].frame)
                parts[i] = fixed.rename(dict(zip(fixed.columns, names, strict=False)))
            grid = _stack(parts, names)
            codes, uniques = _distinct(grid, names)
    sid = pl.Series("_sid", [i for i, h in enumerate(heights) for _ in range(h)], dtype=pl.Int32)
    # Cleaning is a function of the cell's text (and, for the date fix, of Excel vs CSV): it runs
    # once per distinct text of the batch (ledgers repeat their units, regions and answers every
    # quarter), and every cell takes its cleaned text by its code. Codes of CSV cells point into
    # the second half of the table, the texts cleaned without the Excel date fix.
    cleaned = _clean_texts(uniques)
    if any(s.excel for s in sheets):
        dated = uniques.str.contains(_MIDNIGHT).fill_null(False)
        excel = _where(cleaned, dated, lambda t: _clean_texts(t.str.slice(0, 10)), uniques) if dated.any() else cleaned
    else:
        excel = cleaned
    n = grid.height
    if excel is cleaned:
        full = cleaned.gather(codes)
    else:
        csv_rows = pl.Series([not s.excel for s, h in zip(sheets, heights, strict=True) for _ in range(h)], dtype=pl.Boolean)
        full = pl.concat([excel, cleaned]).gather(codes + pl.concat([csv_rows] * width).cast(pl.UInt32) * uniques.len())
    grid = pl.DataFrame([sid, *[full.slice(i * n, n).alias(c) for i, c in enumerate(names)]])
    grid = grid.with_columns(pl.int_range(1, pl.len() + 1, dtype=pl.Int64).over("_sid").alias("_row")).select("_sid", "_row", *names)
    return _fill_merges_all(grid, sheets, offsets), offsets


def _stack(parts: list[pl.DataFrame], names: list[str]) -> pl.DataFrame:
    """The sheets one after another in columns c0..cN (a narrower sheet's extra columns null)."""
    grid = pl.concat(parts, how="diagonal") if len(parts) > 1 else parts[0]
    return grid.with_columns(pl.lit(None, dtype=pl.String).alias(c) for c in names if c not in grid.columns).select(names)


def _distinct(grid: pl.DataFrame, names: list[str]) -> tuple[pl.Series, pl.Series]:
    """Every cell of the grid, column after column, as a code into the grid's distinct texts (null
    for an empty cell): (codes, distinct texts). Arrow's dictionary encoding, one hash per cell."""
    stacked = pl.concat([grid[c].cast(pl.String) for c in names]).rechunk()
    encoded = pc.dictionary_encode(stacked.to_arrow())
    return pl.Series(encoded.indices).cast(pl.UInt32), pl.Series(encoded.dictionary).cast(pl.String)


def _suspect_sheets(grid: pl.DataFrame, heights: list[int], fixable: list[bool]) -> list[int]:
    """Sheets with a cell calamine may have rendered wrong (see _lotus_dates), in one pass."""
    if not any(fixable) or grid.is_empty():
        return []
    cells = [c for c in grid.columns if c.startswith("c")]
    hit = grid.select(pl.any_horizontal(pl.col(c).str.contains(_SUSPECT_DATE.pattern) for c in cells).fill_null(False).alias("h"))["h"]
    rows = hit.arg_true().to_list()
    if not rows:
        return []
    starts, at = [], 0
    for h in heights:
        starts.append(at)
        at += h
    return sorted({i for i in (bisect.bisect_right(starts, r) - 1 for r in rows) if fixable[i]})


def _where(values: pl.Series, mask: pl.Series, fn: Callable[[pl.Series], pl.Series], source: pl.Series | None = None) -> pl.Series:
    """`values` with fn(source) in the places `mask` marks; fn runs on those texts only."""
    at = mask.arg_true()
    if at.len() == 0:
        return values
    return values.clone().scatter(at, fn((values if source is None else source).gather(at)))


def _clean_texts(texts: pl.Series) -> pl.Series:
    """_clean_expr on a Series, each costly step only on the texts it can change: NFKC leaves ASCII
    as it is, and a text without white space has none to fold or strip."""
    texts = _where(texts, texts.str.contains(r"[^\x00-\x7f]").fill_null(False), lambda t: t.str.normalize("NFKC"))
    spaced = texts.str.contains(r"[\s\u3000]").fill_null(False)
    texts = _where(texts, spaced, lambda t: t.str.replace_all(r"[\s\u3000]+", " ").str.strip_chars())
    return texts.replace("", None)


def _clean_expr(cell: pl.Expr) -> pl.Expr:
    # NFKC turns full-width digits, brackets and ％ into ASCII; folding spaces keeps "洋 县" = "洋县".
    return cell.str.normalize("NFKC").str.replace_all(r"[\s\u3000]+", " ").str.strip_chars().replace("", None)


def _fill_merges_all(grid: pl.DataFrame, sheets: list[RawSheet], offsets: list[int]) -> pl.DataFrame:
    """Merged ranges take their top-left value (after cleaning), all sheets in one scatter per column."""
    updates: dict[str, list[tuple[int, str]]] = {}
    for sheet, offset in zip(sheets, offsets, strict=True):
        geometry = sheet.geometry
        if geometry is None or not geometry.merges:
            continue
        width, rows = sheet.frame.width, sheet.frame.height
        for r1, c1, r2, c2 in geometry.merges:
            c1g, c2g = c1 - geometry.first_col, c2 - geometry.first_col
            i1, i2 = r1 - 1, r2 - 1  # the grid starts at Excel row 1
            if c1g < 0 or c1g >= width or i1 < 0 or i1 >= rows:
                continue
            value = grid.item(offset + i1, f"c{c1g}")
            if value is None:
                continue
            for c in range(c1g, min(c2g, width - 1) + 1):
                for i in range(i1, min(i2, rows - 1) + 1):
                    if (i, c) != (i1, c1g):
                        updates.setdefault(f"c{c}", []).append((offset + i, value))
    if not updates:
        return grid
    columns = []
    for col, cells in updates.items():
        series = grid[col].clone()
        series.scatter([i for i, _ in cells], [v for _, v in cells])
        columns.append(series)
    return grid.with_columns(columns)


def split_grids(sheets: list[RawSheet], grid: pl.DataFrame, offsets: list[int]) -> list[SheetGrid]:
    """The cleaned grid back as one frame per sheet, each with its own columns."""
    out = []
    for sheet, offset in zip(sheets, offsets, strict=True):
        names = [f"c{i}" for i in range(sheet.frame.width)]
        out.append(SheetGrid(sheet.name, grid.slice(offset, sheet.frame.height).select(*names, "_row"), sheet.encoding))
    return out


_ENCRYPTED_WORDS = ("password", "encrypt", "filepass")


def _open_excel(data: bytes) -> fastexcel.ExcelReader:
    try:
        return fastexcel.read_excel(data)
    except BaseException as exc:  # calamine raises several types (and panics) for corrupt files
        if not is_reader_failure(exc):
            raise
        if any(w in str(exc).lower() for w in _ENCRYPTED_WORDS):
            raise FileRejected("文件设置了打开密码（已加密），系统无法读取；请在 Excel 中取消密码后重新报送") from None
        raise FileRejected("无法打开该Excel文件（文件已损坏或不是有效的xlsx/xls文件），请重新导出后再报送") from None


def read_excel(data: bytes, facts: FileFacts) -> list[RawSheet]:
    reader = _open_excel(data)
    grids = []
    for name in reader.sheet_names:
        geometry = facts.sheets.get(name)
        if facts.kind == "xlsx":
            path = facts.sheet_paths.get(name, "")
            if not path.startswith("xl/worksheets/"):
                continue  # chart and dialog sheets hold no table
            if geometry is None:
                raise FileRejected(f"工作表「{name}」在文件中找不到对应内容（文件结构异常），请用 Excel 另存为 .xlsx 后重新报送")
        try:
            sheet = reader.load_sheet(name, header_row=None, skip_rows=0, dtypes="string")
            frame = sheet.to_polars()
        except BaseException as exc:
            if not is_reader_failure(exc):
                raise
            raise FileRejected(f"工作表「{name}」无法读取，请检查文件是否损坏") from None
        if frame.width == 0 or frame.height == 0:
            continue
        if geometry is not None and geometry.box and (frame.height, frame.width) != (geometry.height, geometry.width):
            # The sheet's <dimension> held every cell but is larger than the cells read (formatted
            # empty cells): the exact range places the grid.
            geometry = exact_sheet_facts(data, facts, name)
        if geometry is not None and (frame.height, frame.width) != (geometry.height, geometry.width):
            # The grid must be the range measured before reading, or cells would be misplaced.
            raise FileRejected(f"工作表「{name}」的结构异常，无法准确定位行号；请用 Excel 打开后另存为 .xlsx 再报送")
        grids.append(RawSheet(name, frame, geometry, lotus=_LotusFix(data, facts.sheet_paths.get(name, ""), geometry)
                              if geometry is not None else None))
    return grids


@dataclass
class _LotusFix:
    """What `_lotus_dates` needs for one sheet; applied only to sheets whose cells look suspect
    (found for all sheets of a batch in one pass, see finish_sheets)."""

    data: bytes
    path: str
    geometry: SheetFacts

    def __call__(self, frame: pl.DataFrame) -> pl.DataFrame:
        return _lotus_dates(frame, self.data, self.path, self.geometry)


# calamine renders date cells as "YYYY-MM-DD HH:MM:SS" and gets two kinds wrong: serial 60, which
# Excel shows as the nonexistent 1900-02-29 (Lotus 1-2-3's leap-year bug, kept for compatibility),
# comes out as 1900-02-28, and serial 0 (Excel: 1900-01-00) as 1899-12-31. Every other serial is
# rendered as Excel shows it. For those cells only, the stored serial is read back from the XML and
# the cell gets the text Excel displays, which the date parser then rejects as no real date.
_SUSPECT_DATE = re.compile(r"^(?:1900-02-28|1899-12-3[01]) \d\d:\d\d:\d\d$")


def _lotus_dates(frame: pl.DataFrame, data: bytes, path: str, geometry: SheetFacts) -> pl.DataFrame:
    if not path or frame.is_empty():
        return frame
    hits = frame.select(pl.col(c).str.contains(_SUSPECT_DATE.pattern).any().alias(c) for c in frame.columns).row(0)
    suspects = [c for c, hit in zip(frame.columns, hits, strict=True) if hit]
    if not suspects:
        return frame
    xml = zipfile.ZipFile(io.BytesIO(data)).read(path)  # within the measured limits
    out = []
    for c in suspects:
        j = frame.columns.index(c)
        col = frame[c].to_list()
        for i, text in enumerate(col):
            if text is None or not _SUSPECT_DATE.match(text):
                continue
            ref = f"{column_letters(geometry.first_col + j)}{i + 1}".encode()
            m = re.search(rb'<c r="' + ref + rb'"[^>]*>(?:<f[^>]*>[^<]*</f>|<f[^>]*/>)?<v>([^<]*)</v>', xml)
            try:
                serial = float(m[1]) if m else None
            except ValueError:
                serial = None
            if serial is None:
                continue
            clock = text[11:]
            if 60 <= serial < 61:
                col[i] = f"1900-02-29 {clock}"
            elif 0 <= serial < 1:
                col[i] = f"1900-01-00 {clock}"
            elif serial < 0:
                col[i] = f"{serial:g}"  # Excel shows ##### for a negative date
        out.append(pl.Series(c, col, dtype=pl.String))
    return frame.with_columns(out)


_UTF16_BOMS = (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)


def decode_text(raw: bytes) -> tuple[str, str]:
    """UTF-8 (with or without BOM) first; Chinese offices otherwise save CSV as GBK/GB18030."""
    if raw.startswith(b"\xef\xbb\xbf"):
        try:
            return raw[3:].decode("utf-8"), "utf-8-sig"
        except UnicodeDecodeError:
            raise FileRejected("CSV文件编码无法识别（带 UTF-8 标记但内容不是 UTF-8），请另存为 UTF-8 或 GBK 编码") from None
    if raw.startswith(_UTF16_BOMS):
        raise FileRejected("CSV文件是 UTF-16（Unicode 文本）编码，请在 Excel 中另存为“CSV UTF-8（逗号分隔）”后重新报送")
    try:
        return raw.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        pass
    try:
        return raw.decode("gb18030"), "gb18030"
    except UnicodeDecodeError:
        raise FileRejected("CSV文件编码无法识别，请另存为 UTF-8 或 GBK 编码") from None


def read_csv(data: bytes, name: str, limits: Limits) -> list[RawSheet]:
    text, encoding = decode_text(data)
    sheet_name = name.rsplit("/", 1)[-1].rsplit(".", 1)[0]
    frame = _plain_csv(text, limits)
    if frame is not None:
        return [RawSheet(sheet_name, frame, excel=False, encoding=encoding)] if frame.width else []
    columns: list[list[str | None]] = []
    rows = 0
    reader = csv.reader(io.StringIO(text))
    try:
        for row in reader:
            rows += 1
            if rows > limits.rows:
                raise FileRejected(f"CSV 文件超过 {limits.rows} 行的上限；请按单位拆分后分别报送；确属正常台账的，请联系管理员调高上限（环境变量 QINGLIAN_LIMIT_ROWS）")
            if len(row) > len(columns):
                if len(row) > limits.columns:
                    raise FileRejected(f"CSV 文件第 {rows} 行有 {len(row)} 列，超过 {limits.columns} 列的上限；请检查分隔符或删除多余的列后重新报送")
                columns.extend([None] * (rows - 1) for _ in range(len(row) - len(columns)))
            for i, column in enumerate(columns):
                column.append(row[i] if i < len(row) else None)
            if rows * len(columns) > limits.cells:
                raise FileRejected(f"CSV 文件超过 {limits.cells} 个单元格的上限；请按单位拆分后分别报送")
    except csv.Error:
        raise FileRejected(f"CSV文件格式错误（第 {reader.line_num} 行附近的引号不成对），请用 Excel 打开后另存为 CSV 再报送") from None
    del text
    if not columns:
        return []
    frame = pl.DataFrame({f"c{i}": col for i, col in enumerate(columns)}, schema={f"c{i}": pl.String for i in range(len(columns))})
    return [RawSheet(sheet_name, frame, excel=False, encoding=encoding)]


def _plain_csv(text: str, limits: Limits) -> pl.DataFrame | None:
    """A CSV without quotes and with no line break but \n or \r\n, split in Polars: what the csv
    module gives for it — a line is a row, a field is the text between commas, a blank line is a
    row of empty cells, a short row's missing cells are null — without a Python loop per cell.
    None for any other file, and for one over a limit (the csv module path says which, and where).
    """
    if '"' in text or text.count("\r") != text.count("\r\n"):
        return None
    lines = text.split("\n")
    if lines[-1] == "":
        lines.pop()  # the line break that ends the last line
    rows = pl.Series("line", lines, dtype=pl.String).str.strip_suffix("\r")
    blank = rows == ""
    commas = rows.str.count_matches(",", literal=True)
    width = 0 if rows.is_empty() or blank.all() else int(commas.max()) + 1
    if len(lines) > limits.rows or width > limits.columns or len(lines) * width > limits.cells:
        return None
    fields = pl.col("line").str.split(",")
    if blank.any():
        fields = pl.when(pl.col("line") == "").then(pl.lit(None, dtype=pl.List(pl.String))).otherwise(fields)
    return rows.to_frame().select(fields.alias("f")).select(pl.col("f").list.get(i, null_on_oob=True).alias(f"c{i}") for i in range(width))


def read_raw(data: bytes, name: str, limits: Limits | None = None, facts: FileFacts | None = None) -> tuple[list[RawSheet], FileFacts]:
    """A file's sheets as the reader gives them: every limit first, then the reader its content calls for."""
    limits = limits or Limits.from_env()
    facts = facts or inspect_file(data, name, limits)
    if facts.kind in ("xlsx", "xls"):
        return read_excel(data, facts), facts
    return read_csv(data, name, limits), facts


def read_bytes_grids(data: bytes, name: str, limits: Limits | None = None, facts: FileFacts | None = None) -> tuple[list[SheetGrid], FileFacts]:
    """Cleaned grids of one file given as bytes (the batch ingest cleans many files' sheets at once)."""
    sheets, facts = read_raw(data, name, limits, facts)
    grid, offsets = finish_sheets(sheets)
    return split_grids(sheets, grid, offsets), facts


def read_grids(path, limits: Limits | None = None) -> list[SheetGrid]:
    """Grids of a file on disk (tools and tests; the ingest reads landing files through ingest.landing)."""
    from pathlib import Path

    path = Path(path)
    return read_bytes_grids(path.read_bytes(), path.name, limits)[0]
