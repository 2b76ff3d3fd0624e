"""Reading a submitted file into raw string grids, one per sheet, with Excel row numbers.

Cells are read as text (calamine through fastexcel for Excel, the csv module for CSV) so the
layout can be found before anything is typed. Merged ranges are filled with their top-left
value: a region name merged over several rows belongs to every one of them.
"""

from __future__ import annotations

import csv
import io
import re
import zipfile
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

import fastexcel
import polars as pl

EXCEL_SUFFIXES = frozenset({".xlsx", ".xlsm", ".xls"})
CSV_SUFFIXES = frozenset({".csv"})


class UnreadableFile(Exception):
    """The file cannot be opened as a spreadsheet; the message is Chinese."""


@dataclass
class SheetGrid:
    name: str
    frame: pl.DataFrame  # columns c0..cN (String) and _row (Excel row number, 1-based)
    encoding: str | None = None


def _cell_ref(ref: str) -> tuple[int, int]:
    m = re.fullmatch(r"\$?([A-Z]+)\$?(\d+)", ref)
    if not m:
        raise ValueError(ref)
    col = 0
    for ch in m[1]:
        col = col * 26 + (ord(ch) - 64)
    return int(m[2]), col - 1


def _sheet_xml_paths(archive: zipfile.ZipFile) -> dict[str, str]:
    workbook = archive.read("xl/workbook.xml").decode("utf-8")
    rels = archive.read("xl/_rels/workbook.xml.rels").decode("utf-8")
    targets = dict(re.findall(r'<Relationship[^>]*?Id="([^"]+)"[^>]*?Target="([^"]+)"', rels))
    targets.update({k: v for v, k in re.findall(r'<Relationship[^>]*?Target="([^"]+)"[^>]*?Id="([^"]+)"', rels)})
    paths = {}
    for tag in re.findall(r"<sheet\b[^>]*>", workbook):
        name = re.search(r'name="([^"]*)"', tag)
        rid = re.search(r'r:id="([^"]+)"', tag) or re.search(r'\bid="([^"]+)"', tag)
        if name and rid and rid[1] in targets:
            target = targets[rid[1]].lstrip("/")
            path = target if target.startswith("xl/") else str(PurePosixPath("xl") / target)
            paths[_xml_unescape(name[1])] = path
    return paths


def _xml_unescape(text: str) -> str:
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&quot;", '"').replace("&apos;", "'").replace("&amp;", "&")


@dataclass(frozen=True)
class SheetGeometry:
    first_col: int
    merges: tuple[tuple[int, int, int, int], ...]  # (row1, col1, row2, col2), rows 1-based, cols 0-based


def read_geometry(path: Path) -> dict[str, SheetGeometry]:
    """Merged ranges and the first used column of every sheet of an .xlsx.

    calamine drops merge information and starts its grid at the first used column, so both
    come from the sheet XML; only its head (<dimension>) and tail (<mergeCells>) are scanned.
    """
    out: dict[str, SheetGeometry] = {}
    try:
        with zipfile.ZipFile(path) as archive:
            for name, xml_path in _sheet_xml_paths(archive).items():
                try:
                    data = archive.read(xml_path)
                except KeyError:
                    continue
                head = data[:4096].decode("utf-8", "ignore")
                dim = re.search(r'<dimension ref="([A-Z]+\d+)', head)
                first_col = _cell_ref(dim[1])[1] if dim else 0
                merges = []
                tail_at = data.rfind(b"<mergeCells")
                if tail_at >= 0:
                    for a, b in re.findall(rb'<mergeCell ref="([A-Z]+\d+):([A-Z]+\d+)"', data[tail_at:]):
                        r1, c1 = _cell_ref(a.decode())
                        r2, c2 = _cell_ref(b.decode())
                        merges.append((r1, c1, r2, c2))
                out[name] = SheetGeometry(first_col, tuple(merges))
    except (zipfile.BadZipFile, KeyError, OSError):
        return {}
    return out


