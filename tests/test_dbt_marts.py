"""The dbt project end to end on the hand-made warehouse of tests/fixtures/small_warehouse.py.

The raw layer is built with plain INSERTs, `qinglian.build.build_marts` runs `dbt build`
(rules from config/rules.yaml, models, data tests, unit tests) into it, and every figure below was computed by hand
from the fixture's story (see the table in the fixture's docstring). Rules: the shipped defaults (config/rules.yaml, version 默认) —
county weights T 25 / C 25 / R 25 / S 25, department T 45 / R 35 / P 20; 2 red flags and
2 snails for counties, 3 and 3 for departments; veto when an issue is > 90 days overdue;
near tie under 1 point; annual +1 per red flag, −1 per snail; 优秀 ≥ 90 within floor(20%).
"""

from __future__ import annotations

import math
from pathlib import Path

import duckdb
import pytest

from qinglian.build import BuildError, build_marts
from tests.conftest import manifest_data_tests
from tests.fixtures.small_warehouse import CG, CITY, HT, NZ, PROVINCE, XX, YX

Z = 1.959964


@pytest.fixture(scope="module")
def built(small_built: tuple[Path, object]) -> tuple[Path, object]:
    return small_built  # one dbt build of the small warehouse per session (tests/fixtures/small_built.py)


@pytest.fixture(scope="module")
def con(built: tuple[Path, object]) -> duckdb.DuckDBPyConnection:
    connection = duckdb.connect(str(built[0]), read_only=True)
    yield connection
    connection.close()


def rows(con: duckdb.DuckDBPyConnection, sql: str, params: list | None = None) -> list[tuple]:
    return con.execute(sql, params or []).fetchall()


def one(con: duckdb.DuckDBPyConnection, sql: str, params: list | None = None) -> tuple:
    found = rows(con, sql, params)
    assert len(found) == 1, (sql, params, found)
    return found[0]


# ----------------------------------------------------------------------------- the build itself


def test_build_runs_every_model_test_and_unit_test(built: tuple[Path, object]) -> None:
    _, result = built
    assert result.success, str(result)
    assert result.models_ok >= 44 and result.models_error == 0
    assert result.unit_tests_passed >= 18 and result.unit_tests_failed == 0
    assert result.tests_failed == 0 and result.tests_errored == 0
    assert result.tests_passed + result.tests_warned == manifest_data_tests() > 150  # every data test ran
    assert "构建成功" in str(result)


@pytest.mark.parametrize(("table", "column", "bad"), [
    ("kpi_task_progress", "on_schedule_rate", "1.5"),  # a rate above 1
    ("kpi_task_progress", "tasks_on_schedule", "tasks_active + 1"),  # a numerator above its denominator
    ("kpi_task_progress", "owner_code", "null"),  # a key without a value
    ("kpi_rectification", "overdue_open", "-1"),  # a negative count
    ("kpi_unit_coverage", "unit_type", "'其他'"),  # a unit type DESIGN §2 does not have
    ("scorecard_quarterly", "composite_score", "100.5"),  # a score above 100
    ("assessment_annual", "grade", "'特优'"),  # a grade DESIGN §6 does not have
])
def test_contract_constraints_refuse_an_impossible_row(built: tuple[Path, object], tmp_path: Path,
                                                       table: str, column: str, bad: str) -> None:
    """The contract marts' rules are constraints of the built tables: a copy of a real row goes in, the
    same row with one impossible value does not."""
    import shutil

    copy = tmp_path / "w.duckdb"
    shutil.copyfile(built[0], copy)
    with duckdb.connect(str(copy)) as c:
        c.execute(f"insert into marts.{table} select * from marts.{table} limit 1")
        columns = [r[0] for r in c.execute("select column_name from information_schema.columns where table_schema = 'marts' "
                                           "and table_name = ? order by ordinal_position", [table]).fetchall()]
        values = ", ".join(bad if name == column else name for name in columns)
        with pytest.raises(duckdb.ConstraintException):
            c.execute(f"insert into marts.{table} select {values} from marts.{table} limit 1")


def test_schemas_are_exactly_staging_intermediate_marts_and_rules(con: duckdb.DuckDBPyConnection) -> None:
    schemas = {r[0] for r in rows(con, "select distinct table_schema from information_schema.tables")}
    assert {"raw", "staging", "intermediate", "marts", "rules"} <= schemas
    intermediate = {r[0] for r in rows(con, "select distinct table_type from information_schema.tables "
                                            "where table_schema = 'intermediate'")}
    assert intermediate == {"VIEW"}  # logic, not exposed
    kinds = dict(rows(con, "select table_schema || '.' || table_name, table_type from information_schema.tables "
                           "where table_schema = 'marts'"))
    assert all(kind == "BASE TABLE" for kind in kinds.values()), kinds


