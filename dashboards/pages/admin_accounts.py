"""账号管理 (admin only): accounts, their roles and units, passwords, and login locks.

The same operations as `qinglian user …`, through the same module (qinglian.security.accounts), so
the password policy and the unit check against the warehouse are the same; every change is audited
with the admin as the actor.
"""

from __future__ import annotations

import pandas as pd
import streamlit as st

from dashboards import auth, security_ui, ui
from qinglian.security import accounts, audit, lockout
from qinglian.security.scope import ROLES, UNIT_ROLES


def _unit_options(role: str, units: dict[str, accounts.Unit] | None) -> list[str]:
    if units is None or role not in UNIT_ROLES:
        return []
    kinds = ("county",) if role == "county" else ("county", "department")
    return [u.code for u in units.values() if u.kind in kinds]


def _unit_label(units: dict[str, accounts.Unit] | None):  # noqa: ANN202
    def label(code: str) -> str:
        unit = (units or {}).get(code)
        return f"{unit.name}（{code}，{'县区' if unit.kind == 'county' else '部门'}）" if unit else code

    return label


def _done(message: str) -> None:
    """Show the change after a rerun, so the table and the lists above already include it."""
    st.session_state["acc_done"] = message
    st.rerun()


def render() -> None:
    admin = security_ui.require_viewer(admin=True)
    st.title("账号管理")
    st.caption("新增、停用账号，重置密码，修改角色与单位，解除登录锁定。所有操作记入审计日志。"
               "命令行同样可用：qinglian user add|passwd|disable|list。")
    done = st.session_state.pop("acc_done", None)
    if done:
        st.success(done)
    store = accounts.AccountStore()
    locks = lockout.Lockout()
    current = locks.current()
    locked_accounts = {lk.key.split(":", 1)[1] for lk in current if lk.is_account}
    items = store.list()
    ui.frame(security_ui.accounts_frame(items, locked_accounts))
    client = auth.client_address()
    units = security_ui.warehouse_units()
    label = _unit_label(units)
    names = [a.username for a in items]

    tab_add, tab_pw, tab_role, tab_state, tab_lock = st.tabs(["新增账号", "重置密码", "修改角色/单位", "停用/启用", "登录锁定"])
    with tab_add:
        role = st.selectbox("角色", list(ROLES), format_func=lambda r: ROLES[r], key="acc_add_role")
        with st.form("acc_add", clear_on_submit=True):
            username = st.text_input("用户名（小写字母开头）", key="acc_add_user")
            display = st.text_input("姓名/单位名称", key="acc_add_name")
            options = _unit_options(role, units)
            unit = st.selectbox("绑定单位", options, format_func=label, key="acc_add_unit") if role in UNIT_ROLES else None
            pw1 = st.text_input("初始密码", type="password", key="acc_add_pw1")
            pw2 = st.text_input("再次输入密码", type="password", key="acc_add_pw2")
            ok = st.form_submit_button("新增", type="primary")
        if ok:
            if pw1 != pw2:
                st.error("两次输入的密码不一致。")
            else:
                try:
                    store.add(username, display, role, pw1, unit, actor=admin, client=client, units=units)
                    _done(f"已新增账号 {accounts.normalise_username(username)}。")
                except accounts.AccountError as exc:
                    st.error(str(exc))
    with tab_pw:
        with st.form("acc_pw", clear_on_submit=True):
            who = st.selectbox("账号", names, key="acc_pw_user")
            pw1 = st.text_input("新密码", type="password", key="acc_pw_pw1")
            pw2 = st.text_input("再次输入新密码", type="password", key="acc_pw_pw2")
            ok = st.form_submit_button("重置密码")
        if ok and who:
            if pw1 != pw2:
                st.error("两次输入的密码不一致。")
            else:
                try:
                    store.set_password(who, pw1, actor=admin, client=client)
                    _done(f"已重置 {who} 的密码，该账号的现有登录已全部退出。")
                except accounts.AccountError as exc:
                    st.error(str(exc))
    with tab_role:
        who = st.selectbox("账号", names, key="acc_role_user")
        role = st.selectbox("新角色", list(ROLES), format_func=lambda r: ROLES[r], key="acc_role_role")
        with st.form("acc_role"):
            options = _unit_options(role, units)
            unit = st.selectbox("绑定单位", options, format_func=label, key="acc_role_unit") if role in UNIT_ROLES else None
            display = st.text_input("姓名/单位名称（留空不改）", key="acc_role_name")
            ok = st.form_submit_button("保存")
        if ok and who:
            if who == admin.username and role != "admin":
                st.error("不能修改自己的管理员角色（请由另一名管理员操作）。")
            else:
                try:
                    store.change(who, actor=admin, role=role, unit_code=unit or "", display_name=display or None,
                                 client=client, units=units)
                    _done(f"已修改 {who}，该账号的现有登录已全部退出。")
                except accounts.AccountError as exc:
                    st.error(str(exc))
    with tab_state:
        who = st.selectbox("账号", names, key="acc_state_user")
        c1, c2 = st.columns(2)
        if c1.button("停用", key="acc_disable") and who:
            if who == admin.username:
                st.error("不能停用自己的账号。")
            else:
                store.set_active(who, False, actor=admin, client=client)
                _done(f"已停用 {who}，其登录已全部退出。")
        if c2.button("启用", key="acc_enable") and who:
            store.set_active(who, True, actor=admin, client=client)
            _done(f"已启用 {who}。")
    with tab_lock:
        if not current:
            st.info("当前没有被锁定的账号或地址。")
        else:
            rows = [{"对象": lk.key.replace("account:", "账号 ").replace("client:", "地址 "), "剩余": lockout.wait_text(lk.seconds_left),
                     "第几次锁定": lk.locks} for lk in current]
            ui.frame(pd.DataFrame(rows))
            key = st.selectbox("解除锁定", [lk.key for lk in current], key="acc_unlock_key",
                               format_func=lambda k: k.replace("account:", "账号 ").replace("client:", "地址 "))
            if st.button("解除", key="acc_unlock") and locks.clear(key):
                audit.record("unlock", admin, client=client, target=key)
                _done("已解除锁定。")


render()
