"""Submitted files → typed rows for the raw tables, plus every reject with its Chinese reason.

Pure: reads no file and touches no database. The resolver carries the reference data that
names are resolved against. Rows read = rows loaded + rows rejected holds by construction:
a data row either passes every check or is rejected with all its problems listed.

Batch: the files of one source go through one Polars pipeline. Each file's sheets are read on
their own (`prepare`, safe on a thread pool); then the cells of every file are cleaned together,
each sheet's header and layout is found on its own first rows, and the rows of all files are
parsed, checked and resolved at once, with a file index (`_fid`) beside sheet and row on every
row, so rejects and tables split back by file. Ledgers are many small files, and Polars' cost is
per operation, not per row: a file parsed alone cost ~50 operations, a batch costs about as many
for all its files. A problem that rejects a whole file (no header, a missing required column, no
reporting period) rejects that file only; an unexpected error in a batch makes each of its files
be parsed again alone, so one file nobody foresaw is that file's outcome, not its neighbours'.
`parse_bytes` (the upload form's dry run) is a batch of one: the same code decides.
"""

from __future__ import annotations

import hashlib
import logging
import re
from collections.abc import Callable
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
    find_layout,
    find_layout_rows,
    row_kind,
    title_report_date,
    title_submitter,
)
from ingest.limits import EXCEL_SUFFIXES, FileFacts, Limits
from ingest.periods import Period, parse_period, parse_wave, quarter_end, quarter_of
from ingest.readers import RawSheet, SheetGrid, finish_sheets, read_raw
from ingest.resolve import Resolver, pad_region_code
from ingest.text import compact
from ingest.values import PARSERS, map_values, parse_date

REJECT_SCHEMA = {"sheet": pl.String, "row": pl.Int64, "column": pl.String, "value": pl.String, "reason": pl.String}
# A row's identity inside a batch: which file, which sheet, which Excel row.
_ID = ["_fid", "sheet", "_row"]
_BATCH_REJECTS = {"_fid": pl.Int32, **REJECT_SCHEMA}
_UNPARSABLE = "文件无法解析（内容不符合 Excel/CSV 的正常结构，详情已记入系统日志）；请用 Excel 打开后另存为 .xlsx 再报送"


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
            pl.col("_fid"),
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
        .select(list(_BATCH_REJECTS))
    )


def _display(value: pl.Expr) -> pl.Expr:
    """A submitted value as a reject shows it: hidden characters made visible, a very long value
    cut to its start with its full length said (the reason gives the length; nothing is silent)."""
    shown = value.str.replace_all(_CONTROL, "\ufffd").str.replace_all(_BIDI, "\ufffd")
    length = shown.str.len_chars()
    return (pl.when(length > 200)
            .then(pl.format("{}…（共{}字）", shown.str.slice(0, 100), length))
            .otherwise(shown))


