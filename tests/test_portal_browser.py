"""The submission loop in a browser (Playwright + Debian chromium), end to end.

A clerk of 洋县 (demo account tianbao) logs in, downloads the pre-filled 清廉单元 template for 2025Q4,
fills it in with two planted errors (a 创建阶段 that is no choice, a 所属区划 that does not exist) in a
messy file (a blank row, a footer), uploads it and sees both reasons with sheet, row, column and value;
uploads the corrected file and gets a receipt; tries another county's rows and is refused. The files
are in the landing folder under generated names; after an ingest and a dbt build the correction is in
the marts (洋县's 2025Q4 coverage becomes 2 of 4, from 4 of 4 in the fixture). A task report sent without
填报日期 takes the received date as its report date. The office's 报送情况 shows exactly this test's
uploads. Screenshots (desktop 1440×900, phone 390×844): screenshots/portal_*.png.

The warehouse is tests/fixtures/small_warehouse.py's hand-made raw layer, built once by dbt.
"""

from __future__ import annotations

import io
import os
import re
import shutil
import subprocess
import time
from datetime import date
from pathlib import Path

import duckdb
import openpyxl
import pytest

from tests.fixtures.browser import BROWSER_GROUP, SHOTS, settle
from tests.fixtures.small_warehouse import HT, YX

NO_TESTS = "resource_type:test resource_type:unit_test"
YX_UNITS = [("QL610723001", "洋县纪委监委机关", "机关", YX), ("QL610723002", "洋州第一小学", "学校", "610723001000"),
            ("QL610723003", "谢村镇卫生院", "医院", "610723100000"), ("QL610723004", "东关社区", "村居", "610723001001")]
STAGES = ["示范", "创建中", "已达标", "创建中"]
OTHER_COUNTIES = ("汉台区", "南郑区", "城固县", "西乡县")  # the correction: 2 of 4 at 已达标 or above

pytestmark = [pytest.mark.browser, BROWSER_GROUP]


@pytest.fixture(scope="module")
def app(small_built: tuple[Path, object], small_served: Path, streamlit_app, chromium) -> dict:
    """The app every browser file shares (tests/fixtures/browser.py), on the session's published copy of the
    small warehouse; "built" is the dbt build it was published from (the ingest below starts from a copy)."""
    served = streamlit_app("served", small_served)
    return {**served, "browser": chromium, "built": small_built[0]}


def _settled(page: object) -> None:
    """The rerun has finished: no running indicator and no element left over from the previous run."""
    page.wait_for_timeout(300)  # type: ignore[attr-defined]  # let a rerun just triggered begin
    settle(page)  # Streamlit's run over, nothing stale, charts drawn, painted (fixtures/browser.py)


def _login(app: dict, user: str, password: str, width: int = 1440, height: int = 900):  # noqa: ANN202
    context = app["browser"].new_context(viewport={"width": width, "height": height}, locale="zh-CN",
                                         accept_downloads=True)
    page = context.new_page()
    page.goto(app["url"])
    page.get_by_label("用户名").wait_for(timeout=60000)
    page.get_by_label("用户名").fill(user)
    page.get_by_label("密码").fill(password)
    page.get_by_role("button", name="登录").click()
    return context, page


def _choose(page: object, label: str, option: str) -> None:
    """Pick an option of a selectbox, again if a rerun still under way swallowed the first click."""
    for _ in range(3):
        _settled(page)
        page.get_by_label(label).click()  # type: ignore[attr-defined]
        page.get_by_role("option", name=option, exact=True).click()  # type: ignore[attr-defined]
        _settled(page)
        if page.get_by_label(label).input_value() == option:  # type: ignore[attr-defined]
            return
    raise AssertionError(f"{label}: could not choose {option}")


def _text(page: object) -> str:
    # Text the app escaped carries invisible word joiners; compare what a reader sees. Table cells hold
    # paragraphs: one tab between cells, one line per row.
    text = page.inner_text("body").replace("\u2060", "")  # type: ignore[attr-defined]
    return re.sub(r"\n{3,}", "\n", re.sub(r"\s*\t\s*", "\t", text))


