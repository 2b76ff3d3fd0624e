"""Bounded resources per file: what a submitted file may cost, checked before it is parsed.

A spreadsheet can claim far more than its size: an .xlsx is a zip of XML, and a 3 MB file can
inflate to gigabytes (a "zip bomb"), declare sizes that lie, hold thousands of entries or entries
that overlap, or put one cell at row 1,048,576 and column XFD so that a reader allocates the whole
range. So before any reader sees a file, `inspect_file` looks at its bytes:

- the file size (the whole file is then held in memory once, hashed and parsed from there);
- what the bytes really are (xlsx, xls, CSV text — or PDF, HTML, Word, an encrypted workbook),
  whatever the file name says;
- for an .xlsx: the number of zip entries, overlapping entries, and the inflated size of every
  entry, found by inflating each one with a cap (declared sizes are not trusted);
- for every worksheet, streaming: the used range (rows × columns as a reader would allocate it),
  the number of merged ranges, and XML constructs (DTDs, entities) that no workbook needs.

Each limit has a Chinese reason that tells the clerk what to do. The same facts (used-range
offsets, merged ranges) are what the reader needs, so they come out of the same pass.
Limits are configurable with environment variables (QINGLIAN_LIMIT_<NAME>, see `Limits`).
"""

from __future__ import annotations

import math
import os
import re
import struct
import zipfile
import zlib
from dataclasses import dataclass, field, fields
from pathlib import PurePosixPath

from ingest.errors import FileRejected


@dataclass(frozen=True)
class Limits:
    """Per-file limits. Defaults fit any real ledger with a wide margin (a province-wide file of
    100,000 rows is far above what one unit submits) and keep one file's peak memory bounded."""

    file_mb: float = 50  # size of the file as submitted
    inflated_mb: float = 256  # everything inside an .xlsx, inflated
    zip_entries: int = 1000  # a normal workbook has a few dozen
    rows: int = 100_000  # per worksheet / CSV file
    columns: int = 256
    cells: int = 3_000_000  # rows × columns of a worksheet's used range
    cell_chars: int = 32_767  # Excel's own limit for one cell
    merges: int = 20_000  # merged ranges per worksheet

    ENV_PREFIX = "QINGLIAN_LIMIT_"

    @property
    def file_bytes(self) -> int:
        return int(self.file_mb * 1024 * 1024)

    @property
    def upload_mb(self) -> int:
        """The ceiling, in whole MB, a browser upload is held to before the file reaches the ingest's own
        check (Streamlit's server.maxUploadSize and the uploader take integers): file_mb rounded up."""
        return max(1, math.ceil(self.file_mb))

    @property
    def inflated_bytes(self) -> int:
        return int(self.inflated_mb * 1024 * 1024)

    @classmethod
    def from_env(cls, environ: dict[str, str] | None = None) -> Limits:
        """Defaults, overridden by QINGLIAN_LIMIT_FILE_MB, QINGLIAN_LIMIT_ROWS, … when set."""
        from qinglian.errors import UserError

        environ = os.environ if environ is None else environ
        values: dict[str, float | int] = {}
        for f in fields(cls):
            if f.name == "ENV_PREFIX":
                continue
            key = cls.ENV_PREFIX + f.name.upper()
            raw = environ.get(key)
            if raw is None or raw.strip() == "":
                continue
            kind = float if f.type in ("float", float) else int
            try:
                value = kind(raw)
            except ValueError:
                raise UserError(f"环境变量 {key}={raw!r} 不是有效的数字，请改为正数（如 {getattr(cls, f.name)}）或删除该变量") from None
            if value <= 0:
                raise UserError(f"环境变量 {key}={raw!r} 必须是正数，请改正或删除该变量")
            values[f.name] = value
        return cls(**values)  # type: ignore[arg-type]


def _mb(n: int) -> str:
    return f"{n / 1024 / 1024:.1f} MB"


ADVICE_SPLIT = "请删除多余内容或按单位拆分后分别报送；确属正常台账的，请联系管理员调高上限（环境变量 {key}）"


def _limit_reason(what: str, key: str) -> str:
    return f"{what}；{ADVICE_SPLIT.format(key=Limits.ENV_PREFIX + key)}"


# --- what the bytes are --------------------------------------------------------------------------

