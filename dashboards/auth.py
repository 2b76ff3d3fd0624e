"""Login (streamlit-authenticator 0.4.2) and the viewer's data scope.

The scope — all data, or one county — is derived only from the signed-in username and
dashboards/users.yaml, never from anything the browser sends, and data.py asks for it on every
read. QINGLIAN_AUTH=off disables the login for local development (everything visible).
"""

from __future__ import annotations

import copy
import os
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import streamlit as st
import yaml

USERS_FILE = Path(__file__).with_name("users.yaml")
ALL_ROLES = ("leadership", "analyst")
COUNTY_ROLE = "county"
ROLE_LABELS = {"leadership": "领导", "analyst": "分析人员", "county": "县区用户", "dev": "本地开发"}
LOGIN_FIELDS = {"Form name": "登录清廉建设驾驶舱", "Username": "用户名", "Password": "密码", "Login": "登录",
                "Captcha": "验证码"}


@dataclass(frozen=True)
class Scope:
    username: str
    display_name: str
    role: str
    county_code: str | None  # None: sees everything

    @property
    def role_label(self) -> str:
        return ROLE_LABELS.get(self.role, self.role)


def auth_enabled() -> bool:
    return os.environ.get("QINGLIAN_AUTH", "on").strip().lower() not in ("off", "0", "false", "no")


def users_file() -> Path:
    env = os.environ.get("QINGLIAN_USERS")
    return Path(env).expanduser() if env else USERS_FILE


@lru_cache(maxsize=4)
def _load(path: str, mtime_ns: int) -> dict[str, Any]:
    with open(path, encoding="utf-8") as fh:
        return yaml.safe_load(fh) or {}


def load_users() -> dict[str, Any]:
    path = users_file()
    return _load(str(path), path.stat().st_mtime_ns)


def scope_for(username: str | None) -> Scope | None:
    """The scope users.yaml grants; None for an unknown user, an unknown role or a county role without a region.

    Failing closed matters: a misconfigured county account must see nothing, not everything.
    """
    if not username:
        return None
    user = (load_users().get("credentials", {}).get("usernames", {}) or {}).get(str(username).lower())
    if not user:
        return None
    roles = user.get("roles") or []
    name = str(user.get("name") or username)
    if any(r in ALL_ROLES for r in roles):
        role = next(r for r in roles if r in ALL_ROLES)
        return Scope(str(username), name, role, None)
    if COUNTY_ROLE in roles:
        region = str(user.get("region") or "").strip()
        if len(region) == 12 and region.isdigit():
            return Scope(str(username), name, COUNTY_ROLE, region)
    return None


def current_scope() -> Scope | None:
    """Who is looking, as far as data access is concerned."""
    if not auth_enabled():
        return Scope("dev", "本地开发（未启用登录）", "dev", None)
    if st.session_state.get("authentication_status") is True:
        return scope_for(st.session_state.get("username"))
    return None


def _authenticator() -> Any:
    import streamlit_authenticator as stauth

    config = load_users()
    cookie = config.get("cookie", {})
    # A copy: the library writes login bookkeeping into the dict it is given; users.yaml stays untouched
    # (passing the path instead would make it rewrite the file on every login).
    credentials = copy.deepcopy(config.get("credentials", {"usernames": {}}))
    return stauth.Authenticate(
        credentials,
        cookie_name=cookie.get("name", "qinglian_auth"),
        cookie_key=os.environ.get("QINGLIAN_COOKIE_KEY") or cookie.get("key", "qinglian"),
        cookie_expiry_days=float(cookie.get("expiry_days", 0)),
        auto_hash=False,
        # 0.4.2 reads the cookie from st.context; its default 0.7 s pre-login pause only slows each rerun.
        login_sleep_time=0.05,
    )


def login_gate() -> Scope | None:
    """Render the login form until someone signs in; then return their scope (and a logout button)."""
    if not auth_enabled():
        return current_scope()
    authenticator = _authenticator()
    st.session_state["_qinglian_authenticator"] = authenticator
    try:
        authenticator.login(location="main", fields=LOGIN_FIELDS, key="qinglian_login")
    except Exception as exc:  # the library raises LoginError for e.g. a cookie of a removed user
        st.error(f"登录失败：{exc}")
        return None
    status = st.session_state.get("authentication_status")
    if status is False:
        st.error("用户名或密码错误")
        return None
    if status is None:
        st.caption("请输入用户名和密码登录。")
        return None
    scope = current_scope()
    if scope is None:
        st.error("该账号未被授权查看驾驶舱数据（角色或所属区划配置不完整），请联系管理员。")
    return scope


def logout_button() -> None:
    authenticator = st.session_state.get("_qinglian_authenticator")
    if auth_enabled() and authenticator is not None and st.session_state.get("authentication_status"):
        authenticator.logout("退出登录", location="sidebar", key="qinglian_logout")
