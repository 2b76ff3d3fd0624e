"""A corpus of hostile submissions, generated here, each with the outcome a clerk should get, and the
peak memory of the ingest that reads them measured in a child process (its max RSS).

Expected outcomes and reasons are written out by hand from the rules: a limit is refused before
the file is parsed, with a Chinese reason that says what to do; a hidden character or a huge cell
rejects its row, naming row, column and length; a link is never followed; a file in the wrong
place is named with where it should go; a multi-sheet ledger loads every data sheet with its
sheet lineage; dates are the dates Excel shows.
"""

from __future__ import annotations

import datetime as dt
import os
import shutil
import subprocess
from pathlib import Path

import duckdb
import pytest
import xlsxwriter

from tests import faultkit, hostile
from tests.test_ingest_loading import reference_landing

pytestmark = pytest.mark.faults

UNITS_TITLE = [["2025年第一季度清廉单元创建情况台账"], ["填报单位：洋县  填报日期：2025年4月5日"]]
UNITS_HEADER = ["单元编码", "单元名称", "单元类型", "所属区划", "创建阶段", "评估得分", "评估日期"]
INSP_TITLE = [["2025年第一季度 巡察发现问题整改台账"], ["填报单位：洋县"]]
INSP_HEADER = ["问题编号", "巡察轮次", "被巡察单位", "所属区划", "问题类别", "问题描述", "发现日期", "整改时限", "整改状态", "完成日期", "是否销号", "责任人"]
AT_LIMIT_ROWS = 99_990  # default limit: 100,000 rows per sheet (title and header rows count)
MB = 1024 * 1024


def units_rows(n: int, prefix: str = "U") -> list[list[object]]:
    return [*UNITS_TITLE, UNITS_HEADER,
            *[[f"{prefix}{i:06d}", f"单元{i}", "学校", "洋县", "已达标", 90, "2025-03-31"] for i in range(n)]]


def insp_row(code: str, body: str = "洋州街道党工委", description: str = "问题描述", person: str = "赵六") -> list[object]:
    return [code, "第一轮", body, "洋州街道", "作风", description, "2025-01-10", "2025-03-31", "已整改", "2025-03-20", "是", person]


