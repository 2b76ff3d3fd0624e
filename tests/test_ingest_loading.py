"""Loading into the warehouse: lineage, the row identity, re-sends, supersession and atomicity."""

from __future__ import annotations

import shutil
from pathlib import Path

import duckdb
import openpyxl
import pytest

import ingest.load
from ingest.contracts import CONTRACTS
from ingest.pipeline import ingest_landing
from ingest.templates import write_template


def fill_template(landing: Path, source: str, name: str, title: str, submitter_line: str, rows: list[list[object]]) -> Path:
    """A clerk's filled-in template: title and 填报单位 lines edited, rows typed from row 4."""
    path = landing / source / name
    write_template(source, path)
    wb = openpyxl.load_workbook(path)
    ws = wb["填报表"]
    ws["A1"], ws["A2"] = title, submitter_line
    for i, row in enumerate(rows):
        for j, value in enumerate(row):
            ws.cell(4 + i, 1 + j, value)
    wb.save(path)
    return path


def reference_landing(landing: Path) -> None:
    fill_template(landing, "regions", "区划.xlsx", "行政区划表", "填报单位：市清廉办", [
        ["610700000000", "汉中市", "市", None, 3210000, None],
        ["610723000000", "洋县", "县", "610700000000", 380000, None],
        ["610702000000", "汉台区", "县", "610700000000", 560000, None],
        ["610723001000", "洋州街道", "乡", "610723000000", 50000, "虚构"],
    ])
    fill_template(landing, "departments", "部门.xlsx", "部门", "填报单位：市清廉办", [
        ["D01", "中共汉中市纪律检查委员会", "市纪委监委", "汉中市纪委监委、市纪委"],
        ["D07", "汉中市教育局", "市教育局", "教育局"],
    ])
    fill_template(landing, "tasks", "任务.xlsx", "重点任务清单", "填报单位：市清廉办", [
        ["1.1", "政治生态评估", "营造清明政治生态", "市纪委", None, "2025-12-31", None, None, None],
        ["1.2", "清廉学校建设", "构建清朗文明社会", "市教育局", None, "2025-06-30", None, None, None],
        ["Y1", "清廉村居", "构建清朗文明社会", "洋县", None, "2025-09-30", None, None, None],
    ])


def units_file(landing: Path, name: str, stage_u2: str) -> Path:
    return fill_template(landing, "units", name, "2025年第一季度清廉单元创建情况台账", "填报单位：洋县  填报日期：2025年4月5日", [
        ["U1", "洋县中学", "学校", "洋县", "已达标", 90, "2025-03-31"],
        ["U2", "洋州卫生院", "医院", "610723001000", stage_u2, None, "2025-03-31"],
    ])


def query(warehouse: Path, sql: str, params: list | None = None) -> list[tuple]:
    with duckdb.connect(str(warehouse), read_only=True) as con:
        return con.execute(sql, params or []).fetchall()


@pytest.fixture
def landing(tmp_path: Path) -> Path:
    root = tmp_path / "landing"
    reference_landing(root)
    return root


def test_filled_templates_ingest_cleanly_with_lineage(landing: Path, tmp_path: Path) -> None:
    units_file(landing, "洋县.xlsx", "创建中")
    fill_template(landing, "task_progress", "教育局.xlsx", "2025年第一季度 清廉建设重点任务推进情况台账", "填报单位：市教育局  填报日期：2025年4月8日", [
        ["1.2", "清廉学校建设", "市教育局", "2025年第一季度", "按序推进", 80, "进展", None, None, 3, "2025-04-08"],
    ])
    fill_template(landing, "inspections", "洋县巡察.xlsx", "2025年第一季度 巡察发现问题整改台账", "填报单位：洋县", [
        ["X1", "第一轮", "洋州街道党工委", "洋州街道", "作风", "描述", "2025-01-10", "2025-03-31", "已整改", "2025-03-20", "是", "赵六"],
    ])
    fill_template(landing, "surveys", "测评.xlsx", "2025年度 群众满意度测评问卷数据", "填报单位：市统计局调查队", [
        ["S1", "2025年度", "洋县", "群众", "电话", "很满意", "满意", "不了解"],
    ])
    fill_template(landing, "cases", "案件.xlsx", "2025年1-3月 监督执纪统计表", "填报单位：市纪委监委", [
        ["洋县", "2025年1-3月", "累计", 10, 8, 6, 3, 2, 5, 2, 1, 0, 0, 0, 12.5],
    ])
    warehouse = tmp_path / "w.duckdb"
    summary = ingest_landing(landing, warehouse)
    assert [f.outcome for f in summary.files] == ["accepted"] * 8
    assert query(warehouse, "select count(*), sum(rows_read), sum(rows_loaded), sum(rows_rejected) from raw.ingest_files") == [(8, 15, 15, 0)]  # 4 regions + 2 depts + 3 tasks + 2 units + 4 single rows
    assert query(warehouse, "select count(*) from raw.ingest_rejects") == [(0,)]
    # Lineage: the unit on Excel row 5 of sheet 填报表 in 洋县.xlsx, and the file's sha256.
    row = query(warehouse, """select f.path, u.sheet, u.row_number, u.region_code, length(f.sha256)
                              from raw.units u join raw.ingest_files f using (file_id) where unit_code = 'U2'""")
    assert row == [("units/洋县.xlsx", "填报表", 5, "610723001000", 64)]
    assert query(warehouse, "select submitter, period from raw.ingest_files where source = 'units'") == [("610723000000", "2025Q1")]
    assert query(warehouse, "select cases_filed, form1, recovered_10k_yuan, scope, quarter from raw.cases") == [(3, 5, 12.5, "累计", "2025Q1")]
    assert query(warehouse, "select count(*) from raw.survey_answers") == [(3,)]