MART_COLUMNS = {  # DESIGN §7: "columns (at least)", in contract order
    "kpi_task_progress": ["owner_code", "owner_group", "quarter", "tasks_active", "tasks_on_schedule",
                          "on_schedule_rate", "tasks_due", "tasks_completed", "completion_rate", "reports_due",
                          "reports_on_time", "timeliness_rate"],
    "kpi_unit_coverage": ["region_code", "region_level", "unit_type", "quarter", "units_registered", "units_started",
                          "units_standard", "units_model", "coverage_rate", "start_rate", "model_rate"],
    "kpi_rectification": ["body_code", "body_group", "quarter", "issues_due", "issues_rectified",
                          "rectification_rate", "issues_on_time", "on_time_rate", "overdue_open", "max_days_overdue"],
    "kpi_satisfaction": ["region_code", "wave", "respondents", "valid_answers", "satisfied_answers",
                         "satisfaction_rate", "rate_ci_low", "rate_ci_high", "satisfaction_index", "index_ci_low",
                         "index_ci_high", "sample_sufficient"],
    "kpi_cases": ["region_code", "quarter", "petitions", "clues", "talks", "cases_filed", "punished", "form1", "form2",
                  "form3", "form4", "form1_share", "cases_per_10k", "detained", "transferred", "recovered_10k_yuan"],
    "scorecard_quarterly": ["body_group", "body_code", "body_name", "quarter", "composite_score", "rank", "flag", "veto",
                            "talk_required", "margin", "near_tie", "missing_indicators", "rules_version",
                            "task_score", "coverage_score", "rectification_score", "timeliness_score",
                            "satisfaction_score"],
    "assessment_annual": ["body_group", "body_code", "body_name", "year", "annual_score", "rank", "grade", "red_flags",
                          "snails", "veto", "rules_version"],
}


@pytest.mark.parametrize("table", sorted(MART_COLUMNS))
def test_mart_has_the_contract_columns_in_order(con: duckdb.DuckDBPyConnection, table: str) -> None:
    columns = [r[0] for r in rows(con, "select column_name from information_schema.columns where table_schema = 'marts' "
                                       "and table_name = ? order by ordinal_position", [table])]
    contract = MART_COLUMNS[table]
    assert [c for c in columns if c in contract] == contract, columns


def test_column_types_follow_the_contract(con: duckdb.DuckDBPyConnection) -> None:
    types = dict(rows(con, "select table_name || '.' || column_name, data_type from information_schema.columns "
                           "where table_schema = 'marts'"))
    assert types["scorecard_quarterly.quarter"] == "VARCHAR"
    assert types["assessment_annual.year"] == "INTEGER"
    assert types["scorecard_quarterly.veto"] == "BOOLEAN"
    assert types["kpi_satisfaction.sample_sufficient"] == "BOOLEAN"
    assert types["kpi_cases.cases_filed"] == "BIGINT"
    assert types["scorecard_quarterly.rank"] == "BIGINT"


def test_descriptions_reach_duckdb_comments(con: duckdb.DuckDBPyConnection) -> None:
    comment = one(con, "select comment from duckdb_columns() where schema_name = 'marts' and "
                       "table_name = 'scorecard_quarterly' and column_name = 'talk_required'")[0]
    assert "约谈" in comment


# ----------------------------------------------------------------------------- staging and dimensions


def test_superseded_and_rejected_rows_never_reach_staging(con: duckdb.DuckDBPyConnection) -> None:
    dropped = [r[0] for r in rows(con, "select file_id from raw.ingest_files where superseded_by is not null "
                                       "or outcome = 'rejected'")]
    assert len(dropped) == 2
    assert one(con, "select count(*) from raw.task_progress where file_id in (select unnest(?))", [dropped])[0] == 3
    assert one(con, "select count(*) from staging.stg_raw__task_progress where file_id in (select unnest(?))",
               [dropped])[0] == 0


def test_assessed_bodies(con: duckdb.DuckDBPyConnection) -> None:
    bodies = rows(con, "select body_group, body_code, body_name from marts.dim_bodies order by 1, 2")
    assert bodies == [
        ("county", HT, "汉台区"), ("county", NZ, "南郑区"), ("county", CG, "城固县"), ("county", YX, "洋县"),
        ("county", XX, "西乡县"),
        ("department", "D01", "市纪委监委"), ("department", "D02", "市委组织部"), ("department", "D03", "市教育局"),
        ("department", "D04", "市卫健委"), ("department", "D05", "市住建局"), ("department", "D06", "市国资委"),
    ]  # D07 市委巡察办 leads no task: not assessed


def test_quarters_and_hierarchy(con: duckdb.DuckDBPyConnection) -> None:
    assert rows(con, "select quarter, quarter_end_date::varchar, report_due_date::varchar, previous_quarter "
                     "from marts.dim_quarters order by 1") == [
        ("2025Q1", "2025-03-31", "2025-04-10", "2024Q4"), ("2025Q2", "2025-06-30", "2025-07-10", "2025Q1"),
        ("2025Q3", "2025-09-30", "2025-10-10", "2025Q2"), ("2025Q4", "2025-12-31", "2026-01-10", "2025Q3")]
    assert one(con, "select province_code, city_code, county_code, town_code from marts.dim_regions "
                    "where region_code = '610723001001'") == (PROVINCE, CITY, YX, "610723001000")


