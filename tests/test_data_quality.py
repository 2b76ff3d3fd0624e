"""Data-quality suites: clean data passes, each kind of broken input fails the right check.

The warehouse is a small DuckDB file built from ingest/schema.sql plus hand-made rows; the
marts are hand-made tables with the DESIGN §7 columns (no dbt run).
"""

from __future__ import annotations

import json
from pathlib import Path

import duckdb
import openpyxl
import pytest

from data_quality.report import clerk_report, escape_cell, write_clerk_report_xlsx
from data_quality.validate import CheckResult, blocking_failures, store_results, validate_marts, validate_raw

SCHEMA = Path(__file__).resolve().parents[1] / "ingest" / "schema.sql"

COUNTIES = ["610702000000", "610703000000", "610722000000", "610723000000", "610724000000"]
COUNTY_NAMES = ["汉台区", "南郑区", "城固县", "洋县", "西乡县"]
DEPTS = ["D01", "D02", "D03", "D04", "D05", "D06"]
DEPT_NAMES = ["市纪委监委", "市委组织部", "市教育局", "市卫健委", "市国资委", "市住建局"]

# file_id, path, source, submitter, submitter_name, period, outcome, superseded_by
FILES = [
    (1, "regions/汉中市区划.xlsx", "regions", "610700000000", "市统计局", None, "accepted", None),
    (2, "departments/市直部门.xlsx", "departments", "D01", "市纪委监委", None, "accepted", None),
    (3, "tasks/重点任务清单.xlsx", "tasks", "D01", "市纪委监委", None, "accepted", None),
    (4, "task_progress/市教育局_2025Q1.xlsx", "task_progress", "D03", "市教育局", "2025Q1", "accepted", None),
    (5, "units/洋县_2025Q1.xlsx", "units", "610723000000", "洋县", "2025Q1", "accepted", None),
    (6, "inspections/洋县_2025Q1.xlsx", "inspections", "610723000000", "洋县", "2025Q1", "accepted", None),
    (7, "surveys/2025年度满意度测评.xlsx", "surveys", "D01", "市纪委监委", "2025", "accepted", None),
    (8, "cases/洋县_2025Q1.xlsx", "cases", "610723000000", "洋县", "2025Q1", "accepted", None),
    (9, "cases/洋县_2025Q2.xlsx", "cases", "610723000000", "洋县", "2025Q2", "accepted", None),
    # History that must be ignored: a superseded ledger and a rejected file, both with bad rows.
    (10, "units/洋县_2025Q1_旧.xlsx", "units", "610723000000", "洋县", "2025Q1", "accepted", 5),
    (11, "task_progress/市卫健委_2025Q1.xlsx", "task_progress", "D04", "市卫健委", "2025Q1",
     "accepted_with_rejects", None),
    (12, "task_progress/乱码.xlsx", "task_progress", None, None, None, "rejected", None),
]

LOADED = "timestamp '2025-04-12 09:00:00'"


def _insert(con: duckdb.DuckDBPyConnection, table: str, rows: list[tuple], columns: str) -> None:
    cols = [c.strip() for c in columns.split(",")]
    marks = ", ".join(["?"] * len(cols))
    con.executemany(f"insert into raw.{table} (file_id, sheet, row_number, loaded_at, {columns}) "
                    f"values (?, ?, ?, {LOADED}, {marks})", rows)


