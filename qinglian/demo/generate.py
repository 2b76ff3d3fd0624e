"""Entry point: a deterministic, realistic and messy landing folder plus `_demo_manifest.json`."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable
from datetime import date, timedelta
from pathlib import Path

from qinglian.demo import (
    case_files,
    inspection_files,
    planted,
    progress_files,
    reference_files,
    survey_files,
    unit_files,
)
from qinglian.demo.emitter import Emitter
from qinglian.demo.quarters import Quarter, timeline
from qinglian.demo.reference import Programme, build_programme
from qinglian.demo.simulate import (
    QUARTERLY_CASE_COUNTIES,
    SMALL_SAMPLE_COUNTY,
    YTD_ERROR_COUNTY,
    Issue,
    Profile,
    ProgressReport,
    SurveyWave,
    UnitBook,
    county_profile,
    department_profile,
    plant_ytd_error,
    simulate_cases,
    simulate_county_issues,
    simulate_department_issues,
    simulate_progress,
    simulate_survey,
    simulate_units,
)

MANIFEST = "_demo_manifest.json"
SOURCES = ("regions", "departments", "tasks", "task_progress", "units", "inspections", "surveys", "cases")


def _clear_previous(out_dir: Path) -> None:
    """Remove only files a previous run listed in its manifest: the folder may hold anything else."""
    manifest = out_dir / MANIFEST
    if not manifest.is_file():
        return
    try:
        old = json.loads(manifest.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return
    for f in old.get("files", []):
        path = out_dir / f.get("path", "")
        if path.is_file() and out_dir.resolve() in path.resolve().parents:
            path.unlink()


def generate(out_dir: Path, scale: str = "city", seed: int = 42, quarters: int = 4, start: str = "2025Q1",
             progress: Callable[[str], None] | None = None, factor: float = 1.0) -> dict:
    """Write the landing folder for `scale` (city: 汉中市; province: a synthetic 陕西省) and return the manifest.

    `factor` multiplies the clean-unit and survey volumes (the benchmark's 2× and 4× growth runs).
    """
    if factor <= 0:
        raise ValueError("factor must be positive")
    if scale not in ("city", "province"):
        raise ValueError(f"scale must be 'city' or 'province', got {scale!r}")
    out_dir = Path(out_dir)
    qs = timeline(start, quarters)
    out_dir.mkdir(parents=True, exist_ok=True)
    _clear_previous(out_dir)
    for source in SOURCES:
        (out_dir / source).mkdir(exist_ok=True)

    def say(msg: str) -> None:
        if progress:
            progress(msg)

    say("参照数据：区划、部门、任务清单")
    prog = dataclasses.replace(build_programme(scale, seed, qs[0], quarters), volume=factor)
    em = Emitter(out_dir, seed, progress)
    reference_files.write_regions(em, prog)
    reference_files.write_departments(em, prog)
    reference_files.write_tasks(em, prog, qs[0])

    profiles: dict[str, Profile] = {c.code: county_profile(seed, c) for c in prog.counties}
    profiles |= {d.code: department_profile(seed, d) for d in prog.departments}

    say("重点任务推进台账")
    reports = simulate_progress(prog, qs, profiles)
    planted_progress = progress_files.write_all(em, prog, reports, qs)
    # A county's offices send their ledgers around the same day as its task report.
    county_dates = {(c.code, q.key): reports[(c.code, q.key)].report_date for c in prog.counties for q in qs}

    say("清廉单元台账")
    books = [simulate_units(prog, c, qs, profiles[c.code]) for c in prog.counties]
    planted_units = unit_files.write_all(em, prog, books, qs, county_dates)

    say("巡察整改台账")
    county_issues = {c.code: simulate_county_issues(prog, c, qs, profiles[c.code]) for c in prog.counties}
    dept_issues = simulate_department_issues(prog, qs, profiles)
    inspection_dates = {k: v + timedelta(days=1) for k, v in county_dates.items()}
    planted_inspections = inspection_files.write_all(em, prog, county_issues, dept_issues, qs, inspection_dates)

    say("满意度测评")
    years = sorted({q.year for q in qs})
    waves = [simulate_survey(prog, c, y, profiles[c.code], yi) for yi, y in enumerate(years) for c in prog.counties]
    survey_files.write_all(em, prog, waves)

    say("监督执纪统计")
    series = [simulate_cases(prog, c, qs, profiles[c.code]) for c in prog.counties]
    ytd_error = None
    for s in series:
        if s.county.code6 == YTD_ERROR_COUNTY:
            ytd_error = plant_ytd_error(s, qs)
    wrong_total = case_files.write_all(em, prog, series, qs, county_dates)

    say("错误文件")
    unreadable = planted.write_unreadable(em, prog)
    personal = planted.write_personal_spreadsheet(em)

    em.entries.sort(key=lambda e: e.path)
    manifest = {
        "scale": scale,
        "seed": seed,
        "factor": factor,
        "quarters": quarters,
        "start": qs[0].key,
        "files": [e.as_dict() for e in em.entries],
        "truth": _truth(prog, qs, reports, books, county_issues, dept_issues, waves, series, ytd_error, wrong_total,
                        {**planted_progress, **planted_units, **planted_inspections, "unreadable": unreadable,
                         "not_a_template": personal}),
    }
    (out_dir / MANIFEST).write_text(json.dumps(manifest, ensure_ascii=False, indent=1), encoding="utf-8")
    say(f"完成：{len(em.entries)} 个文件")
    return manifest


def _issue_facts(issues: list[Issue], d: date) -> dict:
    due = [i for i in issues if i.deadline <= d and i.found <= d]
    rectified = [i for i in due if i.fixed is not None and i.fixed <= d]
    overdue = [i.days_overdue(d) for i in issues if i.found <= d and i.days_overdue(d) > 0]
    return {"ledger_rows": sum(1 for i in issues if i.found <= d), "due": len(due), "rectified": len(rectified),
            "on_time": sum(1 for i in rectified if i.fixed is not None and i.fixed <= i.deadline),
            "overdue_open": len(overdue), "max_days_overdue": max(overdue, default=0)}


def _truth(prog: Programme, qs: list[Quarter], reports: dict[tuple[str, str], ProgressReport], books: list[UnitBook],
           county_issues: dict[str, list[Issue]], dept_issues: list[Issue], waves: list[SurveyWave], series: list, ytd_error: dict | None,
           wrong_total: dict | None, planted_inputs: dict) -> dict:
    """Facts computed from the simulation itself, for end-to-end tests that cross-check the ingest."""
    levels: dict[str, int] = {}
    for r in prog.regions:
        levels[r.level] = levels.get(r.level, 0) + 1
    units = {}
    for b in books:
        per_q = {}
        for qi, q in enumerate(qs):
            idx = b.present(qi)
            st = b.stage[idx, qi]
            per_q[q.key] = {"registered": int(len(idx)), "started": int((st >= 1).sum()), "standard": int((st >= 2).sum()),
                            "model": int((st == 3).sum())}
        units[b.county.code] = per_q
    issues = {c: {q.key: _issue_facts(v, q.end) for q in qs} for c, v in county_issues.items()}
    by_dept: dict[str, list[Issue]] = {}
    for i in dept_issues:
        assert i.dept is not None
        by_dept.setdefault(i.dept.code, []).append(i)
    issues |= {code: {q.key: _issue_facts(v, q.end) for q in qs} for code, v in sorted(by_dept.items())}
    veto = {q.key: sorted(body for body, per_q in issues.items() if per_q[q.key]["max_days_overdue"] > 90) for q in qs}
    task_reports = {}
    for (owner, qkey), rep in sorted(reports.items()):
        task_reports.setdefault(owner, {})[qkey] = {
            "rows": len(rep.rows), "report_date": rep.report_date.isoformat(), "on_time": rep.on_time,
            "on_schedule": sum(1 for r in rep.rows if r.status in ("已完成", "按序推进")),
            "completed": sum(1 for r in rep.rows if r.status == "已完成"),
        }
    respondents: dict[str, dict[str, int]] = {}
    for w in waves:
        respondents.setdefault(w.county.code, {})[str(w.year)] = len(w.ids)
    cases = {s.county.code: {q.key: {"scope": "当季" if s.county.code6 in QUARTERLY_CASE_COUNTIES else "累计",
                                     "cases_filed_quarter": int(s.quarterly[q.key][3]),
                                     "cases_filed_reported": int((s.quarterly if s.county.code6 in QUARTERLY_CASE_COUNTIES else s.ytd)[q.key][3])}
                             for q in qs} for s in series}
    dept_tasks = [t for t in prog.tasks if t.owner_group == "department"]
    return {
        "top": {"code": prog.top.code, "name": prog.top.name},
        "counts": {
            "regions": len(prog.regions), "cities": levels.get("市", 0), "counties": len(prog.counties), "towns": levels.get("乡", 0),
            "villages": levels.get("村", 0), "departments": len(prog.departments),
            "lead_departments": len({t.owner for t in dept_tasks}), "tasks": len(prog.tasks), "department_tasks": len(dept_tasks),
            "county_tasks": len(prog.tasks) - len(dept_tasks), "supplementary_tasks": sum(1 for t in prog.tasks if t.supplementary),
            "units_last_quarter": sum(u[qs[-1].key]["registered"] for u in units.values()),
            "issues": sum(len(v) for v in county_issues.values()) + len(dept_issues),
            "department_issues": len(dept_issues), "survey_respondents": sum(len(w.ids) for w in waves),
        },
        "counties": [{"code": c.code, "name": c.name, "population": c.population} for c in prog.counties],
        "units": units,
        "issues": issues,
        "veto": veto,
        "task_reports": task_reports,
        "survey_respondents": respondents,
        "small_sample_counties": [c.code for c in prog.counties if c.code6 == SMALL_SAMPLE_COUNTY],
        "cases": cases,
        "ytd_decrease": ytd_error,
        "wrong_total": wrong_total,
        "planted": planted_inputs,
        "story": {
            "red_flag_candidate": "汉台区", "snail_candidate": {"quarter": "2025Q2", "body": "洋县"},
            "improving": ["城固县", "勉县"], "lagging": ["洋县", "镇巴县", "略阳县"],
            "veto_planted": {"南郑区": "2024 issue open until Q3", "略阳县": "issue open from Q2", "市住建局": "issue open until Q4"},
            "late_reporters": ["市自然资源局", "市交通运输局", "洋县 (2025Q2)"],
        },
    }
