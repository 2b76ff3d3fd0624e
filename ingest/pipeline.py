"""Ingest a landing folder: every entry gets an outcome; every decided file is one transaction.

The run goes in stages — regions and departments, then tasks, then the periodic ledgers, then
files in no source folder — because later stages resolve names against what earlier ones loaded.
Within a stage, files are read and parsed (on a thread pool), then decided one by one in a fixed
order (source, stated report date, mtime, path), each decision committed before the next is
made. So:

- a copy of a file is called a duplicate only once its original has committed;
- killed at any moment, the warehouse holds a prefix of that order, and a re-run decides the rest
  the same way: the state after the re-run is the state of an uninterrupted run;
- a file that vanishes gets its own outcome and the batch goes on; one that cannot be read or
  committed (an I/O error, a full disk) gets its own outcome too, is not recorded (the next run
  retries it), and the files after it in the order wait for that next run, so that the journal
  stays a prefix of the order — corrections keep their order, copies their original, file ids
  their values — and the next run ends exactly where an uninterrupted run would.
"""

from __future__ import annotations

import logging
import os
import tempfile
import threading
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import nullcontext
from dataclasses import dataclass, replace
from datetime import date
from pathlib import Path, PurePosixPath

import polars as pl

from ingest.contracts import CONTRACTS, LOAD_ORDER, SOURCE_LABELS, SOURCES
from ingest.landing import Entry, LandingError, NotRead, ReadFailed, Vanished, read, scan
from ingest.landing_writer import parse_received
from ingest.limits import Limits
from ingest.load import CommitFailed, Decision, Journal, connect, load_known_tasks, load_resolver
from ingest.outcomes import FileOutcome, IngestSummary
from ingest.parse import ParsedFile, Prepared, guess_source, parse_bytes, parse_prepared, prepare
from ingest.readers import read_bytes_grids
from ingest.resolve import Resolver
from qinglian.errors import UserError

log = logging.getLogger(__name__)

__all__ = ["FileOutcome", "IngestSummary", "LandingError", "discover", "dry_run", "in_scope", "ingest_landing"]

STAGES: tuple[tuple[str | None, ...], ...] = (
    ("regions", "departments"),
    ("tasks",),
    tuple(s for s in SOURCES if s not in ("regions", "departments", "tasks")),
    (None,),  # files at the landing root or in an unknown folder
)

# Below this many files a pool's start-up costs more than it saves.
PARALLEL_MIN_FILES = 24


def discover(landing: Path) -> list[tuple[str, Path]]:
    """(source folder, file) for every regular file in a source folder, in a stable order."""
    landing = Path(landing)
    return [(e.source, landing / e.rel) for e in scan(landing) if e.kind == "file" and e.source]


def in_scope(period: str | None, quarter: str | None) -> bool:
    """A quarterly run takes files up to its quarter; a survey wave (a year) counts from that year on."""
    if quarter is None or period is None:
        return True
    if len(period) == 4:
        return period <= quarter[:4]
    return period <= quarter


@dataclass
class _Read:
    """One file after reading (its cells), then parsing (its parse result), or the outcome it already has."""

    entry: Entry
    parsed: ParsedFile | None = None
    outcome: FileOutcome | None = None
    prepared: Prepared | None = None


def _order_key(item: _Read) -> tuple[int, date, int, str]:
    # A corrected file must be decided after the file it corrects: by its stated report date (for a file
    # the upload portal stored without one, the day it was received, from its generated name), then mtime.
    p = item.parsed
    assert p is not None
    received = parse_received(PurePosixPath(p.rel).name)
    stated = p.report_date or (received.date() if received else None)
    return (LOAD_ORDER.get(p.source or "", len(LOAD_ORDER)), stated or date.min, item.entry.mtime_ns, p.rel)


def _non_file_outcome(e: Entry) -> FileOutcome:
    if e.kind == "unlisted":
        return FileOutcome(e.rel, e.source, "failed", message=e.reason)
    if e.kind == "ignored":
        return FileOutcome(e.rel, e.source, "ignored", message=e.reason)
    return FileOutcome(e.rel, e.source, "skipped", message=e.reason)