def build_raw(con: duckdb.DuckDBPyConnection) -> None:
    con.execute(SCHEMA.read_text(encoding="utf-8"))
    for fid, path, source, sub, name, period, outcome, sup in FILES:
        label = {"accepted": "已接收", "accepted_with_rejects": "部分接收", "rejected": "已拒收"}[outcome]
        con.execute(
            "insert into raw.ingest_files values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, null, 'Sheet1', 3, 3, 0, null, "
            f"{LOADED}, ?)", [fid, path, path.split("/")[-1], f"sha{fid}", source, sub, name, period, outcome, label, sup])
    _insert(con, "regions", [
        (1, "区划", 3, "610700000000", "汉中市", "市", "610000000000", 3_210_000, False),
        *[(1, "区划", 4 + i, code, nm, "县", "610700000000", 300_000 + i, False)
          for i, (code, nm) in enumerate(zip(COUNTIES, COUNTY_NAMES, strict=True))],
        (1, "区划", 9, "610723100000", "洋州街道", "乡", "610723000000", 80_000, True),
    ], "region_code, region_name, region_level, parent_code, population, is_synthetic")
    _insert(con, "departments", [(2, "部门", 3 + i, code, nm, nm.removeprefix("市"), ["汉中" + nm])
                                 for i, (code, nm) in enumerate(zip(DEPTS, DEPT_NAMES, strict=True))],
            "dept_code, dept_name, short_name, aliases")
    _insert(con, "tasks", [
        (3, "任务", 3, "T01", "推进清廉学校建设", "营造清明政治生态", "市教育局", "D03", "department", "2025-12-31", "2025-01-01"),
        (3, "任务", 4, "T02", "洋县清廉村居示范", "构建清朗文明社会", "洋县", "610723000000", "county", "2025-06-30", None),
        (3, "任务", 5, "T03", "清廉医院建设", "建设清廉法治政府", "市卫健委", "D04", "department", "2025-09-30", None),
    ], "task_code, task_name, area, lead_unit_name, owner_code, owner_group, deadline, issued_date")
    _insert(con, "task_progress", [
        (4, "推进台账", 5, "T01", "推进清廉学校建设", "市教育局", "D03", "2025Q1", "已完成", 100.0, "2025-04-05"),
        (4, "推进台账", 6, "T02", "洋县清廉村居示范", "洋县", "610723000000", "2025Q1", "滞后", 30.0, "2025-04-10"),
        (11, "推进台账", 5, "T03", "清廉医院建设", "市卫健委", "D04", "2025Q1", "按序推进", 60.0, "2025-04-08"),
        # rows of a rejected file are not current, whatever they say
        (12, "Sheet1", 5, "T03", None, "市卫健委", "D04", "2025Q1", "乱写", 500.0, "2030-01-01"),
    ], "task_code, task_name, reporter_name, owner_code, quarter, status, progress_pct, report_date")
    _insert(con, "units", [
        (5, "清廉单元", 4, "U001", "洋县纪委", "机关", "洋县", "610723000000", "已达标", 2, 92.0, "2025-03-20", "2025Q1"),
        (5, "清廉单元", 5, "U002", "洋州小学", "学校", "洋州街道", "610723100000", "创建中", 1, None, None, "2025Q1"),
        (5, "清廉单元", 6, "U003", "汉台区医院", "医院", "汉台区", "610702000000", "示范", 3, 98.5, "2025-03-31", "2025Q1"),
        (10, "清廉单元", 4, "U001", "洋县纪委", "机关", "洋县", "610723000000", "乱写", 9, 500.0, "2031-01-01", "2025Q1"),
    ], "unit_code, unit_name, unit_type, region_input, region_code, stage, stage_level, score, assessed_date, quarter")
    _insert(con, "inspections", [
        (6, "整改台账", 4, "I001", "第一轮", "市教育局", "D03", None, None, "作风", "问题一", "2025-01-10", "2025-03-01",
         "已整改", "2025-02-20", True, "张三", "2025Q1"),
        (6, "整改台账", 5, "I002", "第一轮", "洋县某镇", None, "洋县", "610723000000", "纪律", "问题二", "2025-02-01",
         "2025-06-30", "整改中", None, False, "李四", "2025Q1"),
    ], "issue_code, inspection_round, inspected_body, body_dept_code, region_input, region_code, category, description, "
       "found_date, deadline, status, completed_date, closed, responsible_person, quarter")
    _insert(con, "survey_responses", [
        (7, "问卷", 3, "R1", "2025", "洋县", "610723000000", "群众", "电话"),
        (7, "问卷", 4, "R2", "2025", "汉台区", "610702000000", "企业", "网络"),
    ], "response_id, wave, region_input, region_code, respondent_type, survey_mode")
    _insert(con, "survey_answers", [
        (7, "问卷", 3, "R1", "Q1", "很满意", 5), (7, "问卷", 3, "R1", "Q2", "不了解", 0),
        (7, "问卷", 4, "R2", "Q1", "满意", 4), (7, "问卷", 4, "R2", "Q2", "基本满意", 3),
    ], "response_id, question, answer, answer_code")
    figures = "petitions, clues, talks, cases_filed, punished, form1, form2, form3, form4, detained, transferred, recovered_10k_yuan"
    _insert(con, "cases", [
        (8, "统计表", 5, "洋县", "610723000000", "2025年1-3月", "2025Q1", "累计", 40, 20, 10, 5, 4, 30, 6, 2, 1, 0, 1, 12.5),
        (9, "统计表", 5, "洋县", "610723000000", "2025年1-6月", "2025Q2", "累计", 90, 41, 22, 12, 9, 61, 13, 4, 2, 1, 2, 30.0),
    ], f"region_input, region_code, period_label, quarter, scope, {figures}")
    con.executemany("insert into raw.ingest_rejects values (?, ?, ?, ?, ?, ?, ?)", [
        (11, "task_progress/市卫健委_2025Q1.xlsx", "推进台账", 12, "完成进度", "一百二十", "第12行 完成进度 '一百二十' 不是0-100之间的数字"),
        (12, "task_progress/乱码.xlsx", None, None, None, None, "文件无法识别为任何填报模板，请使用最新模板重新填报"),
    ])