def _xlsxwriter(path: Path, sheets: dict[str, list[list[object]]], dates: dict[tuple[str, int, int], float] | None = None) -> Path:
    """A workbook written by xlsxwriter (for styled date cells: Excel serial numbers)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    wb = xlsxwriter.Workbook(str(path))
    date_fmt = wb.add_format({"num_format": "yyyy-mm-dd"})
    for name, rows in sheets.items():
        ws = wb.add_worksheet(name)
        for r, row in enumerate(rows):
            for c, v in enumerate(row):
                if v is not None:
                    ws.write(r, c, v)
        for (sheet, r, c), serial in (dates or {}).items():
            if sheet == name:
                ws.write_number(r, c, serial, date_fmt)
    wb.close()
    return path


# What each generated file must end as: (outcome, a phrase its reason must contain).
EXPECTED: dict[str, tuple[str, str | None]] = {}


def build_corpus(root: Path) -> tuple[Path, Path]:
    landing, outside = root / "landing", root / "outside"
    reference_landing(landing)
    outside.mkdir(parents=True)

    def expect(rel: str, outcome: str, reason: str | None = None) -> Path:
        EXPECTED[rel] = (outcome, reason)
        return landing / rel

    # Zip bombs: a high ratio (1 GB from about 1 MB; headers honest, then lying), many entries,
    # overlapping entries, a compression method Excel does not use.
    hostile.bomb_xlsx(expect("units/bomb_ratio.xlsx", "rejected", "文件解压后超过 256.0 MB 上限"), [*UNITS_TITLE, UNITS_HEADER], 1024)
    hostile.bomb_xlsx(expect("units/bomb_lying.xlsx", "rejected", "文件解压后超过 256.0 MB 上限"), [*UNITS_TITLE, UNITS_HEADER], 300,
                      declared=4096)
    hostile.many_entries_xlsx(expect("units/bomb_entries.xlsx", "rejected", "超过上限 1000 个"), units_rows(3), 5000)
    hostile.overlapping_xlsx(expect("units/bomb_overlap.xlsx", "rejected", "多个组成部分相互重叠"), units_rows(3), 200)
    hostile.bzip2_xlsx(expect("units/bzip2.xlsx", "rejected", "Excel 不使用的压缩方式"), units_rows(3))
    # One cell at XFD1048576: a reader would allocate 17 billion cells.
    far = units_rows(3) + [[None] * 16383 + ["x"]]
    hostile.write_xlsx(expect("units/dense_range.xlsx", "rejected", "延伸到第 1048576 行"), [("Sheet1", far[:6])],
                       extra="")
    _far_cell(landing / "units/dense_range.xlsx")
    # Entity expansion ("billion laughs") and too many merged ranges.
    laughs = '<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">]>'
    hostile.write_xlsx(expect("units/entities.xlsx", "rejected", "DTD/实体声明"), [("Sheet1", units_rows(2))], prolog=laughs)
    hostile.write_xlsx(expect("units/merges.xlsx", "rejected", "合并单元格超过 20000 处"), [("Sheet1", units_rows(2))],
                       merges=[f"H{i}:I{i}" for i in range(1, 25_001)])
    # Rows: 200,000 (over the limit) and just under it (accepted: the largest file that loads).
    hostile.write_xlsx(expect("units/rows_200k.xlsx", "rejected", "共 200003 行），超过单个工作表 100000 行的上限"),
                       [("Sheet1", units_rows(200_000, "R"))], level=1)
    hostile.write_xlsx(expect("units/at_limit.xlsx", "accepted"), [("Sheet1", units_rows(AT_LIMIT_ROWS, "L"))], level=1)
    # Over the file-size limit (sparse: costs no disk), an empty file, a pipe, an Office lock file.
    big = expect("units/huge.xlsx", "skipped", "文件大小 60.0 MB，超过 50 MB 上限，未读取")
    with big.open("wb") as fh:
        fh.truncate(60 * MB)
    expect("units/empty.xlsx", "rejected", "文件是空的（0 字节）").write_bytes(b"")
    os.mkfifo(expect("units/pipe.xlsx", "skipped", "不是普通文件"))
    expect("units/~$洋县.xlsx", "ignored", "Office 临时锁定文件").write_bytes(b"\x00" * 165)
    hostile.write_xlsx(landing / "_归档" / "洋县_旧.xlsx", [("Sheet1", units_rows(2, "Z"))])
    EXPECTED["_归档/"] = ("ignored", "以 _ 开头的文件夹（如归档、说明），按约定其中的文件都不读取")
    # Encrypted and mislabeled files.
    hostile.encrypted_xlsx(expect("units/encrypted.xlsx", "rejected", "设置了打开密码"), units_rows(2))
    expect("units/text_as.xlsx", "accepted", "内容是 CSV 文本，已按 CSV 读取").write_text(hostile.csv_text(units_rows(2, "T")), encoding="utf-8")
    shutil.copy(hostile.write_xlsx(root / "book.xlsx", [("Sheet1", units_rows(2, "B"))]), expect("units/book_as.csv", "accepted", "内容是 Excel 工作簿，已按 Excel 读取"))
    expect("units/report.xlsx", "rejected", "PDF 文档").write_bytes(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj<<>>endobj\n")
    expect("units/export.xls", "rejected", "网页（HTML）").write_text("<html><body><table><tr><td>单元编码</td></tr></table></body></html>", encoding="utf-8")
    hostile.docx(expect("units/word.xlsx", "rejected", "Word 文档"))
    expect("units/notes.txt", "rejected", "不支持的文件类型「.txt」").write_text("备注", encoding="utf-8")
    # Links: out of the folder (to a valid ledger — it must not be read), inside it, and a source
    # folder that is itself a link out.
    secret = hostile.write_xlsx(outside / "secret.xlsx", [("Sheet1", units_rows(2, "S"))])
    os.symlink(secret, expect("units/link_out.xlsx", "skipped", "落地文件夹以外"))
    os.symlink("../units/text_as.xlsx", expect("units/link_in.xlsx", "skipped", "落地文件夹内 units/text_as.xlsx 的链接"))
    (outside / "surveys").mkdir()
    shutil.copy(secret, outside / "surveys" / "secret.xlsx")
    os.symlink(outside / "surveys", expect("surveys", "skipped", "落地文件夹以外"))
    # Files in no source folder.
    hostile.write_xlsx(expect("洋县_2025Q1_清廉单元台账.xlsx", "rejected", "文件放在落地文件夹根目录，不在任何来源文件夹中：内容是「清廉单元创建台账」，请移到 units/ 文件夹"),
                       [("Sheet1", units_rows(2, "X"))])
    hostile.write_xlsx(expect("misc/洋县台账.xlsx", "rejected", "文件放在未知文件夹 misc/，不在任何来源文件夹中：内容是「清廉单元创建台账」"),
                       [("Sheet1", units_rows(2, "Y"))])
    # Huge cells, the same ledger as .xlsx and .csv: the row is rejected with the same reason.
    long_rows = [*INSP_TITLE, INSP_HEADER, insp_row("H1"), insp_row("H2", description="长" * 1_000_000), insp_row("H3")]
    hostile.write_xlsx(expect("inspections/long_cell.xlsx", "accepted_with_rejects"), [("Sheet1", long_rows)])
    expect("inspections/long_cell.csv", "accepted_with_rejects").write_text(hostile.csv_text(long_rows), encoding="utf-8")
    # NUL, a right-to-left override, and emoji (which is text like any other).
    hidden = [*INSP_TITLE, INSP_HEADER, insp_row("N1", person="赵\x00六"), insp_row("N2", body="洋州街道\u202e委工党"),
              insp_row("N3", description="整改到位👍🏻群众点赞🎉")]
    expect("inspections/hidden.csv", "accepted_with_rejects").write_text(hostile.csv_text(hidden), encoding="utf-8")
    # In an .xlsx a NUL is stored the way Excel escapes control characters, _x0000_.
    hidden_xlsx = [*hidden[:3], insp_row("N1", person="赵_x0000_六"), *hidden[4:]]
    hostile.write_xlsx(expect("inspections/hidden.xlsx", "accepted_with_rejects"), [("Sheet1", hidden_xlsx)])
    # Dates as Excel stores them: serials 1, 59, 60 (Excel shows the nonexistent 1900-02-29), 61.
    rows = [*INSP_TITLE, INSP_HEADER, *[insp_row(f"D{i}") for i in range(4)]]
    _xlsxwriter(expect("inspections/early_dates.xlsx", "accepted_with_rejects"), {"Sheet1": rows},
                {("Sheet1", 3 + i, 6): serial for i, serial in enumerate((1, 59, 60, 61))})
    # A sheet whose table starts on row 3: row numbers in reasons are the rows Excel shows.
    top = [None, None, *INSP_TITLE, INSP_HEADER, insp_row("T1"), insp_row("T2"), [*insp_row("T3")[:8], "做完了", *insp_row("T3")[9:]]]
    _xlsxwriter(expect("inspections/blank_top.xlsx", "accepted_with_rejects"), {"台账": top[2:]})
    _shift_rows(landing / "inspections/blank_top.xlsx", 2)
    # Multi-sheet ledgers of every periodic source: row numbers repeat across sheets.
    hostile.write_xlsx(expect("inspections/two_sheets.xlsx", "accepted"), [
        ("市直部门", [*INSP_TITLE, INSP_HEADER, insp_row("M1", body="市教育局"), insp_row("M2", body="市教育局")]),
        ("县区", [*INSP_TITLE, INSP_HEADER, insp_row("C1"), insp_row("C2")])])
    hostile.write_xlsx(expect("units/two_sheets.xlsx", "accepted"), [("学校", units_rows(2, "P")), ("医院", units_rows(3, "Q"))])
    tp_title, tp_header = [["2025年第一季度 清廉建设重点任务推进情况台账"], ["填报单位：市教育局  填报日期：2025年4月8日"]], \
        ["任务编号", "任务名称", "牵头单位", "季度", "推进状态", "完成进度", "工作进展"]
    hostile.write_xlsx(expect("task_progress/two_sheets.xlsx", "accepted"), [
        ("市直部门", [*tp_title, tp_header, ["1.1", "政治生态评估", "市纪委", "2025年第一季度", "按序推进", 50, "进展"],
                   ["1.2", "清廉学校建设", "市教育局", "2025年第一季度", "已完成", 100, "完成"]]),
        ("县区", [*tp_title, tp_header, ["Y1", "清廉村居", "洋县", "2025年第一季度", "滞后", 20, "滞后"]])])
    sv_title, sv_header = [["2025年度 群众满意度测评问卷数据"], ["填报单位：市统计局调查队"]], ["问卷编号", "测评批次", "所属区划", "受访者类型", "调查方式", "Q1", "Q2"]
    hostile.write_xlsx(expect("cases/two_sheets.xlsx", "accepted"), [
        ("洋县", [["2025年1-3月 监督执纪统计表"], ["填报单位：市纪委监委"], ["所属区划", "统计期", "统计口径", "立案", "处分"],
                ["洋县", "2025年1-3月", "累计", 3, 2]]),
        ("汉台区", [["2025年1-3月 监督执纪统计表"], ["填报单位：市纪委监委"], ["所属区划", "统计期", "统计口径", "立案", "处分"],
                 ["汉台区", "2025年1-3月", "累计", 5, 4]])])
    # Surveys go in a folder of their own name, which above is a link: a second folder for them.
    EXPECTED["surveys_two_sheets"] = ("accepted", None)
    root_sv = root / "surveys_landing"
    reference_landing(root_sv)
    hostile.write_xlsx(root_sv / "surveys" / "two_sheets.xlsx", [
        ("洋县", [*sv_title, sv_header, ["S1", "2025年度", "洋县", "群众", "电话", "很满意", "满意"]]),
        ("汉台区", [*sv_title, sv_header, ["S2", "2025年度", "汉台区", "企业", "网络", "满意", "不了解"],
                 ["S3", "2025年度", "汉台区", "群众", "入户", "基本满意", "很满意"]])])
    return landing, outside


def _far_cell(path: Path) -> None:
    """Add one cell at XFD1048576 to the workbook's sheet (rewritten whole: the file is tiny)."""
    import zipfile

    with zipfile.ZipFile(path) as z:
        parts = [(n, z.read(n)) for n in z.namelist()]
    parts = [(n, d.replace(b"</sheetData>", b'<row r="1048576"><c r="XFD1048576"><v>1</v></c></row></sheetData>')
              if n.endswith("sheet1.xml") else d) for n, d in parts]
    hostile.write_zip(path, parts)


