"""The audit log: who did what, when, with which role and scope, from which address.

Append-only from the app's side, three ways:
- this module's API has `record` (append), `read` and `verify`, nothing that changes an entry;
- its connections run under an SQLite authorizer that denies UPDATE, DELETE, DROP and schema
  changes, and triggers in the file abort any UPDATE or DELETE from any other client;
- every entry is chained: hash = HMAC(audit key, previous hash + the entry), the key derived from
  the configured secret (config.derived_key), so an entry edited, inserted or removed in the middle
  with an outside tool breaks `verify` unless the editor also holds the secret;
- the chain's end is recorded outside the file: after every append, a keyed head record (count and
  last hash, HMAC'd) replaces `audit.head` beside it and is written as an `audit-head` line into
  the application log. Entries deleted from the end, or the whole file replaced by an older or an
  empty copy, leave the log shorter than its head: `verify` says so. What stays undetectable: an
  attacker holding the secret and every file (log, head, application log) can rewrite all of them.

The log lives in the state directory (audit.sqlite), outside the serving copy; the app never
deletes from it. Retention and archiving: README, 生产部署清单.

A write that fails raises AuditError: the caller must not go on (an export whose entry could not
be written is not handed out).
"""

from __future__ import annotations

import fcntl
import hashlib
import hmac
import json
import logging
import os
import re
import sqlite3
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from qinglian.errors import EXIT_FAILED, UserError
from qinglian.office_time import OFFICE_TZ
from qinglian.security import config, store
from qinglian.security.scope import Scope

GENESIS = "0" * 64
HEAD_SUFFIX = ".head"
LOG = logging.getLogger("qinglian.audit")
HEAD_LINE = re.compile(r"audit-head seq=(\d+) hash=([0-9a-f]{64}) ts=(\S+) key=([0-9a-f]{12}) mac=([0-9a-f]{64})")

# event -> Chinese label (the admin page and `qinglian audit` show the label)
EVENTS: dict[str, str] = {
    "login_success": "登录成功",
    "login_failed": "登录失败",
    "login_blocked": "锁定期间尝试登录",
    "lockout": "登录锁定",
    "unlock": "解除锁定",
    "logout": "退出登录",
    "session_expired": "会话超时",
    "session_rejected": "拒绝无效登录凭据",
    "page_view": "查看页面",
    "export": "导出",
    "download": "下载",
    "bulletin": "生成通报",
    "talk_record": "登记约谈",
    "upload": "上传报送文件",
    "account_add": "新增账号",
    "account_change": "修改账号",
    "password_change": "修改密码",
    "account_disable": "停用账号",
    "account_enable": "启用账号",
    "rules_change": "修改规则",
    "audit_view": "查看审计日志",
    "config_refused": "拒绝启动",
    "access_denied": "越权访问被拒绝",
    "export_refused": "拒绝交付导出/下载",
}

SCHEMA = """
CREATE TABLE IF NOT EXISTS audit_log (
    seq        INTEGER PRIMARY KEY,
    ts         TEXT NOT NULL,
    event      TEXT NOT NULL,
    username   TEXT,
    role       TEXT,
    scope      TEXT,
    unit_code  TEXT,
    client     TEXT,
    target     TEXT,
    rows       INTEGER,
    detail     TEXT,
    key_id     TEXT NOT NULL,
    prev_hash  TEXT NOT NULL,
    hash       TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS audit_log_ts ON audit_log (ts);
CREATE INDEX IF NOT EXISTS audit_log_user ON audit_log (username, ts);
CREATE TRIGGER IF NOT EXISTS audit_log_no_update BEFORE UPDATE ON audit_log
BEGIN SELECT RAISE(ABORT, '审计日志只能追加，不能修改'); END;
CREATE TRIGGER IF NOT EXISTS audit_log_no_delete BEFORE DELETE ON audit_log
BEGIN SELECT RAISE(ABORT, '审计日志只能追加，不能删除'); END;
"""

_COLUMNS = ("seq", "ts", "event", "username", "role", "scope", "unit_code", "client", "target", "rows", "detail")
_DENIED = {sqlite3.SQLITE_UPDATE, sqlite3.SQLITE_DELETE, sqlite3.SQLITE_DROP_TABLE, sqlite3.SQLITE_DROP_TRIGGER,
           sqlite3.SQLITE_DROP_INDEX, sqlite3.SQLITE_ALTER_TABLE, sqlite3.SQLITE_CREATE_TRIGGER,
           sqlite3.SQLITE_DROP_VIEW, sqlite3.SQLITE_CREATE_VIEW, sqlite3.SQLITE_ATTACH}


