"""Vectorised cell parsers: every parser maps a column of cleaned strings to (typed value, problem).

The problem is a short Chinese phrase ("不是有效日期…") or null; the caller turns it into a
reject naming file, sheet, row, column and value. Parsing runs as Polars expressions so
province-sized ledgers are not parsed cell by cell in Python.
"""

from __future__ import annotations

from collections.abc import Mapping

import polars as pl

from ingest.contracts import Field
from ingest.text import compact

Parsed = tuple[pl.Expr, pl.Expr]

_EXCEL_EPOCH = pl.date(1899, 12, 30)


def _problem(condition: pl.Expr, text: str) -> pl.Expr:
    return pl.when(condition).then(pl.lit(text)).otherwise(pl.lit(None, dtype=pl.String))


def _number(s: pl.Expr) -> pl.Expr:
    return s.str.replace_all(r"[,，\s]", "").cast(pl.Float64, strict=False)


def _range_problem(value: pl.Expr, f: Field) -> pl.Expr:
    lo, hi = f.min_value, f.max_value
    if lo is not None and hi is not None:
        return _problem((value < lo) | (value > hi), f"不是{lo:g}-{hi:g}之间的数字")
    if lo == 0:
        return _problem(value < 0, "不能为负数")
    if lo is not None:
        return _problem(value < lo, f"不能小于{lo:g}")
    return pl.lit(None, dtype=pl.String)


def parse_float(s: pl.Expr, f: Field) -> Parsed:
    value = _number(s)
    bad = s.is_not_null() & value.is_null()
    return value, pl.coalesce(_problem(bad, "不是数字"), _range_problem(value, f))


def parse_int(s: pl.Expr, f: Field) -> Parsed:
    number = _number(s)
    integral = number == number.floor()
    value = pl.when(integral).then(number).otherwise(None).cast(pl.Int64, strict=False)
    bad = s.is_not_null() & value.is_null()
    return value, pl.coalesce(_problem(bad, "不是整数"), _range_problem(number, f))


def parse_pct(s: pl.Expr, f: Field) -> Parsed:
    """80, "80%", "80％" (already NFKC'd to %) and 0.8 all mean 80 percent.

    A bare number up to 1 is read as a fraction because Excel stores a cell formatted as
    80% as 0.8; nobody reports 1% progress by writing 0.01 in a percent column.
    """
    has_sign = s.str.ends_with("%")
    number = _number(s.str.replace("%", "", literal=True))
    value = pl.when(has_sign).then(number).when(number <= 1).then(number * 100).otherwise(number)
    value = value.round(6)
    bad = s.is_not_null() & number.is_null()
    return value, pl.coalesce(_problem(bad, "不是0-100之间的数字"), _range_problem(value, f))


def parse_date(s: pl.Expr, f: Field) -> Parsed:
    """Excel dates, 2025-03-31, 2025/3/31, 2025.3.31, 2025年3月31日 and Excel serial numbers."""
    serial = s.str.extract(r"^(\d{5})(?:\.0+)?$", 1).cast(pl.Int64, strict=False)
    parts = s.str.replace_all(r"[年月/.]", "-").str.extract_groups(r"^(\d{4})-(\d{1,2})-(\d{1,2})(?:日|\s|$)")
    padded = pl.concat_str(
        parts.struct.field("1"),
        parts.struct.field("2").str.zfill(2),
        parts.struct.field("3").str.zfill(2),
        separator="-",
    )
    from_text = padded.str.strptime(pl.Date, "%Y-%m-%d", strict=False)
    from_serial = pl.when(serial.is_between(20000, 80000)).then(_EXCEL_EPOCH + pl.duration(days=serial))
    value = pl.coalesce(from_text, from_serial.cast(pl.Date))
    bad = s.is_not_null() & value.is_null()
    return value, _problem(bad, "不是有效日期（可写 2025-03-31 或 2025年3月31日）")


def enum_lookup(f: Field) -> dict[str, str]:
    table = {compact(c): c for c in f.choices}
    table.update({compact(k): v for k, v in f.synonyms.items()})
    return table


def parse_enum(s: pl.Expr, f: Field) -> Parsed:
    table = enum_lookup(f)
    value = s.str.replace_all(r"\s", "").replace_strict(table, default=None, return_dtype=pl.String)
    bad = s.is_not_null() & value.is_null()
    return value, _problem(bad, f"不是可选值（{'/'.join(f.choices)}）")


_TRUE = ("是", "已销号", "y", "yes", "√", "1", "true")
_FALSE = ("否", "未销号", "n", "no", "×", "0", "false")


def parse_bool(s: pl.Expr, f: Field) -> Parsed:
    low = s.str.to_lowercase()
    value = pl.when(low.is_in(_TRUE)).then(True).when(low.is_in(_FALSE)).then(False).otherwise(None)
    bad = s.is_not_null() & value.is_null()
    return value, _problem(bad, "应填“是”或“否”")


def parse_text(s: pl.Expr, f: Field) -> Parsed:
    return s, pl.lit(None, dtype=pl.String)


def parse_code(s: pl.Expr, f: Field) -> Parsed:
    # Codes typed into numeric cells come back as "1.0"; a code is never fractional.
    return s.str.replace(r"^(\d+)\.0+$", "${1}").str.replace_all(r"\s", ""), pl.lit(None, dtype=pl.String)


def map_values(s: pl.Expr, mapping: Mapping[str, str | None], problem: str) -> Parsed:
    """Resolve names through a lookup computed in Python on the column's distinct values."""
    known = {k: v for k, v in mapping.items() if v is not None}
    value = s.replace_strict(known, default=None, return_dtype=pl.String)
    bad = s.is_not_null() & value.is_null()
    return value, _problem(bad, problem)


PARSERS = {
    "text": parse_text,
    "code": parse_code,
    "int": parse_int,
    "float": parse_float,
    "pct": parse_pct,
    "date": parse_date,
    "enum": parse_enum,
    "bool": parse_bool,
}