EXCEL_SUFFIXES = frozenset({".xlsx", ".xlsm", ".xls"})
CSV_SUFFIXES = frozenset({".csv"})
_CFB_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_ENCRYPTED_PACKAGE = "EncryptedPackage".encode("utf-16-le")
_WORKBOOK_STREAMS = ("Workbook".encode("utf-16-le"), "Book".encode("utf-16-le"))
_WORD_STREAM = "WordDocument".encode("utf-16-le")


@dataclass
class SheetFacts:
    """What a reader will allocate for one worksheet, and where its grid starts."""

    name: str
    first_row: int = 0  # 1-based row of the first cell with a value; 0 = no cells (the grid starts at row 1)
    last_row: int = 0
    first_col: int = 0  # 0-based
    last_col: int = -1
    cells: int = 0
    merges: list[tuple[int, int, int, int]] = field(default_factory=list)  # (row1, col1, row2, col2)
    exact: bool = True  # False when the fast scan's bounds must be confirmed against the grid
    # True when the bounds are the sheet's own <dimension>, verified to hold every cell: an upper
    # bound (what a reader may allocate), exact only if the grid read has that very shape.
    box: bool = False

    @property
    def height(self) -> int:
        """Rows of the grid as read (the reader pads the rows above the first cell): the last row."""
        return self.last_row if self.first_row else 0

    @property
    def width(self) -> int:
        return self.last_col - self.first_col + 1 if self.first_row else 0


@dataclass
class FileFacts:
    kind: str  # xlsx | xls | csv
    notes: list[str] = field(default_factory=list)
    sheets: dict[str, SheetFacts] = field(default_factory=dict)  # xlsx only, by sheet name
    sheet_paths: dict[str, str] = field(default_factory=dict)
    members: dict[str, tuple[zipfile.ZipInfo, int]] = field(default_factory=dict, repr=False)  # sheet name -> entry


def sniff(data: bytes, name: str) -> FileFacts:
    """The format of the bytes, whatever the extension; a whole-file reason when it is no table."""
    suffix = PurePosixPath(name).suffix.lower()
    shown = suffix or "无扩展名"
    if not data:
        raise FileRejected("文件是空的（0 字节），请重新导出后再报送")
    head = data[:8]
    kind: str | None = None
    if head.startswith(b"PK\x03\x04") or head.startswith(b"PK\x05\x06"):
        kind = "xlsx"
    elif head == _CFB_MAGIC:
        if _ENCRYPTED_PACKAGE in data:
            raise FileRejected("文件设置了打开密码（已加密），系统无法读取；请在 Excel 中取消密码（文件→信息→保护工作簿）后重新报送")
        if _WORD_STREAM in data and not any(s in data for s in _WORKBOOK_STREAMS):
            raise FileRejected("文件是 Word 文档，不是 Excel 表格；请把台账填入模板（qinglian template 生成）后报送 .xlsx 文件")
        kind = "xls"
    else:
        low = data[:1024].lstrip(b"\xef\xbb\xbf \t\r\n").lower()
        if low.startswith(b"%pdf"):
            raise FileRejected("文件是 PDF 文档，不是表格，系统无法读取数据；请报送 Excel（.xlsx）或 CSV 文件")
        if low.startswith((b"<!doctype html", b"<html", b"<table", b"<?xml")) and b"<table" in data[:65536].lower():
            raise FileRejected("文件实际是网页（HTML）格式，不是真正的 Excel 文件（常见于从业务系统导出的“.xls”）；"
                               "请用 Excel 打开后“另存为”Excel 工作簿（.xlsx）再报送")
        if head.startswith((b"\x89PNG", b"\xff\xd8\xff", b"GIF8", b"BM")):
            raise FileRejected("文件是图片，不是表格，系统无法读取数据；请报送 Excel（.xlsx）或 CSV 文件")
        if head.startswith((b"Rar!", b"7z\xbc\xaf")):
            raise FileRejected("文件是压缩包（RAR/7z），请解压后分别报送其中的 .xlsx 或 .csv 文件")
        if _looks_like_text(data):
            kind = "csv"
    if kind is None:
        if suffix in EXCEL_SUFFIXES:
            raise FileRejected("无法打开该Excel文件（文件已损坏或不是有效的xlsx/xls文件），请重新导出后再报送")
        raise FileRejected(f"不支持的文件类型「{shown}」，请报送 .xlsx 或 .csv 文件")
    facts = FileFacts(kind)
    if kind == "csv" and suffix not in CSV_SUFFIXES:
        if suffix not in EXCEL_SUFFIXES:
            raise FileRejected(f"不支持的文件类型「{shown}」，请报送 .xlsx 或 .csv 文件")
        facts.notes.append(f"文件扩展名为 {suffix}，但内容是 CSV 文本，已按 CSV 读取")
    elif kind in ("xlsx", "xls") and suffix not in EXCEL_SUFFIXES:
        if suffix not in CSV_SUFFIXES:
            raise FileRejected(f"不支持的文件类型「{shown}」，请报送 .xlsx 或 .csv 文件")
        facts.notes.append(f"文件扩展名为 {suffix}，但内容是 Excel 工作簿，已按 Excel 读取")
    return facts


