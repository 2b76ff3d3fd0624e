"""Reference data: regions (real 汉中 counties, synthetic towns and villages), departments, tasks.

Everything here is built once per (scale, seed) and shared by the story simulation and the
file writers, so the manifest's truth comes from the same objects the files were written from.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import date

import numpy as np

from qinglian.demo.catalogue import (
    ACCEPTANCE_STANDARDS,
    AREA_OF_TASK,
    AREAS,
    COUNTY_TASKS,
    DOCUMENT_TASKS,
    SUPPLEMENTARY_TASKS,
)
from qinglian.demo.names import person_name, place_name, rng_for
from qinglian.demo.quarters import Quarter

HANZHONG = "610700000000"
SHAANXI = "610000000000"

# The real county-level divisions of 汉中 (DESIGN §2). Populations are rounded 2020-census-order
# figures, good enough for per-10,000 ratios; towns per county is the demo's choice.
HANZHONG_COUNTIES: tuple[tuple[str, str, int, int], ...] = (
    ("610702", "汉台区", 617_000, 13),
    ("610703", "南郑区", 452_000, 20),
    ("610722", "城固县", 440_000, 19),
    ("610723", "洋县", 355_000, 18),
    ("610724", "西乡县", 330_000, 18),
    ("610725", "勉县", 340_000, 18),
    ("610726", "宁强县", 265_000, 18),
    ("610727", "略阳县", 165_000, 17),
    ("610728", "镇巴县", 220_000, 20),
    ("610729", "留坝县", 38_000, 8),
    ("610730", "佛坪县", 27_000, 7),
)

# Shaanxi's prefecture-level cities by GB/T 2260 prefix; 6111 is not a real prefecture and is
# marked synthetic. Populations are rounded, for the province-scale demo only.
SHAANXI_CITIES: tuple[tuple[str, str, int, bool], ...] = (
    ("6101", "西安市", 12_950_000, False),
    ("6102", "铜川市", 700_000, False),
    ("6103", "宝鸡市", 3_320_000, False),
    ("6104", "咸阳市", 4_180_000, False),
    ("6105", "渭南市", 4_690_000, False),
    ("6106", "延安市", 2_280_000, False),
    ("6107", "汉中市", 3_210_000, False),
    ("6108", "榆林市", 3_620_000, False),
    ("6109", "安康市", 2_490_000, False),
    ("6110", "商洛市", 2_040_000, False),
    ("6111", "秦岭新区", 300_000, True),
)

# (code, short name, full name, other spellings). Files spell departments any of these ways.
DEPARTMENTS: tuple[tuple[str, str, str, tuple[str, ...]], ...] = (
    ("D01", "市纪委监委", "中共汉中市纪律检查委员会", ("汉中市纪委监委", "市纪委", "中共汉中市纪委", "汉中市监察委员会")),
    ("D02", "市委组织部", "中共汉中市委组织部", ("汉中市委组织部", "组织部")),
    ("D03", "市委宣传部", "中共汉中市委宣传部", ("汉中市委宣传部", "宣传部")),
    ("D04", "市委政法委", "中共汉中市委政法委员会", ("汉中市委政法委", "政法委")),
    ("D05", "市委巡察办", "中共汉中市委巡察工作领导小组办公室", ("汉中市委巡察办", "巡察办")),
    ("D06", "市委统战部", "中共汉中市委统一战线工作部", ("汉中市委统战部", "统战部")),
    ("D07", "市发改委", "汉中市发展和改革委员会", ("汉中市发改委", "市发展改革委")),
    ("D08", "市教育局", "汉中市教育局", ("教育局",)),
    ("D09", "市公安局", "汉中市公安局", ("公安局",)),
    ("D10", "市民政局", "汉中市民政局", ("民政局",)),
    ("D11", "市司法局", "汉中市司法局", ("司法局",)),
    ("D12", "市财政局", "汉中市财政局", ("财政局",)),
    ("D13", "市人社局", "汉中市人力资源和社会保障局", ("汉中市人社局", "市人力资源社会保障局")),
    ("D14", "市自然资源局", "汉中市自然资源局", ("自然资源局", "市资源局")),
    ("D15", "市住建局", "汉中市住房和城乡建设局", ("汉中市住建局", "市住房城乡建设局")),
    ("D16", "市交通运输局", "汉中市交通运输局", ("市交通局", "交通运输局")),
    ("D17", "市农业农村局", "汉中市农业农村局", ("市农业局", "农业农村局")),
    ("D18", "市商务局", "汉中市商务局", ("商务局",)),
    ("D19", "市文旅局", "汉中市文化和旅游局", ("汉中市文旅局", "市文化旅游局")),
    ("D20", "市卫健委", "汉中市卫生健康委员会", ("汉中市卫健委", "市卫生健康委")),
    ("D21", "市审计局", "汉中市审计局", ("审计局",)),
    ("D22", "市国资委", "汉中市人民政府国有资产监督管理委员会", ("汉中市国资委", "国资委")),
    ("D23", "市市场监管局", "汉中市市场监督管理局", ("汉中市市场监管局", "市场监管局")),
    ("D24", "市行政审批服务局", "汉中市行政审批服务局", ("市审批局", "行政审批服务局")),
    ("D25", "市工商联", "汉中市工商业联合会", ("汉中市工商联", "工商联")),
)

# A province's departments are 厅 where a city's are 局.
_PROVINCIAL_SUFFIX = {"市教育局": "教育厅", "市公安局": "公安厅", "市民政局": "民政厅", "市司法局": "司法厅",
                      "市财政局": "财政厅", "市人社局": "人社厅", "市自然资源局": "自然资源厅", "市住建局": "住建厅",
                      "市交通运输局": "交通运输厅", "市农业农村局": "农业农村厅", "市商务局": "商务厅",
                      "市文旅局": "文旅厅", "市审计局": "审计厅"}


@dataclass(frozen=True)
class Region:
    code: str  # 12 digits
    name: str
    level: str  # 省 市 县 乡 村
    parent: str | None
    population: int
    synthetic: bool

    @property
    def code6(self) -> str:
        return self.code[:6]

    @property
    def code9(self) -> str:
        return self.code[:9]


@dataclass(frozen=True)
class Department:
    code: str
    short: str
    full: str
    aliases: tuple[str, ...]

    @property
    def spellings(self) -> tuple[str, ...]:
        """Every spelling the departments file lists, so any of them resolves."""
        return (self.short, self.full, *self.aliases)


@dataclass(frozen=True)
class Task:
    code: str
    name: str
    area: str
    owner: str  # department code, or a county's 12-digit region code
    owner_group: str  # department | county
    lead_name: str  # 牵头单位 as written in the catalogue
    co_units: str
    deadline: date
    standard: str
    person: str
    issued: date | None  # None: active from the programme start
    supplementary: bool = False


@dataclass
class Programme:
    scale: str
    seed: int
    top: Region
    regions: list[Region]
    by_code: dict[str, Region]
    counties: list[Region]
    towns_of: dict[str, list[Region]]  # county code -> towns
    villages_of: dict[str, list[Region]]  # town code -> villages
    departments: list[Department]
    tasks: list[Task]
    name_counts: Counter[str] = field(default_factory=Counter)
    # Multiplies the unit and survey volumes (not the regions or tasks): the benchmark's growth runs.
    volume: float = 1.0

    @property
    def place(self) -> str:
        """"汉中市" or "陕西省": the prefix of titles and full department names."""
        return self.top.name

    @property
    def level_word(self) -> str:
        return self.top.name[-1]

    def dept(self, code: str) -> Department:
        return self.departments[int(code[1:]) - 1]

    def unique_name(self, region: Region) -> bool:
        return self.name_counts[region.name] == 1


def _towns_and_villages(seed: int, county: Region, n_towns: int, villages_mean: float, taken_towns: set[str],
                        taken_villages: set[str] | None) -> tuple[list[Region], dict[str, list[Region]]]:
    """Synthetic towns (12 digits: county 6 + town 3 + 000) and villages (+3), populations summing up."""
    rng = rng_for(seed, "towns", county.code)
    is_district = county.name.endswith("区")
    town_pop = rng.dirichlet(np.full(n_towns, 4.0)) * county.population
    towns, villages_of = [], {}
    n_streets = min(n_towns, 4 if is_district else 1)
    for i in range(n_towns):
        street = i < n_streets
        # GB/T 10114 style: 街道 001-099, 镇 100-199, 乡 200-399.
        if street:
            suffix, seq = ("街道" if is_district else "镇"), i + 1
        elif rng.random() < 0.15 and not is_district:
            suffix, seq = "乡", 200 + i
        else:
            suffix, seq = "镇", 100 + i
        name = place_name(rng, taken_towns, suffix)
        code = f"{county.code6}{seq:03d}000"
        town = Region(code, name, "乡", county.code, int(town_pop[i]), True)
        towns.append(town)
        n_vil = max(4, int(rng.poisson(villages_mean)))
        vil_pop = rng.dirichlet(np.full(n_vil, 3.0)) * town.population
        local: set[str] = set()
        vs = []
        for j in range(n_vil):
            community = suffix == "街道" or (street and j < n_vil // 2)
            vsuffix, vseq = ("社区", 1 + j) if community else ("村", 200 + j)
            pool = taken_villages if taken_villages is not None else local
            vname = place_name(rng, pool, vsuffix)
            vs.append(Region(f"{code[:9]}{vseq:03d}", vname, "村", code, max(150, int(vil_pop[j])), True))
        # the town's population is the sum of its villages, so roll-ups agree
        towns[-1] = Region(code, name, "乡", county.code, sum(v.population for v in vs), True)
        villages_of[code] = vs
    return towns, villages_of


def _departments(scale: str) -> list[Department]:
    out = []
    for code, short, full, aliases in DEPARTMENTS:
        if scale == "province":
            short_p = "省" + _PROVINCIAL_SUFFIX.get(short, short[1:])
            full_p = full.replace("汉中市", "陕西省")
            if short in _PROVINCIAL_SUFFIX:
                full_p = "陕西省" + _PROVINCIAL_SUFFIX[short]
            extra = tuple(dict.fromkeys(a.replace("汉中市", "陕西省").replace("市", "省", 1) for a in aliases if "汉中" in a or a.startswith("市")))
            extra = tuple(a for a in extra if a not in (short_p, full_p))
            out.append(Department(code, short_p, full_p, ("陕西" + short_p, *extra)))
        else:
            out.append(Department(code, short, full, aliases))
    return out


def _tasks(seed: int, start: Quarter, n_quarters: int, counties: list[Region], departments: list[Department]) -> list[Task]:
    rng = rng_for(seed, "tasks")
    deadlines = [start.plus(i).end for i in range(n_quarters + 3)]
    short = {d.code: d.short for d in departments}
    tasks: list[Task] = []

    def deadline() -> date:
        # Most tasks fall due within the demo horizon; some run beyond it.
        return deadlines[int(rng.integers(len(deadlines)))]

    for number, _title, subs in DOCUMENT_TASKS:
        for j, (title, lead, co) in enumerate(subs, start=1):
            co_names = "、".join(short[c] for c in co.split("、"))
            tasks.append(Task(f"{number}.{j}", title, AREAS[AREA_OF_TASK[number]], lead, "department", short[lead],
                              co_names, deadline(), ACCEPTANCE_STANDARDS[int(rng.integers(len(ACCEPTANCE_STANDARDS)))],
                              person_name(rng), None))
    for k, (title, area, lead, co, month, day) in enumerate(SUPPLEMENTARY_TASKS, start=1):
        issued = date(start.year, month, day)
        due = max(deadlines[min(len(deadlines) - 1, 2)], Quarter(issued.year, (issued.month - 1) // 3 + 1).plus(2).end)
        co_names = "、".join(short[c] for c in co.split("、"))
        tasks.append(Task(f"ZX{k:02d}", title, AREAS[area], lead, "department", short[lead], co_names, due,
                          ACCEPTANCE_STANDARDS[k % len(ACCEPTANCE_STANDARDS)], person_name(rng), issued, True))
    for county in counties:
        for j, (title, area, co) in enumerate(COUNTY_TASKS, start=1):
            tasks.append(Task(f"{county.code6}-{j:02d}", title.format(c=county.name), AREAS[area], county.code, "county",
                              county.name, co, deadline(), ACCEPTANCE_STANDARDS[(j + int(county.code6)) % len(ACCEPTANCE_STANDARDS)],
                              person_name(rng), None))
    return tasks


def build_programme(scale: str, seed: int, start: Quarter, n_quarters: int) -> Programme:
    if scale not in ("city", "province"):
        raise ValueError("scale must be 'city' or 'province'")
    regions: list[Region] = []
    counties: list[Region] = []
    towns_of: dict[str, list[Region]] = {}
    villages_of: dict[str, list[Region]] = {}
    taken_towns: set[str] = {c[1] for c in HANZHONG_COUNTIES}
    # At city scale village names are unique city-wide so a bare name resolves; a province has
    # too many villages for that and files qualify them with their town instead.
    taken_villages: set[str] | None = set() if scale == "city" else None
    villages_mean = 12.5 if scale == "city" else 15.5
    if scale == "city":
        top = Region(HANZHONG, "汉中市", "市", None, sum(c[2] for c in HANZHONG_COUNTIES), False)
        regions.append(top)
        city_specs = [(top, HANZHONG_COUNTIES)]
    else:
        top = Region(SHAANXI, "陕西省", "省", None, sum(c[2] for c in SHAANXI_CITIES), False)
        regions.append(top)
        city_specs = []
        rng = rng_for(seed, "province-counties")
        taken_counties = set(taken_towns)
        for prefix, name, pop, synthetic in SHAANXI_CITIES:
            city = Region(prefix + "00000000", name, "市", SHAANXI, pop, synthetic)
            regions.append(city)
            if prefix == "6107":
                city_specs.append((city, HANZHONG_COUNTIES))
                continue
            n = 2 if synthetic else (9 if pop > 3_000_000 else 8)
            shares = rng.dirichlet(np.full(n, 5.0))
            specs = []
            for i in range(n):
                suffix = "区" if i < 2 else "县"
                cname = place_name(rng, taken_counties, suffix)
                specs.append((f"{prefix}{(2 + i) if i < 2 else (21 + i):02d}", cname, int(pop * shares[i]), int(rng.integers(11, 18))))
            city_specs.append((city, tuple(specs)))
        taken_towns |= taken_counties
    for city, specs in city_specs:
        for code6, name, pop, n_towns in specs:
            real = city.code == HANZHONG or city.code.startswith("6107")
            county = Region(code6 + "000000", name, "县", city.code, pop, not real)
            towns, vil = _towns_and_villages(seed, county, n_towns, villages_mean, taken_towns, taken_villages)
            # Recompute the county's population from its villages so every level sums exactly.
            county = Region(county.code, county.name, "县", city.code, sum(t.population for t in towns), county.synthetic)
            counties.append(county)
            towns_of[county.code] = towns
            villages_of.update(vil)
            regions.append(county)
            for t in towns:
                regions.append(t)
                regions.extend(vil[t.code])
    # Upper levels sum their children too.
    sums: Counter[str] = Counter()
    for c in counties:
        sums[c.parent or ""] += c.population
    if scale == "province":
        for i, r in enumerate(regions):
            if r.level == "市":
                regions[i] = Region(r.code, r.name, r.level, r.parent, sums[r.code], r.synthetic)
        city_total = sum(r.population for r in regions if r.level == "市")
        regions[0] = Region(top.code, top.name, top.level, None, city_total, False)
    else:
        regions[0] = Region(top.code, top.name, top.level, None, sums[top.code], False)
    top = regions[0]
    by_code = {r.code: r for r in regions}
    departments = _departments(scale)
    tasks = _tasks(seed, start, n_quarters, counties, departments)
    names = Counter(r.name for r in regions)
    return Programme(scale, seed, top, regions, by_code, counties, towns_of, villages_of, departments, tasks, names)
