"""`dbt build` succeeds on multi-sheet ledgers, end to end into the marts (issue 13, done-when).

One workbook per source with one sheet per county (row numbers repeat across sheets) goes through
the real ingest and the real dbt build; every expected figure is counted by hand from the rows below.
"""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from tests import hostile
from tests.conftest import manifest_data_tests
from tests.test_ingest_loading import reference_landing

YX, HT, CITY = "610723000000", "610702000000", "610700000000"
UNITS_HEADER = ["单元编码", "单元名称", "单元类型", "所属区划", "创建阶段", "评估得分", "评估日期"]
INSP_HEADER = ["问题编号", "巡察轮次", "被巡察单位", "所属区划", "问题类别", "问题描述", "发现日期", "整改时限", "整改状态",
               "完成日期", "是否销号", "责任人"]


def _title(kind: str) -> list[list[object]]:
    return [[f"2025年第一季度{kind}"], ["填报单位：市清廉办  填报日期：2025年4月5日"]]


def write_landing(landing: Path) -> None:
    reference_landing(landing)  # 汉中市, 洋县, 汉台区, 洋州街道; D01, D07; tasks 1.1 (D01), 1.2 (D07), Y1 (洋县)
    title = _title("清廉单元创建情况台账")
    hostile.write_xlsx(landing / "units" / "分县汇总.xlsx", [
        ("洋县", [*title, UNITS_HEADER, ["Y-U1", "洋县纪委机关", "机关", "洋县", "已达标", 90, "2025-03-31"],
                 ["Y-U2", "洋州小学", "学校", "洋州街道", "创建中", 70, "2025-03-31"],
                 ["Y-U3", "洋县医院", "医院", "洋县", "示范", 95, "2025-03-31"]]),
        ("汉台区", [*title, UNITS_HEADER, ["H-U1", "汉台区纪委机关", "机关", "汉台区", "未启动", None, "2025-03-31"],
                  ["H-U2", "汉台中学", "学校", "汉台区", "已达标", 88, "2025-03-31"]]),
    ])
    title = _title("巡察发现问题整改台账")
    hostile.write_xlsx(landing / "inspections" / "分县汇总.xlsx", [
        ("洋县", [*title, INSP_HEADER,
                 ["Y-I1", "第一轮", "洋州街道党工委", "洋州街道", "作风", "问题一", "2025-01-10", "2025-03-15", "已整改",
                  "2025-03-10", "是", "赵六"],
                 ["Y-I2", "第一轮", "洋州街道党工委", "洋州街道", "作风", "问题二", "2025-01-10", "2025-02-28", "整改中",
                  None, "否", "赵六"]]),
        ("汉台区", [*title, INSP_HEADER,
                  ["H-I1", "第一轮", "汉台区住建局", "汉台区", "纪律", "问题三", "2025-01-12", "2025-03-20", "已整改",
                   "2025-03-18", "是", "钱七"]]),
    ])
    header = ["所属区划", "统计期", "统计口径", "立案", "处分"]
    hostile.write_xlsx(landing / "cases" / "分县汇总.xlsx", [
        ("洋县", [["2025年1-3月 监督执纪统计表"], ["填报单位：市纪委监委"], header, ["洋县", "2025年1-3月", "累计", 3, 2]]),
        ("汉台区", [["2025年1-3月 监督执纪统计表"], ["填报单位：市纪委监委"], header, ["汉台区", "2025年1-3月", "累计", 5, 4]]),
    ])
    header = ["任务编号", "任务名称", "牵头单位", "季度", "推进状态", "完成进度", "工作进展"]
    title = _title("清廉建设重点任务推进情况台账")
    hostile.write_xlsx(landing / "task_progress" / "分组汇总.xlsx", [
        ("市直部门", [*title, header, ["1.1", "政治生态评估", "市纪委", "2025年第一季度", "按序推进", 50, "进展"],
                   ["1.2", "清廉学校建设", "市教育局", "2025年第一季度", "已完成", 100, "完成"]]),
        ("县区", [*title, header, ["Y1", "清廉村居", "洋县", "2025年第一季度", "滞后", 20, "滞后"]]),
    ])


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, object]:
    from ingest.pipeline import ingest_landing
    from qinglian.build import build_marts

    root = tmp_path_factory.mktemp("multi_sheet")
    write_landing(root / "landing")
    warehouse = root / "warehouse.duckdb"
    ingest_landing(root / "landing", warehouse)
    # models and data tests; dbt's unit tests do not read the warehouse and run once on the small one
    return warehouse, build_marts(warehouse, exclude="resource_type:unit_test", target_path=root / "target")


def test_dbt_build_succeeds_and_every_sheet_reaches_the_marts(built: tuple[Path, object]) -> None:
    warehouse, result = built
    assert result.success, result.failures
    assert (result.models_error, result.tests_failed, result.tests_errored) == (0, 0, 0)
    assert result.models_ok >= 60 and result.tests_passed + result.tests_warned == manifest_data_tests()  # every model built, every data test ran
    with duckdb.connect(str(warehouse), read_only=True) as con:
        files = con.execute("select path, outcome from raw.ingest_files where path like '%汇总%' order by 1").fetchall()
        cov = dict(((r, (n, s, st, m)) for r, n, s, st, m in con.execute(
            "select region_code, units_registered, units_standard, units_started, units_model from marts.kpi_unit_coverage "
            "where quarter = '2025Q1' and unit_type = '全部'").fetchall()))
        rect = {b: rest for b, *rest in con.execute(
            "select body_code, issues_due, issues_rectified, overdue_open, max_days_overdue from marts.kpi_rectification "
            "where quarter = '2025Q1'").fetchall()}
        cases = dict(con.execute("select region_code, cases_filed from marts.kpi_cases where quarter = '2025Q1'").fetchall())
        tasks = {o: rest for o, *rest in con.execute(
            "select owner_code, tasks_active, tasks_on_schedule from marts.kpi_task_progress where quarter = '2025Q1'").fetchall()}
        composite = dict(con.execute("select body_code, composite_score from marts.scorecard_quarterly "
                                     "where quarter = '2025Q1' and body_group = 'county'").fetchall())
    assert [o for _, o in files] == ["accepted"] * 4
    # units: 洋县 已达标, 创建中, 示范 (3 registered, 2 standard, 3 started, 1 model); 汉台区 未启动, 已达标
    assert cov[YX] == (3, 2, 3, 1) and cov[HT] == (2, 1, 1, 0) and cov[CITY] == (5, 3, 4, 1)
    # issues: 洋县 two due by 03-31, one rectified, Y-I2 open 31 days past 02-28; 汉台区 one due, rectified
    assert rect[YX] == [2, 1, 1, 31] and rect[HT] == [1, 1, 0, None]
    assert (cases[YX], cases[HT], cases[CITY]) == (3, 5, 8)
    assert tasks[YX] == [1, 0] and tasks["D01"] == [1, 1] and tasks["D07"] == [1, 1]
    # 洋县: T 0, C 66.6667, R 50 (no survey), equal weights renormalised over three: 116.6667 / 3
    assert composite[YX] == pytest.approx(38.8889, abs=1e-4)
    # 汉台区: no task of its own, C 50, R 100 -> 75
    assert composite[HT] == pytest.approx(75.0)
