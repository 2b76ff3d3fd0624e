"""Formatting and spreadsheet export shared by the pages and the bulletin, and the one door every
export goes through (`export`: watermark + audit entry).

Formula injection: a text cell starting with = + - @ would be evaluated by Excel/WPS as a formula
(a submitted 问题描述 "=HYPERLINK(...)" must stay text). In xlsx such a cell is written as a string
with Excel's own quote-prefix style — stored as text, shown without an apostrophe, and still text
when someone edits it. `escape_cell`/`escape_frame` (a leading apostrophe) remain for formats that
have no cell types, such as CSV. Numbers stay numbers.
"""

from __future__ import annotations

import hashlib
import io
import math
import unicodedata
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

import pandas as pd
import xlsxwriter

from dashboards import watermark as wmk
from qinglian.security import audit
from qinglian.security.scope import Scope

FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


def escape_cell(value: Any) -> Any:
    """Text a spreadsheet would evaluate gets a leading single quote; anything else is unchanged."""
    if isinstance(value, str) and value.startswith(FORMULA_PREFIXES):
        return "'" + value
    return value


def needs_quote(value: Any) -> bool:
    """Would a spreadsheet evaluate this text as a formula?"""
    return isinstance(value, str) and value.startswith(FORMULA_PREFIXES)


def escape_frame(df: pd.DataFrame) -> pd.DataFrame:
    """escape_cell over every text column (vectorised per column) and over the headers."""
    out = df.copy()
    for col in out.columns:
        s = out[col]
        if s.dtype == object or pd.api.types.is_string_dtype(s):
            mask = s.astype("string").str.startswith(FORMULA_PREFIXES).fillna(False).astype(bool)
            if mask.any():
                out[col] = s.astype(object).where(~mask, "'" + s.astype("string").astype(object))
    out.columns = [escape_cell(str(c)) for c in out.columns]
    return out


def _display_width(text: str) -> int:
    # CJK characters take two columns in Excel's default font.
    return sum(2 if unicodedata.east_asian_width(ch) in ("W", "F") else 1 for ch in text)


def _sheet_name(name: str, used: set[str]) -> str:
    clean = "".join("_" if ch in "[]:*?/\\" else ch for ch in name)[:31] or "Sheet"
    base, n = clean, 2
    while clean in used:
        clean = f"{base[:28]}_{n}"
        n += 1
    used.add(clean)
    return clean


_WATERMARK: ContextVar[wmk.Watermark | None] = ContextVar("qinglian_watermark", default=None)


@contextmanager
def watermarked(wm: wmk.Watermark) -> Iterator[None]:
    """Every workbook to_xlsx builds inside this block carries `wm` (renderers need not pass it on)."""
    token = _WATERMARK.set(wm)
    try:
        yield
    finally:
        _WATERMARK.reset(token)


