"""The one home of ingest outcomes: their codes, Chinese labels and the one-line report per file.

Two kinds of outcome exist. Four are *decided by the file's bytes* and recorded in the journal
(raw.ingest_files.outcome, with outcome_label): accepted, accepted_with_rejects, rejected,
duplicate. The others describe what one run did with a file and are only reported (run output,
Dagster metadata, the log): the file was unchanged since an earlier run, belongs to a later
quarter, is by convention no submission (an Office lock file, a hidden file, a _notes file), was
not read (a link, a special file, a file over the size limit), vanished while the run read it, or could not be processed this time (an I/O or disk error) and will be retried next run.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import asdict, dataclass, field


@dataclass(frozen=True)
class Outcome:
    code: str
    label: str  # what a clerk or operator reads
    short: str  # the one-word form used in run output and summaries
    journaled: bool  # recorded in raw.ingest_files
    style: str  # rich colour for terminal output
    problem: bool = False  # needs somebody to act (a reason is always given)
    retry: bool = False  # the next run will try this file again


OUTCOMES: dict[str, Outcome] = {o.code: o for o in (
    Outcome("accepted", "已接收", "已接收", True, "green"),
    Outcome("accepted_with_rejects", "部分接收（有拒收行）", "部分接收", True, "yellow", problem=True),
    Outcome("rejected", "已拒收", "已拒收", True, "red", problem=True),
    Outcome("duplicate", "重复报送（已忽略）", "重复报送", True, "cyan"),
    Outcome("unchanged", "此前已处理，内容未变", "未变化", False, "dim"),
    Outcome("later", "属于以后的季度，留待该季度运行时处理", "留待以后", False, "dim"),
    Outcome("ignored", "按约定不读取（临时、隐藏或说明文件）", "已忽略", False, "dim"),
    Outcome("skipped", "未读取", "未读取", False, "magenta", problem=True),
    Outcome("vanished", "读取时文件已不存在", "已移走", False, "magenta"),
    Outcome("failed", "本次未能处理，下次运行将重试", "未能处理", False, "bold red", problem=True, retry=True),
)}

JOURNALED = tuple(code for code, o in OUTCOMES.items() if o.journaled)
# Outcomes whose rows are in the raw layer: only these make a later identical file a duplicate.
LOADED = ("accepted", "accepted_with_rejects")


def label(code: str) -> str:
    return OUTCOMES[code].label


@dataclass
class FileOutcome:
    rel: str  # path relative to the landing folder, '/'-separated
    source: str | None
    outcome: str
    submitter_name: str | None = None
    period: str | None = None
    rows_read: int = 0
    rows_loaded: int = 0
    rows_rejected: int = 0
    message: str | None = None

    def as_dict(self) -> dict:
        return asdict(self)


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

    @property
    def failed(self) -> list[FileOutcome]:
        return [f for f in self.files if OUTCOMES[f.outcome].retry]

    @property
    def complete(self) -> bool:
        """Every file got a final answer; nothing waits for a retry."""
        return not self.failed


def outcome_line(f: FileOutcome, markup: bool = True) -> str:
    """One line per file: outcome, path, submitter, period, row counts, and the reason if any."""
    o = OUTCOMES[f.outcome]
    head = f"[{o.style}]{o.short}[/{o.style}]" if markup else o.short
    parts = [head, _escape(f.rel, markup), _escape(f.submitter_name or "-", markup), f.period or "-",
             f"读入{f.rows_read} 入库{f.rows_loaded} 拒收{f.rows_rejected}"]
    if f.message:
        parts.append(f"[dim]{_escape(f.message, markup)}[/dim]" if markup else f.message)
    return "  ".join(parts)


def summary_line(files: Iterable[FileOutcome]) -> str:
    """The totals line under the per-file lines; rows read = loaded + rejected, always."""
    files = list(files)
    counts = {code: sum(1 for f in files if f.outcome == code) for code in OUTCOMES}
    shown = "，".join(f"{OUTCOMES[c].short} {n}" for c, n in counts.items()
                     if n or c in ("accepted", "accepted_with_rejects", "rejected"))
    read = sum(f.rows_read for f in files)
    loaded = sum(f.rows_loaded for f in files)
    rejected = sum(f.rows_rejected for f in files)
    return f"共 {len(files)} 个文件：{shown}；读入 {read} 行 = 入库 {loaded} 行 + 拒收 {rejected} 行"


def _escape(text: str, markup: bool) -> str:
    # File names and reasons come from submissions: "[" must not start rich markup.
    return text.replace("[", r"\[") if markup else text
