"""Dashboards against the serving copy the real pipeline publishes from the small hand-made warehouse
(tests/fixtures/small_built.py: tests/fixtures/small_warehouse.py built by dbt, checked and published).

Every expected figure below is worked out by hand from the raw rows of small_warehouse.py and the
DESIGN §4-§5 formulas with the shipped default rules (the arithmetic is in EXPECTED's comments and in
tests/test_dbt_marts.py, whose scorecard and annual tables these pages show). Every page is rendered with Streamlit's AppTest through the real entry point and navigation.
Most tests switch the login off (QINGLIAN_AUTH=off); the access tests log in through the real
form, and the county test checks every page (text, tables, chart data) for other counties' names.
"""

from __future__ import annotations

import base64
import json
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import duckdb
import numpy as np
import openpyxl
import pandas as pd
import pytest

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from streamlit.testing.v1 import AppTest  # noqa: E402

APP = ROOT / "dashboards" / "app.py"
PAGES = ["p1_overview", "p2_ranking", "p3_annual", "p4_tasks", "p5_units", "p6_rectification", "p7_satisfaction",
         "p8_cases", "p9_quality", "p10_bulletin", "p11_warnings", "p12_supervision"]
OTHER_BODIES = ["汉台区", "南郑区", "城固县", "西乡县", "市教育局", "市住建局", "市卫健委", "市纪委监委",
                "北关街道", "博望街道", "大河坎镇", "城北街道"]
PASSWORDS = {"leader": "Leader@2025", "analyst": "Analyst@2025", "yangxian": "Yangxian@2025"}

# Worked out by hand from small_warehouse.py (D = the quarter's last day; default rules: counties T C R S
# 25 each, departments T 45 R 35 P 20; 2 red / 2 snails for counties, 3 / 3 for departments).
EXPECTED: dict = {
    "latest_quarter": "2025Q4",
    # on schedule / active tasks, all 11 owners. RW01 (已完成 in Q2) is no longer active: 21 active.
    # Q4 not on schedule: RW06 RW08 RW18 RW22 滞后, RW10 未报送 → 16/21;
    # Q3: RW06 RW07 RW09 RW16 RW22 滞后, RW10 未启动 → 15/21
    "city_task_rate": {"2025Q4": 16 / 21, "2025Q3": 15 / 21},
    # units at 已达标 or 示范 of the 20 registered (南郑区 carries its Q2 ledger forward):
    # Q4 汉台区 4 + 南郑区 3 + 城固县 4 + 洋县 4 + 西乡县 3 = 18; Q3 4 + 3 + 3 + 4 + 2 = 16
    "city_coverage": {"2025Q4": 18 / 20, "2025Q3": 16 / 20},
    # all 18 issues are due by 09-30; rectified by 12-31: all but XC2025-D05-02 → 17/18; by 09-30: 12
    # (open: NZ-02, YX-01, D01-02, D04-03, D04-04, D05-02 — all past their deadline → 6 overdue)
    "city_rectification": {"2025Q4": 17 / 18, "2025Q3": 12 / 18},
    "city_overdue_open": {"2025Q4": 1, "2025Q3": 6},
    # every valid answer of the wave: 汉台区 40×(100+80) + 南郑区 20×(80+80) + 20×80 + 城固县 20×(80+60) + 20×(60+30)
    # + 洋县 20×200 + 20×(80+60) + 西乡县 12×(30+80) = 7200 + 4800 + 4600 + 6800 + 1320 = 24720 over 324 answers
    "city_satisfaction_index": 24720 / 324,
    # Q4 increments: 汉台区 10, 南郑区 6, 城固县 15 − 8 (its erroneous 1-9月 figure is the base) = 7, 洋县 5 (当季),
    # 西乡县 4 → 32; Q3 is empty because 城固县's 1-9月 立案 (8) is below its 1-6月 (9); Q2 8 + 5 + 4 + 4 + 3 = 24
    "city_cases_filed": {"2025Q4": 32, "2025Q3": None, "2025Q2": 24},
    # composites and flags: the scorecard table in tests/test_dbt_marts.py
    "county_ranking_q4": ["汉台区", "洋县", "南郑区", "城固县", "西乡县"],
    "county_ranking_q3": ["汉台区", "洋县", "城固县", "西乡县", "南郑区"],
    "red_q4": ["汉台区", "洋县"],
    "snail_q4": ["城固县", "西乡县"],
    "talk_q4": ["西乡县", "市卫健委", "市住建局"],
    "department_ranking_q4": ["市纪委监委", "市委组织部", "市教育局", "市国资委", "市卫健委", "市住建局"],
    # Q4 not on schedule, by owner: 城固县 RW18, 西乡县 RW22, 市教育局 RW06, 市卫健委 RW08 (滞后), 市住建局 RW10 (未报送)
    "lagging_q4": 5,
    # the one open issue at 12-31: XC2025-D05-02, deadline 03-31 → 275 days overdue (> 90: veto)
    "overdue_q4_top": ("XC2025-D05-02", 275),
    "yangxian": {
        "task_rate_q4": 2 / 2,            # RW19 RW20 按序推进
        "coverage_q4": 4 / 4,             # levels 3 2 2 3 in Q4
        "rectification_q4": 2 / 2,        # YX-01 rectified 10-20, YX-02 03-10
        "overdue_q4": 0,
        "satisfaction_index": 85.0,       # (20×200 + 20×140) / 80
        "cases_q4": 5,                    # 当季 figures as reported
        "form1_share_q4": 18 / (18 + 5 + 1 + 0),
        "rank_q4": 2,
    },
    "insufficient_sample": "西乡县",     # 12 valid respondents < 30
    "annual_excellent": {"county": ["汉台区"], "department": ["市纪委监委"]},
    # 洋县: (96.25 + 83.75 + 83.75 + 96.25) / 4 + 2 red = 92 ≥ 90, but vetoed in Q3 (and outside the 1 place): 良好
    "annual_blocked": "洋县",
}



