"""Formatting and spreadsheet export shared by the pages and the bulletin.

Every export goes through `escape_cell`: a text cell starting with = + - @ would be evaluated by
Excel/WPS as a formula (CSV/formula injection — a submitted 问题描述 "=HYPERLINK(...)" must stay
text), so it is prefixed with a single quote. Numbers stay numbers.
"""

from __future__ import annotations

import io
import math
import unicodedata
from collections.abc import Mapping
from datetime import date, datetime
from typing import Any

import pandas as pd
import xlsxwriter

FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


def escape_cell(value: Any) -> Any:
    """Text a spreadsheet would evaluate gets a leading single quote; anything else is unchanged."""
    if isinstance(value, str) and value.startswith(FORMULA_PREFIXES):
        return "'" + value
    return value


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


def to_xlsx(sheets: Mapping[str, pd.DataFrame], title: str | None = None) -> bytes:
    """Workbook bytes, one sheet per frame, text escaped, header frozen, columns sized for CJK."""
    buf = io.BytesIO()
    wb = xlsxwriter.Workbook(buf, {"in_memory": True, "strings_to_formulas": False, "strings_to_urls": False,
                                   "strings_to_numbers": False, "nan_inf_to_errors": False})
    head = wb.add_format({"bold": True, "bg_color": "#F2DCDB", "border": 1, "text_wrap": True, "valign": "top"})
    title_fmt = wb.add_format({"bold": True, "font_size": 13})
    date_fmt = wb.add_format({"num_format": "yyyy-mm-dd"})
    dt_fmt = wb.add_format({"num_format": "yyyy-mm-dd hh:mm"})
    used: set[str] = set()
    for name, frame in sheets.items():
        ws = wb.add_worksheet(_sheet_name(name, used))
        df = escape_frame(frame.reset_index(drop=True))
        top = 0
        if title:
            ws.write_string(0, 0, str(escape_cell(title)), title_fmt)
            top = 2
        widths = [_display_width(str(c)) for c in df.columns]
        for j, col in enumerate(df.columns):
            ws.write_string(top, j, str(col), head)
        # Column-wise writes: the dtype decides the writer once per column, not per cell.
        for j, col in enumerate(df.columns):
            series = df[col]
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
                    text = str(escape_cell(str(v)))
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
    wb.close()
    return buf.getvalue()


# --- number formatting used on screen and in the bulletin ----------------------------------------


def pct(x: Any, digits: int = 1) -> str:
    """0.8125 -> '81.3%'; missing -> '—'."""
    if x is None or (isinstance(x, float) and math.isnan(x)) or x is pd.NA:
        return "—"
    return f"{float(x) * 100:.{digits}f}%"


def num(x: Any, digits: int = 1) -> str:
    if x is None or (isinstance(x, float) and math.isnan(x)) or x is pd.NA:
        return "—"
    return f"{float(x):,.{digits}f}"


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