# ----------------------------------------------------------------------------- KPIs


def test_task_kpis(con: duckdb.DuckDBPyConnection) -> None:
    sql = ("select tasks_active, tasks_on_schedule, on_schedule_rate, tasks_not_reported, tasks_due, tasks_completed, "
           "completion_rate, reports_due, reports_on_time, timeliness_rate from marts.kpi_task_progress "
           "where owner_code = ? and quarter = ?")
    # D01 Q2: RW01 已完成 + RW02 按序推进 → 2/2; RW01 (deadline 06-30) due and done → 1/1; RW02 reported late → 1/2
    assert one(con, sql, ["D01", "2025Q2"]) == (2, 2, 1.0, 0, 1, 1, 1.0, 2, 1, 0.5)
    # D01 Q3: RW01 completed in Q2 is no longer active, though still due and completed
    assert one(con, sql, ["D01", "2025Q3"]) == (1, 1, 1.0, 0, 1, 1, 1.0, 1, 1, 1.0)
    # D06 Q1: RW12 is issued on 2025-05-10, so only RW11 is active; its report came 04-15 (late)
    assert one(con, sql, ["D06", "2025Q1"]) == (1, 1, 1.0, 0, 0, 0, None, 1, 0, 0.0)
    # D03 Q2: the corrected file (按序推进 + 滞后) counts, not the superseded one (滞后 + 滞后)
    assert one(con, sql, ["D03", "2025Q2"])[:3] == (2, 1, 0.5)
    # D05 Q2: the rejected file's 已完成 for RW10 is ignored; RW10 stays 滞后 and late
    assert one(con, sql, ["D05", "2025Q2"]) == (2, 1, 0.5, 0, 0, 0, None, 2, 1, 0.5)
    # D04 Q3: RW07 滞后 (10-08), RW08 按序推进; both reports are on time
    assert one(con, sql, ["D04", "2025Q3"])[:3] == (2, 1, 0.5)
    # 西乡县 Q1: RW21 滞后, RW22 not reported at all (未报送)
    assert one(con, sql, [XX, "2025Q1"]) == (2, 0, 0.0, 1, 0, 0, None, 2, 1, 0.5)
    # 汉台区 Q4: both tasks 已完成 by their 12-31 deadline
    assert one(con, sql, [HT, "2025Q4"]) == (2, 2, 1.0, 0, 2, 2, 1.0, 2, 2, 1.0)


def test_unit_coverage_rolls_up_and_carries_forward(con: duckdb.DuckDBPyConnection) -> None:
    sql = ("select region_level, units_registered, units_started, units_standard, units_model, coverage_rate "
           "from marts.kpi_unit_coverage where region_code = ? and unit_type = ? and quarter = ?")
    # 南郑区 sent no ledger in Q3: its Q2 state (3 of 4 at 已达标) is carried forward
    assert one(con, sql, [NZ, "全部", "2025Q3"]) == ("县", 4, 4, 3, 0, 0.75)
    # 洋州街道: its school plus the village 东关社区 below it
    assert one(con, sql, ["610723001000", "全部", "2025Q1"]) == ("乡", 2, 2, 2, 1, 1.0)
    # 汉中市 Q1: standard 4 + 2 + 2 + 4 + 1 = 13 of 20; started 4 + 3 + 4 + 4 + 2 = 17; model 1 + 2 = 3
    assert one(con, sql, [CITY, "全部", "2025Q1"]) == ("市", 20, 17, 13, 3, 0.65)
    assert one(con, sql, [PROVINCE, "全部", "2025Q4"]) == ("省", 20, 20, 18, 4, 0.9)
    assert one(con, sql, [CITY, "村居", "2025Q1"]) == ("市", 5, 3, 2, 1, 0.4)
    assert one(con, "select count(distinct region_level) from marts.kpi_unit_coverage")[0] == 5


