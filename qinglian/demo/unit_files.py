"""units/: each county's clean-unit ledger every quarter, in five layouts.

Layouts (rotating): 0 title with the quarter + 填报单位 line, 12-digit codes, Excel dates, a 汇总
sheet with a 合计 row; 1 no period in the title, 截至日期 column (the period comes from it),
region names, header aliases; 2 two data sheets (机关学校医院 / 企业工程村居), 9/6-digit codes,
blank rows, a 合计 row under each; 3 CSV with BOM, no title, period from the latest 评估日期;
4 rows grouped by region with the region name merged vertically, "截至…" in the title.
"""

from __future__ import annotations

import math
from datetime import date, timedelta

from qinglian.demo.emitter import BadCell, Emitter, Meta
from qinglian.demo.messy import Row, Sheet, cn_date, fmt_date, submitter_line
from qinglian.demo.quarters import Quarter
from qinglian.demo.reference import Programme
from qinglian.demo.simulate import UNIT_STAGES, UNIT_TYPES, UnitBook
from qinglian.demo.spelling import region_ref, spaced, wrapped


def _rows(prog: Programme, book: UnitBook, qi: int, q: Quarter, idx: list[int], region_style: str, date_style: str,
          with_seq: bool, as_of: bool, plants: dict[int, tuple[int, str]]) -> list[Row]:
    rows = []
    for k, u in enumerate(idx):
        stage = UNIT_STAGES[int(book.stage[u, qi])]
        score = book.score[u, qi]
        days = int(book.assessed_days[u, qi])
        assessed = q.end if as_of else (None if days < 0 else q.end - timedelta(days=days))
        cells: list = [book.codes[u], book.names[u], book.types[u], region_ref(prog, book.regions[u], region_style), stage,
                       None if math.isnan(score) else float(score), fmt_date(assessed, date_style)]
        tag = None
        if u in plants:
            col, value = plants[u]
            cells[col] = value
            tag = f"plant{u}"
        rows.append(Row("data", [k + 1, *cells] if with_seq else cells, tag))
    return rows


def build(prog: Programme, book: UnitBook, qi: int, q: Quarter, layout: int, i: int, report: date,
          plants: dict[int, tuple[int, str]]) -> tuple[list[Sheet], dict[str, list[str]] | None, bool]:
    """(sheets, prose sheets, is_csv) for one county-quarter ledger."""
    county = book.county
    idx = [int(u) for u in book.present(qi)]
    submitter = submitter_line(f"{county.name}清廉办", report)
    if layout == 0:
        header = ["序号", "单元编码", "单元名称", "单元类型", "所属区划", "创建阶段", "评估得分", "评估日期"]
        rows = _rows(prog, book, qi, q, idx, "code12", "excel", True, False, plants)
        data = Sheet("台账", header=[header], rows=rows, titles=[f"{county.name}{q.year}年{q.cn}清廉单元创建情况台账", submitter],
                     footers=["填表人：张丽　　联系电话：0916-3210000"], validations={5: list(UNIT_STAGES)}, widths={2: 32, 4: 16})
        counts = [[t, sum(1 for u in idx if book.types[u] == t), sum(1 for u in idx if book.types[u] == t and book.stage[u, qi] >= 2)]
                  for t in UNIT_TYPES]
        summary = Sheet("汇总", header=[["单元类型", "登记数", "已达标及示范"]], is_data=False,
                        rows=[Row("data", c) for c in counts] + [Row("total", ["合计", sum(c[1] for c in counts), sum(c[2] for c in counts)])])
        return [data, summary], None, False
    if layout == 1:
        header = ["单元编码", "名称", "类别", "所属区划", "创建状态", "得分", "截至日期"]
        rows = _rows(prog, book, qi, q, idx, "name", "slash", False, True, plants)
        data = Sheet("清廉单元", header=[header], rows=rows, titles=[f"{county.name}清廉单元创建台账", f"填报单位：{county.name}清廉办"],
                     widths={1: 32})
        return [data], None, False
    if layout == 2:
        sheets = []
        groups = (("机关学校医院", ("机关", "学校", "医院")), ("企业工程村居", ("企业", "工程", "村居")))
        for name, kinds in groups:
            part = [u for u in idx if book.types[u] in kinds]
            body = _rows(prog, book, qi, q, part, "code", "iso", False, False, plants)
            rows: list[Row] = []
            for k, r in enumerate(body):
                if k and k % 40 == 0:
                    rows.append(Row("blank"))
                rows.append(r)
            rows.append(Row("total", ["合计", f"共{len(part)}个单元"]))
            sheets.append(Sheet(name, header=[["单元编码", "单元名称", "单元类型", "区划代码", "创建阶段", "评估得分", "评估日期"]],
                                rows=rows, titles=[f"{county.name}{q.year}年{q.cn}清廉单元创建台账（{name}）", submitter], widths={1: 32}))
        return sheets, None, False
    if layout == 3:
        header = ["单元编码", "单元名称", "单元类型", "区划代码", "创建阶段", "评估得分", "评估日期"]
        rows = _rows(prog, book, qi, q, idx, "code12", "iso", False, False, plants)
        return [Sheet(county.name, header=[header], rows=rows)], None, True
    # layout 4: grouped by region, the region merged vertically
    idx.sort(key=lambda u: (book.regions[u].code, u))
    header = ["序号", spaced("单元编码"), "单元名称", "单元类型", "所属区划", wrapped("创建阶段"), "评估得分", "评估日期"]
    base = _rows(prog, book, qi, q, idx, "name", "cn", False, False, plants)
    rows = [Row("data", [k + 1, *r.cells], r.tag) for k, r in enumerate(base)]
    data = Sheet("创建台账", header=[header], rows=rows, titles=[f"{county.name}清廉单元创建台账（截至{cn_date(q.end)}）", submitter],
                 merge_column=4, footers=["备注：所属区划相同的单元已合并单元格。", "填表人：刘洋"], widths={2: 32, 4: 16})
    prose = {"填表说明": ["创建阶段：未启动、创建中、已达标、示范。", "评估得分为百分制。"]}
    return [data], prose, False


