"""Every read of the serving copy goes through here, and every read is scoped to the viewer.

Why one module: a county user may only see their own county (and its towns and villages) on
every page and in every export. Pages never write table names; they call the dataset functions
below, whose SQL names tables through placeholders such as ``{scorecard}``. `Source.query`
replaces each placeholder with a sub-select of that table filtered to the viewer's county, so a
page cannot forget the filter, and a template that names a table directly is refused.

Connections: the serving copy is opened read-only per query and closed at once (the pipeline
swaps the file with os.replace; a held connection would pin the old copy). Results are cached
with st.cache_data keyed on the file's (mtime, size, inode), so a new publish invalidates them.
All values reach DuckDB as bound parameters; nothing a user types is pasted into SQL.
"""

from __future__ import annotations

import os
import re
import string
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd
import streamlit as st

from qinglian import quarters as quarters_
from qinglian.settings import default_warehouse
from qinglian.settings import serving_path as _settings_serving_path

# --- where the data is -------------------------------------------------------------------------


def serving_path() -> Path:
    """QINGLIAN_SERVING, else <dir of QINGLIAN_WAREHOUSE>/serving/warehouse.duckdb, else data/serving/."""
    return _settings_serving_path(default_warehouse())


Version = tuple[int, int, int]


def file_version(path: Path) -> Version | None:
    """(mtime_ns, size, inode): changes whenever the pipeline publishes a new copy."""
    try:
        st_ = os.stat(path)
    except FileNotFoundError:
        return None
    return (st_.st_mtime_ns, st_.st_size, st_.st_ino)


# --- scoped tables ------------------------------------------------------------------------------

_C = "CAST($county AS VARCHAR)"
_SUBTREE = "(SELECT region_code FROM marts.dim_regions WHERE county_code = {c} OR region_code = {c})"
_SUBTREE_NO_DIM = "(SELECT {c})"

# placeholder -> (table, predicate that keeps a county user's rows[, columns exposed]).
# A NULL county sees everything.
SOURCES: dict[str, tuple[str, ...]] = {
    "regions": ("marts.dim_regions", "county_code = {c} OR region_code = {c}"),
    "bodies": ("marts.dim_bodies", "body_group = 'county' AND body_code = {c}"),
    "task_kpi": ("marts.kpi_task_progress", "owner_code = {c}"),
    "coverage": ("marts.kpi_unit_coverage", "region_code IN {subtree}"),
    "rect_kpi": ("marts.kpi_rectification", "body_code = {c}"),
    "satisfaction": ("marts.kpi_satisfaction", "region_code IN {subtree}"),
    "sat_questions": ("marts.kpi_satisfaction_questions", "region_code IN {subtree}"),
    "survey_questions": ("marts.dim_survey_questions", "TRUE"),  # the questionnaire's wording
    "cases": ("marts.kpi_cases", "region_code IN {subtree}"),
    "scorecard": ("marts.scorecard_quarterly", "body_code = {c}"),
    "contributions": ("marts.scorecard_contributions", "body_code = {c}"),
    # Group averages are aggregates over every body of the group: not shown to a county user.
    "indicator_means": ("marts.scorecard_indicator_means", "FALSE"),
    # Roll-ups per scope (the city, or one county): a county user sees only their county's row.
    "headline": ("marts.kpi_headline_quarterly", "scope_code = {c}"),
    "rect_groups": ("marts.kpi_rectification_by_group", "scope_code = {c}"),
    "cases_overall": ("marts.kpi_cases_overall", "scope_code = {c}"),
    "snail_runs": ("marts.scorecard_snail_runs", "body_code = {c}"),
    "sat_overall": ("marts.kpi_satisfaction_overall", "scope_code = {c}"),
    "annual_indicators": ("marts.assessment_annual_indicators", "body_code = {c}"),
    # The rules are the same for every viewer (DESIGN §5: read from the office's configuration).
    "rules": ("marts.rules_by_year", "TRUE"),
    "rule_weights": ("marts.dim_rule_weights", "TRUE"),
    "assessment": ("marts.assessment_annual", "body_code = {c}"),
    "tasks": ("marts.fct_task_status", "owner_code = {c}"),
    "issues": ("marts.fct_inspection_issues", "body_code = {c}"),
    "units": ("marts.fct_unit_status", "county_code = {c} OR region_code IN {subtree}"),
    "files": ("raw.ingest_files", "submitter IN {subtree}"),
    "rejects": ("raw.ingest_rejects", "file_id IN (SELECT file_id FROM raw.ingest_files WHERE submitter IN {subtree})"),
    # Expectation results are aggregates over every unit's rows: not shown to a county user.
    "dq_results": ("ops.dq_results", "FALSE"),
    # ... but anyone may learn which run is the latest, to pick their own failing rows of it.
    "dq_runs": ("ops.dq_results", "TRUE", "run_id, checked_at, layer"),
    "dq_failures": ("ops.dq_failures", "submitter IN {subtree}"),
    # The publish log says when and which quarter was published, nothing about any county.
    "publish_log": ("ops.publish_log", "TRUE"),
    # The upload portal (dashboards/portal_data.py): task list with deadlines, the quarters' due dates.
    "task_list": ("marts.dim_tasks", "owner_code = {c}"),
    "quarter_dates": ("marts.dim_quarters", "TRUE"),
}
_RAW_TABLE = re.compile(r"\b(marts|raw|ops|main|information_schema)\s*\.", re.IGNORECASE)


