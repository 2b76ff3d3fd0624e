"""Failed logins per account and per client address, with a wait that grows.

After QINGLIAN_LOCKOUT_ATTEMPTS failures in a row for an account (QINGLIAN_LOCKOUT_IP_ATTEMPTS from
one address), logins are refused for QINGLIAN_LOCKOUT_SECONDS; each further lock doubles the wait
up to QINGLIAN_LOCKOUT_MAX_SECONDS. Failures older than the window are forgotten, and the lock
count resets a day after the last lock. A success clears the account's count (not the address's:
one valid account must not reset an address that is guessing other accounts' passwords).

An unknown user name is counted like a real one, so the lockout tells nothing about which names
exist. Locks and refusals are written to the audit log by the caller (dashboards/auth.py), where
the account's owner (我的账号) and the admin see them.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

from qinglian.security import config, store

LOCK_MEMORY_SECONDS = 24 * 3600

SCHEMA = """
CREATE TABLE IF NOT EXISTS lockouts (
    key           TEXT PRIMARY KEY,
    failures      INTEGER NOT NULL,
    locks         INTEGER NOT NULL,
    locked_until  REAL NOT NULL,
    last_failure  REAL NOT NULL,
    last_lock     REAL NOT NULL
);
"""


def account_key(username: str) -> str:
    return f"account:{username}"


def client_key(client: str | None) -> str:
    return f"client:{client or '未知地址'}"


@dataclass(frozen=True)
class Lock:
    key: str
    until: float
    locks: int

    @property
    def seconds_left(self) -> int:
        return max(0, int(self.until - time.time() + 0.999))

    @property
    def is_account(self) -> bool:
        return self.key.startswith("account:")


def wait_text(seconds: int) -> str:
    minutes, secs = divmod(max(seconds, 0), 60)
    if not minutes:
        return f"{secs}秒"
    return f"{minutes}分钟" if not secs else f"{minutes}分{secs}秒"


class Lockout:
    def __init__(self, path: Path | None = None) -> None:
        self.path = Path(path) if path else store.path(store.SECURITY_DB)

    def _connect(self, immediate: bool = False):  # noqa: ANN202
        return store.connect(self.path, SCHEMA, immediate=immediate)

    def locked(self, *keys: str) -> Lock | None:
        """The longest lock in force on any of these keys, if any."""
        now = time.time()
        with self._connect() as con:
            rows = con.execute(f"SELECT key, locked_until, locks FROM lockouts WHERE key IN ({', '.join('?' * len(keys))})"
                               " AND locked_until > ? ORDER BY locked_until DESC", (*keys, now)).fetchall()
        return Lock(rows[0]["key"], rows[0]["locked_until"], rows[0]["locks"]) if rows else None

    def fail(self, key: str, threshold: int) -> Lock | None:
        """Count a failure; returns the new lock when this failure engages one."""
        s = config.settings()
        now = time.time()
        with self._connect(immediate=True) as con:
            r = con.execute("SELECT * FROM lockouts WHERE key = ?", (key,)).fetchone()
            failures, locks, last_lock = (r["failures"], r["locks"], r["last_lock"]) if r else (0, 0, 0.0)
            if r and now - r["last_failure"] > s.failure_window_minutes * 60:
                failures = 0
            if locks and now - last_lock > LOCK_MEMORY_SECONDS:
                locks = 0
            failures += 1
            until = 0.0
            if failures >= threshold:
                locks += 1
                until = now + min(s.lockout_seconds * 2 ** (locks - 1), s.lockout_max_seconds)
                failures, last_lock = 0, now
            con.execute("INSERT OR REPLACE INTO lockouts VALUES (?, ?, ?, ?, ?, ?)",
                        (key, failures, locks, until if until else (r["locked_until"] if r else 0.0), now, last_lock))
        return Lock(key, until, locks) if until else None

    def fail_login(self, username: str, client: str | None) -> list[Lock]:
        s = config.settings()
        locks = [self.fail(account_key(username), s.lockout_attempts),
                 self.fail(client_key(client), s.lockout_ip_attempts)]
        return [lock for lock in locks if lock]

    def succeed(self, username: str) -> None:
        with self._connect(immediate=True) as con:
            con.execute("UPDATE lockouts SET failures = 0 WHERE key = ?", (account_key(username),))

    def clear(self, key: str) -> bool:
        """The admin lifts a lock (and its history); True if there was one."""
        with self._connect(immediate=True) as con:
            return con.execute("DELETE FROM lockouts WHERE key = ?", (key,)).rowcount > 0

    def current(self) -> list[Lock]:
        with self._connect() as con:
            rows = con.execute("SELECT key, locked_until, locks FROM lockouts WHERE locked_until > ? "
                               "ORDER BY locked_until DESC", (time.time(),)).fetchall()
        return [Lock(r["key"], r["locked_until"], r["locks"]) for r in rows]
