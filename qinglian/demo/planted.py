"""Whole-file bad inputs that are not a variation of a real ledger: garbage bytes and a personal
spreadsheet dropped into a submission folder."""

from __future__ import annotations

from qinglian.demo.emitter import Emitter, Meta
from qinglian.demo.messy import Row, Sheet
from qinglian.demo.names import rng_for
from qinglian.demo.reference import Programme


def write_unreadable(em: Emitter, prog: Programme) -> str:
    """Random bytes named .xlsx: what a failed e-mail attachment download looks like."""
    county = prog.by_code["610727000000"]
    data = rng_for(prog.seed, "garbage").integers(0, 256, size=3_000, dtype="uint8").tobytes()
    rel = f"inspections/{county.name}巡察整改台账（损坏）.xlsx"
    em.raw(rel, data, Meta("inspections", county.name, None, outcome="rejected", notes=["unreadable: random bytes"]))
    return rel


def write_personal_spreadsheet(em: Emitter) -> str:
    """A clerk's own household budget saved into the folder: matches no template."""
    months = [f"{m}月" for m in range(1, 13)]
    rows = [Row("data", [m, 1800, 1200 + 37 * k % 300, 260 + 11 * k % 90, 1800 + 1200 + 37 * k % 300 + 260 + 11 * k % 90])
            for k, m in enumerate(months)]
    sheet = Sheet("家庭开支", header=[["月份", "房租", "伙食", "交通", "小计"]], rows=rows, titles=["2025年家庭记账本"])
    rel = "task_progress/新建 Microsoft Excel 工作表.xlsx"
    em.xlsx(rel, [sheet], Meta("task_progress", None, None, outcome="rejected", notes=["not a known template"]))
    em.entries[-1].data_rows = 0  # nothing in it is task-progress data
    return rel
