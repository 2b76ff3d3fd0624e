"""Read and validate the rules YAML files, keeping each value's file and line for Chinese errors."""

from __future__ import annotations

import math
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from qinglian.errors import UserError
from qinglian.settings import PROJECT_ROOT

SHIPPED = PROJECT_ROOT / "config" / "rules.yaml"
DEMO = PROJECT_ROOT / "config" / "rules.demo.yaml"

GROUPS = {"county": "县区", "department": "市直部门"}
# indicator key -> (Chinese name, display order, groups that may weight it). The formulas live in
# dbt (macros/scorecard_indicators.sql); this is the catalogue a configuration may refer to.
INDICATORS: dict[str, tuple[str, int, tuple[str, ...]]] = {
    "task_on_schedule": ("任务推进率", 1, ("county", "department")),
    "unit_coverage": ("清廉单元覆盖率", 2, ("county",)),
    "rectification": ("整改完成率", 3, ("county", "department")),
    "timeliness": ("按时报送率", 4, ("county", "department")),
    "satisfaction": ("满意度指数", 5, ("county",)),
}


@dataclass(frozen=True)
class _Spec:
    label: str
    kind: type  # int or float
    low: float
    high: float
    low_open: bool = False


# Every scalar rule: (Chinese label, type, range). Valid both at the top of a version and inside a group.
SCALARS: dict[str, _Spec] = {
    "red_flags": _Spec("每季度红旗数", int, 0, 50),
    "snails": _Spec("每季度蜗牛数", int, 0, 50),
    "veto_days": _Spec("一票否决逾期天数", int, 1, 3650),
    "near_tie_margin": _Spec("边界接近分差", float, 0, 100),
    "red_flag_bonus": _Spec("每面红旗加分", float, 0, 100),
    "snail_penalty": _Spec("每只蜗牛减分", float, 0, 100),
    "excellent_min_score": _Spec("优秀分数线", float, 0, 100),
    "good_min_score": _Spec("良好分数线", float, 0, 100),
    "pass_min_score": _Spec("合格分数线", float, 0, 100),
    "excellent_quota": _Spec("优秀名额比例", float, 0, 1, low_open=True),
    "min_sample": _Spec("满意度最小有效样本量", int, 1, 1_000_000),
    "remind_max_days": _Spec("「提醒」阶段最大逾期天数", int, 1, 3650),
    "supervise_max_days": _Spec("「督办」阶段最大逾期天数", int, 1, 3650),
    "caution_max_days": _Spec("「告诫」阶段最大逾期天数", int, 1, 3650),
    "report_deadline_days": _Spec("按时报送截止（季末后天数）", int, 0, 365),
    "warning_snail_margin": _Spec("预警：高出蜗牛线的分数", float, 0, 100),
}
# One value per year for both groups (a quarter's report deadline, a wave's sample threshold)
SHARED_ONLY = {"min_sample", "report_deadline_days"}
VERSION_KEYS = {"version", "note", *GROUPS, *SCALARS}
GROUP_KEYS = {"weights", *(set(SCALARS) - SHARED_ONLY)}
FILE_KEYS = {"default", "years"}


META = ("__line__", "__file__", "__keys__")  # where a mapping and its keys were written, not settings


class RulesError(UserError):
    """A rules file that cannot be used: one Chinese line naming the file, the line and the value."""


@dataclass(frozen=True)
class Located:
    """A value from a rules file, with where it was written."""

    value: Any
    file: Path
    line: int

    def where(self) -> str:
        return f"规则配置 {self.file} 第{self.line}行"


@dataclass(frozen=True)
class RuleSet:
    """The rules of one version for one group: what the warehouse's rules tables hold."""

    rules_version: str
    from_year: int | None  # None: the default rules, in force for every year without a later version
    body_group: str
    note: str
    source: str
    weights: dict[str, float]
    values: dict[str, float | int] = field(default_factory=dict)

    def __getattr__(self, name: str) -> Any:
        values = self.__dict__.get("values", {})
        if name in values:
            return values[name]
        raise AttributeError(name)


