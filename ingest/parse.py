"""One submitted file → typed rows for the raw tables, plus every reject with its Chinese reason.

Pure: reads the file, touches no database. The resolver carries the reference data that
names are resolved against. Rows read = rows loaded + rows rejected holds by construction:
a data row either passes every check or is rejected with all its problems listed.
"""

from __future__ import annotations

import hashlib
import logging
import re
from collections import Counter
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path, PurePosixPath

import polars as pl

from ingest.contracts import (
    CONTRACTS,
    REFERENCE_SOURCES,
    SOURCE_LABELS,
    SURVEY_ANSWERS,
    UNIT_STAGES,
    Contract,
)
from ingest.errors import FileRejected, is_reader_failure
from ingest.layout import (
    HEADER_SCAN_ROWS,
    Layout,
    classify_rows,
    find_layout,
    title_report_date,
    title_submitter,
)
from ingest.limits import EXCEL_SUFFIXES, Limits
from ingest.periods import Period, parse_period, parse_wave, quarter_end, quarter_of
from ingest.readers import SheetGrid, read_bytes_grids
from ingest.resolve import Resolver, pad_region_code
from ingest.text import compact
from ingest.values import PARSERS, map_values, parse_date

REJECT_SCHEMA = {"sheet": pl.String, "row": pl.Int64, "column": pl.String, "value": pl.String, "reason": pl.String}


log = logging.getLogger(__name__)


@dataclass
class ParsedFile:
    path: Path  # where the bytes came from (for messages); parsing never reads it again
    rel: str
    source: str
    sha256: str
    tables: dict[str, pl.DataFrame] = field(default_factory=dict)
    rejects: pl.DataFrame = field(default_factory=lambda: pl.DataFrame(schema=REJECT_SCHEMA))
    notes: list[str] = field(default_factory=list)
    rows_read: int = 0
    rows_rejected: int = 0
    period: str | None = None
    submitter: str | None = None
    submitter_name: str | None = None
    report_date: date | None = None
    sheets: list[str] = field(default_factory=list)
    dropped_columns: list[str] = field(default_factory=list)
    error: str | None = None

    @property
    def rows_loaded(self) -> int:
        return self.rows_read - self.rows_rejected

    @property
    def outcome(self) -> str:
        if self.error is not None:
            return "rejected"
        return "accepted_with_rejects" if self.rows_rejected else "accepted"


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _problems(frame: pl.DataFrame, column: str, label: str, problem: pl.Expr, value: pl.Expr | None = None) -> pl.DataFrame:
    """Rows of `frame` where `problem` is set, as reject records."""
    value = pl.col(column) if value is None else value
    return (
        frame.select(
            pl.col("sheet"),
            pl.col("_row").alias("row"),
            pl.lit(label).alias("column"),
            value.cast(pl.String).alias("value"),
            problem.alias("_p"),
        )
        .filter(pl.col("_p").is_not_null())
        .with_columns(_display(pl.col("value")).alias("value"))
        .with_columns(
            pl.format("第{}行 {} '{}' {}", pl.col("row"), pl.col("column"), pl.col("value").fill_null(""), pl.col("_p")).alias("reason")
        )
        .select(list(REJECT_SCHEMA))
    )


def _display(value: pl.Expr) -> pl.Expr:
    """A submitted value as a reject shows it: hidden characters made visible, a very long value
    cut to its start with its full length said (the reason gives the length; nothing is silent)."""
    shown = value.str.replace_all(_CONTROL, "\ufffd").str.replace_all(_BIDI, "\ufffd")
    length = shown.str.len_chars()
    return (pl.when(length > 200)
            .then(pl.format("{}…（共{}字）", shown.str.slice(0, 100), length))
            .otherwise(shown))


@dataclass
class _Sheet:
    grid: SheetGrid
    layout: Layout
    data: pl.DataFrame  # raw strings for mapped fields + _row + sheet
    totals: pl.DataFrame