class AuditError(UserError, RuntimeError):
    """The audit log could not be written or read (message in Chinese; a command exits 1 with it)."""

    exit_code = EXIT_FAILED


def _authorizer(action: int, arg1: str | None, arg2: str | None, db: str | None, source: str | None) -> int:
    if action in _DENIED:
        return sqlite3.SQLITE_DENY
    if action == sqlite3.SQLITE_PRAGMA and (arg1 or "").lower() not in ("journal_mode", "busy_timeout"):
        return sqlite3.SQLITE_DENY  # e.g. writable_schema would let a statement rewrite the triggers
    return sqlite3.SQLITE_OK


@dataclass(frozen=True)
class Entry:
    seq: int
    ts: datetime  # in the office's time zone
    event: str
    username: str | None
    role: str | None
    scope: str | None
    unit_code: str | None
    client: str | None
    target: str | None
    rows: int | None
    detail: dict[str, Any]

    @property
    def event_label(self) -> str:
        return EVENTS.get(self.event, self.event)


@dataclass(frozen=True)
class Verification:
    ok: bool
    checked: int
    other_key: int  # entries chained under a key this installation no longer holds (secret rotated)
    first_bad: int | None
    message: str


@dataclass(frozen=True)
class Head:
    """The chain's end as last recorded outside the log: entry `seq` has hash `hash`."""

    seq: int
    hash: str
    ts: str
    key_id: str
    mac: str

    def line(self) -> str:
        return f"audit-head seq={self.seq} hash={self.hash} ts={self.ts} key={self.key_id} mac={self.mac}"


def _head_mac(key: bytes, seq: int, last_hash: str, ts: str) -> str:
    return hmac.new(key, f"head\n{seq}\n{last_hash}\n{ts}".encode(), hashlib.sha256).hexdigest()


def _parse_head(text: str) -> Head | None:
    m = HEAD_LINE.search(text)
    return Head(int(m.group(1)), m.group(2), m.group(3), m.group(4), m.group(5)) if m else None


