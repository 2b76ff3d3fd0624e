"""数据质量: the latest publishes, file outcomes, rejected rows and expectation results per submitting unit."""

from __future__ import annotations

import json
import re

import pandas as pd
import plotly.express as px
import streamlit as st

from dashboards import auth, data, ui
from ingest.contracts import SOURCE_LABELS

OUTCOME_LABELS = {"accepted": "已接收", "accepted_with_rejects": "部分接收", "rejected": "已拒收"}
SEVERITY_LABELS = {"blocking": "阻断", "warning": "警告"}
# Warehouse table -> what a leader calls it (technical names are for analysts only).
ASSET_LABELS = {
    "regions": "行政区划", "departments": "部门名录", "tasks": "重点任务清单", "task_progress": "任务推进台账",
    "units": "清廉单元台账", "inspections": "巡察整改台账", "survey_responses": "满意度问卷", "survey_answers": "满意度答卷",
    "cases": "监督执纪统计", "kpi_task_progress": "任务推进指标", "kpi_unit_coverage": "清廉单元达标指标",
    "kpi_rectification": "整改指标", "kpi_satisfaction": "满意度指标", "kpi_satisfaction_questions": "满意度分题指标",
    "kpi_cases": "案件统计指标", "scorecard_quarterly": "季度排名", "assessment_annual": "年度考核",
}
LAYER_LABELS = {"raw": "报送数据", "staging": "报送数据", "marts": "汇总指标"}


def _asset_label(asset: object) -> str:
    name = str(asset).split(".")[-1]
    return ASSET_LABELS.get(name, name)


def _technical() -> bool:
    """Run ids, table names and expectation names are shown to analysts (who query the warehouse)."""
    viewer = auth.current_viewer()
    return viewer is None or viewer.role in ("analyst", "dev")


def _counts_text(raw: object) -> str:
    """The publish log's row_counts JSON as '表: 行数' text."""
    if raw is None or (isinstance(raw, float) and pd.isna(raw)):
        return ""
    try:
        counts = json.loads(str(raw))
    except ValueError:
        return str(raw)
    return "；".join(f"{k}: {v}" for k, v in counts.items()) if isinstance(counts, dict) else str(counts)


def _message_text(message: object) -> str:
    """The publish note as a sentence: which quarters' rankings were frozen as a new version."""
    try:
        versions = json.loads(str(message)).get("new_versions") or {}
    except (ValueError, AttributeError):
        return "" if message is None or pd.isna(message) else str(message)
    if not versions:
        return "排名无变化"
    return "冻结排名新版本：" + "、".join(f"{q} 第{v}版" for q, v in sorted(versions.items()))


_TECH_NAME = re.compile(r"[（(]\s*(?:raw|staging|intermediate|marts|ops|seeds)\.[A-Za-z0-9_]+\s*[）)]")


def plain(text: object) -> str:
    """A check's description without the warehouse's table names (for leaders)."""
    return "" if text is None or (isinstance(text, float) and pd.isna(text)) else _TECH_NAME.sub("", str(text))


def _checks_for_leaders(res: pd.DataFrame, passed: pd.Series) -> None:
    """Per data set: how many checks, how many passed; then only the failed ones, in plain words
    (what is wrong and how to fix it). Table structure checks, table and field names are for analysts."""
    structural = res.expectation.eq("expect_column_to_exist")
    part = res.assign(数据=res.asset.map(_asset_label), 环节=res.layer.map(LAYER_LABELS).fillna("其他"), ok=passed)
    summary = (part.groupby(["环节", "数据"], as_index=False, sort=False)
               .agg(检查项=("ok", "size"), 通过=("ok", "sum"), 未通过=("ok", lambda x: int((~x).sum()))))
    summary["结果"] = summary.未通过.map(lambda n: "✓ 全部通过" if n == 0 else f"✗ {n} 项未通过")
    summary = summary.sort_values(["未通过", "环节"], ascending=[False, True])
    ui.table(summary[["数据", "结果", "环节", "检查项", "通过", "未通过"]], "数据质量检查汇总", key="dq_results",
             name_col="数据", caption=f"其中 {int(structural.sum())} 项为表结构检查（由数据管理员处理）。")
    failed = part[~passed]
    if failed.empty:
        return
    problem = failed.problem_zh if "problem_zh" in failed.columns else pd.Series(None, index=failed.index)
    fix = failed.fix_zh if "fix_zh" in failed.columns else pd.Series(None, index=failed.index)
    show = pd.DataFrame({
        "数据": failed.数据, "问题": problem.fillna(failed.description_zh.map(plain)),
        "严重程度": failed.severity.map(SEVERITY_LABELS).fillna(failed.severity), "不符合行数": failed.unexpected_count,
        "如何处理": fix.fillna(failed.description_zh.map(plain)),
    })
    st.markdown("###### 未通过的检查")
    ui.table(show, "未通过的数据质量检查", key="dq_failed", name_col="数据",
             column_config={"如何处理": st.column_config.TextColumn("如何处理", width="large")})