class NotSignedIn(Exception):
    """No one is logged in (and auth is on): no data may be read."""


def _placeholders(template: str) -> list[str]:
    return [name for _, name, _, _ in string.Formatter().parse(template) if name]


@lru_cache(maxsize=8)  # the bulletin's uncached Source asks for the catalog once per table check
def _catalog_uncached(path: str, version: Version) -> dict[str, frozenset[str]]:
    con = duckdb.connect(path, read_only=True)
    try:
        rows = con.execute(
            "SELECT table_schema || '.' || table_name, column_name FROM information_schema.columns"
        ).fetchall()
    finally:
        con.close()
    out: dict[str, set[str]] = {}
    for table, col in rows:
        out.setdefault(table, set()).add(col)
    return {k: frozenset(v) for k, v in out.items()}




def _execute(path: str, sql: str, params: dict[str, Any]) -> pd.DataFrame:
    con = duckdb.connect(path, read_only=True)
    try:
        used = {k: v for k, v in params.items() if re.search(rf"\${k}\b", sql)}
        return con.execute(sql, used).df()
    finally:
        con.close()


def _query_uncached(path: str, version: Version, sql: str, params: tuple[tuple[str, Any], ...]) -> pd.DataFrame:
    return _execute(path, sql, dict(params))


_CACHES: dict[str, Any] = {}


def _st_cache(name: str) -> Any:
    """st.cache_data wrappers, made on first use: creating them outside a Streamlit run (the bulletin
    CLI imports this module) would log 'No runtime found' warnings."""
    if name not in _CACHES:
        fn, entries = {"catalog": (_catalog_uncached, 8), "query": (_query_uncached, 1024)}[name]
        _CACHES[name] = st.cache_data(show_spinner=False, max_entries=entries)(fn)
    return _CACHES[name]


@dataclass(frozen=True)
class Source:
    """The serving copy as one viewer may see it. county=None: everything."""

    path: Path
    county: str | None
    cached: bool = True

    @property
    def version(self) -> Version | None:
        return file_version(self.path)

    def catalog(self) -> dict[str, frozenset[str]]:
        version = self.version
        if version is None:
            return {}
        if self.cached:
            return _st_cache("catalog")(str(self.path), version)
        return _catalog_uncached(str(self.path), version)

    def has(self, *names: str) -> bool:
        """Do all these placeholder tables exist in the serving copy?"""
        cat = self.catalog()
        return all(SOURCES[n][0] in cat for n in names)

    def columns(self, name: str) -> frozenset[str]:
        return self.catalog().get(SOURCES[name][0], frozenset())

    def expand(self, template: str) -> str:
        """Replace {placeholder}s with scoped sub-selects; refuse direct table names."""
        if _RAW_TABLE.search(template):
            raise ValueError("查询模板必须通过 {占位符} 引用数据表，以保证县区用户的数据范围过滤")
        subtree = _SUBTREE if "marts.dim_regions" in self.catalog() else _SUBTREE_NO_DIM
        subs = {}
        for name in _placeholders(template):
            table, pred, *cols = SOURCES[name]
            pred = pred.format(c=_C, subtree=subtree.format(c=_C))
            subs[name] = f"(SELECT {cols[0] if cols else '*'} FROM {table} WHERE {_C} IS NULL OR ({pred}))"
        return template.format(**subs)

    def query(self, template: str, **params: Any) -> pd.DataFrame:
        """Run a template; an empty frame if a table it needs is not in the serving copy."""
        needed = _placeholders(template)
        version = self.version
        if version is None or not self.has(*needed):
            return pd.DataFrame()
        sql = self.expand(template)
        params = dict(params, county=self.county)
        if self.cached:
            return _st_cache("query")(str(self.path), version, sql, tuple(sorted(params.items())))
        return _execute(str(self.path), sql, params)


def current_source() -> Source:
    """The signed-in viewer's source; the county comes from users.yaml via the login, never a widget."""
    from dashboards import auth

    scope = auth.current_scope()
    if scope is None:
        raise NotSignedIn
    return Source(serving_path(), scope.county_code)