def _sheet_tables(grids: list[SheetGrid], contract: Contract) -> tuple[list[_Sheet], list[str]]:
    """Data sheets for the contract, and the names of sheets skipped as not data."""
    found, skipped = [], []
    for grid in grids:
        layout = find_layout(grid.frame.head(HEADER_SCAN_ROWS + 2), contract)
        if layout is None:
            skipped.append(grid.name)
            continue
        body = grid.frame.filter(pl.col("_row") > max(layout.header_rows))
        wanted = {**layout.columns, **layout.questions}
        body = classify_rows(body, list(wanted.values()))
        select = [pl.col(col).alias(name) for name, col in wanted.items()]
        data = body.filter(pl.col("_kind") == "data").select("_row", *select).with_columns(pl.lit(grid.name).alias("sheet"))
        totals = body.filter(pl.col("_kind") == "total").select("_row", *select).with_columns(pl.lit(grid.name).alias("sheet"))
        found.append(_Sheet(grid, layout, data, totals))
    return found, skipped


def _best_other_source(grids: list[SheetGrid], folder_source: str) -> str | None:
    for name, contract in CONTRACTS.items():
        if name == folder_source:
            continue
        if any(find_layout(g.frame.head(HEADER_SCAN_ROWS + 2), contract) is not None for g in grids):
            return name
    return None


def _problem_rows(frame: pl.DataFrame, specs: list[tuple[str, str, pl.Expr]]) -> pl.DataFrame:
    """Evaluate every (label, value column, problem) at once and unpivot the problems to reject rows.

    One pass per file instead of one per check: ledgers are many small files, so per-expression
    overhead, not data volume, is what costs time.
    """
    if not specs or frame.is_empty():
        return pl.DataFrame(schema=REJECT_SCHEMA)
    checks = [
        pl.struct(pl.lit(label).alias("column"), pl.col(column).cast(pl.String).alias("value"), problem.alias("_p")).alias(f"_k{i}")
        for i, (label, column, problem) in enumerate(specs)
    ]
    return (
        frame.select("sheet", "_row", *checks)
        .unpivot(index=["sheet", "_row"], value_name="_s")
        .unnest("_s")
        .filter(pl.col("_p").is_not_null())
        .with_columns(_display(pl.col("value")).alias("value"))
        .select(
            pl.col("sheet"),
            pl.col("_row").alias("row"),
            pl.col("column"),
            pl.col("value"),
            pl.format("第{}行 {} '{}' {}", pl.col("_row"), pl.col("column"), pl.col("value").fill_null(""), pl.col("_p")).alias("reason"),
        )
    )


# Characters no ledger cell needs and that would make a value lie about itself: NUL and the other
# C0 controls (except tab and line breaks), and bidirectional overrides that make "洋县" render as
# another name (U+202A-202E, U+2066-2069).
_CONTROL = r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]"
_BIDI = r"[\u202a-\u202e\u2066-\u2069]"


def _cell_problems(column: pl.Expr, limits: Limits) -> pl.Expr:
    """Problems any cell can have whatever its type: too long, control or direction characters."""
    length = column.str.len_chars()
    return (
        pl.when(length > limits.cell_chars)
        .then(pl.format("内容长达 {} 字，超过单元格 {} 字的上限（Excel 单元格最多 32767 字），请精简后重新报送",
                        length, pl.lit(limits.cell_chars)))
        .when(column.str.contains(_CONTROL))
        .then(pl.lit("含有不可见的控制字符（如 NUL），请删除后重新报送"))
        .when(column.str.contains(_BIDI))
        .then(pl.lit("含有改变文字方向的隐藏字符（可能使显示内容与实际不符），请删除后重新报送"))
    )


def _parse_fields(data: pl.DataFrame, contract: Contract, limits: Limits) -> tuple[pl.DataFrame, list[pl.DataFrame]]:
    typed, specs = [], []
    names = [f.name for f in contract.fields if f.name in data.columns] + [c for c in data.columns if _QUESTION_COLUMN.fullmatch(c)]
    for f in contract.fields:
        if f.name not in data.columns:
            continue
        parser = PARSERS.get(f.kind, PARSERS["text"])
        value, problem = parser(pl.col(f.name), f)
        if f.required:
            problem = pl.when(pl.col(f.name).is_null()).then(pl.lit("为空（必填项）")).otherwise(problem)
        problem = pl.coalesce(_cell_problems(pl.col(f.name), limits), problem)
        typed.append(value.alias(f.name))
        specs.append((f.label, f.name, problem))
    for q in names[len(typed):]:
        specs.append((q, q, _cell_problems(pl.col(q), limits)))
    return data.with_columns(typed), [_problem_rows(data, specs)]


