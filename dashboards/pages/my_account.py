"""我的账号: who I am, what I may see, my own login history (failures and locks too), my password."""

from __future__ import annotations

import streamlit as st

from dashboards import auth, security_ui, ui
from qinglian.security import accounts, audit, login, sessions

OWN_EVENTS = ("login_success", "login_failed", "login_blocked", "lockout", "unlock", "logout", "session_expired",
              "password_change")


def render() -> None:
    viewer = security_ui.require_viewer()
    st.title("我的账号")
    st.markdown(f"**{ui.md(viewer.display_name)}**（{ui.md(viewer.username)}） · {viewer.role_label} · "
                f"范围：{ui.md(viewer.scope_text)}")
    if viewer.role == "submitter":
        st.info("报送单位账号：在线上传台账、查看回执和问题清单的功能将在此开通；目前请按通知报送。")
    if viewer.role == "dev":
        st.info("本地开发模式（未启用登录）没有账号。")
        return
    live = sessions.SessionStore().active(viewer.username)
    st.caption(f"当前有效登录 {len(live)} 个。登录记录（含失败与锁定）如下，如发现非本人操作，请立即修改密码并告知系统管理员。")
    mine = audit.log().read(username=viewer.username, events=OWN_EVENTS, limit=50)
    ui.frame(security_ui.entries_frame(mine).drop(columns=["用户", "行数"]))

    st.markdown("##### 修改密码")
    with st.form("my_password", clear_on_submit=True):
        old = st.text_input("当前密码", type="password", key="my_pw_old")
        new1 = st.text_input("新密码（至少10位，含大写、小写、数字、符号中的三类）", type="password", key="my_pw_new1")
        new2 = st.text_input("再次输入新密码", type="password", key="my_pw_new2")
        ok = st.form_submit_button("修改密码")
    if ok:
        _change_password(viewer, old, new1, new2)


def _change_password(viewer, old: str, new1: str, new2: str) -> None:  # noqa: ANN001
    """The new password is checked first (that costs no attempt); the current one then goes through the
    same lockout as a login — a borrowed session must not become a password oracle."""
    if new1 != new2:
        st.error("两次输入的新密码不一致。")
        return
    try:
        accounts.check_password(new1, viewer.username)
    except accounts.AccountError as exc:
        st.error(str(exc))
        return
    client = auth.client_address()
    checked = login.check(viewer.username, old, client, viewer=viewer, purpose="password_change")
    if checked.account is None:
        st.error(checked.message)
        return
    try:
        accounts.AccountStore().set_password(viewer.username, new1, actor=viewer, client=client)
    except accounts.AccountError as exc:
        st.error(str(exc))
        return
    auth.logout()
    st.session_state[auth.NOTICE] = "密码已修改，请用新密码重新登录。"
    st.rerun()

render()
