"""The roll-ups pages used to compute in pandas are marts; pages and the bulletin read them.

Built once by dbt from the small hand-made warehouse (tests/fixtures/small_built.py). Every expected
figure is counted by hand from the dataset's story (tests/fixtures/small_warehouse.py: TASKS,
PROGRESS, UNITS, the scorecard table in its docstring), never read back from the code.
"""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from dashboards import data, data_ranking
from tests.fixtures.small_warehouse import CITY, NZ, YX


@pytest.fixture(scope="module")
def served(small_marts: Path) -> Path:
    return small_marts


def _all(path: Path) -> data.Source:
    return data.Source(path, None, cached=False)


def test_headline_of_the_city_counts_every_body(served: Path) -> None:
    hb = data.headline_by_quarter(_all(served)).set_index("quarter")
    # Q1: 22 tasks less RW12 (issued 2025-05-10) = 21 active; 按序推进/已完成: RW01-04, 07, 09, 11, 13-15, 17-20
    assert list(hb.tasks_active) == [21, 22, 21, 21]  # Q2: RW12 issued; Q3 on: RW01 completed in Q2
    assert hb.loc["2025Q1", "tasks_on_schedule"] == 14
    assert hb.loc["2025Q1", "task_rate"] == pytest.approx(14 / 21)
    # Q4: every deadline falls in 2025 -> 22 due; completed RW01 (Q2), RW02, RW03, RW13, RW14
    assert (hb.loc["2025Q4", "tasks_due"], hb.loc["2025Q4", "tasks_completed"]) == (22, 5)
    assert hb.loc["2025Q4", "completion_rate"] == pytest.approx(5 / 22)
    # Q1 units at stage >= 2: 汉台区 4, 南郑区 2, 城固县 2, 洋县 4, 西乡县 1 of 20 registered
    assert (hb.loc["2025Q1", "units_standard"], hb.loc["2025Q1", "units_registered"]) == (13, 20)
    assert hb.loc["2025Q1", "coverage_rate"] == pytest.approx(0.65)


def test_headline_of_a_county_user_is_their_own_county(served: Path) -> None:
    hb = data.headline_by_quarter(data.Source(served, YX, cached=False)).set_index("quarter")
    # 洋县: two own tasks on schedule all year; 4 units, all at 已达标 or 示范; R = 1, .5, .5, 1
    assert list(hb.task_rate) == [1.0, 1.0, 1.0, 1.0]
    assert list(hb.coverage_rate) == [1.0, 1.0, 1.0, 1.0]
    assert list(hb.rectification_rate) == [1.0, 0.5, 0.5, 1.0]
    with duckdb.connect(str(served), read_only=True) as con:
        root = con.execute("select scope_code from marts.kpi_headline_quarterly where is_root").fetchall()
    assert {r[0] for r in root} == {CITY}  # the register's province row is above the one city


def test_overall_satisfaction_is_the_scope_regions_own_row(served: Path) -> None:
    city = data.satisfaction_overall(_all(served))
    county = data.satisfaction_overall(data.Source(served, NZ, cached=False))
    with duckdb.connect(str(served), read_only=True) as con:
        own = dict(con.execute("select region_code, satisfaction_index from marts.kpi_satisfaction "
                               "where wave = '2025'").fetchall())
    assert list(county.satisfaction_index) == [pytest.approx(80.0)]  # 南郑区 S = 80 in the story
    assert list(city.satisfaction_index) == [pytest.approx(own[CITY])]


def test_annual_breakdown_is_the_mean_of_the_quarterly_indicator_scores(served: Path) -> None:
    a = data.assessment(2025, "county", _all(served)).set_index("body_code")
    # 南郑区: T .5/1/.5/1, C .5/.75/.75/.75, R 1/1/.5/1, S 80
    assert a.loc[NZ, "任务推进率(年均)"] == pytest.approx(75.0)
    assert a.loc[NZ, "清廉单元覆盖率(年均)"] == pytest.approx(68.75)
    assert a.loc[NZ, "整改完成率(年均)"] == pytest.approx(87.5)
    assert a.loc[NZ, "满意度指数(年均)"] == pytest.approx(80.0)
    d = data.assessment(2025, "department", _all(served)).set_index("body_code")
    # D06: T 1/.5/1/1, no issues at all (no rectification column value), P 0/1/.5/0
    assert d.loc["D06", "任务推进率(年均)"] == pytest.approx(87.5)
    assert d.loc["D06", "按时报送率(年均)"] == pytest.approx(37.5)
    assert d.loc["D06", "整改完成率(年均)"] != d.loc["D06", "整改完成率(年均)"]  # NaN: no data in any quarter
    # the quarterly composites beside them: Q1 12.5 + 12.5 + 25 + 20, Q2 25 + 18.75 + 25 + 20
    assert list(a.loc[NZ, ["Q1得分", "Q2得分"]]) == [pytest.approx(70.0), pytest.approx(88.75)]


def test_bulletin_contributions_and_group_means_come_from_the_marts(served: Path) -> None:
    c = data_ranking.contributions(["2025Q4"], _all(served))
    nz = c[(c.body_code == NZ)].set_index("indicator")
    # 南郑区 Q4: T 1, C .75, R 1, S 80, each weighted 25
    assert list(nz.contribution) == [pytest.approx(25.0), pytest.approx(18.75), pytest.approx(25.0), pytest.approx(20.0)]
    sat = nz.loc["satisfaction"]
    assert sat.respondents > 0 and sat.denominator >= sat.respondents  # respondents, and the index's own valid answers
    means = data_ranking.group_means(["2025Q4"], _all(served)).set_index(["body_group", "indicator"])
    # county T in Q4: 汉台区 1, 南郑区 1, 城固县 .5, 洋县 1, 西乡县 .5 -> mean 80
    assert means.loc[("county", "task_on_schedule"), "group_mean"] == pytest.approx(80.0)
    assert data_ranking.group_means(["2025Q4"], data.Source(served, YX, cached=False)).empty
