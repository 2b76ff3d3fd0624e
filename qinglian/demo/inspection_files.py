"""inspections/: each county's cumulative rectification ledger every quarter, plus the city
inspection office's ledger of issues found in departments.

Layouts (rotating): 0 "截至…" title, two-row header with "整改情况" merged over 整改状态/完成日期/
是否销号, Excel dates; 1 quarter in the title, header aliases, rows grouped by region with the
region name merged vertically, dotted dates; 2 CSV (GBK or UTF-8) with 年月日 dates and codes;
3 a 填表说明 and a 汇总 sheet before the data, line breaks in headers, blank rows.
"""

from __future__ import annotations

from datetime import date

from qinglian.demo.emitter import BadCell, Emitter, Meta
from qinglian.demo.messy import Row, Sheet, cn_date, fmt_date, submitter_line
from qinglian.demo.quarters import Quarter
from qinglian.demo.reference import Programme
from qinglian.demo.simulate import Issue
from qinglian.demo.spelling import region_ref, wrapped

_STATUSES = ("未整改", "整改中", "已整改")


def _cells(prog: Programme, issue: Issue, d: date, region_style: str, date_style: str) -> list:
    status, completed, closed = issue.status_at(d)
    region = None if issue.region is None else region_ref(prog, issue.region, region_style)
    return [issue.code, issue.round_name, issue.body, region, issue.category, issue.description, fmt_date(issue.found, date_style),
            fmt_date(issue.deadline, date_style), status, fmt_date(completed, date_style), "是" if closed else "否", issue.person]


def build(prog: Programme, issues: list[Issue], owner: str, prefix: str, q: Quarter, layout: int, report: date, plant: str | None) -> tuple[list[Sheet], dict[str, list[str]] | None, str | None]:
    """(sheets, prose, csv encoding or None)."""
    d = q.end
    shown = [i for i in issues if i.found <= d]
    shown.sort(key=lambda i: (i.found.year, i.round_name, i.region.code if i.region else "", i.code))
    submitter = submitter_line(owner, report)

    def rows(region_style: str, date_style: str, blank_every: int = 0) -> list[Row]:
        out: list[Row] = []
        for k, issue in enumerate(shown):
            if blank_every and k and k % blank_every == 0:
                out.append(Row("blank"))
            cells = _cells(prog, issue, d, region_style, date_style)
            tag = None
            if plant is not None and issue.code == plant:
                cells[6] = "2025-13-45"
                tag = "plant"
            out.append(Row("data", cells, tag))
        return out

    if layout == 0:
        top = ["问题编号", "巡察轮次", "被巡察单位", "所属区划", "问题类别", "问题描述", "发现日期", "整改时限", "整改情况", None, None, "责任人"]
        sub = [None] * 8 + ["整改状态", "完成日期", "是否销号", None]
        merges = [(0, c, 1, c) for c in (0, 1, 2, 3, 4, 5, 6, 7, 11)] + [(0, 8, 0, 10)]
        sheet = Sheet("整改台账", header=[top, sub], header_merges=merges, rows=rows("name", "excel"),
                      titles=[f"{prefix}巡察发现问题整改台账（截至{cn_date(d)}）", submitter],
                      footers=["填表人：赵敏", "联系电话：0916-2600000"], validations={8: list(_STATUSES)},
                      widths={2: 28, 5: 40})
        return [sheet], None, None
    if layout == 1:
        header = ["问题编号", "巡察轮次", "被巡察单位", "所属区划", "问题类型", "问题表现", "发现时间", "整改期限", "整改进度", "整改完成日期",
                  "销号", "责任人"]
        merge = None if plant else 3  # a planted row must not break a merged run's meaning
        sheet = Sheet("Sheet1", header=[header], rows=rows("name", "dot"), merge_column=merge,
                      titles=[f"{prefix}{q.year}年{q.cn}巡察整改情况台账"], widths={2: 28, 5: 40})
        return [sheet], None, None
    if layout == 2:
        header = ["问题编号", "巡察轮次", "被巡察单位", "所属区划", "问题类别", "问题描述", "发现日期", "整改时限", "整改状态", "完成日期",
                  "是否销号", "责任人"]
        sheet = Sheet("台账", header=[header], rows=rows("code", "cn"),
                      titles=[f"{prefix}{q.year}年{q.cn}巡察整改台账", submitter])
        return [sheet], None, "gbk" if len(owner) % 2 else "utf-8"
    header = ["问题编号", "巡察轮次", "被巡察单位", "所属区划", "问题类别", "问题描述", "发现日期", wrapped("整改时限"), "整改状态",
              wrapped("完成日期"), "是否\n销号", "责任人"]
    sheet = Sheet("问题清单", header=[header], rows=rows("code12", "iso", blank_every=25),
                  titles=[f"{prefix}巡察整改台账（{q.year}年{q.cn}）", submitter],
                  footers=["备注：已整改问题经验收后销号。"], widths={2: 28, 5: 40})
    counts = [sum(1 for i in shown if i.status_at(d)[0] == s) for s in _STATUSES]
    summary = Sheet("汇总", header=[["整改状态", "问题数"]], is_data=False,
                    rows=[Row("data", [s, c]) for s, c in zip(_STATUSES, counts, strict=True)] + [Row("total", ["合计", sum(counts)])])
    prose = {"填表说明": ["本台账按问题逐条填写，已销号问题保留。", "整改状态：未整改、整改中、已整改。"]}
    return [summary, sheet], prose, None


def write_all(em: Emitter, prog: Programme, county_issues: dict[str, list[Issue]], dept_issues: list[Issue],
              quarters: list[Quarter], report_dates: dict[tuple[str, str], date]) -> dict:
    planted: dict = {}
    q2 = quarters[min(2, len(quarters) - 1)]
    i = 0
    for q in quarters:
        for county in prog.counties:
            i += 1
            issues = county_issues[county.code]
            layout = em.variant("inspections", i, 4)
            plant = None
            bad: list[BadCell] = []
            if county.code6 == "610725" and q == q2:  # 勉县: an impossible date
                candidates = [x for x in issues if x.found <= q.end and x.region is not None]
                plant = candidates[len(candidates) // 2].code
                bad.append(BadCell("plant", "发现日期", "2025-13-45"))
            owner = f"{county.name}委巡察办"
            sheets, prose, encoding = build(prog, issues, owner, county.name, q, layout, report_dates[(county.code, q.key)], plant)
            stem = (f"{county.name}_巡察整改台账_{q.key}", f"{county.name}{q.year}年{q.cn}巡察整改情况", f"巡察整改_{county.name}_{q.key}")[i % 3]
            meta = Meta("inspections", county.name, q.key, bad)
            rel = f"inspections/{stem}.csv" if encoding else f"inspections/{stem}.xlsx"
            if encoding:
                em.csv(rel, sheets[0], encoding, meta)
            else:
                em.xlsx(rel, sheets, meta, prose)
            if bad:
                planted["impossible_date"] = rel
        office = prog.dept("D05")
        prefix = f"{prog.place[:-1]}{prog.level_word}委巡察市直部门"
        sheets, prose, encoding = build(prog, dept_issues, office.short, prefix, q, (0, 3)[q.q % 2], q.days_after_end(6), None)
        em.xlsx(f"inspections/{office.short}_市直部门巡察整改台账_{q.key}.xlsx", sheets, Meta("inspections", office.short, q.key), prose)
    return planted