def build_marts(con: duckdb.DuckDBPyConnection) -> None:
    con.execute("create schema if not exists marts")
    con.execute("""create table marts.kpi_task_progress (owner_code varchar, owner_group varchar, quarter varchar,
        tasks_active bigint, tasks_on_schedule bigint, on_schedule_rate double, tasks_due bigint, tasks_completed bigint,
        completion_rate double, reports_due bigint, reports_on_time bigint, timeliness_rate double)""")
    rows = [(c, "county", "2025Q1", 4, 3, 0.75, 2, 1, 0.5, 4, 4, 1.0) for c in COUNTIES]
    rows += [(d, "department", "2025Q1", 5, 5, 1.0, 1, 1, 1.0, 5, 4, 0.8) for d in DEPTS]
    con.executemany("insert into marts.kpi_task_progress values (?,?,?,?,?,?,?,?,?,?,?,?)", rows)
    con.execute("""create table marts.kpi_unit_coverage (region_code varchar, region_level varchar, unit_type varchar,
        quarter varchar, units_registered bigint, units_started bigint, units_standard bigint, units_model bigint,
        coverage_rate double, start_rate double, model_rate double)""")
    con.executemany("insert into marts.kpi_unit_coverage values (?,?,?,?,?,?,?,?,?,?,?)", [
        ("610700000000", "市", "全部", "2025Q1", 3, 3, 2, 1, 2 / 3, 1.0, 1 / 3),
        ("610723000000", "县", "全部", "2025Q1", 2, 2, 1, 0, 0.5, 1.0, 0.0),
        ("610723000000", "县", "机关", "2025Q1", 1, 1, 1, 0, 1.0, 1.0, 0.0),
        ("610702000000", "县", "医院", "2025Q1", 1, 1, 1, 1, 1.0, 1.0, 1.0),
    ])
    con.execute("""create table marts.kpi_rectification (body_code varchar, body_group varchar, quarter varchar,
        issues_due bigint, issues_rectified bigint, rectification_rate double, issues_on_time bigint,
        on_time_rate double, overdue_open bigint, max_days_overdue bigint)""")
    con.executemany("insert into marts.kpi_rectification values (?,?,?,?,?,?,?,?,?,?)", [
        ("D03", "department", "2025Q1", 1, 1, 1.0, 1, 1.0, 0, None),
        ("610723000000", "county", "2025Q1", 2, 1, 0.5, 1, 0.5, 1, 12),
    ])
    con.execute("""create table marts.kpi_satisfaction (region_code varchar, wave varchar, respondents bigint,
        valid_answers bigint, satisfied_answers bigint, satisfaction_rate double, rate_ci_low double,
        rate_ci_high double, satisfaction_index double, index_ci_low double, index_ci_high double,
        sample_sufficient boolean)""")
    con.executemany("insert into marts.kpi_satisfaction values (?,?,?,?,?,?,?,?,?,?,?,?)", [
        ("610723000000", "2025", 1, 1, 1, 1.0, 0.21, 1.0, 100.0, 100.0, 100.0, False),
        ("610702000000", "2025", 1, 2, 2, 1.0, 0.34, 1.0, 70.0, 50.4, 89.6, False),
    ])
    con.execute("""create table marts.kpi_cases (region_code varchar, quarter varchar, petitions bigint, clues bigint,
        talks bigint, cases_filed bigint, punished bigint, form1 bigint, form2 bigint, form3 bigint, form4 bigint,
        form1_share double, cases_per_10k double, detained bigint, transferred bigint, recovered_10k_yuan double)""")
    con.executemany("insert into marts.kpi_cases values (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)", [
        ("610723000000", "2025Q1", 40, 20, 10, 5, 4, 30, 6, 2, 1, 30 / 39, 0.16, 0, 1, 12.5),
        ("610723000000", "2025Q2", 50, 21, 12, 7, 5, 31, 7, 2, 1, 31 / 41, 0.23, 1, 1, 17.5),
    ])
    con.execute("""create table marts.scorecard_quarterly (body_group varchar, body_code varchar, body_name varchar,
        quarter varchar, composite_score double, rank integer, flag varchar, veto boolean, talk_required boolean,
        margin double, near_tie boolean, missing_indicators varchar, rules_version varchar, task_score double,
        coverage_score double, rectification_score double, timeliness_score double, satisfaction_score double)""")
    rows = []
    for group, codes, names, n_flags in (("county", COUNTIES, COUNTY_NAMES, 2), ("department", DEPTS, DEPT_NAMES, 3)):
        for i, (code, name) in enumerate(zip(codes, names, strict=True)):
            flag = "红旗" if i < n_flags else "蜗牛" if i >= len(codes) - n_flags else None
            score = 95.0 - 5 * i
            rows.append((group, code, name, "2025Q1", score, i + 1, flag, False, False, 5.0, False, None, "2025",
                         score, score if group == "county" else None, score, None if group == "county" else score,
                         score if group == "county" else None))
    con.executemany("insert into marts.scorecard_quarterly values (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)", rows)
    con.execute("""create table marts.assessment_annual (body_group varchar, body_code varchar, body_name varchar,
        year integer, annual_score double, rank integer, grade varchar, red_flags integer, snails integer,
        veto boolean, rules_version varchar)""")
    con.executemany("insert into marts.assessment_annual values (?,?,?,?,?,?,?,?,?,?,?)", [
        ("county", COUNTIES[0], COUNTY_NAMES[0], 2025, 91.0, 1, "优秀", 1, 0, False, "2025"),
        ("county", COUNTIES[1], COUNTY_NAMES[1], 2025, 82.0, 2, "良好", 1, 0, False, "2025"),
        ("county", COUNTIES[2], COUNTY_NAMES[2], 2025, 61.0, 3, "合格", 0, 0, False, "2025"),
        ("county", COUNTIES[3], COUNTY_NAMES[3], 2025, 40.0, 4, "不合格", 0, 1, False, "2025"),
    ])


