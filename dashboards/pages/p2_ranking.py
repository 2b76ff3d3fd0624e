"""红旗/蜗牛榜: the quarter's ranking per group, movement, markers, drill-down to the submitted rows."""

from __future__ import annotations

import pandas as pd
import plotly.express as px
import streamlit as st

from dashboards import data, data_ranking, ui
from dashboards.exports import rank_change_text, score, scores


def _markers(rk: pd.DataFrame, single: set[tuple[str, str, str]]) -> pd.Series:
    """否决 / 约谈 / 并列 / 边界接近 / 单项指标 in one column (vectorised string joins), so the table fits the page."""
    one = pd.Series([(g, b, q) in single for g, b, q in zip(rk.body_group, rk.body_code, rk.quarter, strict=True)],
                    index=rk.index)
    parts = pd.DataFrame({
        "veto": ui.yes(rk.veto, "否决"), "talk": ui.yes(rk.talk_required, "约谈"),
        "tie": data_ranking.tie_label(rk), "near": ui.yes(rk.near_tie, "边界接近"),
        "one": ui.yes(one & rk.flag.notna(), "单项指标"),
    })
    return parts.apply(lambda col: col.where(col == "", col + "、")).sum(axis=1).str.rstrip("、")


def _ranking_table(rk: pd.DataFrame, single: set[tuple[str, str, str]]) -> pd.DataFrame:
    # Sorted by rank (= composite): rank first, the name pinned with its flag beside it, markers before
    # the indicator scores so nothing that decides a flag sits off-screen to the right.
    return pd.DataFrame({
        "排名": rk["rank"].astype("Int64"),
        "名称": rk.body_name,
        "旗帜": rk.flag.fillna(""),
        "综合得分": scores(rk.composite_score),
        "标记": _markers(rk, single),
        "距分界线(分)": scores(rk.margin),
        "缺项指标": rk.missing_indicators.map(data.missing_labels),
        "变化": rk.rank_change.map(rank_change_text),
        "任务推进": scores(rk.task_score),
        "单元达标": scores(rk.coverage_score),
        "整改完成": scores(rk.rectification_score),
        "按时报送": scores(rk.timeliness_score),
        "满意度": scores(rk.satisfaction_score),
    })


def _drop_empty_indicators(df: pd.DataFrame, group: str) -> pd.DataFrame:
    # Department rows never have coverage/satisfaction, county rows never timeliness (§5).
    drop = ["按时报送"] if group == "county" else ["单元达标", "满意度"]
    return df.drop(columns=[c for c in drop if c in df.columns])


def _drill(src: data.Source, rk: pd.DataFrame, group: str, quarter: str) -> None:
    st.markdown("##### 得分构成与原始报送")
    options = list(rk.body_code)
    names = dict(zip(rk.body_code, rk.body_name, strict=True))
    body = ui.filter_select("选择考核对象查看得分构成", options, format_func=lambda c: names.get(c, c), key="rank_body")
    if body is None:
        return
    row = rk[rk.body_code == body].iloc[0]
    st.markdown(f"**{ui.md(names[body])}** · {data.quarter_label(quarter)} · 综合得分 **{score(row.composite_score)}** · "
                f"第 {int(row['rank'])} 名 · 规则版本 {row.rules_version}")
    bd = data.breakdown(body, group, quarter, src)
    if bd.empty:
        ui.empty("得分构成")
    else:
        bd = ui.round_cols(bd, ["得分", "实际权重", "加权得分"])
        if not bd["状态"].astype(bool).any():
            bd = bd.drop(columns="状态")
        ui.table(bd, f"得分构成_{names[body]}_{quarter}", key="breakdown",
                 caption=f"综合得分 = Σ 加权得分 = Σ 指标得分 × 实际权重 ÷ 100；缺项指标的权重按比例分配给其余指标"
                         f"（规则权重取自规则版本 {row.rules_version}）。")
    with st.expander("重点任务报送明细（任务推进率、按时报送率的来源）"):
        t = data.task_rows(body, quarter, src)
        if t.empty:
            st.info("该对象本季度没有任务记录。")
        else:
            t = t.rename(columns={"task_code": "任务编号", "task_name": "任务名称", "area": "领域", "status": "推进状态",
                                  "progress_pct": "完成进度(%)", "deadline": "完成时限", "report_date": "填报日期",
                                  "on_schedule": "按序", "days_late": "滞后天数", **ui.LINEAGE})
            t["按序"] = ui.yes(t["按序"], "✓")
            ui.table(t, f"任务明细_{names[body]}_{quarter}", key="drill_tasks", column_config=ui.lineage_config())
    with st.expander("巡察问题整改明细（整改完成率、一票否决的来源）"):
        i = data.issue_rows(body, quarter, src)
        if i.empty:
            st.info("该对象本季度没有巡察问题记录。")
        else:
            i = i.rename(columns={"issue_code": "问题编号", "inspected_body": "被巡察单位", "category": "问题类别",
                                  "description": "问题描述", "found_date": "发现日期", "deadline": "整改时限",
                                  "status": "整改状态", "completed_date": "完成日期", "rectified_at_d": "季末已整改",
                                  "days_overdue": "逾期天数", **ui.LINEAGE})
            i["季末已整改"] = ui.yes(i["季末已整改"], "✓")
            ui.table(i, f"整改明细_{names[body]}_{quarter}", key="drill_issues", column_config=ui.lineage_config())
    if group == "county":
        with st.expander("清廉单元明细（单元达标率的来源）"):
            u = data.unit_rows(body, quarter, src)
            if u.empty:
                st.info("该县区本季度没有清廉单元记录。")
            else:
                u = data.with_names(u, "region_code", data.name_map(src), "所属区划")
                u = u.rename(columns={"unit_code": "单元编码", "unit_name": "单元名称", "unit_type": "单元类型",
                                      "region_code": "区划代码", "stage": "创建阶段", "stage_level": "阶段值", **ui.LINEAGE})
                ui.table(u, f"单元明细_{names[body]}_{quarter}", key="drill_units", column_config=ui.lineage_config())
        st.caption("满意度指数来自年度问卷测评（受访者个人信息不入库），其有效回答数和置信区间见“满意度”页。")


