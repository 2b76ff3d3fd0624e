"""清廉建设驾驶舱 — the Streamlit entry point (served by dashboards/asgi.py; `streamlit run` works too).

Order of every run: the configuration check (production refuses to run without a secret), the
login (until someone signs in, the only page is the login form, so no data page is even
routable), then the navigation the viewer's role allows, the watermark, and one audit entry per
page view (page and filters, when they change).
"""

from __future__ import annotations

import sys
from pathlib import Path

import streamlit as st

# `streamlit run dashboards/app.py` puts dashboards/ (not the project) on sys.path; the project is
# normally installed editable by uv, this only matters for a bare checkout.
_ROOT = Path(__file__).resolve().parents[1]
if str(_ROOT) not in sys.path:
    sys.path.insert(0, str(_ROOT))

from dashboards import auth, data, ui  # noqa: E402
from qinglian.security import audit, config  # noqa: E402
from qinglian.security.accounts import AccountStore  # noqa: E402
from qinglian.security.scope import Scope  # noqa: E402

PAGES_DIR = Path(__file__).with_name("pages")
APP_TITLE = "清廉建设驾驶舱"
LAST_VIEW = "_qinglian_last_view"

# (section, file, title, url path, icon)
PAGES = [
    ("驾驶舱", "p1_overview.py", "总览", "overview", ":material/dashboard:"),
    ("驾驶舱", "p2_ranking.py", "红旗/蜗牛榜", "ranking", ":material/flag:"),
    ("驾驶舱", "p3_annual.py", "年度考核", "annual", ":material/workspace_premium:"),
    ("专项指标", "p4_tasks.py", "重点任务", "tasks", ":material/task_alt:"),
    ("专项指标", "p5_units.py", "清廉单元", "units", ":material/domain:"),
    ("专项指标", "p6_rectification.py", "巡察整改", "rectification", ":material/fact_check:"),
    ("专项指标", "p7_satisfaction.py", "满意度", "satisfaction", ":material/sentiment_satisfied:"),
    ("专项指标", "p8_cases.py", "案件统计", "cases", ":material/gavel:"),
    ("数据与通报", "p9_quality.py", "数据质量", "quality", ":material/rule:"),
    ("数据与通报", "p10_bulletin.py", "季度通报", "bulletin", ":material/description:"),
]
ADMIN_PAGES = [
    ("系统管理", "admin_accounts.py", "账号管理", "accounts", ":material/manage_accounts:"),
    ("系统管理", "admin_audit.py", "审计日志", "audit", ":material/policy:"),
]
ACCOUNT_PAGE = ("账号", "my_account.py", "我的账号", "account", ":material/person:")


def pages_for(viewer: Scope) -> list[tuple[str, str, str, str, str]]:
    """The pages a role may open; a page not listed is not routable for that viewer."""
    if viewer.reads_data:
        return [*PAGES, ACCOUNT_PAGE] if viewer.role != "dev" else PAGES
    if viewer.is_admin:
        return [*ADMIN_PAGES, ACCOUNT_PAGE]
    return [ACCOUNT_PAGE]  # submitter: the upload portal joins here (issue 14)


@st.cache_resource(show_spinner=False)
def _bootstrap(state: str, mode: str) -> list[str]:
    """Once per state directory and mode: the demo's accounts (demo mode only)."""
    return AccountStore().ensure_demo_accounts()


def _config_ok() -> bool:
    try:
        config.require_ok()
        _bootstrap(str(config.state_dir()), config.mode())
    except config.SecurityConfigError as exc:
        st.title(APP_TITLE)
        st.error(str(exc))
        return False
    return True


def _login_page() -> None:
    st.title(APP_TITLE)
    if not AccountStore().list():
        st.warning("尚未创建任何账号。请系统管理员在服务器上运行：qinglian user add 用户名 --name 姓名 --role admin")
    if auth.login_form() is not None:
        st.rerun()


def _sidebar(viewer: Scope) -> None:
    with st.sidebar:
        st.markdown(f"**{ui.md(viewer.display_name)}**（{viewer.role_label}）")
        if viewer.county_code and viewer.reads_data:
            st.caption(f"数据范围：{ui.md(viewer.scope_text)}")
        elif viewer.role == "submitter":
            st.caption(ui.md(viewer.scope_text))
        if viewer.reads_data:
            try:
                pub = data.latest_publish()
            except data.NotSignedIn:
                pub = None
            if pub:
                st.caption(f"数据截至 {pub['quarter']}，发布于 {pub['published_at']:%Y-%m-%d %H:%M}，"
                           f"规则版本 {pub['rules_version']}")
        if config.is_demo():
            st.caption(":orange[演示环境：模拟数据与演示账号]")
        auth.logout_button()
        auth.sync_cookie()


def _page_filters() -> dict[str, object]:
    """The widget values of this run (quarter, group, body…): what the viewer was looking at."""
    try:
        from streamlit.runtime.scriptrunner import get_script_run_ctx

        ctx = get_script_run_ctx()
        keys = sorted(ctx.shared.widget_user_keys_this_run.snapshot()) if ctx is not None else []
    except Exception:  # an internal of Streamlit; without it the view is audited without filters
        keys = []
    out: dict[str, object] = {}
    for key in keys:
        if key.startswith("_") or key.startswith("login_") or key.startswith("FormSubmitter"):
            continue
        value = st.session_state.get(key)
        # selections (quarter, group, body, year…); buttons (False) and chart selections are not filters
        if isinstance(value, str | int | float) and not isinstance(value, bool):
            out[key] = value
    return out


def _audit_view(viewer: Scope, page: st.Page) -> None:
    filters = _page_filters()
    view = (page.url_path, tuple(sorted(filters.items())))
    if st.session_state.get(LAST_VIEW) == view:
        return
    st.session_state[LAST_VIEW] = view
    audit.record("page_view", viewer, client=auth.client_address(), target=page.title, page=page.url_path or "overview",
                 filters=filters)


def main() -> None:
    st.set_page_config(page_title=APP_TITLE, page_icon=":material/account_balance:", layout="wide",
                       initial_sidebar_state="expanded")
    # Also set by `qinglian dashboard`; repeated here for a bare `streamlit run`: the tables' built-in CSV
    # download would bypass the watermark, the audit log and the formula escaping of our xlsx exports.
    st.set_option("client.disableDataExport", True)
    if not _config_ok():
        return
    viewer = auth.current_viewer()
    if viewer is None:
        # Every URL shows the login form (a bookmarked /ranking logs in and then opens the ranking);
        # none of them can reach a data page.
        every = [*PAGES, *ADMIN_PAGES, ACCOUNT_PAGE]
        logins = [st.Page(_login_page, title=title, url_path=url, default=(i == 0))
                  for i, (_, _, title, url, _) in enumerate(every)]
        st.navigation(logins, position="hidden").run()
        return
    _sidebar(viewer)
    if auth.auth_enabled() and auth.current_viewer() is None:
        st.rerun()  # the logout button was pressed while rendering the sidebar
    ui.watermark(viewer)
    auth.welcome_notice()
    sections: dict[str, list[st.Page]] = {}
    for i, (section, file, title, url, icon) in enumerate(pages_for(viewer)):
        sections.setdefault(section, []).append(
            st.Page(PAGES_DIR / file, title=title, url_path=url, icon=icon, default=(i == 0)))
    page = st.navigation(sections)
    try:
        page.run()
    finally:
        _audit_view(viewer, page)


main()
