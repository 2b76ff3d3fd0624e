"""Reads for 预警 and 督办 (and the bulletin's escalation and warning lists): the warehouse's
warnings marts (dbt_project/models/marts/warnings/), scoped per viewer through data.Source.

The placeholders are registered here (not in data.py) so the warnings domain keeps its SQL in
one module; Source.expand reads data.SOURCES when a query runs.
"""

from __future__ import annotations

import pandas as pd

from dashboards import data

data.SOURCES.update({
    "escalation": ("marts.fct_overdue_escalation", "body_code = {c}"),
    "stages": ("marts.escalation_stages", "TRUE"),
    "warnings": ("marts.early_warnings", "body_code = {c}"),
    "overdue_bodies": ("marts.kpi_overdue_bodies", "body_code = {c}"),
    "overdue_stages": ("marts.kpi_overdue_stages", "body_code = {c}"),
    "stage_totals": ("marts.kpi_overdue_stages_scope", "scope_code = {c}"),
})

KIND_LABELS = {
    "veto": "将触发一票否决的问题",
    "task_due": "本季度到期未完成的任务",
    "snail": "预计综合得分处于蜗牛线的对象",
    "ledger": "未报送本季度台账的单位",
}


def _year(quarter: str) -> int:
    return int(str(quarter)[:4])


def escalation_stages(quarter: str, src: data.Source | None = None) -> pd.DataFrame:
    """The stages in force in the quarter's year (one row per stage; the same for both groups unless
    the rules differ — then the county group's row is shown with its group)."""
    s = data._src(src)
    if not s.has("stages"):
        return pd.DataFrame()
    df = s.query("SELECT * FROM {stages} WHERE year = $y ORDER BY body_group, stage_order", y=_year(quarter))
    if df.empty:
        return df
    # One list when both groups use the same limits (the usual case).
    same = df.groupby("stage_order")[["min_days", "max_days"]].nunique(dropna=False).max().max() == 1
    return df.drop_duplicates("stage_order") if same else df


def overdue_with_stage(quarter: str, src: data.Source | None = None) -> pd.DataFrame:
    """Open issues overdue at the quarter end with their escalation stage (when the rules have stages)."""
    s = data._src(src)
    if s.has("escalation"):
        return s.query("""SELECT * FROM {escalation} WHERE quarter = $q
                          ORDER BY days_overdue DESC, body_code, issue_code""", q=quarter)
    return data.overdue_issues(quarter, s)


def overdue_bodies(quarter: str, src: data.Source | None = None) -> pd.DataFrame:
    """Per responsible body with overdue issues: how many, the longest overdue, the highest stage reached
    (marts.kpi_overdue_bodies), most overdue first."""
    s = data._src(src)
    if not s.has("overdue_bodies"):
        return pd.DataFrame()
    return s.query("""SELECT body_group, body_code, overdue_issues, max_days_overdue, top_stage, top_stage_order
                      FROM {overdue_bodies} WHERE quarter = $q
                      ORDER BY max_days_overdue DESC, overdue_issues DESC, body_code""", q=quarter)


def overdue_stage_counts(quarter: str, src: data.Source | None = None) -> pd.DataFrame:
    """Per body and stage in force, the overdue issues at that stage (marts.kpi_overdue_stages, 0 when none)."""
    s = data._src(src)
    if not s.has("overdue_stages"):
        return pd.DataFrame()
    return s.query("""SELECT body_code, escalation_stage, stage_order, issues FROM {overdue_stages}
                      WHERE quarter = $q ORDER BY body_code, stage_order""", q=quarter)


def overdue_stage_totals(quarter: str, src: data.Source | None = None) -> pd.DataFrame:
    """Per stage, the viewer's scope's overdue issues (marts.kpi_overdue_stages_scope)."""
    s = data._src(src)
    if not s.has("stage_totals"):
        return pd.DataFrame()
    return s.query(f"""SELECT escalation_stage, stage_order, issues FROM {{stage_totals}}
                       WHERE {data._OWN_SCOPE} AND quarter = $q ORDER BY stage_order""", q=quarter)


def latest_warnings(quarter: str, src: data.Source | None = None, as_of: object | None = None) -> pd.DataFrame:
    """Early warnings of a day inside the quarter (the latest day computed when as_of is None)."""
    s = data._src(src)
    if not s.has("warnings"):
        return pd.DataFrame()
    df = s.query("""SELECT * FROM {warnings}
                    WHERE quarter = $q AND as_of = coalesce(CAST($d AS DATE),
                          (SELECT max(as_of) FROM {warnings} WHERE quarter = $q))
                    ORDER BY kind_order, act_by, body_code""", q=quarter, d=as_of)
    return df


def warning_days(src: data.Source | None = None) -> pd.DataFrame:
    """The (quarter, as_of) days the warehouse computed warnings for."""
    s = data._src(src)
    if not s.has("warnings"):
        return pd.DataFrame(columns=["quarter", "as_of"])
    return s.query("SELECT DISTINCT quarter, as_of FROM {warnings} ORDER BY as_of")