def _looks_like_text(data: bytes) -> bool:
    """UTF-8/GB18030 text without the NUL bytes every binary format has near its start."""
    sample = data[:65536]
    if sample.startswith((b"\xff\xfe", b"\xfe\xff")):
        return True  # UTF-16: the reader explains the encoding
    if sample.count(b"\x00") > len(sample) // 100:
        return False
    for encoding in ("utf-8", "gb18030"):
        try:
            sample.decode(encoding)
            return True
        except UnicodeDecodeError as exc:
            if exc.start >= len(sample) - 4:  # a character cut by the sample boundary
                return True
    return False


# --- the .xlsx container -------------------------------------------------------------------------

_LOCAL_HEADER = struct.Struct("<4s2B4HL2L2H")
_DOCTYPE = re.compile(rb"<!(?:DOCTYPE|ENTITY)", re.IGNORECASE)


def _zip_members(data: bytes, limits: Limits) -> list[tuple[zipfile.ZipInfo, int]]:
    """Entries with the offset of their compressed data, after the structural checks."""
    import io

    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        infos = archive.infolist()
    except (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError, OSError, EOFError, struct.error):
        raise FileRejected("无法打开该Excel文件（文件已损坏或不是完整的 xlsx 文件），请重新导出后再报送") from None
    if len(infos) > limits.zip_entries:
        raise FileRejected(_limit_reason(
            f"文件内部含 {len(infos)} 个组成部分，超过上限 {limits.zip_entries} 个（正常的 Excel 文件只有几十个），疑似压缩炸弹或非正常导出的文件",
            "ZIP_ENTRIES"))
    members, spans = [], []
    for info in infos:
        if info.flag_bits & 0x1:
            raise FileRejected("文件设置了打开密码（已加密），系统无法读取；请在 Excel 中取消密码后重新报送")
        if info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
            raise FileRejected("文件使用了 Excel 不使用的压缩方式，不是正常导出的 Excel 文件；请用 Excel 另存为 .xlsx 后重新报送")
        start = info.header_offset
        header = data[start:start + _LOCAL_HEADER.size]
        if len(header) < _LOCAL_HEADER.size or header[:4] != b"PK\x03\x04":
            raise FileRejected("无法打开该Excel文件（文件已损坏或不是完整的 xlsx 文件），请重新导出后再报送")
        fields_ = _LOCAL_HEADER.unpack(header)
        data_at = start + _LOCAL_HEADER.size + fields_[10] + fields_[11]
        end = data_at + info.compress_size
        if end > len(data):
            raise FileRejected("无法打开该Excel文件（文件已损坏或不完整），请重新导出后再报送")
        members.append((info, data_at))
        spans.append((start, end))
    spans.sort()
    for (_, prev_end), (start, _) in zip(spans, spans[1:], strict=False):
        if start < prev_end:
            raise FileRejected("文件内部结构异常（多个组成部分相互重叠），这是压缩炸弹的特征，已拒收；请用 Excel 另存为 .xlsx 后重新报送")
    return members


class _Budget:
    """Inflated bytes so far, across every entry of one file."""

    def __init__(self, limits: Limits, compressed: int):
        self.limits, self.compressed, self.used = limits, compressed, 0

    def take(self, n: int) -> None:
        self.used += n
        if self.used > self.limits.inflated_bytes:
            raise FileRejected(_limit_reason(
                f"文件解压后超过 {_mb(self.limits.inflated_bytes)} 上限（文件本身 {_mb(self.compressed)}），疑似压缩炸弹或内容过多",
                "INFLATED_MB"))