_QUESTION_COLUMN = re.compile(r"Q\d+")


def _file_period(titles: list[str]) -> Period | None:
    for line in titles:
        period = parse_period(line)
        if period is not None:
            return period
    return None


class _Context:
    """What source-specific steps need: the merged frame, problems so far and file facts."""

    def __init__(self, parsed: ParsedFile, contract: Contract, frame: pl.DataFrame, raw: pl.DataFrame, titles: list[str]):
        self.parsed = parsed
        self.contract = contract
        self.frame = frame
        self.raw = raw  # the same rows as strings, for quoting values in reasons
        self.titles = titles
        self._flags: list[tuple[str, str, pl.Expr]] = []
        self.title_period = _file_period(titles)

    def label(self, name: str) -> str:
        return self.contract.field(name).label

    def flag(self, column: str, label: str, problem: pl.Expr) -> None:
        """Snapshot a check's value and problem now (later steps may overwrite the column)."""
        i = len(self._flags)
        self.frame = self.frame.with_columns(pl.col(column).cast(pl.String).alias(f"_fv{i}"), problem.alias(f"_fp{i}"))
        self._flags.append((label, f"_fv{i}", pl.col(f"_fp{i}")))

    @property
    def problems(self) -> list[pl.DataFrame]:
        return [_problem_rows(self.frame, self._flags)]

    def resolve(self, column: str, target: str, lookup: dict[str, str | None], problem_text: str | dict[str, str]) -> None:
        """Map a column's distinct values through `lookup`; unknown values become rejects."""
        if isinstance(problem_text, dict):
            known = {k: v for k, v in lookup.items() if v is not None}
            self.frame = self.frame.with_columns(pl.col(column).replace_strict(known, default=None, return_dtype=pl.String).alias(target))
            problem = pl.col(column).replace_strict(problem_text, default=None, return_dtype=pl.String)
            self.flag(column, self.label(column), pl.when(pl.col(target).is_null()).then(problem))
        else:
            value, problem = map_values(pl.col(column), lookup, problem_text)
            self.frame = self.frame.with_columns(value.alias(target))
            self.flag(column, self.label(column), problem)

    def require_period(self, column: str | None) -> None:
        """Each row's quarter: its own 季度/统计期 cell, else the title; none at all rejects the file."""
        title = self.title_period.key if self.title_period else None
        if column and column in self.frame.columns:
            labels = self.frame[column].drop_nulls().unique().to_list()
            mapping = {s: (p.key if (p := parse_period(s)) else None) for s in labels}
            bad = {s: "不是可识别的报告期（应写如 2025年第一季度 或 2025Q1）" for s, v in mapping.items() if v is None}
            value = pl.col(column).replace_strict({k: v for k, v in mapping.items() if v}, default=None, return_dtype=pl.String)
            self.frame = self.frame.with_columns(pl.coalesce(value, pl.lit(title)).alias("quarter"))
            if bad:
                self.flag(column, self.label(column), pl.col(column).replace_strict(bad, default=None, return_dtype=pl.String))
        else:
            self.frame = self.frame.with_columns(pl.lit(title, dtype=pl.String).alias("quarter"))
        quarters = self.frame["quarter"].drop_nulls()
        if quarters.is_empty() and self.frame.height:
            raise FileRejected("缺少报告期：请在标题中写明（如“2025年第一季度”）或填写「季度」列")
        self.parsed.period = Counter(quarters.to_list()).most_common(1)[0][0] if not quarters.is_empty() else None
        self.flag("quarter", "季度", pl.when(pl.col("quarter").is_null()).then(pl.lit("缺少报告期")))