def write_all(em: Emitter, prog: Programme, books: list[UnitBook], quarters: list[Quarter], report_dates: dict[tuple[str, str], date]) -> dict:
    planted: dict = {}
    q1 = quarters[min(1, len(quarters) - 1)]
    q2 = quarters[min(2, len(quarters) - 1)]
    i = 0
    for qi, q in enumerate(quarters):
        for book in books:
            i += 1
            county = book.county
            code6 = county.code6
            report = report_dates[(county.code, q.key)]
            layout = em.variant("units", i, 5)
            plants: dict[int, tuple[int, str]] = {}
            bad: list[BadCell] = []
            present = [int(u) for u in book.present(qi)]
            # Column positions below are within the unit cells (code, name, type, region, stage, ...).
            if code6 == "610724" and q == q1:  # 西乡县: an invalid stage
                u = present[len(present) // 3]
                plants[u] = (4, "已创建")
                bad.append(BadCell(f"plant{u}", "创建阶段", "已创建"))
            if code6 == "610726" and q == q2:  # 宁强县: a region that does not exist
                u = present[len(present) // 2]
                plants[u] = (3, "幸福镇")
                bad.append(BadCell(f"plant{u}", "所属区划", "幸福镇"))
            if plants and layout == 4:
                layout = 0  # a planted value must not sit inside a merged region cell
            if code6 == "610702" and qi == 0 and layout == 3:
                layout = 0  # the duplicate re-send below is of an .xlsx
            sheets, prose, is_csv = build(prog, book, qi, q, layout, i, report, plants)
            stem = (f"{county.name}_{q.key}_清廉单元台账", f"{county.name}{q.year}年{q.cn}清廉单元创建情况",
                    f"{q.key}{county.name}清廉单元")[i % 3]
            meta = Meta("units", county.name, q.key, bad)
            if code6 == "610729" and q == q2:
                # First mailed into the cases/ folder by mistake, then re-sent properly two days later.
                wrong_sheets, wrong_prose, _ = build(prog, book, qi, q, 0, i, report, {})
                rel = f"cases/{county.name}_{q.key}_清廉单元台账.xlsx"
                em.xlsx(rel, wrong_sheets, Meta("cases", county.name, q.key, outcome="rejected",
                                                           notes=["wrong source folder: a units ledger in cases/"]), wrong_prose)
                planted["wrong_folder"] = rel
                sheets, prose, is_csv = build(prog, book, qi, q, 0, i, report + timedelta(days=2), {})
            rel = f"units/{stem}.csv" if is_csv else f"units/{stem}.xlsx"
            if is_csv:
                em.csv(rel, sheets[0], "utf-8-sig", meta)
            else:
                entry, _ = em.xlsx(rel, sheets, meta, prose, prose_first=False)
                if code6 == "610702" and qi == 0:
                    # The identical file sent again under another name: same bytes, a duplicate.
                    copy = f"units/{stem}_重发.xlsx"
                    em.raw(copy, (em.out_dir / rel).read_bytes(),
                           Meta("units", county.name, q.key, outcome="duplicate", notes=[f"same bytes as {rel}"]), entry.data_rows)
                    planted["duplicate"] = {"original": rel, "copy": copy}
            if bad:
                planted.setdefault("bad_rows", []).append(rel)
    return planted
