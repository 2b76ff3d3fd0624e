"""cases/: discipline-work statistics, year to date for most counties, 当季 for a couple.

In the first, third, ... quarter of the timeline the commission sends one combined file per city
(two-row header with "四种形态" merged over 第一种形态..第四种形态, a 合计 row; the first such file
has a wrong 合计); otherwise each county sends its own one-row file in one of three layouts:
0 xlsx with 统计期 like 2025年1-6月 and header aliases (县区, 第一种 …); 1 CSV GBK with 统计期
2025Q2 and 6-digit codes; 2 xlsx whose period is only in the title (2025年上半年 / 1-9月 / 全年).
Counties in QUARTERLY_CASE_COUNTIES always send their own file with 统计口径 当季.
"""

from __future__ import annotations

from datetime import date

from qinglian.demo.emitter import Emitter, Meta
from qinglian.demo.messy import Row, Sheet, fullwidth, submitter_line
from qinglian.demo.quarters import Quarter
from qinglian.demo.reference import Programme, Region
from qinglian.demo.simulate import CASE_COLUMNS, QUARTERLY_CASE_COUNTIES, CaseSeries
from qinglian.demo.spelling import region_ref

_UNITS = ("件次", "件", "件次", "件", "人", None, None, None, None, "人", "人", "万元")


def _numbers(values: list[float]) -> list:
    return [*(int(v) for v in values[:11]), round(values[11], 1)]


def _title_period(q: Quarter) -> str:
    if q.q == 2:
        return f"{q.year}年上半年"
    if q.q == 4:
        return f"{q.year}年全年"
    return q.ytd_label


def combined(em: Emitter, prog: Programme, city: Region, series: list[CaseSeries], q: Quarter, report: date,
             wrong_total: bool) -> dict | None:
    top = ["序号", "所属区划", *(f"{c}（{u}）" if u else c for c, u in zip(CASE_COLUMNS[:5], _UNITS[:5], strict=True)), "四种形态（人次）",
           None, None, None, "留置（人）", "移送检察机关（人）", "挽回经济损失（万元）"]
    sub = [None, None, None, None, None, None, None, "第一种形态", "第二种形态", "第三种形态", "第四种形态", None, None, None]
    merges = [(0, c, 1, c) for c in (0, 1, 2, 3, 4, 5, 6, 11, 12, 13)] + [(0, 7, 0, 10)]
    rows = []
    totals = [0.0] * 12
    for k, s in enumerate(series):
        values = s.ytd[q.key]
        totals = [a + b for a, b in zip(totals, values, strict=True)]
        style = ("code", "name", "fwcode")[k % 3]
        rows.append(Row("data", [k + 1, region_ref(prog, s.county, style), *_numbers(values)]))
    stated = _numbers(totals)
    stated[11] = round(totals[11], 1)
    note = None
    if wrong_total:
        note = {"column": "立案", "stated": stated[3] + 7, "actual": stated[3]}
        stated[3] += 7
    rows.append(Row("total", ["合计", None, *stated], "total"))
    title = f"{city.name}纪检监察机关监督执纪工作统计表（{q.ytd_label}）"
    sheet = Sheet("统计表", header=[top, sub], header_merges=merges, rows=rows,
                  titles=[title, submitter_line(prog.dept("D01").short, report), "统计口径：累计"],
                  footers=["填表人：陈静　　审核人：周伟", "说明：各项数据均为年度累计数。"], widths={1: 14})
    rel = f"cases/{city.name}监督执纪统计_{q.ytd_label}.xlsx"
    entry, written = em.xlsx(rel, [sheet], Meta("cases", prog.dept("D01").short, q.key,
                                                notes=["wrong 合计 row"] if wrong_total else []))
    if note:
        note |= {"path": rel, "sheet": written[0].sheet, "row": written[0].row_of_tag["total"]}
    return note


def single(em: Emitter, prog: Programme, s: CaseSeries, q: Quarter, i: int, report: date) -> None:
    county = s.county
    quarterly = county.code6 in QUARTERLY_CASE_COUNTIES
    values = s.quarterly[q.key] if quarterly else s.ytd[q.key]
    scope = "当季" if quarterly else "累计"
    layout = em.variant("cases", i, 3)
    if quarterly and layout == 2:
        layout = 0  # a 当季 file states its scope in a column
    meta = Meta("cases", county.name, q.key)
    if layout == 0:
        header = ["县区", "统计期", "统计口径", "信访举报", "问题线索", "谈话函询", "立案数", "处分人数", "第一种", "第二种", "第三种", "第四种",
                  "留置人数", "移送司法", "挽回损失（万元）"]
        label = q.own_label if quarterly else q.ytd_label
        sheet = Sheet("Sheet1", header=[header], rows=[Row("data", [region_ref(prog, county, "name"), label, scope, *_numbers(values)])],
                      titles=[f"{county.name}监督执纪工作统计表", submitter_line(f"{county.name}纪委监委", report)])
        em.xlsx(f"cases/{county.name}_监督执纪统计_{q.key}.xlsx", [sheet], meta)
    elif layout == 1:
        header = ["所属区划", "统计期", "统计口径", *CASE_COLUMNS[:11], "挽回经济损失(万元)"]
        sheet = Sheet(county.name, header=[header], rows=[Row("data", [region_ref(prog, county, "code"), q.key, scope, *_numbers(values)])])
        em.csv(f"cases/{county.name}_{q.key}_监督执纪统计.csv", sheet, "gbk", meta)
    else:
        header = ["地区", *(f"{c}（{u}）" if u else c for c, u in zip(CASE_COLUMNS, _UNITS, strict=True))]
        row = [region_ref(prog, county, "spaced" if i % 2 else "code12"), *_numbers(values)]
        row[-1] = fullwidth(f"{row[-1]}") if i % 2 else row[-1]
        sheet = Sheet("统计", header=[header], rows=[Row("data", row)],
                      titles=[f"{county.name}{_title_period(q)}监督执纪工作情况统计表", submitter_line(f"{county.name}纪委监委", report)],
                      footers=["填表人：孙平"])
        em.xlsx(f"cases/{_title_period(q)}{county.name}监督执纪统计.xlsx", [sheet], meta)


def write_all(em: Emitter, prog: Programme, series: list[CaseSeries], quarters: list[Quarter],
              report_dates: dict[tuple[str, str], date]) -> dict | None:
    wrong = None
    i = 0
    by_city: dict[str, list[CaseSeries]] = {}
    for s in series:
        by_city.setdefault(s.county.parent or "", []).append(s)
    for qi, q in enumerate(quarters):
        for city_code, group in by_city.items():
            city = prog.by_code[city_code]
            rest = [s for s in group if s.county.code6 in QUARTERLY_CASE_COUNTIES]
            ytd = [s for s in group if s.county.code6 not in QUARTERLY_CASE_COUNTIES]
            if qi % 2 == 0 and ytd:
                note = combined(em, prog, city, ytd, q, q.days_after_end(12), wrong is None and city_code.startswith("6107"))
                if note:
                    wrong = note
            else:
                rest = group
            for s in rest:
                i += 1
                single(em, prog, s, q, i, report_dates[(s.county.code, q.key)])
    return wrong
