"""报送情况: per source and period, who has submitted (on time or late), who has not.

Pure: given who is expected (from the warehouse), the portal's uploads and the files the published
warehouse already loaded by other channels, and the deadline (the warehouse's report_due_date), it
returns one row per unit. On time means the first accepted upload was received on or before the
deadline (Beijing date) — the same "any report by the deadline" reading the warehouse applies to
task reports. A unit whose uploads were all refused has not submitted.
"""

from __future__ import annotations

from datetime import date

import pandas as pd

from qinglian.submissions.store import Upload

ON_TIME, LATE, OTHER, REFUSED, MISSING = "按时报送", "逾期报送", "已入库（其他渠道）", "已上传未通过", "未报送"
STATUSES = (ON_TIME, LATE, OTHER, REFUSED, MISSING)
TO_CHASE = (REFUSED, MISSING)  # the 催报 list
GROUP_LABELS = {"county": "县区", "department": "市直部门"}
COLUMNS = ["unit_code", "单位", "类别", "状态", "首次接收时间", "最近接收时间", "上传次数", "当前有效回执", "读入", "入库", "拒收",
           "说明"]


def submission_status(expected: pd.DataFrame, uploads: list[Upload], journal: pd.DataFrame | None,
                      due: date | None) -> pd.DataFrame:
    """One row per expected unit (and per unit that uploaded without being expected)."""
    by_unit: dict[str, list[Upload]] = {}
    for u in uploads:
        by_unit.setdefault(u.unit_code, []).append(u)
    units = [(str(r.unit_code), str(r.unit_name), GROUP_LABELS.get(str(r.unit_group), str(r.unit_group)))
             for r in expected.itertuples()]
    loaded_elsewhere = _journal_units(journal, units)
    known = {code for code, _, _ in units}
    for code, ups in by_unit.items():
        if code not in known:
            units.append((code, ups[0].unit_name or code, "其他"))
    rows = []
    for code, name, group in units:
        ups = sorted(by_unit.get(code, []), key=lambda u: (u.received_at, u.id or 0))
        loaded = [u for u in ups if u.loaded]
        current = next((u for u in reversed(loaded) if u.superseded_by is None), None)
        row = {"unit_code": code, "单位": name, "类别": group, "上传次数": len(ups),
               "首次接收时间": loaded[0].received_at.strftime("%Y-%m-%d %H:%M") if loaded else None,
               "最近接收时间": ups[-1].received_at.strftime("%Y-%m-%d %H:%M") if ups else None,
               "当前有效回执": current.receipt_no if current else None,
               "读入": current.rows_read if current else None, "入库": current.rows_loaded if current else None,
               "拒收": current.rows_rejected if current else None, "说明": ""}
        if loaded:
            first = loaded[0].received_at.date()
            if due is None:
                row["状态"], row["说明"] = ON_TIME, "截止日期未知，暂按已报送计"
            elif first <= due:
                row["状态"] = ON_TIME
            else:
                row["状态"], row["说明"] = LATE, f"逾期 {(first - due).days} 天"
            if current and current.rows_rejected:
                row["说明"] = "；".join(x for x in (row["说明"], f"有 {current.rows_rejected} 行被拒收，待更正") if x)
        elif code in loaded_elsewhere:
            row["状态"], row["说明"] = OTHER, "已由其他渠道报送并入库（无门户接收时间）"
        elif ups:
            row["状态"] = REFUSED
            row["说明"] = f"已上传 {len(ups)} 次，均未通过：{ups[-1].message or ''}"[:200]
        else:
            row["状态"] = MISSING
            row["说明"] = "尚未报送" + (f"，截止日期 {due:%Y-%m-%d}" if due else "")
        rows.append(row)
    out = pd.DataFrame(rows, columns=COLUMNS)
    for col in ("上传次数", "读入", "入库", "拒收"):
        out[col] = out[col].astype("Int64")  # whole numbers, blank where there is no current file
    return out


def _journal_units(journal: pd.DataFrame | None, units: list[tuple[str, str, str]]) -> set[str]:
    """Units with a file in the published journal: by code, or — for a file whose 填报单位 the ingest kept
    as written (e.g. "洋县清廉办") — by the longest expected unit name the written name starts with."""
    if journal is None or journal.empty:
        return set()
    found = set(journal["submitter"].dropna().astype(str))
    names = sorted(((name, code) for code, name, _ in units if name), key=lambda x: -len(x[0]))
    written = journal["submitter_name"].dropna().astype(str) if "submitter_name" in journal else []
    for text in written:
        code = next((c for n, c in names if text.startswith(n)), None)
        if code is not None:
            found.add(code)
    return found


def summary(status: pd.DataFrame) -> dict[str, int]:
    counts = {s: int((status["状态"] == s).sum()) for s in STATUSES}
    counts["应报"] = int(len(status[status["类别"] != "其他"]))
    return counts