def test_rectification_kpis(con: duckdb.DuckDBPyConnection) -> None:
    sql = ("select issues_total, issues_due, issues_rectified, rectification_rate, issues_on_time, on_time_rate, "
           "overdue_open, max_days_overdue from marts.kpi_rectification where body_code = ? and quarter = ?")
    # 城固县 Q1: CG-02's deadline is D itself: due, not rectified, but not yet overdue
    assert one(con, sql, [CG, "2025Q1"]) == (2, 2, 1, 0.5, 1, 0.5, 0, None)
    # Q2: still open 91 days after 03-31 → over the 90-day veto line
    assert one(con, sql, [CG, "2025Q2"]) == (2, 2, 1, 0.5, 1, 0.5, 1, 91)
    # 洋县 Q3: YX-01 (deadline 04-30) 未整改, 153 days overdue; YX-02 sits in 洋州街道 and belongs to 洋县
    assert one(con, sql, [YX, "2025Q3"]) == (2, 2, 1, 0.5, 1, 0.5, 1, 153)
    # Q4: rectified 10-20, after its deadline: rectified but not on time
    assert one(con, sql, [YX, "2025Q4"]) == (2, 2, 2, 1.0, 1, 0.5, 0, None)
    # 西乡县 Q2: an issue on the ledger but not yet due → no rate
    assert one(con, sql, [XX, "2025Q2"]) == (1, 0, 0, None, 0, None, 0, None)
    # D03's issue is located in 汉台区 but belongs to the department
    assert one(con, sql, ["D03", "2025Q1"])[:4] == (1, 1, 1, 1.0)
    assert one(con, sql, [HT, "2025Q1"])[:2] == (1, 1)
    assert one(con, sql, ["D02", "2025Q2"]) == (1, 1, 0, 0.0, 0, 0.0, 1, 102)
    assert rows(con, "select * from marts.kpi_rectification where body_code = 'D06'") == []


def test_a_ledger_with_two_data_sheets(con: duckdb.DuckDBPyConnection) -> None:
    # 市委巡察办's workbook has sheets 市直部门（一） (D01-D03) and 市直部门（二） (D04-D05), both numbered from row 4
    got = rows(con, "select issue_code, sheet, row_number, description from marts.fct_inspection_issues "
                    "where quarter = '2025Q1' and body_group = 'department' order by issue_code")
    assert got == [
        ("XC2025-D01-01", "市直部门（一）", 4, "XC2025-D01-01 市纪委监委存在的问题"),
        ("XC2025-D02-01", "市直部门（一）", 5, "XC2025-D02-01 中共汉中市委组织部存在的问题"),
        ("XC2025-D03-01", "市直部门（一）", 6, "XC2025-D03-01 市教育局存在的问题"),
        ("XC2025-D04-01", "市直部门（二）", 4, "XC2025-D04-01 市卫健委存在的问题"),
        ("XC2025-D04-02", "市直部门（二）", 5, "XC2025-D04-02 市卫健委存在的问题"),
        ("XC2025-D05-01", "市直部门（二）", 6, "XC2025-D05-01 市住建局存在的问题"),
        ("XC2025-D05-02", "市直部门（二）", 7, "XC2025-D05-02 市住建局存在的问题"),
    ]


def _wilson(satisfied: float, n: float) -> tuple[float, float]:
    p = satisfied / n
    centre, half = p + Z * Z / (2 * n), Z * math.sqrt(p * (1 - p) / n + Z * Z / (4 * n * n))
    return round((centre - half) / (1 + Z * Z / n), 6), round((centre + half) / (1 + Z * Z / n), 6)


def _by_respondent(respondents: list[list[int]]) -> tuple:
    """DESIGN §4 written out per respondent: each inner list is one person's valid scores.

    Returns (rate_ci_low, rate_ci_high, index, index_ci_low, index_ci_high): the index interval is
    R ± z·√V(R) with V(R) = n/(n−1)·Σ(y_i − R·m_i)²/M²; the rate interval is Wilson on
    n_eff = M / max(1, V_cl(p) / (p(1−p)/M)).
    """
    valid = [r for r in respondents if r]
    n, big_m = len(valid), sum(len(r) for r in valid)
    y = [sum(r) for r in valid]
    s = [sum(1 for a in r if a >= 60) for r in valid]
    ratio, p = sum(y) / big_m, sum(s) / big_m
    v_index = n / (n - 1) * sum((yi - ratio * len(r)) ** 2 for yi, r in zip(y, valid, strict=True)) / big_m**2
    v_rate = n / (n - 1) * sum((si - p * len(r)) ** 2 for si, r in zip(s, valid, strict=True)) / big_m**2
    srs = p * (1 - p) / big_m
    deff = max(v_rate / srs, 1.0) if srs > 0 else 1.0
    half = Z * math.sqrt(v_index)
    return (*_wilson(p * big_m / deff, big_m / deff), round(ratio, 4),
            round(max(ratio - half, 0), 4), round(min(ratio + half, 100), 4))