def _shift_rows(path: Path, by: int) -> None:
    """Move every row of an xlsxwriter sheet down by `by` rows (rows 1..by left empty)."""
    import re
    import zipfile

    with zipfile.ZipFile(path) as z:
        parts = [(n, z.read(n)) for n in z.namelist()]

    def shift(xml: bytes) -> bytes:
        xml = re.sub(rb'<row r="(\d+)"', lambda m: b'<row r="%d"' % (int(m[1]) + by), xml)
        xml = re.sub(rb'<c r="([A-Z]+)(\d+)"', lambda m: b'<c r="%s%d"' % (m[1], int(m[2]) + by), xml)
        return re.sub(rb'<dimension ref="[^"]*"/>', b"", xml)

    hostile.write_zip(path, [(n, shift(d) if n.startswith("xl/worksheets/") else d) for n, d in parts])


def _ingest_child(landing: Path, warehouse: Path, log_dir: Path) -> tuple[subprocess.CompletedProcess, int]:
    """`qinglian ingest` in a child process; returns its result and its peak resident memory."""
    peak = log_dir / f"peak-{warehouse.stem}"
    log_dir.mkdir(parents=True, exist_ok=True)
    out = faultkit.qinglian(["ingest", "--landing", str(landing), "--warehouse", str(warehouse)], faults=[],
                            env={"QINGLIAN_LOG_DIR": str(log_dir), faultkit.HWM_ENV: str(peak)}, timeout=300)
    return out, int(peak.read_text())


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> dict:
    root = tmp_path_factory.mktemp("hostile")
    landing, outside = build_corpus(root)
    warehouse = root / "w.duckdb"
    out, peak = _ingest_child(landing, warehouse, root / "logs")
    sv_out, _ = _ingest_child(root / "surveys_landing", root / "sv.duckdb", root / "logs")
    bomb = root / "bomb_only"
    reference_landing(bomb)
    (bomb / "units").mkdir()
    shutil.copy(landing / "units/bomb_ratio.xlsx", bomb / "units" / "bomb_ratio.xlsx")
    bomb_out, bomb_peak = _ingest_child(bomb, root / "bomb.duckdb", root / "logs")
    with duckdb.connect(str(warehouse), read_only=True) as con:
        files = {p: (o, m) for p, o, m in con.execute("select path, outcome, message from raw.ingest_files").fetchall()}
        rejects = con.execute('select file, sheet, "row", "column", value, reason from raw.ingest_rejects order by all').fetchall()
    lines = {}
    for line in out.stdout.splitlines():
        parts = line.split("  ")
        if len(parts) >= 2:
            lines[parts[1]] = line
    return {"root": root, "landing": landing, "warehouse": warehouse, "out": out, "peak": peak, "files": files,
            "rejects": rejects, "lines": lines, "sv": sv_out, "sv_warehouse": root / "sv.duckdb",
            "bomb_out": bomb_out, "bomb_peak": bomb_peak}


