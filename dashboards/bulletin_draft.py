"""The written part of the 季度通报, drafted from the published marts the way an office drafts it by
hand: who got each flag and by which indicators, who rose and fell and why, ties and near-ties,
vetoes, 约谈, overdue rectifications by escalation stage, lagging tasks and early warnings.

Every number in the text is a value of a published row (the scorecard, its indicator columns with
numerator and denominator, the overdue/escalation ledger), so a reader can find it in the tables
that follow; the rules (quotas, veto days, near-tie margin, stage limits) are the values those rows
carry. The draft is a list of `Section`s of `Para`s made of runs; a run may carry a mark (红旗,
蜗牛, 否决, 约谈, 边界接近, 并列 …) that the PDF and the .docx colour the same way.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd

from dashboards import data, data_ranking
from dashboards.exports import half_up, pct, score  # score: 2 decimals, half up, as on every page

Run = tuple[str, str | None]

CN_NUM = "一二三四五六七八九十"


@dataclass
class Para:
    runs: list[Run] = field(default_factory=list)

    def add(self, text: str, mark: str | None = None) -> Para:
        self.runs.append((text, mark))
        return self

    @property
    def text(self) -> str:
        return "".join(t for t, _ in self.runs)


@dataclass
class Section:
    title: str
    paras: list[Para] = field(default_factory=list)

    def para(self, text: str = "", mark: str | None = None) -> Para:
        p = Para()
        if text:
            p.add(text, mark)
        self.paras.append(p)
        return p


def _int(x: object) -> str:
    return "—" if x is None or pd.isna(x) else str(int(x))


def indicator_value(row: pd.Series) -> str:
    """'整改完成率 85.0%（17/20）' / '满意度指数 79.50（受访 312 人）' for one contribution row."""
    if row.indicator == "satisfaction":
        who = f"（受访 {_int(row.respondents)} 人）" if pd.notna(row.respondents) else ""
        return f"{row.label} {score(row.rate)}{who}"
    frac = f"（{_int(row.numerator)}/{_int(row.denominator)}）" if pd.notna(row.denominator) else ""
    return f"{row.label} {pct(row.rate)}{frac}"


def _names(values: list[str] | pd.Series) -> str:
    return "、".join(str(v) for v in values)


# --- the sections -----------------------------------------------------------------------------


@dataclass
class Inputs:
    """What the draft reads, loaded once (also used by the renderers' tables)."""
    quarter: str
    county: str | None
    detail: pd.DataFrame          # scorecard rows of this and the previous quarter
    contrib: pd.DataFrame         # marts.scorecard_contributions of those quarters
    means: pd.DataFrame           # group means per indicator
    tie_rule: str
    overdue: pd.DataFrame         # overdue issues at the quarter end (with stage when published)
    stages: pd.DataFrame          # escalation stages in force (may be empty)
    lagging: pd.DataFrame
    warnings: pd.DataFrame        # early warnings (may be empty)
    headline: pd.Series | None
    names: dict[str, str]


def load_inputs(src: data.Source, quarter: str) -> Inputs:
    from dashboards import data_warnings

    prev = data.previous_quarter(quarter)
    qs = [q for q in (prev, quarter) if q]
    detail = data_ranking.scorecard_detail(qs, src)
    contrib = data_ranking.contributions(qs, src)
    hb = data.headline_by_quarter(src)
    head = hb[hb.quarter == quarter].iloc[0] if not hb.empty and (hb.quarter == quarter).any() else None
    return Inputs(
        quarter=quarter, county=src.county, detail=detail, contrib=contrib,
        means=data_ranking.group_means(qs, src), tie_rule=data_ranking.tie_break_rule(src),
        overdue=data_warnings.overdue_with_stage(quarter, src), stages=data_warnings.escalation_stages(quarter, src),
        lagging=data.lagging_tasks(quarter, src), warnings=data_warnings.latest_warnings(quarter, src),
        headline=head, names=data.name_map(src),
    )


def _cur(inp: Inputs, group: str) -> pd.DataFrame:
    d = inp.detail
    if d.empty:
        return d
    return d[(d.quarter == inp.quarter) & (d.body_group == group)].sort_values("rank")


def _prev(inp: Inputs, group: str) -> pd.DataFrame:
    d = inp.detail
    if d.empty:
        return d
    return d[(d.quarter == data.previous_quarter(inp.quarter)) & (d.body_group == group)]


def _body_contrib(inp: Inputs, group: str, body: str, quarter: str | None = None) -> pd.DataFrame:
    c = inp.contrib
    if c.empty:
        return c
    q = quarter or inp.quarter
    return c[(c.body_group == group) & (c.body_code == body) & (c.quarter == q)]


def _with_means(inp: Inputs, part: pd.DataFrame) -> pd.DataFrame:
    return part.merge(inp.means, on=["body_group", "quarter", "indicator"], how="left")


def overview_section(inp: Inputs, scope_name: str) -> Section:
    sec = Section("总体情况")
    h = inp.headline
    if h is not None:
        bits = []
        if "task_rate" in h and pd.notna(h.get("task_rate")):
            bits.append(f"重点任务推进率 {pct(h.task_rate)}（{_int(h.tasks_on_schedule)}/{_int(h.tasks_active)} 项按序推进或已完成）")
        if "coverage_rate" in h and pd.notna(h.get("coverage_rate")):
            bits.append(f"清廉单元达标率 {pct(h.coverage_rate)}（{_int(h.units_standard)}/{_int(h.units_registered)} 个）")
        if "rectification_rate" in h and pd.notna(h.get("rectification_rate")):
            bits.append(f"巡察问题整改完成率 {pct(h.rectification_rate)}（{_int(h.issues_rectified)}/{_int(h.issues_due)} 个到期问题）")
        if "overdue_open" in h and pd.notna(h.get("overdue_open")):
            bits.append(f"逾期未整改问题 {_int(h.overdue_open)} 个")
        if bits:
            sec.para(f"{data.quarter_label(inp.quarter)}，{scope_name}" + "，".join(bits) + "。")
    for group, label in data.GROUP_LABELS.items():
        cur = _cur(inp, group)
        if cur.empty:
            continue
        r0 = cur.iloc[0]
        sec.para(f"{label}组共 {_int(r0.bodies_ranked)} 个考核对象参与排名，按规则版本 {r0.rules_version} 计分：前 "
                 f"{_int(r0.red_flags_quota)} 名获红旗、后 {_int(r0.snails_quota)} 名为蜗牛；有问题逾期超过 "
                 f"{_int(r0.veto_days)} 天未整改的不得评红旗。")
    return sec


def _flag_para(sec: Section, inp: Inputs, row: pd.Series, one_indicator: bool) -> None:
    group = row.body_group
    label = data.GROUP_LABELS[group]
    part = _with_means(inp, _body_contrib(inp, group, row.body_code)).dropna(subset=["score"])
    part = part.sort_values("contribution", ascending=False)
    p = sec.para()
    p.add(f"{row.body_name}", None).add(f"（{row.flag}）", row.flag)
    p.add(f"：第 {_int(row['rank'])} 名，综合得分 {score(row.composite_score)} 分。")
    if not part.empty:
        p.add("各项计分：" + "；".join(
            f"{indicator_value(r)}，得分 {score(r.score)}、实际权重 {half_up(r.weight_used, 1):.1f}%，计 {score(r.contribution)} 分"
            for r in part.itertuples()) + "。")
        if row.flag == "红旗":
            strong = part[part.score > part.group_mean].sort_values("score", ascending=False)
            if not strong.empty:
                p.add(f"高于{label}平均的指标：" + "、".join(
                    f"{r.label}（{score(r.score)}，平均 {score(r.group_mean)}）" for r in strong.itertuples()) + "。")
        else:
            weak = part.assign(gap=part.group_mean - part.score)
            weak = weak[weak.gap > 0].sort_values("gap", ascending=False)
            if not weak.empty:
                p.add("主要失分指标：" + "、".join(
                    f"{indicator_value(r)}，得分 {score(r.score)}，低于{label}平均 {score(r.group_mean)}"
                    for r in weak.itertuples()) + "。")
    if pd.notna(row.missing_indicators) and str(row.missing_indicators):
        p.add(f"缺少指标：{row.missing_indicators}（其余指标权重按比例放大）。")
    if one_indicator:
        p.add("注意：该对象本季度只有 1 项指标有数据，旗帜仅依据这一项指标。", "单项")
    if pd.notna(row.margin):
        side = "未获红旗且未被否决的最好对象" if row.flag == "红旗" else "未列蜗牛的最差对象"
        p.add(f"与{side}相差 {score(row.margin)} 分")
        if bool(row.near_tie):
            p.add("（边界接近）", "边界接近")
        p.add("。")


def flags_section(inp: Inputs) -> Section:
    sec = Section("红旗和蜗牛")
    single = data_ranking.one_indicator_flags(inp.contrib)
    for group, label in data.GROUP_LABELS.items():
        cur = _cur(inp, group)
        if cur.empty:
            continue
        if inp.county is not None:
            r = cur.iloc[0]
            p = sec.para(f"本县区（{r.body_name}）本季度在{label}组排第 {_int(r['rank'])} 名"
                         + (f"（共 {_int(r.bodies_ranked)} 个）" if pd.notna(r.bodies_ranked) else "") + "，"
                         f"综合得分 {score(r.composite_score)} 分，")
            if pd.notna(r.flag):
                p.add(f"获{r.flag}", r.flag).add("。")
            else:
                p.add("未获红旗，也未列为蜗牛。")
            p.add(f"{label}组红旗、蜗牛名单见全市通报。")
            for _, row in cur[cur.flag.notna()].iterrows():
                _flag_para(sec, inp, row, (group, row.body_code, inp.quarter) in single)
            continue
        reds, snails = cur[cur.flag == "红旗"], cur[cur.flag == "蜗牛"]
        p = sec.para(f"{label}组：")
        p.add("红旗", "红旗").add(f" {_names(reds.body_name) or '无'}；")
        p.add("蜗牛", "蜗牛").add(f" {_names(snails.body_name) or '无'}。")
        for _, row in pd.concat([reds, snails]).iterrows():
            _flag_para(sec, inp, row, (group, row.body_code, inp.quarter) in single)
    return sec


def _driver(inp: Inputs, group: str, body: str, up: bool) -> str:
    """The indicator whose contribution moved most in the direction of the rank change."""
    cur = _body_contrib(inp, group, body)
    prev = _body_contrib(inp, group, body, data.previous_quarter(inp.quarter))
    if cur.empty or prev.empty:
        return ""
    m = cur.merge(prev, on="indicator", suffixes=("", "_prev"))
    m["delta"] = m.contribution.fillna(0) - m.contribution_prev.fillna(0)
    m = m[m.delta > 0] if up else m[m.delta < 0]
    if m.empty:
        return ""
    r = m.loc[m.delta.abs().idxmax()]

    def val(rate: object, ind: str) -> str:
        return score(rate) if ind == "satisfaction" else pct(rate)
    return (f"，主要因为{r.label}由 {val(r.rate_prev, r.indicator)} {'升' if up else '降'}至 {val(r.rate, r.indicator)}"
            f"（计分 {r.delta:+.2f} 分）")


def movement_section(inp: Inputs, top: int = 3) -> Section:
    sec = Section("名次变化")
    prev_q = data.previous_quarter(inp.quarter)
    for group, label in data.GROUP_LABELS.items():
        cur, prev = _cur(inp, group), _prev(inp, group)
        if cur.empty or prev.empty:
            continue
        m = cur.merge(prev[["body_code", "rank", "composite_score", "flag"]], on="body_code", suffixes=("", "_prev"))
        m["change"] = m.rank_prev - m["rank"]
        risers = m[m.change > 0].sort_values(["change", "rank"], ascending=[False, True]).head(top)
        fallers = m[m.change < 0].sort_values(["change", "rank"], ascending=[True, True]).head(top)
        if risers.empty and fallers.empty:
            sec.para(f"{label}组名次与 {prev_q} 相同。")
            continue
        for title, part, up in (("上升", risers, True), ("下降", fallers, False)):
            for r in part.itertuples():
                if pd.isna(r.composite_score):
                    sec.para(f"{label}组 {r.body_name} 本季度没有任何指标数据（{r.missing_indicators or '全部指标缺项'}），"
                             f"不参与评比，排在最后（上季度第 {int(r.rank_prev)} 名）。")
                    continue
                d = r.composite_score - r.composite_score_prev if pd.notna(r.composite_score_prev) else None
                text = (f"{label}组 {r.body_name} {title} {abs(int(r.change))} 位（第 {int(r.rank_prev)} 名 → 第 {int(r.rank)} 名），"
                        f"综合得分 {score(r.composite_score_prev)} → {score(r.composite_score)}"
                        + (f"（{d:+.2f} 分）" if d is not None and pd.notna(d) else "")
                        + (_driver(inp, group, r.body_code, up) or ("，其他对象得分提高更多" if not up and d and d > 0 else ""))
                        + "。")
                p = sec.para(text)
                if pd.notna(r.flag) and r.flag != r.flag_prev:
                    p.add(f"本季度获{r.flag}", r.flag).add("。")
                elif pd.isna(r.flag) and pd.notna(r.flag_prev):
                    p.add(f"上季度为{r.flag_prev}，本季度不再是。")
    return sec


def ties_section(inp: Inputs) -> Section:
    sec = Section("并列与边界接近")
    rule = inp.tie_rule
    for group, label in data.GROUP_LABELS.items():
        cur = _cur(inp, group)
        if cur.empty or inp.county is not None:
            continue
        for t in data_ranking.ties(cur).itertuples():
            p = sec.para()
            p.add("并列", "并列")
            p.add(f"：{label}组 {t.size} 个对象综合得分同为 {score(t.composite_score)} 分（第 {min(t.ranks)}—{max(t.ranks)} 名："
                  f"{_names(t.names)}）")
            p.add(f"，名次按排名规则确定：{rule}。" if rule else "。")
        near = cur[cur.near_tie.fillna(False).astype(bool)]
        for r in near.itertuples():
            p = sec.para()
            p.add("边界接近", "边界接近")
            side = "未获红旗的最好对象" if r.flag == "红旗" else "未列蜗牛的最差对象"
            p.add(f"：{label}组 {r.body_name}（").add(str(r.flag), r.flag).add(f"）与{side}仅相差 {score(r.margin)} 分"
                                                                          f"（不足 {score(r.near_tie_margin)} 分）。")
    if not sec.paras:
        sec.para("本季度没有并列或边界接近的情况。")
    return sec


def veto_talk_section(inp: Inputs) -> Section:
    sec = Section("一票否决与约谈")
    for group, label in data.GROUP_LABELS.items():
        cur = _cur(inp, group)
        if cur.empty:
            continue
        quota = int(cur.iloc[0].red_flags_quota) if pd.notna(cur.iloc[0].red_flags_quota) else 0
        passed_to = cur[(cur.flag == "红旗") & (cur["rank"] > quota)]
        for r in cur[cur.veto.fillna(False).astype(bool)].itertuples():
            p = sec.para()
            p.add(f"{label}组 {r.body_name} ").add("一票否决", "否决")
            p.add(f"：有问题逾期 {_int(r.max_days_overdue)} 天未整改（超过 {_int(r.veto_days)} 天），不得评红旗")
            if pd.notna(r.rank) and int(r.rank) <= quota:
                p.add(f"；按得分本应位列第 {int(r.rank)} 名获红旗，红旗顺延给 {_names(passed_to.body_name) or '下一名'}")
            p.add("。")
        prev = _prev(inp, group).set_index("body_code") if not _prev(inp, group).empty else pd.DataFrame()
        for r in cur[cur.talk_required.fillna(False).astype(bool)].itertuples():
            p = sec.para()
            p.add(f"{label}组 {r.body_name} ").add("约谈", "约谈")
            prev_rank = f"第 {int(prev.loc[r.body_code, 'rank'])} 名" if r.body_code in prev.index else ""
            p.add(f"：{data.previous_quarter(inp.quarter)}（{prev_rank}）和 {inp.quarter}（第 {int(r.rank)} 名）连续两个季度为蜗牛，须约谈。")
    if not sec.paras:
        sec.para("本季度没有一票否决或须约谈的对象。")
    return sec


def overdue_section(inp: Inputs) -> Section:
    sec = Section("逾期未整改问题与督办升级")
    od = inp.overdue
    if od.empty:
        sec.para("季末没有逾期未整改的巡察问题。")
        return sec
    sec.para(f"季末逾期未整改的巡察问题共 {len(od)} 个，涉及 {od.body_code.nunique()} 个责任对象，最长逾期 {_int(od.days_overdue.max())} 天。")
    if "stage" in od.columns and od.stage.notna().any() and not inp.stages.empty:
        parts = []
        for s in inp.stages.sort_values("stage_order").itertuples():
            n = int((od.stage == s.stage).sum())
            parts.append(f"{s.stage}（{s.range_text}）{n} 个")
        p = sec.para("按督办升级阶段：" + "，".join(parts) + "。")
        for s in inp.stages.sort_values("stage_order", ascending=False).itertuples():
            part = od[od.stage == s.stage]
            if part.empty:
                continue
            by = part.groupby("body_code").agg(n=("issue_code", "size"), worst=("days_overdue", "max")).sort_values(
                "worst", ascending=False)
            p = sec.para()
            p.add(s.stage, s.stage).add("：" + "；".join(
                f"{inp.names.get(b, b)} {int(r.n)} 个（最长 {int(r.worst)} 天）" for b, r in by.iterrows()) + "。")
    else:
        by = od.groupby("body_code").agg(n=("issue_code", "size"), worst=("days_overdue", "max")).sort_values(
            "worst", ascending=False)
        sec.para("按责任对象：" + "；".join(f"{inp.names.get(b, b)} {int(r.n)} 个（最长 {int(r.worst)} 天）"
                                         for b, r in by.iterrows()) + "。")
    sec.para("问题明细（问题编号、整改时限、逾期天数、报送文件及行号）见附表。")
    return sec


def lagging_section(inp: Inputs) -> Section:
    sec = Section("滞后及未报送的重点任务")
    lag = inp.lagging
    if lag.empty:
        sec.para("本季度重点任务均按序推进或已完成。")
        return sec
    status = lag.status.value_counts()
    sec.para(f"本季度未按序推进的重点任务共 {len(lag)} 项：" + "，".join(f"{k} {int(v)} 项" for k, v in status.items()) + "。")
    by = lag.groupby("owner_code").size().sort_values(ascending=False)
    sec.para("按牵头单位：" + "；".join(f"{inp.names.get(o, o)} {int(n)} 项" for o, n in by.items()) + "。明细见附表。")
    return sec


def warnings_section(inp: Inputs) -> Section | None:
    w = inp.warnings
    if w.empty:
        return None
    sec = Section("风险预警")
    as_of = pd.Timestamp(w.as_of.iloc[0])
    sec.para(f"截至 {as_of:%Y-%m-%d}，按已报送的数据预计：")
    for kind, part in w.groupby("kind_label", sort=False):
        sec.para(f"{kind} {len(part)} 条：" + "；".join(
            f"{r.body_name}：{r.reason}（请于 {pd.Timestamp(r.act_by):%Y-%m-%d} 前处理）" for r in part.head(8).itertuples())
            + ("；……" if len(part) > 8 else "") + "。")
    return sec


def draft(inp: Inputs, scope_name: str) -> list[Section]:
    sections = [overview_section(inp, scope_name), flags_section(inp), movement_section(inp)]
    if inp.county is None:
        sections.append(ties_section(inp))
    sections += [veto_talk_section(inp), overdue_section(inp), lagging_section(inp)]
    w = warnings_section(inp)
    if w is not None:
        sections.append(w)
    for i, s in enumerate(sections):
        s.title = f"{CN_NUM[i]}、{s.title}"
    return sections
