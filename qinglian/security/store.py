"""SQLite files in the state directory: one short-lived connection per operation.

SQLite is in the standard library, serialises writers across processes (the dashboards and a
`qinglian user` command may write at once) and needs no server. WAL lets readers go on while one
writes; the busy timeout makes a second writer wait instead of failing.

Every connection first checks the state directory (config.ensure_state: private, and of the
process's mode); the files are created 0600 (SQLite gives its -wal and -shm files the same mode).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from qinglian.security import config

SECURITY_DB = "security.sqlite"  # accounts, sessions, lockouts
AUDIT_DB = "audit.sqlite"


def path(name: str) -> Path:
    return config.state_dir() / name


@contextmanager
def connect(db: Path, schema: str = "", immediate: bool = False,
            authorizer: Callable[..., int] | None = None) -> Iterator[sqlite3.Connection]:
    """A connection inside one transaction (committed on success, rolled back on error), then closed.

    `authorizer` (sqlite3's statement authorizer) is installed after the schema: it decides what the
    caller's own statements may do (the audit log denies UPDATE, DELETE and schema changes)."""
    if db.parent == config.state_dir():
        config.ensure_state()
    else:  # a file named explicitly (an archived audit log being verified, a test)
        db.parent.mkdir(parents=True, exist_ok=True, mode=config.DIR_MODE)
    config.private_file(db)
    con = sqlite3.connect(db, timeout=15, isolation_level=None, check_same_thread=False)
    try:
        con.row_factory = sqlite3.Row
        con.execute("PRAGMA journal_mode=WAL")
        con.execute("PRAGMA busy_timeout=15000")
        if schema:  # every time (all IF NOT EXISTS): a file replaced under a running process gets its guards back
            con.executescript(schema)
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
