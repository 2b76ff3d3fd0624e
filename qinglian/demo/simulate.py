"""The story: how counties and departments perform quarter by quarter, and the records that follows.

Every number the files carry is simulated here, from per-entity random streams (names.rng_for),
so a county's units, issues and answers do not change when another county is added or when the
province scale generates ninety of them.

The 汉中 story (start 2025Q1): 汉台区 strong and improving (a red-flag candidate); 南郑区 strong
but carrying a 2024 issue overdue > 90 days (vetoed in its first two quarters); 城固县 and 勉县
improving fast; 洋县 weak with a slump and late reports in 2025Q2 (a snail candidate); 镇巴县
and 略阳县 lagging (略阳县 with an issue that goes > 90 days overdue in Q3); 市住建局 and
市交通运输局 the slow, late departments, 市住建局 with an issue overdue > 90 days.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta

import numpy as np

from qinglian.demo.names import FIRM_TRADES, FIRM_WORDS, person_name, rng_for
from qinglian.demo.quarters import Quarter
from qinglian.demo.reference import Department, Programme, Region, Task
from qinglian.questionnaire import questions


@dataclass(frozen=True)
class Profile:
    base: float  # 0..1 overall capability
    trend: float  # change of capability per quarter
    late: float  # chance a quarterly report arrives after the 10th day
    satisfaction: float  # 0..1 latent public satisfaction
    dips: dict[str, float] = field(default_factory=dict)  # quarter key -> one-off shift
    forced_late: tuple[str, ...] = ()  # quarters whose reports are certainly late

    def perf(self, qi: int, quarter: Quarter) -> float:
        return float(np.clip(self.base + self.trend * qi + self.dips.get(quarter.key, 0.0), 0.05, 0.98))


COUNTY_STORY: dict[str, Profile] = {
    "610702": Profile(0.86, 0.03, 0.0, 0.88),  # 汉台区
    "610703": Profile(0.82, 0.02, 0.05, 0.82),  # 南郑区 (vetoed early)
    "610722": Profile(0.50, 0.08, 0.10, 0.70),  # 城固县 improving
    "610723": Profile(0.46, 0.01, 0.30, 0.58, {"2025Q2": -0.20}, ("2025Q2",)),  # 洋县 snail
    "610724": Profile(0.62, 0.02, 0.10, 0.74),  # 西乡县
    "610725": Profile(0.48, 0.06, 0.10, 0.70),  # 勉县 improving
    "610726": Profile(0.58, 0.00, 0.15, 0.72),  # 宁强县
    "610727": Profile(0.45, 0.01, 0.20, 0.64),  # 略阳县
    "610728": Profile(0.42, 0.005, 0.25, 0.62),  # 镇巴县 lagging
    "610729": Profile(0.70, 0.02, 0.05, 0.80),  # 留坝县
    "610730": Profile(0.66, 0.02, 0.05, 0.78),  # 佛坪县
}
DEPARTMENT_STORY: dict[str, Profile] = {
    "D01": Profile(0.92, 0.01, 0.0, 0.0),
    "D02": Profile(0.88, 0.01, 0.0, 0.0),
    "D05": Profile(0.84, 0.01, 0.05, 0.0),
    "D08": Profile(0.76, 0.02, 0.05, 0.0),
    "D14": Profile(0.55, 0.02, 0.60, 0.0),  # 市自然资源局: fine work, late reports
    "D15": Profile(0.36, 0.00, 0.25, 0.0, {"2025Q2": -0.08}),  # 市住建局: the slowest
    "D16": Profile(0.40, 0.01, 0.55, 0.0),  # 市交通运输局: slow and late
    "D17": Profile(0.50, 0.03, 0.20, 0.0),
    "D20": Profile(0.74, 0.02, 0.05, 0.0),
    "D22": Profile(0.66, 0.02, 0.10, 0.0),
}

# Counties that report case statistics per quarter (当季) instead of year to date.
QUARTERLY_CASE_COUNTIES = ("610729", "610730")
SMALL_SAMPLE_COUNTY = "610730"  # 佛坪县: too few survey respondents (样本不足)
YTD_ERROR_COUNTY = "610725"  # 勉县: one year-to-date figure goes down (a data error)


def county_profile(seed: int, county: Region) -> Profile:
    if county.code6 in COUNTY_STORY:
        return COUNTY_STORY[county.code6]
    rng = rng_for(seed, "profile", county.code)
    return Profile(float(rng.uniform(0.42, 0.85)), float(rng.normal(0.02, 0.025)), float(rng.uniform(0.0, 0.3)),
                   float(rng.uniform(0.56, 0.86)))


def department_profile(seed: int, dept: Department) -> Profile:
    if dept.code in DEPARTMENT_STORY:
        return DEPARTMENT_STORY[dept.code]
    rng = rng_for(seed, "profile", dept.code)
    return Profile(float(rng.uniform(0.55, 0.82)), float(rng.normal(0.015, 0.015)), float(rng.uniform(0.0, 0.2)), 0.0)


# --- tasks ---------------------------------------------------------------------------------------

TASK_STATUSES = ("已完成", "按序推进", "滞后", "未启动")
_LAG_REASONS = ("人员力量不足", "资金尚未到位", "配合单位协调难度大", "基层推进不平衡", "前期调研耗时较长")
_ACTIONS = ("召开专题推进会", "开展督导检查", "完善制度文件", "组织业务培训", "开展自查自纠", "梳理问题清单")


@dataclass
class ProgressRow:
    task: Task
    status: str
    pct: int
    text: str
    problem: str
    plan: str
    evidence: int


@dataclass
class ProgressReport:
    owner: str  # department code or county region code
    quarter: Quarter
    rows: list[ProgressRow]
    report_date: date

    @property
    def on_time(self) -> bool:
        return self.report_date <= self.quarter.end + timedelta(days=10)


def _round5(x: float) -> int:
    return int(max(0, min(100, 5 * round(x / 5))))


def simulate_progress(prog: Programme, quarters: list[Quarter], profiles: dict[str, Profile]) -> dict[tuple[str, str], ProgressReport]:
    """One report per owner and quarter, with each active task's status as of the quarter end."""
    start = quarters[0].start
    reports: dict[tuple[str, str], ProgressReport] = {}
    by_owner: dict[str, list[Task]] = {}
    for t in prog.tasks:
        by_owner.setdefault(t.owner, []).append(t)
    for owner, tasks in by_owner.items():
        profile = profiles[owner]
        rng = rng_for(prog.seed, "progress", owner)
        pct = {t.code: 0 for t in tasks}
        for qi, q in enumerate(quarters):
            perf = profile.perf(qi, q)
            rows = []
            for t in tasks:
                if t.issued is not None and t.issued > q.end:
                    continue
                begun = t.issued or start
                span = max(1, (t.deadline - begun).days)
                target = 100 * min(1.0, max(0.0, (q.end - begun).days / span))
                p = pct[t.code]
                if p < 100:
                    step = target * (0.5 + 0.6 * perf) + rng.normal(0, 8)
                    p = max(p, _round5(step))
                    if q.end >= t.deadline:
                        p = 100 if rng.random() < 0.30 + 0.68 * perf else min(p, 90)
                    elif p >= 100:
                        p = 100 if rng.random() < perf else 95
                    # Progress never goes backwards, and a weak quarter stalls it.
                    if rng.random() > perf + 0.25:
                        p = pct[t.code]
                pct[t.code] = p
                if p >= 100:
                    status = "已完成"
                elif p == 0:
                    status = "未启动"
                elif p < target - 12 or q.end >= t.deadline:
                    status = "滞后"
                else:
                    status = "按序推进"
                # A weak owner sometimes leaves a task out of its report (counts as 未报送).
                if status != "已完成" and rng.random() < 0.12 * (1 - perf):
                    continue
                action = _ACTIONS[int(rng.integers(len(_ACTIONS)))]
                if status == "已完成":
                    text, problem = "已全面完成，形成工作总结并报送市清廉办", "无"
                elif status == "未启动":
                    text, problem = "正在研究制定工作方案", "尚未启动"
                elif status == "滞后":
                    reason = _LAG_REASONS[int(rng.integers(len(_LAG_REASONS)))]
                    text, problem = f"已{action}，受{reason}影响进度滞后", reason
                else:
                    text, problem = f"已{action}{int(rng.integers(1, 5))}次，按计划推进", "无"
                plan = "巩固成果，建立长效机制" if status == "已完成" else f"下季度继续{_ACTIONS[int(rng.integers(len(_ACTIONS)))]}"
                evidence = int(rng.integers(1, 12)) if p > 0 else 0
                rows.append(ProgressRow(t, status, p, text, problem, plan, evidence))
            late = q.key in profile.forced_late or rng.random() < profile.late + 0.1 * (1 - perf)
            days = int(rng.integers(12, 26)) if late else int(rng.integers(2, 11))
            reports[(owner, q.key)] = ProgressReport(owner, q, rows, q.end + timedelta(days=days))
    return reports


