"""Parser tests on small hand-made files: every messiness item of DESIGN.md §3, exact values."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import polars as pl
import pytest
import xlsxwriter

from ingest.parse import parse_file
from ingest.periods import parse_period, parse_wave
from ingest.resolve import Resolver

COUNTY_YX, COUNTY_HT = "610723000000", "610702000000"


@pytest.fixture(scope="module")
def resolver() -> Resolver:
    regions = [
        ("610000000000", "陕西省", "省", None),
        ("610700000000", "汉中市", "市", "610000000000"),
        (COUNTY_YX, "洋县", "县", "610700000000"),
        (COUNTY_HT, "汉台区", "县", "610700000000"),
        ("610723001000", "洋州街道", "乡", COUNTY_YX),
        ("610723001001", "城东社区", "村", "610723001000"),
        ("610702001000", "城关镇", "乡", COUNTY_HT),
        ("610723002000", "城关镇", "乡", COUNTY_YX),  # same town name in two counties
    ]
    departments = [
        ("D01", "中共汉中市纪律检查委员会", "市纪委监委", ["汉中市纪委监委", "市纪委"]),
        ("D07", "汉中市教育局", "市教育局", ["教育局"]),
    ]
    return Resolver.build(regions, departments)


def _xlsx(path: Path, build) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    wb = xlsxwriter.Workbook(str(path))
    build(wb)
    wb.close()
    return path


def _parse(path: Path, source: str, resolver: Resolver, tasks: frozenset[str] = frozenset({"1.1", "1.2", "2.1"})):
    return parse_file(path, f"{source}/{path.name}", source, resolver, tasks)


def test_title_rows_aliases_fullwidth_percentages_dates_and_footer(tmp_path: Path, resolver: Resolver) -> None:
    def build(wb):
        ws = wb.add_worksheet("填表说明")
        ws.write(0, 0, "请按要求填写，本页不是数据")
        ws = wb.add_worksheet("推进台账")
        date_fmt = wb.add_format({"num_format": "yyyy-mm-dd"})
        ws.write(0, 0, "汉中市２０２５年第二季度清廉建设重点任务推进情况台账")
        ws.write(1, 0, "填报单位：汉中市教育局　　填报日期：2025年7月8日")
        # Aliases, a stray space, a line break and a full-width bracketed unit in the header.
        ws.write_row(2, 0, [" 编号", "工作任务", "填报单位", "进展情况", "完成\n进度（％）", "佐证材料（件）", "报送日期"])
        ws.write_row(3, 0, ["1.1", "开展政治生态评估", "市教育局", "按序推进", "80%"])
        ws.write_datetime(3, 6, dt.datetime(2025, 7, 8), date_fmt)
        ws.write_row(4, 0, ["1.2", "清廉学校建设", "教育局", "已完成", "８０％", "３", "2025/7/9"])
        ws.write_row(5, 0, [])  # blank row inside the data
        ws.write_row(6, 0, ["2.1", "任务三", "市教育局", "滞后", 0.8, 2, "2025.7.10"])
        ws.write_row(7, 0, ["1.1 ", "重复行不会出现", "市教育局", "滞后", 80, None, "2025年7月11日"])
        ws.write(9, 0, "填表人：王某某")
        ws.write(10, 0, "联系电话：0916-1234567")

    p = _xlsx(tmp_path / "task_progress" / "教育局.xlsx", build)
    parsed = _parse(p, "task_progress", resolver)
    assert parsed.error is None
    assert parsed.sheets == ["推进台账"]
    assert parsed.period == "2025Q2"
    assert parsed.submitter == "D07" and parsed.submitter_name == "汉中市教育局"
    assert parsed.report_date == dt.date(2025, 7, 8)
    assert parsed.rows_read == 4 and parsed.rows_rejected == 1
    rows = parsed.tables["task_progress"].sort("_row")
    assert rows["_row"].to_list() == [4, 5, 7]
    assert rows["task_code"].to_list() == ["1.1", "1.2", "2.1"]
    assert rows["owner_code"].to_list() == ["D07", "D07", "D07"]
    assert rows["quarter"].to_list() == ["2025Q2"] * 3
    assert rows["progress_pct"].to_list() == [80.0, 80.0, 80.0]
    assert rows["evidence_count"].to_list() == [None, 3, 2]
    assert rows["report_date"].to_list() == [dt.date(2025, 7, 8), dt.date(2025, 7, 9), dt.date(2025, 7, 10)]
    (reject,) = parsed.rejects.to_dicts()
    assert reject == {"sheet": "推进台账", "row": 8, "column": "任务编号", "value": "1.1", "reason": "第8行 任务编号 '1.1' 与第4行重复"}


def test_two_row_merged_header_total_row_and_region_merged_down(tmp_path: Path, resolver: Resolver) -> None:
    def build(wb):
        ws = wb.add_worksheet("Sheet1")
        ws.merge_range(0, 0, 0, 7, "2025年1-6月监督执纪工作统计表")
        ws.write(1, 0, "填报单位：市纪委监委")
        for col, name in enumerate(["所属区划", "统计期", "立案"]):
            ws.merge_range(2, col, 3, col, name)
        ws.merge_range(2, 3, 2, 6, "四种形态")
        ws.write_row(3, 3, ["第一种", "第二种", "第三种", "第四种"])
        ws.write(2, 7, "挽回经济损失(万元)")
        ws.write_row(4, 0, ["洋县", "2025年1-6月", 12, 30, 8, 2, 1, 15.5])
        ws.write_row(5, 0, ["610702", "2025年1-6月", 20, 41, 10, 3, 0, "1,200"])
        ws.write_row(6, 0, ["合计", None, 32, 71, 18, 5, 1, 1215.5])

    parsed = _parse(_xlsx(tmp_path / "cases" / "cases.xlsx", build), "cases", resolver)
    assert parsed.error is None, parsed.error
    assert parsed.rows_read == 2 and parsed.rows_rejected == 0
    rows = parsed.tables["cases"].sort("_row")
    assert rows["region_code"].to_list() == [COUNTY_YX, COUNTY_HT]
    assert rows["quarter"].to_list() == ["2025Q2", "2025Q2"]
    assert rows["scope"].to_list() == ["累计", "累计"]
    assert rows["form1"].to_list() == [30, 41] and rows["form4"].to_list() == [1, 0]
    assert rows["cases_filed"].to_list() == [12, 20]
    assert rows["recovered_10k_yuan"].to_list() == [15.5, 1200.0]
    assert parsed.submitter == "D01"
    assert not any("合计" in n for n in parsed.notes)  # the 合计 row matches the rows


def test_wrong_total_row_is_reported(tmp_path: Path, resolver: Resolver) -> None:
    def build(wb):
        ws = wb.add_worksheet("统计")
        ws.write(0, 0, "2025年第一季度监督执纪统计（当季）")
        ws.write_row(1, 0, ["所属区划", "统计口径", "立案", "处分"])
        ws.write_row(2, 0, ["洋县", "当季", 5, 3])
        ws.write_row(3, 0, ["汉台区", "当季", 7, 4])
        ws.write_row(4, 0, ["合计", None, 13, 7])

    parsed = _parse(_xlsx(tmp_path / "cases" / "q1.xlsx", build), "cases", resolver)
    assert parsed.period == "2025Q1"
    assert parsed.tables["cases"]["scope"].to_list() == ["当季", "当季"]
    assert "第5行 合计 立案 为 13，与明细之和 12 不符，请核对" in parsed.notes


def test_units_merged_region_column_fills_down_and_period_from_dates(tmp_path: Path, resolver: Resolver) -> None:
    def build(wb):
        ws = wb.add_worksheet("清廉单元")
        ws.write_row(0, 0, ["所属区划", "单元编码", "单元名称", "类别", "创建状态", "评估得分", "截至日期"])
        ws.merge_range(1, 0, 3, 0, "洋县")
        ws.write_row(1, 1, ["U1", "洋县中学", "清廉学校", "已达标", 90, "2025-03-31"])
        ws.write_row(2, 1, ["U2", "洋县医院", "医院", "示范", 95.5, "2025-03-31"])
        ws.write_row(3, 1, ["U3", "某企业", "企业", "创建中", None, "2025-03-30"])
        ws.write_row(4, 0, ["洋县城关镇", "U4", "城关村", "村居", "未启动", None, "2025-03-31"])

    parsed = _parse(_xlsx(tmp_path / "units" / "yx.xlsx", build), "units", resolver)
    assert parsed.error is None, parsed.error
    rows = parsed.tables["units"].sort("_row")
    assert rows["region_code"].to_list() == [COUNTY_YX, COUNTY_YX, COUNTY_YX, "610723002000"]
    assert rows["unit_type"].to_list() == ["学校", "医院", "企业", "村居"]
    assert rows["stage_level"].to_list() == [2, 3, 1, 0]
    assert rows["quarter"].to_list() == ["2025Q1"] * 4
    assert parsed.submitter == COUNTY_YX  # every row belongs to 洋县


def test_csv_gbk_and_utf8_bom_with_personal_data_dropped(tmp_path: Path, resolver: Resolver) -> None:
    header = "问卷编号,测评批次,所属区划,姓名,手机号,身份证号,受访者类型,调查方式,Q1,Q2,Q3\n"
    body = ("A1,2025年度,洋县,张三,13800000000,610723199001011234,群众,电话,很满意,满意,不了解\n"
            "A2,2025年度,洋县,李四,13900000000,610723199001011235,企业,网络,5,2,0\n"
            "A3,2025年度,洋县,王五,13700000000,610723199001011236,群众,入户,非常好,3,\n")
    (tmp_path / "surveys").mkdir()
    for name, raw in (("gbk.csv", (header + body).encode("gbk")), ("bom.csv", b"\xef\xbb\xbf" + (header + body).encode("utf-8"))):
        path = tmp_path / "surveys" / name
        path.write_bytes(raw)
        parsed = _parse(path, "surveys", resolver)
        assert parsed.error is None, parsed.error
        assert parsed.period == "2025"
        assert parsed.dropped_columns == ["姓名", "手机号", "身份证号"]
        assert parsed.rows_read == 3 and parsed.rows_rejected == 1
        responses = parsed.tables["survey_responses"]
        assert not {"姓名", "手机号", "身份证号"} & set(responses.columns)
        assert responses["response_id"].to_list() == ["A1", "A2"]
        answers = parsed.tables["survey_answers"].sort("response_id", "question")
        assert answers.select("response_id", "question", "answer", "answer_code").rows() == [
            ("A1", "Q1", "很满意", 5), ("A1", "Q2", "满意", 4), ("A1", "Q3", "不了解", 0),
            ("A2", "Q1", "很满意", 5), ("A2", "Q2", "不满意", 2), ("A2", "Q3", "不了解", 0),
        ]
        (reject,) = parsed.rejects.to_dicts()
        assert reject["row"] == 4 and reject["column"] == "Q1" and reject["value"] == "非常好"


def test_bad_rows_get_exact_chinese_reasons(tmp_path: Path, resolver: Resolver) -> None:
    def build(wb):
        ws = wb.add_worksheet("台账")
        ws.write(0, 0, "2025年第一季度重点任务推进台账")
        ws.write_row(1, 0, ["任务编号", "牵头单位", "推进状态", "完成进度", "填报日期"])
        ws.write_row(2, 0, ["1.1", "市纪委", "按序推进", "一百二十", "2025-04-05"])
        ws.write_row(3, 0, ["1.2", "市清廉局", "按序推进", 50, "2025-13-45"])
        ws.write_row(4, 0, ["9.9", "市纪委", None, 50, "2025-04-05"])

    parsed = _parse(_xlsx(tmp_path / "task_progress" / "bad.xlsx", build), "task_progress", resolver)
    assert parsed.rows_read == 3 and parsed.rows_rejected == 3 and parsed.rows_loaded == 0
    reasons = parsed.rejects.select("row", "column", "value", "reason").rows()
    assert (3, "完成进度", "一百二十", "第3行 完成进度 '一百二十' 不是0-100之间的数字") in reasons
    assert (4, "填报日期", "2025-13-45", "第4行 填报日期 '2025-13-45' 不是有效日期（可写 2025-03-31 或 2025年3月31日）") in reasons
    assert any(r[:3] == (4, "牵头单位", "市清廉局") and "无法识别" in r[3] for r in reasons)
    assert (5, "推进状态", None, "第5行 推进状态 '' 为空（必填项）") in reasons
    assert (5, "任务编号", "9.9", "第5行 任务编号 '9.9' 不在重点任务清单中，请核对任务编号") in reasons


def test_ambiguous_and_unknown_region_names(tmp_path: Path, resolver: Resolver) -> None:
    assert resolver.region("城关镇") == (None, "区划名称对应多个区划，请改填区划代码")
    assert resolver.region("汉台区城关镇") == ("610702001000", None)
    assert resolver.region("６１０７２３") == (COUNTY_YX, None)
    assert resolver.region("610799") == (None, "区划代码不存在（请核对12位统计用区划代码）")
    assert resolver.county_of("610723001001") == COUNTY_YX
    assert resolver.owner("中共洋县县委") == (COUNTY_YX, "county")
    assert resolver.owner("汉中市纪委监委") == ("D01", "department")
    assert resolver.department("市清廉局") is None


@pytest.mark.parametrize(
    ("text", "key", "ytd"),
    [
        ("2025年第一季度", "2025Q1", None),
        ("2025年二季度台账", "2025Q2", None),
        ("2025Q3", "2025Q3", None),
        ("2025年1-6月", "2025Q2", True),
        ("2025年4-6月", "2025Q2", False),
        ("2025年1—9月", "2025Q3", True),
        ("2025年1-3月", "2025Q1", None),
        ("截至2025年12月31日", "2025Q4", None),
        ("2025年上半年", "2025Q2", True),
    ],
)
def test_periods(text: str, key: str, ytd: bool | None) -> None:
    period = parse_period(text)
    assert period is not None and period.key == key and period.ytd is ytd


def test_period_rejections_and_waves() -> None:
    # A fill-in date is not a period (title lines carry both); a bare quarter-end month is.
    assert parse_period("填报日期：2025年12月31日") is None
    assert parse_period("2025年12月").key == "2025Q4"
    assert parse_period("2025年1-5月") is None  # not a quarter boundary
    assert parse_period("填报说明") is None
    assert parse_wave("2025年度") == "2025" and parse_wave("2026") == "2026" and parse_wave("年度") is None


def test_sheet_without_header_and_wrong_folder_and_garbage(tmp_path: Path, resolver: Resolver) -> None:
    def units(wb):
        ws = wb.add_worksheet("单元")
        ws.write(0, 0, "2025年第一季度清廉单元台账")
        ws.write_row(1, 0, ["单元编码", "单元类型", "创建阶段", "所属区划"])
        ws.write_row(2, 0, ["U1", "学校", "已达标", "洋县"])

    wrong = _parse(_xlsx(tmp_path / "cases" / "units_in_cases.xlsx", units), "cases", resolver)
    assert wrong.outcome == "rejected"
    assert wrong.error == "文件放错了文件夹：内容是「清廉单元创建台账」，应放在 units/ 文件夹，而不是 cases/"

    def personal(wb):
        ws = wb.add_worksheet("我的表")
        ws.write_row(0, 0, ["日期", "花销", "备注"])
        ws.write_row(1, 0, ["2025-01-01", 30, "午饭"])

    unknown = _parse(_xlsx(tmp_path / "units" / "random.xlsx", personal), "units", resolver)
    assert unknown.error is not None and unknown.error.startswith("未找到「清廉单元创建台账」的表头，不是已知的填报模板")

    garbage = tmp_path / "units" / "broken.xlsx"
    garbage.write_bytes(b"this is not a zip file at all")
    broken = _parse(garbage, "units", resolver)
    assert broken.outcome == "rejected" and broken.error.startswith("无法打开该Excel文件")

    def no_period(wb):
        ws = wb.add_worksheet("单元")
        ws.write_row(0, 0, ["单元编码", "单元类型", "创建阶段", "所属区划"])
        ws.write_row(1, 0, ["U1", "学校", "已达标", "洋县"])

    missing = _parse(_xlsx(tmp_path / "units" / "no_period.xlsx", no_period), "units", resolver)
    assert missing.error == "缺少报告期：请在标题中写明（如“2025年第一季度”）或填写「季度」列"


def test_region_codes_are_padded_and_synthetic_marked(tmp_path: Path, resolver: Resolver) -> None:
    def build(wb):
        ws = wb.add_worksheet("区划")
        ws.write_row(0, 0, ["代码", "名称", "级别", "上级代码", "人口", "备注"])
        ws.write_row(1, 0, ["610723", "洋县", "县", "6107", 380000, None])
        ws.write_number(2, 0, 610723001000)
        ws.write_row(2, 1, ["洋州街道", "街道", "610723000000", "52,000", "虚构"])
        ws.write_row(3, 0, ["61072X", "坏代码", "县", "610700", 1, None])

    parsed = _parse(_xlsx(tmp_path / "regions" / "r.xlsx", build), "regions", resolver)
    rows = parsed.tables["regions"].sort("_row")
    assert rows.select("region_code", "region_level", "parent_code", "population", "is_synthetic").rows() == [
        ("610723000000", "县", "610700000000", 380000, False),
        ("610723001000", "乡", "610723000000", 52000, True),
    ]
    assert parsed.rejects["reason"].to_list() == ["第4行 区划代码 '61072X' 区划代码应为2/4/6/9/12位数字"]


def test_department_aliases_split(tmp_path: Path, resolver: Resolver) -> None:
    def build(wb):
        ws = wb.add_worksheet("部门")
        ws.write_row(0, 0, ["单位编码", "全称", "简称", "别名"])
        ws.write_row(1, 0, ["D07", "汉中市教育局", "市教育局", "教育局；汉中市教育局、市教体局"])

    parsed = _parse(_xlsx(tmp_path / "departments" / "d.xlsx", build), "departments", resolver)
    assert parsed.tables["departments"]["aliases"].to_list() == [["教育局", "汉中市教育局", "市教体局"]]


def test_inspections_attribution_inputs(tmp_path: Path, resolver: Resolver) -> None:
    def build(wb):
        ws = wb.add_worksheet("整改台账")
        ws.write(0, 0, "2025年第二季度巡察整改台账")
        ws.write_row(1, 0, ["问题编号", "巡察轮次", "被巡察单位", "所属区划", "问题类别", "发现日期", "整改期限"])
        ws.merge_range(1, 7, 1, 9, "整改情况")
        ws.write_row(2, 7, ["整改状态", "整改完成日期", "是否销号"])
        for col in range(7):
            ws.write(2, col, None)
        ws.write_row(3, 0, ["X1", "第一轮", "市教育局", "汉中市", "作风", "2025-01-10", "2025-03-31", "已整改", "2025-03-20", "是"])
        ws.write_row(4, 0, ["X2", "第一轮", "洋州街道党工委", "洋州街道", "纪律", "2025-01-10", "2025-03-31", "整改中", None, "否"])
        ws.write_row(5, 0, ["X3", "第一轮", "某单位", None, "纪律", "2025-01-10", "2025-03-31", "已整改", None, "否"])

    parsed = _parse(_xlsx(tmp_path / "inspections" / "i.xlsx", build), "inspections", resolver)
    assert parsed.error is None, parsed.error
    rows = parsed.tables["inspections"].sort("_row")
    assert rows.select("issue_code", "body_dept_code", "region_code", "status", "completed_date", "closed", "quarter").rows() == [
        ("X1", "D07", "610700000000", "已整改", dt.date(2025, 3, 20), True, "2025Q2"),
        ("X2", None, "610723001000", "整改中", None, False, "2025Q2"),
    ]
    reasons = set(parsed.rejects["reason"].to_list())
    assert "第6行 被巡察单位 '某单位' 不是已知部门，且未填写所属区划，无法确定整改责任主体" in reasons
    assert "第6行 完成日期 '' 整改状态为“已整改”时必须填写完成日期" in reasons


def test_rows_read_identity_holds_for_every_parsed_table(tmp_path: Path, resolver: Resolver) -> None:
    def build(wb):
        ws = wb.add_worksheet("s")
        ws.write(0, 0, "2025年第一季度")
        ws.write_row(1, 0, ["单元编码", "单元类型", "创建阶段", "所属区划"])
        for i in range(50):
            ws.write_row(2 + i, 0, [f"U{i}", ["学校", "医院", "坏类型"][i % 3], "已达标", "洋县"])

    parsed = _parse(_xlsx(tmp_path / "units" / "many.xlsx", build), "units", resolver)
    assert parsed.rows_read == 50
    assert parsed.rows_rejected == 16  # i % 3 == 2 for i in 0..49
    assert parsed.tables["units"].height == parsed.rows_loaded == 34
    assert isinstance(parsed.tables["units"], pl.DataFrame)