def test_every_hostile_file_gets_its_expected_outcome_and_reason(corpus) -> None:
    out = corpus["out"]
    assert out.returncode == 0, out.stdout[-3000:] + out.stderr[-3000:]
    assert "Traceback" not in out.stdout + out.stderr
    for rel, (outcome, reason) in EXPECTED.items():
        if rel == "surveys_two_sheets":
            continue
        if outcome in ("accepted", "accepted_with_rejects", "rejected", "duplicate"):
            assert rel in corpus["files"], rel
            got, message = corpus["files"][rel]
            assert got == outcome, (rel, got, message)
            if reason:
                assert reason in (message or ""), (rel, message)
        else:  # not journaled: the outcome line says it
            line = corpus["lines"].get(rel, "")
            label = {"skipped": "未读取", "ignored": "已忽略"}[outcome]
            assert line.startswith(label), (rel, line)
            assert reason in line.replace(" …", ""), (rel, line)


def test_limits_are_checked_before_parsing_and_memory_stays_bounded(corpus) -> None:
    # The 1 GB bomb alone: refused after inflating at most the 256 MB cap, never held in memory.
    assert corpus["bomb_out"].returncode == 0
    assert "文件解压后超过 256.0 MB 上限" in corpus["bomb_out"].stdout
    assert corpus["bomb_peak"] < 300 * MB, corpus["bomb_peak"] / MB
    # The whole corpus, including a 99,990-row ledger that loads: bounded far below the machine.
    assert corpus["peak"] < 1536 * MB, corpus["peak"] / MB
    with duckdb.connect(str(corpus["warehouse"]), read_only=True) as con:
        loaded = con.execute("""select count(*) from raw.units u join raw.ingest_files f using (file_id)
                                where f.path = 'units/at_limit.xlsx'""").fetchall()[0][0]
        refused = con.execute("""select count(*) from raw.units u join raw.ingest_files f using (file_id)
                                 where f.path in ('units/rows_200k.xlsx', 'units/bomb_ratio.xlsx', 'units/dense_range.xlsx')""").fetchall()[0][0]
    assert (loaded, refused) == (AT_LIMIT_ROWS, 0)
    print(f"\n恶意文件 {len(EXPECTED)} 个；峰值内存：整个语料 {corpus['peak'] / MB:.0f} MB，1 GB 压缩炸弹 {corpus['bomb_peak'] / MB:.0f} MB")