# --- clean units ---------------------------------------------------------------------------------

UNIT_TYPES = ("机关", "学校", "医院", "企业", "工程", "村居")
UNIT_STAGES = ("未启动", "创建中", "已达标", "示范")
_TYPE_CODE = {"机关": "JG", "学校": "XX", "医院": "YY", "企业": "QY", "工程": "GC", "村居": "CJ"}
_BUREAUS = ("教育局", "卫健局", "住建局", "交通运输局", "农业农村局", "自然资源局", "水利局", "市场监管局", "财政局", "民政局")


@dataclass
class UnitBook:
    """A county's registered clean units with their stage at each quarter end."""

    county: Region
    codes: list[str]
    names: list[str]
    types: list[str]
    regions: list[Region]
    registered: np.ndarray  # quarter index of registration
    stage: np.ndarray  # (n, quarters) 0..3
    score: np.ndarray  # (n, quarters), nan when not assessed
    assessed_days: np.ndarray  # (n, quarters) days before the quarter end, -1 when not assessed

    def present(self, qi: int) -> np.ndarray:
        return np.nonzero(self.registered <= qi)[0]


def _unit_counts(prog: Programme, county: Region) -> dict[str, int]:
    towns = prog.towns_of[county.code]
    m = (1.0 if prog.scale == "city" else 2.7) * prog.volume
    pop = county.population
    return {
        "机关": int(m * (7 * len(towns) + pop / 40_000)),
        "学校": max(3, int(m * pop / 2_200)),
        "医院": max(2, int(m * (pop / 8_000 + len(towns) / 2))),
        "企业": max(2, int(m * pop / 3_500)),
        "工程": max(1, int(m * pop / 6_000)),
    }