@pytest.fixture(scope="module")
def serving(small_served: Path) -> tuple[Path, dict]:
    return small_served, EXPECTED


@pytest.fixture(scope="module")
def state_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("state")


@pytest.fixture(autouse=True)
def demo_mode(state_dir: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Demo mode (demo accounts, generated secret) with this module's own state directory."""
    monkeypatch.setenv("QINGLIAN_ENV", "demo")
    monkeypatch.setenv("QINGLIAN_STATE", str(state_dir))
    for name in ("QINGLIAN_SECRET", "QINGLIAN_SECRET_FILE", "QINGLIAN_LOCKOUT_ATTEMPTS"):
        monkeypatch.delenv(name, raising=False)
    return state_dir


@pytest.fixture
def env(serving: tuple[Path, dict], monkeypatch: pytest.MonkeyPatch) -> dict:
    path, expected = serving
    monkeypatch.setenv("QINGLIAN_SERVING", str(path))
    monkeypatch.setenv("QINGLIAN_AUTH", "off")
    return expected


def open_app() -> AppTest:
    at = AppTest.from_file(str(APP), default_timeout=60)
    at.run()
    assert not at.exception, [e.message for e in at.exception]
    return at


def goto(at: AppTest, page: str) -> AppTest:
    at.switch_page(f"pages/{page}.py").run()
    assert not at.exception, [e.message for e in at.exception]
    return at


def login(at: AppTest, user: str, password: str) -> AppTest:
    by_label = {t.label: t for t in at.text_input}
    by_label["用户名"].input(user)
    by_label["密码"].input(password)
    next(b for b in at.button if b.label == "登录").click()
    at.run()
    assert not at.exception, [e.message for e in at.exception]
    return at


def metrics(at: AppTest) -> dict[str, tuple[str, str | None]]:
    return {m.label: (m.value, m.delta) for m in at.metric}


def frame_with(at: AppTest, column: str) -> pd.DataFrame:
    """The first table on the page that has this column."""
    for df in at.dataframe:
        if column in df.value.columns:
            return df.value
    raise AssertionError(f"no table with column {column!r}: {[list(d.value.columns) for d in at.dataframe]}")


def _walk(node: object) -> Iterator[object]:
    yield node
    for child in (getattr(node, "children", None) or {}).values():
        yield from _walk(child)


def page_text(at: AppTest) -> str:
    """Everything a viewer could read: element protos as text, table cells, chart data and labels."""
    from google.protobuf.json_format import MessageToDict

    parts = []
    for node in _walk(at._tree):
        kind = type(node).__name__
        if kind == "Dataframe":
            parts.append(node.value.to_csv())
            continue
        proto = getattr(node, "proto", None)
        if proto is None or kind in ("ElementTree",):
            continue
        try:
            d = MessageToDict(proto)
        except Exception:
            continue
        if "spec" in d:  # plotly figure JSON, with \\u escapes undone
            d["spec"] = json.loads(d["spec"])
        parts.append(json.dumps(d, ensure_ascii=False))
    return "\n".join(parts)


def pct_text(x: float) -> str:
    """Half up (四舍五入) on the decimal value, as every page rounds: 0.8125 -> 81.3%."""
    from decimal import ROUND_HALF_UP, Decimal

    return f"{(Decimal(repr(x)) * 100).quantize(Decimal('0.1'), rounding=ROUND_HALF_UP)}%"


# --- every page ---------------------------------------------------------------------------------


def test_every_page_renders(env: dict) -> None:
    at = open_app()
    for page in PAGES:
        goto(at, page)
        assert at.title[0].value, page  # every page has its Chinese title
        assert not at.error, (page, [e.value for e in at.error])


@pytest.mark.parametrize("page", PAGES)
def test_every_page_runs_standalone(env: dict, page: str) -> None:
    """The benchmark (qinglian bench) runs each page file on its own."""
    at = AppTest.from_file(str(ROOT / "dashboards" / "pages" / f"{page}.py"), default_timeout=60)
    at.run()
    assert not at.exception, [e.message for e in at.exception]


def test_overview_headline_figures(env: dict) -> None:
    e = env
    at = open_app()  # the default page
    m = metrics(at)
    # 16/21 against 15/21: +1/21 = +4.76 points
    assert m["任务推进率"] == (pct_text(e["city_task_rate"]["2025Q4"]), "+4.8 个百分点")
    assert m["任务推进率"][0] == "76.2%"
    assert m["清廉单元达标率"] == (pct_text(e["city_coverage"]["2025Q4"]), "+10.0 个百分点") == ("90.0%", "+10.0 个百分点")
    assert m["整改完成率"] == ("94.4%", "+27.7 个百分点")  # 17/18 − 12/18 = 5/18 = 27.78 points
    assert m["逾期未整改（个）"] == (str(e["city_overdue_open"]["2025Q4"]), "-5")
    assert m["满意度指数"][0] == f"{e['city_satisfaction_index']:.2f}" == "76.30"  # scores with 2 decimals
    # Q3 was not rolled up (城固县's year-to-date decrease): no change shown against an unknown
    assert m["本季度立案（件）"] == (str(e["city_cases_filed"]["2025Q4"]), "")
    assert any(c.value.startswith("汉中市 · 2025年第四季度") for c in at.caption)
    # 要点: this quarter's flags of both groups first, each line a link into the ranking
    points = [p.proto.label for p in at.get("page_link") if "红旗" in p.proto.label and "蜗牛" in p.proto.label]
    assert points[0].startswith("县区") and "汉台区、洋县" in points[0] and "城固县" in points[0]
    assert points[1].startswith("市直部门")
    counties = frame_with(at, "县区")
    assert list(counties["县区"]) == e["county_ranking_q4"]
    assert counties.set_index("县区").loc["城固县", "旗帜"] == "蜗牛"
    assert len(at.get("plotly_chart")) == 3


def test_ranking_table_markers_and_movement(env: dict) -> None:
    e = env
    at = goto(open_app(), "p2_ranking")
    rk = frame_with(at, "标记").set_index("名称")
    assert list(rk.index) == e["county_ranking_q4"]
    assert rk.loc["城固县", "综合得分"] == pytest.approx(76.88)  # 76.875 rounded half up (四舍五入), as the bar label shows it
    assert [n for n in rk.index if rk.loc[n, "旗帜"] == "红旗"] == e["red_q4"]
    assert [n for n in rk.index if rk.loc[n, "旗帜"] == "蜗牛"] == e["snail_q4"]
    # margins: 汉台区 97.5 − 88.75 (南郑区, the best unflagged) = 8.75; 城固县 88.75 − 76.875 = 11.875
    assert rk.loc["汉台区", "距分界线(分)"] == pytest.approx(8.75)
    assert rk.loc["城固县", "距分界线(分)"] == pytest.approx(11.88)
    assert rk.loc["西乡县", "标记"] == "约谈"  # a snail in Q3 and Q4
    assert rk.loc["汉台区", "标记"] == "" and rk.loc["洋县", "标记"] == ""  # 洋县's veto was Q3's
    # Q3 order 汉台区 洋县 城固县 西乡县 南郑区 → Q4: 南郑区 5 → 3, 城固县 3 → 4, 西乡县 4 → 5
    assert (rk.loc["南郑区", "变化"], rk.loc["城固县", "变化"], rk.loc["西乡县", "变化"]) == ("↑2", "↓1", "↓1")
    assert rk.loc["西乡县", "缺项指标"] == "满意度指数"
    hist = frame_with(at, "约谈季度").set_index("名称")
    assert hist.loc["西乡县", "当前连续蜗牛(季)"] == 4
    assert hist.loc["西乡县", "约谈季度"] == "2025Q2、2025Q3、2025Q4"
    assert hist.loc["城固县", "约谈季度"] == "2025Q2"  # snails Q1, Q2; a red flag in Q3

    at.radio(key="rank_group").set_value("department").run()
    depts = frame_with(at, "标记")
    assert depts.set_index("名称").loc["市住建局", "标记"] == "否决、约谈"  # XC2025-D05-02 275 days; snails Q3, Q4
    assert list(depts["名称"]) == e["department_ranking_q4"]
    assert "单元达标" not in depts.columns and "按时报送" in depts.columns
    # 2025Q1: 市卫健委 and 市住建局 both 60 (T 50, R 50, P 100) on the red-flag line: 0 points apart
    at.selectbox(key="rank_quarter").set_value("2025Q1").run()
    q1 = frame_with(at, "标记").set_index("名称")
    assert q1.loc["市卫健委", "旗帜"] == "红旗" and q1.loc["市住建局", "旗帜"] == "蜗牛"
    assert "边界接近" in q1.loc["市卫健委", "标记"] and "边界接近" in q1.loc["市住建局", "标记"]


def test_ranking_drill_down_to_submitted_rows(env: dict) -> None:
    at = goto(open_app(), "p2_ranking")
    at.selectbox(key="rank_body").set_value("610723000000").run()
    bd = frame_with(at, "分母").set_index("指标")
    # 洋县 2025Q4: RW19 RW20 按序推进 2/2; units at 已达标+ 4/4; issues rectified 2/2; index 85
    assert (bd.loc["任务推进率", "分子"], bd.loc["任务推进率", "分母"]) == (2, 2)
    assert (bd.loc["清廉单元覆盖率", "分子"], bd.loc["清廉单元覆盖率", "分母"]) == (4, 4)
    assert (bd.loc["整改完成率", "分子"], bd.loc["整改完成率", "分母"]) == (2, 2)
    assert bd.loc["满意度指数", "得分"] == pytest.approx(85.0)
    assert bd["加权得分"].sum() == pytest.approx(96.25)  # (100 + 100 + 100 + 85) / 4
    tasks = frame_with(at, "任务编号").set_index("任务编号")
    assert set(tasks.index) == {"RW19", "RW20"} and set(tasks["推进状态"]) == {"按序推进"}
    assert tasks.loc["RW19", "报送文件"] == "task_progress/洋县_2025Q4_重点任务推进台账.xlsx"
    assert tasks.loc["RW19", "工作表"] == "Sheet1" and tasks.loc["RW20", "行号"] == 5  # data from row 4
    issues = frame_with(at, "问题编号").set_index("问题编号")
    assert set(issues.index) == {"XC2025-YX-01", "XC2025-YX-02"}
    assert issues.loc["XC2025-YX-01", "报送文件"] == "inspections/洋县2025年第四季度巡察整改台账.xlsx"
    units = frame_with(at, "单元编码").set_index("单元编码")
    # 东关社区 is the fourth 洋县 unit on its ledger: row 7
    assert units.loc["QL610723004", "所属区划"] == "东关社区" and units.loc["QL610723004", "行号"] == 7
    # 西乡县 2025Q1: RW21 滞后, RW22 never reported (no submitted row); no issue on its ledger yet
    at.selectbox(key="rank_quarter").set_value("2025Q1").run()
    at.selectbox(key="rank_body").set_value("610724000000").run()
    bd = frame_with(at, "分母").set_index("指标")
    assert (bd.loc["任务推进率", "分子"], bd.loc["任务推进率", "分母"]) == (0, 2)
    assert (bd.loc["清廉单元覆盖率", "分子"], bd.loc["清廉单元覆盖率", "分母"]) == (1, 4)
    assert bd["加权得分"].sum() == pytest.approx(12.5)  # (0 + 25) / 2: R and S missing
    tasks = frame_with(at, "任务编号").set_index("任务编号")
    assert tasks.loc["RW21", "推进状态"] == "滞后" and tasks.loc["RW22", "推进状态"] == "未报送"
    assert pd.isna(tasks.loc["RW22", "报送文件"])


def test_annual_grades_and_quota(env: dict) -> None:
    e = env
    at = goto(open_app(), "p3_annual")
    a = frame_with(at, "等次").set_index("名称")
    assert list(a[a["等次"] == "优秀"].index) == e["annual_excellent"]["county"]
    blocked = e["annual_blocked"]
    assert a.loc[blocked, "一票否决"] == "否决" and a.loc[blocked, "等次"] == "良好"
    assert a.loc[blocked, "年度得分"] == pytest.approx(92.0)
    assert a.loc["城固县", "一票否决"] == "否决"  # Q2: 91 days
    assert {"Q1得分", "Q4得分", "任务推进率(年均)"} <= set(a.columns)
    assert any("优秀名额 1 个" in c.value for c in at.caption)  # floor(5 × 20%) = 1
    assert any(f"未评优秀：{blocked}" in c.value for c in at.caption)
    at.radio(key="annual_group").set_value("department").run()
    d = frame_with(at, "等次").set_index("名称")
    assert list(d[d["等次"] == "优秀"].index) == e["annual_excellent"]["department"]
    assert d.loc["市住建局", "等次"] == "不合格"  # (60 + 50 + 37.5 + 50) / 4 − 4 snails = 45.375


def test_tasks_supervision_list(env: dict) -> None:
    e = env
    at = goto(open_app(), "p4_tasks")
    lag = frame_with(at, "滞后天数")
    assert len(lag) == e["lagging_q4"]
    assert set(zip(lag["牵头单位"], lag["任务编号"], lag["推进状态"], strict=True)) == {
        ("城固县", "RW18", "滞后"), ("西乡县", "RW22", "滞后"), ("市教育局", "RW06", "滞后"),
        ("市卫健委", "RW08", "滞后"), ("市住建局", "RW10", "未报送")}
    assert pd.isna(lag.set_index("任务编号").loc["RW10", "报送文件"])  # no report, no submitted row
    assert metrics(at)["督办任务（项）"][0] == str(e["lagging_q4"])
    assert metrics(at)["任务推进率"][0] == "76.2%"


def test_units_coverage_and_drill_down(env: dict) -> None:
    at = goto(open_app(), "p5_units")
    counties = frame_with(at, "达标率(%)").set_index("区划")
    # 南郑区: its Q2 ledger carried forward, 3 of 4 at 已达标; its village 大河坎镇新村 at 创建中
    assert counties.loc["南郑区", "达标率(%)"] == pytest.approx(75.0)
    assert counties.loc["南郑区", "登记单元"] == 4 and counties.loc["南郑区", "村居达标率(%)"] == 0
    assert counties.loc["洋县", "达标率(%)"] == 100 and counties.loc["洋县", "示范"] == 2
    at.selectbox(key="units_county").set_value("610723000000").run()
    towns = at.dataframe[1].value.set_index("区划")
    assert set(towns.index) == {"洋州街道", "谢村镇"}
    at.selectbox(key="units_town").set_value("610723001000").run()
    villages = at.dataframe[2].value.set_index("区划")
    assert set(villages.index) == {"东关社区"} and villages.loc["东关社区", "达标率(%)"] == 100
    units = frame_with(at, "单元编码")
    assert set(units["单元编码"]) == {"QL610723002", "QL610723004"}  # 洋州第一小学 and 东关社区
    assert units["报送文件"].str.startswith("units/").all()


def test_rectification_overdue_ledger(env: dict) -> None:
    e = env
    at = goto(open_app(), "p6_rectification")
    od = frame_with(at, "逾期天数")
    assert list(od["问题编号"]) == [e["overdue_q4_top"][0]]
    assert (od.iloc[0]["问题编号"], od.iloc[0]["逾期天数"]) == e["overdue_q4_top"]
    assert od.iloc[0]["一票否决"].startswith("否决")
    assert (od.iloc[0]["工作表"], od.iloc[0]["行号"]) == ("市直部门（二）", 9)  # D04's four issues, D05-01, then this
    m = metrics(at)
    # rectified by their own deadline: HT-01 NZ-01 CG-01 YX-02 XX-01 D01-01 D03-01 D04-01 D05-01 → 9 of 18
    assert m["整改完成率"][0] == "94.4%" and m["逾期未整改（个）"][0] == "1" and m["逾期超90天（个）"][0] == "1"
    assert m["按期整改率"][0] == "50.0%"


def test_satisfaction_intervals_and_small_samples(env: dict) -> None:
    e = env
    at = goto(open_app(), "p7_satisfaction")
    t = frame_with(at, "样本").set_index("区划")
    assert t.loc[e["insufficient_sample"], "样本"] == "样本不足"
    assert t.loc["洋县", "满意度指数"] == pytest.approx(85.0)
    assert t.loc["洋县", "指数下限"] < 85 < t.loc["洋县", "指数上限"]  # respondents differ: a real interval
    assert t.loc["汉台区", "指数下限"] == t.loc["汉台区", "指数上限"] == 90  # 40 alike respondents
    assert any(e["insufficient_sample"] in w.value for w in at.warning)
    charts = at.get("plotly_chart")
    spec = json.loads(charts[0].proto.spec)
    assert any("error_x" in tr for tr in spec["data"])  # error bars drawn
    heat = json.loads(charts[-1].proto.spec)["data"][0]
    # plotly ships the matrix as base64 float64 ("bdata") with its shape
    z = np.frombuffer(base64.b64decode(heat["z"]["bdata"]), dtype=heat["z"]["dtype"]).reshape(len(heat["y"]), -1)
    cells = {(y, x): (float(z[i, j]), heat["text"][i][j]) for i, y in enumerate(heat["y"])
             for j, x in enumerate(heat["x"])}
    assert heat["x"][0] == "陕西省" and {"洋县", "西乡县"} <= set(heat["x"]) and len(heat["y"]) == 2  # the roll-up first
    q1, q2 = heat["y"]
    assert q1.startswith("Q1") and q2.startswith("Q2")
    # 洋县 Q2: 20 × 很满意 (100) + 20 × 基本满意 (60) → 80; an index is a score: 2 decimals
    assert cells[(q2, "洋县")] == (80.0, "80.00")
    # 西乡县 Q1: 12 × 不满意 (30), one 不了解 not counted → 30, starred (12 answers < 30)
    assert cells[(q1, "西乡县")] == (30.0, "30.00*")


def test_cases_increments_and_forms(env: dict) -> None:
    e = env
    at = goto(open_app(), "p8_cases")
    m = metrics(at)
    assert m["立案（件）"][0] == str(e["city_cases_filed"]["2025Q4"])
    t = frame_with(at, "第一种形态").set_index("区划")
    assert t.loc["洋县", "立案"] == e["yangxian"]["cases_q4"]
    assert t.loc["洋县", "第一种形态占比(%)"] == pytest.approx(round(e["yangxian"]["form1_share_q4"] * 100, 1))
    # 汉台区 Q4 from 1-12月 minus 1-9月: 信访 190 − 135 = 55, 立案 30 − 20 = 10
    assert (t.loc["汉台区", "信访举报"], t.loc["汉台区", "立案"]) == (55, 10)
    totals = frame_with(at, "季度").set_index("季度")
    assert totals.loc["2025Q2", "立案"] == e["city_cases_filed"]["2025Q2"]
    assert pd.isna(totals.loc["2025Q3", "立案"])


def test_quality_page(env: dict) -> None:
    at = goto(open_app(), "p9_quality")
    log = frame_with(at, "发布编号")
    # one publish of 2025Q4, which froze the first version of every quarter's ranking
    assert len(log) == 1 and log.iloc[0]["季度"] == "2025Q4"
    assert log.iloc[0]["说明"] == "冻结排名新版本：2025Q1 第1版、2025Q2 第1版、2025Q3 第1版、2025Q4 第1版"
    rej = frame_with(at, "问题")
    assert list(rej["文件"]) == ["task_progress/新建 Microsoft Excel 工作表.xlsx"]  # the one rejected file
    assert rej["问题"].str.contains("不是已知的填报模板").all()
    # the publish's gate passed; the submission checks found one problem: 城固县's 1-9月 立案 8 below its
    # 1-6月 9 (a warning). No unit has a blocking finding (the small data's one duplicate report is gone).
    assert any("通过 90 项，未通过 0 项" in c.value for c in at.caption)
    per_unit = frame_with(at, "问题行数").set_index("填报单位")
    assert list(per_unit.index) == ["城固县纪委监委"]
    assert (per_unit.loc["城固县纪委监委", "问题行数"], per_unit.loc["城固县纪委监委", "警告"]) == (1, 1)
    rows = frame_with(at, "如何修改")
    assert list(rows["填报单位"]) == ["城固县纪委监委"]
    assert metrics(at)["已拒收"][0] == "1"


def test_quality_page_for_leaders_in_chinese_terms(env: dict, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("QINGLIAN_AUTH", "on")
    at = goto(login(open_app(), "leader", PASSWORDS["leader"]), "p9_quality")
    text = page_text(at)
    tables = " ".join(" ".join(map(str, df.columns)) + " " + df.astype(str).to_string() for df in
                      (d.value for d in at.dataframe if hasattr(d.value, "columns")))
    # no warehouse table names, run ids or expectation names for a leader; the checks in words
    assert "raw." not in text + tables and "marts." not in text + tables
    assert "发布编号" not in tables and "检查规则" not in tables
    # a summary per data set (the publish's gate: all passed), then the problem rows in plain words:
    # 城固县's 1-9月 立案 below its 1-6月 (1 row)
    summary = frame_with(at, "检查项")
    assert summary["未通过"].sum() == 0 and summary["数据"].notna().all()
    assert list(frame_with(at, "如何修改")["填报单位"]) == ["城固县纪委监委"]


def test_bulletin_page(env: dict) -> None:
    at = goto(open_app(), "p10_bulletin")
    labels = [b.label for b in at.get("download_button")]
    assert {"下载通报 Word", "下载通报 PDF", "下载通报 Excel"} <= set(labels)
    # the drafted text (st.html paragraphs with the coloured markers)
    text = "".join(h.proto.body for h in at.get("html"))
    assert re.sub(r"<[^>]+>", "", text).count("县区组：红旗 汉台区、洋县；") == 1


# --- access -------------------------------------------------------------------------------------


def test_login_is_required(env: dict, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("QINGLIAN_AUTH", "on")
    at = open_app()
    assert {t.label for t in at.text_input} == {"用户名", "密码"}
    assert not at.metric and not at.dataframe
    login(at, "leader", "wrong-password")
    assert any("用户名或密码错误" in x.value for x in at.error)
    assert not at.metric
    # A data page run on its own without a login shows nothing either (data.py refuses).
    page = AppTest.from_file(str(ROOT / "dashboards" / "pages" / "p2_ranking.py"), default_timeout=60).run()
    assert not page.dataframe and any("请先登录" in w.value for w in page.warning)


def test_leader_logs_in_and_sees_everything(env: dict, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("QINGLIAN_AUTH", "on")
    at = login(open_app(), "leader", PASSWORDS["leader"])
    assert metrics(at)["任务推进率"][0] == pct_text(env["city_task_rate"]["2025Q4"])
    assert any("市清廉办领导" in m.value for m in at.sidebar.markdown)
    assert all(name in page_text(at) for name in ("汉台区", "西乡县"))  # the leak detector below does see names
    goto(at, "p2_ranking")
    assert len(frame_with(at, "标记")) == 5


def test_county_user_sees_only_their_county_on_every_page(env: dict, monkeypatch: pytest.MonkeyPatch) -> None:
    e = env
    monkeypatch.setenv("QINGLIAN_AUTH", "on")
    at = login(open_app(), "yangxian", PASSWORDS["yangxian"])
    m = metrics(at)
    assert m["任务推进率"][0] == pct_text(e["yangxian"]["task_rate_q4"])
    assert m["清廉单元达标率"][0] == pct_text(e["yangxian"]["coverage_q4"])
    assert m["整改完成率"][0] == pct_text(e["yangxian"]["rectification_q4"])
    assert m["逾期未整改（个）"][0] == str(e["yangxian"]["overdue_q4"])
    assert m["满意度指数"][0] == f"{e['yangxian']['satisfaction_index']:.2f}"
    assert m["本季度立案（件）"][0] == str(e["yangxian"]["cases_q4"])
    for page in PAGES:
        goto(at, page)
        text = page_text(at)
        assert "洋县" in text, page
        leaked = [name for name in OTHER_BODIES if name in text]
        assert not leaked, f"{page} shows {leaked}"
    goto(at, "p4_tasks")
    owners = frame_with(at, "在办任务")
    assert owners["牵头单位"].tolist() == ["洋县"] and owners["推进率(%)"].tolist() == [100.0]
    goto(at, "p2_ranking")
    assert frame_with(at, "标记")["排名"].tolist() == [e["yangxian"]["rank_q4"]]  # their real rank among all counties


def test_scope_comes_only_from_the_account_store(env: dict, monkeypatch: pytest.MonkeyPatch) -> None:
    """The data scope is the account's role and unit; roles that do not read data get none (fail closed)."""
    from dashboards import auth
    from qinglian.security.accounts import AccountStore

    monkeypatch.setenv("QINGLIAN_AUTH", "on")
    at = login(open_app(), "tianbao", "Tianbao@2025")  # a submitter: the upload portal, no data pages, no data scope
    assert not at.metric and not at.dataframe
    assert [t.value for t in at.title] == ["数据报送"]
    assert any("报送单位：洋县" in m.value for m in at.caption)
    goto(at, "my_account")
    assert [list(d.value.columns)[:2] for d in at.dataframe] == [["序号", "时间"]]  # own logins
    assert "登录成功" in set(at.dataframe[0].value["事件"])
    assert any("报送单位：洋县" in m.value for m in at.markdown)
    at = login(open_app(), "admin", "Admin@2025")
    assert [t.value for t in at.title] == ["账号管理"] and not at.metric
    # what data.py is given for each demo account
    scopes = {a.username: a.scope() for a in AccountStore().list()}
    assert scopes["yangxian"].county_code == "610723000000" and scopes["yangxian"].reads_data
    assert scopes["leader"].county_code is None and scopes["leader"].reads_data
    assert not scopes["tianbao"].reads_data and not scopes["admin"].reads_data
    assert auth.current_scope() is None  # no Streamlit session here: nobody


def test_data_layer_scopes_every_table(serving: tuple[Path, dict]) -> None:
    from dashboards import data

    path, _ = serving
    src = data.Source(path, "610723000000", cached=False)
    names = set(data.name_map(src).values())
    assert "洋县" in names and not names & {"汉台区", "市教育局", "汉中市", "陕西省"}
    for name in data.SOURCES:
        if not src.has(name):
            continue
        df = src.query(f"SELECT * FROM {{{name}}}")
        text = df.to_csv()
        for code in ("610702000000", "610703", "D02", "D05"):
            assert code not in text, (name, code)
    with pytest.raises(ValueError):
        src.expand("SELECT * FROM marts.scorecard_quarterly")
    everything = data.Source(path, None, cached=False)
    assert len(data.scorecard(everything)) == (5 + 6) * 4  # counties and assessed departments, four quarters


# --- robustness ---------------------------------------------------------------------------------


def test_pages_degrade_without_optional_tables(serving: tuple[Path, dict], tmp_path: Path,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    path, _ = serving
    thin = tmp_path / "thin.duckdb"
    shutil.copyfile(path, thin)
    con = duckdb.connect(str(thin))
    for table in ("marts.fct_task_status", "marts.fct_inspection_issues", "marts.fct_unit_status", "marts.kpi_cases",
                  "marts.dim_bodies", "raw.ingest_rejects", "ops.dq_results", "ops.dq_failures", "ops.publish_log"):
        con.execute(f"DROP TABLE {table}")
    con.execute("DELETE FROM marts.kpi_satisfaction")
    con.close()
    monkeypatch.setenv("QINGLIAN_SERVING", str(thin))
    monkeypatch.setenv("QINGLIAN_AUTH", "off")
    at = open_app()
    for page in PAGES:
        goto(at, page)
    goto(at, "p7_satisfaction")
    assert any("暂无" in i.value for i in at.info)
    goto(at, "p8_cases")
    assert any("暂无" in i.value for i in at.info)


def test_missing_serving_copy(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("QINGLIAN_SERVING", str(tmp_path / "nope.duckdb"))
    monkeypatch.setenv("QINGLIAN_AUTH", "off")
    at = open_app()
    assert any("尚未发布" in i.value for i in at.info)


def test_new_publish_invalidates_the_cache(serving: tuple[Path, dict], tmp_path: Path,
                                           monkeypatch: pytest.MonkeyPatch) -> None:
    path, _ = serving
    live = tmp_path / "serving" / "warehouse.duckdb"
    live.parent.mkdir()
    shutil.copyfile(path, live)
    monkeypatch.setenv("QINGLIAN_SERVING", str(live))
    monkeypatch.setenv("QINGLIAN_AUTH", "off")
    at = open_app()
    assert metrics(at)["本季度立案（件）"][0] == "32"
    new = tmp_path / "new.duckdb"
    shutil.copyfile(path, new)
    con = duckdb.connect(str(new))
    con.execute("UPDATE marts.kpi_cases SET cases_filed = cases_filed + 1 WHERE quarter = '2025Q4'")
    # the new publish's headline roll-up: one more case in each of the five counties
    con.execute("UPDATE marts.kpi_headline_quarterly SET cases_filed = cases_filed + 5 WHERE quarter = '2025Q4' AND is_root")
    con.close()
    os.replace(new, live)  # how the pipeline publishes
    at.run()
    assert metrics(at)["本季度立案（件）"][0] == "37"


# --- exports and the bulletin -------------------------------------------------------------------


def test_xlsx_export_escapes_formula_cells(tmp_path: Path) -> None:
    """Formula-like text stays text: stored as a string with Excel's quote prefix, no apostrophe shown."""
    from dashboards.exports import escape_cell, to_xlsx

    texts = ["=HYPERLINK(\"http://x\",\"点\")", "+1", "-集体资产台账缺失", "@SUM(A1)", "正常文本 a-b", None]
    df = pd.DataFrame({"问题描述": texts, "得分": [-5.0, 1.5, 0.0, 2.0, 3.0, None], "=表头": list("abcdef")})
    out = tmp_path / "t.xlsx"
    out.write_bytes(to_xlsx({"明细": df}))
    ws = openpyxl.load_workbook(out).active
    assert [ws.cell(1, c).value for c in (1, 2, 3)] == ["问题描述", "得分", "=表头"]
    assert ws.cell(1, 3).data_type == "s" and ws.cell(1, 3).quotePrefix
    col = [ws.cell(r, 1) for r in range(2, 8)]
    assert [c.value for c in col] == texts
    assert all(c.data_type == "s" for c in col[:5])  # strings, never formulas
    assert [bool(c.quotePrefix) for c in col[:5]] == [True, True, True, True, False]
    assert ws.cell(2, 2).value == -5  # numbers stay numbers, even negative ones
    # the raw sheet XML: no <f> (formula) element anywhere
    import zipfile

    with zipfile.ZipFile(out) as z:
        assert b"<f>" not in z.read("xl/worksheets/sheet1.xml")
    # the apostrophe escape remains for formats without cell types (CSV)
    assert escape_cell("=1") == "'=1" and escape_cell(-1) == -1 and escape_cell("a=1") == "a=1"


def _pdf_text(pdf: Path) -> str:
    # `make test` installs poppler-utils (see Makefile system-deps); without it this test must fail, not pass silently
    assert shutil.which("pdftotext"), "需要 pdftotext（Debian poppler-utils）"
    return subprocess.run(["pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True, check=True).stdout


def test_bulletin_pdf_and_xlsx(serving: tuple[Path, dict], tmp_path: Path) -> None:
    from dashboards.bulletin import write_bulletin

    path, e = serving
    # a description a spreadsheet would read as a formula must stay text (a copy: the session's copy is shared)
    copy = tmp_path / "warehouse.duckdb"
    shutil.copyfile(path, copy)
    with duckdb.connect(str(copy)) as con:  # every published table that carries the submitted description
        for table in ("fct_inspection_issues", "fct_issue_quarters", "fct_overdue_escalation"):
            con.execute(f"UPDATE marts.{table} SET description = '=SUM(A1)' || description "
                        "WHERE issue_code = 'XC2025-D05-02'")
    docx_, pdf, xlsx = write_bulletin(copy, "2025Q4", tmp_path / "out")
    assert docx_.suffix == ".docx" and pdf.suffix == ".pdf" and xlsx.suffix == ".xlsx"
    raw = pdf.read_bytes()
    # the Chinese font is embedded (a Noto Sans CJK subset), not referenced like STSong-Light
    assert raw.startswith(b"%PDF") and len(raw) > 5000 and b"STSong-Light" not in raw and b"NotoSansCJK" in raw
    text = _pdf_text(pdf)
    for needle in ("汉中市清廉建设季度通报", "2025年第四季度", "县区红旗/蜗牛榜", "年度考核", "督办清单", "红旗和蜗牛",
                   "逾期未整改", "XC2025-D05-02", "汉台区"):
        assert needle in text, needle
    wb = openpyxl.load_workbook(xlsx)
    assert {"县区红旗蜗牛榜", "市直部门红旗蜗牛榜", "县区年度考核", "市直部门年度考核", "滞后未报送任务",
            "逾期未整改问题"} <= set(wb.sheetnames)
    ws = wb["县区红旗蜗牛榜"]
    header = [c.value for c in ws[3]]  # row 1 title, row 3 header
    rows = [dict(zip(header, (c.value for c in r), strict=True)) for r in ws.iter_rows(min_row=4)]
    assert [r["名称"] for r in rows] == e["county_ranking_q4"]
    assert [r["名称"] for r in rows if r["旗帜"] == "红旗"] == e["red_q4"]
    od = wb["逾期未整改问题"]
    header = [c.value for c in od[3]]
    desc, days = header.index("问题描述"), header.index("逾期天数")
    cell = next(r[desc] for r in od.iter_rows(min_row=4) if r[desc].value == "=SUM(A1)XC2025-D05-02 市住建局存在的问题")
    assert cell.data_type == "s" and cell.quotePrefix  # text in the bulletin too
    assert od.cell(row=4, column=days + 1).value == e["overdue_q4_top"][1]


def test_bulletin_for_a_county_and_a_non_q4_quarter(serving: tuple[Path, dict], tmp_path: Path) -> None:
    from dashboards.bulletin import write_bulletin

    path, _ = serving
    _, pdf, xlsx = write_bulletin(path, "2025Q3", tmp_path, county_code="610723000000")
    assert "洋县" in pdf.name
    wb = openpyxl.load_workbook(xlsx)
    assert not any("年度考核" in s for s in wb.sheetnames)  # annual grades only in a Q4 bulletin
    cells = " ".join(str(c.value) for ws in wb.worksheets for row in ws.iter_rows() for c in row if c.value)
    assert "洋县" in cells and "汉台区" not in cells and "市住建局" not in cells
    assert "XC2025-YX-01" in cells  # 洋县's open issue at 09-30, 153 days overdue
    text = _pdf_text(pdf)
    assert "洋县清廉建设季度通报" in text and "汉台区" not in text
    with pytest.raises(ValueError):
        write_bulletin(path, "2030Q1", tmp_path)


# --- wiring -------------------------------------------------------------------------------------


def test_serving_path_and_serve_command(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    from dashboards import data, serve

    monkeypatch.delenv("QINGLIAN_SERVING", raising=False)
    monkeypatch.setenv("QINGLIAN_WAREHOUSE", str(tmp_path / "wh" / "warehouse.duckdb"))
    assert data.serving_path() == tmp_path / "wh" / "serving" / "warehouse.duckdb"
    assert serve.environment()["QINGLIAN_SERVING"] == str(tmp_path / "wh" / "serving" / "warehouse.duckdb")
    monkeypatch.setenv("QINGLIAN_SERVING", str(tmp_path / "x.duckdb"))
    assert data.serving_path() == tmp_path / "x.duckdb"
    cmd = serve.command(8600)
    assert cmd[1:4] == ["-m", "dashboards.launch", "run"] and cmd[4].endswith("dashboards/asgi.py")
    assert "--server.port=8600" in cmd and "--client.disableDataExport=true" in cmd


def test_overview_marks_a_quarter_whose_cases_were_not_rolled_up(env: dict, serving: tuple[Path, dict], tmp_path: Path,
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    # 城固县's 1-9月 立案 (8) is below its 1-6月 (9): dbt leaves 2025Q3's roll-up empty, and the overview must
    # say so, not draw 0 cases.
    path, e = serving
    at = open_app()  # the overview
    m = metrics(at)
    assert m["本季度立案（件）"] == (str(e["city_cases_filed"]["2025Q4"]), "")  # no change shown against an unknown
    spec = next(json.loads(c.proto.spec) for c in at.get("plotly_chart")
                if any(tr.get("name") == "立案（件）" for tr in json.loads(c.proto.spec)["data"]))
    assert [a["x"] for a in spec["layout"].get("annotations", []) if "未汇总" in a["text"]] == ["2025Q3"]
    # the latest quarter itself not rolled up (pd.NA in an integer column): a dash, not a crash
    broken = tmp_path / "ytd.duckdb"
    shutil.copyfile(path, broken)
    with duckdb.connect(str(broken)) as con:
        con.execute("UPDATE marts.kpi_cases SET cases_filed = NULL WHERE quarter = '2025Q4'")
        con.execute("UPDATE marts.kpi_headline_quarterly SET cases_filed = NULL WHERE quarter = '2025Q4'")
    monkeypatch.setenv("QINGLIAN_SERVING", str(broken))
    at = open_app()
    assert metrics(at)["本季度立案（件）"][0] == "—"


def test_cases_page_names_a_year_to_date_decrease(env: dict) -> None:
    at = goto(open_app(), "p8_cases")
    assert not at.warning  # 2025Q4 is shown first and is clean
    at.selectbox(key="cases_quarter").select("2025Q3").run()
    (warning,) = [w.value for w in at.warning]
    assert warning.startswith("累计数比上季度减少（数据错误，该项本季度增量不计算，上级汇总为空）：")
    assert warning.endswith("城固县（立案）")
    # the counties that reported correctly are not named
    assert not any(n in warning for n in ("汉台区", "南郑区", "洋县", "西乡县"))
