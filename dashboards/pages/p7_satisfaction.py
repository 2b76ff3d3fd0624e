"""满意度: index and rate with 95 % intervals by region; regions under the rules' min_sample respondents marked 样本不足."""

from __future__ import annotations

import pandas as pd
import plotly.express as px
import plotly.graph_objects as go
import streamlit as st

from dashboards import data, exports, ui
from dashboards.exports import percents, scores

INSUFFICIENT = "样本不足"
PHONE_HEATMAP_COLUMNS = 6  # regions whose values still fit side by side on a 390-pixel screen


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
    for mask, name, colour, suffix in ((ok, "样本充足", ui.PALETTE[0], ""),
                                       (~ok, f"{INSUFFICIENT}（<{_min_sample(d)}人，不参与排名）", ui.GREY, f"（{INSUFFICIENT}）")):
        part = d[mask]
        if part.empty:
            continue
        v = percents(part[value]) if scale == 100 else scores(part[value])  # as the table rounds
        labels = exports.texts(v, 1 if scale == 100 else 2)
        fig.add_scatter(
            x=v, y=part.region_name, mode="markers+text", name=name, marker=dict(size=11, color=colour),
            text=[f"{x}{suffix}" for x in labels], customdata=labels,
            textposition="top center",
            error_x=dict(type="data", symmetric=False, array=(part[high] - part[value]) * scale,
                         arrayminus=(part[value] - part[low]) * scale, color=colour, thickness=1.5, width=6),
            hovertemplate=f"%{{y}}：%{{customdata}}{'%' if scale == 100 else ''}{suffix}<extra></extra>",
        )
    # One order for both traces (by value), and head-room above the top row for its label.
    fig.update_yaxes(categoryorder="array", categoryarray=list(d.region_name), range=[-0.6, len(d) - 0.2])
    fig.update_layout(xaxis_title=title, xaxis_range=list(rng), yaxis_title="")
    ui.chart(fig, key=key, height=max(260, 90 + 42 * len(d)))


def _question_labels(shown: pd.DataFrame, src: data.Source) -> dict[str, str]:
    """Q3 -> 'Q3 对政务服务便民高效情况的评价' (the questionnaire's wording, marts.dim_survey_questions);
    the number alone for a question the questionnaire does not list."""
    texts = data.survey_question_texts(src)
    labels = {}
    for q, n in zip(shown.question, shown.question_no, strict=True):
        code = f"Q{int(n)}" if pd.notna(n) else str(q)
        labels[q] = f"{code} {texts[q]}" if texts.get(q) else code
    return labels


def _heatmap(z: pd.DataFrame, t: pd.DataFrame, hover: pd.Index | None = None) -> go.Figure:
    """Questions × regions, coloured by the index, each cell printed with its text (`*` = small sample)."""
    fig = px.imshow(z, aspect="auto", color_continuous_scale="RdYlGn", zmin=50, zmax=100,
                    labels={"x": "区划", "y": "题目", "color": "满意度指数"})
    names = (hover if hover is not None else z.index).to_numpy()
    fig.update_traces(text=t.values, texttemplate="%{text}", customdata=[[n] * z.shape[1] for n in names],
                      hovertemplate="%{x} · %{customdata}<br>满意度指数 %{text}<extra></extra>")
    fig.update_xaxes(side="top", title_text="")
    fig.update_yaxes(title_text="")
    return fig


def _questions(wave: str, regions: pd.Series, src: data.Source) -> None:
    """Per question: which aspect the public rates low, for the regions compared above and the viewer's top region."""
    qs = data.satisfaction_questions(wave, src)
    if qs.empty:
        return
    top = qs[qs.level_rank == qs.level_rank.min()]
    shown = pd.concat([top, qs[qs.region_code.isin(regions) & ~qs.region_code.isin(top.region_code)]])
    st.markdown("##### 分题满意度指数")
    labels = _question_labels(shown, src)
    order = [labels[q] for q in shown.sort_values("question_no").question.drop_duplicates()]
    index = scores(shown.satisfaction_index)  # an index is a score: 2 decimals, as on the overview
    # An insufficient sample is printed with a *, as in the table below.
    text = pd.Series(exports.texts(index, 2), index=shown.index)
    text = text.where(shown.sample_sufficient.astype(bool), text + "*")
    grid = shown.assign(题目=shown.question.map(labels), 指数=index.to_numpy(), 文本=text)
    # One row per question (its wording is long), one column per region.
    z = grid.pivot_table(index="题目", columns="region_name", values="指数", aggfunc="first", sort=False)
    t = grid.pivot_table(index="题目", columns="region_name", values="文本", aggfunc="first", sort=False)
    regions_order = list(dict.fromkeys(grid.region_name))
    z, t = z.reindex(index=order, columns=regions_order), t.reindex(index=order, columns=regions_order)
    height = max(260, 90 + 34 * len(z))
    with st.container(key="wide-sat_questions"):
        ui.chart(_heatmap(z, t), key="sat_questions", height=height)
    with st.container(key="narrow-sat_questions"):
        # On a phone the questions' wording would take the whole width: numbers on the axis, wording below.
        codes = {label: label.split(" ", 1)[0] for label in order}
        narrow = _heatmap(z.rename(index=codes), t.rename(index=codes), hover=z.index)
        # the colour scale's bar would take a quarter of the width; the printed values say the same
        narrow.update_layout(coloraxis_showscale=False)
        crowded = z.shape[1] > PHONE_HEATMAP_COLUMNS  # printed values would overlap: colour only, values on tap
        narrow.update_traces(textfont_size=10, texttemplate="" if crowded else "%{text}")
        ui.chart(narrow, key="sat_questions_phone", height=height)
        st.caption(("点按色块查看数值（数值亦见下方分题明细表）。" if crowded else "") + "；".join(order))
    st.caption(f"带 \\* 的格为样本不足（该题有效回答少于{_min_sample(shown)}个）。题目编号与问卷模板一致（Q1…Q{len(order)}）。")
    table = pd.DataFrame({
        "区划": shown.region_name, "题目": shown.question.map(labels), "有效回答": shown.valid_answers,
        "满意率(%)": percents(shown.satisfaction_rate).to_numpy(), "满意度指数": index.to_numpy(),
        "指数下限": scores(shown.index_ci_low).to_numpy(), "指数上限": scores(shown.index_ci_high).to_numpy(),
        "样本": shown.sample_sufficient.astype(bool).map({True: "充足", False: INSUFFICIENT}),
    })
    with st.expander("分题明细表"):
        ui.table(table, f"分题满意度_{wave}", key="sat_q_table", marked=["样本"], name_col="区划")


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
        "满意回答": w.satisfied_answers, "满意率(%)": percents(w.satisfaction_rate).to_numpy(),
        "满意率下限(%)": percents(w.rate_ci_low).to_numpy(), "满意率上限(%)": percents(w.rate_ci_high).to_numpy(),
        "满意度指数": scores(w.satisfaction_index).to_numpy(), "指数下限": scores(w.index_ci_low).to_numpy(),
        "指数上限": scores(w.index_ci_high).to_numpy(),
        "样本": w.sample_sufficient.fillna(False).astype(bool).map({True: "充足", False: INSUFFICIENT}),
    })
    ui.table(table, f"满意度_{wave}", key="sat_table", marked=["样本"], name_col="区划")
    _questions(wave, view.region_code, src)


render()
