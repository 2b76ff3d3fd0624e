"""清廉建设驾驶舱 — the Streamlit entry point (served by dashboards/asgi.py; `streamlit run` works too).

Order of every run: the configuration check (production refuses to run without a secret), the
login (until someone signs in, the only page is the login form, so no data page is even
routable), then the navigation the viewer's role allows, the watermark, and one audit entry per
page view (page and the filter widgets made through dashboards/ui.py's filter helpers — nothing else
a page holds, so nothing typed into a text or password field is ever recorded).

Every URL answers in Chinese: a page the viewer's role lacks is a hidden 无权访问 page (audited), an
unknown one a hidden 页面不存在 page; the state or audit log being unavailable is one Chinese line
(details in the server's log), never Streamlit's English error box.
"""

from __future__ import annotations

import datetime as dt
import logging
import sqlite3
import sys
from collections.abc import Callable
from pathlib import Path
from urllib.parse import urlsplit

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
LOG = logging.getLogger("qinglian.dashboards")
UNAVAILABLE = "系统暂时无法使用：状态目录或审计日志不可读写。为保证留痕，本次操作未执行。请联系系统管理员（详情已写入服务器日志）。"

# (section, file, title, url path, icon)
PAGES = [
    ("驾驶舱", "p1_overview.py", "总览", "overview", ":material/dashboard:"),
    ("驾驶舱", "p2_ranking.py", "红旗/蜗牛榜", "ranking", ":material/flag:"),
    ("驾驶舱", "p11_warnings.py", "风险预警", "warnings", ":material/warning:"),
    ("驾驶舱", "p12_supervision.py", "督办", "supervision", ":material/assignment_late:"),
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
# The submission loop (issue 14): submitters upload; the office (and a county, for itself) follows up.
PORTAL_PAGES = [
    ("数据报送", "portal_upload.py", "数据报送", "upload", ":material/upload_file:"),
    ("数据报送", "portal_history.py", "报送记录", "submissions", ":material/receipt_long:"),
]
STATUS_PAGE = ("数据与通报", "portal_status.py", "报送情况", "submission-status", ":material/checklist:")
EVERY_PAGE = [*PAGES, STATUS_PAGE, *ADMIN_PAGES, *PORTAL_PAGES, ACCOUNT_PAGE]
LOGIN_URL = "login"
HOME_URL = "home"  # the root's hidden page: it opens the role's first page
KNOWN_URLS = {LOGIN_URL, HOME_URL, *(url for _, _, _, url, _ in EVERY_PAGE)}


def pages_for(viewer: Scope) -> list[tuple[str, str, str, str, str]]:
    """The pages a role may open; a page not listed is not routable for that viewer."""
    if viewer.reads_data:
        return [*PAGES, STATUS_PAGE, ACCOUNT_PAGE] if viewer.role != "dev" else [*PAGES, STATUS_PAGE]
    if viewer.is_admin:
        return [*ADMIN_PAGES, STATUS_PAGE, ACCOUNT_PAGE]
    if viewer.role == "submitter":
        return [*PORTAL_PAGES, ACCOUNT_PAGE]
    return [ACCOUNT_PAGE]


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
    except (audit.AuditError, sqlite3.Error, OSError) as exc:
        LOG.error("驾驶舱无法初始化状态目录：%s", exc, exc_info=True)
        st.title(APP_TITLE)
        st.error(UNAVAILABLE)
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
        auth.watch_session()


def _filter_value(value: object) -> object | None:
    """A filter's value as recorded: selections and plain text; dates as ISO; nothing else."""
    if isinstance(value, bool):
        return None  # buttons, toggles
    if isinstance(value, str | int | float):
        return value
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, list | tuple) and all(isinstance(v, str | int | float | dt.date) for v in value):
        return [v.isoformat() if isinstance(v, dt.date) else v for v in value]
    return None


def _page_filters() -> dict[str, object]:
    """The filters of this run (quarter, group, body…): only widgets made through ui's filter helpers
    (ui.FILTER_KEYS) and rendered in this run — an allow-list, so no other widget is ever recorded."""
    try:
        from streamlit.runtime.scriptrunner import get_script_run_ctx

        ctx = get_script_run_ctx()
        keys = set(ctx.shared.widget_user_keys_this_run.snapshot()) if ctx is not None else set()
    except Exception:  # an internal of Streamlit; without it the view is audited without filters
        keys = set()
    out: dict[str, object] = {}
    for key in sorted(keys & ui.FILTER_KEYS):
        value = _filter_value(st.session_state.get(key))
        if value is not None:
            out[key] = value
    return out


def _audit_view(viewer: Scope, title: str, url: str, *, denied: bool = False) -> None:
    filters = {} if denied else _page_filters()
    view = (url, denied, tuple(sorted((k, str(v)) for k, v in filters.items())))
    if st.session_state.get(LAST_VIEW) == view:
        return
    st.session_state[LAST_VIEW] = view
    if denied:
        audit.record("access_denied", viewer, client=auth.client_address(), target=title, page=url)
    else:
        audit.record("page_view", viewer, client=auth.client_address(), target=title, page=url, filters=filters)