def simulate_units(prog: Programme, county: Region, quarters: list[Quarter], profile: Profile) -> UnitBook:
    rng = rng_for(prog.seed, "units", county.code)
    towns = prog.towns_of[county.code]
    weights = np.array([t.population for t in towns], dtype=float)
    weights /= weights.sum()
    codes: list[str] = []
    names: list[str] = []
    types: list[str] = []
    regions: list[Region] = []
    seq = {k: 0 for k in UNIT_TYPES}

    def add(kind: str, region: Region, name: str) -> None:
        seq[kind] += 1
        codes.append(f"{county.code6}{_TYPE_CODE[kind]}{seq[kind]:04d}")
        names.append(name)
        types.append(kind)
        regions.append(region)

    for kind, n in _unit_counts(prog, county).items():
        picks = rng.choice(len(towns), size=n, p=weights)
        for i in range(n):
            town = towns[int(picks[i])]
            if kind == "机关":
                if i % 3 == 0:
                    add(kind, county, f"{county.name}{_BUREAUS[(i // 3) % len(_BUREAUS)]}" + ("" if i < 30 else f"第{i // 30}分局"))
                else:
                    add(kind, town, f"{town.name}{'人民政府' if i % 3 == 1 else '党委'}")
            elif kind == "学校":
                add(kind, town, f"{town.name}{('中心小学', '初级中学', '中心幼儿园', '九年制学校')[i % 4]}" + (f"（{i // 4 + 1}）" if i >= 4 else ""))
            elif kind == "医院":
                add(kind, town, f"{town.name}卫生院" if i % 2 else f"{county.name}第{i // 2 + 1}人民医院")
            elif kind == "企业":
                add(kind, town, f"汉中{FIRM_WORDS[i % len(FIRM_WORDS)]}{FIRM_TRADES[(i // len(FIRM_WORDS)) % len(FIRM_TRADES)]}有限公司{town.name[:2]}分公司")
            else:
                add(kind, town, f"{town.name}{('道路改造', '安置小区', '水利配套', '学校新建', '污水管网')[i % 5]}工程（{2024 + i % 2}年）")
    # 60 % of villages create a 村居 unit; a larger volume gives some villages several (one per 网格).
    per_village = 0.6 * prog.volume
    whole, frac = int(per_village), per_village - int(per_village)
    for town in towns:
        for v in prog.villages_of[town.code]:
            for k in range(whole + int(rng.random() < frac)):
                add("村居", v, v.name if k == 0 else f"{v.name}第{k + 1}网格")
    n, nq = len(codes), len(quarters)
    registered = np.where(rng.random(n) < 0.96, 0, rng.integers(0, nq, size=n))
    b = profile.perf(0, quarters[0])
    init = np.array([0.12 + 0.5 * (1 - b), 0.5, 0.45 * b, 0.18 * b])
    stage = np.zeros((n, nq), dtype=np.int8)
    current = rng.choice(4, size=n, p=init / init.sum())
    for qi, q in enumerate(quarters):
        perf = profile.perf(qi, q)
        if qi > 0:
            u = rng.random(n)
            up = np.select([current == 0, current == 1, current == 2], [0.08 + 0.45 * perf, 0.04 + 0.30 * perf, 0.02 + 0.10 * perf], 0.0)
            down = np.where(current == 3, 0.01 + 0.05 * (perf < 0.4), np.where(current == 2, 0.04 * (perf < 0.35), 0.0))
            current = np.where(u < up, current + 1, np.where(u > 1 - down, current - 1, current))
        stage[:, qi] = current
    lo = np.array([20.0, 55.0, 80.0, 92.0])
    hi = np.array([45.0, 79.9, 91.9, 99.5])
    score = np.round(lo[stage] + rng.random((n, nq)) * (hi[stage] - lo[stage]), 1)
    assessed = rng.integers(0, 80, size=(n, nq))
    not_assessed = (stage == 0) & (rng.random((n, nq)) < 0.7)
    score = np.where(not_assessed, np.nan, score)
    assessed = np.where(not_assessed, -1, assessed)
    # The newest registrations are assessed at the quarter end, so the latest date is always in the quarter.
    return UnitBook(county, codes, names, types, regions, registered, stage, score, assessed)


