"""SQLite files in the state directory: one short-lived connection per operation.

SQLite is in the standard library, serialises writers across processes (the dashboards and a
`qinglian user` command may write at once) and needs no server. WAL lets readers go on while one
writes; the busy timeout makes a second writer wait instead of failing.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from qinglian.security import config

SECURITY_DB = "security.sqlite"  # accounts, sessions, lockouts
AUDIT_DB = "audit.sqlite"


_READY: set[tuple[str, str]] = set()  # (file, schema) already applied in this process


def path(name: str) -> Path:
    return config.state_dir() / name


@contextmanager
def connect(db: Path, schema: str = "", immediate: bool = False,
            authorizer: Callable[..., int] | None = None) -> Iterator[sqlite3.Connection]:
    """A connection inside one transaction (committed on success, rolled back on error), then closed.

    `authorizer` (sqlite3's statement authorizer) is installed after the schema: it decides what the
    caller's own statements may do (the audit log denies UPDATE, DELETE and schema changes)."""
    db.parent.mkdir(parents=True, exist_ok=True)
    con = sqlite3.connect(db, timeout=15, isolation_level=None, check_same_thread=False)
    try:
        con.row_factory = sqlite3.Row
        con.execute("PRAGMA journal_mode=WAL")
        con.execute("PRAGMA busy_timeout=15000")
        if schema and (str(db), schema) not in _READY:
            con.executescript(schema)
            _READY.add((str(db), schema))
        if authorizer is not None:
            con.set_authorizer(authorizer)
        con.execute("BEGIN IMMEDIATE" if immediate else "BEGIN")
        try:
            yield con
        except BaseException:
            con.execute("ROLLBACK")
            raise
        con.execute("COMMIT")
    finally:
        con.close()