def _regions(ctx: _Context, resolver: Resolver) -> dict[str, pl.DataFrame]:
    f = ctx.frame
    codes = {s: pad_region_code(s) for s in f["region_code"].drop_nulls().unique().to_list()}
    ctx.resolve("region_code", "region_code_std", codes, "区划代码应为2/4/6/9/12位数字")
    if "parent_code" in f.columns:
        parents = {s: pad_region_code(s) for s in f["parent_code"].drop_nulls().unique().to_list()}
        ctx.resolve("parent_code", "parent_code_std", parents, "上级代码应为2/4/6/9/12位数字")
    else:
        ctx.frame = ctx.frame.with_columns(pl.lit(None, dtype=pl.String).alias("parent_code_std"))
    note = pl.col("note") if "note" in ctx.frame.columns else pl.lit(None, dtype=pl.String)
    out = ctx.frame.with_columns(
        pl.col("region_code_std").alias("region_code"),
        pl.col("parent_code_std").alias("parent_code"),
        note.str.contains("虚构|模拟|合成").fill_null(False).alias("is_synthetic"),
    )
    return {"regions": out}


def _departments(ctx: _Context, resolver: Resolver) -> dict[str, pl.DataFrame]:
    aliases = (pl.col("aliases").str.replace_all(r"[、;；,，/]", "、").str.split("、")
               if "aliases" in ctx.frame.columns else pl.lit(None, dtype=pl.List(pl.String)))
    out = ctx.frame.with_columns(
        aliases.list.eval(pl.element().str.strip_chars()).list.eval(pl.element().filter(pl.element() != "")).alias("aliases")
    )
    return {"departments": out}


def _owner_lookup(values: list[str], resolver: Resolver) -> tuple[dict[str, str | None], dict[str, str | None]]:
    codes, groups = {}, {}
    for v in values:
        codes[v], groups[v] = resolver.owner(v)
    return codes, groups


_OWNER_PROBLEM = "无法识别：不在部门名称/别名表中，也不是县区名称（请使用规范简称或联系市清廉办补充别名）"


def _tasks(ctx: _Context, resolver: Resolver) -> dict[str, pl.DataFrame]:
    codes, groups = _owner_lookup(ctx.frame["lead_unit_name"].drop_nulls().unique().to_list(), resolver)
    ctx.resolve("lead_unit_name", "owner_code", codes, _OWNER_PROBLEM)
    known = {k: v for k, v in groups.items() if v}
    ctx.frame = ctx.frame.with_columns(pl.col("lead_unit_name").replace_strict(known, default=None, return_dtype=pl.String).alias("owner_group"))
    return {"tasks": ctx.frame}


def _task_progress(ctx: _Context, resolver: Resolver, known_tasks: frozenset[str]) -> dict[str, pl.DataFrame]:
    codes, _ = _owner_lookup(ctx.frame["reporter_name"].drop_nulls().unique().to_list(), resolver)
    ctx.resolve("reporter_name", "owner_code", codes, _OWNER_PROBLEM)
    ctx.require_period("quarter" if "quarter" in ctx.frame.columns else None)
    if known_tasks:
        ctx.flag("task_code", ctx.label("task_code"),
                 pl.when(pl.col("task_code").is_not_null() & ~pl.col("task_code").is_in(list(known_tasks)))
                 .then(pl.lit("不在重点任务清单中，请核对任务编号")))
    if "report_date" not in ctx.frame.columns or ctx.frame["report_date"].null_count() == ctx.frame.height:
        title_date = title_report_date(ctx.titles)
        fallback = pl.DataFrame({"s": [title_date]}, schema={"s": pl.String}).select(parse_date(pl.col("s"), ctx.contract.field("report_date"))[0]).item()
        ctx.frame = ctx.frame.with_columns(pl.lit(fallback, dtype=pl.Date).alias("report_date"))
    return {"task_progress": ctx.frame.with_columns(pl.col("reporter_name"))}


def _region_lookup(ctx: _Context, resolver: Resolver, column: str = "region_input", target: str = "region_code") -> None:
    values = ctx.frame[column].drop_nulls().unique().to_list() if column in ctx.frame.columns else []
    codes, problems = {}, {}
    for v in values:
        code, problem = resolver.region(v)
        codes[v] = code
        if problem:
            problems[v] = problem
    ctx.resolve(column, target, codes, problems)


