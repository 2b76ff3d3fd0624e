"""清廉单元: coverage by region x unit type; drill-down county -> town -> village -> units."""

from __future__ import annotations

import pandas as pd
import plotly.express as px
import streamlit as st

from dashboards import data, exports, ui
from dashboards.exports import percents

TYPE_ORDER = ["机关", "学校", "医院", "企业", "工程", "村居"]


def _coverage_table(cov: pd.DataFrame) -> pd.DataFrame:
    """One row per region: all types, then the coverage per type (rates in %)."""
    allt = cov[cov.unit_type == "全部"]
    out = pd.DataFrame({
        "区划": allt.region_name.values, "区划代码": allt.region_code.values,
        "登记单元": allt.units_registered.values, "已启动": allt.units_started.values,
        "已达标": allt.units_standard.values, "示范": allt.units_model.values,
        "达标率(%)": percents(allt.coverage_rate).values, "启动率(%)": percents(allt.start_rate).values,
        "示范率(%)": percents(allt.model_rate).values,
    })
    by_type = cov[cov.unit_type != "全部"].pivot_table(index="region_code", columns="unit_type", values="coverage_rate",
                                                       aggfunc="first")
    by_type = by_type.reindex(columns=[t for t in TYPE_ORDER if t in by_type.columns]
                              + [t for t in by_type.columns if t not in TYPE_ORDER]).apply(percents)
    by_type.columns = [f"{t}达标率(%)" for t in by_type.columns]
    return out.merge(by_type, left_on="区划代码", right_index=True, how="left")


def _heatmap(cov: pd.DataFrame, key: str) -> None:
    allt = cov[cov.unit_type == "全部"]
    keep = set(ui.chart_rows(allt, "coverage_rate", what="达标率").region_code)
    cov = cov[cov.region_code.isin(keep)]
    m = cov[cov.unit_type != "全部"].pivot_table(index="region_name", columns="unit_type", values="coverage_rate",
                                                 aggfunc="first")
    if m.empty:
        return
    m = m.reindex(columns=[t for t in TYPE_ORDER if t in m.columns] + [t for t in m.columns if t not in TYPE_ORDER])
    z = m.apply(percents)
    fig = px.imshow(z, aspect="auto", color_continuous_scale="RdYlGn", zmin=0, zmax=100,
                    labels={"x": "单元类型", "y": "区划", "color": "达标率(%)"})
    # the cell text and the hover from the same rounding as the table (80.0, not 80)
    text = [exports.texts(row, 1) for row in z.to_numpy()]
    fig.update_traces(text=text, texttemplate="%{text}", hovertemplate="%{y} · %{x}：%{text}%<extra></extra>")
    ui.chart(fig, key=key, height=max(240, 80 + 40 * len(z)))


def _level_block(src: data.Source, quarter: str, parent: str, label: str, key: str) -> pd.DataFrame:
    cov = data.coverage(quarter, parent=parent, src=src)
    if cov.empty:
        st.info(f"{label}下没有清廉单元数据。")
        return cov
    _heatmap(cov, key=f"heat_{key}")
    ui.table(_coverage_table(cov), f"清廉单元_{label}_{quarter}", key=f"cov_{key}", name_col="区划")
    return cov


def render() -> None:
    src = ui.page_start("清廉单元", "达标率 = 已达标及示范单元 / 登记单元；区划汇总包含其下全部乡镇、村。")
    quarter = ui.quarter_select(src, key="units_quarter")
    if quarter is None:
        ui.empty("清廉单元")
        return
    names = data.name_map(src)
    if src.county is None:
        st.markdown("##### 各县区达标率（区划 × 单元类型）")
        counties = data.coverage(quarter, level="县", src=src)
        if counties.empty:
            ui.empty("清廉单元")
            return
        _heatmap(counties, key="heat_counties")
        ui.table(_coverage_table(counties), f"清廉单元_县区_{quarter}", key="cov_counties", name_col="区划")
        county_codes = sorted(counties.region_code.unique())
        county = ui.filter_select("下钻：选择县区", county_codes, format_func=lambda c: names.get(c, c), key="units_county")
    else:
        county = src.county
    if county is None:
        return
    st.markdown(f"##### {ui.md(names.get(county, county))} · 各乡镇（街道）")
    towns = _level_block(src, quarter, county, names.get(county, county), key="towns")
    target = county
    if not towns.empty:
        town_codes = sorted(towns.region_code.unique())
        town = ui.filter_select("下钻：选择乡镇（街道）", ["(全县)", *town_codes],
                                format_func=lambda c: "全县" if c == "(全县)" else names.get(c, c), key="units_town")
        if town and town != "(全县)":
            target = town
            st.markdown(f"##### {ui.md(names.get(town, town))} · 各村（社区）")
            _level_block(src, quarter, town, names.get(town, town), key="villages")
    st.markdown(f"##### 单元清单：{ui.md(names.get(target, target))}")
    units = data.unit_rows(target, quarter, src)
    if units.empty:
        st.info("没有单元记录。")
        return
    units = data.with_names(units, "region_code", names, "所属区划")
    units = units.rename(columns={"unit_code": "单元编码", "unit_name": "单元名称", "unit_type": "单元类型",
                                  "region_code": "区划代码", "stage": "创建阶段", "stage_level": "阶段值", **ui.LINEAGE})
    ui.table(units, f"单元清单_{names.get(target, target)}_{quarter}", key="unit_list",
             column_config=ui.lineage_config(), caption="每个单元可追溯到报送文件、工作表和行号。最多显示 5000 行。")


render()
