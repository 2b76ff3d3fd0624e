"""Write-audit-publish without dbt: the gate, the atomic swap, frozen ranking versions, rollback."""

from __future__ import annotations

import hashlib
from datetime import date
from pathlib import Path

import duckdb
import pytest

from orchestration.partitions import partition_key, previous_quarter, quarter_of, quarter_range
from orchestration.publish import PUBLISHED_TABLES, PublishBlocked, publish, rollback


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _fake_marts(path: Path, score_yx: float = 71.5) -> None:
    con = duckdb.connect(str(path))
    con.execute("create schema marts")
    for table in PUBLISHED_TABLES:
        if table != "scorecard_quarterly":
            con.execute(f"create table marts.{table} as select 1 as x")
    con.execute(
        """create table marts.scorecard_quarterly as select * from (values
             ('county', '610723000000', '洋县', '2025Q1', ?, 2, '蜗牛', false, false, 'v2025'),
             ('county', '610702000000', '汉台区', '2025Q1', 90.0, 1, '红旗', false, false, 'v2025'))
           t(body_group, body_code, body_name, quarter, composite_score, rank, flag, veto, talk_required, rules_version)""",
        [score_yx],
    )
    con.close()


def test_quarter_calendar() -> None:
    assert quarter_range("2025Q3", "2026Q2") == ["2025Q3", "2025Q4", "2026Q1", "2026Q2"]
    assert previous_quarter(date(2025, 4, 10)) == "2025Q1"
    assert previous_quarter(date(2026, 1, 10)) == "2025Q4"
    assert previous_quarter(date(2026, 11, 22)) == "2026Q3"
    assert previous_quarter(date(2026, 1, 1)) == "2025Q4"
    assert [partition_key(q) for q in ("2025Q1", "2025Q4")] == ["2025-01-01", "2025-10-01"]
    assert quarter_of("2026-07-01") == "2026Q3"


def test_publish_swaps_in_a_verified_copy_and_keeps_the_previous(tmp_path: Path) -> None:
    warehouse, serving = tmp_path / "w.duckdb", tmp_path / "serving" / "warehouse.duckdb"
    _fake_marts(warehouse)
    first = publish(warehouse, serving, "2025Q1", run_id="run-1")
    assert first.new_versions == {"2025Q1": 1} and first.row_counts["scorecard_quarterly"] == 2
    with duckdb.connect(str(serving), read_only=True) as con:
        assert con.execute("select status, quarter, checks_passed from ops.publish_log").fetchall() == [("published", "2025Q1", True)]
    first_digest = _digest(serving)
    # Same figures again: no new ranking version.
    again = publish(warehouse, serving, "2025Q1", run_id="run-2")
    assert again.new_versions == {}
    assert (serving.parent / "previous_warehouse.duckdb").exists()
    assert _digest(serving.parent / "previous_warehouse.duckdb") == first_digest


def test_recomputed_ranking_becomes_a_new_version_with_differences(tmp_path: Path) -> None:
    warehouse, serving = tmp_path / "w.duckdb", tmp_path / "s.duckdb"
    _fake_marts(warehouse)
    publish(warehouse, serving, "2025Q1", run_id="r1")
    with duckdb.connect(str(warehouse)) as con:
        con.execute("update marts.scorecard_quarterly set composite_score = 73.25 where body_code = '610723000000'")
    result = publish(warehouse, serving, "2025Q1", run_id="r2")
    assert result.new_versions == {"2025Q1": 2}
    with duckdb.connect(str(serving), read_only=True) as con:
        assert con.execute("select body_code, field, old_value, new_value from ops.scorecard_changes").fetchall() == [
            ("610723000000", "composite_score", "71.5", "73.25")
        ]
        # Version 1 is kept exactly as first published.
        assert con.execute("select version, composite_score from ops.scorecard_frozen where body_code = '610723000000' order by version").fetchall() == [
            (1, 71.5), (2, 73.25)
        ]