def test_satisfaction(con: duckdb.DuckDBPyConnection) -> None:
    sql = ("select respondents, valid_respondents, valid_answers, satisfied_answers, satisfaction_rate, rate_ci_low, "
           "rate_ci_high, satisfaction_index, index_ci_low, index_ci_high, sample_sufficient "
           "from marts.kpi_satisfaction where region_code = ? and wave = '2025'")
    # 汉台区: 40 × (很满意 100, 满意 80): every respondent alike → index 90 with a zero-width interval
    assert one(con, sql, [HT]) == (40, 40, 80, 80, 1.0, *_wilson(80, 80), 90.0, 90.0, 90.0, True)
    # 南郑区: 20 × (满意, 满意) + 20 × (满意, 不了解) → 60 valid answers all 80: interval [80, 80]
    assert one(con, sql, [NZ]) == (40, 40, 60, 60, 1.0, *_wilson(60, 60), 80.0, 80.0, 80.0, True)
    # 城固县: 20 × (80, 60) + 20 × (60, 30) → 4600 / 80 = 57.5; satisfied 40 + 20 = 60 of 80
    cg = _by_respondent([[80, 60]] * 20 + [[60, 30]] * 20)
    assert cg[2] == 57.5
    assert one(con, sql, [CG]) == (40, 40, 80, 60, 0.75, cg[0], cg[1], *cg[2:], True)
    # by hand: residuals y − 57.5·2 are ±25 → V(R) = 40/39 · 40 · 625 / 80² = 4.00641, half-width z·2.00160 = 3.9231
    assert cg[3:] == (53.5769, 61.4231)
    # the rate: s − 0.75·2 = ±0.5 → V_cl = 40/39 · 10 / 6400, SRS 0.1875 / 80 → deff 0.6838 floored to 1
    assert cg[:2] == _wilson(60, 80)
    # 西乡县: 12 × (不满意 30, 满意 80) + one respondent who answered only 不了解 → 12 valid respondents < 30
    xx = _by_respondent([[30, 80]] * 12 + [[]])
    assert one(con, sql, [XX]) == (13, 12, 24, 12, 0.5, xx[0], xx[1], 55.0, *xx[3:], False)
    # each respondent is one satisfied and one not: s_i − 0.5·2 = 0 → deff 1; index residuals 0 → [55, 55]
    assert xx[3:] == (55.0, 55.0) and xx[:2] == _wilson(12, 24)
    # 洋县 includes its town 洋州街道 (10 respondents: shown, but 样本不足 on its own)
    assert one(con, sql, [YX])[:4] == (40, 40, 80, 80)
    assert one(con, sql, ["610723001000"])[7:] == (70.0, 70.0, 70.0, False)
    # 汉中市: everything; index 24720 / 324
    assert one(con, sql, [CITY])[:4] == (173, 172, 324, 292)
    assert one(con, sql, [CITY])[7] == round(24720 / 324, 4)


def test_cases(con: duckdb.DuckDBPyConnection) -> None:
    sql = ("select petitions, cases_filed, form1, form1_share, cases_per_10k, recovered_10k_yuan, ytd_decrease, "
           "ytd_decrease_items from marts.kpi_cases where region_code = ? and quarter = ?")
    # 汉台区 Q2 from 1-6月 minus 1-3月: 90 − 40, 14 − 6, 62 − 30; share 32 / (32 + 8 + 2 + 0); 8 / 600000 × 10000
    assert one(con, sql, [HT, "2025Q2"]) == (50, 8, 32, 32 / 42, round(8 / 600_000 * 10_000, 6), 20.0, False, None)
    assert one(con, sql, [HT, "2025Q3"])[5] == 8.3  # 40.8 − 32.5, not 8.299999…
    # 城固县 1-9月 立案 8 < 9 of 1-6月: a data error → NULL, flagged; other figures still computed
    assert one(con, sql, [CG, "2025Q3"]) == (24, None, 16, 16 / 19, None, 2.0, True, "立案")
    # Q4 = 15 − 8 (the reported, erroneous 1-9月 figure is the base)
    assert one(con, sql, [CG, "2025Q4"])[1] == 7
    # 洋县 reports 当季 figures: used as they are
    assert one(con, sql, [YX, "2025Q3"])[:3] == (21, 3, 14)
    # 汉中市 rolls its counties up; 立案 stays NULL in Q3 because one county's figure is an error
    assert one(con, sql, [CITY, "2025Q2"])[:2] == (50 + 32 + 27 + 22 + 18, 8 + 5 + 4 + 4 + 3)
    assert one(con, sql, [CITY, "2025Q2"])[4] == round(24 / 3_210_000 * 10_000, 6)
    assert one(con, sql, [CITY, "2025Q3"])[:2] == (45 + 28 + 24 + 21 + 16, None)
    assert one(con, "select counties_reporting, ytd_decrease from marts.kpi_cases where region_code = ? "
                    "and quarter = '2025Q3'", [CITY]) == (5, True)
    assert one(con, "select count(*) from marts.kpi_cases where cases_filed < 0 or petitions < 0")[0] == 0


