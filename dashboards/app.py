"""清廉建设驾驶舱 — the Streamlit entry point (streamlit run dashboards/app.py).

The app asks for a login first (unless QINGLIAN_AUTH=off), then builds the navigation. Until
someone signs in, the only page is the login page, so no data page is even routable; the data
layer refuses reads without a signed-in scope anyway.
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

from dashboards import auth, data  # noqa: E402

PAGES_DIR = Path(__file__).with_name("pages")
APP_TITLE = "清廉建设驾驶舱"


def _login_page() -> None:
    st.title(APP_TITLE)
    if auth.login_gate() is not None:
        st.rerun()


def _sidebar(scope: auth.Scope) -> None:
    with st.sidebar:
        st.markdown(f"**{scope.display_name}**（{scope.role_label}）")
        if scope.county_code:
            try:
                src = data.current_source()
                names = data.name_map(src) if src.version else {}
            except data.NotSignedIn:
                names = {}
            st.caption(f"数据范围：{names.get(scope.county_code, scope.county_code)}及所辖乡镇、村")
        try:
            pub = data.latest_publish()
        except data.NotSignedIn:
            pub = None
        if pub:
            st.caption(f"数据截至 {pub['quarter']}，发布于 {pub['published_at']:%Y-%m-%d %H:%M}，规则版本 {pub['rules_version']}")
        auth.logout_button()


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


def main() -> None:
    st.set_page_config(page_title=APP_TITLE, page_icon=":material/account_balance:", layout="wide",
                       initial_sidebar_state="expanded")
    # Also set by `qinglian dashboard`; repeated here for a bare `streamlit run`: the tables' built-in CSV
    # download would bypass the formula escaping of our xlsx exports.
    st.set_option("client.disableDataExport", True)
    scope = auth.current_scope()
    if scope is None:
        # Every URL shows the login form (a bookmarked /ranking logs in and then opens the ranking);
        # none of them can reach a data page.
        logins = [st.Page(_login_page, title=title, url_path=url, default=(i == 0))
                  for i, (_, _, title, url, _) in enumerate(PAGES)]
        st.navigation(logins, position="hidden").run()
        return
    _sidebar(scope)
    if auth.auth_enabled() and not st.session_state.get("authentication_status"):
        st.rerun()  # the logout button was pressed while rendering the sidebar
    sections: dict[str, list[st.Page]] = {}
    for i, (section, file, title, url, icon) in enumerate(PAGES):
        sections.setdefault(section, []).append(
            st.Page(PAGES_DIR / file, title=title, url_path=url, icon=icon, default=(i == 0)))
    st.navigation(sections).run()


main()