def test_identical_resend_changes_nothing(landing: Path, tmp_path: Path) -> None:
    units_file(landing, "洋县.xlsx", "创建中")
    warehouse = tmp_path / "w.duckdb"
    ingest_landing(landing, warehouse)
    before = query(warehouse, "select (select count(*) from raw.units), (select count(*) from raw.ingest_files)")
    # Same folder again, then the same bytes under another name.
    again = ingest_landing(landing, warehouse)
    assert {f.outcome for f in again.files} == {"unchanged"}
    shutil.copy(landing / "units" / "洋县.xlsx", landing / "units" / "洋县(1).xlsx")
    dup = ingest_landing(landing, warehouse)
    assert [f.outcome for f in dup.files if f.rel == "units/洋县(1).xlsx"] == ["duplicate"]
    assert query(warehouse, "select count(*) from raw.units") == [(before[0][0],)]
    assert query(warehouse, "select outcome, rows_read from raw.ingest_files where path = 'units/洋县(1).xlsx'") == [("duplicate", 0)]
    third = ingest_landing(landing, warehouse)
    assert {f.outcome for f in third.files} == {"unchanged"}
    assert query(warehouse, "select count(*) from raw.ingest_files") == [(before[0][1] + 1,)]


def test_corrected_file_supersedes_and_both_stay(landing: Path, tmp_path: Path) -> None:
    warehouse = tmp_path / "w.duckdb"
    units_file(landing, "洋县.xlsx", "创建中")
    ingest_landing(landing, warehouse)
    corrected = units_file(landing, "洋县_更正.xlsx", "已达标")
    ingest_landing(landing, warehouse)
    files = query(warehouse, "select path, file_id, superseded_by from raw.ingest_files where source = 'units' order by file_id")
    (old_path, old_id, old_sup), (new_path, new_id, new_sup) = files
    assert (old_path, new_path) == ("units/洋县.xlsx", f"units/{corrected.name}")
    assert old_sup == new_id and new_sup is None
    # Both versions remain in raw with their load times; the current one is the correction.
    assert query(warehouse, "select file_id, stage from raw.units where unit_code = 'U2' order by file_id") == [(old_id, "创建中"), (new_id, "已达标")]
    current = query(warehouse, """select stage from raw.units u join raw.ingest_files f using (file_id)
                                  where unit_code = 'U2' and f.superseded_by is null""")
    assert current == [("已达标",)]


def test_bad_file_loads_nothing_and_says_why(landing: Path, tmp_path: Path) -> None:
    (landing / "units" ).mkdir(parents=True, exist_ok=True)
    (landing / "units" / "坏文件.xlsx").write_bytes(b"\x00garbage")
    warehouse = tmp_path / "w.duckdb"
    ingest_landing(landing, warehouse)
    assert query(warehouse, "select outcome, rows_loaded from raw.ingest_files where path = 'units/坏文件.xlsx'") == [("rejected", 0)]
    (reason,) = query(warehouse, "select reason from raw.ingest_rejects r join raw.ingest_files f using (file_id) where f.path = 'units/坏文件.xlsx'")
    assert reason[0].startswith("无法打开该Excel文件")
    assert query(warehouse, "select count(*) from raw.units") == [(0,)]


