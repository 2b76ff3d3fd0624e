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
    page.get_by_label("用户名").wait_for(timeout=30000)  # type: ignore[attr-defined]
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
