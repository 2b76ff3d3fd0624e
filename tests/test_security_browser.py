"""Security in the browser (Playwright + Debian chromium), one served app for the module.

Proves: cookies forged with any key found in the repository, with alg=none, or of an expired session
do not log in and fall back to the Chinese login form (while the app's own cookie does); lockout
engages and releases; a county user sees only its county and a watermark naming them and the scope;
a name from a submitted file renders as text; an admin sees on the audit page, and in its export, the
entries of what that test just did itself. Each test reads the audit log (the app's state folder) for the
entries of its own actions, so no test depends on another having run. Screenshots: screenshots/security_*.png.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import io
import json
import re
import secrets
import shutil
import socket
import sqlite3
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import duckdb
import openpyxl
import pytest

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from tests.fixtures.browser import BROWSER_GROUP, SHOTS, settle  # noqa: E402

OLD_KEY = "qinglian-demo-cookie-key-change-me"  # the key dashboards/users.yaml shipped until this change
EVIL = "汉台区[点此](http://evil.invalid)<b>粗</b>:red[红]"
LOCK_SECONDS = 4

pytestmark = [pytest.mark.browser, BROWSER_GROUP]


# --- keys a forger could take from the repository ------------------------------------------------------


def repository_keys() -> list[str]:
    """Every key-like string in the tracked files (and in the history of the old users.yaml)."""
    found = {OLD_KEY}
    files = subprocess.run(["git", "ls-files"], cwd=ROOT, capture_output=True, text=True).stdout.split()
    texts = []
    for name in files:
        path = ROOT / name
        if path.suffix in (".py", ".yaml", ".yml", ".toml", ".md", ".cfg", ".ini", ".json", ".env", ".txt", "") \
                and path.is_file() and path.stat().st_size < 2_000_000:
            texts.append(path.read_text(encoding="utf-8", errors="ignore"))
    history = subprocess.run(["git", "log", "-p", "--all", "--", "dashboards/users.yaml"], cwd=ROOT,
                             capture_output=True, text=True).stdout
    texts.append(history)
    pattern = re.compile(r"(?i)(?:key|secret|token|password|cookie)[\w\-]*\s*[:=]\s*[\"']?([A-Za-z0-9_\-@.#$+/=]{8,})")
    for text in texts:
        found.update(m.group(1) for m in pattern.finditer(text))
        found.update(re.findall(r"\b[A-Z][a-z]+@20\d\d\b", text))  # the demo passwords
    return sorted(found)


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def forged_cookies(key: str) -> list[str]:
    """What a forger would try with a key: the old streamlit-authenticator JWT, and our own cookie format
    signed with the key itself and with the key derived as the app derives it."""
    head = _b64(json.dumps({"alg": "HS256", "typ": "JWT"}).encode())
    body = _b64(json.dumps({"username": "leader", "exp_date": time.time() + 86400}).encode())
    jwt = f"{head}.{body}.{_b64(hmac.new(key.encode(), f'{head}.{body}'.encode(), hashlib.sha256).digest())}"
    sid = secrets.token_urlsafe(32)
    derived = hmac.new(key.encode(), b"qinglian/cookie/v1", hashlib.sha256).digest()
    ours = [f"v1.{sid}.{_b64(hmac.new(k, f'v1.{sid}'.encode(), hashlib.sha256).digest())}"
            for k in (key.encode(), derived)]
    return [jwt, *ours]


def alg_none() -> str:
    head = _b64(json.dumps({"alg": "none", "typ": "JWT"}).encode())
    return f"{head}.{_b64(json.dumps({'username': 'leader', 'exp_date': time.time() + 86400}).encode())}."


def test_no_key_in_the_repository_signs_a_cookie(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Every key found, every forgery: refused before any session look-up (the browser test tries a sample)."""
    from qinglian.security import sessions

    monkeypatch.setenv("QINGLIAN_ENV", "demo")
    monkeypatch.setenv("QINGLIAN_STATE", str(tmp_path))
    monkeypatch.delenv("QINGLIAN_SECRET", raising=False)
    keys = repository_keys()
    assert OLD_KEY in keys and "Leader@2025" in keys
    assert not (ROOT / "dashboards" / "users.yaml").exists()
    for key in keys:
        for cookie in [*forged_cookies(key), alg_none()]:
            assert sessions.sid_from_cookie(cookie) is None, (key, cookie)
    sid = sessions.SessionStore().create("leader")
    assert sessions.sid_from_cookie(sessions.cookie_value(sid)) == sid  # the check can tell good from bad


