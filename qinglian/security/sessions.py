"""Server-side sessions: the browser holds only an opaque id the app issued.

The cookie is `v1.<id>.<mac>`: a random 256-bit id and an HMAC of it under a key derived from the
configured secret. Nothing in the cookie is believed: the mac only spares a database look-up for
garbage, and the id must name a live session in security.sqlite (stored as its SHA-256, so a copy
of the state directory does not hand out logins). A session ends on logout, after
QINGLIAN_SESSION_IDLE_MINUTES without activity, after QINGLIAN_SESSION_MAX_HOURS in all, when its
account is disabled or changed, and — unless QINGLIAN_SESSION_BIND_ADDRESS=off — the first time its
cookie arrives from another client address than the one that logged in (a copied cookie is no use
elsewhere, and its use ends the owner's session too, which the owner notices).

The cookie is HttpOnly (scripts in the page cannot read it). Streamlit talks over a websocket, so
the app cannot set a cookie in a response of its own: after a login it hands the page a one-time
ticket (60 s, single use, tied to the client address) which the page posts to the route in
dashboards/asgi.py; that route answers with Set-Cookie.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from qinglian.security import config, store

COOKIE_NAME = "qinglian_session"
COOKIE_VERSION = "v1"
TICKET_SECONDS = 60
TOUCH_EVERY_SECONDS = 30  # last_seen is written at most this often per session
ENDED_BY_RULE = ("idle", "expired", "address")  # reported as such on every later use (a logout is just "ended")

SCHEMA = """
CREATE TABLE IF NOT EXISTS sessions (
    sid_hash    TEXT PRIMARY KEY,
    username    TEXT NOT NULL,
    created_at  REAL NOT NULL,
    last_seen   REAL NOT NULL,
    client      TEXT,
    user_agent  TEXT,
    revoked_at  REAL,
    end_reason  TEXT
);
CREATE INDEX IF NOT EXISTS sessions_user ON sessions (username);
"""


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def _mac(sid: str) -> str:
    return _b64(hmac.new(config.derived_key("cookie"), f"{COOKIE_VERSION}.{sid}".encode(), hashlib.sha256).digest())


def cookie_value(sid: str) -> str:
    return f"{COOKIE_VERSION}.{sid}.{_mac(sid)}"


def sid_from_cookie(value: str | None) -> str | None:
    """The session id of a well-formed cookie signed with this installation's key; None for anything else."""
    if not value or len(value) > 200:
        return None
    parts = value.split(".")
    if len(parts) != 3 or parts[0] != COOKIE_VERSION or not parts[1]:
        return None
    return parts[1] if hmac.compare_digest(parts[2], _mac(parts[1])) else None


def _hash(sid: str) -> str:
    return hashlib.sha256(sid.encode("ascii", "replace")).hexdigest()


@dataclass(frozen=True)
class Session:
    username: str
    created_at: float
    last_seen: float
    client: str | None