def _submit(page: object, path: Path) -> str:
    page.locator("input[type=file]").set_input_files(str(path))  # type: ignore[attr-defined]
    button = page.get_by_role("button", name="提交报送")  # type: ignore[attr-defined]
    button.and_(page.locator(":enabled")).wait_for(timeout=30000)  # type: ignore[attr-defined]
    button.click()
    page.get_by_text("检查结果").wait_for(timeout=60000)  # type: ignore[attr-defined]
    page.get_by_text(f"{path.name} —").first.wait_for(timeout=60000)  # type: ignore[attr-defined]
    page.get_by_role("button", name="下载回执（PDF）").first.wait_for(timeout=60000)  # the result's last element
    _settled(page)
    text = _text(page)
    return text[text.index("检查结果"):]


def _fill(template: Path, out: Path, stages: list[str], planted: bool) -> None:
    book = openpyxl.load_workbook(template)
    ws = book["填报表"]
    header = [c.value for c in ws[3]]
    col = {name: header.index(name) + 1 for name in ("单元编码", "所属区划", "创建阶段")}
    for r, stage in enumerate(stages, start=4):
        ws.cell(r, col["创建阶段"]).value = stage
    if planted:
        ws.cell(5, col["创建阶段"]).value = "差不多"  # error 1: not a choice
        ws.cell(6, col["所属区划"]).value = "火星乡"  # error 2: no such region
    # messy: a blank row, then the footer a clerk adds
    ws.cell(9, 1).value = "填表人：张三"
    ws.cell(9, 3).value = "联系电话：0916-2345678"
    book.save(out)