# ----------------------------------------------------------------------------- scorecard
#
# Composite = Σ weight × score / Σ weight over the indicators with data.
# Counties (S: 汉台区 90, 南郑区 80, 城固县 57.5, 洋县 85, 西乡县 样本不足 → missing):
#   Q1  汉台区 (100+100+100+90)/4 = 97.5    洋县 (100+100+100+85)/4 = 96.25   南郑区 (50+50+100+80)/4 = 70
#       城固县 (100+50+50+57.5)/4 = 64.375  西乡县 T 0, C 25, no R, no S → (0+25)/2 = 12.5
#       red 汉台区 (97.5 − 70 = 27.5), 洋县 (26.25); snails 城固县 (70 − 64.375 = 5.625), 西乡县 (57.5)
#   Q2  汉台区 97.5; 南郑区 (100+75+100+80)/4 = 88.75; 洋县 (100+100+50+85)/4 = 83.75;
#       城固县 (100+75+50+57.5)/4 = 70.625 (veto: 91 days); 西乡县 (50+25)/2 = 37.5
#       red 汉台区 (97.5 − 83.75 = 13.75), 南郑区 (5); snails 城固县 (83.75 − 70.625 = 13.125), 西乡县 (46.25);
#       both were snails in Q1 → 约谈
#   Q3  汉台区 97.5; 洋县 83.75 but vetoed (153 days) → its flag passes to 城固县 (100+75+100+57.5)/4 = 83.125;
#       西乡县 (50+50+100)/3 = 66.6667; 南郑区 (50+75+50+80)/4 = 63.75
#       red 汉台区 (97.5 − 66.6667 = 30.8333, the best eligible non-flagged is 西乡县), 城固县 (16.4583);
#       snails 西乡县 (83.125 − 66.6667 = 16.4583, 约谈 again), 南郑区 (19.375)
#   Q4  汉台区 97.5; 洋县 96.25; 南郑区 88.75; 城固县 (50+100+100+57.5)/4 = 76.875; 西乡县 (50+75+100)/3 = 75
#       red 汉台区 (8.75), 洋县 (7.5); snails 城固县 (11.875), 西乡县 (13.75, 约谈)
# Departments (T 45, R 35, P 20; 市国资委 has no issues → (45 T + 20 P) / 65):
#   Q1  D01 100; D06 4500/65 = 69.2308; D04 22.5+17.5+20 = 60 and D05 60 (same R, same T → code);
#       D03 0+35+20 = 55 and D02 45+0+10 = 55 (R 1 beats R 0, though D02's T is higher)
#       red D01 (100 − 60 = 40), D06 (9.2308), D04 (0 → 边界接近); snails D05 (0, 边界接近), D03 (5), D02 (5)
#   Q2  D04 100; D01 45+35+10 = 90; D03 22.5+35+20 = 77.5; D06 4250/65 = 65.3846; D05 50 (veto 91 d);
#       D02 22.5+0+20 = 42.5 (veto 102 d). red D04 (34.6154), D01 (24.6154), D03 (12.1154);
#       snails D06 (12.1154), D05 (27.5, 约谈), D02 (35, 约谈)
#   Q3  D02 45+35+10 = 90; D06 5500/65 = 84.6154; D01 45+17.5+20 = 82.5; D03 67.5; D04 60; D05 37.5 (veto)
#       red D02 (22.5), D06 (17.1154), D01 (15); snails D03 (15), D04 (22.5), D05 (45, 约谈)
#   Q4  D01 100 and D02 100 (tie → code); D03 77.5; D06 69.2308; D04 67.5; D05 50 (veto)
#       red D01 (30.7692), D02 (30.7692), D03 (8.2692); snails D06 (8.2692), D04 (10, 约谈), D05 (27.5, 约谈)