def _units(ctx: _Context, resolver: Resolver) -> dict[str, pl.DataFrame]:
    _region_lookup(ctx, resolver)
    if ctx.title_period is None and "assessed_date" in ctx.frame.columns:
        dates = ctx.frame["assessed_date"].drop_nulls()
        if not dates.is_empty():
            ctx.title_period = parse_period(f"截至{dates.max()}".replace("-", "年", 1).replace("-", "月", 1) + "日")
    ctx.require_period(None)
    levels = {s: i for i, s in enumerate(UNIT_STAGES)}
    ctx.frame = ctx.frame.with_columns(pl.col("stage").replace_strict(levels, default=None, return_dtype=pl.Int32).alias("stage_level"))
    return {"units": ctx.frame}


def _inspections(ctx: _Context, resolver: Resolver) -> dict[str, pl.DataFrame]:
    bodies = {v: resolver.department(v) for v in ctx.frame["inspected_body"].drop_nulls().unique().to_list()}
    known = {k: v for k, v in bodies.items() if v}
    ctx.frame = ctx.frame.with_columns(pl.col("inspected_body").replace_strict(known, default=None, return_dtype=pl.String).alias("body_dept_code"))
    if "region_input" in ctx.frame.columns:
        _region_lookup(ctx, resolver)
    else:
        ctx.frame = ctx.frame.with_columns(pl.lit(None, dtype=pl.String).alias("region_code"))
    ctx.flag("inspected_body", ctx.label("inspected_body"),
             pl.when(pl.col("body_dept_code").is_null() & pl.col("region_code").is_null() & pl.col("region_input").is_null())
             .then(pl.lit("不是已知部门，且未填写所属区划，无法确定整改责任主体")))
    ctx.require_period(None)
    ctx.flag("completed_date", ctx.label("completed_date"),
             pl.when((pl.col("status") == "已整改") & pl.col("completed_date").is_null()).then(pl.lit("整改状态为“已整改”时必须填写完成日期")))
    return {"inspections": ctx.frame}


def _surveys(ctx: _Context, resolver: Resolver, questions: list[str]) -> dict[str, pl.DataFrame]:
    _region_lookup(ctx, resolver)
    title_wave = next((w for line in ctx.titles if (w := parse_wave(line))), None)
    if "wave" in ctx.frame.columns:
        waves = {s: parse_wave(s) for s in ctx.frame["wave"].drop_nulls().unique().to_list()}
        ctx.resolve("wave", "wave_std", waves, "不是可识别的测评年度（应写如 2025年度）")
        ctx.frame = ctx.frame.with_columns(pl.coalesce(pl.col("wave_std"), pl.lit(title_wave)).alias("wave"))
    else:
        ctx.frame = ctx.frame.with_columns(pl.lit(title_wave, dtype=pl.String).alias("wave"))
    if ctx.frame["wave"].drop_nulls().is_empty() and ctx.frame.height:
        raise FileRejected("缺少测评批次：请在标题或「测评批次」列中写明年度（如“2025年度”）")
    ctx.parsed.period = Counter(ctx.frame["wave"].drop_nulls().to_list()).most_common(1)[0][0] if ctx.frame.height else title_wave
    if not questions:
        raise FileRejected("未找到题目列：问卷数据应有 Q1、Q2…… 每题一列")
    answer_map = {k: k for k in SURVEY_ANSWERS} | {str(v): k for k, v in SURVEY_ANSWERS.items()} | {f"{v}.0": k for k, v in SURVEY_ANSWERS.items()}
    for q in questions:
        value, problem = map_values(pl.col(q).str.replace_all(r"\s", ""), answer_map, "不是有效答案（很满意/满意/基本满意/不满意/很不满意/不了解，或5-1、0）")
        ctx.frame = ctx.frame.with_columns(value.alias(f"_ans_{q}"))
        ctx.flag(q, q, problem)
    responses = ctx.frame
    answers = (
        ctx.frame.select("sheet", "_row", "response_id", *[pl.col(f"_ans_{q}").alias(q) for q in questions])
        .unpivot(index=["sheet", "_row", "response_id"], variable_name="question", value_name="answer")
        .filter(pl.col("answer").is_not_null())
        .with_columns(pl.col("answer").replace_strict(SURVEY_ANSWERS, return_dtype=pl.Int32).alias("answer_code"))
    )
    return {"survey_responses": responses, "survey_answers": answers}


_CASE_NUMBERS = ("petitions", "clues", "talks", "cases_filed", "punished", "form1", "form2", "form3", "form4", "detained", "transferred", "recovered_10k_yuan")


