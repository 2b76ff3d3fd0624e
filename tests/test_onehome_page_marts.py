"""The sums, ratios and runs the 巡察整改, 案件统计 and 督办 pages and the snail history used to compute in
pandas are marts (kpi_rectification_by_group, kpi_headline_quarterly's rectification columns,
kpi_cases_overall, kpi_overdue_bodies, kpi_overdue_stages_scope, scorecard_snail_runs); the data
functions only select the viewer's rows.

Built once by dbt from the small hand-made warehouse (tests/fixtures/small_built.py). Every expected
figure is counted by hand from tests/fixtures/small_warehouse.py (ISSUES, CASE_INCREMENTS, and the
flags per quarter worked out in tests/test_dbt_marts.py's scorecard comments).
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from dashboards import data, data_warnings
from tests.fixtures.small_warehouse import CG, HT, NZ, XX, YX


@pytest.fixture(scope="module")
def served(small_marts: Path) -> Path:
    return small_marts


def _all(path: Path) -> data.Source:
    return data.Source(path, None, cached=False)


def test_rectification_trend_sums_then_divides(served: Path) -> None:
    tr = data.rect_trend(_all(served)).set_index(["quarter", "body_group"])
    # Q1 counties: due HT-01, NZ-01, CG-01, CG-02 (03-31, still open), YX-02 → 5; all but CG-02 rectified on time
    assert tr.loc[("2025Q1", "county"), ["issues_due", "issues_rectified", "issues_on_time"]].tolist() == [5, 4, 4]
    assert tr.loc[("2025Q1", "county"), "rectification_rate"] == pytest.approx(0.8)
    # Q1 departments: due D01-01, D02-01, D03-01, D04-01, D04-02, D05-01, D05-02 → 7; rectified D01, D03, D04-01, D05-01
    assert tr.loc[("2025Q1", "department"), ["issues_due", "issues_rectified"]].tolist() == [7, 4]
    assert tr.loc[("2025Q1", "department"), "rectification_rate"] == pytest.approx(4 / 7)
    # a county user sees their own county only: 洋县 Q3 — YX-01 and YX-02 due, YX-02 rectified
    own = data.rect_trend(data.Source(served, YX, cached=False))
    assert set(own.body_group) == {"county"}
    assert own.set_index("quarter").loc["2025Q3", ["issues_due", "issues_rectified"]].tolist() == [2, 1]


def test_rectification_cards_of_the_scope(served: Path) -> None:
    # Q2 (D = 06-30): open past their deadline CG-02 (91 days), D02-01 (102), D05-02 (91), YX-01 (61);
    # over the 90-day veto line: three of them
    q2 = data.rect_headline("2025Q2", _all(served)).iloc[0]
    assert (q2.overdue_open, q2.overdue_over_veto) == (4, 3)
    q3 = data.rect_headline("2025Q3", data.Source(served, YX, cached=False)).iloc[0]
    assert (q3.issues_due, q3.issues_rectified, q3.issues_on_time, q3.overdue_open, q3.overdue_over_veto) == (2, 1, 1, 1, 1)
    assert (q3.rectification_rate, q3.on_time_rate) == (0.5, 0.5)


def test_cases_overall_is_the_scope_regions_own_row(served: Path) -> None:
    city = data.cases_overall(_all(served)).set_index("quarter")
    # Q1 立案 6 + 4 + 5 + 3 + 2 = 20; form 1: 30 + 20 + 18 + 15 + 12 = 95 of 39 + 25 + 23 + 19 + 14 = 120
    assert city.loc["2025Q1", "cases_filed"] == 20
    assert city.loc["2025Q1", "form1_share"] == pytest.approx(95 / 120)
    assert city.loc["2025Q1", "cases_per_10k"] == pytest.approx(20 / 3_210_000 * 10_000, abs=1e-6)
    assert city.loc["2025Q2", "cases_filed"] == 8 + 5 + 4 + 4 + 3
    # 城固县's 1-9月 立案 8 is below its 1-6月 9: the city's Q3 roll-up stays empty, never 0
    assert pd.isna(city.loc["2025Q3", "cases_filed"])
    own = data.cases_overall(data.Source(served, YX, cached=False))
    assert own.set_index("quarter").loc["2025Q1", "cases_filed"] == 3 and set(own.scope_code) == {YX}


def test_overdue_per_body_and_stage(served: Path) -> None:
    bodies = data_warnings.overdue_bodies("2025Q2", _all(served)).set_index("body_code")
    assert bodies.loc["D02", ["overdue_issues", "max_days_overdue", "top_stage"]].tolist() == [1, 102, "问责"]
    assert bodies.loc[YX, ["overdue_issues", "max_days_overdue", "top_stage"]].tolist() == [1, 61, "告诫"]
    assert set(bodies.index) == {CG, YX, "D02", "D05"}
    # stages 1-30 提醒, 31-60 督办, 61-90 告诫, 91+ 问责: 61 → 告诫; 91, 102, 91 → 问责
    totals = data_warnings.overdue_stage_totals("2025Q2", _all(served)).set_index("escalation_stage").issues
    assert totals.to_dict() == {"提醒": 0, "督办": 0, "告诫": 1, "问责": 3}
    own = data_warnings.overdue_stage_totals("2025Q3", data.Source(served, YX, cached=False))
    assert own.set_index("escalation_stage").issues.to_dict() == {"提醒": 0, "督办": 0, "告诫": 0, "问责": 1}


def test_snail_history_reads_the_runs(served: Path) -> None:
    # county snails: Q1 城固县 西乡县; Q2 城固县 西乡县 (both 约谈); Q3 西乡县 南郑区 (城固县 takes 洋县's vetoed
    # red flag); Q4 城固县 西乡县
    h = data.snail_history("county", _all(served)).set_index("body_code")
    assert h.loc[XX, ["current_run", "longest_run", "talk_quarters"]].tolist() == [4, 4, "2025Q2、2025Q3、2025Q4"]
    assert h.loc[CG, ["current_run", "longest_run", "talk_quarters"]].tolist() == [1, 2, "2025Q2"]
    assert h.loc[NZ, ["current_run", "longest_run", "talk_quarters"]].tolist() == [0, 1, ""]
    assert h.loc[HT, ["current_run", "longest_run"]].tolist() == [0, 0]
    assert [h.loc[CG, q] for q in ("2025Q1", "2025Q2", "2025Q3", "2025Q4")] == ["蜗牛", "蜗牛", "红旗", "蜗牛"]
    assert list(h.index[:2]) == [XX, CG]  # longest run first
    # departments: D05 a snail every quarter; D02 Q1-Q2 then a red flag; D04 Q3-Q4
    d = data.snail_history("department", _all(served)).set_index("body_code")
    assert d.loc["D05", ["current_run", "longest_run"]].tolist() == [4, 4]
    assert d.loc["D02", ["current_run", "longest_run", "2025Q3"]].tolist() == [0, 2, "红旗"]
    assert d.loc["D04", ["current_run", "longest_run"]].tolist() == [2, 2]
