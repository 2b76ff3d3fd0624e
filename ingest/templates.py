"""Blank submission templates (填报模板) generated from the contract, so headers never drift."""

from __future__ import annotations

from pathlib import Path

import xlsxwriter

from ingest.contracts import CONTRACTS, SOURCE_LABELS, SURVEY_ANSWERS

TEMPLATE_ROWS = 2000
SURVEY_QUESTIONS = 10

_TITLES = {
    "regions": "行政区划表",
    "departments": "部门单位及别名表",
    "tasks": "清廉建设重点任务清单",
    "task_progress": "____年第__季度 清廉建设重点任务推进情况台账",
    "units": "____年第__季度 清廉单元创建情况台账",
    "inspections": "____年第__季度 巡察发现问题整改台账",
    "surveys": "____年度 群众满意度测评问卷数据",
    "cases": "____年1-__月 监督执纪统计表",
}

_KIND_HINTS = {
    "date": "日期，如 2025-03-31 或 2025年3月31日",
    "pct": "百分比，0-100，可写 80 或 80%",
    "int": "非负整数",
    "float": "数字",
    "region": "12位区划代码或规范的区划名称",
    "owner": "部门规范简称（见部门别名表）或县区名称",
    "quarter": "报告期，如 2025年第一季度 / 2025Q1 / 2025年1-6月",
    "bool": "是 / 否",
}


def write_template(source: str, out: Path) -> Path:
    contract = CONTRACTS[source]
    out.parent.mkdir(parents=True, exist_ok=True)
    wb = xlsxwriter.Workbook(str(out))
    title_fmt = wb.add_format({"bold": True, "font_size": 14})
    head_fmt = wb.add_format({"bold": True, "bg_color": "#DDEBF7", "border": 1, "text_wrap": True, "align": "center", "valign": "vcenter"})
    req_fmt = wb.add_format({"bold": True, "bg_color": "#FCE4D6", "border": 1, "text_wrap": True, "align": "center", "valign": "vcenter"})
    date_fmt = wb.add_format({"num_format": "yyyy-mm-dd"})
    text_fmt = wb.add_format({"num_format": "@"})

    ws = wb.add_worksheet("填报表")
    headers: list[tuple[str, object]] = [(f.label, f) for f in contract.fields]
    if contract.question_columns:
        headers += [(f"Q{i}", None) for i in range(1, SURVEY_QUESTIONS + 1)]
    ws.write(0, 0, _TITLES[source], title_fmt)
    ws.write(1, 0, "填报单位：              填报日期：")
    for col, (label, f) in enumerate(headers):
        required = getattr(f, "required", False)
        ws.write(2, col, label, req_fmt if required else head_fmt)
        ws.set_column(col, col, max(10, len(label) * 2 + 4))
        choices = tuple(getattr(f, "choices", ())) or (tuple(SURVEY_ANSWERS) if f is None else ())
        if choices:
            ws.data_validation(3, col, TEMPLATE_ROWS + 2, col, {
                "validate": "list", "source": list(choices),
                "error_title": "输入有误", "error_message": f"请从下拉列表中选择：{'/'.join(choices)}",
            })
        kind = getattr(f, "kind", None)
        if kind == "date":
            ws.set_column(col, col, 14, date_fmt)
        elif kind in ("code", "region"):
            ws.set_column(col, col, 16, text_fmt)
        elif kind == "pct":
            ws.data_validation(3, col, TEMPLATE_ROWS + 2, col, {
                "validate": "decimal", "criteria": "between", "minimum": 0, "maximum": 100,
                "error_title": "输入有误", "error_message": "完成进度应为 0-100 之间的数字",
            })
    ws.freeze_panes(3, 0)
    ws.set_row(2, 32)

    guide = wb.add_worksheet("填表说明")
    guide.set_column(0, 0, 22)
    guide.set_column(1, 1, 14)
    guide.set_column(2, 2, 70)
    guide.write(0, 0, f"{SOURCE_LABELS[source]} 填表说明", title_fmt)
    guide.write_row(2, 0, ["字段", "是否必填", "说明"], head_fmt)
    row = 3
    for f in contract.fields:
        hint = f.note or (f"可选值：{'/'.join(f.choices)}" if f.choices else _KIND_HINTS.get(f.kind, "文字"))
        if f.aliases:
            hint += f"（也可写作：{'、'.join(f.aliases[:4])}）"
        guide.write_row(row, 0, [f.label, "必填" if f.required else "选填", hint])
        row += 1
    if contract.question_columns:
        guide.write_row(row, 0, ["Q1…Q10", "选填", "每题一列：很满意/满意/基本满意/不满意/很不满意/不了解，或 5-1、0（不了解）；请勿填写姓名、手机号、身份证号"])
        row += 1
    notes = [
        "1. 请在「填报表」第1行标题中写明报告期（年份和季度），第2行写明填报单位和填报日期。",
        "2. 从第4行起逐行填写，不要改动第3行表头；可以增加行，不要合并单元格。",
        "3. 不要在数据中间插入合计行；如需合计，请放在最后一行并在第一列写“合计”，系统会自动核对。",
        "4. 填错的行会被单独退回并说明原因（第几行、哪一列、填了什么），其余行正常入库。",
        "5. 同一单位同一报告期再次报送时，以最后一次报送为准（原文件保留备查）。",
    ]
    for i, text in enumerate(notes):
        guide.write(row + 1 + i, 0, text)
    wb.close()
    return out
