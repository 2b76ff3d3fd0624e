"""Writes each submission file and records, from the generator's own knowledge, what it contains.

The manifest entry of a file (data rows, planted bad rows with their Excel row numbers, the
expected ingest outcome) is computed from what was written, never by reading the file back.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path

from qinglian.demo.messy import Sheet, Written, write_csv, write_xlsx
from qinglian.demo.names import rng_for

# Above this many rows a workbook is streamed (constant_memory): merged cells lose formatting only.
STREAM_ROWS = 5_000


@dataclass(frozen=True)
class BadCell:
    tag: str  # the Row.tag of the planted row
    column: str  # canonical Chinese column name
    value: str


@dataclass
class FileEntry:
    path: str
    source: str
    submitter_name: str | None
    period: str | None
    expected_outcome: str
    data_rows: int
    bad_rows: list[dict] = field(default_factory=list)
    supersedes: str | None = None
    personal_data_columns: list[str] = field(default_factory=list)
    format: str = "xlsx"
    encoding: str | None = None
    notes: list[str] = field(default_factory=list)

    def as_dict(self) -> dict:
        return asdict(self)


@dataclass
class Meta:
    source: str
    submitter: str | None
    period: str | None
    bad: list[BadCell] = field(default_factory=list)
    outcome: str | None = None  # default: accepted, or accepted_with_rejects when bad rows exist
    supersedes: str | None = None
    personal: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


class Emitter:
    def __init__(self, out_dir: Path, seed: int, progress: Callable[[str], None] | None = None):
        self.out_dir = out_dir
        self.seed = seed
        self.progress = progress
        self.entries: list[FileEntry] = []
        self._offsets: dict[str, int] = {}

    def variant(self, source: str, i: int, k: int) -> int:
        """Layouts rotate per file with a seed-dependent offset, so every layout is used."""
        if source not in self._offsets:
            self._offsets[source] = int(rng_for(self.seed, "variant", source).integers(1 << 16))
        return (i + self._offsets[source]) % k

    def _entry(self, rel: str, meta: Meta, written: list[Written], fmt: str, encoding: str | None) -> FileEntry:
        bad_rows = []
        for b in meta.bad:
            hits = [(w.sheet, w.row_of_tag[b.tag]) for w in written if b.tag in w.row_of_tag]
            if len(hits) != 1:  # pragma: no cover - a builder bug, caught by the tests
                raise RuntimeError(f"planted row {b.tag} not found exactly once in {rel}")
            bad_rows.append({"sheet": hits[0][0], "row": hits[0][1], "column": b.column, "value": b.value})
        outcome = meta.outcome or ("accepted_with_rejects" if bad_rows else "accepted")
        entry = FileEntry(rel, meta.source, meta.submitter, meta.period, outcome, sum(w.data_rows for w in written if w.is_data),
                          bad_rows, meta.supersedes, list(meta.personal), fmt, encoding, list(meta.notes))
        self.entries.append(entry)
        if self.progress:
            self.progress(rel)
        return entry

    def xlsx(self, rel: str, sheets: list[Sheet], meta: Meta, prose: dict[str, list[str]] | None = None,
             prose_first: bool = True) -> tuple[FileEntry, list[Written]]:
        rows = sum(len(s.rows) for s in sheets)
        written = write_xlsx(self.out_dir / rel, sheets, prose, prose_first, constant_memory=rows > STREAM_ROWS)
        return self._entry(rel, meta, written, "xlsx", None), written

    def csv(self, rel: str, sheet: Sheet, encoding: str, meta: Meta) -> tuple[FileEntry, list[Written]]:
        written = [write_csv(self.out_dir / rel, sheet, encoding)]
        return self._entry(rel, meta, written, "csv", encoding), written

    def raw(self, rel: str, data: bytes, meta: Meta, data_rows: int = 0, fmt: str = "xlsx") -> FileEntry:
        path = self.out_dir / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
        entry = FileEntry(rel, meta.source, meta.submitter, meta.period, meta.outcome or "rejected", data_rows, [],
                          meta.supersedes, list(meta.personal), fmt, None, list(meta.notes))
        self.entries.append(entry)
        if self.progress:
            self.progress(rel)
        return entry
