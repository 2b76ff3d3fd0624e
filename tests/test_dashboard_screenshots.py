"""Browser check: the real app in Debian chromium, logged in through the form, with screenshots.

Saves screenshots/overview.png, screenshots/ranking.png and screenshots/county_overview.png
(git-ignored) for a human to look at: CJK glyphs (not boxes), tables not cut off, no English
leftovers. Fails when /usr/bin/chromium is missing (make test installs it).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.fixtures.browser import BROWSER_GROUP, SHOTS, settle

pytestmark = [pytest.mark.browser, BROWSER_GROUP]

# The published small warehouse (tests/fixtures/small_built.py); its 2025Q4 county ranking is worked out
# by hand in tests/test_dbt_marts.py: 汉台区 97.5, 洋县 96.25, 南郑区 88.75, 城固县 76.875, 西乡县 75.
EXPECTED = {"county_ranking_q4": ["汉台区", "洋县", "南郑区", "城固县", "西乡县"],
            # on schedule / active tasks of all owners in 2025Q4: 16 / 21 (tests/test_dashboards.py)
            "city_task_rate_q4": "76.2%"}


@pytest.fixture(scope="module")
def app_url(small_served: Path, streamlit_app) -> tuple[str, dict]:
    """The app every browser file shares (the portal tests use the same one)."""
    return streamlit_app("served", small_served)["url"], EXPECTED


def _login(page: object, url: str, user: str, password: str) -> None:
    page.goto(url)  # type: ignore[attr-defined]
    page.get_by_label("用户名").wait_for(timeout=90000)  # type: ignore[attr-defined]
    # A deep link must land on the login form, not on Streamlit's English "Page not found".
    assert "Page not found" not in page.inner_text("body")  # type: ignore[attr-defined]
    page.get_by_label("用户名").fill(user)  # type: ignore[attr-defined]
    page.get_by_label("密码").fill(password)  # type: ignore[attr-defined]
    page.get_by_role("button", name="登录").click()  # type: ignore[attr-defined]


def _settle(page: object) -> None:
    """Wait for a plotly chart, then for Streamlit to stop running and the charts to finish drawing."""
    page.wait_for_selector(".js-plotly-plot", timeout=30000)  # type: ignore[attr-defined]
    settle(page, timeout=30000)


def test_overview_and_ranking_screenshots(app_url: tuple[str, dict], chromium) -> None:
    url, expected = app_url
    page = chromium.new_page(viewport={"width": 1600, "height": 2600}, locale="zh-CN")
    # The first session of a fresh server, opened on a bookmarked page (see dashboards/launch.py):
    # the login form, then that page.
    _login(page, f"{url}/ranking", "leader", "Leader@2025")
    _settle(page)
    page.get_by_text("蜗牛记录").wait_for()
    text = page.inner_text("body")
    assert "红旗/蜗牛榜" in text and "边界接近" in text
    for name in expected["county_ranking_q4"]:
        assert name in text
    page.screenshot(path=str(SHOTS / "ranking.png"), full_page=True)

    page.get_by_role("link", name="总览").click()
    page.get_by_text("县区比较").wait_for()
    _settle(page)
    text = page.inner_text("body")
    assert "任务推进率" in text and expected["city_task_rate_q4"] in text and "汉中市" in text
    page.set_viewport_size({"width": 1600, "height": 1500})
    settle(page)
    page.screenshot(path=str(SHOTS / "overview.png"), full_page=True)
    page.close()
    assert (SHOTS / "overview.png").stat().st_size > 20000
    assert (SHOTS / "ranking.png").stat().st_size > 20000


def test_county_user_in_browser(app_url: tuple[str, dict], chromium) -> None:
    url, _ = app_url
    page = chromium.new_page(viewport={"width": 1600, "height": 1800}, locale="zh-CN")
    _login(page, url, "yangxian", "Yangxian@2025")
    _settle(page)
    text = page.inner_text("body")
    assert "洋县" in text
    for other in ("汉台区", "南郑区", "城固县", "西乡县", "市教育局"):
        assert other not in text
    page.screenshot(path=str(SHOTS / "county_overview.png"), full_page=True)
    page.close()


# --- every page at desktop and phone size ------------------------------------------------------

SIZES = {"desktop": (1440, 900), "phone": (390, 844)}
PAGE_URLS = ["", "ranking", "warnings", "supervision", "annual", "tasks", "units", "rectification", "satisfaction",
             "cases", "quality", "bulletin"]
_GRID_NAMES = """(i) => { const d = document.querySelectorAll('[data-testid="stDataFrame"]')[i];
    if (!d) return null; const r = d.getBoundingClientRect();
    const rows = [...d.querySelectorAll('table tr')].map(tr => [...tr.querySelectorAll('td, th')].map(c => c.innerText));
    return {top: r.top, bottom: r.bottom, rows}; }"""
# The rendered width of a text in the grid's font (the dataframe draws 14px Source Sans / Noto CJK on a canvas).
_TEXT_WIDTH = """(t) => { const c = document.createElement('canvas').getContext('2d');
    c.font = '14px "Source Sans", "Source Sans Pro", "Noto Sans CJK SC", sans-serif'; return c.measureText(t).width; }"""


def _wait_page(page: object) -> None:
    page.wait_for_selector("h1", timeout=60000)  # type: ignore[attr-defined]
    settle(page)  # the run is over, its charts drawn and its tables' cells there (the tables come after the run)


def _in_first_screen(page: object, locator: object, height: int) -> bool:
    box = locator.bounding_box()  # type: ignore[attr-defined]
    return box is not None and box["y"] >= 0 and box["y"] + min(box["height"], 40) <= height


def test_every_page_at_desktop_and_phone_size(app_url: tuple[str, dict], chromium) -> None:
    from dashboards import ui

    url, expected = app_url
    counties = expected["county_ranking_q4"]
    # one session for both sizes: every page is loaded afresh (page.goto) at the size it is shot at, so
    # Streamlit lays it out (and collapses the sidebar) for that width
    page = chromium.new_page(viewport={"width": SIZES["desktop"][0], "height": SIZES["desktop"][1]}, locale="zh-CN")
    _login(page, url, "leader", "Leader@2025")
    page.get_by_text("要点").wait_for(timeout=60000)
    for size, (w, h) in SIZES.items():
        page.set_viewport_size({"width": w, "height": h})
        for path in PAGE_URLS:
            if path or size != "desktop":
                # on the phone the overview is opened by its own URL (a bookmark, a link in a 通报), which
                # answered Streamlit's "Page not found" while the overview was the default page
                page.goto(f"{url}/{path or 'overview'}")
            _wait_page(page)
            if path == "":  # after the login at the root, as by the deep link: the overview at its own URL
                assert page.url.rstrip("/").endswith("/overview"), (size, page.url)
            if path in ("", "ranking"):  # the table read below draws its cells after the script run ends
                page.locator('[data-testid="stDataFrame"]').first.locator("table tr td").first.wait_for(
                    state="attached", timeout=60000)
                settle(page)
            name = path or "overview"
            page.screenshot(path=str(SHOTS / f"{name}_{size}.png"))
            text = page.inner_text("body")
            assert "Page not found" not in text and "页面出现意外错误" not in text, (name, size)
            if path == "":
                _check_overview(page, h, size, counties, ui)
            if path == "ranking":
                grid = page.evaluate(_GRID_NAMES, 0)
                col = grid["rows"][0].index("名称")
                names = [r[col] for r in grid["rows"][1:]]
                assert names == counties
                width = ui.text_px(names, "名称")
                assert all(page.evaluate(_TEXT_WIDTH, n) + 16 <= width for n in names)
    page.close()


def _check_overview(page: object, height: int, size: str, counties: list[str], ui: object) -> None:
    page.get_by_text("县区排名", exact=True).wait_for(timeout=60000)  # type: ignore[attr-defined]
    # 要点 and the ranking are on the first screen, without scrolling
    assert _in_first_screen(page, page.get_by_text("要点", exact=True), height), size  # type: ignore[attr-defined]
    assert _in_first_screen(page, page.get_by_text("县区排名", exact=True), height), size  # type: ignore[attr-defined]
    grid = page.evaluate(_GRID_NAMES, 0)  # type: ignore[attr-defined]
    assert grid is not None and grid["top"] < height - 80, (size, grid and grid["top"])
    header, *rows = grid["rows"]
    col = header.index("县区")
    names = [r[col] for r in rows]
    assert names == counties  # the full names, in rank order
    # no name is cut: each one's rendered width fits the width the column was given
    width = ui.text_px(names, "县区")  # type: ignore[attr-defined]
    for n in names:
        assert page.evaluate(_TEXT_WIDTH, n) + 16 <= width, n  # type: ignore[attr-defined]
    # the 要点 lines wrap instead of cutting names off
    cut = page.evaluate("""() => [...document.querySelectorAll('[data-testid="stPageLink"] a *')]
        .filter(e => e.scrollWidth > e.clientWidth + 1).map(e => e.innerText)""")  # type: ignore[attr-defined]
    assert not cut, (size, cut)
    if size == "phone":
        sidebar = page.locator('[data-testid="stSidebar"]')  # type: ignore[attr-defined]
        box = sidebar.bounding_box() if sidebar.count() else None
        assert box is None or box["x"] + box["width"] <= 1 or sidebar.get_attribute("aria-expanded") == "false"
    else:
        # the department ranking beside it
        assert _in_first_screen(page, page.get_by_text("市直部门排名", exact=True), height)  # type: ignore[attr-defined]
