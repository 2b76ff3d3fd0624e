"""The clerk report: every problem with a submitted file, per submitting unit, in Chinese.

Two sources are combined: rows the ingest rejected (raw.ingest_rejects, never loaded) and rows
that were loaded but failed a data-quality check (ops.dq_failures). Only files still in force
count: once a corrected file supersedes one, the old file's problems are history.
"""

from __future__ import annotations

import unicodedata
from pathlib import Path

import duckdb
import pandas as pd
import xlsxwriter

from data_quality.frames import table_columns

COLUMNS = ("填报单位", "文件", "工作表", "行号", "字段", "填报值", "问题", "如何修改", "严重程度")

REJECTED_ROW = "拒收（该行未入库）"
REJECTED_FILE = "拒收（整份文件未入库）"
SEVERITY_LABELS = {"blocking": "阻断（暂停发布，须先修改）", "warning": "警告（已发布，请尽快修改）"}
FIX_REJECTED_ROW = "按“问题”所述改正该行后，重新报送整份文件（同一单位同一期次的新文件会自动替换旧文件）。"
FIX_REJECTED_FILE = "按“问题”所述修改文件（可使用最新填报模板）后重新报送。"
UNKNOWN_SUBMITTER = "（未识别填报单位）"

# Cells a spreadsheet would read as a formula (CSV/formula injection): shown as text instead.
_FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


def latest_run_id(con: duckdb.DuckDBPyConnection) -> str | None:
    if table_columns(con, "ops", "dq_results") is None:
        return None
    row = con.execute("select run_id from ops.dq_results where layer = 'raw' "
                      "order by checked_at desc limit 1").fetchone()
    return None if row is None else str(row[0])


def clerk_report(con: duckdb.DuckDBPyConnection, run_id: str | None = None) -> pd.DataFrame:
    """One row per problem: 填报单位, 文件, 工作表, 行号, 字段, 填报值, 问题, 如何修改, 严重程度.

    run_id None: the latest run that checked the raw layer. Sorted by unit, file, sheet, row.
    """
    parts = []
    if table_columns(con, "raw", "ingest_rejects") is not None:
        parts.append(con.execute(f"""
            select coalesce(f.submitter_name, f.submitter, '{UNKNOWN_SUBMITTER}') as 填报单位,
                   r.file as 文件, r.sheet as 工作表, r."row" as 行号, r."column" as 字段, r.value as 填报值,
                   r.reason as 问题,
                   case when r."row" is null then '{FIX_REJECTED_FILE}' else '{FIX_REJECTED_ROW}' end as 如何修改,
                   case when r."row" is null then '{REJECTED_FILE}' else '{REJECTED_ROW}' end as 严重程度
            from raw.ingest_rejects r left join raw.ingest_files f on f.file_id = r.file_id
            where f.superseded_by is null
        """).df())
    run = run_id or latest_run_id(con)
    if run is not None and table_columns(con, "ops", "dq_failures") is not None:
        severity = " ".join(f"when '{k}' then '{v}'" for k, v in SEVERITY_LABELS.items())
        parts.append(con.execute(f"""
            select coalesce(d.submitter_name, d.submitter, '{UNKNOWN_SUBMITTER}') as 填报单位,
                   d.file as 文件, nullif(d.sheet, '') as 工作表, d.row_number as 行号,
                   coalesce(d.column_label, d.column_name) as 字段, d.value as 填报值,
                   d.problem_zh as 问题, d.fix_zh as 如何修改, case d.severity {severity} else d.severity end as 严重程度
            from ops.dq_failures d
            where d.run_id = ? and (d.file_id is null or d.file_id not in
                  (select file_id from raw.ingest_files where superseded_by is not null))
        """, [run]).df())
    parts = [p for p in parts if not p.empty]
    if not parts:
        return pd.DataFrame({c: pd.Series(dtype=object) for c in COLUMNS})
    report = pd.concat(parts, ignore_index=True)
    report["行号"] = report["行号"].astype("Int64")
    report = report.sort_values(["填报单位", "文件", "工作表", "行号"], na_position="first", kind="stable")
    return report.reset_index(drop=True)[list(COLUMNS)]