def _src(src: Source | None) -> Source:
    return src if src is not None else current_source()


# --- labels -------------------------------------------------------------------------------------

GROUP_LABELS = {"county": "县区", "department": "市直部门"}
SHORT_LABELS = {"task": "任务推进", "coverage": "单元达标", "rectification": "整改完成", "timeliness": "按时报送",
                "satisfaction": "满意度"}
LEVEL_ORDER = {"省": 1, "市": 2, "县": 3, "乡": 4, "村": 5}
_LEVEL_CASE = "CASE {col} WHEN '省' THEN 1 WHEN '市' THEN 2 WHEN '县' THEN 3 WHEN '乡' THEN 4 WHEN '村' THEN 5 ELSE 9 END"


def missing_labels(value: object) -> str:
    """scorecard_quarterly.missing_indicators already holds the Chinese names (joined by 、)."""
    if value is None or (not isinstance(value, list | tuple) and pd.isna(value)):
        return ""
    return "、".join(map(str, value)) if isinstance(value, list | tuple) else str(value)


def quarter_label(q: str) -> str:
    """2025Q3 -> 2025年第三季度 (qinglian.quarters, the one home of quarter labels)."""
    return quarters_.label(q)


def previous_quarter(q: str) -> str | None:
    return quarters_.previous(q)


# --- dimension lookups --------------------------------------------------------------------------


def regions(src: Source | None = None) -> pd.DataFrame:
    return _src(src).query(
        "SELECT region_code, region_name, region_level, parent_code, county_code, population FROM {regions}"
    )


def bodies(src: Source | None = None) -> pd.DataFrame:
    s = _src(src)
    if s.has("bodies"):
        return s.query("SELECT body_group, body_code, body_name FROM {bodies}")
    return pd.DataFrame(columns=["body_group", "body_code", "body_name"])


def name_map(src: Source | None = None) -> dict[str, str]:
    """code -> name for regions and bodies (departments), for labelling KPI rows."""
    s = _src(src)
    out: dict[str, str] = {}
    r = regions(s)
    if not r.empty:
        out.update(zip(r.region_code, r.region_name, strict=True))
    b = bodies(s)
    if not b.empty:
        out.update(zip(b.body_code, b.body_name, strict=True))
    return out


def scope_root(src: Source | None = None) -> tuple[str | None, str]:
    """The region the headline figures describe: the deepest level with exactly one region in scope.

    A city deployment whose regions list also carries the province row gives the city; a province
    gives the province; a county user gets their county.
    """
    s = _src(src)
    r = regions(s)
    if r.empty:
        return None, "全部"
    counts = r.groupby("region_level").size()
    root = None
    for level in sorted(counts.index, key=lambda lv: LEVEL_ORDER.get(lv, 9)):
        if counts[level] != 1:
            break
        root = r[r.region_level == level].iloc[0]
    if root is None:
        return None, "全部"
    return str(root.region_code), str(root.region_name)


def quarters(src: Source | None = None) -> list[str]:
    """Quarters with published figures, oldest first."""
    s = _src(src)
    parts = [f"SELECT DISTINCT quarter FROM {{{n}}}" for n in ("scorecard", "task_kpi", "rect_kpi", "coverage") if s.has(n)]
    if not parts:
        return []
    df = s.query(" UNION ".join(parts) + " ORDER BY 1")
    return [str(q) for q in df["quarter"]] if not df.empty else []


def latest_publish(src: Source | None = None) -> dict[str, Any] | None:
    s = _src(src)
    if not s.has("publish_log"):
        return None
    df = s.query("SELECT published_at, quarter, rules_version FROM {publish_log} WHERE checks_passed "
                 "ORDER BY published_at DESC LIMIT 1")
    return None if df.empty else df.iloc[0].to_dict()


# --- overview -----------------------------------------------------------------------------------


_HEADLINE = ("quarter", "tasks_active", "tasks_on_schedule", "task_rate", "tasks_due", "tasks_completed",
             "completion_rate", "issues_due", "issues_rectified", "rectification_rate", "overdue_open",
             "units_registered", "units_standard", "coverage_rate", "cases_filed")
# The viewer's own scope: the city's row for a reader who sees everything, the county's row for a
# county user (the placeholder's scope filter already keeps only that county's rows).
_OWN_SCOPE = "((CAST($county AS VARCHAR) IS NULL AND is_root) OR scope_code = $county)"


