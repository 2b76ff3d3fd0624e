"""regions/, departments/ and tasks/: the reference data the office maintains itself."""

from __future__ import annotations

from qinglian.demo.emitter import Emitter, Meta
from qinglian.demo.messy import Row, Sheet, fmt_date, fullwidth
from qinglian.demo.quarters import Quarter
from qinglian.demo.reference import Programme, Region
from qinglian.demo.spelling import wrapped

_LEVEL_WORD = {"乡": ("街道", "镇", "乡"), "村": ("社区", "村")}


def _level_as_written(r: Region) -> str:
    """Clerks write 镇/街道/社区/区 where the standard says 乡/村/县 (all accepted synonyms)."""
    for word in _LEVEL_WORD.get(r.level, ()):
        if r.name.endswith(word):
            return word
    if r.level == "县" and r.name.endswith("区"):
        return "区"
    return r.level


def write_regions(em: Emitter, prog: Programme) -> None:
    header = ["区划代码", "区划名称", "层级", "上级代码", "常住人口（人）", "备注"]
    rows = []
    for r in prog.regions:
        rows.append(Row("data", [r.code, r.name, _level_as_written(r), r.parent, r.population, "虚构" if r.synthetic else None]))
    sheet = Sheet("区划", header=[header], rows=rows,
                  titles=[f"{prog.place}行政区划代码及常住人口（统计用区划代码，乡村两级为演示虚构数据）"],
                  footers=["备注：常住人口为演示用近似数，乡镇（街道）、村（社区）名称及代码均为虚构。"],
                  widths={0: 16, 1: 18, 3: 16, 4: 12})
    prose = {"填表说明": ["1. 区划代码统一填写12位统计用区划代码。", "2. 层级填写省、市、县（区）、乡（镇、街道）、村（社区）。",
                       "3. 备注栏注明“虚构”的为演示数据。"]}
    em.xlsx(f"regions/{prog.place}行政区划及人口.xlsx", [sheet], Meta("regions", f"{prog.place}清廉办", None), prose)


def write_departments(em: Emitter, prog: Programme) -> None:
    rows = []
    for i, d in enumerate(prog.departments):
        sep = ("、", "、", "、", ";", "、", "、", "、", "；")[i % 8]  # offices mix all three separators
        rows.append(Row("data", [d.code, d.full, d.short, sep.join(d.aliases)]))
    sheet = Sheet("单位名录", header=[["单位编码", "单位名称", "简称", "别名"]], rows=rows,
                  titles=[f"{prog.place}清廉建设牵头（责任）单位名录"],
                  footers=["备注：别名为各单位报送文件中常见的其他写法，用“、”或“；”分隔。"], widths={1: 36, 2: 16, 3: 48})
    em.xlsx(f"departments/{prog.place}清廉建设责任单位名录.xlsx", [sheet], Meta("departments", f"{prog.place}清廉办", None))


def write_tasks(em: Emitter, prog: Programme, start: Quarter) -> None:
    dept_tasks = [t for t in prog.tasks if t.owner_group == "department" and not t.supplementary]
    county_tasks = [t for t in prog.tasks if t.owner_group == "county"]
    extra = [t for t in prog.tasks if t.supplementary]
    rows = []
    for i, t in enumerate(dept_tasks):
        d = prog.dept(t.owner)
        # Mostly the short name; every fifth the full name, every seventh another listed alias.
        lead = d.full if i % 5 == 4 else (d.aliases[0] if i % 7 == 6 else d.short)
        rows.append(Row("data", [i + 1, t.code, t.area, t.name, lead, t.co_units, fmt_date(t.deadline, "excel"), t.standard, t.person]))
    city_sheet = Sheet(
        "市级任务",
        header=[["序号", "任务编号", "所属领域", "重点任务", "牵头单位", "责任单位", wrapped("完成时限"), "验收标准", "责任人"]],
        rows=rows, titles=[f"清廉{prog.place[:-1]}建设{start.year}年度重点任务清单"], merge_column=2,
        widths={2: 18, 3: 50, 5: 30, 6: 12, 7: 30},
    )
    crow: list[Row] = []
    previous = None
    for i, t in enumerate(county_tasks):
        if previous is not None and previous != t.owner:
            crow.append(Row("blank"))  # a clerk's visual break between counties
        previous = t.owner
        crow.append(Row("data", [i + 1, t.code, t.name, t.area, t.lead_name, t.co_units, fmt_date(t.deadline, "cn"), t.standard, t.person]))
    county_sheet = Sheet(
        "县区任务",
        header=[["序号", "编号", "工作任务", "领域", "牵头单位", "配合单位", "时间节点", "评估验收标准", "责任人"]],
        rows=crow, titles=["各县区分解任务"], widths={2: 44, 5: 26},
    )
    prose = {"填表说明": ["本清单由市清廉办汇总下达。", "任务编号“1.1”表示实施意见第1项重点任务的第1项子任务；县区任务编号为县区代码加序号。",
                       "完成时限为该任务应完成的日期。"]}
    em.xlsx(f"tasks/清廉{prog.place[:-1]}建设重点任务清单（{start.year}年）.xlsx", [city_sheet, county_sheet],
            Meta("tasks", f"{prog.place}清廉办", None), prose)
    srows = []
    for t in extra:
        d = prog.dept(t.owner)
        srows.append(Row("data", [t.code, t.name, t.area, d.short, t.co_units, fmt_date(t.deadline, "slash"), t.standard, t.person,
                                  fmt_date(t.issued, "slash")]))
    sheet = Sheet("补充任务", header=[["任务编号", "任务名称", "所属领域", "牵头单位", "责任单位", "完成时限", "验收标准", "责任人", "下达日期"]],
                  rows=srows, titles=[f"{start.year}年度清廉建设补充重点任务清单（年中下达，共{fullwidth(str(len(extra)))}项）"])
    em.csv(f"tasks/{start.year}年补充任务清单.csv", sheet, "utf-8-sig", Meta("tasks", f"{prog.place}清廉办", None))
