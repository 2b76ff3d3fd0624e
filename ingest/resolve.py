"""Resolving the many spellings of departments and regions to one code.

Built from the current reference data (raw.regions, raw.departments). An unknown spelling is
never a new entity: it returns None and the row is rejected with a reason.
"""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass, field

from ingest.text import compact

_OWNER_SUFFIXES = re.compile(r"(人民政府|政府|县委|区委|市委|委员会|纪委监委|纪委|党委)$")


def pad_region_code(text: str) -> str | None:
    """GB/T 2260 prefixes of 2, 4, 6 or 9 digits are padded to the 12-digit statistical code."""
    digits = compact(text)
    if re.fullmatch(r"\d+(\.0+)?", digits):
        digits = digits.split(".")[0]
        if len(digits) in (2, 4, 6, 9, 12):
            return digits.ljust(12, "0")
    return None


@dataclass
class Region:
    code: str
    name: str
    level: str
    parent: str | None


@dataclass
class Resolver:
    regions: dict[str, Region] = field(default_factory=dict)
    dept_names: dict[str, str] = field(default_factory=dict)  # code -> canonical name
    _dept_index: dict[str, str] = field(default_factory=dict)
    _region_index: dict[str, set[str]] = field(default_factory=dict)
    _city_names: tuple[str, ...] = ()

    @classmethod
    def build(cls, regions: list[tuple[str, str, str, str | None]], departments: list[tuple[str, str, str | None, list[str] | None]]) -> Resolver:
        r = cls()
        for code, name, level, parent in regions:
            r.regions[code] = Region(code, name, level, parent)
        r._city_names = tuple(sorted({x.name for x in r.regions.values() if x.level in ("市", "省")}, key=len, reverse=True))
        index: dict[str, set[str]] = defaultdict(set)
        for reg in r.regions.values():
            index[compact(reg.name)].add(reg.code)
            parent = r.regions.get(reg.parent or "")
            # "汉中市洋县" and "洋县城关镇" style qualified names are common in ledgers.
            if parent is not None:
                index[compact(parent.name) + compact(reg.name)].add(reg.code)
        r._region_index = dict(index)
        dept_index: dict[str, set[str]] = defaultdict(set)
        for code, name, short, aliases in departments:
            r.dept_names[code] = name
            for spelling in (code, name, short, *(aliases or [])):
                if spelling:
                    for key in r._variants(spelling):
                        dept_index[key].add(code)
        # A variant that two departments share identifies neither.
        r._dept_index = {k: next(iter(v)) for k, v in dept_index.items() if len(v) == 1}
        return r

    def _variants(self, name: str) -> list[str]:
        s = compact(name)
        out = [s]
        if s.startswith("中共"):
            out.append(s[2:])
        for v in list(out):
            for city in self._city_names:
                if v.startswith(city):
                    out.append("市" + v[len(city) :])
                    break
        return list(dict.fromkeys(out))

    def department(self, name: str | None) -> str | None:
        if not name:
            return None
        for key in self._variants(name):
            if key in self._dept_index:
                return self._dept_index[key]
        return None

    def region(self, text: str | None) -> tuple[str | None, str | None]:
        """(code, problem): a code must exist; a name must be unique among regions."""
        if not text:
            return None, None
        code = pad_region_code(text)
        if code is not None:
            return (code, None) if code in self.regions else (None, "区划代码不存在（请核对12位统计用区划代码）")
        key = compact(text)
        for city in self._city_names:
            if key.startswith(city) and key != city:
                key = key[len(city) :]
                break
        matches = self._region_index.get(key, set())
        if len(matches) == 1:
            return next(iter(matches)), None
        if len(matches) > 1:
            return None, "区划名称对应多个区划，请改填区划代码"
        return None, "区划名称无法识别，请填写规范的区划名称或代码"

    def county_of(self, code: str | None) -> str | None:
        """The county-level region containing a region (itself if it is one)."""
        seen = 0
        while code is not None and seen < 6:
            reg = self.regions.get(code)
            if reg is None:
                return None
            if reg.level == "县":
                return code
            code = reg.parent
            seen += 1
        return None

    def owner(self, name: str | None) -> tuple[str | None, str | None]:
        """A task owner: a department, or a county for its own tasks. Returns (code, group)."""
        if not name:
            return None, None
        dept = self.department(name)
        if dept is not None:
            return dept, "department"
        for candidate in (name, _OWNER_SUFFIXES.sub("", compact(name).removeprefix("中共"))):
            code, _ = self.region(candidate)
            if code is not None and self.regions[code].level == "县":
                return code, "county"
        return None, None

    def entity(self, name: str | None) -> str | None:
        """A submitter named in a title line: a department or any region."""
        if not name:
            return None
        code, _ = self.owner(name)
        if code is not None:
            return code
        code, _ = self.region(name)
        return code