@dataclass(frozen=True)
class Rules:
    sets: list[RuleSet]
    files: list[Path]

    def in_force(self, year: int, group: str) -> RuleSet:
        """The version in force for a year: the latest version starting on or before it, else the default."""
        candidates = [s for s in self.sets if s.body_group == group and s.from_year is not None and s.from_year <= year]
        if candidates:
            return max(candidates, key=lambda s: s.from_year or 0)
        return next(s for s in self.sets if s.body_group == group and s.from_year is None)


# --- reading YAML with line numbers ----------------------------------------------------------------


def _to_python(node: yaml.Node, file: Path) -> Any:
    """A YAML node as dicts/lists whose leaves are Located; duplicate keys are an error (PyYAML keeps the last)."""
    line = node.start_mark.line + 1
    if isinstance(node, yaml.MappingNode):
        out: dict[Any, Any] = {}
        seen: dict[Any, int] = {}
        for key_node, value_node in node.value:
            key = _key(key_node, file)
            key_line = key_node.start_mark.line + 1
            if key in seen:
                raise RulesError(f"规则配置 {file} 第{key_line}行：「{key}」重复出现（第一次在第{seen[key]}行），"
                                 "每一项只能写一次，每个年度只能有一个规则版本")
            seen[key] = key_line
            out[key] = _to_python(value_node, file)
        out["__line__"] = line
        out["__file__"] = file
        out["__keys__"] = seen
        return out
    if isinstance(node, yaml.SequenceNode):
        raise RulesError(f"规则配置 {file} 第{line}行：此处不能写列表（- …），请按 docs/排名与考核规则.md 的格式填写")
    loader = yaml.SafeLoader("")
    return Located(loader.construct_object(node), file, line)


def _key(node: yaml.Node, file: Path) -> Any:
    """Keys as YAML types them (2026 → int), so year keys compare as numbers."""
    if not isinstance(node, yaml.ScalarNode):
        raise RulesError(f"规则配置 {file} 第{node.start_mark.line + 1}行：项名必须是文字或年份")
    key = yaml.SafeLoader("").construct_object(node)
    return key if isinstance(key, int) and not isinstance(key, bool) else str(key)


def read_file(path: Path) -> dict:
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise RulesError(f"规则配置文件不存在：{path}") from None
    except UnicodeDecodeError:
        raise RulesError(f"规则配置 {path} 不是 UTF-8 编码的文本文件，请用 UTF-8 保存") from None
    except OSError as exc:
        raise RulesError(f"无法读取规则配置 {path}：{exc.strerror or exc}") from None
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else "?"
        raise RulesError(f"规则配置 {path} 第{line}行：YAML 格式错误（{exc.problem or exc}），"
                         "请检查缩进、冒号和引号") from None
    if node is None:
        return {"__line__": 1}
    data = _to_python(node, path)
    if not isinstance(data, dict):
        raise RulesError(f"规则配置 {path} 第1行：文件应以 default: 或 years: 开头")
    _check_keys(data, FILE_KEYS, path, "文件顶层")
    return data


def _line(d: dict, key: Any | None = None) -> int:
    if key is not None and key in d.get("__keys__", {}):
        return d["__keys__"][key]
    if key is not None and isinstance(d.get(key), Located):
        return d[key].line
    if key is not None and isinstance(d.get(key), dict):
        return d[key].get("__line__", 0)
    return d.get("__line__", 0)


def _check_keys(d: dict, allowed: set, file: Path, where: str) -> None:
    for key in d:
        if key in META:
            continue
        if key not in allowed:
            raise RulesError(f"规则配置 {file} 第{_line(d, key)}行：{where}不认识的项「{key}」"
                             f"（可以写：{'、'.join(sorted(map(str, allowed)))}）")


def _mapping(value: Any, file: Path, line: int, what: str) -> dict:
    if isinstance(value, Located) and value.value is None:
        return {"__line__": line}
    if not isinstance(value, dict):
        shown = value.value if isinstance(value, Located) else value
        raise RulesError(f"规则配置 {file} 第{line}行：{what}应是若干「项: 值」，而不是 '{shown}'")
    return value


