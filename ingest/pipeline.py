"""Ingest a landing folder: discover files, parse them in dependency order, load each atomically."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import date
from functools import partial
from pathlib import Path

from ingest.contracts import CONTRACTS, LOAD_ORDER, REFERENCE_SOURCES, SOURCES
from ingest.load import connect, load_file, load_known_tasks, load_resolver, record_duplicate, seen_files
from ingest.parse import ParsedFile, parse_file, sha256_of
from ingest.resolve import Resolver

IGNORED_PREFIXES = ("_", ".", "~$")


@dataclass
class FileOutcome:
    rel: str
    source: str | None
    outcome: str  # accepted | accepted_with_rejects | rejected | duplicate | unchanged
    submitter_name: str | None = None
    period: str | None = None
    rows_read: int = 0
    rows_loaded: int = 0
    rows_rejected: int = 0
    message: str | None = None


@dataclass
class IngestSummary:
    files: list[FileOutcome] = field(default_factory=list)

    def count(self, outcome: str) -> int:
        return sum(1 for f in self.files if f.outcome == outcome)

    @property
    def rows_read(self) -> int:
        return sum(f.rows_read for f in self.files)

    @property
    def rows_loaded(self) -> int:
        return sum(f.rows_loaded for f in self.files)

    @property
    def rows_rejected(self) -> int:
        return sum(f.rows_rejected for f in self.files)


def discover(landing: Path) -> list[tuple[str, Path]]:
    """(source folder, file) for every submitted file, in a stable order."""
    found = []
    for source in SOURCES:
        folder = landing / source
        if not folder.is_dir():
            continue
        for path in sorted(folder.rglob("*")):
            if path.is_file() and not path.name.startswith(IGNORED_PREFIXES):
                found.append((source, path))
    return found


def in_scope(period: str | None, quarter: str | None) -> bool:
    """A quarterly run takes files up to its quarter; a survey wave (a year) counts from that year on."""
    if quarter is None or period is None:
        return True
    if len(period) == 4:
        return period <= quarter[:4]
    return period <= quarter


def _order_key(parsed: ParsedFile) -> tuple[int, date, float, str]:
    # A corrected file must load after the file it corrects: by its stated report date, then mtime.
    return (LOAD_ORDER[parsed.source], parsed.report_date or date.min, parsed.path.stat().st_mtime, parsed.rel)


# Below this many files a pool's start-up (a fresh interpreter importing Polars) costs more than it saves.
PARALLEL_MIN_FILES = 24


def _parse_job(job: tuple[str, Path, str, str], resolver: Resolver, known_tasks: frozenset[str]) -> ParsedFile:
    source, path, rel, sha = job
    return parse_file(path, rel, source, resolver, known_tasks, sha256=sha)


def parse_many(jobs: list[tuple[str, Path, str, str]], resolver: Resolver, known_tasks: frozenset[str],
               on_progress: Callable[[str], None] | None = None) -> Iterator[ParsedFile]:
    """Parse files, in order; across processes when there are many.

    Ledgers are many small files, and per-file cost is Polars call overhead, not data volume, so
    the only way to use a second core is a second process. Parsing is pure (the resolver is fixed
    for the stage); loading stays in this process, one transaction per file. Workers are spawned,
    not forked, because this process holds a multi-threaded DuckDB connection.
    """
    workers = min(os.cpu_count() or 1, 4)
    if len(jobs) < PARALLEL_MIN_FILES or workers < 2 or os.environ.get("QINGLIAN_INGEST_WORKERS") == "1":
        for job in jobs:
            if on_progress:
                on_progress(job[2])
            yield _parse_job(job, resolver, known_tasks)
        return
    work = partial(_parse_job, resolver=resolver, known_tasks=known_tasks)
    with ThreadPoolExecutor(max_workers=workers) as pool:
        for job, parsed in zip(jobs, pool.map(work, jobs), strict=True):
            if on_progress:
                on_progress(job[2])
            yield parsed


def ingest_landing(
    landing: Path,
    warehouse: Path,
    sources: Iterable[str] | None = None,
    on_file: Callable[[FileOutcome], None] | None = None,
    on_progress: Callable[[str], None] | None = None,
    quarter: str | None = None,
) -> IngestSummary:
    """Load every new file; with `quarter`, files of later periods wait for their own run."""
    wanted = set(sources) if sources else set(CONTRACTS)
    files = [(s, p) for s, p in discover(landing) if s in wanted]
    summary = IngestSummary()
    con = connect(warehouse)
    try:
        seen = seen_files(con)
        seen_paths = set(r[0] for r in con.execute("select path from raw.ingest_files").fetchall())
        # Reference data first: later sources resolve their names against it.
        stages = [[f for f in files if f[0] in REFERENCE_SOURCES and f[0] != "tasks"],
                  [f for f in files if f[0] == "tasks"],
                  [f for f in files if f[0] not in REFERENCE_SOURCES]]
        for stage in stages:
            resolver, known_tasks = load_resolver(con), load_known_tasks(con)
            pending = []

            def already_seen(source: str, path: Path, rel: str, sha: str) -> bool:
                """An identical file was processed before: record it as unchanged or duplicate."""
                if sha not in seen:
                    return False
                first_path, _ = seen[sha]
                if rel in seen_paths or first_path == rel:
                    outcome = FileOutcome(rel, source, "unchanged", message="此前已处理，内容未变")
                else:
                    record_duplicate(con, ParsedFile(path=path, rel=rel, source=source, sha256=sha), first_path)
                    seen_paths.add(rel)
                    outcome = FileOutcome(rel, source, "duplicate", message=f"与 {first_path} 内容完全相同，未重复入库")
                summary.files.append(outcome)
                if on_file:
                    on_file(outcome)
                return True

            batch: list[tuple[str, Path, str, str]] = []
            repeats: list[tuple[str, Path, str, str]] = []  # same bytes as a file of this batch: decided after it
            batch_shas: set[str] = set()
            for source, path in stage:
                rel = path.relative_to(landing).as_posix()
                sha = sha256_of(path)
                if already_seen(source, path, rel, sha):
                    continue
                (repeats if sha in batch_shas else batch).append((source, path, rel, sha))
                batch_shas.add(sha)
            for parsed in parse_many(batch, resolver, known_tasks, on_progress):
                if in_scope(parsed.period, quarter):
                    seen[parsed.sha256] = (parsed.rel, parsed.outcome)
                    pending.append(parsed)
            for source, path, rel, sha in repeats:
                if not already_seen(source, path, rel, sha):
                    parsed = parse_file(path, rel, source, resolver, known_tasks, sha256=sha)
                    if in_scope(parsed.period, quarter):
                        seen[sha] = (rel, parsed.outcome)
                        pending.append(parsed)
            for parsed in sorted(pending, key=_order_key):
                load_file(con, parsed)
                seen_paths.add(parsed.rel)
                row = con.execute(
                    "select outcome, message, rows_read, rows_loaded, rows_rejected from raw.ingest_files where path = ? order by file_id desc limit 1",
                    [parsed.rel],
                ).fetchone()
                message = row[1]
                if row[0] == "accepted_with_rejects":
                    # The clerk's first question is "what was wrong": show the first reason inline.
                    first = parsed.rejects.row(0, named=True)["reason"]
                    message = "；".join(m for m in (f"例：{first}", message) if m)
                outcome = FileOutcome(parsed.rel, parsed.source, row[0], parsed.submitter_name, parsed.period, row[2], row[3], row[4], message)
                summary.files.append(outcome)
                if on_file:
                    on_file(outcome)
        con.execute("checkpoint")
    finally:
        con.close()
    return summary
