"""One login attempt: lockout first, then the password, then a session — each step audited.

Shared by the dashboards' login form and the upload portal, so every door applies the same rules.
The user reads only "用户名或密码错误" (or the lock); the audit entry says why for the admin.
"""

from __future__ import annotations

from dataclasses import dataclass

from qinglian.security import audit, sessions
from qinglian.security.accounts import Account, AccountStore, normalise_username
from qinglian.security.lockout import Lock, Lockout, account_key, client_key, wait_text

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


def attempt(username: str, password: str, client: str | None, user_agent: str | None = None) -> LoginResult:
    name = normalise_username(username)
    if not name or not password:
        return LoginResult(None, None, "请输入用户名和密码。")
    locks = Lockout()
    lock = locks.locked(account_key(name), client_key(client))
    if lock is not None:
        audit.record("login_blocked", username=name, client=client, target=lock.key, seconds_left=lock.seconds_left)
        return LoginResult(None, None, _lock_message(lock))
    store = AccountStore()
    account = store.authenticate(name, password)
    if account is None:
        new_locks = locks.fail_login(name, client)
        audit.record("login_failed", username=name, client=client, reason=_failure_reason(store, name))
        for new in new_locks:
            audit.record("lockout", username=name, client=client, target=new.key,
                         seconds=new.seconds_left, locks=new.locks)
        return LoginResult(None, None, _lock_message(new_locks[0]) if new_locks else WRONG)
    notice = _since_last_login(name)
    locks.succeed(name)
    sid = sessions.SessionStore().create(name, client, user_agent)
    audit.record("login_success", account.scope(), client=client)
    return LoginResult(account, sid, "", notice)