def headline_by_quarter(src: Source | None = None) -> pd.DataFrame:
    """Per quarter, scope-wide: task, completion, coverage, rectification rates, overdue and cases
    (marts.kpi_headline_quarterly: the warehouse sums and divides, this only picks the viewer's scope)."""
    s = _src(src)
    if not s.has("headline"):
        return pd.DataFrame({"quarter": quarters(s)})
    return s.query(f"SELECT {', '.join(_HEADLINE)} FROM {{headline}} WHERE {_OWN_SCOPE} ORDER BY quarter")


def satisfaction_overall(src: Source | None = None) -> pd.DataFrame:
    """Per wave: the viewer's scope's index and rate (marts.kpi_satisfaction_overall)."""
    s = _src(src)
    if not s.has("sat_overall"):
        return pd.DataFrame()
    return s.query(f"""SELECT wave, respondents, valid_answers, satisfaction_index, satisfaction_rate
                       FROM {{sat_overall}} WHERE {_OWN_SCOPE} ORDER BY wave""")


# --- ranking ------------------------------------------------------------------------------------

_SCORE_COLS = ("task_score", "coverage_score", "rectification_score", "timeliness_score", "satisfaction_score")


def scorecard(src: Source | None = None, group: str | None = None) -> pd.DataFrame:
    """All quarters of the scorecard (for movement and history), with names."""
    s = _src(src)
    if not s.has("scorecard"):
        return pd.DataFrame()
    cols = s.columns("scorecard")
    extra = ", ".join(f"{c}" if c in cols else f"CAST(NULL AS DOUBLE) AS {c}" for c in _SCORE_COLS)
    df = s.query(f"""SELECT body_group, body_code, body_name, quarter, composite_score, rank, flag, veto,
                            talk_required, margin, near_tie, missing_indicators, rules_version, {extra}
                     FROM {{scorecard}} WHERE CAST($grp AS VARCHAR) IS NULL OR body_group = $grp
                     ORDER BY quarter, body_group, rank""", grp=group)
    return df


def ranking(quarter: str, group: str, src: Source | None = None) -> pd.DataFrame:
    """One quarter's ranked table with the rank change since the previous quarter."""
    sc = scorecard(src, group)
    if sc.empty:
        return sc
    cur = sc[sc.quarter == quarter].copy()
    prev = sc[sc.quarter == previous_quarter(quarter)][["body_code", "rank", "flag"]].rename(
        columns={"rank": "prev_rank", "flag": "prev_flag"})
    cur = cur.merge(prev, on="body_code", how="left")
    cur["rank_change"] = cur.prev_rank - cur["rank"]  # positive: moved up
    return cur.sort_values("rank").reset_index(drop=True)


def snail_history(group: str, src: Source | None = None) -> pd.DataFrame:
    """Body x quarter flags, the current and the longest run of consecutive snails and the 约谈 quarters,
    as the warehouse counted them (marts.scorecard_snail_runs); this only lays them out per body."""
    s = _src(src)
    if not s.has("snail_runs"):
        return pd.DataFrame()
    runs = s.query("""SELECT body_code, body_name, quarter, flag, current_run, longest_run, talk_required
                      FROM {snail_runs} WHERE body_group = $grp ORDER BY body_code, quarter""", grp=group)
    if runs.empty:
        return runs
    qs = sorted(runs.quarter.unique())
    flags = runs.pivot(index=["body_code", "body_name"], columns="quarter", values="flag").reindex(columns=qs)
    out = flags.astype(object).where(flags.notna(), "").reset_index()
    out.columns.name = None
    latest = runs.drop_duplicates("body_code", keep="last").set_index("body_code")  # ordered by quarter
    out["current_run"] = out.body_code.map(latest.current_run).fillna(0).astype(int)
    out["longest_run"] = out.body_code.map(latest.longest_run).fillna(0).astype(int)
    talk = runs[runs.talk_required.fillna(False).astype(bool)].groupby("body_code").quarter.agg("、".join)
    out["talk_quarters"] = out.body_code.map(talk).astype(object).where(lambda v: v.notna(), "")
    return out.sort_values(["longest_run", "current_run"], ascending=False).reset_index(drop=True)


def breakdown(body_code: str, group: str, quarter: str, src: Source | None = None) -> pd.DataFrame:
    """Indicator rows for one body and quarter, as the warehouse computed them (marts.scorecard_contributions):
    score, rule weight, weight used after renormalising, weighted score, numerator/denominator, definition.
    The weighted scores add up to the published composite (a dbt test guarantees it)."""
    df = _src(src).query(
        """SELECT indicator_name, score, rule_weight, weight_used, weighted_score, numerator, denominator, definition,
                  is_missing, rules_version
           FROM {contributions} WHERE body_group = $g AND body_code = $b AND quarter = $q
           ORDER BY sort_order, indicator""", g=group, b=body_code, q=quarter)
    if df.empty:
        return pd.DataFrame()
    missing = df.is_missing.fillna(False).astype(bool)
    return pd.DataFrame({
        "指标": df.indicator_name, "得分": df.score, "规则权重": df.rule_weight,
        "实际权重": df.weight_used.fillna(0.0), "加权得分": df.weighted_score,
        "分子": df.numerator, "分母": df.denominator, "口径": df.definition,
        "状态": missing.map({True: "缺项（权重已重新分配）", False: ""}),
    })