# --- the served app -------------------------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _malicious_name(path: Path) -> None:
    """汉台区 as a clerk's file could spell it: markdown link, HTML and a colour directive in the name, in
    every published table that names it (as if the regions file had said so)."""
    with duckdb.connect(str(path)) as con:
        named = con.execute("""select c.table_schema, c.table_name, c.column_name, k.column_name
                               from information_schema.columns c join information_schema.columns k
                                 on k.table_schema = c.table_schema and k.table_name = c.table_name
                                and k.column_name = replace(c.column_name, '_name', '_code')
                               join information_schema.tables t
                                 on t.table_schema = c.table_schema and t.table_name = c.table_name
                               where c.column_name in ('body_name', 'region_name', 'scope_name', 'county_name', 'owner_name')
                                 and c.table_schema = 'marts' and t.table_type = 'BASE TABLE'""").fetchall()
        assert named, "no published table names a body"
        for schema, table, col, code in named:
            con.execute(f"UPDATE {schema}.{table} SET {col} = ? WHERE {code} = '610702000000'", [EVIL])


@pytest.fixture(scope="module")
def server(small_served: Path, streamlit_app, chromium, tmp_path_factory: pytest.TempPathFactory) -> dict:
    """The app with hostile names in its data and a short lockout: a server of its own (fixtures/browser.py),
    on a copy of the session's published serving copy (tests/fixtures/small_built.py)."""
    serving = tmp_path_factory.mktemp("serving") / "warehouse.duckdb"
    shutil.copyfile(small_served, serving)
    _malicious_name(serving)
    app = streamlit_app("security", serving, QINGLIAN_LOCKOUT_ATTEMPTS="3", QINGLIAN_LOCKOUT_SECONDS=str(LOCK_SECONDS))
    return {**app, "browser": chromium}


def _page(server: dict, cookies: dict[str, str] | None = None, height: int = 1200):  # noqa: ANN202
    context = server["browser"].new_context(viewport={"width": 1440, "height": height}, locale="zh-CN",
                                            accept_downloads=True)
    if cookies:
        context.add_cookies([{"name": k, "value": v, "url": server["url"]} for k, v in cookies.items()])
    return context, context.new_page()


def _login_form(page: object) -> None:
    page.get_by_label("用户名").wait_for(timeout=30000)  # type: ignore[attr-defined]


def _submit(page: object, user: str, password: str) -> None:
    page.get_by_label("用户名").fill(user)  # type: ignore[attr-defined]
    page.get_by_label("密码").fill(password)  # type: ignore[attr-defined]
    page.get_by_role("button", name="登录").click()  # type: ignore[attr-defined]


def _settled(page: object) -> None:
    settle(page, timeout=30000)  # Streamlit's run over, nothing stale, charts drawn, painted (fixtures/browser.py)


def _session_cookie(context: object, timeout: float = 15) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for c in context.cookies():  # type: ignore[attr-defined]
            if c["name"] == "qinglian_session":
                return c
        time.sleep(0.2)
    raise AssertionError("the app never set its session cookie")


# --- the audit log, read as the admin's tools read it (the app's state folder) ------------------------


def _audit_seq(server: dict) -> int:
    """The newest entry's number: a test reads only what it adds after it."""
    from qinglian.security.audit import AuditLog

    newest = AuditLog(server["state"] / "audit.sqlite").read(limit=1)
    return newest[0].seq if newest else 0


