"""Streamlit's own English, translated where Streamlit lets us (dashboards/ui.py): the file uploader's
button, drag hint and the tooltip of a file it refuses in the browser; the table toolbar's tooltips.
Checked in Chromium on the app the portal test starts (the small dbt-built warehouse): CSS content
replacement is only real if the selectors match what Streamlit renders."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.fixtures.browser import BROWSER_GROUP, settle

pytestmark = [pytest.mark.browser, BROWSER_GROUP]

LIMIT_MB = 50  # ingest/limits.py Limits.file_mb default; the app runs without QINGLIAN_LIMIT_FILE_MB


@pytest.fixture(scope="module")
def app(small_built: tuple[Path, object], streamlit_app, chromium) -> dict:
    return {**streamlit_app("small", small_built[0]), "browser": chromium}


def _login(app: dict, user: str, password: str, path: str = ""):  # noqa: ANN202
    context = app["browser"].new_context(viewport={"width": 1440, "height": 900}, locale="zh-CN")
    page = context.new_page()
    page.set_default_timeout(60000)  # two cores shared by the whole suite
    page.goto(f"{app['url']}/{path}")
    page.get_by_label("用户名").wait_for(timeout=90000)
    page.get_by_label("用户名").fill(user)
    page.get_by_label("密码").fill(password)
    page.get_by_role("button", name="登录").click()
    return context, page


def _after(page: object, selector: str) -> list[str]:
    return page.evaluate(  # type: ignore[attr-defined]
        "(sel) => Array.from(document.querySelectorAll(sel)).map(e => getComputedStyle(e, '::after').content)", selector)


def test_uploader_speaks_chinese_and_refuses_an_oversized_file_in_chinese(app: dict, tmp_path: Path) -> None:
    context, page = _login(app, "tianbao", "Tianbao@2025")
    try:
        page.get_by_role("button", name="提交报送").wait_for(timeout=90000)
        page.wait_for_selector('[data-testid="stFileUploaderDropzone"] button p', timeout=60000)
        settle(page)
        assert '"选择文件"' in _after(page, '[data-testid="stFileUploaderDropzone"] button p')
        hint = _after(page, '[data-testid="stFileUploaderDropzoneInstructions"] span')
        assert f'"可拖放文件到此处；单个文件不超过 {LIMIT_MB} MB，格式 XLSX、XLS、CSV"' in hint
        big = tmp_path / "大文件.xlsx"
        with big.open("wb") as f:
            f.truncate((LIMIT_MB + 1) * 1024 * 1024)  # sparse: the browser refuses it by size alone
        page.locator('[data-testid="stFileUploaderDropzoneInput"]').set_input_files(str(big))
        chip = page.locator('[data-testid="stFileChip"]')
        chip.wait_for(timeout=30000)
        chip.hover()
        tip = page.locator('[data-testid="stTooltipErrorContent"]')
        tip.wait_for(timeout=10000)
        assert tip.evaluate("e => getComputedStyle(e).fontSize") == "0px"  # Streamlit's English is not drawn
        assert _after(page, '[data-testid="stTooltipErrorContent"]') == [
            f'"未上传：文件须为 XLSX、XLS、CSV 格式，且不超过 {LIMIT_MB} MB；请压缩、拆分或另存后重新选择"']
    finally:
        context.close()


def test_table_toolbar_tooltips_are_chinese(app: dict) -> None:
    context, page = _login(app, "leader", "Leader@2025", "ranking")
    try:
        frame = page.locator('[data-testid="stDataFrame"]').first
        frame.wait_for(timeout=90000)
        settle(page)
        frame.hover()
        seen = {}
        for english in ("Show/hide columns", "Search", "Fullscreen"):
            button = page.locator(f'[data-testid="stElementToolbar"] button[aria-label="{english}"]').first
            button.hover()
            page.locator('[data-testid="stTooltipContent"] p').first.wait_for(timeout=10000)
            p = page.locator('[data-testid="stTooltipContent"] p').first
            seen[english] = (p.evaluate("e => getComputedStyle(e).fontSize"),
                             p.evaluate("e => getComputedStyle(e, '::after').content"))
        assert seen == {"Show/hide columns": ("0px", '"显示/隐藏列"'), "Search": ("0px", '"搜索"'),
                        "Fullscreen": ("0px", '"全屏查看"')}
    finally:
        context.close()


def test_upload_ceiling_has_one_home() -> None:
    from dashboards import serve
    from ingest.limits import Limits

    assert Limits(file_mb=0.5).upload_mb == 1 and Limits(file_mb=7.2).upload_mb == 8 and Limits().upload_mb == 50
    assert f"--server.maxUploadSize={LIMIT_MB}" in serve.command(8501)