# --- inspections ---------------------------------------------------------------------------------

ISSUE_CATEGORIES = ("政治建设", "全面从严治党主体责任", "选人用人", "作风建设", "财务管理", "工程项目", "惠民惠农资金",
                    "基层党组织建设", "意识形态工作", "巡察整改")
_ISSUE_PHRASES = ("落实上级决策部署不到位", "制度执行不严格", "台账资料不规范", "监督检查流于形式", "资金使用审批不严",
                  "项目招投标程序不规范", "“三重一大”事项集体决策不规范", "整改措施针对性不强", "公务接待管理不规范",
                  "村级财务公开不及时")
CN_ROUND = ("一", "二", "三", "四", "五", "六")


@dataclass
class Issue:
    code: str
    round_name: str
    body: str  # 被巡察单位 as written
    region: Region | None
    dept: Department | None
    category: str
    description: str
    found: date
    deadline: date
    fixed: date | None
    person: str
    started_after: int  # days after finding when work visibly starts (整改中)

    def status_at(self, d: date) -> tuple[str, date | None, bool]:
        """(整改状态, 完成日期, 是否销号) as the ledger dated d shows it."""
        if self.fixed is not None and self.fixed <= d:
            return "已整改", self.fixed, (d - self.fixed).days >= 20
        if (d - self.found).days >= self.started_after:
            return "整改中", None, False
        return "未整改", None, False

    def days_overdue(self, d: date) -> int:
        if self.deadline < d and (self.fixed is None or self.fixed > d):
            return (d - self.deadline).days
        return 0


def _issue(rng: np.random.Generator, code: str, round_name: str, body: str, region: Region | None, dept: Department | None,
           found: date, perf: float) -> Issue:
    deadline = found + timedelta(days=int(rng.choice([60, 90, 120, 180])))
    if rng.random() < 0.40 + 0.55 * perf:
        fixed = found + timedelta(days=int(rng.integers(15, max(16, (deadline - found).days))))
    else:
        # Late, but never more than 85 days late: only planted issues trigger the > 90 day veto.
        fixed = deadline + timedelta(days=int(rng.integers(1, 86)))
    category = ISSUE_CATEGORIES[int(rng.integers(len(ISSUE_CATEGORIES)))]
    phrase = _ISSUE_PHRASES[int(rng.integers(len(_ISSUE_PHRASES)))]
    return Issue(code, round_name, body, region, dept, category, f"{category}方面：{phrase}", found, deadline, fixed,
                 person_name(rng), int(rng.integers(5, 40)))


def _body_for(rng: np.random.Generator, prog: Programme, county: Region) -> tuple[str, Region]:
    towns = prog.towns_of[county.code]
    u = rng.random()
    if u < 0.25:
        return f"中共{county.name}{_BUREAUS[int(rng.integers(len(_BUREAUS)))]}党组", county
    town = towns[int(rng.integers(len(towns)))]
    if u < 0.75:
        return f"中共{town.name}{'工作委员会' if town.name.endswith('街道') else '委员会'}", town
    villages = prog.villages_of[town.code]
    v = villages[int(rng.integers(len(villages)))]
    return f"{v.name}党支部", v


