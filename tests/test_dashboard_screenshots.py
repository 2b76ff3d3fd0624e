"""Browser check: the real app in Debian chromium, logged in through the form, with screenshots.

Saves screenshots/overview.png, screenshots/ranking.png and screenshots/county_overview.png
(git-ignored) for a human to look at: CJK glyphs (not boxes), tables not cut off, no English
leftovers. Fails when /usr/bin/chromium is missing (make test installs it).
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(Path(__file__).resolve().parent / "fixtures"))
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from serving_fixture import build_serving_fixture  # noqa: E402

CHROMIUM = Path("/usr/bin/chromium")
SHOTS = ROOT / "screenshots"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync"]

pytestmark = pytest.mark.browser


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def app_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, dict]]:
    from dashboards.serve import command

    # `make test` installs it (Makefile system-deps): missing, the browser check fails rather than skips
    assert CHROMIUM.exists(), "需要 Debian chromium（/usr/bin/chromium）：请运行 make test 安装"
    serving = tmp_path_factory.mktemp("serving") / "warehouse.duckdb"
    expected = build_serving_fixture(serving)
    port = _free_port()
    # demo mode (demo accounts, a generated secret) with the module's own state directory
    env = {k: v for k, v in os.environ.items() if not k.startswith("QINGLIAN_")}
    env.update(QINGLIAN_SERVING=str(serving), QINGLIAN_ENV="demo", QINGLIAN_STATE=str(tmp_path_factory.mktemp("state")),
               PYTHONPATH=os.pathsep.join(p for p in (str(ROOT), os.environ.get("PYTHONPATH", "")) if p))
    log = tmp_path_factory.mktemp("log") / "streamlit.log"
    with log.open("w") as fh:
        proc = subprocess.Popen(command(port, "127.0.0.1"), env=env, stdout=fh, stderr=subprocess.STDOUT, cwd=ROOT)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as r:
                    if r.status == 200:
                        break
            except OSError:
                pass
            if proc.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"Streamlit 未能启动：\n{log.read_text()[-3000:]}")
            time.sleep(0.3)
        yield url, expected
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()


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
    page.wait_for_function(  # type: ignore[attr-defined]
        "() => !document.querySelector('[data-testid=\"stStatusWidget\"]')", timeout=30000)
    page.wait_for_timeout(1200)  # type: ignore[attr-defined]


def test_overview_and_ranking_screenshots(app_url: tuple[str, dict]) -> None:
    from playwright.sync_api import sync_playwright

    url, expected = app_url
    SHOTS.mkdir(exist_ok=True)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1600, "height": 2600}, locale="zh-CN")
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
            assert "任务推进率" in text and "75.0%" in text and "汉中市" in text
            page.set_viewport_size({"width": 1600, "height": 1500})
            page.wait_for_timeout(800)
            page.screenshot(path=str(SHOTS / "overview.png"), full_page=True)
        finally:
            browser.close()
    assert (SHOTS / "overview.png").stat().st_size > 20000
    assert (SHOTS / "ranking.png").stat().st_size > 20000


def test_county_user_in_browser(app_url: tuple[str, dict]) -> None:
    from playwright.sync_api import sync_playwright

    url, _ = app_url
    SHOTS.mkdir(exist_ok=True)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1600, "height": 1800}, locale="zh-CN")
            _login(page, url, "yangxian", "Yangxian@2025")
            _settle(page)
            text = page.inner_text("body")
            assert "洋县" in text
            for other in ("汉台区", "南郑区", "城固县", "西乡县", "市教育局"):
                assert other not in text
            page.screenshot(path=str(SHOTS / "county_overview.png"), full_page=True)
        finally:
            browser.close()


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
    page.wait_for_function(  # type: ignore[attr-defined]
        "() => !document.querySelector('[data-testid=\"stStatusWidget\"]')", timeout=60000)
    page.wait_for_timeout(1500)  # type: ignore[attr-defined]


def _in_first_screen(page: object, locator: object, height: int) -> bool:
    box = locator.bounding_box()  # type: ignore[attr-defined]
    return box is not None and box["y"] >= 0 and box["y"] + min(box["height"], 40) <= height


def test_every_page_at_desktop_and_phone_size(app_url: tuple[str, dict]) -> None:
    from playwright.sync_api import sync_playwright

    from dashboards import ui

    url, expected = app_url
    SHOTS.mkdir(exist_ok=True)
    counties = expected["county_ranking_q4"]
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            for size, (w, h) in SIZES.items():
                page = browser.new_page(viewport={"width": w, "height": h}, locale="zh-CN")
                _login(page, url, "leader", "Leader@2025")
                page.get_by_text("要点").wait_for(timeout=60000)
                for path in PAGE_URLS:
                    if path:
                        page.goto(f"{url}/{path}")
                    _wait_page(page)
                    if path in ("", "ranking"):  # the tables are drawn after the script run ends
                        page.wait_for_selector('[data-testid="stDataFrame"] table tr td', state="attached", timeout=60000)
                        page.wait_for_timeout(1000)
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
        finally:
            browser.close()


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
    if size == "phone":
        sidebar = page.locator('[data-testid="stSidebar"]')  # type: ignore[attr-defined]
        box = sidebar.bounding_box() if sidebar.count() else None
        assert box is None or box["x"] + box["width"] <= 1 or sidebar.get_attribute("aria-expanded") == "false"
    else:
        # the department ranking beside it
        assert _in_first_screen(page, page.get_by_text("市直部门排名", exact=True), height)  # type: ignore[attr-defined]
