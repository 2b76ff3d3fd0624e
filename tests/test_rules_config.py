"""The rules configuration (DESIGN §5): shipped defaults, an office's file on top, validation in Chinese.

Pure Python (no dbt build): what the warehouse does with the rules is tested in test_rules_versioning
and test_rules_change (built marts).
"""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from qinglian.cli import main
from qinglian.rules import RulesError, install_rules, load_rules
from qinglian.rules.config import DEMO, SHIPPED


@pytest.fixture(autouse=True)
def _production(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("QINGLIAN_RULES", raising=False)
    monkeypatch.delenv("QINGLIAN_ENV", raising=False)


def office(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "office_rules.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def test_the_shipped_rules_are_the_design_defaults_for_every_year() -> None:
    rules = load_rules()
    assert rules.files == [SHIPPED]
    assert {s.rules_version for s in rules.sets} == {"默认"}
    for year in (2019, 2025, 2026, 2031):  # no invented version for any year
        county, dept = rules.in_force(year, "county"), rules.in_force(year, "department")
        assert county.rules_version == dept.rules_version == "默认"
        assert county.weights == {"task_on_schedule": 25, "unit_coverage": 25, "rectification": 25, "satisfaction": 25}
        assert dept.weights == {"task_on_schedule": 45, "rectification": 35, "timeliness": 20}
        assert (county.red_flags, county.snails, dept.red_flags, dept.snails) == (2, 2, 3, 3)
        assert county.veto_days == dept.veto_days == 90
        assert (county.excellent_min_score, county.good_min_score, county.pass_min_score) == (90, 80, 60)
        assert county.excellent_quota == 0.2 and county.min_sample == 30
        assert (county.remind_max_days, county.supervise_max_days, county.caution_max_days) == (30, 60, 90)
        assert county.report_deadline_days == 10 and county.near_tie_margin == 1.0


def test_an_office_version_starts_in_its_year_and_inherits_the_rest(tmp_path: Path) -> None:
    path = office(tmp_path, """\
years:
  2027:
    version: "2027.1"
    note: 2027年起一票否决改为60天
    veto_days: 60
    county:
      red_flags: 1
  2029:
    version: "2029.1"
    department:
      weights: {task_on_schedule: 50, rectification: 50}
""")
    rules = load_rules(path)
    assert rules.files == [SHIPPED, path]
    assert rules.in_force(2026, "county").rules_version == "默认"
    r27 = rules.in_force(2028, "county")
    assert (r27.rules_version, r27.veto_days, r27.red_flags, r27.snails) == ("2027.1", 60, 1, 2)
    assert r27.note == "2027年起一票否决改为60天"
    d29 = rules.in_force(2030, "department")
    assert d29.rules_version == "2029.1" and d29.veto_days == 60  # carried from 2027.1
    assert d29.weights == {"task_on_schedule": 50, "rectification": 50}  # replaced as a whole
    assert rules.in_force(2030, "county").weights["unit_coverage"] == 25


def test_qinglian_rules_env_and_the_labelled_demo_configuration(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("QINGLIAN_ENV", "demo")
    demo = load_rules()
    assert demo.files == [SHIPPED, DEMO]
    changed = [s for s in demo.sets if s.from_year is not None]
    assert changed and all("演示" in s.note and "演示" in s.rules_version for s in changed)
    path = office(tmp_path, "default:\n  veto_days: 45\n")
    monkeypatch.setenv("QINGLIAN_RULES", str(path))
    assert load_rules().files == [SHIPPED, path]  # the office's file, never the demo's
    assert load_rules().in_force(2026, "county").veto_days == 45


@pytest.mark.parametrize(("text", "line", "message"), [
    ("default:\n  county:\n    weights: {task_on_schedule: 30, unit_coverage: 25, rectification: 25, satisfaction: 25}\n",
     3, "县区的权重合计为 105（任务推进率 30 + 清廉单元覆盖率 25 + 整改完成率 25 + 满意度指数 25），应为 100"),
    ("default:\n  department:\n    weights:\n      task_on_schedule: 45\n      unit_coverage: 55\n",
     5, "市直部门不能使用指标「unit_coverage」"),
    ("default:\n  excellent_quota: 1.5\n", 2, "优秀名额比例（excellent_quota）的值 '1.5' 超出范围"),
    ("default:\n  county:\n    red_flags: 两个\n", 3, "每季度红旗数（red_flags）的值 '两个' 不是数字"),
    ("default:\n  min_sample: 12.5\n", 2, "满意度最小有效样本量（min_sample）的值 '12.5' 应为整数"),
    ("default:\n  good_min_score: 95\n", 2, "良好分数线（good_min_score）的值 '95' 应不大于优秀分数线（excellent_min_score）90"),
    ("default:\n  supervise_max_days: 20\n", 2, "「督办」阶段最大逾期天数（supervise_max_days）的值 '20' 应大于「提醒」阶段最大逾期天数"),
    ("default:\n  vetoo_days: 60\n", 2, "不认识的项「vetoo_days」"),
    ("default:\n  county:\n    min_sample: 10\n", 3, "不认识的项「min_sample」"),
    ("years:\n  2026:\n    version: '2026.1'\n  2026:\n    version: '2026.2'\n", 4, "「2026」重复出现（第一次在第2行）"),
    ("years:\n  2026:\n    version: '2026.1'\n  2027:\n    version: '2026.1'\n", 5, "规则版本号 '2026.1' 已在"),
    ("years:\n  2026:\n    veto_days: 60\n", 2, "2026 年的规则缺少版本号 version"),
    ("years:\n  二〇二六:\n    version: x\n", 2, "years 下的「二〇二六」不是年度"),
    ("default:\n  veto_days: 60\n   snails: 2\n", 3, "YAML 格式错误"),
])
def test_a_bad_office_file_is_one_chinese_line_with_file_line_and_value(tmp_path: Path, text: str, line: int,
                                                                      message: str) -> None:
    path = office(tmp_path, text)
    with pytest.raises(RulesError) as err:
        load_rules(path)
    assert f"规则配置 {path} 第{line}行" in str(err.value)
    assert message in str(err.value)
    assert "\n" not in str(err.value)


def test_install_writes_the_rules_tables(tmp_path: Path) -> None:
    warehouse = tmp_path / "w.duckdb"
    rules = install_rules(warehouse, override=office(tmp_path, "years:\n  2026:\n    version: '2026.1'\n    snails: 1\n"))
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        sets = con.execute("select rules_version, from_year, body_group, snails, veto_days from rules.rule_sets "
                           "order by from_year nulls first, body_group").fetchall()
        weights = con.execute("select rules_version, body_group, sum(weight), count(*) from rules.rule_weights "
                              "group by all order by all").fetchall()
    finally:
        con.close()
    assert sets == [("默认", None, "county", 2, 90), ("默认", None, "department", 3, 90),
                    ("2026.1", 2026, "county", 1, 90), ("2026.1", 2026, "department", 1, 90)]
    assert weights == [("2026.1", "county", 100.0, 4), ("2026.1", "department", 100.0, 3),
                       ("默认", "county", 100.0, 4), ("默认", "department", 100.0, 3)]
    assert len(rules.sets) == 4


def test_qinglian_rules_validate_and_show(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["rules", "validate"]) == 0
    assert "规则配置有效：1 个规则版本（默认）" in capsys.readouterr().out
    assert main(["rules", "show"]) == 0
    out = capsys.readouterr().out
    assert "县区　权重：任务推进率 25、清廉单元覆盖率 25、整改完成率 25、满意度指数 25" in out
    assert "一票否决逾期天数 90" in out
    bad = office(tmp_path, "default:\n  excellent_quota: 0\n")
    assert main(["rules", "validate", "--rules", str(bad)]) == 2
    err = capsys.readouterr().err
    assert f"规则配置 {bad} 第2行" in err and "优秀名额比例" in err and "Traceback" not in err