# --- rules (read from the warehouse, never restated here) ---------------------------------------


def rules_for(year: int | str, group: str, src: Source | None = None) -> dict[str, Any] | None:
    """The rules in force for a year and group (marts.rules_by_year), or None without a published rules table."""
    s = _src(src)
    if not s.has("rules"):
        return None
    df = s.query("SELECT * FROM {rules} WHERE year = $y AND body_group = $g", y=int(str(year)[:4]), g=group)
    return None if df.empty else df.iloc[0].to_dict()


def _n(value: object) -> str:
    """A rule value as written in the configuration: 90, 1, 0.5 (no trailing .0)."""
    return f"{float(value):g}" if value is not None and not pd.isna(value) else "—"


def ranking_rules_text(year: int | str, src: Source | None = None) -> str:
    """One sentence with the year's red flag / snail / veto / near-tie rules of both groups, from the rules table."""
    c, d = rules_for(year, "county", src), rules_for(year, "department", src)
    if c is None or d is None:
        return "每季度分县区、市直部门两组按综合得分排名（规则表未发布）。"
    veto = (f"有逾期超过{_n(c['veto_days'])}天的问题" if c["veto_days"] == d["veto_days"] else
            f"有逾期超过{_n(c['veto_days'])}天（县区）/{_n(d['veto_days'])}天（市直部门）的问题")
    return (f"每季度分县区、市直部门两组按综合得分排名（规则版本 {c['rules_version']}）。"
            f"红旗：县区前{_n(c['red_flags'])}名、市直部门前{_n(d['red_flags'])}名；"
            f"蜗牛：县区末{_n(c['snails'])}名、市直部门末{_n(d['snails'])}名；否决：{veto}，不得评红旗；"
            f"约谈：连续两个季度蜗牛；边界接近：与分界线另一侧对象相差不足{_n(c['near_tie_margin'])}分。")


def veto_days_text(quarter: str, src: Source | None = None) -> str:
    """The year's veto threshold as a user reads it: '90天', or '90天（县区）/60天（市直部门）'."""
    c, d = rules_for(quarter, "county", src), rules_for(quarter, "department", src)
    if c is None or d is None:
        return "否决天数"
    if c["veto_days"] == d["veto_days"]:
        return f"{_n(c['veto_days'])}天"
    return f"{_n(c['veto_days'])}天（县区）/{_n(d['veto_days'])}天（市直部门）"


def annual_rules_text(year: int | str, group: str, src: Source | None = None) -> str:
    r = rules_for(year, group, src)
    if r is None:
        return "年度得分 = 四个季度综合得分的平均（缺季度按0计）加红旗分、减蜗牛分（规则表未发布）。"
    return (f"年度得分 = 四个季度综合得分的平均（缺季度按0计）+ 每面红旗{_n(r['red_flag_bonus'])}分 − "
            f"每只蜗牛{_n(r['snail_penalty'])}分（0-100）；优秀须 ≥{_n(r['excellent_min_score'])} 分、"
            f"全年无一票否决且位列本组前{_n(float(r['excellent_quota']) * 100)}%（向下取整，至少1个）；"
            f"良好 ≥{_n(r['good_min_score'])} 分；合格 ≥{_n(r['pass_min_score'])} 分（规则版本 {r['rules_version']}）。")


def task_rows(owner_code: str, quarter: str, src: Source | None = None) -> pd.DataFrame:
    return _src(src).query(
        """SELECT task_code, task_name, area, status, progress_pct, deadline, report_date, on_schedule, days_late,
                  file_path, sheet, row_number
           FROM {tasks} WHERE owner_code = $o AND quarter = $q ORDER BY task_code""", o=owner_code, q=quarter)


def issue_rows(body_code: str, quarter: str, src: Source | None = None) -> pd.DataFrame:
    return _src(src).query(
        """SELECT issue_code, inspected_body, category, description, found_date, deadline, status, completed_date,
                  rectified_at_d, days_overdue, file_path, sheet, row_number
           FROM {issues} WHERE body_code = $b AND quarter = $q ORDER BY days_overdue DESC NULLS LAST, issue_code""",
        b=body_code, q=quarter)


