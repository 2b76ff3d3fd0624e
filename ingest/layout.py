"""Finding the table inside a sheet: header row(s), title lines above, data, 合计 and footer below."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import polars as pl

from ingest.contracts import CONTRACTS, PERSONAL_DATA_HEADERS, Contract
from ingest.text import FOOTER_PREFIXES, TOTAL_WORDS, header_key

HEADER_SCAN_ROWS = 30
_QUESTION = re.compile(r"^(?:Q|q|问题|题目|第)(\d{1,2})(?:题)?(?:[.、:：].*)?$")


@dataclass
class Layout:
    contract: Contract
    header_rows: tuple[int, ...]  # Excel row numbers
    columns: dict[str, str]  # field name -> grid column (c0..)
    questions: dict[str, str] = field(default_factory=dict)  # "Q1" -> grid column
    personal: dict[str, str] = field(default_factory=dict)  # header as written -> grid column
    title_lines: list[str] = field(default_factory=list)
    score: int = 0


def _alias_rank(contract: Contract) -> dict[str, tuple[str, int]]:
    ranks: dict[str, tuple[str, int]] = {}
    for f in contract.fields:
        for i, key in enumerate(f.keys):
            ranks.setdefault(header_key(key), (f.name, i))
    return ranks


_RANKS = {name: _alias_rank(c) for name, c in CONTRACTS.items()}
_SIGNATURES = {name: frozenset(_RANKS[name][header_key(s)][0] for s in c.signature) for name, c in CONTRACTS.items()}


def _match(keys: list[str], contract: Contract) -> tuple[dict[str, str], dict[str, str], dict[str, str]]:
    ranks = _RANKS[contract.source]
    best: dict[str, tuple[int, str]] = {}
    questions: dict[str, str] = {}
    personal: dict[str, str] = {}
    for i, key in enumerate(keys):
        col = f"c{i}"
        if key in ranks:
            name, rank = ranks[key]
            if name not in best or rank < best[name][0]:
                best[name] = (rank, col)
        elif key in PERSONAL_DATA_HEADERS:
            personal[key] = col
        elif contract.question_columns and (m := _QUESTION.match(key)):
            questions.setdefault(f"Q{int(m[1])}", col)
    return {name: col for name, (_, col) in best.items()}, questions, personal


def _signature_ok(columns: dict[str, str], contract: Contract) -> bool:
    ranks = _RANKS[contract.source]
    return all(ranks[header_key(s)][0] in columns for s in contract.signature)


def _compose(parent: list[str], child: list[str], contract: Contract) -> list[str]:
    """Two header rows become one: a known child name ("第一种") wins over its merged parent ("四种形态")."""
    ranks = _RANKS[contract.source]
    out = []
    for p, c in zip(parent, child, strict=True):
        if c and (c in ranks or c in PERSONAL_DATA_HEADERS or _QUESTION.match(c)):
            out.append(c)
        elif p:
            out.append(p)
        else:
            out.append(c)
    return out


def find_layout(head: pl.DataFrame, contract: Contract) -> Layout | None:
    """The best header for a contract among the first rows of a sheet, or None."""
    grid_cols = [c for c in head.columns if c != "_row"]
    return find_layout_rows(head.select(grid_cols).rows(), head["_row"].to_list(), contract)


def find_layout_rows(rows: list[tuple], row_numbers: list[int], contract: Contract) -> Layout | None:
    """`find_layout` on a sheet's first rows as Python values (cells of many sheets are fetched at once)."""
    keys = [[header_key(v) for v in r] for r in rows]
    ranks, signature = _RANKS[contract.source], _SIGNATURES[contract.source]
    # The fields each row names: a header (one row or two) must name every signature field, so
    # rows that cannot (data, titles) are not matched at all.
    named = [{ranks[k][0] for k in row if k in ranks} for row in keys]
    best: Layout | None = None
    for i in range(min(len(rows), HEADER_SCAN_ROWS)):
        candidates = []
        if signature <= named[i]:
            candidates.append(((row_numbers[i],), keys[i]))
        if i + 1 < len(rows) and signature <= named[i] | named[i + 1]:
            candidates.append(((row_numbers[i], row_numbers[i + 1]), _compose(keys[i], keys[i + 1], contract)))
        for header_rows, composed in candidates:
            columns, questions, personal = _match(composed, contract)
            if not _signature_ok(columns, contract):
                continue
            score = len(columns) + min(len(questions), 1)
            # On equal matches the single header row wins, so a title line above is not eaten.
            if best is None or (score, -len(header_rows)) > (best.score, -len(best.header_rows)):
                titles = [" ".join(v for v in r if v) for r in rows[:i] if any(r)]
                best = Layout(contract, header_rows, columns, questions, personal, titles, score)
    return best


def classify_rows(body: pl.DataFrame, data_cols: list[str]) -> pl.DataFrame:
    """Adds _kind: data | blank | total | footer. Everything after the first footer line is footer."""
    return body.with_columns(row_kind([c for c in body.columns if c.startswith("c")], data_cols))


def row_kind(grid_cols: list[str], data_cols: list[str], by: str | None = None) -> pl.Expr:
    """The _kind of each row of one sheet's body (grid columns `grid_cols`), as an expression; with
    `by`, of every sheet's body at once (`by` names the sheet of each row). Everything but "after
    the sheet's first footer line" is a function of the row alone, so only that is a window."""
    first_cell = pl.coalesce([pl.col(c) for c in grid_cols]) if grid_cols else pl.lit(None, dtype=pl.String)
    compact_first = first_cell.str.replace_all(r"\s", "")
    footer = compact_first.str.starts_with(FOOTER_PREFIXES[0])
    for prefix in FOOTER_PREFIXES[1:]:
        footer = footer | compact_first.str.starts_with(prefix)
    total = pl.lit(False)
    for c in grid_cols[:3]:
        total = total | pl.col(c).str.replace_all(r"\s", "").is_in(list(TOTAL_WORDS))
    blank = pl.all_horizontal([pl.col(c).is_null() for c in data_cols]) if data_cols else pl.lit(True)
    started = footer.fill_null(False).cast(pl.Int32).cum_sum()
    after_footer = (started.over(by) if by else started) > 0
    kind = (
        pl.when(after_footer).then(pl.lit("footer"))
        .when(total).then(pl.lit("total"))
        .when(blank).then(pl.lit("blank"))
        .otherwise(pl.lit("data"))
    )
    return kind.alias("_kind")


_SUBMITTER = re.compile(r"(?:填报|报送|填表)单位[:：]\s*(.+?)(?:\s{2,}|\s+(?:填报|报送|填表|联系|日期|时间)|$)")
_REPORT_DATE = re.compile(r"(?:填报|报送|填表)(?:日期|时间)[:：]\s*([0-9０-９]{4}[^\s]*)")


def title_submitter(lines: list[str]) -> str | None:
    for line in lines:
        m = _SUBMITTER.search(line)
        if m:
            return m[1].strip(" :：")
    return None


def title_report_date(lines: list[str]) -> str | None:
    for line in lines:
        m = _REPORT_DATE.search(line)
        if m:
            return m[1]
    return None