def _misplaced_reason(e: Entry, grids_source: str | None) -> str:
    if grids_source:
        return (f"文件放在{e.where}，不在任何来源文件夹中：内容是「{SOURCE_LABELS[grids_source]}」，"
                f"请移到 {grids_source}/ 文件夹后重新运行")
    folders = "、".join(f"{s}/" for s in SOURCES)
    return f"文件放在{e.where}，不在任何来源文件夹中；请按内容放入对应的来源文件夹（{folders}）后重新运行"


# Memory: a file is read whole and parsed into frames, so one file costs a bounded multiple of its
# limits. Large files are read and parsed one at a time (the pool's other workers keep the small
# ones moving), and parse results waiting for their turn to commit beyond a budget are spilled to
# Arrow files: the ingest's peak memory does not grow with the number of large files in a folder.
BIG_FILE_BYTES = 4 * 1024 * 1024
PENDING_BUDGET_BYTES = 256 * 1024 * 1024
SPILL_MIN_BYTES = 1 << 20  # smaller results stay in memory: spilling them would cost more than it saves


class _Worker:
    """Read, hash and read the cells of one entry; pure apart from reading the file (safe on a thread pool)."""

    def __init__(self, landing: Path, journal: Journal, resolver: Resolver, known_tasks: frozenset[str], limits: Limits):
        self.landing, self.journal, self.resolver, self.known_tasks, self.limits = landing, journal, resolver, known_tasks, limits
        self.big = threading.Lock()

    def __call__(self, e: Entry) -> _Read:
        with self.big if e.size > BIG_FILE_BYTES else nullcontext():
            return self._work(e)

    def _work(self, e: Entry) -> _Read:
        import hashlib

        try:
            data = read(self.landing, e, self.limits)
        except Vanished:
            return _Read(e, outcome=FileOutcome(e.rel, e.source, "vanished", message="读取时文件已被移走或删除，未处理"))
        except NotRead as exc:
            return _Read(e, outcome=FileOutcome(e.rel, e.source, "skipped", message=str(exc)))
        except ReadFailed as exc:
            return _Read(e, outcome=FileOutcome(e.rel, e.source, "failed", message=str(exc)))
        sha = hashlib.sha256(data).hexdigest()
        if self.journal.is_final(e.rel, sha):
            return _Read(e, outcome=FileOutcome(e.rel, e.source, "unchanged", message="此前已处理，内容未变"))
        path = self.landing / e.rel
        if e.source is None:
            return _Read(e, parsed=self._misplaced(e, data, sha, path))
        # Parsing waits for the rest of the batch (see _decide): the files of a source are parsed together.
        return _Read(e, prepared=prepare(data, e.rel, e.source, sha256=sha, limits=self.limits, path=path))

    def _misplaced(self, e: Entry, data: bytes, sha: str, path: Path) -> ParsedFile:
        parsed = ParsedFile(path=path, rel=e.rel, source=None, sha256=sha)  # type: ignore[arg-type]
        try:
            grids, _ = read_bytes_grids(data, e.rel, self.limits)
            guessed = guess_source(grids)
        except Exception:  # any reason it cannot be read is secondary to where it is
            guessed = None
        parsed.error = _misplaced_reason(e, guessed)
        return parsed


def _read_all(work: _Worker, entries: list[Entry], on_progress: Callable[[str], None] | None) -> Iterator[_Read]:
    """Read and parse entries in order; on a thread pool when there are many (Polars and calamine
    release the GIL). Only the parse results are kept, never more than a few files' bytes."""
    workers = min(os.cpu_count() or 1, 4)
    if len(entries) < PARALLEL_MIN_FILES or workers < 2 or os.environ.get("QINGLIAN_INGEST_WORKERS") == "1":
        for e in entries:
            if on_progress:
                on_progress(e.rel)
            yield work(e)
        return
    with ThreadPoolExecutor(max_workers=workers) as pool:
        for e, item in zip(entries, pool.map(work, entries), strict=True):
            if on_progress:
                on_progress(e.rel)
            yield item


