"""The served app: dashboards/app.py behind Streamlit's ASGI server (st.App), plus what a browser-facing
deployment needs around it. `qinglian dashboard` runs this file.

- The mode (demo or production) is pinned when this server starts (config.freeze): nothing the server
  does later, and no file anyone writes, changes it.
- Session cookie routes. Streamlit's pages talk over a websocket, where no Set-Cookie can be sent, so
  the cookie is set here, in an ordinary HTTP response, as HttpOnly + SameSite=Strict (Secure behind
  https). Both refuse cross-site requests (Origin must match Host):
  - POST /_qinglian/session  t=<one-time ticket the app issued at login>  -> Set-Cookie, 204
  - POST /_qinglian/logout                                              -> cookie removed, 204
- Downloads (dashboards/downloads.py). Files Streamlit serves under /media/ (the exports) go only to
  a request carrying the cookie of a live session (MediaGuard), and a deferred download is built only
  for the browser session its button was rendered for, while the viewer's session lives (a refusal
  is audited and shown under the button in Chinese).
- Errors. An unexpected error in a page is one Chinese line on the page; the traceback goes to the
  server's log (logs/dashboard.log beside the warehouse, or $QINGLIAN_LOG_DIR), where every audit
  append also writes its head record.
"""

from __future__ import annotations

import logging
import logging.handlers
import os
import sys
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

_ROOT = Path(__file__).resolve().parents[1]
if str(_ROOT) not in sys.path:
    sys.path.insert(0, str(_ROOT))

import streamlit as st  # noqa: E402
from starlette.middleware import Middleware  # noqa: E402
from starlette.requests import Request  # noqa: E402
from starlette.responses import Response  # noqa: E402
from starlette.routing import Route  # noqa: E402

from dashboards import auth, downloads  # noqa: E402
from dashboards.auth import LOGOUT_ROUTE, SESSION_ROUTE, normalise_client  # noqa: E402
from qinglian.security import config, sessions  # noqa: E402

LOG = logging.getLogger("qinglian.dashboards")
LOG_FILE = "dashboard.log"
PAGE_ERROR = "页面出现意外错误，已记录在服务器日志中。请刷新页面重试；如果反复出现，请联系系统管理员。"


def _log_to_file() -> Path | None:
    """The qinglian.* loggers (page errors, audit heads) into the dashboards' log file."""
    from qinglian.settings import log_dir

    directory = log_dir()
    try:
        directory.mkdir(parents=True, exist_ok=True)
        handler = logging.handlers.RotatingFileHandler(directory / LOG_FILE, maxBytes=5 * 1024 * 1024,
                                                       backupCount=3, encoding="utf-8")
    except OSError as exc:
        print(f"警告：无法写入驾驶舱日志 {directory / LOG_FILE}（{config.reason(exc)}），日志只输出到终端。", file=sys.stderr)
        return None
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s [pid %(process)d] %(message)s"))
    logger = logging.getLogger("qinglian")
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    return directory / LOG_FILE


# --- cookie routes -----------------------------------------------------------------------------------


def _client(request: Request) -> str:
    return normalise_client(request.client.host if request.client else None)


def _same_origin(request: Request) -> bool:
    origin = request.headers.get("origin")
    if not origin:
        return False
    return urlsplit(origin).netloc == request.headers.get("host", "")


def _secure(request: Request) -> bool:
    forwarded = request.headers.get("x-forwarded-proto", "")
    return (request.url.scheme == "https" or forwarded.lower() == "https"
            or os.environ.get("QINGLIAN_COOKIE_SECURE", "").lower() in ("1", "true", "yes"))


async def set_session_cookie(request: Request) -> Response:
    if not _same_origin(request):
        return Response(status_code=403)
    form = parse_qs((await request.body()).decode("utf-8", "replace"))
    sid = sessions.redeem_ticket((form.get("t") or [""])[0], _client(request))
    if sid is None:
        return Response(status_code=403)
    response = Response(status_code=204, headers={"Cache-Control": "no-store"})
    # No Max-Age: the cookie ends with the browser; the server ends the session anyway (idle, max age).
    response.set_cookie(sessions.COOKIE_NAME, sessions.cookie_value(sid), httponly=True, samesite="strict",
                        secure=_secure(request), path="/")
    return response


async def clear_session_cookie(request: Request) -> Response:
    if not _same_origin(request):
        return Response(status_code=403)
    response = Response(status_code=204, headers={"Cache-Control": "no-store"})
    response.delete_cookie(sessions.COOKIE_NAME, path="/", httponly=True, samesite="strict", secure=_secure(request))
    return response


def on_script_error(exc: Exception) -> bool:
    """Any unexpected error of a page: logged with its traceback, shown as one Chinese line."""
    LOG.error("页面出错：%r", exc, exc_info=exc)
    try:
        st.error(PAGE_ERROR)
    except Exception:  # noqa: BLE001 - nothing more can be shown
        return False
    return True


config.freeze()
_log_to_file()
downloads.guard_deferred_downloads()
auth.COOKIE_ROUTES = True

app = st.App(str(Path(__file__).with_name("app.py")), routes=[
    Route(SESSION_ROUTE, set_session_cookie, methods=["POST"]),
    Route(LOGOUT_ROUTE, clear_session_cookie, methods=["POST"]),
], middleware=[Middleware(downloads.MediaGuard)], on_script_error=on_script_error)
