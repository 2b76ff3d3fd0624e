"""Expectation suites for the raw layer and the marts, defined in code (no GX project on disk).

Pure: nothing here reads the warehouse. A suite is a list of `Check`s; each check knows its GX
expectation, its severity, the column a clerk should look at, and two Chinese sentences (what
was checked, how to fix it). `validate.py` turns them into GX `ExpectationSuite`s at run time
over frames built by `frames.py`, which adds the derived columns some checks need (the matched
reference code, the quarter's date window, the year-to-date decrease count, ...).

Severity: `blocking` stops publishing; `warning` is published and listed on the data-quality
page. Raw rules the ingest is supposed to enforce (required fields, enumerations, ranges, codes
that resolve, business keys) are blocking: if one fails, the ingest or the reference data is
broken and the figures built on it are wrong. Plausibility rules (dates, reference-data
duplicates the ingest resolves by "latest row wins", fields no KPI uses) are warnings.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

import great_expectations as gx
import great_expectations.expectations as gxe
from great_expectations.expectations.row_conditions import Column

from qinglian import quarters

# How late after its quarter's end a ledger date is still plausible (a 填报/认定/整改 date later than this
# means the quarter or the date was mistyped): the frames compute the limit, the messages quote it.
REPORT_WINDOW_DAYS = 60

Severity = Literal["blocking", "warning"]
BLOCKING: Severity = "blocking"
WARNING: Severity = "warning"

SEVERITY_ZH: dict[str, str] = {"blocking": "阻断", "warning": "警告"}

TASK_STATUSES = ("已完成", "按序推进", "滞后", "未启动")
UNIT_TYPES = ("机关", "学校", "医院", "企业", "工程", "村居")
UNIT_STAGES = ("未启动", "创建中", "已达标", "示范")
STAGE_LEVELS = {"未启动": 0, "创建中": 1, "已达标": 2, "示范": 3}
RECTIFICATION_STATUSES = ("未整改", "整改中", "已整改")
REGION_LEVELS = ("省", "市", "县", "乡", "村")
RESPONDENT_TYPES = ("群众", "企业", "党员干部", "服务对象")
SURVEY_MODES = ("电话", "网络", "入户")
CASE_SCOPES = ("累计", "当季")
SURVEY_ANSWERS = {"很满意": 5, "满意": 4, "基本满意": 3, "不满意": 2, "很不满意": 1, "不了解": 0}
BODY_GROUPS = ("county", "department")

QUARTER_REGEX = rf"^{quarters.PATTERN}$"
REGION_CODE_REGEX = r"^\d{12}$"

LINEAGE = ("file_id", "sheet", "row_number")

# What the ledgers are called on the templates, so messages name the file type a clerk knows.
TABLE_LABELS: dict[str, str] = {
    "regions": "行政区划表",
    "departments": "部门单位表",
    "tasks": "重点任务清单",
    "task_progress": "重点任务推进台账",
    "units": "清廉单元创建台账",
    "inspections": "巡察整改台账",
    "survey_responses": "满意度问卷（受访者信息）",
    "survey_answers": "满意度问卷（答题）",
    "cases": "监督执纪统计表",
    "kpi_task_progress": "任务推进指标",
    "kpi_unit_coverage": "清廉单元覆盖指标",
    "kpi_rectification": "巡察整改指标",
    "kpi_satisfaction": "满意度指标",
    "kpi_cases": "监督执纪指标",
    "scorecard_quarterly": "季度排名（红旗/蜗牛）",
    "assessment_annual": "年度考核",
}

# Template header of each raw column (DESIGN §3), used in every message a clerk reads.
COLUMN_LABELS: dict[str, dict[str, str]] = {
    "regions": {"region_code": "区划代码", "region_name": "区划名称", "region_level": "层级",
                "parent_code": "上级代码", "population": "常住人口"},
    "departments": {"dept_code": "单位编码", "dept_name": "单位名称", "short_name": "简称", "aliases": "别名"},
    "tasks": {"task_code": "任务编号", "task_name": "任务名称", "lead_unit_name": "牵头单位",
              "owner_code": "牵头单位", "owner_group": "牵头单位类别", "deadline": "完成时限",
              "issued_date": "下达日期"},
    "task_progress": {"task_code": "任务编号", "owner_code": "牵头单位", "quarter": "季度", "status": "推进状态",
                      "progress_pct": "完成进度", "evidence_count": "佐证材料", "report_date": "填报日期"},
    "units": {"unit_code": "单元编码", "unit_type": "单元类型", "region_code": "所属区划", "stage": "创建阶段",
              "stage_level": "创建阶段", "quarter": "季度", "score": "评估得分", "assessed_date": "评估日期"},
    "inspections": {"issue_code": "问题编号", "inspected_body": "被巡察单位", "body_dept_code": "被巡察单位",
                    "region_code": "所属区划", "found_date": "发现日期", "deadline": "整改时限",
                    "status": "整改状态", "completed_date": "完成日期", "quarter": "季度",
                    "attribution_code": "被巡察单位/所属区划"},
    "survey_responses": {"response_id": "问卷编号", "wave": "测评批次", "region_code": "所属区划",
                         "respondent_type": "受访者类型", "survey_mode": "调查方式"},
    "survey_answers": {"response_id": "问卷编号", "question": "题号", "answer": "答案", "answer_code": "答案"},
    "cases": {"region_code": "所属区划", "quarter": "统计期", "scope": "统计口径", "petitions": "信访举报",
              "clues": "处置问题线索", "talks": "谈话函询", "cases_filed": "立案", "punished": "处分",
              "form1": "第一种形态", "form2": "第二种形态", "form3": "第三种形态", "form4": "第四种形态",
              "detained": "留置", "transferred": "移送检察机关", "recovered_10k_yuan": "挽回经济损失",
              "ytd_decreases": "累计数"},
}

CASE_FIGURES = ("petitions", "clues", "talks", "cases_filed", "punished", "form1", "form2", "form3", "form4",
                "detained", "transferred", "recovered_10k_yuan")

RESUBMIT = "改正后由填报单位重新报送整份文件（同一单位同一期次的新文件会自动替换旧文件）。"


def column_label(table: str, column: str | None) -> str:
    """The Chinese header of a column; the column name itself when there is none (e.g. Q3)."""
    if column is None:
        return ""
    return COLUMN_LABELS.get(table, {}).get(column, column)


@dataclass(frozen=True, eq=False)
class Check:
    """One expectation with everything needed to store, gate on and explain its result."""

    check_id: str  # stable, e.g. "raw.units.unit_type.in_set"; Dagster check names derive from it
    family: str  # schema | not_null | enum | format | range | date | resolve | unique | ytd | consistency | rate | ratio | flags | rank | grade
    expectation: type[gxe.Expectation]
    kwargs: Mapping[str, Any]
    severity: Severity
    column: str | None  # the column a clerk or analyst should look at
    check_zh: str  # what was checked, one Chinese sentence
    fix_zh: str  # how to fix a failure
    problem_zh: str = ""  # short statement of a failing row, for the clerk report
    value_columns: tuple[str, ...] = ()  # shown as the offending value; default: `column`
    needs: tuple[str, ...] = ()  # extra frame columns the check reads (e.g. in a row_condition)

    @property
    def expectation_type(self) -> str:
        return str(self.expectation.expectation_type)  # type: ignore[attr-defined]

    @property
    def description_zh(self) -> str:
        return f"{self.check_zh}。{self.fix_zh}"

    @property
    def shown_columns(self) -> tuple[str, ...]:
        if self.value_columns:
            return self.value_columns
        return (self.column,) if self.column else ()

    def columns(self) -> tuple[str, ...]:
        """Frame columns the expectation reads; a check whose columns are absent is not run."""
        kw = self.kwargs
        cols: list[str] = []
        for key in ("column", "column_A", "column_B"):
            if key in kw:
                cols.append(str(kw[key]))
        cols.extend(str(c) for c in kw.get("column_list", ()))
        cols.extend(self.needs)
        cols.extend(self.shown_columns)
        return tuple(dict.fromkeys(cols))

    def build(self) -> gxe.Expectation:
        """A fresh GX expectation: instances get bound to a suite, so they are never shared."""
        meta = {"check_id": self.check_id, "severity": self.severity, "family": self.family}
        return self.expectation(**dict(self.kwargs), meta=meta)


@dataclass(frozen=True, eq=False)
class FrameSuite:
    """The checks run over one validated frame. Several frames may belong to one asset
    (marts.scorecard_quarterly has its rows, its per-quarter flag counts and its body coverage)."""

    name: str  # frame key, e.g. "raw.units" or "marts.scorecard_quarterly#flags"
    asset: str  # what results are filed under, e.g. "raw.units"
    layer: Literal["raw", "marts"]
    checks: tuple[Check, ...]
    index: tuple[str, ...] = ()  # raw: lineage columns; marts: grain columns
    required: tuple[str, ...] = ()  # columns the table must have (schema checks)

    @property
    def table(self) -> str:
        return self.asset.split(".", 1)[1]

    def schema_checks(self) -> tuple[Check, ...]:
        return tuple(c for c in self.checks if c.family == "schema")

    def data_checks(self) -> tuple[Check, ...]:
        return tuple(c for c in self.checks if c.family != "schema")

    def expectation_suite(self, checks: tuple[Check, ...]) -> gx.ExpectationSuite:
        return gx.ExpectationSuite(name=self.name, expectations=[c.build() for c in checks])


# --- builders: one per family, so every check of a family reads and is explained the same way ---


class _Builder:
    def __init__(self, layer: str, table: str) -> None:
        self.layer = layer
        self.table = table
        self.checks: list[Check] = []

    def _id(self, column: str, suffix: str) -> str:
        return f"{self.layer}.{self.table}.{column}.{suffix}"

    def label(self, column: str) -> str:
        return column_label(self.table, column)

    @property
    def where(self) -> str:
        return TABLE_LABELS.get(self.table, self.table)

    def add(self, check: Check) -> None:
        self.checks.append(check)

    def exists(self, *columns: str, severity: Severity = BLOCKING) -> None:
        for col in columns:
            self.add(Check(
                self._id(col, "exists"), "schema", gxe.ExpectColumnToExist, {"column": col}, severity, col,
                f"检查{self.where}（{self.layer}.{self.table}）是否有字段 {col}",
                "缺少字段说明入库程序或数据模型与约定不一致，请联系数据管理员修正表结构后重新运行",
                "缺少字段",
            ))

    def not_null(self, *columns: str, severity: Severity = BLOCKING) -> None:
        for col in columns:
            lab = self.label(col)
            self.add(Check(
                self._id(col, "not_null"), "not_null", gxe.ExpectColumnValuesToNotBeNull, {"column": col},
                severity, col, f"检查{self.where}每一行的“{lab}”都已填写",
                f"请在原表该行补填“{lab}”，{RESUBMIT}", f"“{lab}”为空",
            ))

    def in_set(self, column: str, values: tuple[Any, ...], severity: Severity = BLOCKING,
               allowed_zh: str | None = None, suffix: str = "in_set") -> None:
        lab = self.label(column)
        allowed = allowed_zh or "、".join(str(v) for v in values)
        self.add(Check(
            self._id(column, suffix), "enum", gxe.ExpectColumnValuesToBeInSet,
            {"column": column, "value_set": list(values)}, severity, column,
            f"检查{self.where}的“{lab}”只取规定选项（{allowed}）",
            f"请把“{lab}”改为下拉选项中的一项（{allowed}），{RESUBMIT}", f"“{lab}”不是规定选项",
        ))

    def regex(self, column: str, pattern: str, format_zh: str, severity: Severity = BLOCKING) -> None:
        lab = self.label(column)
        self.add(Check(
            self._id(column, "format"), "format", gxe.ExpectColumnValuesToMatchRegex,
            {"column": column, "regex": pattern}, severity, column,
            f"检查{self.where}的“{lab}”格式为{format_zh}",
            f"请把“{lab}”改为{format_zh}，{RESUBMIT}", f"“{lab}”格式不对",
        ))

    def between(self, column: str, lo: float | None, hi: float | None, severity: Severity = BLOCKING,
                strict_min: bool = False, range_zh: str | None = None, fix_zh: str | None = None) -> None:
        lab = self.label(column)
        kwargs: dict[str, Any] = {"column": column, "min_value": lo, "max_value": hi}
        if strict_min:
            kwargs["strict_min"] = True
        if range_zh is None and hi is None:
            range_zh = f"大于{lo}" if strict_min else f"不小于{lo}"
        elif range_zh is None:
            range_zh = f"在{lo}到{hi}之间"
        self.add(Check(
            self._id(column, "range"), "range", gxe.ExpectColumnValuesToBeBetween, kwargs, severity, column,
            f"检查{self.where}的“{lab}”{range_zh}",
            fix_zh or f"请核对并改正“{lab}”（应{range_zh}），{RESUBMIT}", f"“{lab}”超出范围（应{range_zh}）",
        ))

    def resolves(self, column: str, ref_column: str, ref_zh: str, severity: Severity = BLOCKING,
                 fix_zh: str | None = None) -> None:
        # The frame carries `ref_column` = the matching code from the reference table (NULL when
        # there is none). Comparing the pair is vectorised in pandas; passing a province-sized
        # code list as a value_set is not (GX re-serialises it for every metric, minutes at 200k).
        lab = self.label(column)
        self.add(Check(
            self._id(column, "resolves"), "resolve", gxe.ExpectColumnPairValuesToBeEqual,
            {"column_A": column, "column_B": ref_column, "ignore_row_if": "both_values_are_missing"},
            severity, column, f"检查{self.where}的“{lab}”能在{ref_zh}中找到",
            fix_zh or f"请核对“{lab}”是否写错；如确为新增，请先报送{ref_zh}，再重新报送本表",
            f"“{lab}”在{ref_zh}中找不到", value_columns=(column,),
        ))

    def unique(self, columns: tuple[str, ...], scope_zh: str, severity: Severity = BLOCKING,
               fix_zh: str | None = None) -> None:
        key = columns[-1]
        lab = self.label(key)
        # GX wants at least two columns for the compound form.
        expectation, kwargs = ((gxe.ExpectColumnValuesToBeUnique, {"column": key}) if len(columns) == 1
                               else (gxe.ExpectCompoundColumnsToBeUnique, {"column_list": list(columns)}))
        self.add(Check(
            self._id(key, "unique"), "unique", expectation, kwargs, severity, key,
            f"检查{self.where}的“{lab}”在{scope_zh}内不重复（现行有效的全部文件合并计算）",
            fix_zh or f"同一“{lab}”在{scope_zh}内出现了多次（可能在不同文件中）；请确认由哪个单位填报，"
                      f"删除重复行后重新报送",
            f"“{lab}”重复", value_columns=(key,),
        ))

    def not_before(self, column: str, other: str, other_zh: str, severity: Severity = WARNING,
                   fix_zh: str | None = None, suffix: str | None = None) -> None:
        """`column` >= `other` (rows where either is empty are skipped)."""
        lab = self.label(column)
        self.add(Check(
            self._id(column, suffix or f"not_before_{other}"), "date", gxe.ExpectColumnPairValuesAToBeGreaterThanB,
            {"column_A": column, "column_B": other, "or_equal": True, "ignore_row_if": "either_value_is_missing"},
            severity, column, f"检查{self.where}的“{lab}”不早于{other_zh}",
            fix_zh or f"请核对“{lab}”是否填错（不应早于{other_zh}），{RESUBMIT}",
            f"“{lab}”早于{other_zh}", value_columns=(column,),
        ))

    def not_after(self, column: str, limit: str, limit_zh: str, severity: Severity = WARNING,
                  fix_zh: str | None = None, suffix: str | None = None) -> None:
        """`column` <= `limit`, written as limit >= column because GX only has A > B."""
        lab = self.label(column)
        self.add(Check(
            self._id(column, suffix or f"not_after_{limit}"), "date", gxe.ExpectColumnPairValuesAToBeGreaterThanB,
            {"column_A": limit, "column_B": column, "or_equal": True, "ignore_row_if": "either_value_is_missing"},
            severity, column, f"检查{self.where}的“{lab}”不晚于{limit_zh}",
            fix_zh or f"请核对“{lab}”是否填错（不应晚于{limit_zh}），{RESUBMIT}",
            f"“{lab}”晚于{limit_zh}", value_columns=(column,),
        ))

    def equals(self, column: str, expected: str, check_zh: str, fix_zh: str, problem_zh: str,
               family: str = "consistency", severity: Severity = BLOCKING, suffix: str = "consistent",
               shown: tuple[str, ...] = ()) -> None:
        self.add(Check(
            self._id(column, suffix), family, gxe.ExpectColumnPairValuesToBeEqual,
            {"column_A": column, "column_B": expected, "ignore_row_if": "either_value_is_missing"},
            severity, column, check_zh, fix_zh, problem_zh, value_columns=shown or (column,),
        ))

    def ratio(self, numerator: str, denominator: str, severity: Severity = BLOCKING) -> None:
        self.add(Check(
            self._id(numerator, f"le_{denominator}"), "ratio", gxe.ExpectColumnPairValuesAToBeGreaterThanB,
            {"column_A": denominator, "column_B": numerator, "or_equal": True,
             "ignore_row_if": "either_value_is_missing"},
            severity, numerator, f"检查{self.where}中 {numerator} 不大于 {denominator}（分子不超过分母）",
            "分子大于分母说明指标模型计算有误，请检查 dbt 模型后重新构建，未修正前不发布",
            f"{numerator} 大于 {denominator}", value_columns=(numerator, denominator),
        ))

    def rate(self, column: str, severity: Severity = BLOCKING) -> None:
        self.add(Check(
            self._id(column, "rate_range"), "rate", gxe.ExpectColumnValuesToBeBetween,
            {"column": column, "min_value": 0, "max_value": 1}, severity, column,
            f"检查{self.where}的比率 {column} 在0到1之间",
            "比率超出0-1说明指标模型计算有误（如分子分母取错或百分数未换算），请检查 dbt 模型后重新构建",
            f"{column} 不在0到1之间",
        ))

    def score(self, column: str, severity: Severity = BLOCKING) -> None:
        self.add(Check(
            self._id(column, "score_range"), "range", gxe.ExpectColumnValuesToBeBetween,
            {"column": column, "min_value": 0, "max_value": 100}, severity, column,
            f"检查{self.where}的得分 {column} 在0到100之间",
            "得分超出0-100说明评分模型或权重配置有误，请检查后重新构建", f"{column} 不在0到100之间",
        ))

    def non_negative(self, column: str, severity: Severity = BLOCKING) -> None:
        self.add(Check(
            self._id(column, "non_negative"), "range", gxe.ExpectColumnValuesToBeBetween,
            {"column": column, "min_value": 0, "max_value": None}, severity, column,
            f"检查{self.where}的 {column} 不为负数",
            "出现负数说明增量计算或源数据有误（如累计数下降），请先处理对应的原始数据问题再重新构建",
            f"{column} 为负数",
        ))

    def grain(self, columns: tuple[str, ...], severity: Severity = BLOCKING) -> None:
        self.add(Check(
            f"{self.layer}.{self.table}.grain.unique", "unique", gxe.ExpectCompoundColumnsToBeUnique,
            {"column_list": list(columns)}, severity, columns[-1],
            f"检查{self.where}每个（{'、'.join(columns)}）只有一行",
            "同一粒度出现多行说明模型连接产生了重复，请检查 dbt 模型后重新构建", "粒度重复",
            value_columns=columns,
        ))


def _quarter_window_zh() -> str:
    return f"本季度结束后{REPORT_WINDOW_DAYS}天"


# --- raw suites ---


def _regions() -> FrameSuite:
    b = _Builder("raw", "regions")
    b.exists(*LINEAGE, "region_code", "region_name", "region_level", "parent_code", "population")
    b.not_null("region_code", "region_name", "region_level")
    b.regex("region_code", REGION_CODE_REGEX, "12位数字（不足12位在后面补0）")
    b.in_set("region_level", REGION_LEVELS)
    # Population only feeds 立案万人比: a 0 makes that ratio undefined but nothing else wrong.
    b.between("population", 0, None, severity=WARNING, strict_min=True, range_zh="大于0",
              fix_zh=f"常住人口应为大于0的人数，不清楚时可留空；{RESUBMIT}")
    b.resolves("parent_code", "parent_code_ref", "行政区划表", severity=WARNING,
               fix_zh="请核对“上级代码”，或先补报上级区划，再重新报送本表")
    b.unique(("region_code",), "行政区划表", severity=WARNING,
             fix_zh="同一区划代码出现在多个现行文件中，系统取最后入库的一行；请确认名称、层级一致，删除多余的行")
    return FrameSuite("raw.regions", "raw.regions", "raw", tuple(b.checks), LINEAGE)


def _departments() -> FrameSuite:
    b = _Builder("raw", "departments")
    b.exists(*LINEAGE, "dept_code", "dept_name", "short_name", "aliases")
    b.not_null("dept_code", "dept_name")
    b.unique(("dept_code",), "部门单位表", severity=WARNING,
             fix_zh="同一单位编码出现在多个现行文件中，系统取最后入库的一行；请确认名称一致，删除多余的行")
    return FrameSuite("raw.departments", "raw.departments", "raw", tuple(b.checks), LINEAGE)


def _tasks() -> FrameSuite:
    b = _Builder("raw", "tasks")
    b.exists(*LINEAGE, "task_code", "task_name", "lead_unit_name", "owner_code", "owner_group", "deadline", "issued_date")
    b.not_null("task_code", "task_name", "lead_unit_name", "owner_code", "owner_group")
    b.in_set("owner_group", BODY_GROUPS, allowed_zh="部门（department）或县区（county）")
    b.resolves("owner_code", "owner_code_ref", "部门单位表或县级区划",
               fix_zh="“牵头单位”应是部门单位表中的单位或一个县区；请改用规范名称，或先补报部门单位表")
    b.unique(("task_code",), "现行重点任务清单", severity=WARNING,
             fix_zh="同一任务编号出现在多个现行清单文件中；请确认以哪份清单为准，删除重复的任务")
    b.not_before("deadline", "issued_date", "下达日期", fix_zh=f"完成时限早于下达日期，请核对两个日期，{RESUBMIT}")
    return FrameSuite("raw.tasks", "raw.tasks", "raw", tuple(b.checks), LINEAGE)


def _task_progress() -> FrameSuite:
    b = _Builder("raw", "task_progress")
    b.exists(*LINEAGE, "task_code", "owner_code", "quarter", "status", "progress_pct", "evidence_count", "report_date")
    b.not_null("task_code", "owner_code", "quarter", "status")
    b.regex("quarter", QUARTER_REGEX, "“2025Q1”或“2025年第一季度”这样的季度")
    b.in_set("status", TASK_STATUSES)
    b.between("progress_pct", 0, 100, fix_zh=f"完成进度应为0-100之间的数字（可写80、80%或0.8），{RESUBMIT}")
    b.between("evidence_count", 0, None, fix_zh=f"佐证材料件数应为不小于0的整数，{RESUBMIT}")
    b.resolves("task_code", "task_code_ref", "现行重点任务清单",
               fix_zh="任务编号须与市里下发的重点任务清单一致；请核对编号，或请清廉办先更新任务清单")
    b.resolves("owner_code", "owner_code_ref", "部门单位表或县级区划",
               fix_zh="“牵头单位”应写部门单位表中的单位或县区的规范名称，请改正后重新报送")
    b.unique(("quarter", "task_code"), "同一季度", fix_zh=(
        "同一任务在同一季度被报送了多次（可能由不同单位在不同文件中报送）；请确认由牵头单位报送一次，删除其余行"))
    b.not_before("report_date", "quarter_start", "本季度第一天", suffix="in_quarter_window_start",
                 fix_zh=f"填报日期早于本季度开始，可能季度或日期填错了，请核对，{RESUBMIT}")
    b.not_after("report_date", "report_date_limit", _quarter_window_zh(), suffix="in_quarter_window_end",
                fix_zh=f"填报日期晚于本季度结束后{REPORT_WINDOW_DAYS}天，可能季度或日期填错了，请核对，{RESUBMIT}")
    return FrameSuite("raw.task_progress", "raw.task_progress", "raw", tuple(b.checks), LINEAGE)


def _units() -> FrameSuite:
    b = _Builder("raw", "units")
    b.exists(*LINEAGE, "unit_code", "unit_type", "region_code", "stage", "stage_level", "quarter", "score", "assessed_date")
    b.not_null("unit_code", "unit_type", "region_code", "stage", "stage_level", "quarter")
    b.regex("quarter", QUARTER_REGEX, "“2025Q1”或“2025年第一季度”这样的季度")
    b.in_set("unit_type", UNIT_TYPES)
    b.in_set("stage", UNIT_STAGES)
    b.in_set("stage_level", (0, 1, 2, 3), allowed_zh="0-3", suffix="level_in_set")
    b.equals("stage_level", "stage_level_expected",
             "检查清廉单元创建台账的创建阶段与阶段等级一致（未启动0、创建中1、已达标2、示范3）",
             "阶段等级由入库程序按创建阶段换算，不一致说明入库程序有误，请联系数据管理员",
             "创建阶段与阶段等级不一致", shown=("stage", "stage_level"))
    # 评估得分 feeds no KPI, so a bad score is reported but does not hold the bulletin back.
    b.between("score", 0, 100, severity=WARNING, fix_zh=f"评估得分应为0-100之间的数字，{RESUBMIT}")
    b.resolves("region_code", "region_code_ref", "行政区划表",
               fix_zh="“所属区划”应填12位区划代码或规范的区划名称；请改正，或先补报行政区划表")
    b.unique(("quarter", "unit_code"), "同一季度", fix_zh=(
        "同一单元编码在同一季度出现了多次（可能由不同县区在不同文件中报送）；请确认单元归属，删除重复行后重新报送"))
    b.not_after("assessed_date", "assessed_date_limit", _quarter_window_zh(), suffix="in_quarter_window_end")
    return FrameSuite("raw.units", "raw.units", "raw", tuple(b.checks), LINEAGE)


def _inspections() -> FrameSuite:
    b = _Builder("raw", "inspections")
    b.exists(*LINEAGE, "issue_code", "inspected_body", "body_dept_code", "region_code", "found_date", "deadline",
             "status", "completed_date", "quarter")
    b.not_null("issue_code", "inspected_body", "deadline", "status", "quarter")
    b.regex("quarter", QUARTER_REGEX, "“2025Q1”或“2025年第一季度”这样的季度")
    b.in_set("status", RECTIFICATION_STATUSES)
    b.resolves("region_code", "region_code_ref", "行政区划表")
    b.resolves("body_dept_code", "body_dept_code_ref", "部门单位表")
    # An issue with neither a department nor a region is left out of every rectification KPI.
    b.add(Check(
        "raw.inspections.attribution_code.not_null", "not_null", gxe.ExpectColumnValuesToNotBeNull,
        {"column": "attribution_code"}, WARNING, "inspected_body",
        "检查巡察整改台账每个问题都能归属到一个部门（被巡察单位）或一个区划（所属区划）",
        f"请把“被巡察单位”写成部门单位表中的规范名称，或填写“所属区划”，{RESUBMIT}",
        "问题无法归属到部门或区划", value_columns=("inspected_body",), needs=("attribution_code",),
    ))
    b.unique(("quarter", "issue_code"), "同一季度台账", fix_zh=(
        "同一问题编号在同一季度台账中出现了多次（可能在不同文件中）；请确认问题编号，删除重复行后重新报送"))
    b.not_after("found_date", "quarter_end", "台账季度最后一天", suffix="not_after_quarter_end")
    b.not_after("completed_date", "completed_date_limit", f"台账季度结束后{REPORT_WINDOW_DAYS}天", suffix="in_quarter_window_end")
    b.not_before("completed_date", "found_date", "发现日期")
    b.not_before("deadline", "found_date", "发现日期")
    b.add(Check(
        "raw.inspections.completed_date.required_when_rectified", "consistency", gxe.ExpectColumnValuesToNotBeNull,
        {"column": "completed_date", "row_condition": Column("status") == "已整改"},
        WARNING, "completed_date", "检查整改状态为“已整改”的问题都填写了完成日期",
        f"已整改的问题请补填“完成日期”（没有日期不计入整改完成率），{RESUBMIT}", "已整改但未填完成日期",
        value_columns=("status",), needs=("status",),
    ))
    return FrameSuite("raw.inspections", "raw.inspections", "raw", tuple(b.checks), LINEAGE)


def _survey_responses() -> FrameSuite:
    b = _Builder("raw", "survey_responses")
    b.exists(*LINEAGE, "response_id", "wave", "region_code", "respondent_type", "survey_mode")
    b.not_null("response_id", "wave", "region_code")
    b.regex("wave", r"^\d{4}$", "4位年份（如2025年度写2025）")
    b.in_set("respondent_type", RESPONDENT_TYPES)
    b.in_set("survey_mode", SURVEY_MODES)
    b.resolves("region_code", "region_code_ref", "行政区划表")
    b.unique(("wave", "response_id"), "同一测评批次", fix_zh=(
        "同一问卷编号在同一测评批次中出现了多次（可能在不同文件中）；请给每份问卷唯一编号，删除重复问卷后重新报送"))
    return FrameSuite("raw.survey_responses", "raw.survey_responses", "raw", tuple(b.checks), LINEAGE)


def _survey_answers() -> FrameSuite:
    b = _Builder("raw", "survey_answers")
    b.exists(*LINEAGE, "response_id", "question", "answer", "answer_code")
    b.not_null("response_id", "question", "answer", "answer_code")
    b.regex("question", r"^Q\d+$", "Q加题号（如Q1、Q2）")
    b.in_set("answer", tuple(SURVEY_ANSWERS))
    b.in_set("answer_code", (0, 1, 2, 3, 4, 5), allowed_zh="0-5（5很满意…1很不满意，0不了解）", suffix="code_in_set")
    b.equals("answer_code", "answer_code_expected",
             "检查满意度问卷答案与答案分值一致（很满意5、满意4、基本满意3、不满意2、很不满意1、不了解0）",
             "答案分值由入库程序换算，不一致说明入库程序有误，请联系数据管理员",
             "答案与分值不一致", shown=("answer", "answer_code"))
    b.resolves("response_id", "response_id_ref", "同一文件的受访者信息",
               fix_zh="答题行找不到对应的问卷（受访者信息被拒收或缺失）；请补全该问卷的所属区划等信息后重新报送")
    b.unique(("wave", "response_id", "question"), "同一测评批次的同一问卷", fix_zh=(
        "同一问卷的同一题出现了多个答案；请删除重复的问卷行后重新报送"))
    return FrameSuite("raw.survey_answers", "raw.survey_answers", "raw", tuple(b.checks), LINEAGE)


def _cases() -> FrameSuite:
    b = _Builder("raw", "cases")
    b.exists(*LINEAGE, "region_code", "quarter", "scope", *CASE_FIGURES)
    b.not_null("region_code", "quarter", "scope")
    b.regex("quarter", QUARTER_REGEX, "“2025年1-6月”或“2025Q2”这样的统计期")
    b.in_set("scope", CASE_SCOPES)
    for col in CASE_FIGURES:
        b.between(col, 0, None, fix_zh=f"“{b.label(col)}”应为不小于0的数，{RESUBMIT}")
    b.resolves("region_code", "region_code_ref", "行政区划表")
    b.unique(("quarter", "region_code"), "同一统计期", fix_zh=(
        "同一区划同一统计期报送了多行（可能在不同文件中，或同时报了累计和当季）；请只保留一行后重新报送"))
    # DESIGN §4: a year-to-date figure that goes down is a data error, not a negative increment.
    # The marts already null that increment and flag it (int_cases__quarterly.ytd_decrease), so
    # one county's slip is a warning to fix, not a reason to hold back the whole city's bulletin.
    b.add(Check(
        "raw.cases.ytd_decreases.ytd_monotonic", "ytd", gxe.ExpectColumnValuesToBeBetween,
        {"column": "ytd_decreases", "min_value": 0, "max_value": 0}, WARNING, "ytd_decreases",
        "检查监督执纪统计的累计数在同一年内不减少（本期累计数不小于上期累计数）",
        f"累计数比上一期小：请核对本期和上期报表，改正填错的一期（累计数应包含以前各季度），{RESUBMIT}",
        "累计数比上期减少", value_columns=("ytd_decrease_detail",),
    ))
    return FrameSuite("raw.cases", "raw.cases", "raw", tuple(b.checks), LINEAGE)


RAW_TABLES: tuple[str, ...] = ("regions", "departments", "tasks", "task_progress", "units", "inspections",
                               "survey_responses", "survey_answers", "cases")

# DESIGN §3 source folders -> raw tables ("surveys" loads two tables).
SOURCE_TABLES: dict[str, tuple[str, ...]] = {
    "regions": ("regions",), "departments": ("departments",), "tasks": ("tasks",),
    "task_progress": ("task_progress",), "units": ("units",), "inspections": ("inspections",),
    "surveys": ("survey_responses", "survey_answers"), "cases": ("cases",),
}


def raw_suites() -> dict[str, FrameSuite]:
    """One suite per raw table, keyed by table name."""
    return {s.table: s for s in (_regions(), _departments(), _tasks(), _task_progress(), _units(), _inspections(),
                                 _survey_responses(), _survey_answers(), _cases())}


# --- marts: presence only ---
# The marts are guarded by dbt (enforced model contracts and data tests on every build: rates in
# [0, 1], numerator <= denominator, flag counts from the rules, every body ranked, grades, the
# composite = Σ contributions); a failing dbt test fails the build and nothing is published.
# Great Expectations guards what comes in (raw). Before publishing, the gate only confirms that
# every DESIGN §7 table is there with its contract columns.


MART_COLUMNS: dict[str, tuple[str, ...]] = {
    "kpi_task_progress": ("owner_code", "owner_group", "quarter", "tasks_active", "tasks_on_schedule", "on_schedule_rate",
                          "tasks_due", "tasks_completed", "completion_rate", "reports_due", "reports_on_time",
                          "timeliness_rate"),
    "kpi_unit_coverage": ("region_code", "region_level", "unit_type", "quarter", "units_registered", "units_started",
                          "units_standard", "units_model", "coverage_rate", "start_rate", "model_rate"),
    "kpi_rectification": ("body_code", "body_group", "quarter", "issues_due", "issues_rectified", "rectification_rate",
                          "issues_on_time", "on_time_rate", "overdue_open", "max_days_overdue"),
    "kpi_satisfaction": ("region_code", "wave", "respondents", "valid_answers", "satisfied_answers", "satisfaction_rate",
                         "rate_ci_low", "rate_ci_high", "satisfaction_index", "index_ci_low", "index_ci_high",
                         "sample_sufficient"),
    "kpi_cases": ("region_code", "quarter", "petitions", "clues", "talks", "cases_filed", "punished", "form1", "form2",
                  "form3", "form4", "form1_share", "cases_per_10k", "detained", "transferred", "recovered_10k_yuan"),
    "scorecard_quarterly": ("body_group", "body_code", "body_name", "quarter", "composite_score", "rank", "flag", "veto",
                            "talk_required", "margin", "near_tie", "missing_indicators", "rules_version",
                            "task_score", "coverage_score", "rectification_score", "timeliness_score",
                            "satisfaction_score"),
    "assessment_annual": ("body_group", "body_code", "body_name", "year", "annual_score", "rank", "grade", "red_flags",
                          "snails", "veto", "rules_version"),
}

def mart_suites(columns_by_table: Mapping[str, tuple[str, ...]]) -> dict[str, FrameSuite]:
    """One presence suite per DESIGN §7 table: the table and its contract columns exist."""
    suites: dict[str, FrameSuite] = {}
    for table, columns in MART_COLUMNS.items():
        b = _Builder("marts", table)
        b.exists(*columns)
        suites[table] = FrameSuite(f"marts.{table}", f"marts.{table}", "marts", tuple(b.checks), (), columns)
    return suites
