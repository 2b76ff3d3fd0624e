"""The submissions store: every upload through the portal, its outcome, its rejects and its receipt.

Lives in the state directory (submissions.sqlite, private like the other state files), never in the
serving copy, which is read-only and replaced each quarter. One row per upload, whatever its outcome;
the row-level reasons are kept with it so the clerk's history can show them again.

Outcomes are the ingest's own journaled codes (ingest.outcomes): accepted, accepted_with_rejects,
rejected, duplicate. As in the ingest, an identical file sent again by the same unit is a duplicate
of the first (nothing is written to the landing folder again), and a loaded file for the same source,
unit and period supersedes the loaded one before it (superseded_by), which stays in the history.
"""

from __future__ import annotations

import sqlite3
from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any

from ingest.outcomes import JOURNALED, LOADED
from qinglian.security import store

SUBMISSIONS_DB = "submissions.sqlite"

SCHEMA = """
CREATE TABLE IF NOT EXISTS uploads (
    id             INTEGER PRIMARY KEY,
    received_at    TEXT NOT NULL,        -- ISO 8601 with offset (Beijing time)
    username       TEXT NOT NULL,
    unit_code      TEXT NOT NULL,
    unit_kind      TEXT,
    unit_name      TEXT,
    source         TEXT NOT NULL,
    original_name  TEXT NOT NULL,
    size           INTEGER NOT NULL,
    sha256         TEXT NOT NULL,
    outcome        TEXT NOT NULL,
    period         TEXT,
    submitter      TEXT,
    submitter_name TEXT,
    rows_read      INTEGER NOT NULL DEFAULT 0,
    rows_loaded    INTEGER NOT NULL DEFAULT 0,
    rows_rejected  INTEGER NOT NULL DEFAULT 0,
    message        TEXT,
    landing_rel    TEXT,                 -- where the file was stored (loaded outcomes only)
    duplicate_of   INTEGER REFERENCES uploads(id),
    superseded_by  INTEGER REFERENCES uploads(id)
);
CREATE INDEX IF NOT EXISTS uploads_unit ON uploads(unit_code, period, source);
CREATE INDEX IF NOT EXISTS uploads_sha ON uploads(unit_code, sha256);
CREATE TABLE IF NOT EXISTS upload_rejects (
    upload_id INTEGER NOT NULL REFERENCES uploads(id),
    seq       INTEGER NOT NULL,
    sheet     TEXT,
    row       INTEGER,
    "column"  TEXT,
    value     TEXT,
    reason    TEXT NOT NULL,
    PRIMARY KEY (upload_id, seq)
);
"""


@dataclass
class Upload:
    received_at: datetime
    username: str
    unit_code: str
    source: str
    original_name: str
    size: int
    sha256: str
    outcome: str
    unit_kind: str | None = None
    unit_name: str | None = None
    period: str | None = None
    submitter: str | None = None
    submitter_name: str | None = None
    rows_read: int = 0
    rows_loaded: int = 0
    rows_rejected: int = 0
    message: str | None = None
    landing_rel: str | None = None
    duplicate_of: int | None = None
    superseded_by: int | None = None
    id: int | None = None
    rejects: list[dict[str, Any]] = field(default_factory=list)

    @property
    def receipt_no(self) -> str:
        """回执编号: the day received and the upload's number (unique within the installation)."""
        return f"HZ{self.received_at:%Y%m%d}-{self.id or 0:06d}"

    @property
    def loaded(self) -> bool:
        return self.outcome in LOADED

    @property
    def current(self) -> bool:
        """Loaded and not superseded: the file that counts for its source, unit and period."""
        return self.loaded and self.superseded_by is None

    @classmethod
    def _from_row(cls, row: sqlite3.Row) -> Upload:
        values = dict(row)
        values["received_at"] = datetime.fromisoformat(values["received_at"])
        return cls(**values)


_COLUMNS = ("received_at", "username", "unit_code", "unit_kind", "unit_name", "source", "original_name", "size",
            "sha256", "outcome", "period", "submitter", "submitter_name", "rows_read", "rows_loaded", "rows_rejected",
            "message", "landing_rel", "duplicate_of", "superseded_by")


