"""Pages on the marts dbt builds (not a hand-made copy): the drill-down, the rule texts, the sample note.

The serving copy here is the session's dbt build of the small hand-made warehouse
(tests/fixtures/small_built.py). Every expected figure is worked out by hand from that dataset's
story (the scorecard table in tests/test_dbt_marts.py) and the DESIGN §5 defaults of config/rules.yaml.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from tests.fixtures.small_warehouse import XX, YX

ROOT = Path(__file__).resolve().parents[1]
APP = ROOT / "dashboards" / "app.py"


@pytest.fixture(scope="module")
def serving(small_built: tuple[Path, object], tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("served") / "warehouse.duckdb"
    shutil.copyfile(small_built[0], path)
    return path


@pytest.fixture(autouse=True)
def env(serving: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("QINGLIAN_ENV", "demo")
    monkeypatch.setenv("QINGLIAN_STATE", str(tmp_path / "state"))
    monkeypatch.setenv("QINGLIAN_SERVING", str(serving))
    monkeypatch.setenv("QINGLIAN_AUTH", "off")


def page(name: str) -> AppTest:
    at = AppTest.from_file(str(APP), default_timeout=90)
    at.run()
    at.switch_page(f"pages/{name}.py").run()
    assert not at.exception, [e.message for e in at.exception]
    return at


def table_with(at: AppTest, column: str) -> pd.DataFrame:
    for df in at.dataframe:
        if column in df.value.columns:
            return df.value
    raise AssertionError(f"no table with column {column!r}")


def captions(at: AppTest) -> str:
    return "\n".join(c.value for c in at.caption)


def test_drill_down_of_a_county_adds_up_to_its_composite() -> None:
    at = page("p2_ranking")
    at.selectbox(key="rank_quarter").set_value("2025Q4").run()
    at.selectbox(key="rank_body").set_value(YX).run()
    bd = table_with(at, "分母").set_index("指标")
    # 洋县 2025Q4: T 100, C 100, R 100, S 85 with the default weights 25 each → 96.25
    assert list(bd.index) == ["任务推进率", "清廉单元覆盖率", "整改完成率", "满意度指数"]
    assert list(bd["规则权重"]) == [25, 25, 25, 25] and list(bd["实际权重"]) == [25, 25, 25, 25]
    assert list(bd["得分"]) == [100, 100, 100, 85]
    assert bd["加权得分"].sum() == pytest.approx(96.25)
    # the index's own numerator and denominator: 85 × 80 valid answers, not the 满意率 counts (80 / 80)
    assert (bd.loc["满意度指数", "分子"], bd.loc["满意度指数", "分母"]) == (6800, 80)
    assert "有效回答得分之和 / 有效回答数" in bd.loc["满意度指数", "口径"]
    text = captions(at)
    assert "县区前2名、市直部门前3名" in text and "有逾期超过90天的问题" in text and "相差不足1分" in text


def test_missing_indicators_renormalise_in_the_drill_down() -> None:
    at = page("p2_ranking")
    at.selectbox(key="rank_quarter").set_value("2025Q4").run()
    at.selectbox(key="rank_body").set_value(XX).run()
    bd = table_with(at, "分母").set_index("指标")
    # 西乡县: 样本不足 → satisfaction left out, (50 + 75 + 100) / 3 = 75, each present weight 100/3
    assert bd.loc["满意度指数", "状态"] == "缺项（权重已重新分配）"
    assert bd.loc["满意度指数", "实际权重"] == 0
    assert list(bd["实际权重"].iloc[:3]) == [pytest.approx(33.33, abs=0.01)] * 3
    assert bd["加权得分"].sum() == pytest.approx(75, abs=1e-4)


def test_annual_page_states_the_rules_and_the_quota_from_the_warehouse() -> None:
    at = page("p3_annual")
    text = captions(at)
    assert "每面红旗1分" in text and "每只蜗牛1分" in text and "优秀须 ≥90 分" in text and "前20%" in text
    # five counties × 0.2 = 1 place
    assert "共 5 个考核对象，优秀名额 1 个" in text


def test_satisfaction_page_names_the_rules_minimum_sample() -> None:
    at = page("p7_satisfaction")
    warnings = " ".join(w.value for w in at.warning)
    assert "西乡县" in warnings and "少于30人" in warnings
