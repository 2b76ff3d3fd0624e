"""Rules are data, versioned by year: a 2026 version in the office's configuration must leave 2025 unchanged.

The small warehouse, extended with one 2026 quarter, is built twice: once with the shipped defaults,
once with an office rules file (QINGLIAN_RULES format) that starts a version in 2026 — other weights,
one red flag and one snail, a 30-day veto. No code or model is edited. The 2025 scorecards and
annual assessment must be identical to the last digit; the 2026 ones must follow the new rules.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import duckdb
import pytest

from qinglian.build import build_marts
from tests.conftest import manifest_data_tests
from tests.fixtures.small_warehouse import PROGRESS, TASKS, build_small_raw

ONLY_MODELS = "resource_type:test resource_type:unit_test"  # the data tests run in test_dbt_marts


def add_2026_quarter(warehouse: Path) -> None:
    """One more quarter of task reports (2026Q1), so that the 2026 rules are actually used."""
    con = duckdb.connect(str(warehouse))
    try:
        file_id = con.execute("select max(file_id) + 1 from raw.ingest_files").fetchone()[0]
        con.execute(
            "insert into raw.ingest_files values (?, 'task_progress/2026年第一季度重点任务推进台账（汇总）.xlsx', "
            "'2026年第一季度重点任务推进台账（汇总）.xlsx', 'sha256-2026q1', 'task_progress', 'D01', '市纪委监委', "
            "'2026Q1', 'accepted', '已接收', null, 'Sheet1', 0, 0, 0, null, timestamp '2026-04-12 09:00:00', null)",
            [file_id])
        completed = {t for q in PROGRESS.values() for t, (status, _) in q.items() if status == "已完成"}
        active = [t for t in TASKS if t not in completed]
        for i, task in enumerate(active):
            status = "按序推进" if i % 3 else "滞后"
            owner = TASKS[task][2]
            con.execute("insert into raw.task_progress values (?, 'Sheet1', ?, timestamp '2026-04-12 09:00:00', ?, ?, "
                        "null, ?, '2026Q1', ?, 50.0, null, null, null, 1, ?)",
                        [file_id, 4 + i, task, TASKS[task][0], owner, status, date(2026, 4, 5)])
        con.execute("update raw.ingest_files set rows_read = ?, rows_loaded = ? where file_id = ?",
                    [len(active), len(active), file_id])
    finally:
        con.close()


OFFICE_2026 = """\
# 办公室规则：2026 年起
years:
  2026:
    version: "2026.2"
    note: "测试：2026年起调整"
    county:
      weights: {task_on_schedule: 60, unit_coverage: 10, rectification: 10, satisfaction: 20}
      red_flags: 1
      snails: 1
    department:
      weights: {task_on_schedule: 20, rectification: 20, timeliness: 60}
      red_flags: 1
      snails: 1
    veto_days: 30