def ingest_landing(
    landing: Path,
    warehouse: Path,
    sources: Iterable[str] | None = None,
    on_file: Callable[[FileOutcome], None] | None = None,
    on_progress: Callable[[str], None] | None = None,
    quarter: str | None = None,
    limits: Limits | None = None,
) -> IngestSummary:
    """Decide every file of the landing folder; with `quarter`, files of later periods wait.

    With `sources`, only files in those source folders are considered (misplaced files only when
    every source is). Raises LandingError or WarehouseError (Chinese) when either is unusable;
    every per-file problem is that file's outcome.
    """
    landing = Path(landing)
    limits = limits or Limits.from_env()
    wanted = set(sources) if sources else set(CONTRACTS)
    entries = scan(landing)
    summary = IngestSummary()

    def report(outcome: FileOutcome) -> None:
        summary.files.append(outcome)
        if on_file:
            on_file(outcome)

    for e in entries:
        if e.kind != "file" and (e.source in wanted or (e.source is None and not sources)):
            report(_non_file_outcome(e))
    con = connect(warehouse)
    journal = Journal(con, warehouse)
    try:
        halted: str | None = None  # the first file this run could not process
        for stage in STAGES:
            files = [e for e in entries if e.kind == "file" and e.source in stage
                     and (e.source in wanted or (e.source is None and not sources))]
            if files:
                halted = _run_stage(landing, journal, files, limits, quarter, report, on_progress, halted)
        try:
            journal.con.execute("checkpoint")
        except Exception:  # a checkpoint is an optimisation; the WAL holds the commits
            log.warning("checkpoint 失败（提交的数据在预写日志中，不受影响）", exc_info=True)
    finally:
        journal.con.close()
    return summary


def _waiting(p: ParsedFile | Entry, first: str) -> FileOutcome:
    """A file that is not decided this run because an earlier one could not be processed."""
    if isinstance(p, Entry):
        return FileOutcome(p.rel, p.source, "failed", message=f"等待：本次运行中 {first} 未能处理，其后的文件留待下次运行依次处理")
    return FileOutcome(p.rel, p.source, "failed", p.submitter_name, p.period,
                       message=f"等待：本次运行中 {first} 未能处理，其后的文件留待下次运行依次处理")


def _run_stage(landing: Path, journal: Journal, files: list[Entry], limits: Limits, quarter: str | None,
               report: Callable[[FileOutcome], None], on_progress: Callable[[str], None] | None,
               halted: str | None) -> str | None:
    """Decide a stage's files in order. Returns the first file the run could not process, if any.

    From the first failure on, nothing more is committed in this run: the journal then holds a
    prefix of the fixed order, exactly as after a kill, and the next run continues it, so the
    final state (file ids included) is the one an uninterrupted run reaches. Every file is still
    read and gets its outcome line; a file that merely vanished is no failure.
    """
    if halted is not None:
        for e in files:
            report(_waiting(e, halted))
        return halted
    resolver, known_tasks = load_resolver(journal.con), load_known_tasks(journal.con)
    work = _Worker(landing, journal, resolver, known_tasks, limits)
    pending: list[_Read] = []
    with _Spill() as spill:
        halted = _decide(journal, work, files, quarter, report, on_progress, pending, spill)
    return halted


# Files read before their batch is parsed: bounded by their bytes, so a folder of large files is
# parsed a few at a time (memory) and one of small files in few batches (speed).
PARSE_BATCH_BYTES = 16 * 1024 * 1024
PARSE_BATCH_FILES = 400
# Decisions committed together: one transaction for many small files instead of one each. Below
# BATCH_MIN_FILES pending files a stage commits file by file (a few transactions cost nothing).
BATCH_MIN_FILES = 24
COMMIT_BATCH_FILES = 200
COMMIT_BATCH_ROWS = 200_000


def _parse_chunks(files: list[Entry]) -> Iterator[list[Entry]]:
    chunk: list[Entry] = []
    size = 0
    for e in files:
        if chunk and (size + e.size > PARSE_BATCH_BYTES or len(chunk) >= PARSE_BATCH_FILES):
            yield chunk
            chunk, size = [], 0
        chunk.append(e)
        size += e.size
    if chunk:
        yield chunk


def _read_and_parse(work: _Worker, files: list[Entry], on_progress: Callable[[str], None] | None) -> Iterator[_Read]:
    """Every entry read (on a pool), then the read files of each chunk parsed as one batch."""
    for chunk in _parse_chunks(files):
        reads = list(_read_all(work, chunk, on_progress))
        ready = [r for r in reads if r.prepared is not None]
        parsed = parse_prepared([r.prepared for r in ready], work.resolver, work.known_tasks, work.limits)
        for r, p in zip(ready, parsed, strict=True):
            r.parsed, r.prepared = p, None
        yield from reads