def unit_rows(region_code: str, quarter: str, src: Source | None = None, limit: int = 5000) -> pd.DataFrame:
    """Units registered in a region or anywhere below it."""
    s = _src(src)
    if not s.has("units"):
        return pd.DataFrame()
    if s.has("regions"):
        tmpl = """WITH RECURSIVE sub(code) AS (SELECT $r UNION ALL
                       SELECT g.region_code FROM {regions} g JOIN sub ON g.parent_code = sub.code)
                  SELECT u.unit_code, u.unit_name, u.unit_type, u.region_code, u.stage, u.stage_level,
                         u.file_path, u.sheet, u.row_number
                  FROM {units} u WHERE u.quarter = $q AND u.region_code IN (SELECT code FROM sub)
                  ORDER BY u.region_code, u.unit_code LIMIT $lim"""
    else:
        tmpl = """SELECT unit_code, unit_name, unit_type, region_code, stage, stage_level, file_path, sheet, row_number
                  FROM {units} WHERE quarter = $q AND region_code = $r ORDER BY unit_code LIMIT $lim"""
    return s.query(tmpl, r=region_code, q=quarter, lim=limit)


# --- annual -------------------------------------------------------------------------------------


def years(src: Source | None = None) -> list[int]:
    s = _src(src)
    if not s.has("assessment"):
        return []
    df = s.query("SELECT DISTINCT year FROM {assessment} ORDER BY 1")
    return [int(y) for y in df.year] if not df.empty else []


_QUARTER_SCORES = ("q1_score", "q2_score", "q3_score", "q4_score")


def assessment(year: int, group: str, src: Source | None = None) -> pd.DataFrame:
    """Annual grades with the quarterly composites (assessment_annual) and the year's mean indicator
    scores (assessment_annual_indicators) beside them."""
    s = _src(src)
    cols = s.columns("assessment")
    # a copy published before the quarterly columns existed shows the grades without them
    quarterly = ", ".join(c if c in cols else f"CAST(NULL AS DOUBLE) AS {c}" for c in _QUARTER_SCORES)
    a = s.query(f"""SELECT body_code, body_name, annual_score, rank, grade, red_flags, snails, veto, rules_version,
                           grade_note, excellent_places, group_size, {quarterly}
                    FROM {{assessment}} WHERE year = $y AND body_group = $g ORDER BY rank""", y=int(year), g=group)
    if a.empty:
        return a
    a = a.rename(columns={f"q{n}_score": f"Q{n}得分" for n in range(1, 5)})
    m = s.query("""SELECT body_code, indicator_name, mean_score FROM {annual_indicators}
                   WHERE year = $y AND body_group = $g AND mean_score IS NOT NULL ORDER BY sort_order, indicator""",
                y=int(year), g=group)
    if not m.empty:
        wide = m.pivot(index="body_code", columns="indicator_name", values="mean_score")
        wide = wide[list(dict.fromkeys(m.indicator_name))]
        wide.columns = [f"{c}(年均)" for c in wide.columns]
        a = a.merge(wide, left_on="body_code", right_index=True, how="left")
    return a


# --- tasks --------------------------------------------------------------------------------------


def task_kpi(quarter: str, src: Source | None = None) -> pd.DataFrame:
    return _src(src).query("SELECT * FROM {task_kpi} WHERE quarter = $q ORDER BY owner_group, on_schedule_rate",
                           q=quarter)


def task_status_by_area(quarter: str, src: Source | None = None) -> pd.DataFrame:
    return _src(src).query("""SELECT coalesce(area, '（未分类）') AS area, status, count(*) AS n
                              FROM {tasks} WHERE quarter = $q GROUP BY ALL ORDER BY area, status""", q=quarter)


def lagging_tasks(quarter: str, src: Source | None = None) -> pd.DataFrame:
    """The 督办清单: tasks not on schedule (滞后, 未启动, 未报送) with owner and days late."""
    return _src(src).query(
        """SELECT owner_code, owner_group, task_code, task_name, area, status, progress_pct, deadline, days_late,
                  report_date, file_path, sheet, row_number
           FROM {tasks} WHERE quarter = $q AND (NOT coalesce(on_schedule, FALSE))
           ORDER BY days_late DESC NULLS LAST, owner_code, task_code""", q=quarter)


# --- units --------------------------------------------------------------------------------------


def coverage(quarter: str, level: str | None = None, parent: str | None = None,
             src: Source | None = None) -> pd.DataFrame:
    """Coverage rows for a quarter, optionally one level or the children of one region."""
    s = _src(src)
    if not s.has("coverage"):
        return pd.DataFrame()
    if s.has("regions"):
        return s.query(
            """SELECT c.*, r.region_name, r.parent_code FROM {coverage} c JOIN {regions} r USING (region_code)
               WHERE c.quarter = $q AND (CAST($lvl AS VARCHAR) IS NULL OR c.region_level = $lvl)
                 AND (CAST($p AS VARCHAR) IS NULL OR r.parent_code = $p)
               ORDER BY c.region_code, c.unit_type""", q=quarter, lvl=level, p=parent)
    return s.query("""SELECT *, region_code AS region_name, NULL AS parent_code FROM {coverage}
                      WHERE quarter = $q AND (CAST($lvl AS VARCHAR) IS NULL OR region_level = $lvl)""", q=quarter, lvl=level)


