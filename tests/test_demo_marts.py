"""The city demo built end to end (ingest → dbt build), checked against the generator's own truth
and against invariants that must hold across marts.

The generator records what it simulated (units per county and quarter, vetoes, the story) in its
manifest before writing the messy files; the marts are computed from the files alone. Agreement
between the two is an independent check of ingest + staging + marts.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import duckdb
import pytest

from qinglian.build import build_marts
from qinglian.settings import DBT_PROJECT_DIR
from tests.conftest import manifest_data_tests

pytestmark = pytest.mark.slow

# Units the demo plants as bad rows (rejected at ingest, DESIGN §3): one unit each, missing from that quarter's file.
PLANTED_BAD_UNIT_ROWS = {("西乡县", "2025Q2"), ("宁强县", "2025Q3")}


@pytest.fixture(scope="module")
def built(demo_built: tuple[Path, object]) -> Path:
    """The city demo built once for the whole run (tests/conftest.py: models and data tests; the unit
    tests run on the small warehouse). Read-only here."""
    warehouse, result = demo_built
    assert result.success, result
    assert result.models_error == 0 and result.tests_failed == 0 and result.tests_errored == 0
    assert result.tests_passed + result.tests_warned == manifest_data_tests(), result  # every data test ran
    return warehouse


@pytest.fixture(scope="module")
def con(built: Path):
    c = duckdb.connect(str(built), read_only=True)
    yield c
    c.close()


@pytest.fixture(scope="module")
def truth(demo_landing: Path) -> dict:
    return json.loads((demo_landing / "_demo_manifest.json").read_text(encoding="utf-8"))["truth"]


def test_county_unit_counts_match_what_the_generator_simulated(con, truth: dict) -> None:
    names = {c["code"]: c["name"] for c in truth["counties"]}
    got = {(r, q): (reg, std) for r, q, reg, std in con.execute(
        "select region_code, quarter, units_registered, units_standard from marts.kpi_unit_coverage "
        "where unit_type = '全部' and region_level = '县'").fetchall()}
    checked = 0
    for code, per_quarter in truth["units"].items():
        for quarter, t in per_quarter.items():
            if (names[code], quarter) in PLANTED_BAD_UNIT_ROWS:
                # the rejected unit is not counted that quarter (it reappears when a later file reports it)
                assert got[(code, quarter)][0] in (t["registered"] - 1, t["registered"])
                continue
            assert got[(code, quarter)] == (t["registered"], t["standard"]), (names[code], quarter)
            checked += 1
    assert checked == 11 * 4 - len(PLANTED_BAD_UNIT_ROWS)


def test_city_coverage_is_the_unit_weighted_county_coverage(con) -> None:
    rows = con.execute("""
        select c.quarter, c.coverage_rate, sum(k.units_standard) / sum(k.units_registered), c.units_registered,
               sum(k.units_registered)
        from marts.kpi_unit_coverage c
        join marts.kpi_unit_coverage k on k.quarter = c.quarter and k.unit_type = c.unit_type and k.region_level = '县'
        where c.region_level = '市' and c.unit_type = '全部'
        group by all""").fetchall()
    assert len(rows) == 4
    for _q, city_rate, weighted, city_n, county_n in rows:
        assert city_rate == pytest.approx(weighted, abs=1e-12) and city_n == county_n


def test_city_satisfaction_pools_the_county_answers(con) -> None:
    city, pooled_valid, pooled_satisfied, pooled_index = con.execute("""
        select any_value(c.satisfaction_rate), sum(k.valid_answers), sum(k.satisfied_answers),
               sum(k.satisfaction_index * k.valid_answers) / sum(k.valid_answers)
        from marts.kpi_satisfaction c join marts.kpi_satisfaction k on k.wave = c.wave and k.region_level = '县'
        where c.region_level = '市'""").fetchone()
    assert city == pytest.approx(pooled_satisfied / pooled_valid, abs=1e-12)
    city_index = con.execute("select satisfaction_index from marts.kpi_satisfaction where region_level = '市'").fetchone()[0]
    assert city_index == pytest.approx(pooled_index, abs=1e-3)


def test_flag_counts_per_group_and_quarter_are_as_configured(con) -> None:
    rows = con.execute("""
        select s.body_group, s.quarter, count(*) filter (where flag = '红旗'), count(*) filter (where flag = '蜗牛'),
               any_value(r.red_flags), any_value(r.snails), count(*)
        from marts.scorecard_quarterly s
        join marts.rules_by_year r on r.body_group = s.body_group and r.year = s.year
        group by all order by all""").fetchall()
    assert {(g, q) for g, q, *_ in rows} == {(g, f"2025Q{i}") for g in ("county", "department") for i in range(1, 5)}
    for group, quarter, reds, snails, want_reds, want_snails, bodies in rows:
        assert (reds, snails) == (want_reds, want_snails), (group, quarter)
        assert bodies == (11 if group == "county" else 25)


def test_vetoes_are_the_planted_overdue_issues(con, truth: dict) -> None:
    got: dict[str, list[str]] = {}
    for quarter, code in con.execute(
            "select quarter, body_code from marts.scorecard_quarterly where veto order by quarter, body_code").fetchall():
        got.setdefault(quarter, []).append(code)
    assert got == {q: sorted(codes) for q, codes in truth["veto"].items()}
    # a vetoed body never holds a red flag
    assert con.execute("select count(*) from marts.scorecard_quarterly where veto and flag = '红旗'").fetchone()[0] == 0


def test_the_story_yangxian_is_a_snail_in_2025q2_and_hantai_leads(con, truth: dict) -> None:
    story = truth["story"]
    snail = story["snail_candidate"]
    flag, rank, n = con.execute(
        "select flag, rank, bodies_ranked from marts.scorecard_quarterly where quarter = ? and body_name = ?",
        [snail["quarter"], snail["body"]]).fetchone()
    assert (flag, rank >= n - 1) == ("蜗牛", True)
    leaders = {name for (name,) in con.execute(
        "select body_name from marts.scorecard_quarterly where body_group = 'county' and rank = 1").fetchall()}
    assert leaders == {story["red_flag_candidate"]}


def test_two_builds_of_the_same_raw_data_give_identical_marts(con, demo_ingested, tmp_path: Path) -> None:
    """Issue 11.6: byte-identical marts, build after build (no float sums in whatever order a parallel
    aggregate runs, no ties broken by chance). The demo is large enough for DuckDB to aggregate in parallel."""
    again = tmp_path / "again.duckdb"
    shutil.copyfile(demo_ingested[0], again)
    # The same rows stored in another order: every aggregate then adds them up in another order.
    with duckdb.connect(str(again)) as raw:
        for (table,) in raw.execute("select table_name from duckdb_tables() where schema_name = 'raw' "
                                    "and table_name <> 'ingest_files'").fetchall():
            raw.execute(f"create or replace table raw.{table} as select * from raw.{table} order by md5(cast(rowid as varchar))")
    result = build_marts(again, exclude="resource_type:test resource_type:unit_test", target_path=tmp_path / "target")
    assert result.success, result
    tables = [t for (t,) in con.execute("select table_name from duckdb_tables() where schema_name = 'marts' "
                                        "order by 1").fetchall()]
    assert len(tables) >= 19
    with duckdb.connect(str(again), read_only=True) as other:
        for table in tables:
            sql = f"select * from marts.{table} order by all"
            first, second = con.execute(sql).fetchall(), other.execute(sql).fetchall()
            assert first == second, table


def test_dbt_docs_generate(built: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from dbt.cli.main import dbtRunner

    target = tmp_path / "docs_target"
    # a copy: this module's read-only connection to `built` would clash with dbt's read-write one
    docs_copy = tmp_path / "docs.duckdb"
    shutil.copyfile(built, docs_copy)
    monkeypatch.setenv("QINGLIAN_WAREHOUSE", str(docs_copy))
    res = dbtRunner().invoke(["docs", "generate", "--project-dir", str(DBT_PROJECT_DIR), "--profiles-dir",
                              str(DBT_PROJECT_DIR), "--target-path", str(target), "--quiet"])
    assert res.success, res.exception
    catalog = json.loads((target / "catalog.json").read_text(encoding="utf-8"))
    assert "model.qinglian.scorecard_quarterly" in catalog["nodes"]
    assert (target / "index.html").exists()
