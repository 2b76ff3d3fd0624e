"""Login, sessions and the viewer's scope in the Streamlit app (the rules live in qinglian.security).

Who is looking comes only from the server-side session store: the browser holds an opaque,
HttpOnly session cookie the app issued (qinglian.security.sessions); any other cookie — an old
streamlit-authenticator JWT, one signed with a key from the repository, alg=none, an expired or
logged-out session — is ignored, audited, and the Chinese login form is shown. data.py asks
`current_scope()` on every read: it returns a scope only for roles that read the dashboards' data
(leadership, analyst, county), so a submitter or admin session cannot read marts through it.

The session is re-checked: on every run (at most every RECHECK_SECONDS from the cache), by a
quiet check every WATCH_SECONDS while a page stands open (so an idle timeout or a logout in another
tab clears the screen without a click), and when a deferred download builds its file
(dashboards/downloads.py).

QINGLIAN_AUTH=off (demo mode only) skips the login for local development.
"""

from __future__ import annotations

import json
import time

import streamlit as st

from qinglian.security import audit, config, sessions
from qinglian.security.accounts import AccountStore
from qinglian.security.login import attempt
from qinglian.security.scope import DEV_ROLE, ROLE_LABELS, Scope

SID = "_qinglian_sid"
VIEWER = "_qinglian_viewer"         # (scope, checked at): the session is re-checked every RECHECK_SECONDS
COOKIE_CHECKED = "_qinglian_cookie_checked"
TICKET = "_qinglian_ticket"         # set after a login until the browser has exchanged it for the cookie
CLEAR_COOKIE = "_qinglian_clear_cookie"
NOTICE = "_qinglian_notice"         # shown once on the login form (timeout, rejected cookie)
WELCOME = "_qinglian_welcome"       # shown once after a login (failed attempts since the last one)
RECHECK_SECONDS = 5.0
WATCH_SECONDS = 10
COOKIE_WAIT_SECONDS = 10.0
SESSION_ROUTE = "/_qinglian/session"
LOGOUT_ROUTE = "/_qinglian/logout"
# Set by dashboards/asgi.py in the server it runs: the cookie routes exist, so a login waits until the
# browser holds its cookie (AppTest and a bare `streamlit run app.py` have no such routes).
COOKIE_ROUTES = False
ROLE_LABELS = ROLE_LABELS  # re-exported for pages
DEV_SCOPE = Scope("dev", "本地开发（未启用登录）", DEV_ROLE)


def auth_enabled() -> bool:
    return not config.auth_disabled()


def client_address() -> str:
    """The browser's address as the server saw it (loopback is named, Streamlit returns None for it)."""
    try:
        ip = st.context.ip_address
    except Exception:  # outside a browser session
        ip = None
    return normalise_client(ip if isinstance(ip, str) and ip else "127.0.0.1")  # AppTest gives a mock


def normalise_client(ip: str | None) -> str:
    ip = (ip or "").strip()
    return ip[7:] if ip.startswith("::ffff:") else ip or "未知地址"


def _user_agent() -> str | None:
    try:
        value = st.context.headers.get("User-Agent")
    except Exception:
        return None
    return value if isinstance(value, str) else None


def _cookie() -> str | None:
    try:
        value = st.context.cookies.get(sessions.COOKIE_NAME)
    except Exception:
        return None
    return value if isinstance(value, str) else None


def _end(reason_event: str | None, notice: str | None, **detail: object) -> None:
    sid = st.session_state.pop(SID, None)
    st.session_state.pop(VIEWER, None)
    st.session_state.pop(TICKET, None)
    store = sessions.SessionStore()
    owner = store.owner(sid)  # a timed-out session still names its account: the owner sees it
    if sid:
        store.revoke(sid, str(detail.get("reason", "ended")))
    if reason_event:
        audit.record(reason_event, username=owner, client=client_address(), **detail)  # type: ignore[arg-type]
    if notice:
        st.session_state[NOTICE] = notice
    st.session_state[CLEAR_COOKIE] = True


ENDED_NOTICES = {
    "idle": "长时间未操作，登录已超时，请重新登录。",
    "expired": "登录已超过最长有效期，请重新登录。",
    "address": "本次登录在另一个网络地址上被使用（或您的网络地址发生了变化），为安全起见已退出。请重新登录；如非本人操作，请告知系统管理员。",
}


def current_viewer() -> Scope | None:
    """The signed-in account's scope (any role), or None: show the login form."""
    if not auth_enabled():
        return DEV_SCOPE
    cached = st.session_state.get(VIEWER)
    if cached and time.monotonic() - cached[1] < RECHECK_SECONDS and st.session_state.get(SID):
        return cached[0]
    sid = st.session_state.get(SID)
    if sid is None and not st.session_state.get(COOKIE_CHECKED):
        # A new browser session (reload, new tab): the cookie it brought, read once.
        st.session_state[COOKIE_CHECKED] = True
        raw = _cookie()
        if raw:
            sid = sessions.sid_from_cookie(raw)
            if sid is None:
                _end("session_rejected", "登录凭据无效，请重新登录。", reason="cookie_not_issued_by_app",
                     cookie_prefix=raw[:16])
                return None
    if sid is None:
        return None
    store = sessions.SessionStore()
    session, why = store.validate(sid, client_address())
    if session is None:
        notice = ENDED_NOTICES.get(why, "登录凭据无效或已退出，请重新登录。")
        event = "session_expired" if why in ("idle", "expired") else "session_rejected"
        st.session_state[SID] = sid
        extra = {"issued_to": store.issued_to(sid)} if why == "address" else {}
        _end(event, notice, reason=why, **extra)
        return None
    account = AccountStore().get(session.username)
    if account is None or not account.usable:
        st.session_state[SID] = sid
        _end("session_rejected", "该账号已停用，请联系系统管理员。", reason="account_unusable")
        return None
    scope = account.scope()
    st.session_state[SID] = sid
    st.session_state[VIEWER] = (scope, time.monotonic())
    return scope


