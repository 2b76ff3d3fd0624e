"""The served app: dashboards/app.py behind Streamlit's ASGI server (st.App), plus two small routes.

Streamlit's pages talk over a websocket, where no Set-Cookie can be sent. So the session cookie is
set here, in an ordinary HTTP response, as HttpOnly + SameSite=Strict (Secure behind https):
- POST /_qinglian/session  t=<one-time ticket the app issued at login>  -> Set-Cookie, 204
- POST /_qinglian/logout                                              -> cookie removed, 204
Both refuse cross-site requests (Origin must match Host). `qinglian dashboard` runs this file.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

_ROOT = Path(__file__).resolve().parents[1]
if str(_ROOT) not in sys.path:
    sys.path.insert(0, str(_ROOT))

import streamlit as st  # noqa: E402
from starlette.requests import Request  # noqa: E402
from starlette.responses import Response  # noqa: E402
from starlette.routing import Route  # noqa: E402

from dashboards.auth import LOGOUT_ROUTE, SESSION_ROUTE, normalise_client  # noqa: E402
from qinglian.security import sessions  # noqa: E402


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
    client = normalise_client(request.client.host if request.client else None)
    sid = sessions.redeem_ticket((form.get("t") or [""])[0], client)
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


app = st.App(str(Path(__file__).with_name("app.py")), routes=[
    Route(SESSION_ROUTE, set_session_cookie, methods=["POST"]),
    Route(LOGOUT_ROUTE, clear_session_cookie, methods=["POST"]),
])