@pytest.fixture(scope="module")
def clean_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("dq") / "clean.duckdb"
    con = duckdb.connect(str(path))
    build_raw(con)
    build_marts(con)
    con.close()
    return path


@pytest.fixture
def con(clean_db: Path, tmp_path: Path) -> duckdb.DuckDBPyConnection:
    """A private copy of the clean warehouse that a test may break."""
    copy = tmp_path / "w.duckdb"
    copy.write_bytes(clean_db.read_bytes())
    connection = duckdb.connect(str(copy))
    yield connection
    connection.close()


def failed(results: list[CheckResult]) -> dict[str, CheckResult]:
    return {r.check_id: r for r in results if not r.success}


def only_failure(results: list[CheckResult], check_id: str) -> CheckResult:
    bad = failed(results)
    assert set(bad) == {check_id}, {k: (v.observed, v.examples) for k, v in bad.items()}
    return bad[check_id]


# --- clean data ---


def test_clean_raw_passes_every_check(con: duckdb.DuckDBPyConnection) -> None:
    results = validate_raw(con)
    assert not failed(results), {k: (v.observed, v.examples) for k, v in failed(results).items()}
    assets = {r.asset for r in results}
    assert assets == {f"raw.{t}" for t in ("regions", "departments", "tasks", "task_progress", "units",
                                           "inspections", "survey_responses", "survey_answers", "cases")}
    families = {r.family for r in results}
    assert {"schema", "not_null", "enum", "range", "date", "resolve", "unique", "ytd"} <= families
    # Every result is explained in Chinese and carries a severity.
    assert all(r.description_zh and r.severity in ("blocking", "warning") for r in results)