def _cases(ctx: _Context, resolver: Resolver) -> dict[str, pl.DataFrame]:
    _region_lookup(ctx, resolver)
    labels = ctx.frame["period_label"].drop_nulls().unique().to_list() if "period_label" in ctx.frame.columns else []
    periods = {s: parse_period(s) for s in labels}
    if "period_label" not in ctx.frame.columns:
        title = next((line for line in ctx.titles if parse_period(line)), None)
        ctx.frame = ctx.frame.with_columns(pl.lit(title, dtype=pl.String).alias("period_label"))
        periods = {title: parse_period(title)} if title else {}
    ctx.require_period("period_label")
    ytd = {s: ("累计" if p.ytd in (True, None) else "当季") for s, p in periods.items() if p}
    inferred = pl.col("period_label").replace_strict(ytd, default="累计", return_dtype=pl.String)
    scope = pl.coalesce(pl.col("scope"), inferred) if "scope" in ctx.frame.columns else inferred
    ctx.frame = ctx.frame.with_columns(scope.alias("scope"))
    return {"cases": ctx.frame}


def _check_totals(sheet: _Sheet, typed: pl.DataFrame, contract: Contract) -> list[str]:
    """A 合计 row is compared with the sum of the sheet's rows, never loaded as data."""
    notes = []
    numeric = [f for f in contract.fields if f.kind in ("int", "float") and f.name in sheet.totals.columns]
    if sheet.totals.is_empty() or not numeric:
        return notes
    rows = typed.filter(pl.col("sheet") == sheet.grid.name)
    for total_row in sheet.totals.iter_rows(named=True):
        for f in numeric:
            stated_text = total_row.get(f.name)
            if stated_text is None:
                continue
            try:
                stated = float(str(stated_text).replace(",", ""))
            except ValueError:
                continue
            actual = float(rows[f.name].sum() or 0)
            if abs(stated - actual) > 1e-6 * max(1.0, abs(actual)):
                notes.append(f"第{total_row['_row']}行 合计 {f.label} 为 {stated:g}，与明细之和 {actual:g} 不符，请核对")
    return notes


def _dedupe(frame: pl.DataFrame, key: list[str], label: str) -> pl.DataFrame:
    """Later rows repeating a business key are rejects pointing at the first occurrence."""
    if not all(k in frame.columns for k in key) or frame.is_empty():
        return pl.DataFrame(schema=REJECT_SCHEMA)
    first = frame.group_by(key).agg(pl.col("_row").min().alias("_first"), pl.col("sheet").first().alias("_first_sheet"))
    dup = frame.join(first, on=key, how="left").filter(pl.col("_row") != pl.col("_first"))
    shown = "region_input" if key[0] == "region_code" and "region_input" in dup.columns else key[0]
    return _problems(dup, shown, label, pl.format("与第{}行重复", pl.col("_first")))


# Business keys that may appear once per file: (key columns, the column a clerk sees).
_KEYS: dict[str, tuple[list[str], str]] = {
    "regions": (["region_code"], "区划代码"), "departments": (["dept_code"], "单位编码"), "tasks": (["task_code"], "任务编号"),
    "task_progress": (["task_code", "quarter"], "任务编号"), "units": (["unit_code", "quarter"], "单元编码"),
    "inspections": (["issue_code", "quarter"], "问题编号"), "surveys": (["response_id"], "问卷编号"),
    "cases": (["region_code", "quarter"], "所属区划"),
}