def simulate_county_issues(prog: Programme, county: Region, quarters: list[Quarter], profile: Profile) -> list[Issue]:
    rng = rng_for(prog.seed, "issues", county.code)
    first = quarters[0]
    per_round = max(6, int((28 if prog.scale == "city" else 14) + county.population / 12_000))
    issues: list[Issue] = []
    # A carried-over round from the previous year: mostly rectified before the demo starts.
    carried = first.plus(-2)
    rounds = [(carried, f"{carried.year}年第{CN_ROUND[carried.q - 1]}轮巡察", max(4, per_round // 4), profile.base + 0.2)]
    for qi, q in enumerate(quarters):
        rounds.append((q, f"{q.year}年第{CN_ROUND[q.q - 1]}轮巡察", per_round, profile.perf(qi, q)))
    for q, round_name, n, perf in rounds:
        for k in range(int(rng.poisson(n))):
            body, region = _body_for(rng, prog, county)
            found = q.start + timedelta(days=int(rng.integers(20, 85)))
            code = f"XC{q.year}{q.q}-{county.code6}-{k + 1:03d}"
            issues.append(_issue(rng, code, round_name, body, region, None, found, min(0.98, perf)))
    # Planted veto cases (> 90 days overdue at a quarter end), dated relative to the start.
    if county.code6 == "610703":  # 南郑区: a 2024 issue rectified only in the third quarter
        issues.append(Issue(f"XC{carried.year}{carried.q}-{county.code6}-900", rounds[0][1], f"中共{county.name}住建局党组",
                            county, None, "巡察整改", "巡察整改方面：历史遗留工程结算问题整改不到位",
                            carried.end - timedelta(days=10), first.plus(-1).end - timedelta(days=16),
                            first.plus(2).start + timedelta(days=42), person_name(rng), 10))
    if county.code6 == "610727" and len(quarters) >= 2:  # 略阳县: an issue left open from the second quarter on
        q = quarters[1]
        issues.append(Issue(f"XC{q.year}{q.q}-{county.code6}-900", f"{q.year}年第{CN_ROUND[q.q - 1]}轮巡察", f"中共{county.name}自然资源局党组",
                            county, None, "惠民惠农资金", "惠民惠农资金方面：退耕还林补助资金发放不及时",
                            q.start + timedelta(days=39), q.end, None, person_name(rng), 10))
    return issues


def simulate_department_issues(prog: Programme, quarters: list[Quarter], profiles: dict[str, Profile]) -> list[Issue]:
    """The city inspection office's rounds over departments: 被巡察单位 is a department spelling."""
    rng = rng_for(prog.seed, "dept-issues")
    issues: list[Issue] = []
    depts = prog.departments
    for qi, q in enumerate(quarters):
        chosen = rng.choice(len(depts), size=min(4, len(depts)), replace=False)
        for k_dept in chosen:
            d = depts[int(k_dept)]
            perf = profiles[d.code].perf(qi, q)
            for k in range(int(rng.integers(5, 12))):
                spelling = d.spellings[int(rng.integers(len(d.spellings)))]
                found = q.start + timedelta(days=int(rng.integers(20, 85)))
                issues.append(_issue(rng, f"SZ{q.year}{q.q}-{d.code}-{k + 1:02d}", f"{q.year}年市委第{CN_ROUND[q.q - 1]}轮巡察",
                                     spelling, prog.top, d, found, perf))
    d15 = prog.dept("D15")
    first = quarters[0]
    issues.append(Issue(f"SZ{first.year}0-D15-90", f"{first.plus(-1).year}年市委第四轮巡察", d15.short, prog.top, d15, "工程项目",
                        "工程项目方面：保障性住房项目变更审批不规范", first.plus(-1).start + timedelta(days=50),
                        first.start + timedelta(days=58), first.plus(3).start + timedelta(days=50), person_name(rng), 10))
    return issues


# --- surveys -------------------------------------------------------------------------------------

ANSWER_WORDS = {5: "很满意", 4: "满意", 3: "基本满意", 2: "不满意", 1: "很不满意", 0: "不了解"}
RESPONDENT_TYPES = ("群众", "企业", "党员干部", "服务对象")
SURVEY_MODES = ("电话", "网络", "入户")


@dataclass
class SurveyWave:
    county: Region
    year: int
    ids: list[str]
    regions: list[Region]
    rtype: np.ndarray
    mode: np.ndarray
    answers: np.ndarray  # (n, questions) codes 5..1, 0 = 不了解


def survey_size(prog: Programme, county: Region) -> int:
    if county.code6 == SMALL_SAMPLE_COUNTY:
        return 26
    if prog.scale == "city":
        return int(1_000 * prog.volume)
    total = sum(c.population for c in prog.counties)
    return int(max(300, int(200_000 * county.population / total)) * prog.volume)


def simulate_survey(prog: Programme, county: Region, year: int, profile: Profile, year_index: int) -> SurveyWave:
    rng = rng_for(prog.seed, "survey", county.code, year)
    base = survey_size(prog, county)
    n = base if base < 100 else base + int(rng.integers(-40, 41))
    towns = prog.towns_of[county.code]
    w = np.array([t.population for t in towns], dtype=float)
    picks = rng.choice(len(towns), size=n, p=w / w.sum())
    regions = [county if rng.random() < 0.1 else towns[int(i)] for i in picks]
    level = profile.satisfaction + profile.trend * 2 * year_index
    k = len(questions())
    latent = level + rng.normal(0, 0.05, size=k)[None, :] + rng.normal(0, 0.18, size=(n, k))
    answers = np.select([latent > 0.85, latent > 0.62, latent > 0.42, latent > 0.22], [5, 4, 3, 2], 1)
    answers = np.where(rng.random((n, k)) < 0.05, 0, answers)
    ids = [f"MY{year}-{county.code6}-{i + 1:05d}" for i in range(n)]
    rtype = rng.choice(4, size=n, p=[0.55, 0.15, 0.15, 0.15])
    mode = rng.choice(3, size=n, p=[0.5, 0.3, 0.2])
    return SurveyWave(county, year, ids, regions, rtype, mode, answers.astype(np.int8))


# --- case statistics -----------------------------------------------------------------------------

CASE_COLUMNS = ("信访举报", "处置问题线索", "谈话函询", "立案", "处分", "第一种形态", "第二种形态", "第三种形态", "第四种形态",
                "留置", "移送检察机关", "挽回经济损失")


@dataclass
class CaseSeries:
    county: Region
    quarterly: dict[str, list[float]]  # own-quarter figures, CASE_COLUMNS order
    ytd: dict[str, list[float]]  # year to date as the county reports it (one planted error)


def simulate_cases(prog: Programme, county: Region, quarters: list[Quarter], profile: Profile) -> CaseSeries:
    rng = rng_for(prog.seed, "cases", county.code)
    per10k = county.population / 10_000
    quarterly: dict[str, list[float]] = {}
    ytd: dict[str, list[float]] = {}
    running = np.zeros(12)
    for qi, q in enumerate(quarters):
        if q.q == 1:
            running = np.zeros(12)
        lam = per10k * (1.2 - 0.3 * profile.perf(qi, q))
        cases = int(rng.poisson(lam))
        own = np.array([
            rng.poisson(per10k * 3.0), rng.poisson(per10k * 1.6), rng.poisson(per10k * 0.7), cases,
            rng.binomial(cases, 0.85), rng.poisson(per10k * 2.4), rng.poisson(per10k * 0.9), rng.poisson(per10k * 0.12),
            rng.poisson(per10k * 0.05), rng.poisson(per10k * 0.02), rng.poisson(per10k * 0.04),
            round(float(rng.gamma(2.0, per10k * 0.6)), 1),
        ], dtype=float)
        running = running + own
        quarterly[q.key] = [round(float(x), 1) for x in own]
        ytd[q.key] = [round(float(x), 1) for x in running]
    return CaseSeries(county, quarterly, ytd)


def plant_ytd_error(series: CaseSeries, quarters: list[Quarter]) -> dict | None:
    """One county's year-to-date 立案 goes down (a typing error the warehouse must flag)."""
    for i in range(2, len(quarters)):
        prev, cur = quarters[i - 1], quarters[i]
        if prev.year == cur.year:
            before = series.ytd[prev.key][3]
            wrong = max(0.0, before - 2)
            series.ytd[cur.key][3] = wrong
            return {"region_code": series.county.code, "region_name": series.county.name, "quarter": cur.key,
                    "column": "立案", "previous_ytd": before, "reported_ytd": wrong}
    return None
