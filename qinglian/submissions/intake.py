"""One upload through the portal, start to end: limits, dry run, the unit check, the landing write,
the store and the audit entry.

The outcome and the row-level reasons are the quarterly ingest's own: the file goes through
`ingest.pipeline.dry_run` (the same limits, reading, parsing, checks and name resolution, against the
reference data of the serving copy). The portal adds one rule of its own, which the ingest cannot know:
a submitter reports for its own unit only — the file's 填报单位 and every row's unit (牵头单位 of a
task report, 所属区划 of a ledger row) must be the account's unit, or the whole file is refused with
the rows named. Only an accepted or partly accepted file reaches the landing folder.
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path, PurePosixPath
from typing import Any

import polars as pl

from ingest.contracts import CONTRACTS, SOURCE_LABELS
from ingest.errors import FileRejected
from ingest.landing_writer import OFFICE_TZ, write_submission
from ingest.limits import CSV_SUFFIXES, EXCEL_SUFFIXES, Limits, check_limits, sniff
from ingest.load import connect, load_resolver
from ingest.outcomes import LOADED, label
from ingest.parse import ParsedFile
from ingest.pipeline import dry_run
from ingest.resolve import Resolver
from qinglian.errors import UserError
from qinglian.security import audit
from qinglian.security.scope import Scope
from qinglian.submissions.store import SubmissionStore, Upload

# What each kind of submitter reports (DESIGN §3, §8): a county its own ledgers, a department its task
# reports. Reference data comes from the office; the city departments' inspection ledger is one file for
# every department (the 巡察办's), which no single department's account may send.
PORTAL_SOURCES: dict[str, tuple[str, ...]] = {
    "county": ("task_progress", "units", "inspections", "cases", "surveys"),
    "department": ("task_progress",),
}
ACCEPTED_SUFFIXES = EXCEL_SUFFIXES | CSV_SUFFIXES
log = logging.getLogger(__name__)
MAX_SCOPE_REASONS = 50


class NotASubmitter(UserError):
    """The viewer may not upload (not a submitter, no unit, or a source not theirs)."""


def sources_for(viewer: Scope) -> tuple[str, ...]:
    if viewer.role != "submitter" or not viewer.unit_code or viewer.unit_kind not in PORTAL_SOURCES:
        return ()
    return PORTAL_SOURCES[viewer.unit_kind]


@dataclass
class Received:
    """What the portal shows after an upload: the stored upload and the dry run behind it."""

    upload: Upload
    parsed: ParsedFile | None
    notes: list[str] = field(default_factory=list)

    @property
    def rejects(self) -> list[dict[str, Any]]:
        return self.upload.rejects

    @property
    def outcome_label(self) -> str:
        return label(self.upload.outcome)


def _resolver(serving: Path | None) -> Resolver:
    if serving is None or not Path(serving).exists():
        return Resolver()
    con = connect(Path(serving), read_only=True)
    try:
        return load_resolver(con)
    finally:
        con.close()


def _reject_rows(parsed: ParsedFile) -> list[dict[str, Any]]:
    if parsed.rejects is None or parsed.rejects.is_empty():
        return []
    return parsed.rejects.to_dicts()


def foreign_rows(parsed: ParsedFile, viewer: Scope, resolver: Resolver) -> list[dict[str, Any]]:
    """Rows of the dry run that belong to another unit than the viewer's: one reason per row."""
    unit, kind = viewer.unit_code, viewer.unit_kind
    contract = CONTRACTS[parsed.source]
    out: list[dict[str, Any]] = []
    for frame in parsed.tables.values():
        checks: list[tuple[str, str]] = []  # (resolved code column, the field whose value is shown)
        if "owner_code" in frame.columns:
            checks.append(("owner_code", "reporter_name" if "reporter_name" in frame.columns else "owner_code"))
        elif kind == "county" and "region_code" in frame.columns:
            checks.append(("region_code", "region_input" if "region_input" in frame.columns else "region_code"))
        for code_col, shown in checks:
            codes = frame[code_col].to_list()
            shown_values = frame[shown].to_list()
            for sheet, row, code, value in zip(frame["sheet"].to_list(), frame["_row"].to_list(), codes, shown_values,
                                               strict=True):
                if code is None:
                    continue
                own = code == unit if code_col != "region_code" else (resolver.county_of(code) or code) == unit
                if own:
                    continue
                try:
                    column = contract.field(shown).label
                except KeyError:
                    column = shown
                out.append({"sheet": sheet, "row": row, "column": column, "value": str(value),
                            "reason": f"第{row}行 {column} '{value}' 不属于本单位（{viewer.unit_name or unit}），"
                                      f"只能报送本单位的数据"})
        if out:
            break  # the main table names every row; the others (survey answers) repeat them
    return sorted(out, key=lambda r: (r["sheet"] or "", r["row"] or 0))