def render() -> None:
    src = ui.page_start("红旗/蜗牛榜", "每季度分县区、市直部门两组按综合得分排名，并可查看每个对象的得分构成和原始报送。")
    c1, c2 = st.columns([1, 2])
    with c1:
        quarter = ui.quarter_select(src, key="rank_quarter")
    with c2:
        group = ui.group_select(src, key="rank_group")
    if quarter is None:
        ui.empty("排名")
        return
    st.caption(data.ranking_rules_text(quarter, src))
    rk = data.ranking(quarter, group, src)
    if rk.empty:
        ui.empty(f"{data.GROUP_LABELS[group]}排名")
        return
    single = data_ranking.one_indicator_flags(data_ranking.contributions([quarter], src))
    table = _drop_empty_indicators(_ranking_table(rk, single), group)
    rule = data_ranking.tie_break_rule(src)
    notes = []
    if (table["标记"].str.contains("并列")).any():
        notes.append("并列：综合得分相同" + (f"，{ui.md(rule)}" if rule else ""))
    flagged_one = table[table["标记"].str.contains("单项指标") & table["旗帜"].ne("")]
    if not flagged_one.empty:
        st.warning("以下对象的旗帜只依据 1 项有数据的指标：" + "、".join(ui.md(n) for n in flagged_one["名称"]) +
                   "（其余指标缺项，见“缺项指标”列）。")
    ui.table(table, f"红旗蜗牛榜_{data.GROUP_LABELS[group]}_{quarter}", key="ranking",
             marked=["旗帜", "标记"], caption="；".join(notes) or None, sort="排名", name_col="名称", after_name=["旗帜"],
             column_config={"排名": st.column_config.NumberColumn("排名", width=48),
                            "旗帜": st.column_config.TextColumn("旗帜", width=56),
                            "综合得分": st.column_config.NumberColumn("综合得分", format="%.2f", width=80),
                            "标记": st.column_config.TextColumn("标记", width=ui.text_px(table["标记"], "标记")),
                            "缺项指标": st.column_config.TextColumn("缺项指标", width=ui.text_px(table["缺项指标"], "缺项指标"))})
    bars = rk.assign(composite_score=scores(rk.composite_score).to_numpy())  # rounded as the table is
    fig = px.bar(bars, x="body_name", y="composite_score", color=bars.flag.fillna("无"),
                 color_discrete_map=ui.FLAG_COLOURS, text="composite_score",
                 category_orders={"color": ["红旗", "无", "蜗牛"]},
                 labels={"body_name": "", "composite_score": "综合得分", "color": "旗帜"})
    fig.update_traces(hovertemplate="%{x}：%{y:.2f} 分<extra></extra>")
    fig.update_layout(yaxis_range=[0, 105])
    if len(rk) > 1:  # a county user's single bar says nothing the table does not
        # Labels only while they fit; with hundreds of bodies the bars show the distribution.
        ui.chart(ui.bar_labels(fig, 2, axis="y") if len(rk) <= 40 else fig, key="rank_bar", height=320)

    _drill(src, rk, group, quarter)

    st.markdown("##### 蜗牛记录（连续蜗牛与约谈）")
    hist = data.snail_history(group, src)
    if hist.empty:
        ui.empty("历史排名")
        return
    qcols = [c for c in hist.columns if isinstance(c, str) and c[:4].isdigit() and "Q" in c]
    show = hist.rename(columns={"body_name": "名称", "current_run": "当前连续蜗牛(季)", "longest_run": "最长连续蜗牛(季)",
                                "talk_quarters": "约谈季度"}).drop(columns="body_code")
    ui.table(show[["名称", *qcols, "当前连续蜗牛(季)", "最长连续蜗牛(季)", "约谈季度"]],
             f"蜗牛记录_{data.GROUP_LABELS[group]}", key="snail_history", marked=qcols)


render()