# --- rectification ------------------------------------------------------------------------------


def rect_kpi(quarter: str, src: Source | None = None) -> pd.DataFrame:
    return _src(src).query("SELECT * FROM {rect_kpi} WHERE quarter = $q ORDER BY body_group, rectification_rate",
                           q=quarter)


def rect_headline(quarter: str, src: Source | None = None) -> pd.DataFrame:
    """The viewer's scope's rectification figures for one quarter (marts.kpi_headline_quarterly: the
    warehouse sums and divides; a copy without the columns gives an empty frame)."""
    s = _src(src)
    cols = ("issues_due", "issues_rectified", "rectification_rate", "issues_on_time", "on_time_rate",
            "overdue_open", "overdue_over_veto")
    if not s.has("headline") or not set(cols) <= s.columns("headline"):
        return pd.DataFrame()
    return s.query(f"SELECT {', '.join(cols)} FROM {{headline}} WHERE {_OWN_SCOPE} AND quarter = $q", q=quarter)


def rect_trend(src: Source | None = None) -> pd.DataFrame:
    """Per quarter and group, the viewer's scope's rectification rate (marts.kpi_rectification_by_group)."""
    s = _src(src)
    if not s.has("rect_groups"):
        return pd.DataFrame()
    return s.query(f"""SELECT quarter, body_group, issues_due, issues_rectified, rectification_rate, issues_on_time,
                              on_time_rate, overdue_open
                       FROM {{rect_groups}} WHERE {_OWN_SCOPE} ORDER BY quarter, body_group""")


def overdue_issues(quarter: str, src: Source | None = None) -> pd.DataFrame:
    """Open issues past their deadline at the quarter end, most overdue first."""
    return _src(src).query(
        """SELECT body_code, body_group, issue_code, inspected_body, region_code, category, description, found_date,
                  deadline, status, days_overdue, exceeds_veto, escalation_stage, file_path, sheet, row_number
           FROM {issues}
           WHERE quarter = $q AND NOT coalesce(rectified_at_d, FALSE) AND coalesce(days_overdue, 0) > 0
           ORDER BY days_overdue DESC, body_code, issue_code""", q=quarter)


# --- satisfaction -------------------------------------------------------------------------------


def satisfaction(src: Source | None = None) -> pd.DataFrame:
    s = _src(src)
    if not s.has("satisfaction"):
        return pd.DataFrame()
    if s.has("regions"):
        return s.query(f"""SELECT k.*, r.region_name, r.region_level, r.parent_code,
                                  {_LEVEL_CASE.format(col='r.region_level')} AS level_rank
                           FROM {{satisfaction}} k JOIN {{regions}} r USING (region_code)
                           ORDER BY wave, level_rank, region_code""")
    return s.query("SELECT *, region_code AS region_name, NULL AS region_level, NULL AS parent_code, 3 AS level_rank "
                   "FROM {satisfaction} ORDER BY wave, region_code")


def satisfaction_questions(wave: str, src: Source | None = None) -> pd.DataFrame:
    """One wave's per-question index and rate for every region the viewer may see."""
    s = _src(src)
    if not s.has("sat_questions"):
        return pd.DataFrame()
    level = _LEVEL_CASE.format(col="q.region_level")
    return s.query(f"""SELECT q.*, {level} AS level_rank
                       FROM {{sat_questions}} q WHERE CAST(q.wave AS VARCHAR) = $wave
                       ORDER BY level_rank, region_code, question_no""", wave=wave)


def survey_question_texts(src: Source | None = None) -> dict[str, str]:
    """Question (Q1…) -> its wording in the questionnaire (marts.dim_survey_questions); {} without it."""
    s = _src(src)
    if not s.has("survey_questions"):
        return {}
    df = s.query("SELECT question, question_text FROM {survey_questions} ORDER BY question_no")
    return dict(zip(df.question, df.question_text, strict=True))


# --- cases --------------------------------------------------------------------------------------


def cases_by_region(src: Source | None = None) -> pd.DataFrame:
    s = _src(src)
    if not s.has("cases"):
        return pd.DataFrame()
    if s.has("regions"):
        return s.query(f"""SELECT k.*, r.region_name, r.region_level, r.population,
                                  {_LEVEL_CASE.format(col='r.region_level')} AS level_rank
                           FROM {{cases}} k JOIN {{regions}} r USING (region_code)
                           ORDER BY quarter, level_rank, region_code""")
    return s.query("SELECT *, region_code AS region_name, NULL AS region_level, NULL AS population, 3 AS level_rank "
                   "FROM {cases} ORDER BY quarter, region_code")