def _inflate(data: bytes, info: zipfile.ZipInfo, data_at: int, budget: _Budget, chunk: int = 1 << 20):
    """Yield the entry's inflated bytes in chunks, whatever its header claims, within the budget."""
    raw = memoryview(data)[data_at:data_at + info.compress_size]
    if info.compress_type == zipfile.ZIP_STORED:
        for i in range(0, len(raw), chunk):
            part = bytes(raw[i:i + chunk])
            budget.take(len(part))
            yield part
        return
    inflater = zlib.decompressobj(-15)
    pos = 0
    try:
        while pos < len(raw) or inflater.unconsumed_tail:
            if inflater.unconsumed_tail:
                out = inflater.decompress(inflater.unconsumed_tail, chunk)
            else:
                out = inflater.decompress(raw[pos:pos + 65536], chunk)
                pos += 65536
            if out:
                budget.take(len(out))
                yield out
            if inflater.eof:
                break
        tail = inflater.flush()
        if tail:
            budget.take(len(tail))
            yield tail
    except zlib.error:
        raise FileRejected("无法打开该Excel文件（文件内容已损坏），请重新导出后再报送") from None


def _read_small(data: bytes, members: dict[str, tuple[zipfile.ZipInfo, int]], name: str, budget: _Budget) -> str | None:
    if name not in members:
        return None
    info, at = members[name]
    text = b"".join(_inflate(data, info, at, budget)).decode("utf-8", "replace")
    return text


_REL = re.compile(r'<Relationship\b[^>]*>')
_ATTR = re.compile(r'\b(Id|Target)="([^"]*)"')


def _sheet_paths(workbook: str, rels: str) -> dict[str, str]:
    targets = {}
    for tag in _REL.findall(rels):
        attrs = dict(_ATTR.findall(tag))
        if "Id" in attrs and "Target" in attrs:
            targets[attrs["Id"]] = attrs["Target"]
    paths = {}
    for tag in re.findall(r"<(?:\w+:)?sheet\b[^>]*>", workbook):
        name = re.search(r'\bname="([^"]*)"', tag)
        rid = re.search(r'\br:id="([^"]+)"', tag) or re.search(r'\bid="([^"]+)"', tag)
        if name and rid and rid[1] in targets:
            target = targets[rid[1]]
            path = target.lstrip("/") if target.startswith("/") else str(PurePosixPath("xl") / target)
            paths[xml_unescape(name[1])] = str(PurePosixPath(os.path.normpath(path)))
    return paths


def xml_unescape(text: str) -> str:
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&quot;", '"').replace("&apos;", "'").replace("&amp;", "&")


def column_index(letters: str | bytes) -> int:
    """"A" → 0, "Z" → 25, "AA" → 26, "XFD" → 16383."""
    if isinstance(letters, bytes):
        letters = letters.decode()
    n = 0
    for ch in letters:
        n = n * 26 + (ord(ch) - 64)
    return n - 1


def column_letters(index: int) -> str:
    s, n = "", index + 1
    while n:
        n, r = divmod(n - 1, 26)
        s = chr(65 + r) + s
    return s


def _cell_ref(ref: bytes) -> tuple[int, int]:
    m = re.fullmatch(rb"\$?([A-Z]{1,3})\$?(\d{1,7})", ref)
    if not m:
        raise ValueError(ref)
    return int(m[2]), column_index(m[1])


# A cell element that has content (a value, an inline string or a formula): the reader's used
# range is made of these. Self-closing cells (<c r="A5" s="3"/>) are formatting only.
# (Possessive, with a look-behind for the self-closing '/': no backtracking over the attributes.)
_VALUED_CELL = re.compile(rb'<c r="([A-Z]{1,3})(\d{1,7})"[^>]*+(?<!/)>')
_MERGE = re.compile(rb'<mergeCell ref="([A-Z$]{1,4}[0-9$]{1,8})(?::([A-Z$]{1,4}[0-9$]{1,8}))?"')