def to_xlsx(sheets: Mapping[str, pd.DataFrame], title: str | None = None,
            watermark: wmk.Watermark | None = None) -> bytes:
    """Workbook bytes, one sheet per frame, formula-like text kept as text, header frozen, columns sized
    for CJK. With a watermark (given, or from `watermarked`): background tile, header/footer, an
    导出说明 sheet and document properties naming the viewer."""
    wm = watermark or _WATERMARK.get()
    buf = io.BytesIO()
    wb = xlsxwriter.Workbook(buf, {"in_memory": True, "strings_to_formulas": False, "strings_to_urls": False,
                                   "strings_to_numbers": False, "nan_inf_to_errors": False})
    head_spec = {"bold": True, "bg_color": "#F2DCDB", "border": 1, "text_wrap": True, "valign": "top"}
    head = wb.add_format(head_spec)
    head_q = wb.add_format({**head_spec, "quote_prefix": True})
    title_fmt = wb.add_format({"bold": True, "font_size": 13})
    title_q = wb.add_format({"bold": True, "font_size": 13, "quote_prefix": True})
    text_q = wb.add_format({"quote_prefix": True})
    date_fmt = wb.add_format({"num_format": "yyyy-mm-dd"})
    dt_fmt = wb.add_format({"num_format": "yyyy-mm-dd hh:mm"})
    background = wmk.png_tile(wm) if wm else b""
    used: set[str] = set()
    for name, frame in sheets.items():
        ws = wb.add_worksheet(_sheet_name(name, used))
        df = frame.reset_index(drop=True)
        top = 0
        if title:
            ws.write_string(0, 0, str(title), title_q if needs_quote(str(title)) else title_fmt)
            top = 2
        headers = [str(c) for c in df.columns]
        widths = [_display_width(c) for c in headers]
        for j, col in enumerate(headers):
            ws.write_string(top, j, col, head_q if needs_quote(col) else head)
        # Column-wise writes: the dtype decides the writer once per column, not per cell.
        for j in range(len(df.columns)):
            series = df.iloc[:, j]
            kind = series.dtype.kind if hasattr(series.dtype, "kind") else "O"
            values = series.tolist()
            for i, v in enumerate(values, start=top + 1):
                if v is None or (isinstance(v, float) and math.isnan(v)) or v is pd.NA or v is pd.NaT:
                    continue
                if kind in "iuf" or isinstance(v, int | float) and not isinstance(v, bool):
                    ws.write_number(i, j, float(v))
                elif isinstance(v, bool):
                    ws.write_string(i, j, "是" if v else "否")
                elif isinstance(v, datetime | pd.Timestamp):
                    ws.write_datetime(i, j, pd.Timestamp(v).to_pydatetime(), dt_fmt)
                elif isinstance(v, date):
                    ws.write_datetime(i, j, datetime(v.year, v.month, v.day), date_fmt)
                else:
                    text = str(v)
                    if needs_quote(text):
                        ws.write_string(i, j, text, text_q)
                    else:
                        ws.write_string(i, j, text)
                    widths[j] = max(widths[j], _display_width(text))
            if kind in "iuf" and values:
                widths[j] = max(widths[j], 10)
            elif kind == "M":
                widths[j] = max(widths[j], 16)
        for j, w in enumerate(widths):
            ws.set_column(j, j, min(max(w + 2, 8), 60))
        ws.freeze_panes(top + 1, 0)
        if len(df.columns):
            ws.autofilter(top, 0, top + max(len(df), 1), len(df.columns) - 1)
        if wm:
            wmk.xlsx_sheet(ws, wm, background)
    if wm:
        note = wb.add_worksheet(_sheet_name(wmk.NOTE_SHEET, used))
        rows = {str(n)[:31]: len(f) for n, f in sheets.items()}
        for i, (k, v) in enumerate(wmk.xlsx_note_rows(wm, rows)):
            note.write_string(i, 0, k, head)
            note.write_string(i, 1, v)
        note.set_column(0, 0, 22)
        note.set_column(1, 1, 90)
        wmk.xlsx_sheet(note, wm, background)
        wmk.xlsx_properties(wb, wm)
    wb.close()
    return buf.getvalue()


# --- the one door for exports: watermark, then an audit entry --------------------------------------

EXPORT_KINDS = ("xlsx", "pdf", "docx")


def export(build: Callable[[], bytes], *, kind: str, what: str, scope: Scope, client: str | None = None,
           rows: int | None = None, event: str = "export", **detail: Any) -> bytes:
    """Build an export for `scope`, watermark it, record it in the audit log, and return the bytes.

    `build` returns the document: an xlsx made with to_xlsx (watermarked through `watermarked`), or
    PDF/docx bytes (stamped afterwards). If the audit entry cannot be written, nothing is returned
    (AuditError): an export nobody can trace is not handed out.
    """
    if kind not in EXPORT_KINDS:
        raise ValueError(f"unknown export kind {kind!r}")
    wm = wmk.Watermark.for_scope(scope)
    with watermarked(wm):
        data = build()
    if kind == "pdf":
        data = wmk.stamp_pdf(data, wm)
    elif kind == "docx":
        data = wmk.stamp_docx(data, wm)
    elif b"qinglian-watermark" not in _xlsx_core(data):
        raise RuntimeError(f"{what}: workbook was not built with exports.to_xlsx, so it carries no watermark")
    audit.record(event, scope, client=client, target=what, rows=rows, format=kind, bytes=len(data),
                 sha256=hashlib.sha256(data).hexdigest(), **detail)
    return data


def _xlsx_core(data: bytes) -> bytes:
    import zipfile

    try:
        with zipfile.ZipFile(io.BytesIO(data)) as z:
            return z.read("docProps/core.xml")
    except (KeyError, zipfile.BadZipFile):
        return b""


def rows_of(sheets: Mapping[str, pd.DataFrame]) -> int:
    return int(sum(len(df) for df in sheets.values()))


