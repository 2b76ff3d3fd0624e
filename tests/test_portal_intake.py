"""The portal's intake without a browser: the dry run's outcome and reasons, the own-unit rule, duplicates
and corrections, limits before parsing, the audit entries, the receipt PDF, the pre-filled template and
报送情况 — on the hand-made raw layer of tests/fixtures/small_warehouse.py (no dbt build needed)."""

from __future__ import annotations

import io
import subprocess
from datetime import date, datetime, timedelta
from pathlib import Path

import openpyxl
import pandas as pd
import pytest

from ingest.landing_writer import OFFICE_TZ, parse_received
from ingest.limits import Limits
from qinglian.security.scope import Scope
from tests.fixtures.small_warehouse import HT, NZ, YX, build_small_raw

TIANBAO = Scope("tianbao", "洋县清廉办（填报）", "submitter", YX, "county", "洋县")
WHEN = datetime(2026, 1, 8, 10, 0, 0, tzinfo=OFFICE_TZ)


@pytest.fixture(scope="module")
def warehouse(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_small_raw(tmp_path_factory.mktemp("portal_raw") / "warehouse.duckdb")


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict:
    monkeypatch.setenv("QINGLIAN_ENV", "demo")
    monkeypatch.setenv("QINGLIAN_STATE", str(tmp_path / "state"))
    landing = tmp_path / "landing"
    landing.mkdir()
    return {"landing": landing, "state": tmp_path / "state"}


def units_csv(rows: list[tuple[str, str, str, str, str]], unit_line: str = "洋县", period: str = "2025年第四季度") -> bytes:
    lines = [f"{period}清廉单元创建情况台账", f"填报单位：{unit_line}", "单元编码,单元名称,单元类型,所属区划,创建阶段"]
    lines += [",".join(r) for r in rows]
    lines.append("填表人：张三,联系电话：0916-1234567")
    return ("\n".join(lines) + "\n").encode("utf-8")


GOOD = [("QL610723001", "洋县纪委监委机关", "机关", YX, "示范"), ("QL610723002", "洋州第一小学", "学校", "610723001000", "创建中"),
        ("QL610723003", "谢村镇卫生院", "医院", "610723100000", "已达标"), ("QL610723004", "东关社区", "村居", "610723001001", "创建中")]


def _receive(env: dict, warehouse: Path, data: bytes, name: str = "台账.csv", source: str = "units",
             viewer: Scope = TIANBAO, when: datetime = WHEN, **kw):  # noqa: ANN202
    from qinglian.submissions.intake import receive

    return receive(viewer, source, name, data, serving=warehouse, landing=env["landing"], now=when, client="10.0.0.9", **kw)


def test_accepted_file_lands_under_a_generated_name_and_is_audited(env: dict, warehouse: Path) -> None:
    from qinglian.security import audit

    data = units_csv(GOOD)
    got = _receive(env, warehouse, data, name="../../洋县 台账（终稿）.csv")
    u = got.upload
    assert (u.outcome, u.period, u.submitter, u.rows_read, u.rows_loaded, u.rows_rejected) == \
        ("accepted", "2025Q4", YX, 4, 4, 0)
    assert u.original_name == "洋县 台账（终稿）.csv"  # a name, never a path
    stored = env["landing"] / u.landing_rel
    assert stored.parent == env["landing"] / "units" and stored.read_bytes() == data
    assert parse_received(stored.name) == WHEN and u.sha256[:12] in stored.name
    entries = sorted((e for e in audit.log().read() if e.event == "upload"), key=lambda e: e.seq)
    assert [e.detail["stage"] for e in entries] == ["accepted", "recorded"]
    assert entries[-1].username == "tianbao" and entries[-1].client == "10.0.0.9"
    assert entries[-1].detail["sha256"] == u.sha256 and entries[-1].detail["landing"] == u.landing_rel
    assert entries[-1].detail["outcome"] == "accepted" and entries[-1].rows == 4


def test_two_planted_errors_are_reported_as_the_ingest_reports_them(env: dict, warehouse: Path) -> None:
    bad = list(GOOD)
    bad[1] = ("QL610723002", "洋州第一小学", "学校", "610723001000", "差不多")
    bad[2] = ("QL610723003", "谢村镇卫生院", "医院", "火星乡", "已达标")
    got = _receive(env, warehouse, units_csv(bad))
    u = got.upload
    assert (u.outcome, u.rows_read, u.rows_loaded, u.rows_rejected) == ("accepted_with_rejects", 4, 2, 2)
    by_row = {r["row"]: r for r in u.rejects}
    assert set(by_row) == {5, 6}  # title, unit line, header, then rows 4..7
    assert (by_row[5]["column"], by_row[5]["value"]) == ("创建阶段", "差不多")
    assert (by_row[6]["column"], by_row[6]["value"]) == ("所属区划", "火星乡")
    assert by_row[5]["reason"].startswith("第5行 创建阶段 '差不多'") and by_row[6]["reason"].startswith("第6行 所属区划 '火星乡'")
    # exactly what the quarterly ingest would say about the same bytes
    from ingest.pipeline import dry_run

    again = dry_run(units_csv(bad), "台账.csv", "units", warehouse)
    assert again.rejects.select("sheet", "row", "column", "value", "reason").to_dicts() == u.rejects
    # partly accepted files land too (their good rows count), and the correction supersedes them
    fixed = _receive(env, warehouse, units_csv(GOOD), when=WHEN + timedelta(minutes=5)).upload
    from qinglian.submissions.store import SubmissionStore

    first = SubmissionStore().get(u.id, YX)
    assert first.superseded_by == fixed.id and fixed.current and u.landing_rel and fixed.landing_rel != u.landing_rel


def test_another_units_rows_or_name_are_refused_and_nothing_lands(env: dict, warehouse: Path) -> None:
    foreign = [("QL610702001", "汉台区纪委监委机关", "机关", "汉台区", "已达标"), *GOOD[:1]]
    u = _receive(env, warehouse, units_csv(foreign)).upload
    assert u.outcome == "rejected" and u.rows_loaded == 0 and u.landing_rel is None
    assert "不属于本单位" in u.rejects[0]["reason"] and u.rejects[0]["row"] == 4 and u.rejects[0]["value"] == "汉台区"
    assert "整份文件未接收" in u.message
    # all rows of another county, named as that county
    other = _receive(env, warehouse, units_csv([("QL610702001", "汉台区纪委监委机关", "机关", HT, "已达标")], unit_line="汉台区"))
    assert other.upload.outcome == "rejected"
    # the file names another unit although its rows are ours
    named = _receive(env, warehouse, units_csv(GOOD, unit_line="南郑区")).upload
    assert named.outcome == "rejected" and "南郑区" in named.message and "不是本账号所属单位" in named.message
    # a name the warehouse does not know is not taken for ours
    vague = _receive(env, warehouse, units_csv(GOOD, unit_line="洋县清廉建设办公室")).upload
    assert vague.outcome == "rejected" and "不是系统中的规范单位名称" in vague.message
    assert not any(p.is_file() for p in env["landing"].rglob("*"))


def test_only_a_submitter_uploads_and_only_its_sources(env: dict, warehouse: Path) -> None:
    from qinglian.submissions.intake import NotASubmitter, sources_for

    leader = Scope("leader", "领导", "leadership")
    dept = Scope("d01", "纪委填报", "submitter", "D01", "department", "市纪委监委")
    assert sources_for(leader) == () and sources_for(dept) == ("task_progress",)
    for viewer, source in ((leader, "units"), (dept, "units"), (TIANBAO, "regions"), (TIANBAO, "tasks")):
        with pytest.raises(NotASubmitter):
            _receive(env, warehouse, units_csv(GOOD), source=source, viewer=viewer)


def test_an_identical_resend_is_a_duplicate_and_writes_nothing(env: dict, warehouse: Path) -> None:
    first = _receive(env, warehouse, units_csv(GOOD)).upload
    again = _receive(env, warehouse, units_csv(GOOD), when=WHEN + timedelta(hours=1)).upload
    assert again.outcome == "duplicate" and again.duplicate_of == first.id and first.receipt_no in again.message
    assert len([p for p in env["landing"].rglob("*") if p.is_file()]) == 1


def test_limits_apply_before_anything_is_parsed(env: dict, warehouse: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import qinglian.submissions.intake as intake

    def never(*a: object, **k: object) -> None:
        raise AssertionError("parsed a file over the limits")

    monkeypatch.setattr(intake, "dry_run", never)
    big = units_csv(GOOD) + b"x" * 20_000
    u = _receive(env, warehouse, big, limits=Limits(file_mb=0.01)).upload
    assert u.outcome == "rejected" and "超过" in u.message and "MB" in u.message
    bomb = io.BytesIO()
    import zipfile

    with zipfile.ZipFile(bomb, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("[Content_Types].xml", "<Types/>")
        z.writestr("xl/worksheets/sheet1.xml", "<a>" + " " * 3_000_000 + "</a>")
    u = _receive(env, warehouse, bomb.getvalue(), name="炸弹.xlsx", limits=Limits(inflated_mb=1)).upload
    assert u.outcome == "rejected" and "解压后超过 1.0 MB 上限" in u.message
    u = _receive(env, warehouse, b"%PDF-1.4 not a table", name="台账.pdf").upload
    assert u.outcome == "rejected" and ".pdf" in u.message
    assert not any(p.is_file() for p in env["landing"].rglob("*"))


def test_receipt_pdf_embeds_the_font_and_carries_the_facts(env: dict, warehouse: Path) -> None:
    from pypdf import PdfReader

    from qinglian.submissions.receipt import render_receipt

    bad = list(GOOD)
    bad[1] = ("QL610723002", "洋州第一小学", "学校", "610723001000", "差不多")
    u = _receive(env, warehouse, units_csv(bad), name="洋县清廉单元.csv").upload
    pdf = render_receipt(u, "2025年第四季度")
    fonts = []
    for page in PdfReader(io.BytesIO(pdf)).pages:
        for font in page["/Resources"]["/Font"].values():
            desc = font.get_object()["/DescendantFonts"][0].get_object()["/FontDescriptor"].get_object()
            fonts.append((str(font.get_object()["/BaseFont"]), any(k in desc for k in ("/FontFile", "/FontFile2", "/FontFile3"))))
    assert fonts and all(embedded for _, embedded in fonts) and any("NotoSansCJK" in name for name, _ in fonts)
    text = subprocess.run(["pdftotext", "-layout", "-", "-"], input=pdf, capture_output=True, check=True).stdout.decode()
    flat = text.replace(" ", "")
    for fact in (u.receipt_no, u.sha256, "洋县清廉单元.csv", "2026-01-0810:00:00", "读入4行=入库3行+拒收1行", "部分接收",
                 "第5行创建阶段'差不多'"):
        assert fact in flat, fact


def test_prefilled_template_carries_the_units_own_rows_and_parses_back(env: dict, warehouse: Path,
                                                                      tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Built from a serving copy with marts (the browser test builds one); here the marts' few tables the
    template reads are made from the raw layer by hand, so that this stays fast."""
    import duckdb

    from dashboards import data, portal_data
    from ingest.pipeline import dry_run
    from ingest.templates import template_bytes

    serving = tmp_path / "serving.duckdb"
    with duckdb.connect(str(serving)) as con:
        con.execute("create schema marts")
        con.execute("""create table marts.fct_unit_status as select * from (values
            ('QL610723001','洋县纪委监委机关','机关','610723000000','610723000000','2025Q4','示范'),
            ('QL610723002','洋州第一小学','学校','610723001000','610723000000','2025Q4','已达标'),
            ('QL610702001','汉台区纪委监委机关','机关','610702000000','610702000000','2025Q4','已达标'))
            t(unit_code, unit_name, unit_type, region_code, county_code, quarter, stage)""")
        con.execute("""create table marts.dim_quarters as select * from (values
            ('2025Q4', 8103, date '2025-12-31', date '2026-01-10')) t(quarter, quarter_index, quarter_end_date, report_due_date)""")
    src = data.Source(serving, YX, cached=False)
    assert portal_data.due_date(src, "2025Q4") == date(2026, 1, 10)
    assert portal_data.due_date(src, "2026Q1") == date(2026, 3, 31) + (date(2026, 1, 10) - date(2025, 12, 31))
    pf = portal_data.prefill(src, TIANBAO, "units", "2026Q1")
    book = openpyxl.load_workbook(io.BytesIO(template_bytes("units", pf)))
    ws = book["填报表"]
    assert ws["A1"].value == "2026年第一季度 清廉单元创建情况台账" and ws["A2"].value.startswith("填报单位：洋县")
    rows = [[c.value for c in r[:4]] for r in ws.iter_rows(min_row=4, max_row=ws.max_row) if r[0].value]
    assert rows == [["QL610723001", "洋县纪委监委机关", "机关", YX], ["QL610723002", "洋州第一小学", "学校", "610723001000"]]
    assert {"填表说明"} <= set(book.sheetnames)
    assert any("已达标" in str(dv.formula1) for dv in ws.data_validations.dataValidation)  # the 创建阶段 drop-down
    # filled in, it is exactly what the ingest accepts for this unit and period
    for r in range(4, 6):
        ws.cell(r, 5).value = "创建中"
    buf = io.BytesIO()
    book.save(buf)
    parsed = dry_run(buf.getvalue(), "x.xlsx", "units", warehouse)
    assert (parsed.outcome, parsed.period, parsed.submitter, parsed.rows_read) == ("accepted", "2026Q1", YX, 2)


def test_status_on_time_late_other_channel_refused_missing() -> None:
    from qinglian.submissions import status
    from qinglian.submissions.store import Upload

    due = date(2026, 1, 10)
    expected = pd.DataFrame({"unit_code": [HT, NZ, YX, "610722000000", "610724000000"],
                             "unit_name": ["汉台区", "南郑区", "洋县", "城固县", "西乡县"], "unit_group": ["county"] * 5})

    def up(unit: str, outcome: str, day: int, uid: int, superseded: int | None = None) -> Upload:
        return Upload(received_at=datetime(2026, 1, day, 9, tzinfo=OFFICE_TZ), username="u", unit_code=unit, source="units",
                      original_name="f.xlsx", size=1, sha256="a" * 64, outcome=outcome, period="2025Q4", rows_read=4,
                      rows_loaded=4 if outcome != "rejected" else 0, rows_rejected=0 if outcome != "rejected" else 4,
                      id=uid, superseded_by=superseded, message="缺少必填列")

    uploads = [up(HT, "accepted", 10, 1), up(YX, "accepted", 12, 2, superseded=3), up(YX, "accepted", 20, 3),
               up(NZ, "rejected", 5, 4)]
    journal = pd.DataFrame({"submitter": ["城固县清廉办", YX], "submitter_name": ["城固县清廉办", "洋县"],
                            "files": [1, 1], "first_loaded": [None, None]})  # a name the ingest kept as written
    got = status.submission_status(expected, uploads, journal, due).set_index("unit_code")
    assert got.loc[HT, "状态"] == status.ON_TIME  # received on the due day itself
    assert got.loc[YX, "状态"] == status.LATE and got.loc[YX, "说明"] == "逾期 2 天"  # the first accepted upload counts
    assert got.loc[YX, "当前有效回执"] == "HZ20260120-000003" and got.loc[YX, "上传次数"] == 2
    assert got.loc["610722000000", "状态"] == status.OTHER
    assert got.loc[NZ, "状态"] == status.REFUSED and "缺少必填列" in got.loc[NZ, "说明"]
    assert got.loc["610724000000", "状态"] == status.MISSING
    counts = status.summary(got.reset_index())
    assert (counts["应报"], counts[status.ON_TIME], counts[status.LATE], counts[status.OTHER], counts[status.REFUSED],
            counts[status.MISSING]) == (5, 1, 1, 1, 1, 1)


def test_a_correction_without_report_date_is_decided_after_the_file_it_corrects(env: dict, warehouse: Path,
                                                                               tmp_path: Path) -> None:
    """The ingest orders files by stated report date: a portal file that states none is ordered by the day
    it was received (its generated name), not before every dated file — whatever the files' mtimes."""
    import os
    import shutil

    import duckdb

    from ingest.pipeline import ingest_landing

    dated = units_csv([(*r[:4], "创建中") for r in GOOD]).replace("填报单位：洋县".encode(),
                                                               "填报单位：洋县  填报日期：2026-01-08".encode())
    first = env["landing"] / "units" / "洋县单元（初报）.csv"
    first.parent.mkdir()
    first.write_bytes(dated)
    correction = _receive(env, warehouse, units_csv(GOOD), when=WHEN + timedelta(days=1)).upload
    stored = env["landing"] / correction.landing_rel
    os.utime(stored, (1_000_000, 1_000_000))  # older than the first file on disk: mtime must not decide
    copy = tmp_path / "wh.duckdb"
    shutil.copyfile(warehouse, copy)
    ingest_landing(env["landing"], copy)
    with duckdb.connect(str(copy), read_only=True) as con:
        rows = dict(con.execute("""select path, superseded_by is null from raw.ingest_files
                                   where path in (?, ?)""", ["units/洋县单元（初报）.csv", correction.landing_rel]).fetchall())
    assert rows == {"units/洋县单元（初报）.csv": False, correction.landing_rel: True}


def test_status_page_for_a_county_user_shows_only_its_county(env: dict, small_served: Path,
                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    """AppTest of 报送情况 on the session's published serving copy (tests/fixtures/small_built.py): the county
    user 洋县 sees its own row (with the upload just made) and no other county, on screen and in the 催报 list."""
    from streamlit.testing.v1 import AppTest

    from qinglian.submissions.store import SubmissionStore, Upload

    monkeypatch.setenv("QINGLIAN_SERVING", str(small_served))
    monkeypatch.setenv("QINGLIAN_AUTH", "on")
    from dashboards.portal_data import collecting_quarter

    period = collecting_quarter()  # the quarter being collected
    store = SubmissionStore()
    for unit, name in ((YX, "洋县"), (HT, "汉台区")):
        store.add(Upload(received_at=WHEN, username="x", unit_code=unit, unit_name=name, source="units",
                         original_name="f.xlsx", size=1, sha256="b" * 64, outcome="accepted", period=period,
                         rows_read=2, rows_loaded=2))
    at = AppTest.from_file(str(Path(__file__).resolve().parents[1] / "dashboards" / "app.py"), default_timeout=60).run()
    by_label = {t.label: t for t in at.text_input}
    by_label["用户名"].input("yangxian")
    by_label["密码"].input("Yangxian@2025")
    next(b for b in at.button if b.label == "登录").click()
    at.run()
    at.switch_page("pages/portal_status.py").run()
    assert not at.exception, [e.message for e in at.exception]
    assert [t.value for t in at.title] == ["报送情况"]
    at.selectbox(key="status_source").select("units").run()
    at.selectbox(key="status_period_False").select(period).run()
    tables = [t.value for t in at.table]
    shown = " ".join(df.to_csv() for df in tables)
    assert "洋县" in shown and not any(n in shown for n in ("汉台区", "南郑区", "城固县", "西乡县", "市教育局"))
    status = tables[0]
    assert len(status) == 1 and list(status.iloc[0, :3]) == ["洋县", "县区", "按时报送"]


def test_a_landing_folder_that_cannot_be_written_refuses_the_upload_in_chinese(env: dict, warehouse: Path,
                                                                              tmp_path: Path) -> None:
    from qinglian.submissions.intake import receive
    from qinglian.submissions.store import SubmissionStore

    got = receive(TIANBAO, "units", "台账.csv", units_csv(GOOD), serving=warehouse, landing=tmp_path / "no-such-folder")
    u = got.upload
    assert u.outcome == "rejected" and "落地文件夹" in u.message and "请稍后重新上传" in u.message
    assert u.rows_loaded == 0 and u.landing_rel is None
    assert SubmissionStore().get(u.id, YX).outcome == "rejected"