def test_the_submission_loop_end_to_end(app: dict, tmp_path: Path) -> None:
    context, page = _login(app, "tianbao", "Tianbao@2025")
    page.get_by_role("button", name="提交报送").wait_for(timeout=60000)
    _settled(page)
    assert "报送单位：洋县" in _text(page)
    _choose(page, "报送内容", "清廉单元创建台账")
    _choose(page, "报告期", "2025年第四季度")
    assert "报送截止日期：2026年01月10日" in _text(page)  # the warehouse's report_due_date for 2025Q4
    assert not any(name in _text(page) for name in OTHER_COUNTIES)
    page.screenshot(path=str(SHOTS / "portal_upload.png"))

    # 1. the pre-filled template: this county's units only, its title, unit line, drop-downs and notes
    with page.expect_download() as dl:
        page.get_by_role("button", name="下载预填模板（Excel）").click()
    template = tmp_path / "template.xlsx"
    dl.value.save_as(template)
    book = openpyxl.load_workbook(template)
    ws = book["填报表"]
    assert ws["A1"].value == "2025年第四季度 清廉单元创建情况台账" and ws["A2"].value.startswith("填报单位：洋县")
    rows = [tuple(c.value for c in r[:4]) for r in ws.iter_rows(min_row=4, max_row=ws.max_row) if r[0].value]
    assert rows == YX_UNITS  # the fixture's four 洋县 units, nobody else's
    assert "填表说明" in book.sheetnames and ws.data_validations.dataValidation
    assert book.properties.keywords.startswith("qinglian-watermark;tianbao")

    # 2. the messy file with two planted errors: both reasons, with sheet, row, column and value
    messy = tmp_path / "洋县2025年第四季度清廉单元.xlsx"
    _fill(template, messy, STAGES, planted=True)
    started = time.monotonic()
    shown = _submit(page, messy)
    answered = time.monotonic() - started
    reasons = ("第5行 创建阶段 '差不多' 不是可选值", "第6行 所属区划 '火星乡'")
    for _ in range(20):  # under load the table's delta can arrive after the receipt button has shown
        if all(r in shown for r in reasons):
            break
        time.sleep(0.5)
        shown = _text(page)[_text(page).index("检查结果"):]
    assert "部分接收（有拒收行）（读入 4 行 = 入库 2 行 + 拒收 2 行）" in shown, shown
    assert all(r in shown for r in reasons), shown
    for cell in ("填报表\t5\t创建阶段\t差不多", "填报表\t6\t所属区划\t火星乡"):
        assert cell in shown, cell  # the 问题清单 table: sheet, row, column, value
    page.get_by_text("在原表中查看").first.click()
    _settled(page)
    assert page.locator("td[style*='background-color']").count() or "background-color" in page.content()
    page.get_by_text("检查结果").scroll_into_view_if_needed()
    page.screenshot(path=str(SHOTS / "portal_rejects.png"))
    with page.expect_download() as dl:
        page.get_by_role("button", name="下载问题清单（Excel）").click()
    issues = openpyxl.load_workbook(io.BytesIO(Path(dl.value.path()).read_bytes()))
    listed = [[c.value for c in r] for r in issues["问题清单"].iter_rows(min_row=4)]
    assert [r[:4] for r in listed] == [["填报表", 5, "创建阶段", "差不多"], ["填报表", 6, "所属区划", "火星乡"]]
    assert "导出说明" in issues.sheetnames  # watermarked like every export

    # 3. the corrected file: accepted, with a receipt
    fixed = tmp_path / "洋县2025年第四季度清廉单元（更正）.xlsx"
    _fill(template, fixed, STAGES, planted=False)
    shown = _submit(page, fixed)
    assert "已接收（读入 4 行 = 入库 4 行 + 拒收 0 行）" in shown
    with page.expect_download() as dl:
        page.get_by_role("button", name="下载回执（PDF）").click()
    # -raw: the receipt's own text in its order (the watermark stamped over it follows)
    receipt = subprocess.run(["pdftotext", "-raw", str(dl.value.path()), "-"], capture_output=True, text=True,
                             check=True).stdout.replace(" ", "")
    assert "查看/导出：洋县清廉办（填报）（tianbao）" in receipt
    import hashlib

    sha = hashlib.sha256(fixed.read_bytes()).hexdigest()
    assert sha in receipt and fixed.name in receipt and "读入4行=入库4行+拒收0行" in receipt and "已接收" in receipt

    # 4. another county's rows: refused, nothing lands
    foreign = tmp_path / "错报单元.csv"
    foreign.write_text("2025年第四季度清廉单元创建情况台账\n填报单位：洋县\n单元编码,单元名称,单元类型,所属区划,创建阶段\n"
                       f"QL610702001,汉台区纪委监委机关,机关,{HT},已达标\n", encoding="utf-8")
    shown = _submit(page, foreign)
    assert "已拒收" in shown and f"第4行 所属区划 '{HT}' 不属于本单位（洋县）" in shown

    # the landing folder: the two accepted files under generated names, the receipt's bytes among them
    stored = sorted(p for p in (app["landing"] / "units").iterdir())
    assert len(stored) == 2 and all(p.name.startswith(f"{YX}_2025Q4_") for p in stored)
    assert {hashlib.sha256(p.read_bytes()).hexdigest() for p in stored} == {
        hashlib.sha256(messy.read_bytes()).hexdigest(), sha}
    assert not list(app["landing"].rglob(".*"))  # no temporary file left

    # 5. history: every upload of the quarter, the first one superseded by the correction
    page.goto(f"{app['url']}/submissions")
    page.get_by_text("查看回执").first.wait_for(timeout=60000)
    _settled(page)
    text = _text(page)
    assert text.count("清廉单元创建台账") >= 3 and "已被更正文件替代" in text and "当前有效" in text and "未接收" in text
    assert not any(name in text for name in OTHER_COUNTIES)  # nothing of another unit
    page.screenshot(path=str(SHOTS / "portal_history.png"))
    # a submitter opens no office page and no data page
    for url in ("submission-status", "overview", "ranking"):
        page.goto(f"{app['url']}/{url}")
        page.get_by_text("无权访问").wait_for(timeout=30000)
    context.close()

    # phone size
    context, page = _login(app, "tianbao", "Tianbao@2025", 390, 844)
    page.get_by_role("button", name="提交报送").wait_for(timeout=60000)
    _settled(page)
    if page.get_by_test_id("stSidebarCollapseButton").count():
        page.get_by_test_id("stSidebarCollapseButton").locator("button").click()
        _settled(page)
    page.screenshot(path=str(SHOTS / "portal_upload_phone.png"))
    context.close()

    # 6. 报送情况 for the office: exactly this test's uploads, and who has not reported
    context, page = _login(app, "leader", "Leader@2025")
    page.get_by_text("任务推进率").first.wait_for(timeout=60000)
    page.goto(f"{app['url']}/submission-status")
    page.get_by_text("催报名单", exact=True).wait_for(timeout=60000)
    _settled(page)
    _choose(page, "报送内容", "清廉单元创建台账")
    _choose(page, "报告期", "2025年第四季度")
    text = _text(page)
    received = _uploads(app)
    first_accepted = min(u.received_at for u in received if u.loaded)
    late_by = (first_accepted.date() - date(2026, 1, 10)).days
    assert len(received) == 3
    current = next(u for u in received if u.current)
    row = next(line for line in text.splitlines() if line.startswith("洋县\t"))
    assert "\t逾期报送\t" in row and f"\t3\t{current.receipt_no}\t4\t4\t0\t逾期 {late_by} 天" in row
    for county in ("汉台区", "城固县", "西乡县"):  # the fixture's own 2025Q4 ledgers, loaded before the portal
        assert next(line for line in text.splitlines() if line.startswith(f"{county}\t")).split("\t")[2] == "已入库（其他渠道）"
    chase = text[text.index("催报名单"):]
    assert "南郑区" in chase and "洋县" not in chase  # 南郑区 sent no unit ledger for Q3 and Q4
    page.screenshot(path=str(SHOTS / "portal_status.png"))
    context.close()

    # 7. after an ingest and a build the correction is in the marts; a task report without 填报日期 is dated
    #    by its receipt
    _task_report_without_date(app)
    warehouse = app["base"] / "after.duckdb"
    shutil.copyfile(app["built"], warehouse)
    from ingest.pipeline import ingest_landing
    from qinglian.build import build_marts

    summary = ingest_landing(app["landing"], warehouse)
    outcomes = sorted((f.rel.split("/")[0], f.outcome) for f in summary.files)
    assert outcomes == [("task_progress", "accepted"), ("units", "accepted"), ("units", "accepted_with_rejects")]
    result = build_marts(warehouse, select="+kpi_unit_coverage +fct_task_status", exclude=NO_TESTS,
                         target_path=app["base"] / "target2")
    assert result.success, result
    with duckdb.connect(str(warehouse), read_only=True) as con:
        cov = con.execute("""select units_registered, units_standard, units_model, coverage_rate from marts.kpi_unit_coverage
                             where region_code = ? and quarter = '2025Q4' and unit_type = '全部'""", [YX]).fetchone()
        before = duckdb.connect(str(app["built"]), read_only=True)
        was = before.execute("""select units_registered, units_standard from marts.kpi_unit_coverage
                                where region_code = ? and quarter = '2025Q4' and unit_type = '全部'""", [YX]).fetchone()
        before.close()
        tasks = con.execute("""select task_code, report_date, reported_on_time from marts.fct_task_status
                               where owner_code = ? and quarter = '2025Q4' order by 1""", [YX]).fetchall()
    assert was == (4, 4)
    assert cov == (4, 2, 1, 0.5)  # 示范 + 已达标 of four (创建中 twice)
    task_received = app["task_received"]
    assert tasks == [("RW19", task_received, False), ("RW20", task_received, False)]  # received after 2026-01-10
    assert answered < 30