def _decide(journal: Journal, work: _Worker, files: list[Entry], quarter: str | None, report: Callable[[FileOutcome], None],
            on_progress: Callable[[str], None] | None, pending: list[_Read], spill: _Spill) -> str | None:
    halted: str | None = None
    for item in _read_and_parse(work, files, on_progress):
        if item.outcome is not None:
            report(item.outcome)
            if item.outcome.outcome == "failed" and halted is None:
                halted = item.outcome.rel
        elif item.parsed is not None and not in_scope(item.parsed.period, quarter):
            p = item.parsed
            report(FileOutcome(p.rel, p.source, "later", p.submitter_name, p.period,
                               message=f"属于 {p.period}，将在该季度的运行中处理"))
        else:
            spill.hold(item.parsed)
            pending.append(item)
    ordered = [item.parsed for item in sorted(pending, key=_order_key)]
    batched = len(ordered) >= BATCH_MIN_FILES
    i = 0
    while i < len(ordered):
        if halted is not None:
            for p in ordered[i:]:
                report(_waiting(p, halted))
            break
        group = _next_group(journal, ordered, i) if batched else ordered[i:i + 1]
        i += len(group)
        if len(group) > 1 and _commit_group(journal, group, spill, report):
            continue
        for p in group:  # alone, or again one by one after the group's transaction failed
            if halted is not None:
                report(_waiting(p, halted))
                continue
            halted = _commit_one(journal, p, spill, report)
    return halted


def _next_group(journal: Journal, ordered: list[ParsedFile], start: int) -> list[ParsedFile]:
    """The files from `start` on that go into one transaction, in the fixed order.

    A group ends before a file whose bytes equal a file loading in this group: a copy is decided
    only once its original has committed (the journal's rule), so it waits for the next group.
    """
    group: list[ParsedFile] = []
    loading: set[str] = set()
    rows = 0
    for p in ordered[start:]:
        if group and (len(group) >= COMMIT_BATCH_FILES or rows + p.rows_read > COMMIT_BATCH_ROWS):
            break
        if p.sha256 in loading:
            break
        if journal.original_of(p.sha256, p.rel) is None and p.outcome in ("accepted", "accepted_with_rejects"):
            loading.add(p.sha256)
        group.append(p)
        rows += p.rows_read
    return group


def _commit_group(journal: Journal, group: list[ParsedFile], spill: _Spill, report: Callable[[FileOutcome], None]) -> bool:
    """Commit a group's decisions in one transaction; False (nothing recorded) if it failed."""
    for p in group:
        spill.restore(p)
    decisions = [Decision(p, duplicate_of=journal.original_of(p.sha256, p.rel)) for p in group]
    try:
        outcomes = journal.commit(decisions)
    except CommitFailed as exc:
        # Nothing of the group was recorded: its files are committed one by one, so that the one
        # that cannot be stored gets its own outcome and the others theirs.
        log.warning("%d 个文件一并入库失败（已全部回退），改为逐个入库：%s", len(group), exc, exc_info=exc.__cause__ or exc)
        return False
    for p, outcome in zip(group, outcomes, strict=True):
        report(outcome)
        p.tables, p.rejects = {}, p.rejects.clear()  # committed: the frames are no longer needed
    return True


def _commit_one(journal: Journal, p: ParsedFile, spill: _Spill, report: Callable[[FileOutcome], None]) -> str | None:
    """Commit one file's decision; returns its path if the run must halt there."""
    spill.restore(p)
    decision = Decision(p, duplicate_of=journal.original_of(p.sha256, p.rel))
    try:
        (outcome,) = journal.commit([decision])
    except CommitFailed as exc:
        log.warning("文件 %s 未能入库：%s", p.rel, exc, exc_info=exc.__cause__ or exc)
        outcome = None if exc.transient else _reject_unloadable(journal, p, str(exc))
        if outcome is None:
            report(FileOutcome(p.rel, p.source, "failed", p.submitter_name, p.period, message=str(exc)))
            return p.rel
    report(outcome)
    p.tables, p.rejects = {}, p.rejects.clear()  # committed: the frames are no longer needed
    return None