def test_nothing_outside_the_landing_folder_is_read(corpus) -> None:
    with duckdb.connect(str(corpus["warehouse"]), read_only=True) as con:
        leaked = con.execute("select count(*) from raw.units where unit_code like 'S%'").fetchall()[0][0]
        secret = faultkit.file_sha(corpus["root"] / "outside" / "secret.xlsx")
        assert con.execute("select count(*) from raw.ingest_files where sha256 = ?", [secret]).fetchall()[0][0] == 0
    assert leaked == 0
    # The link inside points at a file that is processed under its own name, once.
    assert corpus["files"]["units/text_as.xlsx"][0] == "accepted"


def test_long_cells_are_rejected_on_their_row_alike_in_xlsx_and_csv(corpus) -> None:
    by_file = {}
    for file, _sheet, row, column, value, reason in corpus["rejects"]:
        by_file.setdefault(file, []).append((row, column, value, reason))
    expected_reason = ("第5行 问题描述 '" + "长" * 100 + "…（共1000000字）' 内容长达 1000000 字，超过单元格 32767 字的上限"
                       "（Excel 单元格最多 32767 字），请精简后重新报送")
    for file in ("inspections/long_cell.xlsx", "inspections/long_cell.csv"):
        assert by_file[file] == [(5, "问题描述", "长" * 100 + "…（共1000000字）", expected_reason)], file
    with duckdb.connect(str(corpus["warehouse"]), read_only=True) as con:
        kept = con.execute("""select f.path, list(i.issue_code order by i.issue_code) from raw.inspections i
                              join raw.ingest_files f using (file_id) where f.path like 'inspections/long_cell%' group by 1 order by 1""").fetchall()
    assert kept == [("inspections/long_cell.csv", ["H1", "H3"]), ("inspections/long_cell.xlsx", ["H1", "H3"])]