class _SheetScanner:
    """Streaming scan of one worksheet's XML: used range, cell count and merged ranges.

    Chunks are cut at the last '<' so every tag is seen whole exactly once. The fast path assumes
    what Excel, WPS, LibreOffice, openpyxl and xlsxwriter write (each cell with r="A1" as its first
    attribute); anything else is marked inexact and the reader confirms the bounds on the grid.
    """

    def __init__(self, name: str, limits: Limits):
        self.facts = SheetFacts(name)
        self.limits = limits
        self.carry = b""
        self.columns: set[bytes] = set()
        self.all_cells = 0
        self.ref_cells = 0
        self.saw_sheet_data = False
        self.prefixed = False

    def feed(self, chunk: bytes) -> None:
        buf = self.carry + chunk
        cut = buf.rfind(b"<")
        if cut <= 0:
            self.carry = buf[-(1 << 16):] if len(buf) > (1 << 20) else buf
            return
        region, self.carry = buf[:cut], buf[cut:]
        self._scan(region)

    def finish(self) -> SheetFacts:
        if self.carry:
            self._scan(self.carry + b"<")
            self.carry = b""
        f = self.facts
        if self.columns:
            cols = sorted(column_index(c) for c in self.columns)
            f.first_col, f.last_col = cols[0], cols[-1]
        if self.all_cells != self.ref_cells or self.prefixed:
            f.exact = False
        return f

    def _scan(self, region: bytes) -> None:
        if _DOCTYPE.search(region):
            raise FileRejected(_DTD_REASON)
        if not self.saw_sheet_data and b"sheetData" in region:
            self.saw_sheet_data = True
            if b"<sheetData" not in region:
                self.prefixed = True  # <x:sheetData>: namespace-prefixed elements, scanned exactly
        if not self.prefixed and (_ODD_CELL.search(region) or _PREFIXED_CELL.search(region) or _ODD_ATTRIBUTE.search(region)):
            # A cell this pattern would misplace or miss (no r first, a prefix, a '>' inside an
            # attribute that makes it look self-closing): scanned exactly.
            self.prefixed = True
        self.all_cells += region.count(b"<c ") + region.count(b"<c>")
        self.ref_cells += region.count(b'<c r="')
        cells = _VALUED_CELL.findall(region)
        if cells:
            f = self.facts
            columns, rows = zip(*cells, strict=True)
            numbers = list(map(int, rows))
            low, high = min(numbers), max(numbers)
            f.first_row = low if not f.first_row else min(f.first_row, low)
            f.last_row = max(f.last_row, high)
            f.cells += len(cells)
            self.columns.update(columns)
        if b"<mergeCell " in region:
            for a, b in _MERGE.findall(region):
                self._merge(a, b)

    def _merge(self, a: bytes, b: bytes) -> None:
        if len(self.facts.merges) >= self.limits.merges:
            raise FileRejected(_limit_reason(f"工作表「{self.facts.name}」的合并单元格超过 {self.limits.merges} 处", "MERGES"))
        try:
            r1, c1 = _cell_ref(a)
            r2, c2 = _cell_ref(b) if b else (r1, c1)
        except ValueError:
            return
        self.facts.merges.append((min(r1, r2), min(c1, c2), max(r1, r2), max(c1, c2)))


