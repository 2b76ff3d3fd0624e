"""约谈记录: the talks the office has held with bodies marked 约谈 (date, outcome, who entered it).

Stored in the state directory ($QINGLIAN_STATE, app-writable, private), never in the read-only
serving copy that is replaced each quarter. Records are appended, never edited: a correction is a
new record for the same body and quarter (the latest one is shown, all are kept). Every record is
also an audit-log entry (event "talk_record"), written in the same call; if the audit log refuses,
the record is not kept either (audit first, then the insert, inside one SQLite transaction).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

import pandas as pd

from qinglian.security import audit, store
from qinglian.security.audit import OFFICE_TZ
from qinglian.security.scope import Scope

TALKS_DB = "talks.sqlite"
_SCHEMA = """
CREATE TABLE IF NOT EXISTS talks (
    talk_id     INTEGER PRIMARY KEY AUTOINCREMENT,
    quarter     TEXT NOT NULL,
    body_group  TEXT NOT NULL,
    body_code   TEXT NOT NULL,
    body_name   TEXT NOT NULL,
    held_on     TEXT NOT NULL,
    outcome     TEXT NOT NULL,
    entered_by  TEXT NOT NULL,
    entered_at  TEXT NOT NULL
);
CREATE TRIGGER IF NOT EXISTS talks_no_update BEFORE UPDATE ON talks
BEGIN SELECT RAISE(ABORT, '约谈记录只能追加，不能修改'); END;
CREATE TRIGGER IF NOT EXISTS talks_no_delete BEFORE DELETE ON talks
BEGIN SELECT RAISE(ABORT, '约谈记录只能追加，不能删除'); END;
"""
MAX_OUTCOME = 500
# Roles that may enter a record: the office's own staff (analysts). Leadership reads.
WRITERS = {"analyst"}


class TalkError(ValueError):
    """A record that cannot be kept (Chinese message for the page)."""


@dataclass(frozen=True)
class Talk:
    quarter: str
    body_group: str
    body_code: str
    body_name: str
    held_on: date
    outcome: str


def can_record(viewer: Scope) -> bool:
    return viewer.role in WRITERS and viewer.county_code is None


def record(viewer: Scope, talk: Talk, client: str | None = None) -> int:
    """Append one record (audited); returns its id."""
    if not can_record(viewer):
        raise TalkError("只有市清廉办工作人员（分析员账号）可以登记约谈情况")
    outcome = " ".join(talk.outcome.split())
    if not outcome:
        raise TalkError("请填写约谈结果")
    if len(outcome) > MAX_OUTCOME:
        raise TalkError(f"约谈结果不超过 {MAX_OUTCOME} 字（现为 {len(outcome)} 字）")
    today = datetime.now(OFFICE_TZ).date()
    if talk.held_on > today:
        raise TalkError(f"约谈日期 {talk.held_on:%Y-%m-%d} 晚于今天，请核对")
    with store.connect(store.path(TALKS_DB), _SCHEMA, immediate=True) as con:
        audit.record("talk_record", viewer, client=client, target=f"约谈 {talk.body_name} {talk.quarter}",
                     quarter=talk.quarter, body_code=talk.body_code, held_on=f"{talk.held_on:%Y-%m-%d}")
        cur = con.execute(
            "INSERT INTO talks (quarter, body_group, body_code, body_name, held_on, outcome, entered_by, entered_at) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (talk.quarter, talk.body_group, talk.body_code, talk.body_name, f"{talk.held_on:%Y-%m-%d}", outcome,
             viewer.username, datetime.now(OFFICE_TZ).isoformat(timespec="seconds")))
        return int(cur.lastrowid or 0)


def records(quarter: str | None = None, county: str | None = None) -> pd.DataFrame:
    """All records (a county user's own only), newest first."""
    cols = ["talk_id", "quarter", "body_group", "body_code", "body_name", "held_on", "outcome", "entered_by",
            "entered_at"]
    path = store.path(TALKS_DB)
    if not path.exists():
        return pd.DataFrame(columns=cols)
    with store.connect(path, _SCHEMA) as con:
        rows = con.execute(
            "SELECT * FROM talks WHERE (? IS NULL OR quarter = ?) AND (? IS NULL OR body_code = ?) "
            "ORDER BY talk_id DESC", (quarter, quarter, county, county)).fetchall()
    return pd.DataFrame([dict(r) for r in rows], columns=cols)