# --- merging and validating -------------------------------------------------------------------------


def _merge(base: dict, over: dict) -> dict:
    """Overlay one version's settings on another; a group's weights are replaced as a whole."""
    out = dict(base)
    for key, value in over.items():
        if key in META:
            continue
        if key in SCALARS:
            # a version's shared value applies to both groups, over a group value of an earlier version
            for group in GROUPS:
                if isinstance(out.get(group), dict) and key in out[group]:
                    out[group] = {k: v for k, v in out[group].items() if k != key}
        if key in GROUPS and isinstance(value, dict):
            group = dict(out.get(key, {}))
            group.update({k: v for k, v in value.items() if k not in META})
            out[key] = group
        else:
            out[key] = value
    return out


def _number(loc: Located, key: str) -> float | int:
    spec = SCALARS[key]
    v = loc.value
    bad = f"{loc.where()}：{spec.label}（{key}）的值 '{v}' "
    if isinstance(v, bool) or not isinstance(v, int | float) or (isinstance(v, float) and not math.isfinite(v)):
        raise RulesError(bad + "不是数字")
    if spec.kind is int and not float(v).is_integer():
        raise RulesError(bad + "应为整数")
    lo_ok = v > spec.low if spec.low_open else v >= spec.low
    if not lo_ok or v > spec.high:
        lo = f"大于 {spec.low:g}" if spec.low_open else f"不小于 {spec.low:g}"
        raise RulesError(bad + f"超出范围（应{lo}、不大于 {spec.high:g}）")
    return int(v) if spec.kind is int else float(v)


def _weights(value: Any, group: str, file: Path, line: int) -> dict[str, float]:
    mapping = _mapping(value, file, line, f"{GROUPS[group]}的权重（weights）")
    weights: dict[str, float] = {}
    for key, loc in mapping.items():
        if key in META:
            continue
        if key not in INDICATORS or group not in INDICATORS[key][2]:
            allowed = [k for k, v in INDICATORS.items() if group in v[2]]
            raise RulesError(f"{loc.where()}：{GROUPS[group]}不能使用指标「{key}」（可以写：{'、'.join(allowed)}）")
        v = loc.value
        if isinstance(v, bool) or not isinstance(v, int | float) or not math.isfinite(v) or v < 0 or v > 100:
            raise RulesError(f"{loc.where()}：{INDICATORS[key][0]}（{key}）的权重 '{v}' 应是 0 到 100 之间的数字")
        weights[key] = float(v)
    total = sum(weights.values())
    if abs(total - 100) > 1e-6:
        parts = " + ".join(f"{INDICATORS[k][0]} {w:g}" for k, w in weights.items()) or "（没有指标）"
        raise RulesError(f"规则配置 {file} 第{line}行：{GROUPS[group]}的权重合计为 {total:g}（{parts}），应为 100")
    return weights


def _resolve(settings: dict, version: Located, from_year: int | None, note: str) -> list[RuleSet]:
    out = []
    for group in GROUPS:
        merged = {k: v for k, v in settings.items() if k in SCALARS}
        gset = settings.get(group, {})
        merged.update({k: v for k, v in gset.items() if k in SCALARS})
        w = gset.get("weights")
        if w is None:
            raise RulesError(f"{version.where()}：规则版本 {version.value} 没有{GROUPS[group]}的权重（{group}: weights:）")
        values = {}
        for key in SCALARS:
            if key not in merged:
                raise RulesError(f"{version.where()}：规则版本 {version.value} 缺少{SCALARS[key].label}（{key}）")
            values[key] = _number(merged[key], key)
        wline = w.get("__line__", version.line) if isinstance(w, dict) else w.line
        wfile = w.get("__file__", version.file) if isinstance(w, dict) else w.file
        weights = _weights(w, group, wfile, wline)
        _check_order(values, merged, version)
        out.append(RuleSet(rules_version=str(version.value), from_year=from_year, body_group=group, note=note,
                           source=str(version.file), weights=weights, values=values))
    return out


