"""Every password check: lockout first (reserved atomically), then the password, each step audited.

Shared by the dashboards' login form, the 修改密码 form (a borrowed session must not become a
password oracle) and the upload portal, so every door applies the same rules and every lock is
audited wherever it was set off. The user reads only "用户名或密码错误" (or the lock); the audit
entry says why for the admin.
"""

from __future__ import annotations

from dataclasses import dataclass

from qinglian.security import audit, sessions
from qinglian.security.accounts import Account, AccountStore, normalise_username
from qinglian.security.lockout import Lock, Lockout, Reservation, wait_text
from qinglian.security.scope import Scope

WRONG = "用户名或密码错误。"


@dataclass(frozen=True)
class LoginResult:
    account: Account | None
    sid: str | None
    message: str  # shown on a failure
    notice: str = ""  # shown after a success: failed attempts on this account since its last login


def _lock_message(lock: Lock) -> str:
    what = "该账号" if lock.is_account else "本机地址"
    return f"{what}因多次登录失败已被锁定，请在{wait_text(lock.seconds_left)}后重试。如非本人操作，请联系系统管理员。"


def _failure_reason(store: AccountStore, name: str) -> str:
    account = store.get(name)
    if account is None:
        return "账号不存在"
    if not account.active:
        return "账号已停用"
    if not account.usable:
        return "演示账号在正式模式下不可用"
    return "密码错误"


def _since_last_login(name: str) -> str:
    """Failed attempts and locks on this account since its previous successful login."""
    log = audit.log()
    previous = log.read(username=name, events=("login_success",), limit=1)
    since = previous[0].ts if previous else None
    bad = log.read(username=name, events=("login_failed", "login_blocked", "lockout"), since=since, limit=200)
    if not bad:
        return ""
    fails = [e for e in bad if e.event == "login_failed"]
    locks = [e for e in bad if e.event == "lockout"]
    last = bad[0]
    text = f"自上次登录以来，该账号有 {len(fails)} 次密码错误的登录尝试"
    if locks:
        text += f"、{len(locks)} 次被锁定"
    return text + f"（最近一次 {last.ts:%Y-%m-%d %H:%M}，来自 {last.client or '未知地址'}）。如非本人操作，请立即修改密码并告知系统管理员。"


@dataclass(frozen=True)
class Check:
    account: Account | None  # the account when the password was right and the account usable
    message: str             # the refusal the user reads, when account is None


def check(username: str, password: str, client: str | None, *, viewer: Scope | None = None,
          purpose: str = "login") -> Check:
    """Reserve an attempt, check the password, audit the outcome (and any lock it set off).

    purpose 'login' (the login form) or 'password_change' (the current password on 修改密码, by the
    signed-in `viewer`). Raises audit.AuditError if the audit log cannot be written."""
    name = normalise_username(username)
    who = {"scope": viewer} if viewer is not None else {"username": name}
    why = {} if purpose == "login" else {"via": "修改密码"}
    locks = Lockout()
    held = locks.reserve(name, client)
    if isinstance(held, Lock):
        audit.record("login_blocked", client=client, target=held.key, seconds_left=held.seconds_left, **who, **why)
        return Check(None, _lock_message(held))
    reservation: Reservation = held
    store = AccountStore()
    account = store.authenticate(name, password)
    if account is not None:
        reservation.succeeded()
        return Check(account, "")
    reason = _failure_reason(store, name)
    if purpose != "login":
        reason = f"修改密码时当前密码错误（{reason}）" if reason != "密码错误" else "修改密码时当前密码错误"
    audit.record("login_failed", client=client, reason=reason, **who)
    for new in reservation.engaged:
        audit.record("lockout", client=client, target=new.key, seconds=new.duration, locks=new.locks, **who, **why)
    if reservation.engaged:
        return Check(None, _lock_message(reservation.engaged[0]))
    return Check(None, WRONG if purpose == "login" else "当前密码不正确。")


def attempt(username: str, password: str, client: str | None, user_agent: str | None = None) -> LoginResult:
    name = normalise_username(username)
    if not name or not password:
        return LoginResult(None, None, "请输入用户名和密码。")
    result = check(name, password, client)
    if result.account is None:
        return LoginResult(None, None, result.message)
    notice = _since_last_login(name)
    sid = sessions.SessionStore().create(name, client, user_agent)
    audit.record("login_success", result.account.scope(), client=client)
    return LoginResult(result.account, sid, "", notice)