def _audited(server: dict, after: int, *wanted: tuple[str, str | None], timeout: float = 20) -> list:
    """The entries written after entry `after`, oldest first, once every (event, username) in `wanted`
    is among them (the app writes them from its own process while the page runs)."""
    from qinglian.security.audit import AuditLog

    log = AuditLog(server["state"] / "audit.sqlite")
    deadline = time.monotonic() + timeout
    while True:
        entries = [e for e in reversed(log.read(limit=None)) if e.seq > after]
        missing = [w for w in wanted if w not in {(e.event, e.username) for e in entries}]
        if not missing:
            return entries
        if time.monotonic() > deadline:
            raise AssertionError(f"not audited: {missing}; audited: {[(e.event, e.username) for e in entries]}")
        time.sleep(0.2)


def _failures_audited(server: dict, after: int, n: int, timeout: float = 20) -> None:
    """Wait until `n` failed logins are on the record after entry `after`."""
    from qinglian.security.audit import AuditLog

    log = AuditLog(server["state"] / "audit.sqlite")
    deadline = time.monotonic() + timeout
    while True:
        entries = [(e.event, e.username) for e in reversed(log.read(limit=None)) if e.seq > after]
        if entries.count(("login_failed", "analyst")) >= n:
            return
        if time.monotonic() > deadline:
            raise AssertionError(f"{n} failed logins not audited: {entries}")
        time.sleep(0.1)


def test_forged_or_expired_cookies_fall_back_to_the_login_form(server: dict) -> None:
    url = server["url"]
    start = _audit_seq(server)
    # The app's own cookie works (so the refusals below mean something): HttpOnly, SameSite=Strict.
    leader, page = _page(server)
    page.goto(url)
    _login_form(page)
    _submit(page, "leader", "Leader@2025")
    page.get_by_text("任务推进率").first.wait_for(timeout=30000)
    # A new tab opened the moment the data shows is logged in too: the login waits for the cookie.
    second = leader.new_page()
    second.goto(f"{url}/ranking")
    second.get_by_text("蜗牛记录").wait_for(timeout=30000)
    cookie = _session_cookie(leader, timeout=1)
    assert cookie["httpOnly"] and cookie["sameSite"] == "Strict"
    assert page.evaluate("document.cookie").find("qinglian_session") == -1  # scripts cannot read it

    keys = repository_keys()
    # every key is tried in test_no_key_in_the_repository_signs_a_cookie; the browser gets a sample
    sample = [OLD_KEY, next(k for k in keys if k != OLD_KEY)]
    attempts = [(f"key={key[:12]} form {i}", {"qinglian_session": value}) for key in sample
                for i, value in enumerate(forged_cookies(key))]
    attempts.append(("old cookie name, old key", {"qinglian_auth": forged_cookies(OLD_KEY)[0]}))
    attempts.append(("alg=none", {"qinglian_session": alg_none(), "qinglian_auth": alg_none()}))
    context, forged = _page(server)  # one browser context (its cache keeps the app's scripts), fresh cookies each time
    for what, cookies in attempts:
        context.clear_cookies()
        context.add_cookies([{"name": k, "value": v, "url": url} for k, v in cookies.items()])
        forged.goto(f"{url}/ranking")
        _login_form(forged)
        _settled(forged)
        text = forged.inner_text("body")
        assert "登录清廉建设驾驶舱" in text and "任务推进率" not in text and "蜗牛记录" not in text, what
        assert "Error" not in text and "Traceback" not in text, what
    context.clear_cookies()
    forged.goto(f"{url}/no-such-page")  # an unknown address: the login form, no English dialog
    _login_form(forged)
    _settled(forged)
    assert "Page not found" not in forged.inner_text("body")
    context.close()
    # every forgery sent as the app's cookie is refused on the record, naming the cookie's start; the old
    # cookie name alone is no cookie of the app's at all
    sent = {cookies["qinglian_session"][:16] for _, cookies in attempts if "qinglian_session" in cookies}
    refused = [e for e in _audited(server, start, ("login_success", "leader"), ("session_rejected", None))
               if e.event == "session_rejected"]
    assert {e.detail["cookie_prefix"] for e in refused} == sent
    assert {e.detail["reason"] for e in refused} == {"cookie_not_issued_by_app"}
    before_expiry = _audit_seq(server)

    # Expired: 31 minutes idle on the server. The tab left open clears itself, without a click.
    with sqlite3.connect(server["state"] / "security.sqlite") as raw:
        raw.execute("UPDATE sessions SET last_seen = last_seen - 31 * 60 WHERE username = 'leader'")
    second.get_by_text("长时间未操作，登录已超时，请重新登录。").wait_for(timeout=25000)
    _settled(second)  # the run that shows the login form has also removed the page it replaced
    assert "蜗牛记录" not in second.inner_text("body")
    second.screenshot(path=str(SHOTS / "security_expired.png"))
    expired = [e for e in _audited(server, before_expiry, ("session_expired", "leader")) if e.event == "session_expired"]
    # one entry per open tab of the session (the first tab clears itself too), each for being idle
    assert 1 <= len(expired) <= 2 and {e.detail["reason"] for e in expired} == {"idle"}
    leader.close()
    context, page = _page(server, {"qinglian_session": cookie["value"]})  # and the cookie is worth nothing now
    page.goto(url)
    _login_form(page)
    assert "任务推进率" not in page.inner_text("body")
    context.close()