def _check_order(values: dict, merged: dict, version: Located) -> None:
    pairs = [("pass_min_score", "good_min_score"), ("good_min_score", "excellent_min_score"),
             ("remind_max_days", "supervise_max_days"), ("supervise_max_days", "caution_max_days")]
    for low, high in pairs:
        strict = low.endswith("_days")
        if values[low] > values[high] or (strict and values[low] == values[high]):
            lo, hi = merged[low], merged[high]
            rel = "大于" if strict else "不小于"
            inverse = "小于" if strict else "不大于"
            if lo.file != hi.file and lo.file != SHIPPED:  # name the value the office wrote
                raise RulesError(f"{lo.where()}：{SCALARS[low].label}（{low}）的值 '{lo.value}' 应{inverse}"
                                 f"{SCALARS[high].label}（{high}）{values[high]:g}（规则版本 {version.value}）")
            raise RulesError(f"{hi.where()}：{SCALARS[high].label}（{high}）的值 '{hi.value}' 应{rel}"
                             f"{SCALARS[low].label}（{low}）{values[low]:g}（规则版本 {version.value}）")


def _check_version(section: dict, file: Path, where: str) -> None:
    _check_keys(section, VERSION_KEYS, file, where)
    for group in GROUPS:
        if group in section:
            g = section[group] = _mapping(section[group], file, _line(section, group), f"{where}的 {group}")
            _check_keys(g, GROUP_KEYS, file, f"{where}的 {group} 下")


def rules_paths(override: Path | str | None = None) -> list[Path]:
    """Shipped defaults first, then the office's file: --rules, else QINGLIAN_RULES, else (demo only) the demo's."""
    paths = [SHIPPED]
    chosen = override or os.environ.get("QINGLIAN_RULES")
    if chosen:
        paths.append(Path(chosen).expanduser().resolve())
    elif os.environ.get("QINGLIAN_ENV", "").strip().lower() == "demo" and DEMO.exists():
        paths.append(DEMO)
    return paths


def load_rules(override: Path | str | None = None, paths: list[Path] | None = None) -> Rules:
    """Every rules version of the configuration, validated; raises RulesError with file and line."""
    files = list(paths) if paths is not None else rules_paths(override)
    default: dict = {}
    years: dict[int, dict] = {}
    default_version: Located | None = None
    default_note = ""
    for file in files:
        data = read_file(file)
        if "default" in data:
            section = _mapping(data["default"], file, _line(data, "default"), "default")
            _check_version(section, file, "default 中")
            default = _merge(default, section)
            if "version" in section:
                default_version = section["version"]
            if "note" in section:
                default_note = str(section["note"].value)
        if "years" in data:
            ys = _mapping(data["years"], file, _line(data, "years"), "years")
            for year, section in ys.items():
                if year in META:
                    continue
                line = _line(ys, year)
                if not isinstance(year, int) or not 1990 <= year <= 2100:
                    raise RulesError(f"规则配置 {file} 第{line}行：years 下的「{year}」不是年度（应写 2026 这样的四位年份）")
                section = _mapping(section, file, line, f"{year} 年的规则")
                _check_version(section, file, f"{year} 年的规则中")
                if "version" not in section:
                    raise RulesError(f"规则配置 {file} 第{line}行：{year} 年的规则缺少版本号 version")
                years[year] = section  # a later file's year replaces an earlier file's
    if default_version is None:
        raise RulesError(f"规则配置 {files[0]}：default 中缺少版本号 version")
    sets = _resolve(default, default_version, None, default_note)
    versions = {str(default_version.value): default_version}
    settings = default
    for year in sorted(years):
        section = years[year]
        version = section["version"]
        if str(version.value) in versions:
            first = versions[str(version.value)]
            raise RulesError(f"{version.where()}：规则版本号 '{version.value}' 已在 {first.file} 第{first.line}行用过，"
                             "每个规则版本只能对应一个年度")
        versions[str(version.value)] = version
        settings = _merge(settings, section)
        note = str(section["note"].value) if "note" in section else ""
        sets += _resolve(settings, version, year, note)
    return Rules(sets=sets, files=files)
