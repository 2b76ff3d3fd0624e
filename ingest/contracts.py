"""The 填报 contract of DESIGN.md §3: which columns each source has, their aliases and types.

Header cells are matched after `text.header_key` normalisation (NFKC, no spaces or line
breaks, no bracketed units), so aliases here are written in that normalised form.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

Kind = Literal["text", "code", "int", "float", "pct", "date", "enum", "quarter", "bool", "region", "owner"]

SOURCES: tuple[str, ...] = (
    "regions",
    "departments",
    "tasks",
    "task_progress",
    "units",
    "inspections",
    "surveys",
    "cases",
)

SOURCE_LABELS: dict[str, str] = {
    "regions": "行政区划",
    "departments": "部门单位",
    "tasks": "重点任务清单",
    "task_progress": "重点任务推进台账",
    "units": "清廉单元创建台账",
    "inspections": "巡察整改台账",
    "surveys": "群众满意度测评",
    "cases": "监督执纪统计",
}

# Reference data must be loaded before the sources whose names resolve against it.
LOAD_ORDER = {name: i for i, name in enumerate(SOURCES)}
REFERENCE_SOURCES = frozenset({"regions", "departments", "tasks"})

TASK_STATUSES = ("已完成", "按序推进", "滞后", "未启动")
UNIT_TYPES = ("机关", "学校", "医院", "企业", "工程", "村居")
UNIT_STAGES = ("未启动", "创建中", "已达标", "示范")
RECTIFICATION_STATUSES = ("未整改", "整改中", "已整改")
REGION_LEVELS = ("省", "市", "县", "乡", "村")
RESPONDENT_TYPES = ("群众", "企业", "党员干部", "服务对象")
SURVEY_MODES = ("电话", "网络", "入户")
CASE_SCOPES = ("累计", "当季")
SURVEY_ANSWERS = {"很满意": 5, "满意": 4, "基本满意": 3, "不满意": 2, "很不满意": 1, "不了解": 0}

# Columns that identify a person: never loaded (DESIGN §3, surveys).
PERSONAL_DATA_HEADERS = frozenset(
    {"姓名", "受访者姓名", "手机号", "手机号码", "手机", "联系电话", "电话号码", "身份证号", "身份证号码", "身份证", "家庭住址", "住址"}
)


@dataclass(frozen=True)
class Field:
    name: str  # raw-table column
    label: str  # canonical Chinese header, used in messages and templates
    kind: Kind
    aliases: tuple[str, ...] = ()
    required: bool = False
    choices: tuple[str, ...] = ()
    # Synonyms accepted for enumeration values, mapped to the canonical value.
    synonyms: dict[str, str] = field(default_factory=dict)
    min_value: float | None = None
    max_value: float | None = None
    note: str = ""  # shown in the template's instructions sheet

    @property
    def keys(self) -> tuple[str, ...]:
        return (self.label, *self.aliases)


@dataclass(frozen=True)
class Contract:
    source: str
    fields: tuple[Field, ...]
    # Header keys that must all be present for a sheet to count as this source.
    signature: tuple[str, ...]
    # Survey files carry one column per question; matched by pattern, not by name.
    question_columns: bool = False

    def field(self, name: str) -> Field:
        for f in self.fields:
            if f.name == name:
                return f
        raise KeyError(name)


def _f(name: str, label: str, kind: Kind, *aliases: str, **kw: object) -> Field:
    return Field(name=name, label=label, kind=kind, aliases=tuple(aliases), **kw)  # type: ignore[arg-type]


CONTRACTS: dict[str, Contract] = {
    "regions": Contract(
        "regions",
        (
            _f("region_code", "区划代码", "code", "代码", "行政区划代码", "统计用区划代码", required=True),
            _f("region_name", "区划名称", "text", "名称", "行政区划名称", required=True),
            _f("region_level", "层级", "enum", "级别", "区划层级", required=True, choices=REGION_LEVELS,
               synonyms={"省级": "省", "市级": "市", "县级": "县", "区": "县", "县区": "县", "乡镇": "乡",
                         "镇": "乡", "街道": "乡", "乡级": "乡", "村级": "村", "社区": "村", "村居": "村"}),
            _f("parent_code", "上级代码", "code", "上级区划代码", "上级区划"),
            _f("population", "常住人口", "int", "人口", "常住人口数", min_value=0),
            _f("note", "备注", "text", "说明"),
        ),
        signature=("区划代码", "区划名称"),
    ),
    "departments": Contract(
        "departments",
        (
            _f("dept_code", "单位编码", "code", "编码", "部门编码", "单位代码", required=True),
            _f("dept_name", "单位名称", "text", "全称", "部门名称", "单位全称", required=True),
            _f("short_name", "简称", "text", "单位简称"),
            _f("aliases", "别名", "text", "其他名称", "曾用名"),
        ),
        signature=("单位编码", "单位名称"),
    ),
    "tasks": Contract(
        "tasks",
        (
            _f("task_code", "任务编号", "code", "编号", "序号", required=True),
            _f("task_name", "任务名称", "text", "重点任务", "工作任务", "任务内容", required=True),
            _f("area", "所属领域", "text", "领域", "类别"),
            _f("lead_unit_name", "牵头单位", "owner", "牵头部门", required=True),
            _f("co_units", "责任单位", "text", "配合单位", "责任部门"),
            _f("deadline", "完成时限", "date", "时间节点", "完成时间"),
            _f("acceptance_standard", "验收标准", "text", "评估验收标准"),
            _f("responsible_person", "责任人", "text"),
            _f("issued_date", "下达日期", "date", "下达时间", "启动日期"),
        ),
        signature=("任务编号", "任务名称", "牵头单位"),
    ),
    "task_progress": Contract(
        "task_progress",
        (
            _f("task_code", "任务编号", "code", "编号", required=True),
            _f("task_name", "任务名称", "text", "重点任务", "工作任务"),
            _f("reporter_name", "牵头单位", "owner", "填报单位", "牵头部门", required=True),
            _f("quarter", "季度", "quarter", "报告期", "填报季度", "所属季度"),
            _f("status", "推进状态", "enum", "进展情况", "进展状态", "完成情况", required=True,
               choices=TASK_STATUSES,
               synonyms={"完成": "已完成", "已办结": "已完成", "正常推进": "按序推进", "按时序推进": "按序推进",
                         "序时推进": "按序推进", "进度滞后": "滞后", "推进滞后": "滞后", "尚未启动": "未启动"}),
            _f("progress_pct", "完成进度", "pct", "进度", "完成进度%", "完成比例", min_value=0, max_value=100,
               note="0-100 的数字，可写 80、80% 或 0.8"),
            _f("progress_text", "工作进展", "text", "进展情况说明", "工作推进情况"),
            _f("problems", "存在问题", "text", "困难问题"),
            _f("next_steps", "下步计划", "text", "下一步计划", "下步工作计划"),
            _f("evidence_count", "佐证材料", "int", "佐证材料件", "佐证材料数", min_value=0),
            _f("report_date", "填报日期", "date", "报送日期"),
        ),
        signature=("任务编号", "推进状态"),
    ),
    "units": Contract(
        "units",
        (
            _f("unit_code", "单元编码", "code", "编码", "单位编码", required=True),
            _f("unit_name", "单元名称", "text", "名称", "单位名称"),
            _f("unit_type", "单元类型", "enum", "类别", "类型", required=True, choices=UNIT_TYPES,
               synonyms={"清廉机关": "机关", "清廉学校": "学校", "清廉医院": "医院", "清廉企业": "企业",
                         "清廉工程": "工程", "清廉村居": "村居", "村(社区)": "村居", "村社区": "村居"}),
            _f("region_input", "所属区划", "region", "区划代码", "所在区划", "区划", required=True),
            _f("stage", "创建阶段", "enum", "创建状态", "创建情况", required=True, choices=UNIT_STAGES,
               synonyms={"未开始": "未启动", "创建": "创建中", "正在创建": "创建中", "达标": "已达标",
                         "示范单元": "示范", "示范点": "示范"}),
            _f("score", "评估得分", "float", "得分", "评估分数", min_value=0, max_value=100),
            _f("assessed_date", "评估日期", "date", "截至日期", "截止日期"),
        ),
        signature=("单元编码", "单元类型", "创建阶段"),
    ),
    "inspections": Contract(
        "inspections",
        (
            _f("issue_code", "问题编号", "code", "编号", required=True),
            _f("inspection_round", "巡察轮次", "text", "轮次", "巡察批次"),
            _f("inspected_body", "被巡察单位", "text", "被巡察党组织", required=True),
            _f("region_input", "所属区划", "region", "区划", "区划代码"),
            _f("category", "问题类别", "text", "问题类型", "类别"),
            _f("description", "问题描述", "text", "问题表现", "具体问题"),
            _f("found_date", "发现日期", "date", "发现时间"),
            _f("deadline", "整改时限", "date", "整改期限", "整改截止日期", required=True),
            _f("status", "整改状态", "enum", "整改情况", "整改进度", required=True, choices=RECTIFICATION_STATUSES,
               synonyms={"未完成": "未整改", "尚未整改": "未整改", "正在整改": "整改中", "完成整改": "已整改",
                         "已完成": "已整改", "整改完成": "已整改"}),
            _f("completed_date", "完成日期", "date", "整改完成日期", "完成时间"),
            _f("closed", "是否销号", "bool", "销号"),
            _f("responsible_person", "责任人", "text"),
        ),
        signature=("问题编号", "被巡察单位", "整改状态"),
    ),
    "surveys": Contract(
        "surveys",
        (
            _f("response_id", "问卷编号", "code", "编号", "样本编号", required=True),
            _f("wave", "测评批次", "quarter", "年度", "测评年度", "批次"),
            _f("region_input", "所属区划", "region", "区划", "区划代码", "所在区划", required=True),
            _f("respondent_type", "受访者类型", "enum", "受访对象", "对象类型", choices=RESPONDENT_TYPES,
               synonyms={"普通群众": "群众", "企业代表": "企业", "党员": "党员干部", "干部": "党员干部"}),
            _f("survey_mode", "调查方式", "enum", "测评方式", "方式", choices=SURVEY_MODES,
               synonyms={"电话调查": "电话", "网络调查": "网络", "网上": "网络", "入户调查": "入户", "面访": "入户"}),
        ),
        signature=("问卷编号", "所属区划"),
        question_columns=True,
    ),
    "cases": Contract(
        "cases",
        (
            _f("region_input", "所属区划", "region", "区划", "地区", "单位", "县区", required=True),
            _f("period_label", "统计期", "quarter", "统计期间", "统计时段", "期间"),
            _f("scope", "统计口径", "enum", "口径", choices=CASE_SCOPES,
               synonyms={"年度累计": "累计", "累计数": "累计", "本季": "当季", "当季度": "当季", "季度": "当季"}),
            _f("petitions", "信访举报", "int", "信访举报件次", min_value=0),
            _f("clues", "处置问题线索", "int", "问题线索", "处置线索", min_value=0),
            _f("talks", "谈话函询", "int", "谈话函询件次", min_value=0),
            _f("cases_filed", "立案", "int", "立案数", "立案件", min_value=0),
            _f("punished", "处分", "int", "处分人数", "处分人", min_value=0),
            _f("form1", "第一种形态", "int", "第一种", "一", min_value=0),
            _f("form2", "第二种形态", "int", "第二种", "二", min_value=0),
            _f("form3", "第三种形态", "int", "第三种", "三", min_value=0),
            _f("form4", "第四种形态", "int", "第四种", "四", min_value=0),
            _f("detained", "留置", "int", "留置人数", min_value=0),
            _f("transferred", "移送检察机关", "int", "移送司法", "移送检察机关人数", min_value=0),
            _f("recovered_10k_yuan", "挽回经济损失", "float", "挽回经济损失万元", "挽回损失", min_value=0),
        ),
        signature=("所属区划", "立案"),
    ),
}
