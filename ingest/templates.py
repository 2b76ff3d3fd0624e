"""Submission templates (填报模板) generated from the contract, so headers never drift.

`write_template` writes the blank template of `qinglian template`; given a `Prefill` (what the warehouse
knows about one submitter: its tasks, units or open issues, its regions, the period) the same template
comes pre-filled — the title names the period, the 填报单位 line the unit, the rows carry the known codes
and names, and a reference sheet lists what the clerk looks up (deadlines, region codes). The reference
sheets' headers are deliberately not the contract's, so the ingest never reads them as data.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any

import xlsxwriter

from ingest.contracts import CONTRACTS, SOURCE_LABELS, SURVEY_ANSWERS
from qinglian.questionnaire import questions

TEMPLATE_ROWS = 2000

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


@dataclass
class Prefill:
    """What a pre-filled template carries for one submitter and period."""

    title: str  # the period as the title row states it, e.g. "2026年第一季度" or "2026年度"
    submitter_name: str  # the 填报单位 line
    rows: Sequence[Mapping[str, Any]] = ()  # field name -> value, one mapping per data row
    reference_title: str = ""
    reference: Sequence[Mapping[str, Any]] = ()  # column header -> value (a sheet the ingest does not read)
    notes: Sequence[str] = field(default_factory=tuple)


def write_template(source: str, out: Path, prefill: Prefill | None = None) -> Path:
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_bytes(template_bytes(source, prefill))
    return out


def _title(source: str, prefill: Prefill | None) -> str:
    blank = _TITLES[source]
    if prefill is None:
        return blank
    body = blank.split(" ", 1)[1] if " " in blank else blank
    return f"{prefill.title} {body}"


def _write_value(ws: Any, row: int, col: int, value: Any, text_fmt: Any, date_fmt: Any) -> None:
    if value is None or (isinstance(value, float) and value != value):
        return
    if isinstance(value, datetime):
        ws.write_datetime(row, col, value, date_fmt)
    elif isinstance(value, date):
        ws.write_datetime(row, col, datetime(value.year, value.month, value.day), date_fmt)
    elif isinstance(value, int | float) and not isinstance(value, bool):
        ws.write_number(row, col, value)
    else:
        ws.write_string(row, col, str(value), text_fmt)  # codes stay text (leading zeros), formulas stay text


def template_bytes(source: str, prefill: Prefill | None = None,
                   finish: Callable[[Any, list[Any]], None] | None = None) -> bytes:
    """The template workbook as bytes (blank, or pre-filled for one submitter).

    `finish(workbook, worksheets)` runs before the workbook is closed: the portal stamps its watermark
    there (the ingest knows nothing of viewers)."""
    contract = CONTRACTS[source]
    buf = io.BytesIO()
    wb = xlsxwriter.Workbook(buf, {"in_memory": True, "strings_to_formulas": False, "strings_to_urls": False})
    title_fmt = wb.add_format({"bold": True, "font_size": 14})
    head_fmt = wb.add_format({"bold": True, "bg_color": "#DDEBF7", "border": 1, "text_wrap": True, "align": "center", "valign": "vcenter"})
    req_fmt = wb.add_format({"bold": True, "bg_color": "#FCE4D6", "border": 1, "text_wrap": True, "align": "center", "valign": "vcenter"})
    date_fmt = wb.add_format({"num_format": "yyyy-mm-dd"})
    text_fmt = wb.add_format({"num_format": "@"})

    ws = wb.add_worksheet("填报表")
    headers: list[tuple[str, object]] = [(f.label, f) for f in contract.fields]
    if contract.question_columns:
        headers += [(f"Q{i}", None) for i in range(1, len(questions()) + 1)]
    ws.write_string(0, 0, _title(source, prefill), title_fmt)
    unit = prefill.submitter_name if prefill else "      "
    ws.write_string(1, 0, f"填报单位：{unit}        填报日期：")
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
    cell_text = wb.add_format({"num_format": "@", "quote_prefix": True})
    if prefill is not None:
        columns = {f.name: i for i, (_, f) in enumerate(headers) if f is not None}
        for r, values in enumerate(prefill.rows, start=3):
            for name, value in values.items():
                if name in columns:
                    _write_value(ws, r, columns[name], value, cell_text, date_fmt)
        if prefill.reference:
            ref = wb.add_worksheet(prefill.reference_title[:31] or "参考信息")
            keys = list(prefill.reference[0].keys())
            ref.write_row(0, 0, keys, head_fmt)
            for r, values in enumerate(prefill.reference, start=1):
                for c, k in enumerate(keys):
                    _write_value(ref, r, c, values.get(k), cell_text, date_fmt)
            for c, k in enumerate(keys):
                ref.set_column(c, c, max(12, len(k) * 2 + 4))
            ref.freeze_panes(1, 0)

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
    if prefill is not None:
        notes += [f"{len(notes) + 1 + i}. {text}" for i, text in enumerate(prefill.notes)]
    for i, text in enumerate(notes):
        guide.write(row + 1 + i, 0, text)
    if finish is not None:
        finish(wb, wb.worksheets())
    wb.close()
    return buf.getvalue()