class _ExactScanner(_SheetScanner):
    """The same facts from a real (streaming, bounded-memory) XML parse, with the reader's rules:
    a cell counts when it has a non-empty value or an inline string; a cell or row without an r
    attribute follows the previous one. Used when the fast scan's assumptions do not hold."""

    def __init__(self, name: str, limits: Limits):
        super().__init__(name, limits)
        from xml.etree.ElementTree import XMLPullParser

        self.parser = XMLPullParser(events=("start", "end"))
        self.row, self.col = 0, -1
        self.min_col: int | None = None
        self.max_col = -1

    def feed(self, chunk: bytes) -> None:
        if _DOCTYPE.search(chunk):
            raise FileRejected(_DTD_REASON)
        try:
            self.parser.feed(chunk)
            self._drain()
        except Exception as exc:  # ParseError: the reader would fail too
            raise FileRejected(f"工作表「{self.facts.name}」内容已损坏（XML 格式错误），请重新导出后再报送") from exc

    def finish(self) -> SheetFacts:
        try:
            self.parser.close()
            self._drain()
        except Exception as exc:
            raise FileRejected(f"工作表「{self.facts.name}」内容已损坏（XML 格式错误），请重新导出后再报送") from exc
        if self.min_col is not None:
            self.facts.first_col, self.facts.last_col = self.min_col, self.max_col
        return self.facts

    def _drain(self) -> None:
        f = self.facts
        for event, elem in self.parser.read_events():
            tag = elem.tag.rsplit("}", 1)[-1]
            if event == "start" and tag == "row":
                r = elem.get("r")
                self.row = int(r) if r and r.isdigit() else self.row + 1
                self.col = -1
            elif event == "start" and tag == "c":
                ref = elem.get("r")
                if ref:
                    try:
                        row, self.col = _cell_ref(ref.encode())
                        self.row = row
                    except ValueError:
                        self.col += 1
                else:
                    self.col += 1
            elif event == "end" and tag == "c":
                valued = any(
                    (child.tag.rsplit("}", 1)[-1] == "v" and (child.text or "") != "") or child.tag.rsplit("}", 1)[-1] == "is"
                    for child in elem
                )
                if valued:
                    f.first_row = self.row if not f.first_row else min(f.first_row, self.row)
                    f.last_row = max(f.last_row, self.row)
                    f.cells += 1
                    self.min_col = self.col if self.min_col is None else min(self.min_col, self.col)
                    self.max_col = max(self.max_col, self.col)
                elem.clear()
            elif event == "end" and tag == "row":
                elem.clear()
            elif event == "end" and tag == "mergeCell":
                ref = (elem.get("ref") or "").encode()
                a, _, b = ref.partition(b":")
                self._merge(a, b)


# Cells a pattern over the raw XML cannot place: a <c> element whose first attribute is not
# r="…" (calamine then places it by counting), or a namespace-prefixed one (<x:c …>).
_ODD_CELL = re.compile(rb'<c(?=[\s>/])(?! r=")')
_PREFIXED_CELL = re.compile(rb":c[\s>/]")  # two searches: an alternation would lose the literal-prefix scan (6× slower)
# A quoted attribute value of a cell holding '>' (or any single-quoted value): the tag's end is
# then not where a pattern looks for it.
_ODD_ATTRIBUTE = re.compile(rb"<c [^>]*(?:'|=\"[^\"]*>)")
_DIMENSION = re.compile(rb'<dimension ref="\$?([A-Z]{1,3})\$?(\d{1,7})(?::\$?([A-Z]{1,3})\$?(\d{1,7}))?"')


def _at_most(n: int) -> bytes:
    """A pattern for the row numbers 1..n as Excel writes them (no sign, no leading zero: anything
    else is a false alarm that only sends the sheet to the exact scan)."""
    s = str(n)
    alternatives = [rb"[1-9]\d{0,%d}" % (len(s) - 2)] if len(s) > 1 else []
    for i, ch in enumerate(s):
        low = 1 if i == 0 else 0
        if int(ch) > low:
            rest = len(s) - i - 1
            alternatives.append(s[:i].encode() + b"[%d-%d]" % (low, int(ch) - 1) + (rb"\d{%d}" % rest if rest else b""))
    alternatives.append(s.encode())
    return b"(?:" + b"|".join(alternatives) + b")"


def _one_of(words: list[str]) -> bytes:
    """A compact pattern matching exactly the given column names (a trie with character classes)."""
    trie: dict = {}
    for word in words:
        node = trie
        for ch in word:
            node = node.setdefault(ch, {})
        node[""] = {}

    def pattern(node: dict) -> str:
        groups: dict[str, list[str]] = {}
        for ch, child in node.items():
            if ch:
                groups.setdefault(pattern(child), []).append(ch)
        parts = [(letters[0] if len(letters) == 1 else "[" + "".join(sorted(letters)) + "]") + sub for sub, letters in groups.items()]
        if not parts:
            return ""
        body = parts[0] if len(parts) == 1 else "(?:" + "|".join(parts) + ")"
        return "(?:" + body + ")?" if "" in node else body

    return pattern(trie).encode()


