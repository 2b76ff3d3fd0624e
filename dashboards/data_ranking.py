"""Ranking reads for the cockpit (总览, 红旗/蜗牛榜, 季度通报): the published scorecard with every
indicator's score, weight, weight used, numerator and denominator in long form, ties, and the
ranking rule's own wording.

Nothing here computes a rule: quotas, the veto threshold and the near-tie margin are columns of
the scorecard row the warehouse published (the rules in force for that quarter), and the
tie-break rule is quoted from the scorecard table's own documentation (the dbt description the
warehouse persists as the table comment). All SQL goes through data.Source (scoped per viewer).
"""

from __future__ import annotations

import re

import pandas as pd

from dashboards import data

# The scorecard's wide indicator columns a page may still show beside the ranking (score, weight,
# weight used, value, numerator, denominator); the arithmetic behind them is the warehouse's.
_INDICATOR_COLUMNS = [
    ("task_score", "task_weight", "task_weight_used", "task_rate", "tasks_on_schedule", "tasks_active"),
    ("coverage_score", "coverage_weight", "coverage_weight_used", "coverage_rate", "units_standard", "units_registered"),
    ("rectification_score", "rectification_weight", "rectification_weight_used", "rectification_rate",
     "issues_rectified", "issues_due"),
    ("timeliness_score", "timeliness_weight", "timeliness_weight_used", "timeliness_rate", "reports_on_time",
     "reports_due"),
    ("satisfaction_score", "satisfaction_weight", "satisfaction_weight_used", "satisfaction_index",
     "satisfaction_respondents"),
]
_DETAIL = ["body_group", "body_code", "body_name", "quarter", "year", "composite_score", "rank", "bodies_ranked",
           "flag", "veto", "talk_required", "margin", "near_tie", "missing_indicators", "rules_version",
           "overdue_open", "max_days_overdue", "satisfaction_wave", "satisfaction_sample_sufficient",
           "red_flags_quota", "snails_quota", "veto_days", "near_tie_margin", "flag_note"]


def scorecard_detail(quarters: list[str], src: data.Source | None = None) -> pd.DataFrame:
    """Scorecard rows of the given quarters with every column the explanations need (those the
    serving copy has)."""
    s = data._src(src)
    cols = s.columns("scorecard")
    if not cols or not quarters:
        return pd.DataFrame()
    wanted = list(dict.fromkeys(_DETAIL + [c for spec in _INDICATOR_COLUMNS for c in spec]))
    select = ", ".join(c if c in cols else f"NULL AS {c}" for c in wanted)
    return s.query(f"SELECT {select} FROM {{scorecard}} WHERE list_contains($qs, quarter) "
                   "ORDER BY quarter, body_group, rank", qs=list(quarters))


def contributions(quarters: list[str], src: data.Source | None = None) -> pd.DataFrame:
    """Long form, as the warehouse computed it (marts.scorecard_contributions): one row per body x
    quarter x weighted indicator with score, rule weight, weight used (after renormalising), the
    contribution to the composite, the value (rate or index) with its own numerator and denominator,
    and, for the satisfaction index, the respondents behind it (from the scorecard row)."""
    s = data._src(src)
    if not quarters or not s.has("contributions"):
        return pd.DataFrame()
    respondents = ("sc.satisfaction_respondents" if "satisfaction_respondents" in s.columns("scorecard")
                   else "CAST(NULL AS BIGINT)")
    return s.query(f"""
        SELECT c.body_group, c.body_code, c.body_name, c.quarter, c.indicator, c.indicator_name AS label,
               c.score, c.rule_weight AS weight, c.weight_used, c.value AS rate, c.numerator, c.denominator,
               c.weighted_score AS contribution,
               CASE WHEN c.indicator = 'satisfaction' THEN {respondents} END AS respondents
        FROM {{contributions}} c
        LEFT JOIN {{scorecard}} sc USING (body_group, body_code, quarter)
        WHERE list_contains($qs, c.quarter)
        ORDER BY c.quarter, c.body_group, c.body_code, c.sort_order, c.indicator""", qs=list(quarters))


def group_means(quarters: list[str], src: data.Source | None = None) -> pd.DataFrame:
    """Mean indicator score per group, quarter and indicator over the bodies that have the indicator
    (marts.scorecard_indicator_means; empty for a county user, who sees only their own body)."""
    s = data._src(src)
    empty = pd.DataFrame(columns=["body_group", "quarter", "indicator", "group_mean"])
    if not quarters or not s.has("indicator_means"):
        return empty
    df = s.query("SELECT body_group, quarter, indicator, group_mean FROM {indicator_means} "
                 "WHERE list_contains($qs, quarter)", qs=list(quarters))
    return df if not df.empty else empty


def ties(rk: pd.DataFrame) -> pd.DataFrame:
    """Groups of two or more bodies with the same published composite (the value that ranks): body
    names in rank order, the score and the ranks they share."""
    if rk.empty:
        return pd.DataFrame(columns=["composite_score", "names", "ranks", "size"])
    scored = rk.dropna(subset=["composite_score"])
    g = scored.groupby("composite_score", sort=False)
    out = g.agg(names=("body_name", list), ranks=("rank", list), size=("body_code", "size")).reset_index()
    return out[out["size"] > 1].sort_values("composite_score", ascending=False).reset_index(drop=True)


def tie_label(rk: pd.DataFrame) -> pd.Series:
    """'并列' for bodies that share their composite with another body of the group, else ''."""
    if rk.empty:
        return pd.Series(dtype=object)
    counts = rk.groupby("composite_score").body_code.transform("size")
    return (counts.fillna(1) > 1).map({True: "并列", False: ""})


def _table_comment(src: data.Source, table: str) -> str:
    schema, name = table.split(".")
    df = data._src(src).query("SELECT comment FROM duckdb_tables() WHERE schema_name = $s AND table_name = $t",
                              s=schema, t=name)
    if df.empty or df.iloc[0, 0] is None:
        return ""
    return str(df.iloc[0, 0])


def tie_break_rule(src: data.Source | None = None) -> str:
    """The tie-break sentence of the published scorecard's documentation ('并列时…'), '' if absent."""
    s = data._src(src)
    text = _table_comment(s, data.SOURCES["scorecard"][0])
    m = re.search(r"(并列时[^；;。]*)", text)
    return m.group(1).strip("，, ") if m else ""


def one_indicator_flags(contrib: pd.DataFrame) -> set[tuple[str, str, str]]:
    """(group, body, quarter) whose composite rests on a single indicator with data."""
    if contrib.empty:
        return set()
    n = contrib.dropna(subset=["score"]).groupby(["body_group", "body_code", "quarter"]).size()
    return {k for k, v in n.items() if v == 1}