def _problem_rows(frame: pl.DataFrame, specs: list[tuple[str, str, pl.Expr]]) -> pl.DataFrame:
    """Evaluate every (label, value column, problem) at once and unpivot the problems to reject rows."""
    if not specs or frame.is_empty():
        return pl.DataFrame(schema=_BATCH_REJECTS)
    # Problems are rare: the rows that have one are found first (one pass), and only those are
    # turned into a (label, value, problem) per check and unpivoted — not every row times every check.
    frame = frame.filter(frame.select(pl.any_horizontal(problem.is_not_null() for _, _, problem in specs).fill_null(False)).to_series())
    if frame.is_empty():
        return pl.DataFrame(schema=_BATCH_REJECTS)
    checks = [
        pl.struct(pl.lit(label).alias("column"), pl.col(column).cast(pl.String).alias("value"), problem.alias("_p")).alias(f"_k{i}")
        for i, (label, column, problem) in enumerate(specs)
    ]
    return (
        frame.select(*_ID, *checks)
        .unpivot(index=_ID, value_name="_s")
        .unnest("_s")
        .filter(pl.col("_p").is_not_null())
        .with_columns(_display(pl.col("value")).alias("value"))
        .select(
            pl.col("_fid"),
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


def _per_file(fids: list[int], values: dict[int, object], dtype: pl.DataType) -> pl.Expr:
    """A value per file (a title's period, a report date) as a column of the batch."""
    known = {k: v for k, v in values.items() if v is not None}
    if not known:
        return pl.lit(None, dtype=dtype)
    return pl.col("_fid").replace_strict(known, default=None, return_dtype=dtype)


def _most_common(frame: pl.DataFrame, column: str) -> dict[int, str]:
    """Per file, its most frequent non-null value (ties: the one seen first), as Counter.most_common."""
    if frame.is_empty():
        return {}
    top = (frame.select("_fid", column).with_row_index("_i").drop_nulls(column)
           .group_by("_fid", column).agg(pl.len().alias("_n"), pl.col("_i").min().alias("_first"))
           .sort(["_fid", "_n", "_first"], descending=[False, True, False])
           .unique("_fid", keep="first", maintain_order=True))
    return dict(zip(top["_fid"].to_list(), top[column].to_list(), strict=True))


def _heights(frame: pl.DataFrame) -> dict[int, int]:
    if frame.is_empty():
        return {}
    counts = frame.group_by("_fid").len()
    return dict(zip(counts["_fid"].to_list(), counts["len"].to_list(), strict=True))


class _Context:
    """What source-specific steps need: the batch frame, problems so far and each file's facts."""

    def __init__(self, contract: Contract, frame: pl.DataFrame, titles: dict[int, list[str]],
                 fail: Callable[[int, str], None], has_column: dict[str, set[int]]):
        self.contract = contract
        self.frame = frame
        self.titles = titles  # file -> its title lines
        self.fids = sorted(titles)
        self.fail = fail  # rejects one file of the batch (its first reason wins)
        self.has_column = has_column  # field -> files whose header has it
        self.periods: dict[int, str | None] = {}
        self._flags: list[tuple[str, str, pl.Expr]] = []
        self.title_period: dict[int, Period | None] = {fid: _file_period(t) for fid, t in titles.items()}
        self.heights = _heights(frame)

    def label(self, name: str) -> str:
        return self.contract.field(name).label

    def per_file(self, values: dict[int, object], dtype: pl.DataType) -> pl.Expr:
        return _per_file(self.fids, values, dtype)

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
        title = self.per_file({fid: p.key if p else None for fid, p in self.title_period.items()}, pl.String)
        if column and column in self.frame.columns:
            labels = self.frame[column].drop_nulls().unique().to_list()
            mapping = {s: (p.key if (p := parse_period(s)) else None) for s in labels}
            bad = {s: "不是可识别的报告期（应写如 2025年第一季度 或 2025Q1）" for s, v in mapping.items() if v is None}
            value = pl.col(column).replace_strict({k: v for k, v in mapping.items() if v}, default=None, return_dtype=pl.String)
            self.frame = self.frame.with_columns(pl.coalesce(value, title).alias("quarter"))
            if bad:
                self.flag(column, self.label(column), pl.col(column).replace_strict(bad, default=None, return_dtype=pl.String))
        else:
            self.frame = self.frame.with_columns(title.alias("quarter"))
        common = _most_common(self.frame, "quarter")
        for fid in self.fids:
            if self.heights.get(fid) and fid not in common:
                self.fail(fid, "缺少报告期：请在标题中写明（如“2025年第一季度”）或填写「季度」列")
            else:
                self.periods[fid] = common.get(fid)
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
    # A file without any 填报日期 cell is dated by its title line.
    if "report_date" in ctx.frame.columns:
        dated = set(ctx.frame.filter(pl.col("report_date").is_not_null())["_fid"].unique().to_list())
        column = pl.col("report_date")
    else:
        dated, column = set(), pl.lit(None, dtype=pl.Date)
    undated = [fid for fid in ctx.fids if fid not in dated]
    fallback = ctx.per_file(_title_dates_of({fid: ctx.titles[fid] for fid in undated}, ctx.contract), pl.Date)
    ctx.frame = ctx.frame.with_columns(pl.when(pl.col("_fid").is_in(undated)).then(fallback).otherwise(column).alias("report_date"))
    return {"task_progress": ctx.frame}


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
    untitled = [fid for fid in ctx.fids if ctx.title_period[fid] is None]
    if untitled and "assessed_date" in ctx.frame.columns:
        # A ledger without a period in its title is as of its latest assessment date.
        latest = (ctx.frame.filter(pl.col("_fid").is_in(untitled)).group_by("_fid")
                  .agg(pl.col("assessed_date").max()).drop_nulls("assessed_date"))
        for fid, day in latest.iter_rows():
            ctx.title_period[fid] = parse_period(f"截至{day}".replace("-", "年", 1).replace("-", "月", 1) + "日")
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


def _surveys(ctx: _Context, resolver: Resolver, questions: dict[int, list[str]]) -> dict[str, pl.DataFrame]:
    _region_lookup(ctx, resolver)
    title_wave = {fid: next((w for line in ctx.titles[fid] if (w := parse_wave(line))), None) for fid in ctx.fids}
    titled = ctx.per_file(title_wave, pl.String)
    if "wave" in ctx.frame.columns:
        waves = {s: parse_wave(s) for s in ctx.frame["wave"].drop_nulls().unique().to_list()}
        ctx.resolve("wave", "wave_std", waves, "不是可识别的测评年度（应写如 2025年度）")
        ctx.frame = ctx.frame.with_columns(pl.coalesce(pl.col("wave_std"), titled).alias("wave"))
    else:
        ctx.frame = ctx.frame.with_columns(titled.alias("wave"))
    common = _most_common(ctx.frame, "wave")
    for fid in ctx.fids:
        if ctx.heights.get(fid) and fid not in common:
            ctx.fail(fid, "缺少测评批次：请在标题或「测评批次」列中写明年度（如“2025年度”）")
            continue
        ctx.periods[fid] = common[fid] if ctx.heights.get(fid) else title_wave[fid]
        if not questions.get(fid):
            ctx.fail(fid, "未找到题目列：问卷数据应有 Q1、Q2…… 每题一列")
    every = sorted({q for qs in questions.values() for q in qs}, key=lambda q: int(q[1:]))
    answer_map = {k: k for k in SURVEY_ANSWERS} | {str(v): k for k, v in SURVEY_ANSWERS.items()} | {f"{v}.0": k for k, v in SURVEY_ANSWERS.items()}
    for q in every:
        value, problem = map_values(pl.col(q).str.replace_all(r"\s", ""), answer_map, "不是有效答案（很满意/满意/基本满意/不满意/很不满意/不了解，或5-1、0）")
        ctx.frame = ctx.frame.with_columns(value.alias(f"_ans_{q}"))
        ctx.flag(q, q, problem)
    responses = ctx.frame
    if every:
        answers = (
            ctx.frame.select(*_ID, "response_id", *[pl.col(f"_ans_{q}").alias(q) for q in every])
            .unpivot(index=[*_ID, "response_id"], variable_name="question", value_name="answer")
            .filter(pl.col("answer").is_not_null())
            .with_columns(pl.col("answer").replace_strict(SURVEY_ANSWERS, return_dtype=pl.Int32).alias("answer_code"))
        )
    else:
        answers = pl.DataFrame(schema={"_fid": pl.Int32, "sheet": pl.String, "_row": pl.Int64, "response_id": pl.String,
                                       "question": pl.String, "answer": pl.String, "answer_code": pl.Int32})
    return {"survey_responses": responses, "survey_answers": answers}


_CASE_NUMBERS = ("petitions", "clues", "talks", "cases_filed", "punished", "form1", "form2", "form3", "form4", "detained", "transferred", "recovered_10k_yuan")


def _cases(ctx: _Context, resolver: Resolver) -> dict[str, pl.DataFrame]:
    _region_lookup(ctx, resolver)
    # A file without a 统计期 column states its period in the title: that line is its label.
    with_column = ctx.has_column.get("period_label", set())
    title_line = {fid: next((line for line in ctx.titles[fid] if parse_period(line)), None)
                  for fid in ctx.fids if fid not in with_column}
    titled = ctx.per_file(title_line, pl.String)
    column = pl.col("period_label") if "period_label" in ctx.frame.columns else pl.lit(None, dtype=pl.String)
    ctx.frame = ctx.frame.with_columns(pl.when(pl.col("_fid").is_in(list(with_column))).then(column).otherwise(titled).alias("period_label"))
    labels = ctx.frame["period_label"].drop_nulls().unique().to_list()
    periods = {s: parse_period(s) for s in labels}
    ctx.require_period("period_label")
    ytd = {s: ("累计" if p.ytd in (True, None) else "当季") for s, p in periods.items() if p}
    inferred = pl.col("period_label").replace_strict(ytd, default="累计", return_dtype=pl.String)
    scope = pl.coalesce(pl.col("scope"), inferred) if "scope" in ctx.frame.columns else inferred
    ctx.frame = ctx.frame.with_columns(scope.alias("scope"))
    return {"cases": ctx.frame}


def _total_notes(totals: pl.DataFrame, main: pl.DataFrame, contract: Contract) -> dict[int, list[str]]:
    """A 合计 row is compared with the sum of its sheet's rows, never loaded as data."""
    numeric = [f for f in contract.fields if f.kind in ("int", "float") and f.name in totals.columns]
    if totals.is_empty() or not numeric:
        return {}
    sums: dict[tuple[int, str], dict] = {}
    if not main.is_empty():
        for row in main.group_by("_fid", "sheet").agg(pl.col(f.name).sum() for f in numeric).iter_rows(named=True):
            sums[(row["_fid"], row["sheet"])] = row
    notes: dict[int, list[str]] = {}
    for total_row in totals.iter_rows(named=True):
        actuals = sums.get((total_row["_fid"], total_row["sheet"]), {})
        for f in numeric:
            stated_text = total_row.get(f.name)
            if stated_text is None:
                continue
            try:
                stated = float(str(stated_text).replace(",", ""))
            except ValueError:
                continue
            actual = float(actuals.get(f.name) or 0)
            if abs(stated - actual) > 1e-6 * max(1.0, abs(actual)):
                notes.setdefault(total_row["_fid"], []).append(
                    f"第{total_row['_row']}行 合计 {f.label} 为 {stated:g}，与明细之和 {actual:g} 不符，请核对")
    return notes


def _dedupe(frame: pl.DataFrame, key: list[str], label: str) -> pl.DataFrame:
    """Later rows of a file repeating a business key are rejects pointing at the first occurrence."""
    if not all(k in frame.columns for k in key) or frame.is_empty():
        return pl.DataFrame(schema=_BATCH_REJECTS)
    key = ["_fid", *key]
    frame = frame.filter(pl.struct(key).is_duplicated())  # only repeated keys can be rejects: one hash pass, then few rows
    if frame.is_empty():
        return pl.DataFrame(schema=_BATCH_REJECTS)
    first = frame.group_by(key).agg(pl.col("_row").min().alias("_first"), pl.col("sheet").first().alias("_first_sheet"))
    dup = frame.join(first, on=key, how="left").filter(pl.col("_row") != pl.col("_first"))
    shown = "region_input" if key[1] == "region_code" and "region_input" in dup.columns else key[1]
    return _problems(dup, shown, label, pl.format("与第{}行重复", pl.col("_first")))


# Business keys that may appear once per file: (key columns, the column a clerk sees).
_KEYS: dict[str, tuple[list[str], str]] = {
    "regions": (["region_code"], "区划代码"), "departments": (["dept_code"], "单位编码"), "tasks": (["task_code"], "任务编号"),
    "task_progress": (["task_code", "quarter"], "任务编号"), "units": (["unit_code", "quarter"], "单元编码"),
    "inspections": (["issue_code", "quarter"], "问题编号"), "surveys": (["response_id"], "问卷编号"),
    "cases": (["region_code", "quarter"], "所属区划"),
}


# --- reading, then parsing in batches ---------------------------------------------------------------


@dataclass
class Prepared:
    """One file after reading: its sheets' cells, or the outcome reading already gave it."""

    parsed: ParsedFile
    sheets: list[RawSheet] = field(default_factory=list)
    facts: FileFacts | None = None

    @property
    def cells(self) -> int:
        return sum(s.frame.height * max(s.frame.width, 1) for s in self.sheets)


def prepare(data: bytes, rel: str, folder_source: str, sha256: str | None = None, limits: Limits | None = None,
            path: Path | None = None) -> Prepared:
    """Every limit, then the reader: a file's cells, or its outcome. Pure; safe on a thread pool."""
    parsed = ParsedFile(path=path or Path(rel), rel=rel, source=folder_source,
                        sha256=sha256 or hashlib.sha256(data).hexdigest())
    try:
        sheets, facts = read_raw(data, rel, limits)
    except FileRejected as exc:
        _reject(parsed, str(exc))
        return Prepared(parsed)
    except BaseException as exc:
        # A file nobody foresaw (or a reader panic) is that file's outcome, not the end of the
        # batch; the traceback goes to the log for a developer.
        if not is_reader_failure(exc):
            raise
        log.exception("解析文件 %s 时发生意外错误", rel)
        _reject(parsed, _UNPARSABLE)
        return Prepared(parsed)
    parsed.notes.extend(facts.notes)
    return Prepared(parsed, sheets, facts)


def parse_prepared(items: list[Prepared], resolver: Resolver, known_tasks: frozenset[str] = frozenset(),
                   limits: Limits | None = None) -> list[ParsedFile]:
    """Parse read files in batches by source; every file ends with its own outcome."""
    limits = limits or Limits.from_env()
    groups: dict[str, list[Prepared]] = {}
    for item in items:
        if item.facts is not None and item.parsed.error is None:
            groups.setdefault(item.parsed.source, []).append(item)
    for source, group in groups.items():
        try:
            _parse_batch(group, source, resolver, known_tasks, limits)
        except BaseException as exc:
            if not is_reader_failure(exc):
                raise
            if len(group) == 1:
                log.exception("解析文件 %s 时发生意外错误", group[0].parsed.rel)
                _reject(group[0].parsed, _UNPARSABLE)
                continue
            log.warning("批量解析 %d 个 %s 文件时发生意外错误，改为逐个文件解析", len(group), source, exc_info=True)
            for item in group:
                _restart(item)
                parse_prepared([item], resolver, known_tasks, limits)
    return [item.parsed for item in items]


def _restart(item: Prepared) -> None:
    """Forget what a failed batch wrote into the file's result: it is parsed again from its cells."""
    p = item.parsed
    item.parsed = ParsedFile(path=p.path, rel=p.rel, source=p.source, sha256=p.sha256,
                             notes=list(item.facts.notes if item.facts else []))


def parse_bytes(data: bytes, rel: str, folder_source: str, resolver: Resolver, known_tasks: frozenset[str] = frozenset(),
                sha256: str | None = None, limits: Limits | None = None, path: Path | None = None) -> ParsedFile:
    """One file's bytes → its outcome, typed rows and rejects. Pure: no file or database is touched.

    This is the whole of what the ingest decides about a file before loading it (a batch of one),
    so an upload form's dry run calls exactly this. Every failure is the file's outcome, never an
    exception: a limit or a whole-file problem rejects it with the Chinese reason.
    """
    limits = limits or Limits.from_env()
    (parsed,) = parse_prepared([prepare(data, rel, folder_source, sha256, limits, path)], resolver, known_tasks, limits)
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
    for name, contract in CONTRACTS.items():
        if any(find_layout(g.frame.head(HEADER_SCAN_ROWS + 2), contract) is not None for g in grids):
            return name
    return None


@dataclass
class _File:
    """One file's part of a batch."""

    item: Prepared
    fid: int
    found: list[tuple[int, Layout]] = field(default_factory=list)  # (sheet index in the batch, layout)
    heads: list[tuple[list[tuple], list[int]]] = field(default_factory=list)  # every sheet's first rows
    skipped: list[str] = field(default_factory=list)

    @property
    def parsed(self) -> ParsedFile:
        return self.item.parsed


def _fail(file: _File, reason: str) -> None:
    """A whole-file problem: the file is rejected with `reason` (the first one found wins)."""
    p = file.parsed
    if p.error is not None:
        return
    facts = file.item.facts
    if facts is not None and facts.kind == "csv" and PurePosixPath(p.rel).suffix.lower() in EXCEL_SUFFIXES and not p.sheets:
        # Text under an Excel name that is no ledger either: say what the clerk sees.
        reason = "无法打开该Excel文件（文件已损坏或不是有效的xlsx/xls文件），请重新导出后再报送"
    _reject(p, reason)


def _heads(grid: pl.DataFrame, sheets: list[RawSheet]) -> list[tuple[list[tuple], list[int]]]:
    """Each sheet's first rows (where its header must be) as Python values, fetched in one pass."""
    out: list[tuple[list[tuple], list[int]]] = [([], []) for _ in sheets]
    if grid.is_empty():
        return out
    head = grid.filter(pl.col("_row") <= HEADER_SCAN_ROWS + 2)
    cells = [c for c in head.columns if c.startswith("c")]
    for sid, row_number, *values in head.select("_sid", "_row", *cells).iter_rows():
        rows, numbers = out[sid]
        rows.append(tuple(values[:sheets[sid].frame.width]))
        numbers.append(row_number)
    return out


def _parse_batch(group: list[Prepared], source: str, resolver: Resolver, known_tasks: frozenset[str], limits: Limits) -> None:
    contract = CONTRACTS[source]
    files = [_File(item, fid) for fid, item in enumerate(group)]
    sheets: list[RawSheet] = []
    owner: list[_File] = []
    for f in files:
        for sheet in f.item.sheets:
            sheets.append(sheet)
            owner.append(f)
    grid, offsets = finish_sheets(sheets)
    heads = _heads(grid, sheets)
    for sid, sheet in enumerate(sheets):
        f = owner[sid]
        f.heads.append(heads[sid])
        layout = find_layout_rows(*heads[sid], contract)
        if layout is None:
            f.skipped.append(sheet.name)
        else:
            f.found.append((sid, layout))

    # Whole-file checks on each file's layouts, before any row is parsed.
    live: list[_File] = []
    used: list[tuple[int, _File, Layout]] = []  # the data sheets of the files that go on
    has_column: dict[str, set[int]] = {}
    questions: dict[int, list[str]] = {}
    for f in files:
        p = f.parsed
        if not f.found:
            other = next((name for name, c in CONTRACTS.items() if name != source
                          and any(find_layout_rows(*h, c) is not None for h in f.heads)), None)
            if other:
                _fail(f, f"文件放错了文件夹：内容是「{SOURCE_LABELS[other]}」，应放在 {other}/ 文件夹，而不是 {source}/")
            else:
                _fail(f, f"未找到「{SOURCE_LABELS[source]}」的表头，不是已知的填报模板（请用 qinglian template {source} 生成的模板填报）")
            continue
        p.sheets = [sheets[sid].name for sid, _ in f.found]
        skipped = [name for name in f.skipped if "说明" not in name]
        if skipped:
            p.notes.append(f"未识别为数据的工作表已跳过：{'、'.join(skipped)}")
        personal = sorted({k for _, layout in f.found for k in layout.personal})
        if personal:
            p.dropped_columns = personal
            p.notes.append(f"已删除个人信息列（不入库）：{'、'.join(personal)}")
        columns = {name for _, layout in f.found for name in layout.columns}
        missing = [fl.label for fl in contract.fields if fl.required and fl.name not in columns]
        if missing:
            _fail(f, f"缺少必填列：{'、'.join(missing)}")
            continue
        for name in columns:
            has_column.setdefault(name, set()).add(f.fid)
        questions[f.fid] = sorted({q for _, layout in f.found for q in layout.questions}, key=lambda q: int(q[1:]))
        live.append(f)
        used.extend((sid, f, layout) for sid, layout in f.found)
    if not live:
        return
    body = _bodies(grid, sheets, used)
    data = body.filter(pl.col("_kind") == "data").drop("_kind")
    totals = body.filter(pl.col("_kind") == "total").drop("_kind")
    read = _heights(data)
    titles: dict[int, list[str]] = {}
    for f in live:
        f.parsed.rows_read = read.get(f.fid, 0)
        titles[f.fid] = [line for _, layout in f.found for line in layout.title_lines]
        f.parsed.submitter_name = title_submitter(titles[f.fid])
    typed, problems = _parse_fields(data, contract, limits)
    by_fid = {f.fid: f for f in live}
    ctx = _Context(contract, typed, titles, lambda fid, reason: _fail(by_fid[fid], reason), has_column)
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
    tables = steps[source]()
    for fid, period in ctx.periods.items():
        by_fid[fid].parsed.period = period
    main = next(iter(tables.values()))
    problems += ctx.problems
    key, key_label = _KEYS[source]
    problems.append(_dedupe(main.join(_bad_rows(problems), on=_ID, how="anti"), key, key_label))
    found = [p for p in problems if p.height]
    rejects = pl.concat(found).sort("_fid", "sheet", "row", maintain_order=True) if found else pl.DataFrame(schema=_BATCH_REJECTS)
    bad = _bad_rows([rejects])
    rejected = _heights(bad)
    # The check snapshots (_fv/_fp) and answer columns have served; only the rows' own columns stay.
    tables = {name: t.select(c for c in t.columns if not c.startswith(("_fv", "_fp", "_ans_"))) for name, t in tables.items()}
    split = {name: t.join(bad, on=_ID, how="anti").partition_by("_fid", as_dict=True, include_key=False, maintain_order=True)
             for name, t in tables.items()}
    empty = {name: t.drop("_fid").clear() for name, t in tables.items()}
    no_rejects = pl.DataFrame(schema=REJECT_SCHEMA)
    reject_parts = rejects.select(list(_BATCH_REJECTS)).partition_by("_fid", as_dict=True, include_key=False, maintain_order=True) if rejects.height else {}
    notes = _total_notes(totals, main, contract)
    facts = _submitter_facts(main)
    report_dates = _title_dates_of(titles, contract)
    latest = _latest_report_dates(main)
    for f in live:
        p = f.parsed
        if p.error is not None:
            continue  # rejected by a source step: nothing after it applies
        p.rejects = reject_parts.get((f.fid,), no_rejects)
        p.rows_rejected = rejected.get(f.fid, 0)
        p.tables = {name: parts.get((f.fid,), empty[name]) for name, parts in split.items()}
        p.notes.extend(notes.get(f.fid, []))
        _set_submitter(p, resolver, facts.get(f.fid, {}))
        if p.period is None and source not in REFERENCE_SOURCES:
            _fail(f, "缺少报告期：请在标题或相应列中写明报告期")
            continue
        p.report_date = report_dates.get(f.fid)
        if p.report_date is None and f.fid in latest:
            p.report_date = latest[f.fid]


def _bodies(grid: pl.DataFrame, sheets: list[RawSheet], used: list[tuple[int, _File, Layout]]) -> pl.DataFrame:
    """The data and 合计 rows below each data sheet's header, its columns named by the contract,
    for every sheet at once: `_fid`, `sheet`, `_row`, `_kind` and one column per field/question.

    Each sheet maps fields to its own grid columns; a field's column is a when/then over the few
    distinct placements among the sheets, not one operation per sheet.
    """
    header_end = {sid: max(layout.header_rows) for sid, _, layout in used}
    placements: dict[str, dict[str, list[int]]] = {}  # name -> grid column -> sheets
    for sid, _, layout in used:
        for name, col in {**layout.columns, **layout.questions}.items():
            placements.setdefault(name, {}).setdefault(col, []).append(sid)
    named = []
    for name, by_col in placements.items():
        expr = None
        for col, sids in by_col.items():
            expr = (pl.when(pl.col("_sid").is_in(sids)) if expr is None else expr.when(pl.col("_sid").is_in(sids))).then(pl.col(col))
        named.append(expr.otherwise(pl.lit(None, dtype=pl.String)).alias(name))
    grid_cols = [c for c in grid.columns if c.startswith("c")]
    # `blank` looks at the sheet's mapped columns only: a field a sheet does not have is null here.
    kind = row_kind(grid_cols, list(placements), by="_sid").alias("_kind")
    return (
        grid.lazy()
        .filter(pl.col("_sid").is_in(list(header_end)))
        .filter(pl.col("_row") > pl.col("_sid").replace_strict(header_end, return_dtype=pl.Int64))
        .with_columns(named)
        .with_columns(kind)
        .filter(pl.col("_kind").is_in(["data", "total"]))
        .select(pl.col("_sid").replace_strict({sid: f.fid for sid, f, _ in used}, return_dtype=pl.Int32).alias("_fid"),
                pl.col("_sid").replace_strict({sid: sheets[sid].name for sid, _, _ in used}, return_dtype=pl.String).alias("sheet"),
                "_row", "_kind", *placements)
        .collect()
    )


def _title_dates_of(titles: dict[int, list[str]], contract: Contract) -> dict[int, date | None]:
    """The 填报日期 stated in each file's title lines, as dates (one pass for the batch)."""
    stated = {fid: text for fid, lines in titles.items() if (text := title_report_date(lines))}
    if not stated:
        return {}
    frame = pl.DataFrame({"_fid": list(stated), "s": list(stated.values())}, schema={"_fid": pl.Int64, "s": pl.String})
    parsed = frame.select("_fid", parse_date(pl.col("s"), contract.fields[0])[0].alias("d"))
    return dict(zip(parsed["_fid"].to_list(), parsed["d"].to_list(), strict=True))


def _latest_report_dates(main: pl.DataFrame) -> dict[int, date]:
    if "report_date" not in main.columns or main.is_empty():
        return {}
    latest = main.group_by("_fid").agg(pl.col("report_date").max()).drop_nulls("report_date")
    return dict(zip(latest["_fid"].to_list(), latest["report_date"].to_list(), strict=True))


def _bad_rows(problems: list[pl.DataFrame]) -> pl.DataFrame:
    """The (file, sheet, row) triples that have at least one problem."""
    frames = [p.select("_fid", "sheet", pl.col("row").alias("_row")) for p in problems if p.height]
    if not frames:
        return pl.DataFrame(schema={"_fid": pl.Int32, "sheet": pl.String, "_row": pl.Int64})
    return pl.concat(frames).unique()


def _submitter_facts(main: pl.DataFrame) -> dict[int, dict[str, list[str]]]:
    """Per file, the distinct owner and region codes of its rows (for a file without 填报单位)."""
    out: dict[int, dict[str, list[str]]] = {}
    for column in ("owner_code", "region_code"):
        if column not in main.columns or main.is_empty():
            continue
        values = main.group_by("_fid").agg(pl.col(column).drop_nulls().unique())
        for fid, codes in values.iter_rows():
            out.setdefault(fid, {})[column] = codes
    return out


def _set_submitter(parsed: ParsedFile, resolver: Resolver, codes: dict[str, list[str]]) -> None:
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
    for column in ("owner_code", "region_code"):
        if column in codes:
            values = codes[column]
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


__all__ = ["FileRejected", "ParsedFile", "Prepared", "guess_source", "parse_bytes", "parse_file", "parse_prepared", "prepare",
           "quarter_bounds", "quarter_of", "sha256_of"]