def test_clean_marts_pass_every_check(con: duckdb.DuckDBPyConnection) -> None:
    results = validate_marts(con)
    assert not failed(results), {k: (v.observed, v.examples) for k, v in failed(results).items()}
    # the marts' figures are dbt's to check (contracts and data tests); the publish gate checks presence only
    assert {r.family for r in results} == {"schema"}
    assert "marts.scorecard_quarterly.rules_version.exists" in {r.check_id for r in results}
    assert not blocking_failures(results)


# --- raw: one broken input per family ---


# Each break touches different rows, so one validation run serves every case (GX costs about a
# second per run); the clean-data tests prove none of these checks fails without its break.
RAW_BREAKS = [
    # (sql, check_id, expectation, severity, row, value)
    ("update raw.units set stage = '已创建' where unit_code = 'U002' and file_id = 5",
     "raw.units.stage.in_set", "expect_column_values_to_be_in_set", "blocking", 5, "已创建"),
    ("update raw.task_progress set progress_pct = 120 where task_code = 'T01'",
     "raw.task_progress.progress_pct.range", "expect_column_values_to_be_between", "blocking", 5, "120"),
    ("update raw.units set region_code = '610799000000' where unit_code = 'U003'",
     "raw.units.region_code.resolves", "expect_column_pair_values_to_be_equal", "blocking", 6, "610799000000"),
    ("update raw.tasks set owner_code = 'D99' where task_code = 'T03'",
     "raw.tasks.owner_code.resolves", "expect_column_pair_values_to_be_equal", "blocking", 5, "D99"),
    ("update raw.task_progress set report_date = '2025-07-15' where task_code = 'T02'",
     "raw.task_progress.report_date.in_quarter_window_end", "expect_column_pair_values_a_to_be_greater_than_b",
     "warning", 6, "2025-07-15"),
    ("update raw.inspections set completed_date = '2025-01-05' where issue_code = 'I001'",
     "raw.inspections.completed_date.not_before_found_date", "expect_column_pair_values_a_to_be_greater_than_b",
     "warning", 4, "2025-01-05"),
    ("update raw.inspections set status = '已整改' where issue_code = 'I002'",
     "raw.inspections.completed_date.required_when_rectified", "expect_column_values_to_not_be_null",
     "warning", 5, "已整改"),
    # An answer code outside 0-5 breaks two rules: the code set and its match with the answer
    # (the second entry repeats the check for the same break).
    ("update raw.survey_answers set answer_code = 7, answer = '很满意' where response_id = 'R2' and question = 'Q2'",
     "raw.survey_answers.answer_code.code_in_set", "expect_column_values_to_be_in_set", "blocking", 4, "7"),
    ("select 1", "raw.survey_answers.answer_code.consistent", "expect_column_pair_values_to_be_equal", "blocking", 4,
     "answer=很满意, answer_code=7"),
    ("update raw.regions set region_level = '区' where region_code = '610703000000'",
     "raw.regions.region_level.in_set", "expect_column_values_to_be_in_set", "blocking", 5, "区"),
    ("update raw.cases set form2 = -1 where file_id = 8",
     "raw.cases.form2.range", "expect_column_values_to_be_between", "blocking", 5, "-1"),
]


@pytest.fixture(scope="module")
def broken_raw(clean_db: Path, tmp_path_factory: pytest.TempPathFactory) -> list[CheckResult]:
    path = tmp_path_factory.mktemp("broken_raw") / "w.duckdb"
    path.write_bytes(clean_db.read_bytes())
    connection = duckdb.connect(str(path))
    for case in RAW_BREAKS:
        connection.execute(case[0])
    results = validate_raw(connection)
    connection.close()
    return results


def test_raw_breaks_fail_only_their_checks(broken_raw: list[CheckResult]) -> None:
    assert set(failed(broken_raw)) == {case[1] for case in RAW_BREAKS}