def render() -> None:
    src = ui.page_start("数据质量", "每次季度任务的发布记录、报送文件处理结果、拒收行和数据质量检查结果，按报送单位汇总，便于退回修改。")

    st.markdown("##### 发布记录")
    log = data.publish_log(src)
    if log.empty:
        ui.empty("发布记录")
    else:
        show = pd.DataFrame({
            "发布时间": log.published_at, "季度": log.quarter, "规则版本": log.rules_version,
            "检查通过": log.checks_passed.fillna(False).astype(bool).map({True: "✓ 通过", False: "✗ 未通过（未发布）"}),
        })
        if "message" in log.columns:
            show["说明"] = log.message.map(_message_text)
        if _technical():
            show.insert(0, "发布编号", log.publish_id)
            show["各表行数"] = log.row_counts.map(_counts_text)
        ui.table(show, "发布记录", key="publish_log")

    st.markdown("##### 报送文件处理结果")
    files = data.ingest_files(src)
    if files.empty:
        ui.empty("报送文件")
    else:
        current = files[files.superseded_by.isna()]
        outcome = current.outcome.map(OUTCOME_LABELS).fillna(current.outcome_label)
        c = st.columns(4)
        c[0].metric("在用文件", f"{len(current)}", border=True)
        for i, (key, label) in enumerate(OUTCOME_LABELS.items(), start=1):
            c[i].metric(label, f"{int((current.outcome == key).sum())}", border=True)
        by_unit = current.assign(结果=outcome, 单位=current.submitter_name.fillna(current.submitter).fillna("（未识别）"))
        agg = by_unit.groupby(["单位", "结果"], as_index=False).size()
        # Units with the most problem files first when there are too many to draw.
        bad = by_unit.assign(问题=by_unit.outcome.ne("accepted")).groupby("单位", as_index=False).问题.sum()
        agg = agg[agg["单位"].isin(ui.chart_rows(bad, "问题", ascending=False, what="问题文件数").单位)]
        fig = px.bar(agg, y="单位", x="size", color="结果", orientation="h",
                     color_discrete_map={"已接收": "#28B463", "部分接收": "#D68910", "已拒收": "#566573"},  # red means 红旗 only
                     labels={"单位": "", "size": "文件数"})
        ui.count_axis(fig, float(agg.groupby("单位")["size"].sum().max()), axis="xaxis")
        ui.chart(fig, key="file_outcomes", height=max(220, 80 + 26 * agg["单位"].nunique()))
        show = pd.DataFrame({
            "填报单位": files.submitter_name, "文件": files.path, "来源": files.source.map(SOURCE_LABELS).fillna(files.source),
            "报告期": files.period,
            "处理结果": files.outcome.map(OUTCOME_LABELS).fillna(files.outcome_label), "读入行": files.rows_read,
            "入库行": files.rows_loaded, "拒收行": files.rows_rejected, "说明": files.message,
            "入库时间": files.loaded_at,
            "已被更正": files.superseded_by.notna().map({True: "已被更正文件取代", False: ""}),
        })
        ui.table(show, "报送文件处理结果", key="files", name_col="填报单位",
                 column_config={"文件": st.column_config.TextColumn("文件", width="large")})

    st.markdown("##### 拒收明细（按报送单位）")
    rej = data.ingest_rejects(src)
    if rej.empty:
        st.success("没有拒收的文件或行。")
    else:
        show = rej.rename(columns={"submitter_name": "填报单位", "file": "文件", "sheet": "工作表", "row_number": "行号",
                                   "column_name": "字段", "value": "填报值", "reason": "问题"})
        show["行号"] = show["行号"].astype("Int64")
        # the reason a clerk acts on comes right after the unit, not off-screen to the right
        front = [c for c in ("填报单位", "问题") if c in show.columns]
        show = show[front + [c for c in show.columns if c not in front]]
        ui.table(show, "拒收明细", key="rejects", name_col="填报单位",
                 column_config={"问题": st.column_config.TextColumn("问题", width="large")},
                 caption="行号为空表示整份文件被拒收。")

    st.markdown("##### 数据质量检查")
    res = data.dq_results(src)
    if res.empty:
        if src.county is not None:
            st.info("县区用户只显示本县报送数据的问题；全市检查汇总由市清廉办查看。")
        else:
            ui.empty("数据质量检查")
    else:
        run = res.iloc[0]
        passed = res.success.fillna(False).astype(bool)
        tech = _technical()
        run_text = f" {run.run_id}" if tech else ""
        st.caption(f"最近一次检查{run_text}，{run.checked_at:%Y-%m-%d %H:%M}：共 {len(res)} 项，"
                   f"通过 {int(passed.sum())} 项，未通过 {int((~passed).sum())} 项。")
        if tech:
            show = pd.DataFrame({
                "结果": passed.map({True: "✓ 通过", False: "✗ 未通过"}),
                "严重程度": res.severity.map(SEVERITY_LABELS).fillna(res.severity), "层": res.layer,
                "数据": res.asset.map(_asset_label), "检查内容": res.description_zh, "不符合行数": res.unexpected_count,
                "数据表": res.asset, "字段": res.column_name, "观测值": res.observed_value,
                "示例": res.unexpected_examples, "检查规则": res.expectation,
            })
            ui.table(show, "数据质量检查结果", key="dq_results")
        else:
            _checks_for_leaders(res, passed)
    st.markdown("##### 未通过检查的报送行（按报送单位）")
    fails = data.dq_failures(src)
    if fails.empty:
        st.success("没有未通过检查的报送行。")
    else:
        summary = fails.groupby("submitter_name", as_index=False).agg(
            涉及文件=("file", "nunique"), 问题行数=("row_number", "size"),
            阻断=("severity", lambda s: int((s == "blocking").sum())), 警告=("severity", lambda s: int((s == "warning").sum())),
        ).rename(columns={"submitter_name": "填报单位"})
        ui.table(summary, "检查问题汇总_按单位", key="dq_summary")
        show = pd.DataFrame({
            "填报单位": fails.submitter_name, "文件": fails.file, "工作表": fails.sheet,
            "行号": fails.row_number.astype("Int64"), "字段": fails.column_name, "填报值": fails.value,
            "严重程度": fails.severity.map(SEVERITY_LABELS).fillna(fails.severity), "如何修改": fails.fix_zh,
        })
        if _technical():
            show["数据表"] = fails.asset
            show["检查规则"] = fails.expectation
        ui.table(show, "检查问题明细", key="dq_failures")


render()