def escape_cell(value: object) -> object:
    """Prefix text a spreadsheet would evaluate (=, +, -, @) with a single quote."""
    if isinstance(value, str) and value.startswith(_FORMULA_PREFIXES):
        return "'" + value
    return value


def _width(text: str) -> int:
    # CJK characters take two columns in Excel's default font.
    return sum(2 if unicodedata.east_asian_width(ch) in ("W", "F") else 1 for ch in text)


def _write_sheet(wb: xlsxwriter.Workbook, name: str, df: pd.DataFrame, header_fmt: object, text_fmt: object) -> None:
    ws = wb.add_worksheet(name)
    # Widths from the header and the first rows: the workbook streams rows (constant_memory), and
    # a province-wide report can have 100k+ lines.
    sample = df.head(2000)
    for j, col in enumerate(df.columns):
        longest = max((_width(str(escape_cell(v))) for v in sample[col] if v is not None and not _missing(v)), default=0)
        ws.set_column(j, j, min(max(_width(str(col)), longest) + 2, 60))
    for j, col in enumerate(df.columns):
        ws.write_string(0, j, str(col), header_fmt)
    for i, row in enumerate(df.itertuples(index=False), start=1):
        for j, value in enumerate(row):
            if value is None or _missing(value):
                continue
            if isinstance(value, str):
                ws.write_string(i, j, str(escape_cell(value)), text_fmt)
            else:
                ws.write_number(i, j, float(value))
    ws.freeze_panes(1, 0)
    if len(df.columns):
        ws.autofilter(0, 0, max(len(df), 1), len(df.columns) - 1)


def _missing(value: object) -> bool:
    return not isinstance(value, str) and bool(pd.isna(value))


def summary(report: pd.DataFrame) -> pd.DataFrame:
    """Per submitting unit: how many problems of each kind, so the office knows whom to call."""
    if report.empty:
        return pd.DataFrame({c: pd.Series(dtype=object) for c in
                             ("填报单位", "涉及文件数", "问题总数", "拒收", "阻断", "警告")})
    sev = report["严重程度"].fillna("")
    frame = report.assign(拒收=sev.str.startswith("拒收").astype(int), 阻断=sev.str.startswith("阻断").astype(int),
                          警告=sev.str.startswith("警告").astype(int))
    out = frame.groupby("填报单位", sort=True).agg(
        涉及文件数=("文件", "nunique"), 问题总数=("问题", "size"), 拒收=("拒收", "sum"), 阻断=("阻断", "sum"),
        警告=("警告", "sum")).reset_index()
    return out.sort_values(["阻断", "拒收", "问题总数"], ascending=False, kind="stable").reset_index(drop=True)


def write_clerk_report_xlsx(con: duckdb.DuckDBPyConnection, path: str | Path, run_id: str | None = None) -> Path:
    """Write the clerk report: a 汇总 sheet per submitting unit and a 明细 sheet with every problem."""
    out = Path(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    report = clerk_report(con, run_id)
    # Strings stay strings: no formula, URL or number guessing on what clerks typed.
    wb = xlsxwriter.Workbook(str(out), {"strings_to_formulas": False, "strings_to_urls": False,
                                        "strings_to_numbers": False, "constant_memory": True})
    try:
        header = wb.add_format({"bold": True, "bg_color": "#DDEBF7", "border": 1, "text_wrap": True,
                                "valign": "vcenter"})
        text = wb.add_format({"valign": "top"})
        _write_sheet(wb, "汇总", summary(report), header, text)
        _write_sheet(wb, "明细", report, header, text)
    finally:
        wb.close()
    return out