def _unit_problem(parsed: ParsedFile, viewer: Scope, resolver: Resolver) -> tuple[str | None, list[dict[str, Any]]]:
    """Why the file is not the viewer's unit's to send (None if it is), with the rows concerned."""
    rows = foreign_rows(parsed, viewer, resolver)
    if rows:
        shown = rows[:MAX_SCOPE_REASONS]
        more = f"（仅列出前 {MAX_SCOPE_REASONS} 行）" if len(rows) > len(shown) else ""
        return (f"文件中有 {len(rows)} 行属于其他单位{more}；本账号只能报送「{viewer.unit_name or viewer.unit_code}」"
                f"的数据，整份文件未接收"), shown
    if parsed.submitter and parsed.submitter != viewer.unit_code:
        named, own = parsed.submitter_name or parsed.submitter, viewer.unit_name or viewer.unit_code
        fix = f"请在第2行写明“填报单位：{own}”（下载的预填模板已写好）"
        if parsed.submitter in resolver.regions or parsed.submitter in resolver.dept_names:
            return f"文件的填报单位为「{named}」，不是本账号所属单位「{own}」；只能报送本单位的数据，{fix}", []
        # An unresolved name would be filed under that name by the ingest, so a later correction
        # written with the unit's proper name would not replace it: the name must be the unit's own.
        return f"文件的填报单位「{named}」不是系统中的规范单位名称，无法确认为「{own}」；{fix}", []
    return None, []


def receive(viewer: Scope, source: str, original_name: str, data: bytes, *, serving: Path | None, landing: Path,
            client: str | None = None, limits: Limits | None = None, now: datetime | None = None,
            submissions: SubmissionStore | None = None) -> Received:
    """Take one uploaded file for `viewer`: decide it as the ingest would, store it if accepted, record it.

    Raises NotASubmitter when the viewer may not upload this source. An accepted file that could not be
    stored (disk full, folder unusable) is recorded and returned as refused with that reason, and audited.
    """
    if source not in sources_for(viewer):
        raise NotASubmitter(f"本账号不能报送「{SOURCE_LABELS.get(source, source)}」")
    submissions = submissions or SubmissionStore()
    received_at = (now or datetime.now(OFFICE_TZ)).astimezone(OFFICE_TZ).replace(microsecond=0)
    limits = limits or Limits.from_env()
    display_name = PurePosixPath(original_name.replace("\\", "/")).name[:200] or "未命名文件"
    sha = hashlib.sha256(data).hexdigest()
    upload = Upload(received_at=received_at, username=viewer.username, unit_code=viewer.unit_code or "",
                    unit_kind=viewer.unit_kind, unit_name=viewer.unit_name, source=source,
                    original_name=display_name, size=len(data), sha256=sha, outcome="rejected")
    parsed: ParsedFile | None = None
    kind: str | None = None
    suffix = PurePosixPath(display_name).suffix.lower()
    # The limits, and what the bytes are, before anything is parsed.
    if suffix not in ACCEPTED_SUFFIXES:
        upload.message = f"不支持的文件类型「{suffix or '无扩展名'}」，请报送 .xlsx、.xls 或 .csv 文件"
    elif (reason := check_limits(data, display_name, limits)) is not None:
        upload.message = reason
    else:
        try:
            kind = sniff(data, display_name).kind
        except FileRejected as exc:
            upload.message = str(exc)
    if upload.message is None:
        parsed = dry_run(data, display_name, source, serving, limits)
        upload.period, upload.submitter, upload.submitter_name = parsed.period, parsed.submitter, parsed.submitter_name
        upload.rows_read = parsed.rows_read
        upload.rejects = _reject_rows(parsed)
        if parsed.error is not None:
            upload.message, upload.rows_rejected = parsed.error, parsed.rows_read
        else:
            problem, rows = _unit_problem(parsed, viewer, _resolver(serving))
            if problem is not None:
                upload.message, upload.rows_rejected = problem, parsed.rows_read
                upload.rejects = rows + upload.rejects
            else:
                upload.outcome = parsed.outcome
                upload.rows_loaded, upload.rows_rejected = parsed.rows_loaded, parsed.rows_rejected
    else:
        upload.rows_read = 0
    if upload.outcome in LOADED:
        original = submissions.loaded_original(upload.unit_code, sha)
        if original is not None:
            upload.outcome, upload.duplicate_of = "duplicate", original.id
            upload.landing_rel = original.landing_rel
            upload.message = (f"与 {original.received_at:%Y-%m-%d %H:%M} 报送的文件（回执编号 {original.receipt_no}）"
                              f"内容完全相同，已忽略；以原文件为准")
    notes = list(parsed.notes) if parsed else []
    if upload.outcome in LOADED:
        # audited before the file is handed to the landing folder: nothing lands untraced
        _audit(viewer, client, upload, stage="accepted")
        try:
            written = write_submission(landing, source, data, kind=kind or "xlsx", submitter=upload.unit_code,
                                       period=upload.period, received_at=received_at)
            upload.landing_rel = written.rel
        except UserError as exc:
            log.warning("上传文件未能写入落地文件夹：%s", exc)
            upload.outcome, upload.message = "rejected", f"{exc}（本次上传未被接收，请稍后重新上传）"
            upload.rows_loaded, upload.rows_rejected = 0, upload.rows_read
    upload = submissions.add(upload)
    _audit(viewer, client, upload, stage="recorded")
    return Received(upload, parsed, notes)


def _audit(viewer: Scope, client: str | None, upload: Upload, *, stage: str) -> None:
    audit.record("upload", viewer, client=client, target=upload.original_name, rows=upload.rows_read,
                 stage=stage, source=upload.source, period=upload.period, outcome=upload.outcome,
                 sha256=upload.sha256, bytes=upload.size, rows_loaded=upload.rows_loaded,
                 rows_rejected=upload.rows_rejected, landing=upload.landing_rel, upload_id=upload.id)


def rejects_frame(rejects: list[dict[str, Any]]) -> pl.DataFrame:
    schema = {"sheet": pl.String, "row": pl.Int64, "column": pl.String, "value": pl.String, "reason": pl.String}
    return pl.DataFrame(rejects, schema=schema) if rejects else pl.DataFrame(schema=schema)