def test_failure_in_the_middle_of_a_file_loads_nothing_and_is_retried(landing: Path, tmp_path: Path,
                                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    fill_template(landing, "surveys", "测评.xlsx", "2025年度 群众满意度测评问卷数据", "填报单位：调查队", [
        ["S1", "2025年度", "洋县", "群众", "电话", "很满意", "满意"],
        ["S2", "2025年度", "洋县", "企业", "网络", "满意", "不满意"],
    ])
    real_supersede = ingest.load.Journal._supersede

    def fail_for_surveys(self, ids, decisions):
        # Inside the transaction, after the file's outcome, responses and answers were inserted.
        if any(d.parsed.source == "surveys" for d in decisions):
            raise OSError(28, "No space left on device")
        real_supersede(self, ids, decisions)

    monkeypatch.setattr(ingest.load.Journal, "_supersede", fail_for_surveys)
    warehouse = tmp_path / "w.duckdb"
    summary = ingest_landing(landing, warehouse)
    (survey,) = [f for f in summary.files if f.source == "surveys"]
    assert survey.outcome == "failed" and survey.message.startswith("磁盘空间不足，本文件未入库（已全部回退）")
    assert [f.outcome for f in summary.files if f.source != "surveys"] == ["accepted"] * 3  # the batch went on
    # Nothing of the file was recorded: no outcome row (a failure is not a verdict on the file), no rows.
    assert query(warehouse, "select count(*) from raw.ingest_files where source = 'surveys'") == [(0,)]
    assert query(warehouse, "select (select count(*) from raw.survey_responses), (select count(*) from raw.survey_answers)") == [(0, 0)]
    assert query(warehouse, "select count(*) from raw.regions") == [(4,)]  # earlier files are untouched
    monkeypatch.setattr(ingest.load.Journal, "_supersede", real_supersede)
    again = ingest_landing(landing, warehouse)
    assert [(f.source, f.outcome) for f in again.files if f.outcome != "unchanged"] == [("surveys", "accepted")]
    assert query(warehouse, "select rows_read, rows_loaded, rows_rejected from raw.ingest_files where source = 'surveys'") == [(2, 2, 0)]
    assert query(warehouse, "select (select count(*) from raw.survey_responses), (select count(*) from raw.survey_answers)") == [(2, 4)]


def test_every_template_has_validations_and_instructions(tmp_path: Path) -> None:
    for source, contract in CONTRACTS.items():
        path = write_template(source, tmp_path / f"{source}.xlsx")
        wb = openpyxl.load_workbook(path)
        assert wb.sheetnames == ["填报表", "填表说明"]
        headers = [c.value for c in wb["填报表"][3] if c.value]
        assert headers[: len(contract.fields)] == [f.label for f in contract.fields]
        enums = [f for f in contract.fields if f.choices]
        lists = [dv for dv in wb["填报表"].data_validations.dataValidation if dv.type == "list"]
        assert len(lists) == len(enums) + (10 if contract.question_columns else 0)
        for f, dv in zip(enums, lists, strict=False):
            assert dv.formula1 == '"' + ",".join(f.choices) + '"'


def test_dry_run_gives_the_ingest_s_own_answer_without_loading(landing: Path, tmp_path: Path) -> None:
    """An upload form's check of one file: the same outcome, rows and reasons as the ingest, nothing loaded."""
    from ingest.limits import check_limits
    from ingest.pipeline import dry_run

    warehouse = tmp_path / "w.duckdb"
    ingest_landing(landing, warehouse)  # reference data only
    bad = units_file(tmp_path / "upload", "洋县.xlsx", "做完了")
    data = bad.read_bytes()
    assert check_limits(data, "洋县.xlsx") is None
    assert check_limits(b"%PDF-1.7", "洋县.xlsx").startswith("文件是 PDF 文档")
    before = query(warehouse, "select count(*) from raw.ingest_files")
    checked = dry_run(data, "洋县.xlsx", "units", warehouse)
    assert (checked.outcome, checked.rows_read, checked.rows_rejected) == ("accepted_with_rejects", 2, 1)
    assert checked.rejects["reason"].to_list() == ["第5行 创建阶段 '做完了' 不是可选值（未启动/创建中/已达标/示范）"]
    assert query(warehouse, "select count(*) from raw.ingest_files") == before
    (landing / "units").mkdir()
    shutil.copy(bad, landing / "units" / "洋县.xlsx")
    (loaded,) = [f for f in ingest_landing(landing, warehouse).files if f.rel == "units/洋县.xlsx"]
    assert (loaded.outcome, loaded.rows_read, loaded.rows_rejected) == (checked.outcome, checked.rows_read, checked.rows_rejected)
    assert query(warehouse, "select reason from raw.ingest_rejects where file = 'units/洋县.xlsx'") == [(checked.rejects["reason"][0],)]


def test_schema_is_created_in_one_transaction(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A schema script that fails after its first tables leaves no table behind: the journal never exists
    without the raw tables a run then writes to (a run killed half-way through the script is the same)."""
    script = ingest.load.resources.files("ingest").joinpath("schema.sql").read_text(encoding="utf-8")

    class Broken:
        def joinpath(self, _name: str) -> Broken:
            return self

        def read_text(self, encoding: str = "utf-8") -> str:
            # after raw.ingest_files and before raw.units: an error where a kill could land
            head, tail = script.split("CREATE TABLE IF NOT EXISTS raw.units", 1)
            return head + "SELECT error('中途失败');\nCREATE TABLE IF NOT EXISTS raw.units" + tail

    monkeypatch.setattr(ingest.load.resources, "files", lambda _pkg: Broken())
    warehouse = tmp_path / "w.duckdb"
    with pytest.raises(ingest.load.WarehouseError):
        ingest.load.connect(warehouse)
    with duckdb.connect(str(warehouse), read_only=True) as con:
        assert con.execute("select count(*) from information_schema.tables where table_schema = 'raw'").fetchone()[0] == 0
