"""Shared pieces of the account and audit pages (admin and 我的账号)."""

from __future__ import annotations

import json
from datetime import datetime

import pandas as pd
import streamlit as st

from dashboards import auth, data
from qinglian.security import accounts
from qinglian.security.audit import Entry
from qinglian.security.scope import ROLE_LABELS, Scope


def require_viewer(admin: bool = False) -> Scope:
    viewer = auth.current_viewer()
    if viewer is None:
        st.warning("请先登录后查看。")
        st.stop()
    if admin and not viewer.is_admin:
        st.error("只有系统管理员可以打开此页面。")
        st.stop()
    return viewer


def entries_frame(entries: list[Entry]) -> pd.DataFrame:
    return pd.DataFrame({
        "序号": [e.seq for e in entries],
        "时间": [e.ts.replace(tzinfo=None) for e in entries],
        "事件": [e.event_label for e in entries],
        "用户": [e.username or "" for e in entries],
        "角色": [ROLE_LABELS.get(e.role or "", e.role or "") for e in entries],
        "范围": [e.scope or "" for e in entries],
        "地址": [e.client or "" for e in entries],
        "对象": [e.target or "" for e in entries],
        "行数": pd.array([e.rows for e in entries], dtype="Int64"),
        "详情": [json.dumps(e.detail, ensure_ascii=False) if e.detail else "" for e in entries],
    })


def accounts_frame(items: list[accounts.Account], locked: set[str]) -> pd.DataFrame:
    def status(a: accounts.Account) -> str:
        if not a.active:
            return "已停用"
        if not a.usable:
            return "演示账号（正式模式不可用）"
        return "锁定中" if a.username in locked else "正常"

    return pd.DataFrame({
        "用户名": [a.username for a in items],
        "姓名/单位": [a.display_name for a in items],
        "角色": [ROLE_LABELS.get(a.role, a.role) for a in items],
        "范围": [a.scope().scope_text for a in items],
        "状态": [status(a) for a in items],
        "密码修改于": [_local(a.password_changed_at) for a in items],
        "创建于": [_local(a.created_at) for a in items],
    })


def _local(iso: str) -> str:
    from qinglian.security.audit import OFFICE_TZ

    return f"{datetime.fromisoformat(iso).astimezone(OFFICE_TZ):%Y-%m-%d %H:%M}"


@st.cache_data(show_spinner=False, ttl=60)
def _units(path: str, version: object) -> dict[str, accounts.Unit]:
    return accounts.warehouse_units(data.serving_path())


def warehouse_units() -> dict[str, accounts.Unit] | None:
    """County-level regions and departments of the serving copy; None (with a message) if unavailable."""
    path = data.serving_path()
    try:
        return _units(str(path), data.file_version(path))
    except accounts.AccountError as exc:
        st.warning(str(exc))
        return None