"""


def snapshot(warehouse: Path) -> dict[str, list[tuple]]:
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        return {
            "versions_2025": con.execute("select distinct rules_version from marts.scorecard_quarterly "
                                         "where year = 2025").fetchall(),
            "scorecard_2025": con.execute("select * from marts.scorecard_quarterly where year = 2025 "
                                          "order by body_group, quarter, rank").fetchall(),
            "annual_2025": con.execute("select * from marts.assessment_annual where year = 2025 "
                                       "order by body_group, rank").fetchall(),
            "scorecard_2026": con.execute("select body_group, body_code, composite_score, rank, flag, veto, "
                                          "rules_version from marts.scorecard_quarterly where year = 2026 "
                                          "order by body_group, rank").fetchall(),
            "annual_2026": con.execute("select body_group, body_code, annual_score, rules_version "
                                       "from marts.assessment_annual where year = 2026 order by 1, 2").fetchall(),
        }
    finally:
        con.close()


@pytest.fixture(scope="module")
def before_and_after(tmp_path_factory: pytest.TempPathFactory) -> tuple[dict, dict]:
    work = tmp_path_factory.mktemp("rules")
    warehouse = build_small_raw(work / "warehouse.duckdb")
    add_2026_quarter(warehouse)
    first = build_marts(warehouse, exclude=ONLY_MODELS, target_path=work / "target")
    assert first.success, str(first)
    before = snapshot(warehouse)
    office = work / "office_rules.yaml"
    office.write_text(OFFICE_2026, encoding="utf-8")
    # Only what reads the rules is rebuilt (a model not downstream of the rules tables cannot change
    # with them), with its data tests this time: dbt's own checks (flag counts follow the quota, the
    # composite is the sum of its contributions, …) must hold under the office's rules too
    second = build_marts(warehouse, select="source:rules+", exclude="resource_type:unit_test", target_path=work / "target",
                         rules=office)
    assert second.success, str(second)
    assert second.tests_failed == 0
    assert second.tests_passed + second.tests_warned == manifest_data_tests(downstream_of_source="rules") > 50
    return before, snapshot(warehouse) | {"warehouse": warehouse}


def test_2026_quarter_uses_the_2026_rules(before_and_after: tuple[dict, dict]) -> None:
    before, after = before_and_after
    assert before["scorecard_2026"] and {r[-1] for r in before["scorecard_2026"]} == {"默认"}
    assert {r[-1] for r in after["scorecard_2026"]} == {"2026.2"}
    assert {r[3] for r in before["annual_2026"]} == {"默认"}
    assert {r[3] for r in after["annual_2026"]} == {"2026.2"}


def test_changing_2026_rules_leaves_2025_unchanged(before_and_after: tuple[dict, dict]) -> None:
    before, after = before_and_after
    assert len(before["scorecard_2025"]) == 44 and len(before["annual_2025"]) == 11
    assert after["scorecard_2025"] == before["scorecard_2025"]
    assert after["annual_2025"] == before["annual_2025"]
    assert after["versions_2025"] == [("默认",)]


def test_the_edit_did_change_2026(before_and_after: tuple[dict, dict]) -> None:
    before, after = before_and_after
    assert [r[2] for r in after["scorecard_2026"]] != [r[2] for r in before["scorecard_2026"]]
    flags_after = [r[4] for r in after["scorecard_2026"] if r[4] is not None]
    # one red flag and one snail per group under 2026.2, instead of the default 2 + 2 and 3 + 3
    assert sorted(flags_after) == ["红旗", "红旗", "蜗牛", "蜗牛"]
    assert after["annual_2026"] != before["annual_2026"]


# --- Done when (issue 13): the changed configuration reaches every place it appears, no code edited ---

WEIGHTS_2026 = {"county": {"任务推进率": 60, "清廉单元覆盖率": 10, "整改完成率": 10, "满意度指数": 20},
                "department": {"任务推进率": 20, "整改完成率": 20, "按时报送率": 60}}


def test_drill_down_adds_up_to_every_published_composite(before_and_after: tuple[dict, dict]) -> None:
    from dashboards import data

    warehouse = before_and_after[1]["warehouse"]
    src = data.Source(warehouse, None, cached=False)
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        published = con.execute("select body_group, body_code, quarter, composite_score, year from "
                                "marts.scorecard_quarterly order by all").fetchall()
    finally:
        con.close()
    assert len(published) == 55  # 11 bodies × 5 quarters
    for group, body, quarter, composite, year in published:
        bd = data.breakdown(body, group, quarter, src)
        assert not bd.empty, (group, body, quarter)
        if composite is None:
            assert bd["加权得分"].isna().all()
            continue
        assert bd["加权得分"].sum() == pytest.approx(composite, abs=1e-4), (group, body, quarter)
        present = bd[bd["状态"] == ""]
        # Σ weight used × score / 100, i.e. the renormalised weighted mean of DESIGN §5
        assert (present["实际权重"] * present["得分"]).sum() / 100 == pytest.approx(composite, abs=1e-3)
        assert present["实际权重"].sum() == pytest.approx(100, abs=1e-3)
        rule_weights = dict(zip(bd["指标"], bd["规则权重"], strict=True))
        if year == 2026:
            assert rule_weights == WEIGHTS_2026[group], (group, body)
        else:  # the shipped defaults (DESIGN §5) still rank 2025
            assert sum(rule_weights.values()) == 100
            assert rule_weights["任务推进率"] == (25 if group == "county" else 45)


def test_bulletin_contributions_follow_the_changed_weights(before_and_after: tuple[dict, dict]) -> None:
    """The bulletin's indicator paragraphs read marts.scorecard_contributions: the 2026 weights are the
    office's, and each body's contributions add up to its published composite."""
    from dashboards import data, data_ranking

    warehouse = before_and_after[1]["warehouse"]
    src = data.Source(warehouse, None, cached=False)
    c = data_ranking.contributions(["2026Q1"], src)
    assert len(c) == 5 * 4 + 6 * 3  # five counties × four indicators, six departments × three
    for (group, _), part in c.groupby(["body_group", "body_code"]):
        assert dict(zip(part.label, part.weight, strict=True)) == WEIGHTS_2026[group]
    sums = c.groupby("body_code").contribution.sum(min_count=1)
    composites = {b: v for g, b, v, *_ in before_and_after[1]["scorecard_2026"]}
    for body, total in sums.items():
        if composites[body] is not None:
            assert total == pytest.approx(composites[body], abs=1e-4), body


def test_flags_and_vetoes_follow_the_changed_quota_and_threshold(before_and_after: tuple[dict, dict]) -> None:
    warehouse = before_and_after[1]["warehouse"]
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        flags = con.execute("""select body_group, quarter, count(*) filter (where flag = '红旗'),
                                      count(*) filter (where flag = '蜗牛')
                               from marts.scorecard_quarterly group by all order by all""").fetchall()
        vetoes = con.execute("""select year, count(*) filter (where veto <> (coalesce(max_days_overdue, 0) > ?)),
                                       count(*) filter (where veto)
                                from marts.scorecard_quarterly where year = 2026 group by year""", [30]).fetchall()
    finally:
        con.close()
    for group, quarter, reds, snails in flags:
        want = (1, 1) if quarter.startswith("2026") else ((2, 2) if group == "county" else (3, 3))
        assert (reds, snails) == want, (group, quarter)
    assert vetoes[0][1] == 0  # veto ⇔ an issue more than 30 days overdue, the office's 2026 threshold
    assert vetoes[0][2] >= 1  # and the 30-day threshold does veto someone in the fixture


def test_pages_state_the_changed_rules(before_and_after: tuple[dict, dict]) -> None:
    from dashboards import data

    src = data.Source(before_and_after[1]["warehouse"], None, cached=False)
    text_2026 = data.ranking_rules_text("2026Q1", src)
    assert "规则版本 2026.2" in text_2026 and "县区前1名、市直部门前1名" in text_2026
    assert "有逾期超过30天的问题" in text_2026
    text_2025 = data.ranking_rules_text("2025Q4", src)
    assert "县区前2名、市直部门前3名" in text_2025 and "有逾期超过90天的问题" in text_2025
    assert "优秀须 ≥90 分" in data.annual_rules_text(2026, "county", src)
