"""预警: what will go wrong by the quarter's end unless someone acts — computed by the warehouse
(marts.early_warnings) for days inside each quarter from what had been submitted by then."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from dashboards import data, data_warnings, ui


def render() -> None:
    src = ui.page_start("风险预警", "按某一天已报送的数据预计季末情况：将触发一票否决的问题、本季度到期未完成的任务、"
                                    "预计处于蜗牛线的对象、未报送台账的单位；每条写明处理期限（在此日期前处理仍有效）。")
    days = data_warnings.warning_days(src)
    if days.empty:
        ui.empty("预警")
        return
    quarters = list(dict.fromkeys(reversed(days.quarter.tolist())))
    c1, c2 = st.columns([1, 1])
    with c1:
        quarter = ui.filter_select("季度", quarters, key="warn_quarter",
                                   format_func=lambda q: f"{data.quarter_label(q)}（{q}）")
    options = [pd.Timestamp(d).date() for d in days[days.quarter == quarter].as_of]
    with c2:
        as_of = ui.filter_select("计算日", options, index=len(options) - 1, key="warn_day",
                                 format_func=lambda d: f"{d:%Y-%m-%d}")
    w = data_warnings.latest_warnings(quarter, src, as_of)
    if w.empty:
        st.success(f"{as_of:%Y-%m-%d} 没有预警。")
        return
    kinds = w.drop_duplicates("kind").sort_values("kind_order")
    cols = st.columns(len(kinds))
    for col, k in zip(cols, kinds.itertuples(), strict=True):
        col.metric(k.kind_label, f"{int((w.kind == k.kind).sum())} 条", border=True)
    for k in kinds.itertuples():
        part = w[w.kind == k.kind].sort_values(["act_by", "body_name"])
        st.markdown(f"##### {ui.md(k.kind_label)}（{len(part)} 条）")
        show = pd.DataFrame({"对象": part.body_name.fillna(part.body_code), "处理期限": part.act_by,
                             "原因": part.reason})
        # 原因 is a sentence of up to ~150 characters: it wraps (a grid would cut it at the right edge)
        ui.table(show, f"预警_{k.kind_label}_{as_of:%Y%m%d}", key=f"warn_{k.kind}", wrap=True)


render()