class _BoxScanner:
    """The fast scan: the sheet's own <dimension> as its bounds, verified over the raw XML.

    Excel, WPS, LibreOffice and the usual libraries write <dimension ref="A1:H6147"/> before the
    cells. It is a claim, not a fact, so every chunk is searched (in C, no match object per cell)
    for any cell reference outside that box, whatever the cell's content — a superset of the
    cells a reader allocates for — and for cells a pattern cannot place. When the claim holds, the
    box is an upper bound of what the reader allocates, checked against the limits like an exact
    range; when it does not (or there is no dimension, or it is beyond the limits, say because of
    formatted empty rows), the sheet is scanned exactly. The grid read is then compared with the
    box (`SheetFacts.box`): the same shape means the box is the used range.
    """

    def __init__(self, name: str, limits: Limits):
        self.facts = SheetFacts(name, box=True)
        self.limits = limits
        self.carry = b""
        self.outside: re.Pattern[bytes] | None = None
        self.valued = False
        self.failed = False

    def feed(self, chunk: bytes) -> bool:
        """False once the box cannot be used (the caller then scans the sheet exactly)."""
        buf = self.carry + chunk
        cut = buf.rfind(b"<")
        if cut <= 0:
            self.carry = buf[-(1 << 16):] if len(buf) > (1 << 20) else buf
            return True
        region, self.carry = buf[:cut], buf[cut:]
        return self._scan(region)

    def finish(self) -> SheetFacts | None:
        if self.carry and not self.failed:
            self._scan(self.carry + b"<")
        self.carry = b""
        if self.failed or self.outside is None:
            return None
        if not self.valued:
            self.facts.first_row = 0
        return self.facts

    def _fail(self) -> bool:
        self.failed = True
        return False

    def _scan(self, region: bytes) -> bool:
        if _DOCTYPE.search(region):
            raise FileRejected(_DTD_REASON)
        if self.outside is None:
            m = _DIMENSION.search(region)
            at = region.find(b"sheetData")
            if m is None or (at != -1 and at < m.start()):
                return self._fail() if m is not None or at != -1 else True
            c1, r1 = column_index(m[1]), int(m[2])
            c2, r2 = (column_index(m[3]), int(m[4])) if m[3] else (c1, r1)
            c1, c2, r1, r2 = min(c1, c2), max(c1, c2), min(r1, r2), max(r1, r2)
            f = self.facts
            f.first_row, f.last_row, f.first_col, f.last_col = max(r1, 1), r2, c1, c2
            if f.height > self.limits.rows or f.width > self.limits.columns or f.height * f.width > self.limits.cells:
                return self._fail()  # perhaps formatted empty rows: the exact scan decides
            columns = _one_of([column_letters(c) for c in range(c1, c2 + 1)])
            # Any reference that is not one of the box's columns followed by one of its rows.
            self.outside = re.compile(rb'<c r="(?!' + columns + _at_most(r2) + rb'")')
        if self.outside.search(region) or _ODD_CELL.search(region) or _PREFIXED_CELL.search(region):
            return self._fail()
        if not self.valued and _VALUED_CELL.search(region):
            self.valued = True
        if b"<mergeCell " in region:
            for a, b in _MERGE.findall(region):
                _SheetScanner._merge(self, a, b)  # type: ignore[arg-type]
        return True


def _scan_exactly(data: bytes, info: zipfile.ZipInfo, at: int, budget: _Budget, sheet: str, limits: Limits) -> SheetFacts:
    """A worksheet's exact used range: the pattern scan, or a real XML parse when its assumptions fail."""
    scanner = _SheetScanner(sheet, limits)
    for chunk in _inflate(data, info, at, budget):
        scanner.feed(chunk)
    sheet_facts = scanner.finish()
    if not sheet_facts.exact:
        # Unusual XML (cells without r="…", prefixed elements): scan again with a real parser.
        exact = _ExactScanner(sheet, limits)
        for chunk in _inflate(data, info, at, _Budget(limits, len(data))):
            exact.feed(chunk)
        sheet_facts = exact.finish()
    return sheet_facts


def exact_sheet_facts(data: bytes, facts: FileFacts, sheet: str, limits: Limits | None = None) -> SheetFacts:
    """The exact used range of a sheet whose facts are a box (see _BoxScanner), within every limit."""
    limits = limits or Limits.from_env()
    info, at = facts.members[sheet]
    sheet_facts = _scan_exactly(data, info, at, _Budget(limits, len(data)), sheet, limits)
    check_sheet_bounds(sheet_facts, limits)
    facts.sheets[sheet] = sheet_facts
    return sheet_facts