def test_blocking_failure_leaves_serving_byte_identical(tmp_path: Path) -> None:
    warehouse, serving = tmp_path / "w.duckdb", tmp_path / "s.duckdb"
    _fake_marts(warehouse)
    publish(warehouse, serving, "2025Q1", run_id="good")
    before = _digest(serving)
    with duckdb.connect(str(warehouse)) as con:
        con.execute("create table ops.dq_results (run_id varchar, asset varchar, expectation varchar, severity varchar, success boolean, description_zh varchar)")
        con.execute("insert into ops.dq_results values ('bad', 'marts.kpi_cases', 'expect_column_values_to_be_between', 'blocking', false, '比率超出[0,1]')")
        con.execute("insert into ops.dq_results values ('bad', 'raw.units', 'expect_x', 'warning', false, '仅警告')")
        con.execute("update marts.scorecard_quarterly set composite_score = 10")
    with pytest.raises(PublishBlocked, match="1 项阻断性数据质量检查未通过"):
        publish(warehouse, serving, "2025Q1", run_id="bad")
    assert _digest(serving) == before
    with duckdb.connect(str(warehouse), read_only=True) as con:
        assert con.execute("select status from ops.publish_log order by publish_id").fetchall() == [("published",), ("blocked",)]


def test_rollback_restores_the_previous_copy(tmp_path: Path) -> None:
    warehouse, serving = tmp_path / "w.duckdb", tmp_path / "s.duckdb"
    _fake_marts(warehouse)
    publish(warehouse, serving, "2025Q1", run_id="a")
    first = _digest(serving)
    with duckdb.connect(str(warehouse)) as con:
        con.execute("update marts.scorecard_quarterly set composite_score = 50 where body_code = '610723000000'")
    publish(warehouse, serving, "2025Q1", run_id="b")
    assert _digest(serving) != first
    assert rollback(serving)
    assert _digest(serving) == first


def test_the_serving_copy_holds_only_what_readers_need(tmp_path: Path) -> None:
    """marts (with their descriptions), rules, ops, the ingest outcomes/rejects and the reference data
    the portal's dry run resolves against; no other raw rows, staging or intermediate."""
    warehouse, serving = tmp_path / "w.duckdb", tmp_path / "s.duckdb"
    _fake_marts(warehouse)
    with duckdb.connect(str(warehouse)) as con:
        for schema in ("raw", "staging", "intermediate", "rules"):
            con.execute(f"create schema {schema}")
        con.execute("create table raw.ingest_files as select 1 as file_id, 'units/a.xlsx' as path")
        con.execute("create table raw.ingest_rejects as select 1 as file_id, '第3行' as reason")
        con.execute("create table raw.units as select '张三' as contact")
        con.execute("create table raw.regions as select '610723000000' as region_code")
        con.execute("create view staging.stg_raw__units as select * from raw.units")
        con.execute("create table intermediate.int_x as select 1 as x")
        con.execute("create table rules.rule_sets as select '2025.1' as rules_version")
        con.execute("comment on table marts.scorecard_quarterly is '季度排名'")
        con.execute("comment on column marts.scorecard_quarterly.composite_score is '综合得分'")
    publish(warehouse, serving, "2025Q1", run_id="r")
    with duckdb.connect(str(serving), read_only=True) as con:
        tables = {f"{s}.{t}" for s, t in con.execute(
            "select schema_name, table_name from duckdb_tables() where database_name = current_database()").fetchall()}
        views = con.execute("select count(*) from duckdb_views() where not internal").fetchall()[0][0]
        comments = con.execute("""select (select comment from duckdb_tables() where table_name = 'scorecard_quarterly'),
                                         (select comment from duckdb_columns() where table_name = 'scorecard_quarterly'
                                          and column_name = 'composite_score')""").fetchall()[0]
        assert con.execute("select reason from raw.ingest_rejects").fetchall() == [("第3行",)]
    assert tables == {f"marts.{t}" for t in PUBLISHED_TABLES} | {
        "raw.ingest_files", "raw.ingest_rejects", "raw.regions", "rules.rule_sets", "ops.publish_log", "ops.scorecard_versions",
        "ops.scorecard_changes", "ops.scorecard_frozen"}
    assert views == 0
    assert comments == ("季度排名", "综合得分")