class _Spill:
    """Parse results beyond the memory budget wait in Arrow IPC files, not in memory."""

    def __init__(self) -> None:
        self.held = 0
        self.dir: tempfile.TemporaryDirectory | None = None
        self.spilled: dict[int, tuple[dict[str, Path], Path]] = {}

    def __enter__(self) -> _Spill:
        return self

    def __exit__(self, *exc: object) -> None:
        if self.dir is not None:
            self.dir.cleanup()

    def hold(self, p: ParsedFile) -> None:
        size = sum(t.estimated_size() for t in p.tables.values()) + p.rejects.estimated_size()
        if self.held + size <= PENDING_BUDGET_BYTES or size < SPILL_MIN_BYTES:
            self.held += size
            return
        if self.dir is None:
            self.dir = tempfile.TemporaryDirectory(prefix="qinglian-ingest-")
        base = Path(self.dir.name) / str(len(self.spilled))
        tables = {}
        for name, frame in p.tables.items():
            tables[name] = base.with_name(f"{base.name}-{name}.arrow")
            frame.write_ipc(tables[name])
        rejects = base.with_name(f"{base.name}-rejects.arrow")
        p.rejects.write_ipc(rejects)
        self.spilled[id(p)] = (tables, rejects)
        p.tables, p.rejects = {}, p.rejects.clear()

    def restore(self, p: ParsedFile) -> None:
        paths = self.spilled.pop(id(p), None)
        if paths is None:
            return
        tables, rejects = paths
        # Read whole (not memory-mapped): the file is removed right after.
        p.tables = {name: pl.read_ipc(path.read_bytes()) for name, path in tables.items()}
        p.rejects = pl.read_ipc(rejects.read_bytes())
        for path in (*tables.values(), rejects):
            path.unlink(missing_ok=True)


def _reject_unloadable(journal: Journal, p: ParsedFile, problem: str) -> FileOutcome | None:
    """A file whose rows cannot be stored would fail on every run: record it as rejected (nothing of
    it loaded) so the run can go on; None if even that cannot be committed."""
    rejected = replace(p, tables={}, error=f"入库失败，本文件未载入任何数据：{problem}；请联系管理员", rows_rejected=p.rows_read)
    try:
        (outcome,) = journal.commit([Decision(rejected)])
    except CommitFailed:
        return None
    return outcome


def dry_run(data: bytes, name: str, source: str, warehouse: Path | None = None, limits: Limits | None = None) -> ParsedFile:
    """What the ingest would decide about one file, without loading it or touching the landing folder.

    Exactly the code the ingest runs — limits, reading, parsing, checks and name resolution
    against the reference data in `warehouse` (read only; empty reference data without one) —
    so an upload form can show a clerk the same outcome and reasons the quarterly run will give.
    """
    if source not in CONTRACTS:
        raise UserError(f"未知来源 '{source}'，可选：{'、'.join(CONTRACTS)}")
    resolver, known_tasks = Resolver(), frozenset()
    if warehouse is not None and Path(warehouse).exists():
        resolver, known_tasks = _reference(Path(warehouse))
    parsed = parse_bytes(data, f"{source}/{name}", source, resolver, known_tasks, limits=limits)
    return replace(parsed)


_REFERENCE: dict[Path, tuple[tuple, Resolver, frozenset[str]]] = {}
_REFERENCE_LOCK = threading.Lock()


def _reference(warehouse: Path) -> tuple[Resolver, frozenset[str]]:
    """The reference data names resolve against, read once per version of the warehouse.

    A portal validates many uploads between two quarterly runs; reading the regions, departments
    and tasks again for each one cost more than parsing the file. The version is the file and its
    write-ahead log as the file system sees them: any commit changes one of the two.
    """
    def version() -> tuple:
        out = []
        for path in (warehouse, warehouse.with_name(warehouse.name + ".wal")):
            try:
                st = path.stat()
                out.append((st.st_ino, st.st_mtime_ns, st.st_size))
            except FileNotFoundError:
                out.append(None)
        return tuple(out)

    key = warehouse.resolve()
    with _REFERENCE_LOCK:
        seen = version()
        cached = _REFERENCE.get(key)
        if cached is not None and cached[0] == seen:
            return cached[1], cached[2]
        con = connect(warehouse, read_only=True)
        try:
            resolver, known_tasks = load_resolver(con), load_known_tasks(con)
        finally:
            con.close()
        _REFERENCE[key] = (seen, resolver, known_tasks)
        return resolver, known_tasks