E = None
SCORECARD = {
    # (group, quarter): [(code, composite, rank, flag, veto, talk, margin, near_tie, missing)]
    ("county", "2025Q1"): [
        (HT, 97.5, 1, "红旗", False, False, 27.5, False, E),
        (YX, 96.25, 2, "红旗", False, False, 26.25, False, E),
        (NZ, 70.0, 3, E, False, False, E, False, E),
        (CG, 64.375, 4, "蜗牛", False, False, 5.625, False, E),
        (XX, 12.5, 5, "蜗牛", False, False, 57.5, False, "整改完成率、满意度指数"),
    ],
    ("county", "2025Q2"): [
        (HT, 97.5, 1, "红旗", False, False, 13.75, False, E),
        (NZ, 88.75, 2, "红旗", False, False, 5.0, False, E),
        (YX, 83.75, 3, E, False, False, E, False, E),
        (CG, 70.625, 4, "蜗牛", True, True, 13.125, False, E),
        (XX, 37.5, 5, "蜗牛", False, True, 46.25, False, "整改完成率、满意度指数"),
    ],
    ("county", "2025Q3"): [
        (HT, 97.5, 1, "红旗", False, False, 30.8333, False, E),
        (YX, 83.75, 2, E, True, False, E, False, E),
        (CG, 83.125, 3, "红旗", False, False, 16.4583, False, E),
        (XX, 66.6667, 4, "蜗牛", False, True, 16.4583, False, "满意度指数"),
        (NZ, 63.75, 5, "蜗牛", False, False, 19.375, False, E),
    ],
    ("county", "2025Q4"): [
        (HT, 97.5, 1, "红旗", False, False, 8.75, False, E),
        (YX, 96.25, 2, "红旗", False, False, 7.5, False, E),
        (NZ, 88.75, 3, E, False, False, E, False, E),
        (CG, 76.875, 4, "蜗牛", False, False, 11.875, False, E),
        (XX, 75.0, 5, "蜗牛", False, True, 13.75, False, "满意度指数"),
    ],
    ("department", "2025Q1"): [
        ("D01", 100.0, 1, "红旗", False, False, 40.0, False, E),
        ("D06", 69.2308, 2, "红旗", False, False, 9.2308, False, "整改完成率"),
        ("D04", 60.0, 3, "红旗", False, False, 0.0, True, E),
        ("D05", 60.0, 4, "蜗牛", False, False, 0.0, True, E),
        ("D03", 55.0, 5, "蜗牛", False, False, 5.0, False, E),
        ("D02", 55.0, 6, "蜗牛", False, False, 5.0, False, E),
    ],
    ("department", "2025Q2"): [
        ("D04", 100.0, 1, "红旗", False, False, 34.6154, False, E),
        ("D01", 90.0, 2, "红旗", False, False, 24.6154, False, E),
        ("D03", 77.5, 3, "红旗", False, False, 12.1154, False, E),
        ("D06", 65.3846, 4, "蜗牛", False, False, 12.1154, False, "整改完成率"),
        ("D05", 50.0, 5, "蜗牛", True, True, 27.5, False, E),
        ("D02", 42.5, 6, "蜗牛", True, True, 35.0, False, E),
    ],
    ("department", "2025Q3"): [
        ("D02", 90.0, 1, "红旗", False, False, 22.5, False, E),
        ("D06", 84.6154, 2, "红旗", False, False, 17.1154, False, "整改完成率"),
        ("D01", 82.5, 3, "红旗", False, False, 15.0, False, E),
        ("D03", 67.5, 4, "蜗牛", False, False, 15.0, False, E),
        ("D04", 60.0, 5, "蜗牛", False, False, 22.5, False, E),
        ("D05", 37.5, 6, "蜗牛", True, True, 45.0, False, E),
    ],
    ("department", "2025Q4"): [
        ("D01", 100.0, 1, "红旗", False, False, 30.7692, False, E),
        ("D02", 100.0, 2, "红旗", False, False, 30.7692, False, E),
        ("D03", 77.5, 3, "红旗", False, False, 8.2692, False, E),
        ("D06", 69.2308, 4, "蜗牛", False, False, 8.2692, False, "整改完成率"),
        ("D04", 67.5, 5, "蜗牛", False, True, 10.0, False, E),
        ("D05", 50.0, 6, "蜗牛", True, True, 27.5, False, E),
    ],
}


@pytest.mark.parametrize("group_quarter", sorted(SCORECARD), ids=lambda gq: "-".join(gq))
def test_scorecard(con: duckdb.DuckDBPyConnection, group_quarter: tuple[str, str]) -> None:
    group, quarter = group_quarter
    got = rows(con, "select body_code, composite_score, rank, flag, veto, talk_required, margin, near_tie, "
                    "missing_indicators from marts.scorecard_quarterly where body_group = ? and quarter = ? order by rank",
               [group, quarter])
    assert got == SCORECARD[group_quarter]
    assert {r[0] for r in rows(con, "select distinct rules_version from marts.scorecard_quarterly")} == {"默认"}


def test_scorecard_explains_itself(con: duckdb.DuckDBPyConnection) -> None:
    sql = ("select task_score, coverage_score, rectification_score, timeliness_score, satisfaction_score, "
           "task_weight_used, coverage_weight_used, rectification_weight_used, satisfaction_weight_used, "
           "satisfaction_wave, satisfaction_respondents, flag_note from marts.scorecard_quarterly "
           "where body_code = ? and quarter = ?")
    # 西乡县 Q2: T 50, C 25; R and S missing, so T and C carry 50% each
    task, cov, rect, timely, sat, w_task, w_cov, w_rect, w_sat, wave, n, note = one(con, sql, [XX, "2025Q2"])
    assert (task, cov, rect, timely, sat) == (50.0, 25.0, None, None, None)
    assert (w_task, w_cov, w_rect, w_sat) == (50.0, 50.0, None, None)
    assert (wave, n) == ("2025", 12)
    for words in ("第5名/共5个", "蜗牛", "需约谈", "缺少指标：整改完成率、满意度指数", "有效样本12人"):
        assert words in note, note
    note = one(con, sql, [YX, "2025Q3"])[-1]
    assert "一票否决" in note and "153天" in note and "超过90天" in note
    note = one(con, sql, ["D04", "2025Q1"])[-1]
    assert "边界接近" in note and "红旗" in note
    # departments are not scored on coverage or satisfaction; counties not on timeliness
    assert one(con, sql, ["D01", "2025Q2"])[:5] == (100.0, None, 100.0, 50.0, None)