def _fill_merges(frame: pl.DataFrame, geometry: SheetGeometry) -> pl.DataFrame:
    if not geometry.merges:
        return frame
    width = frame.width - 1
    updates: dict[str, list[tuple[int, str]]] = {}
    rows = frame.height
    for r1, c1, r2, c2 in geometry.merges:
        c1g, c2g = c1 - geometry.first_col, c2 - geometry.first_col
        if c1g < 0 or c1g >= width or r1 > rows:
            continue
        value = frame.item(r1 - 1, f"c{c1g}")
        if value is None:
            continue
        for c in range(c1g, min(c2g, width - 1) + 1):
            for r in range(r1, min(r2, rows) + 1):
                if (r, c) != (r1, c1g):
                    updates.setdefault(f"c{c}", []).append((r, value))
    if not updates:
        return frame
    columns = []
    for col, cells in updates.items():
        series = frame[col].clone()
        # _row is 1-based and contiguous, so a cell's index is its row number minus one.
        series.scatter([r - 1 for r, _ in cells], [v for _, v in cells])
        columns.append(series)
    return frame.with_columns(columns)


def _finish(frame: pl.DataFrame) -> pl.DataFrame:
    names = [f"c{i}" for i in range(frame.width)]
    frame = frame.rename(dict(zip(frame.columns, names, strict=True)))
    # NFKC turns full-width digits, brackets and ％ into ASCII; folding spaces keeps "洋 县" = "洋县".
    cleaned = [
        pl.col(c).str.normalize("NFKC").str.replace_all(r"[\s\u3000]+", " ").str.strip_chars().replace("", None).alias(c)
        for c in names
    ]
    return frame.with_columns(cleaned).with_row_index("_row", offset=1).with_columns(pl.col("_row").cast(pl.Int64))


def read_excel(path: Path) -> list[SheetGrid]:
    try:
        reader = fastexcel.read_excel(path)
    except Exception as exc:  # calamine raises several types for corrupt files
        raise UnreadableFile("无法打开该Excel文件（文件已损坏或不是有效的xlsx/xls文件），请重新导出后再报送") from exc
    geometry = read_geometry(path) if path.suffix.lower() != ".xls" else {}
    grids = []
    for name in reader.sheet_names:
        try:
            sheet = reader.load_sheet(name, header_row=None, skip_rows=0, dtypes="string")
            frame = sheet.to_polars()
        except Exception as exc:
            raise UnreadableFile(f"工作表「{name}」无法读取，请检查文件是否损坏") from exc
        if frame.width == 0 or frame.height == 0:
            continue
        frame = _finish(frame)
        if name in geometry:
            frame = _fill_merges(frame, geometry[name])
        grids.append(SheetGrid(name, frame))
    return grids


def decode_text(raw: bytes) -> tuple[str, str]:
    """UTF-8 (with or without BOM) first; Chinese offices otherwise save CSV as GBK/GB18030."""
    if raw.startswith(b"\xef\xbb\xbf"):
        return raw[3:].decode("utf-8"), "utf-8-sig"
    try:
        return raw.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        pass
    try:
        return raw.decode("gb18030"), "gb18030"
    except UnicodeDecodeError as exc:
        raise UnreadableFile("CSV文件编码无法识别，请另存为 UTF-8 或 GBK 编码") from exc


def read_csv(path: Path) -> list[SheetGrid]:
    text, encoding = decode_text(path.read_bytes())
    try:
        rows = list(csv.reader(io.StringIO(text)))
    except csv.Error as exc:
        raise UnreadableFile(f"CSV文件格式错误：{exc}") from exc
    width = max((len(r) for r in rows), default=0)
    if width == 0:
        return []
    columns = {f"c{i}": [r[i] if i < len(r) else None for r in rows] for i in range(width)}
    frame = _finish(pl.DataFrame(columns, schema={k: pl.String for k in columns}))
    return [SheetGrid(path.stem, frame, encoding)]


def read_grids(path: Path) -> list[SheetGrid]:
    suffix = path.suffix.lower()
    if suffix in EXCEL_SUFFIXES:
        return read_excel(path)
    if suffix in CSV_SUFFIXES:
        return read_csv(path)
    raise UnreadableFile(f"不支持的文件类型「{suffix or '无扩展名'}」，请报送 .xlsx 或 .csv 文件")
