"""督办: overdue rectifications grouped by responsible body with their escalation stage (stage
limits from the rules), a per-body 督办单 (Word/Excel), and the record of 约谈 held."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from dashboards import auth, data, data_ranking, data_warnings, supervision, talks, ui
from qinglian import office_time


def _talk_section(src: data.Source, quarter: str) -> None:
    st.markdown("##### 约谈")
    detail = data_ranking.scorecard_detail([quarter], src)
    due = detail[detail.talk_required.fillna(False).astype(bool)] if not detail.empty else detail
    held = talks.records(quarter, src.county)
    latest = held.drop_duplicates("body_code") if not held.empty else held
    if due.empty:
        st.caption("本季度没有须约谈的对象（连续两个季度蜗牛）。")
    else:
        done = dict(zip(latest.body_code, latest.held_on, strict=True)) if not latest.empty else {}
        show = pd.DataFrame({
            "对象": due.body_name, "组别": due.body_group.map(data.GROUP_LABELS), "约谈": "约谈",
            "本季度名次": due["rank"].astype("Int64"),
            "约谈情况": [f"已约谈（{done[c]}）" if c in done else "未登记" for c in due.body_code],
        })
        ui.frame(show, marked=["约谈"], name="对象")
    viewer = auth.current_viewer()
    if viewer is not None and talks.can_record(viewer) and not due.empty:
        with st.form("talk_form", clear_on_submit=True):
            st.markdown("登记约谈情况")
            names = dict(zip(due.body_code, due.body_name, strict=True))
            groups = dict(zip(due.body_code, due.body_group, strict=True))
            body = st.selectbox("约谈对象", list(names), format_func=lambda c: names[c])
            held_on = st.date_input("约谈日期", value=office_time.today(), max_value=office_time.today(), format="YYYY-MM-DD")
            outcome = st.text_area("约谈结果", max_chars=talks.MAX_OUTCOME,
                                   placeholder="如：主要负责人已作表态发言，限期一个月整改到位")
            if st.form_submit_button("登记", type="primary"):
                try:
                    talks.record(viewer, talks.Talk(quarter, groups[body], body, names[body], held_on, outcome),
                                 client=auth.client_address())
                    st.success(f"已登记：{ui.md(names[body])} {held_on:%Y-%m-%d}")
                    held = talks.records(quarter, src.county)
                except talks.TalkError as exc:
                    st.error(str(exc))
    if not held.empty:
        st.markdown("###### 约谈记录")
        ui.frame(pd.DataFrame({"对象": held.body_name, "季度": held.quarter, "约谈日期": held.held_on,
                               "约谈结果": held.outcome, "登记人": held.entered_by, "登记时间": held.entered_at}),
                 column_config={"约谈结果": st.column_config.TextColumn("约谈结果", width="large")})


def render() -> None:
    src = ui.page_start("督办", "季末逾期未整改的巡察问题按责任对象汇总，注明督办升级阶段（阶段天数取自考核规则）；"
                                "可下载各对象的督办单；登记约谈情况。")
    quarter = ui.quarter_select(src, key="sup_quarter")
    if quarter is None:
        ui.empty("督办")
        return
    od = data_warnings.overdue_with_stage(quarter, src)
    stages = data_warnings.escalation_stages(quarter, src)
    names = data.name_map(src)
    if od.empty:
        st.success("季末没有逾期未整改的巡察问题。")
    else:
        has_stage = "stage" in od.columns and od.stage.notna().any()
        if has_stage:  # counts per stage, as the warehouse counted them for the viewer's scope
            totals = data_warnings.overdue_stage_totals(quarter, src).set_index("escalation_stage").issues
            cols = st.columns(len(stages))
            for col, s in zip(cols, stages.sort_values("stage_order").itertuples(), strict=True):
                col.metric(f"{s.stage}（{s.range_text}）", f"{int(totals.get(s.stage, 0))} 个", border=True)
        else:
            st.caption("考核规则未配置督办升级阶段，仅按逾期天数列出。")
        bodies = data_warnings.overdue_bodies(quarter, src)  # sorted: longest overdue, then most issues
        agg = pd.DataFrame({"body_code": bodies.body_code, "对象": bodies.body_code.map(names).fillna(bodies.body_code),
                            "逾期问题": bodies.overdue_issues, "最长逾期天数": bodies.max_days_overdue})
        if has_stage:
            agg["最高阶段"] = bodies.top_stage
            per_stage = data_warnings.overdue_stage_counts(quarter, src).pivot(
                index="body_code", columns="escalation_stage", values="issues")
            for s in stages.sort_values("stage_order").itertuples():
                agg[s.stage] = agg.body_code.map(per_stage[s.stage]).fillna(0).astype(int) \
                    if s.stage in per_stage.columns else 0
        agg = agg.reset_index(drop=True)
        st.markdown(f"##### 按责任对象（{len(agg)} 个对象，{len(od)} 个问题）")
        show = agg.drop(columns="body_code")
        # the sorting column first, the name pinned and as wide as the longest name
        ui.table(show, f"逾期督办_{quarter}", key="sup_bodies", marked=["最高阶段"], sort="最长逾期天数", name_col="对象")
        body = ui.filter_select("查看督办单", list(agg.body_code), key="sup_body",
                                format_func=lambda c: names.get(c, c))
        part = od[od.body_code == body]
        name = names.get(body, body)
        c1, c2, _ = st.columns([1, 1, 3])
        what = f"督办单 {name} {quarter}"
        with c1:
            ui.download_export("下载督办单 Word", lambda: supervision.render_docx(name, quarter, part, stages),
                               kind="docx", file_name=f"督办单_{name}_{quarter}", what=what, rows=len(part),
                               key="sup_docx", type="primary", icon=":material/edit_document:")
        with c2:
            ui.download_export("下载督办单 Excel", lambda: supervision.render_xlsx(name, quarter, part), kind="xlsx",
                               file_name=f"督办单_{name}_{quarter}", what=what, rows=len(part), key="sup_xlsx")
        ui.frame(supervision.frame(part), marked=["督办阶段"], column_config=ui.lineage_config())
    _talk_section(src, quarter)


render()
