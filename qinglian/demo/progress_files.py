"""task_progress/: one report per lead department and per county each quarter, in five layouts.

Layouts (rotating): 0 title + 填报单位 line, period from the title; 1 no title, 报告期 and
报送日期 columns with header aliases; 2 two-row header "推进情况" over 推进状态/完成进度/工作进展,
季度 column, a 汇总 sheet first, blank rows; 3 full-width header brackets, stray spaces, ８０％;
4 CSV (UTF-8, GBK or UTF-8 with BOM) with title rows.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from qinglian.demo.emitter import BadCell, Emitter, Meta
from qinglian.demo.messy import Row, Sheet, cn_date, fmt_date, fmt_pct, fullwidth, submitter_line
from qinglian.demo.quarters import Quarter
from qinglian.demo.reference import Programme
from qinglian.demo.simulate import TASK_STATUSES, ProgressReport
from qinglian.demo.spelling import spaced, wrapped

_FOOTERS = ["填表人：{p}　　审核人：{q}", "联系电话：0916-2{n:06d}"]


@dataclass(frozen=True)
class Plant:
    """A bad cell planted in one report: which row (by status) and what it says."""

    column: str
    value: str


def _names(prog: Programme, report: ProgressReport, i: int) -> tuple[str, str, str]:
    """(submitter as shown in the title, 牵头单位 as written in rows, file-name stem)."""
    if report.owner.startswith("D"):
        d = prog.dept(report.owner)
        return d.short, d.spellings[i % len(d.spellings)], d.short
    county = prog.by_code[report.owner]
    return county.name, county.name, county.name


def _footers(i: int) -> list[str]:
    return [_FOOTERS[0].format(p="王" + "明芳强静"[i % 4], q="李" + "军华丽平"[i % 4]), _FOOTERS[1].format(n=(i * 7919) % 1_000_000)]


def build_sheet(prog: Programme, report: ProgressReport, layout: int, i: int, plant: Plant | None = None,
                period_missing: bool = False, report_date: date | None = None) -> tuple[Sheet, list[BadCell], list[Sheet]]:
    """The data sheet of one report (plus any 汇总 sheet that goes first) and its planted bad cells."""
    q: Quarter = report.quarter
    shown, lead, _ = _names(prog, report, i)
    rd = report_date or report.report_date
    title = f"{prog.place}{q.year}年{q.cn}清廉建设重点任务推进情况台账"
    bad: list[BadCell] = []
    planted = False

    def maybe_plant(row_cells: list, status: str, col: int, lead_col: int) -> str | None:
        nonlocal planted
        if plant is None or planted or status in ("已完成", "未启动"):
            return None
        planted = True
        if plant.column == "完成进度":
            row_cells[col] = plant.value
        else:
            row_cells[lead_col] = plant.value
        bad.append(BadCell("plant", plant.column, plant.value))
        return "plant"

    rows: list[Row] = []
    before: list[Sheet] = []
    if layout == 1:
        header = ["编号", "重点任务", "填报单位", "报告期", "进展情况", wrapped("完成进度"), "工作推进情况", "困难问题", "下一步计划", "佐证材料数", "报送日期"]
        date_style = ("iso", "slash", "dot", "cn", "excel")[i % 5]
        for r in report.rows:
            cells = [r.task.code, r.task.name, lead, f"{q.year}年{q.cn}", r.status, fmt_pct(r.pct, "percent"), r.text, r.problem,
                     r.plan, r.evidence, fmt_date(rd, date_style)]
            rows.append(Row("data", cells, maybe_plant(cells, r.status, 5, 2)))
        sheet = Sheet("Sheet1", header=[header], rows=rows, widths={1: 40, 6: 40})
        return sheet, bad, before
    if layout == 2:
        top = ["任务编号", "任务名称", "牵头单位", "季度", "推进情况", None, None, "存在问题", "下步计划", "佐证材料（件）"]
        sub = [None, None, None, None, "推进状态", "完成进度", "工作进展", None, None, None]
        merges = [(0, c, 1, c) for c in (0, 1, 2, 3, 7, 8, 9)] + [(0, 4, 0, 6)]
        for k, r in enumerate(report.rows):
            if k and k % 15 == 0:
                rows.append(Row("blank"))
            cells = [r.task.code, r.task.name, lead, q.key, r.status, fmt_pct(r.pct, "fraction"), r.text, r.problem, r.plan, r.evidence]
            rows.append(Row("data", cells, maybe_plant(cells, r.status, 5, 2)))
        sheet = Sheet("推进台账", header=[top, sub], header_merges=merges, rows=rows,
                      titles=[title, submitter_line(shown, rd)], footers=_footers(i), widths={1: 40, 6: 40})
        counts = [sum(1 for r in report.rows if r.status == s) for s in TASK_STATUSES]
        before.append(Sheet("汇总", header=[["推进状态", "任务数"]], is_data=False,
                            rows=[Row("data", [s, c]) for s, c in zip(TASK_STATUSES, counts, strict=True)] + [Row("total", ["合计", sum(counts)])]))
        return sheet, bad, before
    # Layouts 0, 3 and 4 share the canonical column order; 3 adds full-width and stray spaces.
    if layout == 3:
        header = [" 任务编号", "任务名称", spaced("牵头单位"), "推进状态", "完成进度（％）", "工作进展", "存在问题", "下步计划", "佐证材料（件）"]
        pct_style = "fw_digits"
    else:
        header = ["任务编号", "任务名称", "牵头单位", "推进状态", "完成进度(%)", "工作进展", "存在问题", "下步计划", "佐证材料(件)"]
        pct_style = "number" if layout == 0 else "fw_percent"
    for r in report.rows:
        cells = [r.task.code, r.task.name, lead, r.status, fmt_pct(r.pct, pct_style), r.text, r.problem, r.plan, r.evidence]
        rows.append(Row("data", cells, maybe_plant(cells, r.status, 4, 2)))
    if period_missing:
        titles = [f"{shown}清廉建设重点任务推进情况台账", submitter_line(shown, rd)]
    elif layout == 3:
        titles = [f"{shown}{fullwidth(str(q.year))}年{q.cn}重点任务推进情况", f"填报单位：{shown}  填报日期：{cn_date(rd)}"]
    else:
        titles = [title, submitter_line(shown, rd)]
    sheet = Sheet("推进情况", header=[header], rows=rows, titles=titles, footers=_footers(i) if layout != 4 else [],
                  validations={3: list(TASK_STATUSES)} if layout == 0 else {}, widths={1: 40, 5: 40})
    if plant is not None and not planted:  # pragma: no cover - every planted report has an open task
        raise RuntimeError("no row to plant into")
    return sheet, bad, before


_PROSE = {"填表说明": ["1. 推进状态只能填写：已完成、按序推进、滞后、未启动。", "2. 完成进度填写0-100之间的数字。",
                   "3. 请于每季度结束后10日内报送市清廉办。"]}


def write_report(em: Emitter, prog: Programme, report: ProgressReport, i: int, *, plant: Plant | None = None,
                 suffix: str = "", report_date: date | None = None, period_missing: bool = False, layout: int | None = None,
                 supersedes: str | None = None, outcome: str | None = None, notes: list[str] | None = None) -> str:
    q = report.quarter
    layout = em.variant("task_progress", i, 5) if layout is None else layout
    sheet, bad, before = build_sheet(prog, report, layout, i, plant, period_missing, report_date)
    shown, _, stem = _names(prog, report, i)
    period = None if period_missing else q.key
    meta = Meta("task_progress", shown, period, bad, outcome=outcome, supersedes=supersedes, notes=notes or [])
    kind = "重点任务推进台账" if report.owner.startswith("D") else "县级任务推进台账"
    if period_missing:
        name = f"{stem}_推进台账{suffix}"
    else:
        name = (f"{stem}_{q.key}_{kind}{suffix}", f"{q.year}年{q.cn}{stem}清廉建设任务推进情况{suffix}",
                f"{q.key}-{stem}-推进台账{suffix}")[i % 3]
    if layout == 4:
        encoding = ("utf-8", "gbk", "utf-8-sig")[i % 3]
        rel = f"task_progress/{name}.csv"
        em.csv(rel, sheet, encoding, meta)
    else:
        rel = f"task_progress/{name}.xlsx"
        em.xlsx(rel, [*before, sheet], meta, _PROSE if layout == 0 else None)
    return rel


def write_all(em: Emitter, prog: Programme, reports: dict[tuple[str, str], ProgressReport], quarters: list[Quarter]) -> dict:
    """Every report, with the planted problems of DESIGN §3; returns facts for the manifest truth."""
    late_q = quarters[min(1, len(quarters) - 1)]
    mid_q = quarters[min(2, len(quarters) - 1)]
    planted: dict = {}
    i = 0
    for (owner, qkey), report in sorted(reports.items(), key=lambda kv: (kv[0][1], kv[0][0])):
        if not report.rows:
            continue
        i += 1
        if owner == "D16" and qkey == late_q.key:
            # 一百二十 in 完成进度, then a corrected re-send three days later that supersedes it.
            rel = write_report(em, prog, report, i, plant=Plant("完成进度", "一百二十"), layout=0)
            fixed = write_report(em, prog, report, i, suffix="_更正", layout=0, supersedes=rel,
                                 report_date=report.report_date + timedelta(days=3), notes=["corrected re-send"])
            planted["corrected_resend"] = {"original": rel, "corrected": fixed}
            continue
        if owner == "D20" and qkey == mid_q.key:
            rel = write_report(em, prog, report, i, plant=Plant("牵头单位", "市清廉局"), layout=0 if i % 2 else 3)
            planted["unknown_department"] = rel
            continue
        if owner == "D18" and qkey == mid_q.key:
            # First sent without any period, then properly; the first is rejected.
            rel = write_report(em, prog, report, i, period_missing=True, layout=0, outcome="rejected",
                               notes=["period missing"])
            planted["period_missing"] = rel
        write_report(em, prog, report, i)
    return planted
