"""Who may have a download: the session is checked again when the file is built and when it is fetched.

Streamlit builds a deferred download (st.download_button with a callable) when the button is
clicked, outside the script run that rendered it, in a worker thread that knows nothing of our
session; and it serves the result under /media/<id>.<ext> to anyone who has the URL. So:
- `check_download` runs first inside every deferred build (dashboards/ui.download_export): the
  Qinglian session that rendered the button must still live (not logged out, idle, expired, used
  from another address, its account disabled), and the request must come from the browser session
  the button was rendered for — another websocket that learnt the button's id gets nothing. A
  refusal is audited (export_refused) and shown under the button in Chinese.
- `guard_deferred_downloads` (installed by dashboards/asgi.py) wraps Streamlit's deferred-file
  handler to hand it the requesting browser session (a context variable, which asyncio.to_thread
  carries into the building thread) and to answer failures in Chinese.
- `MediaGuard` (ASGI middleware, dashboards/asgi.py) serves /media/ only to a request carrying the
  cookie of a live session.
"""

from __future__ import annotations

import asyncio
import logging
from contextvars import ContextVar
from dataclasses import dataclass, field

import streamlit as st
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Receive, Scope, Send

from dashboards.auth import DEV_ROLE, SID, normalise_client
from qinglian.security import audit, config, sessions
from qinglian.security.accounts import AccountStore
from qinglian.security.scope import Scope as Viewer

LOG = logging.getLogger("qinglian.dashboards")
NOT_YOURS = "此下载按钮不属于当前页面，未生成文件。请刷新页面后重试。"
ENDED = "登录已失效或已退出，未生成文件。请刷新页面重新登录后再下载。"
FAILED = "未能生成下载文件，请刷新页面后重试。"
MEDIA_REFUSED = "未登录或登录已失效，不能下载此文件。请登录后在页面上重新下载。"


class DownloadRefused(RuntimeError):
    """A deferred download whose session has ended, or that another browser session asked for."""


@dataclass
class DownloadRequest:
    """Who asked for a deferred file (Streamlit's id of the browser session the request came in on),
    and a place for the refusal the handler then shows."""

    session_id: str
    refusal: list[str] = field(default_factory=list)


DOWNLOAD_REQUEST: ContextVar[DownloadRequest | None] = ContextVar("qinglian_download_request", default=None)


def render_context() -> tuple[str | None, str | None]:
    """(our session id, Streamlit's browser-session id) of the run that renders a download button."""
    try:
        from streamlit.runtime.scriptrunner import get_script_run_ctx

        ctx = get_script_run_ctx()
        browser_session = ctx.session_id if ctx is not None else None
    except Exception:  # outside a script run
        browser_session = None
    return st.session_state.get(SID), browser_session


def check_download(viewer: Viewer, sid: str | None, browser_session: str | None, client: str | None,
                   what: str) -> None:
    """Right before a deferred download's file is built; raises DownloadRefused (audited) if it must not be."""
    if viewer.role == DEV_ROLE:
        return
    request = DOWNLOAD_REQUEST.get()
    why, message = "", ""
    if request is not None and browser_session is not None and request.session_id != browser_session:
        why, message = "other_browser_session", NOT_YOURS
    else:
        session, ended = sessions.SessionStore().validate(sid, client) if sid else (None, "unknown")
        account = AccountStore().get(session.username) if session is not None else None
        if session is None or account is None or not account.usable:
            why, message = (ended if session is None else "account_unusable"), ENDED
    if not why:
        return
    audit.record("export_refused", viewer, client=client, target=what, reason=why)
    if request is not None:
        request.refusal.append(message)
    raise DownloadRefused(message)


def guard_deferred_downloads() -> None:
    """Wrap Streamlit's deferred-file handler (idempotent): the requester goes to check_download, a
    failure is answered in Chinese instead of Streamlit's English one."""
    from streamlit.runtime.backend_operation_handler import DeferredFileHandler

    original = DeferredFileHandler.handle
    if getattr(original, "_qinglian", False):
        return

    async def handle(self, request, session_id):  # noqa: ANN001, ANN202 - Streamlit's signature
        asked = DownloadRequest(session_id)
        token = DOWNLOAD_REQUEST.set(asked)
        try:
            response = await original(self, request, session_id)
        finally:
            DOWNLOAD_REQUEST.reset(token)
        if response.error_msg:
            response.error_msg = asked.refusal[0] if asked.refusal else FAILED
        return response

    handle._qinglian = True  # type: ignore[attr-defined]
    DeferredFileHandler.handle = handle


def _media_prefix() -> str:
    base = str(st.get_option("server.baseUrlPath") or "").strip("/")
    return f"/{base}/media/" if base else "/media/"


def _media_refusal(cookie: str | None, client: str, path: str) -> str | None:
    """Why a /media/ request gets nothing (None: it may have the file)."""
    sid = sessions.sid_from_cookie(cookie)
    if sid is None:
        why = "no_session_cookie"
    else:
        session, why = sessions.SessionStore().validate(sid, client)
        if session is not None:
            return None
    audit.record("export_refused", username=sessions.SessionStore().owner(sid), client=client,
                 target=path.rsplit("/", 1)[-1][:80], reason=why, via="media")
    return why


class MediaGuard:
    """Streamlit serves a built download under /media/<id>.<ext> to anyone who has the URL; here the
    request must also carry the cookie of a live session (same address, not ended, not idle)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["path"].startswith(_media_prefix()):
            request = Request(scope)
            try:
                why = await asyncio.to_thread(_media_refusal, request.cookies.get(sessions.COOKIE_NAME),
                                              normalise_client(request.client.host if request.client else None), scope["path"])
            except (audit.AuditError, config.SecurityConfigError, OSError) as exc:
                LOG.error("下载文件的登录核验失败：%s", exc)
                why = "unavailable"
            if why is not None:
                await Response(MEDIA_REFUSED, status_code=403, media_type="text/plain; charset=utf-8",
                               headers={"Cache-Control": "no-store"})(scope, receive, send)
                return
        await self.app(scope, receive, send)