# ----------------------------------------------------------------------------- annual assessment
#
# annual = mean of the four composites + red flags − snails, clamped to [0, 100]; 优秀 places = floor(0.2 × n) ≥ 1.
#   汉台区 97.5 × 4 = 97.5, + 4 red = 101.5 → 100; rank 1 of 5 (1 place) → 优秀
#   洋县   (96.25 + 83.75 + 83.75 + 96.25)/4 = 90, + 2 red = 92; vetoed in Q3 → 良好 (and outside the 1 place)
#   南郑区 (70 + 88.75 + 63.75 + 88.75)/4 = 77.8125, + 1 − 1 → 合格
#   城固县 (64.375 + 70.625 + 83.125 + 76.875)/4 = 73.75, + 1 − 3 = 71.75 → 合格 (vetoed in Q2)
#   西乡县 (12.5 + 37.5 + 66.6667 + 75)/4 = 47.916675, − 4 = 43.9167 → 不合格
#   D01 (100 + 90 + 82.5 + 100)/4 = 93.125 + 4 = 97.125 → rank 1 of 6 (1 place), no veto → 优秀
#   D06 (69.2308 + 65.3846 + 84.6154 + 69.2308)/4 = 72.1154, + 2 − 2
#   D02 (55 + 42.5 + 90 + 100)/4 = 71.875 and D04 (60 + 100 + 60 + 67.5)/4 = 71.875, both + 2 − 2:
#       tied on score, red flags and snails → code: D02 3rd, D04 4th
#   D03 (55 + 77.5 + 67.5 + 77.5)/4 = 69.375;  D05 (60 + 50 + 37.5 + 50)/4 = 49.375 − 4 = 45.375 → 不合格

ANNUAL = [
    ("county", HT, "汉台区", 2025, 100.0, 1, "优秀", 4, 0, False, "默认"),
    ("county", YX, "洋县", 2025, 92.0, 2, "良好", 2, 0, True, "默认"),
    ("county", NZ, "南郑区", 2025, 77.8125, 3, "合格", 1, 1, False, "默认"),
    ("county", CG, "城固县", 2025, 71.75, 4, "合格", 1, 3, True, "默认"),
    ("county", XX, "西乡县", 2025, 43.9167, 5, "不合格", 0, 4, False, "默认"),
    ("department", "D01", "市纪委监委", 2025, 97.125, 1, "优秀", 4, 0, False, "默认"),
    ("department", "D06", "市国资委", 2025, 72.1154, 2, "合格", 2, 2, False, "默认"),
    ("department", "D02", "市委组织部", 2025, 71.875, 3, "合格", 2, 2, True, "默认"),
    ("department", "D04", "市卫健委", 2025, 71.875, 4, "合格", 2, 2, False, "默认"),
    ("department", "D03", "市教育局", 2025, 69.375, 5, "合格", 2, 2, False, "默认"),
    ("department", "D05", "市住建局", 2025, 45.375, 6, "不合格", 0, 4, True, "默认"),
]


def test_assessment_annual(con: duckdb.DuckDBPyConnection) -> None:
    got = rows(con, "select body_group, body_code, body_name, year, annual_score, rank, grade, red_flags, snails, veto, "
                    "rules_version from marts.assessment_annual order by body_group, rank")
    assert got == ANNUAL
    note = one(con, "select grade_note from marts.assessment_annual where body_code = ?", [YX])[0]
    assert "一票否决" in note


# ----------------------------------------------------------------------------- errors


def test_missing_warehouse_is_a_clear_chinese_error(tmp_path: Path) -> None:
    with pytest.raises(BuildError, match="数据仓库文件不存在"):
        build_marts(tmp_path / "nowhere.duckdb")


def test_warehouse_without_raw_layer_is_refused(tmp_path: Path) -> None:
    empty = tmp_path / "empty.duckdb"
    duckdb.connect(str(empty)).close()
    with pytest.raises(BuildError, match="缺少原始层表"):
        build_marts(empty)


def test_snail_runs(con: duckdb.DuckDBPyConnection) -> None:
    sql = ("select quarter, current_run, longest_run, talk_required from marts.scorecard_snail_runs "
           "where body_code = ? order by quarter")
    # 西乡县: a snail in all four quarters (see the scorecard table above)
    assert rows(con, sql, [XX]) == [("2025Q1", 1, 1, False), ("2025Q2", 2, 2, True), ("2025Q3", 3, 3, True),
                                    ("2025Q4", 4, 4, True)]
    # 城固县: snails in Q1, Q2 and Q4 (Q3 a red flag)
    assert rows(con, sql, [CG]) == [("2025Q1", 1, 1, False), ("2025Q2", 2, 2, True), ("2025Q3", 0, 2, False),
                                    ("2025Q4", 1, 2, False)]
    # 市国资委 (D06): a snail in Q2 and Q4 only
    assert [r[1:3] for r in rows(con, sql, ["D06"])] == [(0, 0), (1, 1), (0, 1), (1, 1)]