@pytest.mark.parametrize(("sql", "check_id", "expectation", "severity", "row", "value"), RAW_BREAKS,
                         ids=[case[1] for case in RAW_BREAKS])
def test_raw_broken_input_fails_expected_check(broken_raw: list[CheckResult], sql: str, check_id: str,
                                               expectation: str, severity: str, row: int, value: str) -> None:
    result = failed(broken_raw)[check_id]
    assert (result.expectation, result.severity, result.unexpected_count) == (expectation, severity, 1)
    (example,) = result.examples
    assert (example["row"], example["value"]) == (row, value)
    assert example["file"].endswith(".xlsx")
    if result.asset == "raw.survey_answers" and result.column == "answer_code":
        assert example["column"] == "Q2"  # the clerk's column in the survey sheet


def test_duplicate_business_key_across_files(con: duckdb.DuckDBPyConnection) -> None:
    # 市卫健委's file (11) also reports T01 for 2025Q1, already reported by 市教育局 (file 4).
    con.execute(f"""insert into raw.task_progress (file_id, sheet, row_number, loaded_at, task_code, owner_code, quarter,
                    status, progress_pct, report_date)
                    values (11, '推进台账', 6, {LOADED}, 'T01', 'D03', '2025Q1', '按序推进', 50, '2025-04-08')""")
    result = only_failure(validate_raw(con, sources=["task_progress"]), "raw.task_progress.task_code.unique")
    assert (result.expectation, result.severity, result.unexpected_count) == (
        "expect_compound_columns_to_be_unique", "blocking", 2)
    assert sorted((e["file"], e["row"]) for e in result.examples) == [
        ("task_progress/市卫健委_2025Q1.xlsx", 6), ("task_progress/市教育局_2025Q1.xlsx", 5)]


def test_ytd_decrease_fails_and_names_the_figure(con: duckdb.DuckDBPyConnection) -> None:
    con.execute("update raw.cases set cases_filed = 3 where file_id = 9")
    result = only_failure(validate_raw(con, sources=["cases"]), "raw.cases.ytd_decreases.ytd_monotonic")
    assert (result.expectation, result.severity) == ("expect_column_values_to_be_between", "warning")
    assert result.examples == ({"file": "cases/洋县_2025Q2.xlsx", "sheet": "统计表", "row": 5,
                                "value": "与2025Q1累计数相比：立案 5→3"},)
    # Checking only 2025Q2 still compares with Q1; checking only Q1 finds nothing.
    assert "raw.cases.ytd_decreases.ytd_monotonic" in failed(validate_raw(con, sources=["cases"], period="2025Q2"))
    assert not failed(validate_raw(con, sources=["cases"], period="2025Q1"))


def test_missing_column_fails_schema_and_skips_the_table(con: duckdb.DuckDBPyConnection) -> None:
    con.execute("alter table raw.units drop column assessed_date")
    results = validate_raw(con, sources=["units"])
    result = only_failure(results, "raw.units.assessed_date.exists")
    assert (result.expectation, result.severity) == ("expect_column_to_exist", "blocking")
    assert {r.family for r in results} == {"schema"}


def test_period_scope(con: duckdb.DuckDBPyConnection) -> None:
    con.execute("update raw.units set stage = '已创建' where unit_code = 'U002'")
    assert "raw.units.stage.in_set" in failed(validate_raw(con, sources=["units"], period="2025"))
    assert not failed(validate_raw(con, sources=["units"], period="2025Q2"))
    with pytest.raises(ValueError, match="period"):
        validate_raw(con, period="2025-06")
    with pytest.raises(ValueError, match="unknown source"):
        validate_raw(con, sources=["nonsense"])


# --- marts ---


def test_missing_mart_table_blocks(con: duckdb.DuckDBPyConnection) -> None:
    con.execute("drop table marts.kpi_cases")
    bad = failed(validate_marts(con))
    assert bad and all(k.startswith("marts.kpi_cases.") and k.endswith(".exists") for k in bad)
    assert all(r.severity == "blocking" for r in bad.values())


# --- storing and the clerk report ---