def parse_bytes(data: bytes, rel: str, folder_source: str, resolver: Resolver, known_tasks: frozenset[str] = frozenset(),
                sha256: str | None = None, limits: Limits | None = None, path: Path | None = None) -> ParsedFile:
    """One file's bytes → its outcome, typed rows and rejects. Pure: no file or database is touched.

    This is the whole of what the ingest decides about a file before loading it, so an upload
    form's dry run calls exactly this. Every failure is the file's outcome, never an exception:
    a limit or a whole-file problem rejects it with the Chinese reason.
    """
    parsed = ParsedFile(path=path or Path(rel), rel=rel, source=folder_source,
                        sha256=sha256 or hashlib.sha256(data).hexdigest())
    try:
        grids, facts = read_bytes_grids(data, rel, limits)
        parsed.notes.extend(facts.notes)
        try:
            _parse_into(parsed, grids, folder_source, resolver, known_tasks, limits or Limits.from_env())
        except FileRejected:
            if facts.kind == "csv" and PurePosixPath(rel).suffix.lower() in EXCEL_SUFFIXES and not parsed.sheets:
                # Text under an Excel name that is no ledger either: say what the clerk sees.
                raise FileRejected("无法打开该Excel文件（文件已损坏或不是有效的xlsx/xls文件），请重新导出后再报送") from None
            raise
    except FileRejected as exc:
        _reject(parsed, str(exc))
    except BaseException as exc:
        # A file nobody foresaw (or a reader panic) is that file's outcome, not the end of the
        # batch; the traceback goes to the log for a developer.
        if not is_reader_failure(exc):
            raise
        log.exception("解析文件 %s 时发生意外错误", rel)
        _reject(parsed, "文件无法解析（内容不符合 Excel/CSV 的正常结构，详情已记入系统日志）；请用 Excel 打开后另存为 .xlsx 再报送")
    return parsed


def _reject(parsed: ParsedFile, reason: str) -> None:
    parsed.error = reason
    parsed.tables = {}
    parsed.rejects = pl.DataFrame(schema=REJECT_SCHEMA)
    parsed.rows_rejected = parsed.rows_read


def parse_file(path: Path, rel: str, folder_source: str, resolver: Resolver, known_tasks: frozenset[str] = frozenset(),
               sha256: str | None = None, limits: Limits | None = None) -> ParsedFile:
    """`parse_bytes` on a file read whole (tools and tests; the ingest reads through ingest.landing)."""
    limits = limits or Limits.from_env()
    path = Path(path)
    try:
        size = path.stat().st_size
        if size > limits.file_bytes:
            parsed = ParsedFile(path=path, rel=rel, source=folder_source, sha256=sha256 or "")
            _reject(parsed, f"文件大小 {size / 1024 / 1024:.1f} MB，超过 {limits.file_mb:g} MB 上限；请按单位拆分后分别报送")
            return parsed
        data = path.read_bytes()
    except OSError as exc:
        parsed = ParsedFile(path=path, rel=rel, source=folder_source, sha256=sha256 or "")
        from qinglian.errors import os_reason

        _reject(parsed, f"文件无法读取（{os_reason(exc)}）")
        return parsed
    return parse_bytes(data, rel, folder_source, resolver, known_tasks, sha256=sha256, limits=limits, path=path)


def guess_source(grids: list[SheetGrid]) -> str | None:
    """The source whose template a file's sheets follow, for a file in no source folder."""
    return _best_other_source(grids, "")


