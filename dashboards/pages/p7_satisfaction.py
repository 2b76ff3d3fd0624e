"""满意度: index and rate with 95 % intervals by region; regions under the rules' min_sample respondents marked 样本不足."""

from __future__ import annotations

import pandas as pd
import plotly.express as px
import plotly.graph_objects as go
import streamlit as st

from dashboards import data, ui

INSUFFICIENT = "样本不足"


def _min_sample(df: pd.DataFrame) -> str:
    """The wave's minimum sample from the warehouse (kpi_satisfaction.min_sample, a rules value)."""
    values = df["min_sample"].dropna().unique() if "min_sample" in df.columns else []
    return "、".join(str(int(v)) for v in sorted(values)) or "—"


def _interval_chart(df: pd.DataFrame, value: str, low: str, high: str, title: str, key: str,
                    scale: float = 1.0, rng: tuple[float, float] = (0, 100)) -> None:
    """Dots with 95 % interval whiskers, one row per region; insufficient samples in grey and labelled."""
    d = df.sort_values(value)
    ok = d.sample_sufficient.fillna(False).astype(bool)
    fig = go.Figure()
    for mask, name, colour, suffix in ((ok, "样本充足", ui.RED, ""),
                                       (~ok, f"{INSUFFICIENT}（<{_min_sample(d)}人，不参与排名）", ui.GREY, f"（{INSUFFICIENT}）")):
        part = d[mask]
        if part.empty:
            continue
        v = part[value] * scale
        fig.add_scatter(
            x=v, y=part.region_name, mode="markers+text", name=name, marker=dict(size=11, color=colour),
            text=[f"{x:.1f}{suffix}" for x in v],
            textposition="top center",
            error_x=dict(type="data", symmetric=False, array=(part[high] - part[value]) * scale,
                         arrayminus=(part[value] - part[low]) * scale, color=colour, thickness=1.5, width=6),
            hovertemplate="%{y}: %{x:.1f}<extra></extra>",
        )
    # One order for both traces (by value), and head-room above the top row for its label.
    fig.update_yaxes(categoryorder="array", categoryarray=list(d.region_name), range=[-0.6, len(d) - 0.2])
    fig.update_layout(xaxis_title=title, xaxis_range=list(rng), yaxis_title="")
    ui.chart(fig, key=key, height=max(260, 90 + 42 * len(d)))


def _questions(wave: str, regions: pd.Series, src: data.Source) -> None:
    """Per question: which aspect the public rates low, for the regions compared above and the viewer's top region."""
    qs = data.satisfaction_questions(wave, src)
    if qs.empty:
        return
    top = qs[qs.level_rank == qs.level_rank.min()]
    shown = pd.concat([top, qs[qs.region_code.isin(regions) & ~qs.region_code.isin(top.region_code)]])
    st.markdown("##### 分题满意度指数")
    labels = {q: f"第{int(n)}题" if pd.notna(n) else str(q) for q, n in zip(shown.question, shown.question_no, strict=True)}
    order = [labels[q] for q in shown.sort_values("question_no").question.drop_duplicates()]
    # An insufficient sample is printed with a *, as in the table below.
    text = shown.satisfaction_index.round(1).astype(str).where(shown.sample_sufficient.astype(bool),
                                                                 shown.satisfaction_index.round(1).astype(str) + "*")
    grid = shown.assign(题目=shown.question.map(labels), 文本=text)
    z = grid.pivot_table(index="region_name", columns="题目", values="satisfaction_index", aggfunc="first", sort=False)
    t = grid.pivot_table(index="region_name", columns="题目", values="文本", aggfunc="first", sort=False)
    z, t = z.reindex(columns=order), t.reindex(columns=order)
    fig = px.imshow(z.round(1), aspect="auto", color_continuous_scale="RdYlGn", zmin=50, zmax=100,
                    labels={"x": "题目", "y": "", "color": "满意度指数"})
    fig.update_traces(text=t.values, texttemplate="%{text}")
    ui.chart(fig, key="sat_questions", height=max(240, 80 + 36 * len(z)))
    st.caption(f"带 \\* 的格为样本不足（该题有效回答少于{_min_sample(shown)}个）。题目编号与问卷模板一致（Q1…Q10）。")
    table = pd.DataFrame({
        "区划": shown.region_name, "题目": shown.question.map(labels), "有效回答": shown.valid_answers,
        "满意率(%)": (shown.satisfaction_rate * 100).round(1), "满意度指数": shown.satisfaction_index.round(1),
        "指数下限": shown.index_ci_low.round(1), "指数上限": shown.index_ci_high.round(1),
        "样本": shown.sample_sufficient.astype(bool).map({True: "充足", False: INSUFFICIENT}),
    })
    with st.expander("分题明细表"):
        ui.table(table, f"分题满意度_{wave}", key="sat_q_table", marked=["样本"])


def render() -> None:
    src = ui.page_start("满意度", "满意度指数（0-100）= 有效回答得分均值（很满意100、满意80、基本满意60、不满意30、很不满意0）；"
                        "满意率 = 很满意+满意+基本满意 / 有效回答；误差线为95%置信区间。")
    sat = data.satisfaction(src)
    if sat.empty:
        ui.empty("满意度测评")
        return
    waves = sorted(sat.wave.astype(str).unique(), reverse=True)
    wave = ui.filter_select("测评批次", waves, key="sat_wave", format_func=lambda w: f"{w}年度")
    w = sat[sat.wave.astype(str) == wave]
    # City viewers compare counties; a county user sees the county and its towns.
    level = "县" if src.county is None else None
    view = w[w.region_level == level] if level and (w.region_level == level).any() else w
    if src.county is None and view.empty:
        view = w
    view = ui.chart_rows(view, "satisfaction_index", what="满意度指数")
    left, right = st.columns(2)
    with left:
        st.markdown("##### 满意度指数（95%置信区间）")
        _interval_chart(view, "satisfaction_index", "index_ci_low", "index_ci_high", "满意度指数", key="sat_index",
                        rng=(max(0.0, float(view.index_ci_low.min()) - 5), 100))
    with right:
        st.markdown("##### 满意率（95%置信区间）")
        _interval_chart(view, "satisfaction_rate", "rate_ci_low", "rate_ci_high", "满意率(%)", key="sat_rate",
                        scale=100, rng=(max(0.0, float(view.rate_ci_low.min()) * 100 - 5), 100))
    insufficient = ~w.sample_sufficient.fillna(False).astype(bool)
    if insufficient.any():
        st.warning(f"{INSUFFICIENT}：" + "、".join(map(ui.md, w[insufficient].region_name)) + f"（有效受访者少于{_min_sample(w)}人，结果仅供参考，不参与排名）")
    table = pd.DataFrame({
        "区划": w.region_name, "层级": w.region_level, "受访人数": w.respondents, "有效回答": w.valid_answers,
        "满意回答": w.satisfied_answers, "满意率(%)": (w.satisfaction_rate * 100).round(1),
        "满意率下限(%)": (w.rate_ci_low * 100).round(1), "满意率上限(%)": (w.rate_ci_high * 100).round(1),
        "满意度指数": w.satisfaction_index.round(1), "指数下限": w.index_ci_low.round(1),
        "指数上限": w.index_ci_high.round(1),
        "样本": w.sample_sufficient.fillna(False).astype(bool).map({True: "充足", False: INSUFFICIENT}),
    })
    ui.table(table, f"满意度_{wave}", key="sat_table", marked=["样本"])
    _questions(wave, view.region_code, src)


render()