class AuditLog:
    def __init__(self, path: Path | None = None) -> None:
        self.path = Path(path) if path else store.path(store.AUDIT_DB)
        self.head_path = self.path.with_name(self.path.stem + HEAD_SUFFIX)

    def _connect(self, immediate: bool = False):  # noqa: ANN202 - a context manager
        return store.connect(self.path, SCHEMA, immediate=immediate, authorizer=_authorizer)

    @staticmethod
    def _key() -> tuple[bytes, str]:
        key = config.derived_key("audit")
        return key, hashlib.sha256(key).hexdigest()[:12]

    @staticmethod
    def _digest(key: bytes, prev_hash: str, values: tuple[Any, ...]) -> str:
        canonical = json.dumps(list(values), ensure_ascii=False, separators=(",", ":"), default=str)
        return hmac.new(key, f"{prev_hash}\n{canonical}".encode(), hashlib.sha256).hexdigest()

    def append(self, event: str, *, username: str | None = None, role: str | None = None,
               scope: str | None = None, unit_code: str | None = None, client: str | None = None,
               target: str | None = None, rows: int | None = None, detail: dict[str, Any] | None = None) -> int:
        """Append one entry; returns its sequence number. Raises AuditError."""
        if event not in EVENTS:
            raise ValueError(f"unknown audit event {event!r}")
        try:
            key, key_id = self._key()
            detail_text = json.dumps(detail or {}, ensure_ascii=False, sort_keys=True, default=str)
            ts = datetime.now(UTC).isoformat(timespec="microseconds")
            with self._connect(immediate=True) as con:
                last = con.execute("SELECT seq, hash FROM audit_log ORDER BY seq DESC LIMIT 1").fetchone()
                seq, prev = (last["seq"] + 1, last["hash"]) if last else (1, GENESIS)
                values = (seq, ts, event, username, role, scope, unit_code, client, target,
                          None if rows is None else int(rows), detail_text)
                digest = self._digest(key, prev, values)
                con.execute(
                    f"INSERT INTO audit_log ({', '.join(_COLUMNS)}, key_id, prev_hash, hash) "
                    f"VALUES ({', '.join('?' * len(_COLUMNS))}, ?, ?, ?)",
                    (*values, key_id, prev, digest))
            self._advance_head(Head(seq, digest, ts, key_id, _head_mac(key, seq, digest, ts)))
            return seq
        except (sqlite3.Error, OSError) as exc:
            raise AuditError(f"审计日志无法写入（{self.path}）：{config.reason(exc)}。"
                             "为保证留痕，本次操作未执行，请联系系统管理员。") from exc
        except config.SecurityConfigError as exc:
            raise AuditError(f"审计日志无法写入：{exc}") from exc

    def _advance_head(self, head: Head) -> None:
        """Record the new end of the chain outside the file (after the commit, so the head never runs
        ahead of the log): `audit.head`, replaced atomically and only ever moved forward, and one line
        in the application log."""
        lock = self.head_path.with_name(self.head_path.name + ".lock")
        fd = os.open(lock, os.O_WRONLY | os.O_CREAT, config.FILE_MODE)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)  # appends from other processes advance it in turn
            current = self._head()
            if current is None or current.seq < head.seq:
                config.write_private(self.head_path, head.line() + "\n")
        finally:
            os.close(fd)
        LOG.info(head.line())

    def _head(self) -> Head | None:
        """The head record beside the log, if any (unverified)."""
        try:
            return _parse_head(self.head_path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return None

    def read(self, *, since: datetime | None = None, until: datetime | None = None, username: str | None = None,
             events: tuple[str, ...] = (), limit: int | None = 5000) -> list[Entry]:
        """Entries, newest first. since/until: aware datetimes, or naive ones in the office's time zone;
        username: entries by that account or about it."""
        where, params = [], []
        if since is not None:
            where.append("ts >= ?")
            params.append(_utc(since))
        if until is not None:
            where.append("ts < ?")
            params.append(_utc(until))
        if username:  # entries by this account, and entries about it (an admin changed it)
            where.append("(username = ? OR target = ?)")
            params.extend([username, username])
        if events:
            where.append(f"event IN ({', '.join('?' * len(events))})")
            params.extend(events)
        sql = f"SELECT {', '.join(_COLUMNS)} FROM audit_log"
        if where:
            sql += " WHERE " + " AND ".join(where)
        sql += " ORDER BY seq DESC"
        if limit:
            sql += f" LIMIT {int(limit)}"
        try:
            with self._connect() as con:
                rows = con.execute(sql, params).fetchall()
        except (sqlite3.Error, OSError) as exc:
            raise AuditError(f"审计日志无法读取（{self.path}）：{config.reason(exc)}。请联系系统管理员。") from exc
        except config.SecurityConfigError as exc:
            raise AuditError(f"审计日志无法读取：{exc}") from exc
        return [Entry(seq=r["seq"], ts=datetime.fromisoformat(r["ts"]).astimezone(OFFICE_TZ), event=r["event"],
                      username=r["username"], role=r["role"], scope=r["scope"], unit_code=r["unit_code"],
                      client=r["client"], target=r["target"], rows=r["rows"], detail=json.loads(r["detail"] or "{}"))
                for r in rows]

    def verify(self, log_files: list[Path] | tuple[Path, ...] = ()) -> Verification:
        """Walk the whole chain (every link, every MAC made with this installation's key), then hold its
        end against the head record beside the file and the newest head in `log_files` (the
        application log): a log shorter than a head, or ending elsewhere, has lost its tail."""
        try:
            return self._verify(log_files)
        except (sqlite3.Error, OSError) as exc:
            raise AuditError(f"审计日志无法读取（{self.path}）：{config.reason(exc)}。") from exc

    def _verify(self, log_files: list[Path] | tuple[Path, ...]) -> Verification:
        key, key_id = self._key()
        head = self._head()  # read before the log: a head written after we read could only be newer
        logged = newest_logged_head(log_files, key, key_id)
        checked = other = 0
        prev = GENESIS
        expected_seq = 1
        hashes: dict[int, str] = {}
        wanted = {h.seq for h in (head, logged) if h is not None}
        with self._connect() as con:
            cur = con.execute(f"SELECT {', '.join(_COLUMNS)}, key_id, prev_hash, hash FROM audit_log ORDER BY seq")
            for r in cur:
                values = tuple(r[c] for c in _COLUMNS)
                if r["seq"] != expected_seq or r["prev_hash"] != prev:
                    return Verification(False, checked, other, r["seq"],
                                        f"第 {r['seq']} 条与前一条不相连（条目被删除、插入或改动）")
                if r["key_id"] == key_id:
                    if not hmac.compare_digest(r["hash"], self._digest(key, prev, values)):
                        return Verification(False, checked, other, r["seq"], f"第 {r['seq']} 条内容与其校验值不符（条目被改动）")
                else:
                    other += 1
                if r["seq"] in wanted:
                    hashes[r["seq"]] = r["hash"]
                prev, expected_seq = r["hash"], expected_seq + 1
                checked += 1
        if head is None:
            if checked:
                return Verification(False, checked, other, checked,
                                    f"尾部校验记录 {self.head_path} 缺失：无法确认日志末尾的条目未被删除（该文件被删除或日志来自别处）")
        elif head.key_id != key_id or not hmac.compare_digest(head.mac, _head_mac(key, head.seq, head.hash, head.ts)):
            return Verification(False, checked, other, None,
                                f"尾部校验记录 {self.head_path} 无效（被改动，或签名密钥已更换而此后尚无新的审计记录）")
        for source, h in (("尾部校验记录", head), ("应用日志中的尾部记录", logged)):
            if h is None:
                continue
            if h.seq > checked:
                first = checked + 1
                return Verification(False, checked, other, first,
                                    f"日志末尾缺少第 {first}–{h.seq} 条（{source}显示共 {h.seq} 条）：条目被删除或整个文件被替换")
            if hashes.get(h.seq) != h.hash:
                return Verification(False, checked, other, h.seq,
                                    f"第 {h.seq} 条与{source}不符：整个日志文件被替换或改写")
        note = f"，其中 {other} 条由更换前的密钥签名，只校验了链接" if other else ""
        seen = f"；应用日志中的尾部记录（第 {logged.seq} 条）相符" if logged else ""
        return Verification(True, checked, other, None, f"审计日志完整：共 {checked} 条{note}，与尾部校验记录相符{seen}。"
                            if head else f"审计日志完整：共 {checked} 条。")


def newest_logged_head(files: list[Path] | tuple[Path, ...], key: bytes, key_id: str) -> Head | None:
    """The furthest head in the application log(s) that carries a valid MAC under this key."""
    best: Head | None = None
    for path in files:
        try:
            with open(path, encoding="utf-8", errors="replace") as fh:
                for line in fh:
                    if "audit-head" not in line:
                        continue
                    h = _parse_head(line)
                    if (h is not None and h.key_id == key_id and (best is None or h.seq > best.seq)
                            and hmac.compare_digest(h.mac, _head_mac(key, h.seq, h.hash, h.ts))):
                        best = h
        except OSError:
            continue
    return best


def app_log_files() -> list[Path]:
    """The application log files (current and rotated) the heads are written to: the commands'
    qinglian.log and the dashboards' dashboard.log, in $QINGLIAN_LOG_DIR or logs/ beside the warehouse."""
    from qinglian.settings import log_dir

    directory = log_dir()
    return sorted(directory.glob("*.log*")) if directory.is_dir() else []


def _utc(moment: datetime) -> str:
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=OFFICE_TZ)
    return moment.astimezone(UTC).isoformat(timespec="microseconds")


def log() -> AuditLog:
    """The installation's audit log (state directory)."""
    return AuditLog()


def record(event: str, scope: Scope | None = None, *, client: str | None = None, target: str | None = None,
           rows: int | None = None, username: str | None = None, **detail: Any) -> int:
    """Append an entry for `scope` (the viewer) — the one call pages, exports and the portal make.

    `username` names the account when there is no scope yet (a failed login). Extra keyword
    arguments are stored as the entry's detail (JSON), e.g. filters, file name, sha256.
    """
    fields: dict[str, Any] = scope.audit_fields() if scope is not None else {"username": username}
    if scope is None and username is None:
        fields = {}
    return log().append(event, client=client, target=target, rows=rows, detail=detail or None, **fields)