def _requested_path() -> str:
    """The page part of the browser's URL ('' for the root)."""
    try:
        url = st.context.url
    except Exception:
        url = None
    if not isinstance(url, str) or not url:
        return ""
    path = urlsplit(url).path.strip("/")
    base = str(st.get_option("server.baseUrlPath") or "").strip("/")
    if base and (path == base or path.startswith(base + "/")):
        path = path[len(base):].strip("/")
    return path


def _unknown_page(known: set[str], render: Callable[[], None]) -> list[st.Page]:
    """A hidden page at the requested URL when no page has it, so Streamlit's English "Page not found"
    never shows; `render` says so (or shows the login form)."""
    path = _requested_path()
    if not path or path in known or "/" in path or len(path) > 100:
        return []
    try:
        return [st.Page(render, title="页面不存在", url_path=path, visibility="hidden")]
    except Exception:  # a name Streamlit cannot use as a page path: its own dialog remains
        return []


def _not_found() -> None:
    st.title("页面不存在")
    st.warning("您打开的地址没有对应的页面。请从左侧菜单选择要查看的页面。")


def _forbidden(viewer: Scope, title: str) -> Callable[[], None]:
    def render() -> None:
        st.title("无权访问")
        st.error(f"您的账号（{viewer.role_label}）无权查看「{title}」。如需查看，请联系系统管理员。")
    return render


def _signed_in(viewer: Scope) -> None:
    _sidebar(viewer)
    if auth.auth_enabled() and auth.current_viewer() is None:
        st.rerun()  # the logout button was pressed while rendering the sidebar
    ui.watermark(viewer)
    ui.house_css()
    allowed = pages_for(viewer)
    ui.NAV_PAGES.clear()
    sections: dict[str, list[st.Page]] = {}
    views: dict[str, tuple[str, bool]] = {}  # page title -> (url, denied)
    for section, file, title, url, icon in allowed:
        # No page is Streamlit's default: the default is served at the root only and its own URL (a bookmarked
        # /overview, a link in a 通报) would answer "Page not found". The root is a hidden page below.
        page_obj = st.Page(PAGES_DIR / file, title=title, url_path=url, icon=icon)
        sections.setdefault(section, []).append(page_obj)
        ui.NAV_PAGES[file] = page_obj  # for ui.page_link (a page's links into its drill-downs)
        views[title] = (url, False)
    # A page the role lacks still has its URL: it answers 无权访问 (and nothing of the page runs).
    hidden = []
    for _, _, title, url, _ in EVERY_PAGE:
        if title not in views:
            hidden.append(st.Page(_forbidden(viewer, title), title=title, url_path=url, visibility="hidden"))
            views[title] = (url, True)
    hidden += _unknown_page(KNOWN_URLS, _not_found)
    home = sections[allowed[0][0]][0]

    def _to_home() -> None:
        st.switch_page(home)

    # The root, and the login form's /login once signed in: straight to the role's first page, at its own URL.
    root = st.Page(_to_home, title="首页", url_path=HOME_URL, default=True, visibility="hidden")
    redirects = [root]
    hidden.append(root)
    if _requested_path() == LOGIN_URL:
        redirects.append(st.Page(_to_home, title="登录", url_path=LOGIN_URL, visibility="hidden"))
        hidden.append(redirects[-1])
    sections[allowed[0][0]].extend(hidden)
    page = st.navigation(sections, expanded=True)  # every page listed: no English "View N more"
    if page not in redirects:
        auth.welcome_notice()  # shown once, on the page the viewer lands on
    try:
        page.run()
    finally:
        if page.title in views:  # not the 页面不存在 page
            url, denied = views[page.title]
            _audit_view(viewer, page.title, url, denied=denied)


def main() -> None:
    st.set_page_config(page_title=APP_TITLE, page_icon=":material/account_balance:", layout="wide",
                       initial_sidebar_state="auto")  # collapsed on a phone
    # Also set by `qinglian dashboard`; repeated here for a bare `streamlit run`: the tables' built-in CSV
    # download would bypass the watermark, the audit log and the formula escaping of our xlsx exports.
    st.set_option("client.disableDataExport", True)
    if not _config_ok():
        return
    try:
        viewer = auth.current_viewer()
        if viewer is None:
            # Every URL shows the login form (a bookmarked /ranking logs in and then opens the ranking);
            # none of them can reach a data page.
            # The root is a page of its own (not the overview): after the login the viewer lands on
            # their role's first page, or on the page whose URL they opened.
            logins = [st.Page(_login_page, title="登录", url_path=LOGIN_URL, default=True)]
            logins += [st.Page(_login_page, title=title, url_path=url) for _, _, title, url, _ in EVERY_PAGE]
            logins.append(st.Page(_login_page, title="首页", url_path=HOME_URL))
            logins += _unknown_page(KNOWN_URLS, _login_page)
            st.navigation(logins, position="hidden").run()
            return
        _signed_in(viewer)
    except (audit.AuditError, config.SecurityConfigError, sqlite3.Error, OSError) as exc:
        LOG.error("驾驶舱无法读写状态或审计日志：%s", exc, exc_info=True)
        st.error(UNAVAILABLE)


main()