# --- number formatting: the one home for every page, table, chart label, hover and the bulletin -----
#
# Scores have 2 decimals, rates are percentages with 1 decimal, rounded half up (四舍五入) on the
# decimal value: 96.625 is 96.63 everywhere. Python's round() and numpy round half to even on the
# binary value (96.62), plotly/JavaScript's toFixed rounds half up (96.63): a bar label and the
# table beside it disagreed. Pages therefore round values with these helpers before anything shows
# them (a chart then prints an already-rounded value) and never format numbers with d3 specifiers.

SCORE_DIGITS = 2
RATE_DIGITS = 1  # of the percentage


def _missing(x: Any) -> bool:
    if x is None or x is pd.NA or x is pd.NaT:
        return True
    try:
        return bool(pd.isna(x))
    except (TypeError, ValueError):
        return False


def _decimal(x: Any) -> Decimal:
    # repr gives the shortest text that reads back as the same float: 1.005 is "1.005", not 1.00499…
    return x if isinstance(x, Decimal) else Decimal(repr(float(x)))


def half_up(x: Any, digits: int) -> float | None:
    """x rounded half up to `digits` decimals (None when missing)."""
    if _missing(x):
        return None
    return float(_decimal(x).quantize(Decimal(1).scaleb(-digits), rounding=ROUND_HALF_UP))


def _fixed(x: Any, digits: int) -> str:
    return format(_decimal(x).quantize(Decimal(1).scaleb(-digits), rounding=ROUND_HALF_UP), "f")


def percent(x: Any, digits: int = RATE_DIGITS) -> float | None:
    """A rate in [0, 1] as the percentage shown (0.81125 -> 81.1); None when missing."""
    return None if _missing(x) else half_up(_decimal(x) * 100, digits)


def rounded(series: Any, digits: int = SCORE_DIGITS) -> pd.Series:
    """A column rounded half up (missing stays missing), as floats for tables and charts."""
    s = pd.to_numeric(pd.Series(series), errors="coerce")
    return s.map(lambda v: half_up(v, digits), na_action="ignore").astype(float)


def scores(series: Any) -> pd.Series:
    """Scores (0-100) with 2 decimals: 96.625 -> 96.63."""
    return rounded(series, SCORE_DIGITS)


def percents(series: Any, digits: int = RATE_DIGITS) -> pd.Series:
    """Rates in [0, 1] -> percentages with 1 decimal (0.81125 -> 81.1), the percentage rounded half up."""
    s = pd.to_numeric(pd.Series(series), errors="coerce")
    return s.map(lambda v: percent(v, digits), na_action="ignore").astype(float)


def score(x: Any) -> str:
    """A score as text: '96.63', '100.00'; missing -> '—'."""
    return "—" if _missing(x) else _fixed(x, SCORE_DIGITS)


def pct(x: Any, digits: int = RATE_DIGITS) -> str:
    """0.8125 -> '81.3%'; missing -> '—'."""
    return "—" if _missing(x) else _fixed(_decimal(x) * 100, digits) + "%"


def num(x: Any, digits: int = 1) -> str:
    """A number with thousands separators, rounded half up: 12345.675 -> '12,345.68' (digits=2)."""
    return "—" if _missing(x) else f"{half_up(x, digits):,.{digits}f}"


def text(x: Any, digits: int = SCORE_DIGITS, suffix: str = "") -> str:
    """One value as texts() writes it: '96.63', '' for missing."""
    return "" if _missing(x) else _fixed(x, digits) + suffix


def texts(series: Any, digits: int = SCORE_DIGITS, suffix: str = "") -> list[str]:
    """Chart labels and hover texts from the same rounding as the tables ('' for missing)."""
    return [text(v, digits, suffix) for v in pd.Series(series).tolist()]


def count(x: Any) -> str:
    """A whole number as is (no separators, as the tables show it); missing -> '—'."""
    if x is None or pd.isna(x):
        return "—"
    return f"{int(x)}"


def ratio(numerator: Any, denominator: Any) -> str:
    """'37 / 42' — the numerator and denominator every KPI row carries."""
    if denominator is None or (isinstance(denominator, float) and math.isnan(denominator)):
        return "—"
    n = 0 if numerator is None or (isinstance(numerator, float) and math.isnan(numerator)) else numerator
    return f"{int(n)} / {int(denominator)}"


def rank_change_text(change: Any) -> str:
    """+2 -> '↑2', -1 -> '↓1', 0 -> '—', new -> '新'."""
    if change is None or (isinstance(change, float) and math.isnan(change)) or change is pd.NA:
        return "新"
    c = int(change)
    return f"↑{c}" if c > 0 else f"↓{-c}" if c < 0 else "—"