def test_hidden_characters_reject_their_row_and_emoji_is_kept(corpus) -> None:
    rejects = {(f, r, c): (v, reason) for f, _, r, c, v, reason in corpus["rejects"] if f.startswith("inspections/hidden")}
    assert len(rejects) == 4
    for f in ("inspections/hidden.csv", "inspections/hidden.xlsx"):
        assert rejects[(f, 4, "责任人")] == ("赵\ufffd六", "第4行 责任人 '赵\ufffd六' 含有不可见的控制字符（如 NUL），请删除后重新报送")
        value, reason = rejects[(f, 5, "被巡察单位")]
        assert value == "洋州街道\ufffd委工党"
        assert reason.endswith("含有改变文字方向的隐藏字符（可能使显示内容与实际不符），请删除后重新报送")
    with duckdb.connect(str(corpus["warehouse"]), read_only=True) as con:
        kept = con.execute("""select f.path, i.issue_code, i.description from raw.inspections i join raw.ingest_files f using (file_id)
                              where f.path like 'inspections/hidden%' order by 1, 2""").fetchall()
    assert ("inspections/hidden.csv", "N3", "整改到位👍🏻群众点赞🎉") in kept
    assert ("inspections/hidden.xlsx", "N3", "整改到位👍🏻群众点赞🎉") in kept


def test_excel_dates_before_march_1900_are_what_excel_shows(corpus) -> None:
    with duckdb.connect(str(corpus["warehouse"]), read_only=True) as con:
        dates = con.execute("""select i.issue_code, i.found_date from raw.inspections i join raw.ingest_files f using (file_id)
                               where f.path = 'inspections/early_dates.xlsx' order by 1""").fetchall()
    assert dates == [("D0", dt.date(1900, 1, 1)), ("D1", dt.date(1900, 2, 28)), ("D3", dt.date(1900, 3, 1))]
    rejects = [(r, c, v) for f, _, r, c, v, _ in corpus["rejects"] if f == "inspections/early_dates.xlsx"]
    assert rejects == [(6, "发现日期", "1900-02-29")]  # serial 60: the day Lotus 1-2-3 invented


def test_row_numbers_are_the_rows_excel_shows_when_the_table_starts_lower(corpus) -> None:
    rejects = [(r, c, v) for f, _, r, c, v, _ in corpus["rejects"] if f == "inspections/blank_top.xlsx"]
    assert rejects == [(8, "整改状态", "做完了")]  # title on row 3, header on row 5, T3 on row 8


def test_multi_sheet_ledgers_of_every_periodic_source_load_every_sheet(corpus) -> None:
    with duckdb.connect(str(corpus["warehouse"]), read_only=True) as con:
        def rows(table: str, key: str, path: str) -> list[tuple]:
            return con.execute(f"""select t.sheet, t.row_number, t.{key} from raw.{table} t join raw.ingest_files f using (file_id)
                                   where f.path = ? order by 1, 2""", [path]).fetchall()

        assert rows("inspections", "issue_code", "inspections/two_sheets.xlsx") == [
            ("县区", 4, "C1"), ("县区", 5, "C2"), ("市直部门", 4, "M1"), ("市直部门", 5, "M2")]
        assert rows("units", "unit_code", "units/two_sheets.xlsx") == [
            ("医院", 4, "Q000000"), ("医院", 5, "Q000001"), ("医院", 6, "Q000002"), ("学校", 4, "P000000"), ("学校", 5, "P000001")]
        assert rows("task_progress", "task_code", "task_progress/two_sheets.xlsx") == [("县区", 4, "Y1"), ("市直部门", 4, "1.1"), ("市直部门", 5, "1.2")]
        assert rows("cases", "region_code", "cases/two_sheets.xlsx") == [("汉台区", 4, "610702000000"), ("洋县", 4, "610723000000")]
    assert corpus["sv"].returncode == 0, corpus["sv"].stderr
    with duckdb.connect(str(corpus["sv_warehouse"]), read_only=True) as con:
        assert con.execute("select sheet, row_number, response_id from raw.survey_responses order by 1, 2").fetchall() == [
            ("汉台区", 4, "S2"), ("汉台区", 5, "S3"), ("洋县", 4, "S1")]
        assert con.execute("select count(*) from raw.survey_answers").fetchall()[0][0] == 6  # three respondents, two questions (不了解 counts)