class SessionStore:
    def __init__(self, path: Path | None = None) -> None:
        self.path = Path(path) if path else store.path(store.SECURITY_DB)

    def _connect(self, immediate: bool = False):  # noqa: ANN202
        return store.connect(self.path, SCHEMA, immediate=immediate)

    def create(self, username: str, client: str | None = None, user_agent: str | None = None) -> str:
        """A new session; returns its id (only ever given to the browser inside the cookie)."""
        sid = secrets.token_urlsafe(32)
        now = time.time()
        horizon = now - config.settings().session_max_hours * 3600
        with self._connect(immediate=True) as con:
            # Sessions past their lifetime are of no use to anyone; keep the table small.
            con.execute("DELETE FROM sessions WHERE created_at < ?", (horizon,))
            con.execute("INSERT INTO sessions VALUES (?, ?, ?, ?, ?, ?, NULL, NULL)",
                        (_hash(sid), username, now, now, client, (user_agent or "")[:300]))
        return sid

    def validate(self, sid: str | None, client: str | None = None, *, touch: bool = True) -> tuple[Session | None, str]:
        """(session, 'ok') while it lives; else (None, why): unknown, ended (logged out, account changed),
        idle, expired, or address (used from another client address than it was issued to) — the last
        three also on every later use. `client`: the address of the request
        at hand (None: not known, e.g. a command). touch=False checks without counting as activity
        and ends nothing (the page's periodic check must not keep an idle session alive)."""
        if not sid:
            return None, "unknown"
        s = config.settings()
        now = time.time()
        with self._connect(immediate=True) as con:
            r = con.execute("SELECT * FROM sessions WHERE sid_hash = ?", (_hash(sid),)).fetchone()
            if r is None:
                return None, "unknown"
            if r["revoked_at"] is not None:
                # Another tab of the same login may have ended it a moment ago: say why it ended.
                return None, r["end_reason"] if r["end_reason"] in ENDED_BY_RULE else "ended"
            why = ("expired" if now - r["created_at"] > s.session_max_hours * 3600
                   else "idle" if now - r["last_seen"] > s.session_idle_minutes * 60
                   else "address" if s.bind_address and client and r["client"] and client != r["client"] else "")
            if why:
                if touch:  # a quiet check (touch=False) writes nothing; the next real use ends it
                    con.execute("UPDATE sessions SET revoked_at = ?, end_reason = ? WHERE sid_hash = ?",
                                (now, why, _hash(sid)))
                return None, why
            if touch and now - r["last_seen"] > TOUCH_EVERY_SECONDS:
                con.execute("UPDATE sessions SET last_seen = ? WHERE sid_hash = ?", (now, _hash(sid)))
        return Session(r["username"], r["created_at"], now if touch else r["last_seen"], r["client"]), "ok"

    def _recorded(self, sid: str | None, column: str) -> str | None:
        if not sid:
            return None
        with self._connect() as con:
            r = con.execute(f"SELECT {column} FROM sessions WHERE sid_hash = ?", (_hash(sid),)).fetchone()
        return r[column] if r else None

    def issued_to(self, sid: str | None) -> str | None:
        """The client address a session was issued to."""
        return self._recorded(sid, "client")

    def owner(self, sid: str | None) -> str | None:
        """The account a session id belongs (or belonged) to."""
        return self._recorded(sid, "username")

    def revoke(self, sid: str | None, reason: str = "logout") -> None:
        if not sid:
            return
        with self._connect(immediate=True) as con:
            con.execute("UPDATE sessions SET revoked_at = ?, end_reason = ? WHERE sid_hash = ? AND revoked_at IS NULL",
                        (time.time(), reason, _hash(sid)))

    def revoke_user(self, username: str, reason: str = "account_changed") -> int:
        with self._connect(immediate=True) as con:
            return con.execute("UPDATE sessions SET revoked_at = ?, end_reason = ? "
                               "WHERE username = ? AND revoked_at IS NULL",
                               (time.time(), reason, username)).rowcount

    def active(self, username: str | None = None) -> list[Session]:
        s = config.settings()
        now = time.time()
        sql = "SELECT * FROM sessions WHERE revoked_at IS NULL AND last_seen > ? AND created_at > ?"
        params: list[object] = [now - s.session_idle_minutes * 60, now - s.session_max_hours * 3600]
        if username:
            sql += " AND username = ?"
            params.append(username)
        with self._connect() as con:
            rows = con.execute(sql + " ORDER BY last_seen DESC", params).fetchall()
        return [Session(r["username"], r["created_at"], r["last_seen"], r["client"]) for r in rows]


# --- one-time tickets: login in the app -> Set-Cookie from the route -------------------------------

_tickets: dict[str, tuple[str, str | None, float]] = {}
_tickets_lock = threading.Lock()


def issue_ticket(sid: str, client: str | None) -> str:
    ticket = secrets.token_urlsafe(24)
    now = time.time()
    with _tickets_lock:
        for t, (_, _, expires) in list(_tickets.items()):
            if expires < now:
                del _tickets[t]
        _tickets[ticket] = (sid, client, now + TICKET_SECONDS)
    return ticket


def redeem_ticket(ticket: str | None, client: str | None) -> str | None:
    """The session id for a fresh ticket from the same address; every ticket works once."""
    if not ticket:
        return None
    with _tickets_lock:
        entry = _tickets.pop(ticket, None)
    if entry is None:
        return None
    sid, issued_to, expires = entry
    if expires < time.time() or (issued_to and client and issued_to != client):
        return None
    return sid


def ticket_pending(ticket: str) -> bool:
    """Issued, not yet exchanged and not expired."""
    with _tickets_lock:
        entry = _tickets.get(ticket)
    return entry is not None and entry[2] >= time.time()