def _parse_into(parsed: ParsedFile, grids: list[SheetGrid], folder_source: str, resolver: Resolver,
                known_tasks: frozenset[str], limits: Limits) -> None:
    contract = CONTRACTS[folder_source]
    sheets, skipped = _sheet_tables(grids, contract)
    if not sheets:
        other = _best_other_source(grids, folder_source)
        if other:
            raise FileRejected(
                f"文件放错了文件夹：内容是「{SOURCE_LABELS[other]}」，应放在 {other}/ 文件夹，而不是 {folder_source}/"
            )
        raise FileRejected(
            f"未找到「{SOURCE_LABELS[folder_source]}」的表头，不是已知的填报模板（请用 qinglian template {folder_source} 生成的模板填报）"
        )
    parsed.sheets = [s.grid.name for s in sheets]
    skipped = [name for name in skipped if "说明" not in name]
    if skipped:
        parsed.notes.append(f"未识别为数据的工作表已跳过：{'、'.join(skipped)}")
    personal = sorted({k for s in sheets for k in s.layout.personal})
    if personal:
        parsed.dropped_columns = personal
        parsed.notes.append(f"已删除个人信息列（不入库）：{'、'.join(personal)}")
    questions = sorted({q for s in sheets for q in s.layout.questions}, key=lambda q: int(q[1:]))
    data = pl.concat([s.data for s in sheets], how="diagonal_relaxed")
    for q in questions:
        if q not in data.columns:
            data = data.with_columns(pl.lit(None, dtype=pl.String).alias(q))
    missing = [f.label for f in contract.fields if f.required and f.name not in data.columns]
    if missing:
        raise FileRejected(f"缺少必填列：{'、'.join(missing)}")
    titles = [line for s in sheets for line in s.layout.title_lines]
    parsed.rows_read = data.height
    typed, problems = _parse_fields(data, contract, limits)
    parsed.submitter_name = title_submitter(titles)
    ctx = _Context(parsed, contract, typed, data, titles)
    steps = {
        "regions": lambda: _regions(ctx, resolver),
        "departments": lambda: _departments(ctx, resolver),
        "tasks": lambda: _tasks(ctx, resolver),
        "task_progress": lambda: _task_progress(ctx, resolver, known_tasks),
        "units": lambda: _units(ctx, resolver),
        "inspections": lambda: _inspections(ctx, resolver),
        "surveys": lambda: _surveys(ctx, resolver, questions),
        "cases": lambda: _cases(ctx, resolver),
    }
    tables = steps[folder_source]()
    main = next(iter(tables.values()))
    problems += ctx.problems
    key, key_label = _KEYS[folder_source]
    problems.append(_dedupe(main.join(_bad_rows(problems), on=["sheet", "_row"], how="anti"), key, key_label))
    rejects = pl.concat([p for p in problems if p.height]) if any(p.height for p in problems) else pl.DataFrame(schema=REJECT_SCHEMA)
    bad = _bad_rows([rejects])
    parsed.rejects = rejects.sort("sheet", "row")
    parsed.rows_rejected = bad.height
    parsed.tables = {name: t.join(bad, on=["sheet", "_row"], how="anti") for name, t in tables.items()}
    for s in sheets:
        parsed.notes.extend(_check_totals(s, main, contract))
    _set_submitter(parsed, resolver, tables)
    if parsed.period is None and folder_source not in REFERENCE_SOURCES:
        raise FileRejected("缺少报告期：请在标题或相应列中写明报告期")
    report = title_report_date(titles)
    if report:
        value = pl.DataFrame({"s": [report]}).select(parse_date(pl.col("s"), contract.fields[0])[0]).item()
        parsed.report_date = value
    if parsed.report_date is None and "report_date" in main.columns:
        parsed.report_date = main["report_date"].max()


def _bad_rows(problems: list[pl.DataFrame]) -> pl.DataFrame:
    """The (sheet, _row) pairs that have at least one problem."""
    frames = [p.select("sheet", pl.col("row").alias("_row")) for p in problems if p.height]
    if not frames:
        return pl.DataFrame(schema={"sheet": pl.String, "_row": pl.Int64})
    return pl.concat(frames).unique()


def _set_submitter(parsed: ParsedFile, resolver: Resolver, tables: dict[str, pl.DataFrame]) -> None:
    """Who sent the file: the 填报单位 line, else the one owner or county all rows belong to.

    A reference file (regions, departments, tasks) is recorded under the name as written: it is
    what the names of other files are resolved against, so resolving it would make its own record
    depend on which reference files happened to be loaded before it.
    """
    if parsed.source in REFERENCE_SOURCES:
        parsed.submitter = compact(parsed.submitter_name) if parsed.submitter_name else PurePosixPath(parsed.rel).stem
        return
    if parsed.submitter_name:
        parsed.submitter = resolver.entity(parsed.submitter_name) or re.sub(r"\s", "", parsed.submitter_name)
        return
    main = next(iter(tables.values()))
    for column in ("owner_code", "region_code"):
        if column in main.columns:
            values = main[column].drop_nulls().unique().to_list()
            if column == "region_code":
                values = list({resolver.county_of(v) or v for v in values})
            if len(values) == 1:
                parsed.submitter = values[0]
                parsed.submitter_name = resolver.dept_names.get(values[0]) or (
                    resolver.regions[values[0]].name if values[0] in resolver.regions else values[0]
                )
                return
    parsed.submitter = PurePosixPath(parsed.rel).stem


def quarter_bounds(key: str) -> tuple[date, date]:
    end = quarter_end(key)
    return date(end.year, end.month - 2, 1), end


__all__ = ["FileRejected", "ParsedFile", "guess_source", "parse_bytes", "parse_file", "quarter_bounds", "quarter_of", "sha256_of"]