def test_results_and_failures_are_stored_with_lineage(con: duckdb.DuckDBPyConnection) -> None:
    con.execute("update raw.units set stage = '已创建' where unit_code = 'U002' and file_id = 5")
    results = validate_raw(con, sources=["units"])
    store_results(con, "run-1", results)
    store_results(con, "run-1", results)  # a retried step replaces, never doubles
    n, failures = con.execute("select count(*), count(*) filter (where not success) from ops.dq_results "
                              "where run_id = 'run-1'").fetchone()
    assert (n, failures) == (len(results), 1)
    row = con.execute("""select layer, asset, expectation, column_name, severity, unexpected_count, unexpected_examples,
                                description_zh from ops.dq_results where not success""").fetchone()
    assert row[:6] == ("raw", "raw.units", "expect_column_values_to_be_in_set", "stage", "blocking", 1)
    assert json.loads(row[6]) == [{"file": "units/洋县_2025Q1.xlsx", "sheet": "清廉单元", "row": 5, "value": "已创建"}]
    assert "创建阶段" in row[7]
    fail = con.execute("""select run_id, asset, expectation, severity, file_id, file, submitter, submitter_name, sheet,
                                 row_number, column_name, value from ops.dq_failures""").fetchall()
    assert fail == [("run-1", "raw.units", "expect_column_values_to_be_in_set", "blocking", 5, "units/洋县_2025Q1.xlsx",
                     "610723000000", "洋县", "清廉单元", 5, "stage", "已创建")]


def test_clerk_report_names_unit_file_row_and_fix(con: duckdb.DuckDBPyConnection, tmp_path: Path) -> None:
    con.execute("update raw.units set stage = '=HYPERLINK(\"x\")' where unit_code = 'U002' and file_id = 5")
    store_results(con, "run-2", validate_raw(con))
    report = clerk_report(con)
    assert list(report.columns) == ["填报单位", "文件", "工作表", "行号", "字段", "填报值", "问题", "如何修改", "严重程度"]
    units = report[report["文件"] == "units/洋县_2025Q1.xlsx"].to_dict("records")
    assert units == [{
        "填报单位": "洋县", "文件": "units/洋县_2025Q1.xlsx", "工作表": "清廉单元", "行号": 5, "字段": "创建阶段",
        "填报值": '=HYPERLINK("x")', "问题": "“创建阶段”不是规定选项",
        "如何修改": "请把“创建阶段”改为下拉选项中的一项（未启动、创建中、已达标、示范），"
                    "改正后由填报单位重新报送整份文件（同一单位同一期次的新文件会自动替换旧文件）。",
        "严重程度": "阻断（暂停发布，须先修改）",
    }]
    # Ingest rejects of files still in force are listed too; the superseded file's rows are not.
    rejects = report[report["严重程度"].str.startswith("拒收")]
    assert set(rejects["填报单位"]) == {"市卫健委", "（未识别填报单位）"}
    assert "units/洋县_2025Q1_旧.xlsx" not in set(report["文件"])

    path = write_clerk_report_xlsx(con, tmp_path / "报告.xlsx")
    wb = openpyxl.load_workbook(path)
    assert wb.sheetnames == ["汇总", "明细"]
    detail = wb["明细"]
    assert [c.value for c in detail[1]] == list(report.columns)
    assert detail.freeze_panes == "A2"
    values = [[c.value for c in row] for row in detail.iter_rows(min_row=2)]
    stage_row = next(v for v in values if v[1] == "units/洋县_2025Q1.xlsx")
    assert stage_row[5] == "'=HYPERLINK(\"x\")"
    assert all(not (isinstance(v, str) and v.startswith(("=", "+", "-", "@"))) for row in values for v in row)
    assert detail.column_dimensions["G"].width > 10
    summary = [[c.value for c in row] for row in wb["汇总"].iter_rows()]
    assert summary[0] == ["填报单位", "涉及文件数", "问题总数", "拒收", "阻断", "警告"]
    assert ["洋县", 1, 1, 0, 1, 0] in summary


def test_escape_cell() -> None:
    assert [escape_cell(v) for v in ("=1+1", "+86", "-5", "@SUM", "正常", 3)] == ["'=1+1", "'+86", "'-5", "'@SUM", "正常", 3]