def cases_overall(src: Source | None = None) -> pd.DataFrame:
    """Per quarter, the viewer's scope's own case figures with the first-form share and cases per 10,000
    residents (marts.kpi_cases_overall: the scope region's rolled-up row of kpi_cases)."""
    s = _src(src)
    if not s.has("cases_overall"):
        return pd.DataFrame()
    return s.query(f"SELECT * FROM {{cases_overall}} WHERE {_OWN_SCOPE} ORDER BY quarter")


# --- data quality -------------------------------------------------------------------------------


def publish_log(src: Source | None = None) -> pd.DataFrame:
    s = _src(src)
    cols = s.columns("publish_log")
    if not cols:
        return pd.DataFrame()
    extra = ", ".join(c for c in ("status", "message") if c in cols)
    return s.query(f"""SELECT publish_id, published_at, quarter, rules_version, checks_passed, row_counts
                              {', ' + extra if extra else ''}
                       FROM {{publish_log}} ORDER BY published_at DESC LIMIT 50""")


def ingest_files(src: Source | None = None) -> pd.DataFrame:
    return _src(src).query(
        """SELECT file_id, path, source, submitter, submitter_name, period, outcome, outcome_label, message,
                  rows_read, rows_loaded, rows_rejected, loaded_at, superseded_by
           FROM {files} ORDER BY loaded_at DESC, file_id DESC""")


def ingest_rejects(src: Source | None = None, limit: int = 20000) -> pd.DataFrame:
    s = _src(src)
    if not s.has("rejects"):
        return pd.DataFrame()
    if s.has("files"):
        return s.query("""SELECT coalesce(f.submitter_name, f.submitter, '（未识别填报单位）') AS submitter_name,
                                 r.file, r.sheet, r."row" AS row_number, r."column" AS column_name, r.value, r.reason
                          FROM {rejects} r LEFT JOIN {files} f USING (file_id)
                          WHERE f.superseded_by IS NULL
                          ORDER BY submitter_name, r.file, r."row" NULLS FIRST LIMIT $lim""", lim=limit)
    return s.query("""SELECT NULL AS submitter_name, file, sheet, "row" AS row_number, "column" AS column_name, value,
                             reason FROM {rejects} ORDER BY file, "row" LIMIT $lim""", lim=limit)


def dq_results(src: Source | None = None) -> pd.DataFrame:
    """Expectation results of the latest run."""
    return _src(src).query(
        """SELECT run_id, checked_at, layer, asset, expectation, column_name, description_zh, severity, success,
                  observed_value, unexpected_count, unexpected_examples
           FROM {dq_results}
           WHERE run_id = (SELECT run_id FROM {dq_results} ORDER BY checked_at DESC LIMIT 1)
           ORDER BY success, severity, asset, expectation""")


def dq_failures(src: Source | None = None, limit: int = 20000) -> pd.DataFrame:
    """Failing rows of the latest run, per submitting unit."""
    s = _src(src)
    if not s.has("dq_failures"):
        return pd.DataFrame()
    if not s.has("dq_runs"):
        return s.query("""SELECT coalesce(submitter_name, submitter, '（未识别填报单位）') AS submitter_name, file, sheet,
                                 row_number, column_name, value, asset, expectation, severity, fix_zh, run_id
                          FROM {dq_failures} WHERE run_id = (SELECT max(run_id) FROM {dq_failures})
                          ORDER BY submitter_name, file, row_number LIMIT $lim""", lim=limit)
    return s.query(
        """SELECT coalesce(submitter_name, submitter, '（未识别填报单位）') AS submitter_name, file, sheet, row_number,
                  column_name, value, asset, expectation, severity, fix_zh, run_id
           FROM {dq_failures}
           WHERE run_id = coalesce((SELECT run_id FROM {dq_runs} ORDER BY layer = 'raw' DESC, checked_at DESC LIMIT 1),
                                   (SELECT max(run_id) FROM {dq_failures}))
           ORDER BY submitter_name, file, row_number LIMIT $lim""", lim=limit)


# --- helpers used by pages ----------------------------------------------------------------------


def with_names(df: pd.DataFrame, code_col: str, names: dict[str, str], out_col: str = "名称") -> pd.DataFrame:
    """Add a name column next to a code column (vectorised map)."""
    if df.empty or code_col not in df.columns:
        return df
    df = df.copy()
    df.insert(df.columns.get_loc(code_col) + 1, out_col, df[code_col].map(names).fillna(df[code_col]))
    return df