def test_lockout_engages_and_releases(server: dict) -> None:
    start = _audit_seq(server)
    context, page = _page(server)
    page.goto(server["url"])
    _login_form(page)
    for n in (1, 2):
        _submit(page, "analyst", "wrong-password")
        # the message of the attempt before is still on the page while this one runs: wait for its entry,
        # so that the next attempt is not submitted into a running one
        _failures_audited(server, start, n)
        page.get_by_text("用户名或密码错误。").wait_for(timeout=15000)
        _settled(page)
    _submit(page, "analyst", "wrong-password")
    page.get_by_text("该账号因多次登录失败已被锁定").wait_for(timeout=15000)
    locked_at = time.monotonic()
    _settled(page)
    page.screenshot(path=str(SHOTS / "security_locked.png"))
    _submit(page, "analyst", "Analyst@2025")  # the right password, too early
    page.get_by_text(re.compile("该账号因多次登录失败已被锁定，请在[1-4]秒后重试")).wait_for(timeout=15000)
    assert "任务推进率" not in page.inner_text("body")
    time.sleep(max(0.0, LOCK_SECONDS + 0.5 - (time.monotonic() - locked_at)))
    _submit(page, "analyst", "Analyst@2025")
    page.get_by_text("任务推进率").first.wait_for(timeout=30000)
    # the owner is told what happened to the account
    page.get_by_text("自上次登录以来，该账号有 3 次密码错误的登录尝试、1 次被锁定").wait_for(timeout=15000)
    context.close()
    # on the record, in order: three wrong passwords (the third locks), the early right one, the login
    entries = _audited(server, start, ("login_success", "analyst"))
    seen = [(e.event, e.username, e.seq, e.ts) for e in entries if e.event != "page_view"]
    assert [s[:2] for s in seen] == [
        ("login_failed", "analyst"), ("login_failed", "analyst"), ("login_failed", "analyst"), ("lockout", "analyst"),
        ("login_blocked", "analyst"), ("login_success", "analyst")], seen