def _uploads(app: dict) -> list:
    from qinglian.submissions.store import SubmissionStore

    saved = {k: os.environ.get(k) for k in ("QINGLIAN_STATE", "QINGLIAN_ENV")}
    os.environ.update(QINGLIAN_STATE=str(app["state"]), QINGLIAN_ENV="demo")
    try:
        return [u for u in SubmissionStore().all("2025Q4") if u.source == "units"]
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


def _task_report_without_date(app: dict) -> None:
    """洋县's 2025Q4 task report, corrected through the portal's intake, with an empty 填报日期."""
    from qinglian.security.scope import Scope
    from qinglian.submissions.intake import receive

    csv = ("2025年第四季度清廉建设重点任务推进情况台账\n填报单位：洋县\n任务编号,任务名称,牵头单位,季度,推进状态,完成进度,填报日期\n"
           "RW19,洋县清廉村居示范创建,洋县,2025Q4,已完成,100,\nRW20,洋县廉洁文化阵地建设,洋县,2025Q4,按序推进,80,\n").encode()
    saved = {k: os.environ.get(k) for k in ("QINGLIAN_STATE", "QINGLIAN_ENV")}
    os.environ.update(QINGLIAN_STATE=str(app["state"]), QINGLIAN_ENV="demo")
    try:
        got = receive(Scope("tianbao", "洋县清廉办（填报）", "submitter", YX, "county", "洋县"), "task_progress",
                      "洋县推进台账.csv", csv, serving=app["serving"], landing=app["landing"])
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
    assert got.upload.outcome == "accepted", got.upload.message
    app["task_received"] = got.upload.received_at.date()
