"""Failed logins per account and per client address, with a wait that grows.

After QINGLIAN_LOCKOUT_ATTEMPTS failures in a row for an account (QINGLIAN_LOCKOUT_IP_ATTEMPTS from
one address), logins are refused for QINGLIAN_LOCKOUT_SECONDS; each further lock doubles the wait
up to QINGLIAN_LOCKOUT_MAX_SECONDS. Failures older than the window are forgotten, and the lock
count resets a day after the last lock. A success clears the account's count (not the address's:
one valid account must not reset an address that is guessing other accounts' passwords).

Every password check — the login form, the 修改密码 form, the upload portal — first *reserves* its
attempt (`reserve`): in one SQLite BEGIN IMMEDIATE transaction (and under a per-process lock) it
refuses if a lock is in force, and otherwise counts the attempt as a failure before the password is
even looked at. So attempts made in parallel are counted one after another, and no more than the
threshold are ever checked: the one that reaches it engages the lock, the rest are refused. A
success then gives its reservation back (`Reservation.succeeded`).

An unknown user name is counted like a real one, so the lockout tells nothing about which names
exist. Locks and refusals are written to the audit log by the one caller (qinglian.security.login),
where the account's owner (我的账号) and the admin see them.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
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

_PROCESS_LOCK = threading.Lock()  # threads of one server queue here instead of spinning on SQLite's busy wait


def account_key(username: str) -> str:
    return f"account:{username}"


def client_key(client: str | None) -> str:
    return f"client:{client or '未知地址'}"


@dataclass(frozen=True)
class Lock:
    key: str
    until: float
    locks: int
    duration: int = 0  # the wait this lock imposed when it engaged (what the audit records; 0 if read back)

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


@dataclass
class Reservation:
    """One password check allowed to go ahead, already counted as a failure on `keys`."""

    lockout: Lockout
    keys: tuple[str, ...]
    engaged: list[Lock] = field(default_factory=list)  # locks this attempt's count set off

    def succeeded(self) -> None:
        """The password was right: the account's count is cleared, the address gets its attempt back,
        and a lock this very attempt set off is lifted again."""
        self.lockout._release(self)


class Lockout:
    def __init__(self, path: Path | None = None) -> None:
        self.path = Path(path) if path else store.path(store.SECURITY_DB)

    def _connect(self, immediate: bool = False):  # noqa: ANN202
        return store.connect(self.path, SCHEMA, immediate=immediate)

    def locked(self, *keys: str) -> Lock | None:
        """The longest lock in force on any of these keys, if any."""
        now = time.time()
        with self._connect() as con:
            return self._locked(con, keys, now)

    @staticmethod
    def _locked(con, keys: tuple[str, ...], now: float) -> Lock | None:  # noqa: ANN001
        rows = con.execute(f"SELECT key, locked_until, locks FROM lockouts WHERE key IN ({', '.join('?' * len(keys))})"
                           " AND locked_until > ? ORDER BY locked_until DESC", (*keys, now)).fetchall()
        return Lock(rows[0]["key"], rows[0]["locked_until"], rows[0]["locks"]) if rows else None

    def reserve(self, username: str, client: str | None) -> Reservation | Lock:
        """Before a password is checked: the lock in force (nothing counted), or a reservation that has
        already counted this attempt as a failure on the account and the address."""
        s = config.settings()
        keys = (account_key(username), client_key(client))
        limits = {keys[0]: s.lockout_attempts, keys[1]: s.lockout_ip_attempts}
        with _PROCESS_LOCK, self._connect(immediate=True) as con:
            now = time.time()
            lock = self._locked(con, keys, now)
            if lock is not None:
                return lock
            reservation = Reservation(self, keys)
            for key in keys:
                new = self._count(con, key, limits[key], now, s)
                if new is not None:
                    reservation.engaged.append(new)
            return reservation

    @staticmethod
    def _count(con, key: str, threshold: int, now: float, s: config.Settings) -> Lock | None:  # noqa: ANN001
        r = con.execute("SELECT * FROM lockouts WHERE key = ?", (key,)).fetchone()
        failures, locks, last_lock = (r["failures"], r["locks"], r["last_lock"]) if r else (0, 0, 0.0)
        if r and now - r["last_failure"] > s.failure_window_minutes * 60:
            failures = 0
        if locks and now - last_lock > LOCK_MEMORY_SECONDS:
            locks = 0
        failures += 1
        until, duration = 0.0, 0
        if failures >= threshold:
            locks += 1
            duration = min(s.lockout_seconds * 2 ** (locks - 1), s.lockout_max_seconds)
            until = now + duration
            failures, last_lock = 0, now
        con.execute("INSERT OR REPLACE INTO lockouts VALUES (?, ?, ?, ?, ?, ?)",
                    (key, failures, locks, until if until else (r["locked_until"] if r else 0.0), now, last_lock))
        return Lock(key, until, locks, duration) if until else None

    def _release(self, reservation: Reservation) -> None:
        account, client = reservation.keys
        engaged = {lock.key: lock for lock in reservation.engaged}
        with _PROCESS_LOCK, self._connect(immediate=True) as con:
            for key in reservation.keys:
                lock = engaged.get(key)
                if lock is not None:
                    # This attempt set the lock off and turned out right: lift it again (unless a later
                    # lock replaced it), and undo the step in the growing wait.
                    con.execute("UPDATE lockouts SET locked_until = 0, locks = max(locks - 1, 0) "
                                "WHERE key = ? AND locked_until = ?", (key, lock.until))
                if key == account:
                    con.execute("UPDATE lockouts SET failures = 0 WHERE key = ?", (key,))
                elif lock is None:
                    con.execute("UPDATE lockouts SET failures = max(failures - 1, 0) WHERE key = ?", (key,))

    def clear(self, key: str) -> bool:
        """The admin lifts a lock (and its history); True if there was one."""
        with _PROCESS_LOCK, self._connect(immediate=True) as con:
            return con.execute("DELETE FROM lockouts WHERE key = ?", (key,)).rowcount > 0

    def current(self) -> list[Lock]:
        with self._connect() as con:
            rows = con.execute("SELECT key, locked_until, locks FROM lockouts WHERE locked_until > ? "
                               "ORDER BY locked_until DESC", (time.time(),)).fetchall()
        return [Lock(r["key"], r["locked_until"], r["locks"]) for r in rows]