def test_county_user_sees_only_their_county_under_a_watermark(server: dict) -> None:
    start = _audit_seq(server)
    context, page = _page(server, height=1500)
    page.goto(server["url"])
    _login_form(page)
    _submit(page, "yangxian", "Yangxian@2025")
    page.wait_for_selector(".js-plotly-plot", timeout=30000)
    _settled(page)
    text = page.inner_text("body")
    assert "洋县" in text and "任务推进率" in text
    for other in ("汉台区", "南郑区", "城固县", "西乡县", "市教育局", "evil.invalid"):
        assert other not in text
    svg = page.evaluate("""() => {
        const bg = getComputedStyle(document.querySelector('.stApp'), '::after').backgroundImage;
        const m = bg.match(/base64,([^"')]+)/);
        return m ? new TextDecoder().decode(Uint8Array.from(atob(m[1]), c => c.charCodeAt(0))) : '';
    }""")
    assert "洋县纪委监委（yangxian）| 县区用户" in svg and "范围：洋县及所辖乡镇、村" in svg
    layer = page.evaluate("""() => { const s = getComputedStyle(document.querySelector('.stApp'), '::after');
        return [s.position, s.pointerEvents]; }""")
    assert layer == ["fixed", "none"]  # over everything, never in the way of a click
    page.screenshot(path=str(SHOTS / "security_county_watermark.png"))
    # an export: watermarked, stating the scope
    with page.expect_download(timeout=30000) as dl:
        page.get_by_role("button", name="下载 Excel").first.click()
    data = Path(dl.value.path()).read_bytes()
    wb = openpyxl.load_workbook(io.BytesIO(data))
    note = {r[0].value: r[1].value for r in wb["导出说明"].iter_rows()}
    assert note["导出人"] == "洋县纪委监委（yangxian）| 县区用户" and note["数据范围"] == "洋县及所辖乡镇、村"
    # the file's URL is no use without the session's cookie
    assert page.request.get(dl.value.url).status == 200
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(dl.value.url, timeout=10)
    assert refused.value.code == 403 and "未登录或登录已失效" in refused.value.read().decode()
    # a page the role lacks, and a page that does not exist: Chinese pages, not Streamlit's dialog
    for path, heading in (("audit", "无权访问"), ("accounts", "无权访问"), ("no-such-page", "页面不存在")):
        page.goto(f"{server['url']}/{path}")
        page.get_by_role("heading", name=heading).wait_for(timeout=30000)
        _settled(page)
        text = page.inner_text("body")
        assert "Page not found" not in text and "审计日志完整" not in text and "序号" not in text, path
        if path == "accounts":
            assert "您的账号（县区用户）无权查看「账号管理」" in text
            page.screenshot(path=str(SHOTS / "security_no_access.png"))
    context.close()
    entries = _audited(server, start, ("login_success", "yangxian"), ("page_view", "yangxian"), ("export", "yangxian"),
                       ("export_refused", None), ("access_denied", "yangxian"))
    export = next(e for e in entries if e.event == "export")
    assert export.scope == "洋县及所辖乡镇、村" and export.client == "127.0.0.1" and export.rows >= 1
    refused = next(e for e in entries if e.event == "export_refused")
    assert refused.detail["reason"] == "no_session_cookie" and refused.detail["via"] == "media"
    assert sorted(e.target for e in entries if e.event == "access_denied") == ["审计日志", "账号管理"]


def test_names_from_submissions_render_as_text(server: dict) -> None:
    start = _audit_seq(server)
    context, page = _page(server, height=1600)
    page.goto(f"{server['url']}/ranking")
    _login_form(page)
    _submit(page, "leader", "Leader@2025")
    page.get_by_text("得分构成与原始报送").wait_for(timeout=30000)
    page.wait_for_selector(".js-plotly-plot", timeout=30000)
    _settled(page)
    links = page.evaluate("() => [...document.querySelectorAll(\"a[href*='evil.invalid']\")].map(a => a.parentElement.parentElement.outerHTML.slice(0, 600))")
    assert not links, links
    header = page.locator("[data-testid='stMarkdownContainer']", has_text="综合得分").first.inner_text()
    header = header.replace("\u2060", "")  # the invisible word joiner that defuses bare URLs
    assert "[点此](http://evil.invalid)<b>粗</b>:red[红]" in header
    ticks = page.evaluate("() => [...document.querySelectorAll('.js-plotly-plot .xtick text')].map(t => t.textContent)")
    assert EVIL in ticks  # plotly shows the name literally, no bold, no link
    page.screenshot(path=str(SHOTS / "security_escaped_name.png"))
    # the page view is on the record with the filters it was shown with (the ranking opens on the counties)
    views = [e for e in _audited(server, start, ("page_view", "leader")) if e.event == "page_view"]
    ranking = next(e for e in views if e.target == "红旗/蜗牛榜")
    assert ranking.detail["filters"]["rank_group"] == "county" and ranking.detail["page"] == "ranking"
    # 满意度 orders its rows by a category list: the name stays text there too, on its own dot's row
    page.goto(f"{server['url']}/satisfaction")
    page.wait_for_selector(".js-plotly-plot .ytick", timeout=30000)
    _settled(page)
    assert page.evaluate("() => document.querySelectorAll('.js-plotly-plot a').length") == 0
    rows = page.evaluate("() => [...document.querySelectorAll('.js-plotly-plot')].slice(0, 2).map(p => "
                         "[p.data[0].y, p.layout.yaxis.categoryarray, [...p.querySelectorAll('.ytick text')]"
                         ".map(t => t.textContent)])")
    for values, order, labels in rows:
        assert set(values) <= set(order)  # every dot has its row
        assert EVIL in labels
    context.close()