_DTD_REASON = "文件中含有 Excel 不会写入的 XML 结构（DTD/实体声明），可能是恶意构造的文件，已拒收；请用 Excel 另存为 .xlsx 后重新报送"


def check_sheet_bounds(facts: SheetFacts, limits: Limits) -> None:
    """The used range a reader would allocate, against the row, column and cell limits."""
    if not facts.first_row:
        return
    height, width = facts.height, facts.width
    where = f"工作表「{facts.name}」的内容延伸到第 {facts.last_row} 行、从 {column_letters(facts.first_col)} 列到 {column_letters(facts.last_col)} 列"
    if height > limits.rows:
        raise FileRejected(_limit_reason(f"{where}（共 {height} 行），超过单个工作表 {limits.rows} 行的上限", "ROWS"))
    if width > limits.columns:
        raise FileRejected(_limit_reason(f"{where}（共 {width} 列），超过 {limits.columns} 列的上限（常见原因是右侧很远处有内容）", "COLUMNS"))
    if height * width > limits.cells:
        raise FileRejected(_limit_reason(f"{where}（{height} 行 × {width} 列），超过 {limits.cells} 个单元格的上限", "CELLS"))


def _inspect_xlsx(data: bytes, limits: Limits, facts: FileFacts) -> None:
    members_list = _zip_members(data, limits)
    declared = sum(info.file_size for info, _ in members_list)
    budget = _Budget(limits, len(data))
    if declared > limits.inflated_bytes:
        budget.take(declared)  # raises: the file itself says it is too big
    members = {info.filename: (info, at) for info, at in members_list}
    workbook = _read_small(data, members, "xl/workbook.xml", budget)
    if workbook is None:
        if "word/document.xml" in members:
            raise FileRejected("文件是 Word 文档，不是 Excel 表格；请把台账填入模板（qinglian template 生成）后报送 .xlsx 文件")
        if any(n.startswith("ppt/") for n in members):
            raise FileRejected("文件是 PowerPoint 演示文稿，不是 Excel 表格；请报送 .xlsx 或 .csv 文件")
        raise FileRejected("文件是压缩包而不是 Excel 工作簿；请解压后报送其中的 .xlsx 或 .csv 文件")
    rels = _read_small(data, members, "xl/_rels/workbook.xml.rels", budget) or ""
    facts.sheet_paths = _sheet_paths(workbook, rels)
    by_path = {path: name for name, path in facts.sheet_paths.items()}
    for info, at in members_list:
        if info.filename in ("xl/workbook.xml", "xl/_rels/workbook.xml.rels"):
            continue
        sheet = by_path.get(info.filename)
        if sheet is None:
            for chunk in _inflate(data, info, at, budget):
                if info.filename.endswith(".xml") and _DOCTYPE.search(chunk[:4096]):
                    raise FileRejected(_DTD_REASON)
            continue
        facts.members[sheet] = (info, at)
        taken = budget.used
        box = _BoxScanner(sheet, limits)
        for chunk in _inflate(data, info, at, budget):
            if not box.feed(chunk):
                break
        sheet_facts = box.finish()
        if sheet_facts is None:
            budget.used = taken  # inflated again, whole, by the exact scan (within the same budget)
            sheet_facts = _scan_exactly(data, info, at, budget, sheet, limits)
        check_sheet_bounds(sheet_facts, limits)
        facts.sheets[sheet] = sheet_facts


def inspect_file(data: bytes, name: str, limits: Limits | None = None) -> FileFacts:
    """Every whole-file limit, before anything is parsed; raises FileRejected with the reason."""
    limits = limits or Limits.from_env()
    if len(data) > limits.file_bytes:
        raise FileRejected(_limit_reason(f"文件大小 {_mb(len(data))}，超过 {_mb(limits.file_bytes)} 上限", "FILE_MB"))
    facts = sniff(data, name)
    if facts.kind == "xlsx":
        _inspect_xlsx(data, limits, facts)
    return facts


def check_limits(data: bytes, name: str, limits: Limits | None = None) -> str | None:
    """The Chinese reason a file is refused before parsing, or None when it is within every limit.

    This is what an upload form calls on the bytes it received, before storing anything.
    """
    try:
        inspect_file(data, name, limits)
    except FileRejected as exc:
        return str(exc)
    return None