def current_scope() -> Scope | None:
    """The viewer as far as data access goes: None unless the role reads the dashboards' data."""
    viewer = current_viewer()
    return viewer if viewer is not None and viewer.reads_data else None


# --- the cookie: exchanged by the browser itself (HttpOnly, see dashboards/asgi.py) ---------------


def _post_script(route: str, body: str) -> str:
    return ("<script>fetch(window.location.origin + " + json.dumps(route) + ", {method: 'POST', "
            "credentials: 'same-origin', headers: {'Content-Type': 'application/x-www-form-urlencoded'}, "
            "body: " + json.dumps(body) + "}).catch(() => {});</script>")


def sync_cookie() -> None:
    """After a login, let the browser exchange its one-time ticket for the session cookie; after a
    logout or a rejected cookie, let it drop the cookie. Invisible; repeated until it has happened."""
    ticket = st.session_state.get(TICKET)
    if ticket and sessions.ticket_pending(ticket):
        st.html(_post_script(SESSION_ROUTE, f"t={ticket}"), unsafe_allow_javascript=True, width=1)
    elif ticket:
        st.session_state.pop(TICKET, None)
    if st.session_state.pop(CLEAR_COOKIE, False):
        st.html(_post_script(LOGOUT_ROUTE, "x=1"), unsafe_allow_javascript=True, width=1)


# --- the forms --------------------------------------------------------------------------------------


def login_form() -> Scope | None:
    """The Chinese login form; returns the scope once someone has signed in."""
    if not auth_enabled():
        return DEV_SCOPE
    notice = st.session_state.pop(NOTICE, None)
    if notice:
        st.warning(notice)
    if config.is_demo():
        st.info("演示环境：数据为系统生成的模拟数据，账号为演示账号（见 README「驾驶舱与账号」），请勿用于正式工作。")
    with st.form("qinglian_login", clear_on_submit=True, enter_to_submit=True):
        st.markdown("##### 登录清廉建设驾驶舱")
        username = st.text_input("用户名", key="login_username", autocomplete="username")
        password = st.text_input("密码", type="password", key="login_password", autocomplete="current-password")
        submitted = st.form_submit_button("登录", type="primary")
    sync_cookie()
    if not submitted:
        st.caption("请输入用户名和密码登录。连续多次输错将暂时锁定账号。")
        return None
    client = client_address()
    result = attempt(username, password, client, _user_agent())
    if result.account is None or result.sid is None:
        st.error(result.message)
        return None
    st.session_state[SID] = result.sid
    st.session_state[COOKIE_CHECKED] = True
    ticket = sessions.issue_ticket(result.sid, client)
    st.session_state[TICKET] = ticket
    st.session_state.pop(CLEAR_COOKIE, None)
    notices = [result.notice] if result.notice else []
    if COOKIE_ROUTES and not _wait_for_cookie(ticket):
        notices.append("浏览器未能保存登录状态（可能禁用了 Cookie 或脚本）：本页可以继续使用，但刷新或新开标签页需要重新登录。")
    if notices:
        st.session_state[WELCOME] = " ".join(notices)
    scope = result.account.scope()
    st.session_state[VIEWER] = (scope, time.monotonic())
    return scope


def _wait_for_cookie(ticket: str) -> bool:
    """Hand the browser its ticket and wait (at most COOKIE_WAIT_SECONDS) until it has exchanged it for
    the cookie, so no page is shown — and no reload or new tab can happen — before the login is
    in the browser. The script run streams the exchange to the browser while it waits."""
    with st.spinner("正在登录…"):
        st.html(_post_script(SESSION_ROUTE, f"t={ticket}"), unsafe_allow_javascript=True, width=1)
        deadline = time.monotonic() + COOKIE_WAIT_SECONDS
        while sessions.ticket_pending(ticket):
            if time.monotonic() > deadline:
                return False
            time.sleep(0.05)
    return True


def watch_session() -> None:
    """While a page stands open, check the session every WATCH_SECONDS without counting it as activity;
    once it has ended (idle, logged out elsewhere, disabled), rerun the app, which shows the login form."""
    if not auth_enabled() or not st.session_state.get(SID):
        return

    @st.fragment(run_every=WATCH_SECONDS)
    def _watch() -> None:
        sid = st.session_state.get(SID)
        if sid and sessions.SessionStore().validate(sid, client_address(), touch=False)[0] is None:
            st.session_state.pop(VIEWER, None)  # the app rerun validates for real and says why
            st.rerun(scope="app")

    _watch()


def logout() -> None:
    """End the session on the server first (the cookie is then worthless), then in the browser."""
    viewer = current_viewer()
    sid = st.session_state.pop(SID, None)
    if sid:
        sessions.SessionStore().revoke(sid, "logout")
    if viewer is not None and viewer.role != DEV_ROLE:
        audit.record("logout", viewer, client=client_address())
    for key in (VIEWER, TICKET, WELCOME):
        st.session_state.pop(key, None)
    st.session_state[COOKIE_CHECKED] = True
    st.session_state[CLEAR_COOKIE] = True


def logout_button() -> None:
    if auth_enabled() and st.session_state.get(SID):
        st.button("退出登录", key="qinglian_logout", on_click=logout, icon=":material/logout:")


def welcome_notice() -> None:
    notice = st.session_state.pop(WELCOME, None)
    if notice:
        st.warning(notice)