def test_admin_sees_the_audit_entries_of_this_module(server: dict) -> None:
    """Everything the admin's page and export are checked for is done here first, in contexts of this
    test's own: a forged cookie, and a county user's login, page view, export, a refused download of it
    and a page the role lacks."""
    url = server["url"]
    forged_value = forged_cookies("a-key-of-this-test-" + secrets.token_hex(4))[1]
    context, page = _page(server, {"qinglian_session": forged_value})
    page.goto(f"{url}/ranking")
    _login_form(page)
    _settled(page)
    assert "任务推进率" not in page.inner_text("body")
    context.close()
    context, page = _page(server)
    page.goto(url)
    _login_form(page)
    _submit(page, "yangxian", "Yangxian@2025")
    with page.expect_download(timeout=30000) as dl:
        page.get_by_role("button", name="下载 Excel").first.click()
    with pytest.raises(urllib.error.HTTPError):  # the file's URL without the session's cookie
        urllib.request.urlopen(dl.value.url, timeout=10)
    page.goto(f"{url}/audit")
    page.get_by_role("heading", name="无权访问").wait_for(timeout=30000)
    context.close()

    context, page = _page(server, height=1400)
    page.goto(f"{url}/audit")
    _login_form(page)
    _submit(page, "admin", "Admin@2025")
    page.get_by_role("heading", name="审计日志").wait_for(timeout=30000)
    _settled(page)
    text = page.inner_text("body")
    assert "任务推进率" not in text  # the admin manages accounts and the log, not the data
    page.screenshot(path=str(SHOTS / "security_audit.png"), full_page=True)
    with page.expect_download(timeout=30000) as dl:
        page.get_by_role("button", name="下载 Excel").first.click()
    wb = openpyxl.load_workbook(io.BytesIO(Path(dl.value.path()).read_bytes()))
    ws = wb.worksheets[0]
    header = [c.value for c in ws[1]]
    rows = [dict(zip(header, (c.value for c in r), strict=True)) for r in ws.iter_rows(min_row=2)]
    seen = {(r["事件"], r["用户"] or None) for r in rows}
    refusals = [json.loads(r["详情"] or "{}") for r in rows if r["事件"] == "拒绝无效登录凭据"]
    assert {"cookie_prefix": forged_value[:16], "reason": "cookie_not_issued_by_app"} in refusals, refusals
    for expected in [("登录成功", "yangxian"), ("越权访问被拒绝", "yangxian"), ("查看页面", "yangxian"),
                     ("导出", "yangxian"), ("拒绝交付导出/下载", None), ("登录成功", "admin")]:
        assert expected in seen, expected
    export = next(r for r in rows if r["事件"] == "导出" and r["用户"] == "yangxian")
    assert export["范围"] == "洋县及所辖乡镇、村" and export["地址"] == "127.0.0.1" and export["行数"] >= 1
    denied = next(r for r in rows if r["事件"] == "越权访问被拒绝" and r["用户"] == "yangxian")
    assert denied["对象"] == "审计日志" and denied["角色"] == "县区用户"
    # the log checks out, and nothing in the app wrote anything but appends
    assert page.get_by_role("button", name="校验日志完整性").count() == 1
    page.get_by_role("button", name="校验日志完整性").click()
    page.get_by_text(re.compile(r"审计日志完整：共 \d+ 条，与尾部校验记录相符；应用日志中的尾部记录（第 \d+ 条）相符")).wait_for(
        timeout=15000)
    # every append left its head in the application log, in order (the export's own entry too)
    heads = [int(line.split("audit-head seq=")[1].split()[0])
             for line in (server["logs"] / "dashboard.log").read_text().splitlines() if "audit-head seq=" in line]
    assert heads == list(range(1, len(heads) + 1)) and len(heads) > max(r["序号"] for r in rows)
    context.close()