class SubmissionStore:
    """Uploads of every unit; each read names the unit it is for (the portal passes the viewer's)."""

    def __init__(self) -> None:
        self.path = store.path(SUBMISSIONS_DB)

    def _connect(self, immediate: bool = False):  # noqa: ANN202 - a context manager
        return store.connect(self.path, SCHEMA, immediate=immediate)

    def loaded_original(self, unit_code: str, sha256: str) -> Upload | None:
        """The earlier loaded upload of these exact bytes by this unit, if any (a re-send is a duplicate)."""
        with self._connect() as con:
            row = con.execute(
                f"SELECT * FROM uploads WHERE unit_code = ? AND sha256 = ? AND outcome IN {LOADED} ORDER BY id LIMIT 1",
                (unit_code, sha256)).fetchone()
        return Upload._from_row(row) if row else None

    def add(self, upload: Upload) -> Upload:
        """Record an upload (and its rejects) in one transaction; a loaded one supersedes the current
        loaded upload of the same source, unit and period. Returns it with its id."""
        if upload.outcome not in JOURNALED:
            raise ValueError(f"unknown outcome {upload.outcome!r}")
        values = asdict(upload)
        values["received_at"] = upload.received_at.isoformat(timespec="seconds")
        with self._connect(immediate=True) as con:
            cur = con.execute(f"INSERT INTO uploads ({', '.join(_COLUMNS)}) VALUES ({', '.join('?' * len(_COLUMNS))})",
                              [values[c] for c in _COLUMNS])
            upload.id = int(cur.lastrowid or 0)
            con.executemany(
                'INSERT INTO upload_rejects (upload_id, seq, sheet, row, "column", value, reason) VALUES (?, ?, ?, ?, ?, ?, ?)',
                [(upload.id, i, r.get("sheet"), r.get("row"), r.get("column"), r.get("value"), r["reason"])
                 for i, r in enumerate(upload.rejects)])
            if upload.loaded:
                con.execute(
                    f"""UPDATE uploads SET superseded_by = ? WHERE unit_code = ? AND source = ? AND period IS ?
                        AND outcome IN {LOADED} AND superseded_by IS NULL AND id <> ?""",
                    (upload.id, upload.unit_code, upload.source, upload.period, upload.id))
        return upload

    def history(self, unit_code: str, period: str | None = None) -> list[Upload]:
        """A unit's uploads, newest first (optionally of one period)."""
        sql, args = "SELECT * FROM uploads WHERE unit_code = ?", [unit_code]
        if period is not None:
            sql, args = sql + " AND period IS ?", [*args, period]
        with self._connect() as con:
            return [Upload._from_row(r) for r in con.execute(sql + " ORDER BY id DESC", args).fetchall()]

    def get(self, upload_id: int, unit_code: str | None) -> Upload | None:
        """One upload with its rejects; `unit_code` None only for the office (every unit)."""
        with self._connect() as con:
            row = con.execute("SELECT * FROM uploads WHERE id = ?", (upload_id,)).fetchone()
            if row is None or (unit_code is not None and row["unit_code"] != unit_code):
                return None
            upload = Upload._from_row(row)
            upload.rejects = [dict(r) for r in con.execute(
                'SELECT sheet, row, "column", value, reason FROM upload_rejects WHERE upload_id = ? ORDER BY seq',
                (upload_id,)).fetchall()]
        return upload

    def all(self, period: str | None = None, units: list[str] | None = None) -> list[Upload]:
        """Every unit's uploads (the office's 报送情况), oldest first; optionally one period / some units."""
        sql, args = "SELECT * FROM uploads WHERE 1 = 1", []
        if period is not None:
            sql, args = sql + " AND period IS ?", [period]
        if units is not None:
            sql += f" AND unit_code IN ({', '.join('?' * len(units))})" if units else " AND FALSE"
            args += list(units)
        with self._connect() as con:
            return [Upload._from_row(r) for r in con.execute(sql + " ORDER BY id", args).fetchall()]
