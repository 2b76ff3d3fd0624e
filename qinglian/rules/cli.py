"""`qinglian rules show|validate`: the rules in force, and a check of an office's rules file before use."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from qinglian.rules.config import GROUPS, INDICATORS, SCALARS, load_rules

RulesOpt = Annotated[Path | None, typer.Option("--rules", help="办公室规则文件（默认 $QINGLIAN_RULES；不指定则只用产品默认规则）")]


def _describe(rules_path: Path | None) -> str:
    rules = load_rules(rules_path)
    lines = ["规则文件：" + "、".join(str(f) for f in rules.files)]
    versions: dict[str, list] = {}
    for s in rules.sets:
        versions.setdefault(s.rules_version, []).append(s)
    for version, sets in versions.items():
        first = sets[0]
        since = "默认（没有更晚版本的每一年）" if first.from_year is None else f"{first.from_year}年起"
        lines.append(f"\n规则版本 {version}：{since}" + (f"　{first.note}" if first.note else ""))
        for s in sets:
            weights = "、".join(f"{INDICATORS[k][0]} {w:g}" for k, w in s.weights.items())
            lines.append(f"  {GROUPS[s.body_group]}　权重：{weights}")
            lines.append("    " + "；".join(f"{spec.label} {s.values[k]:g}" for k, spec in SCALARS.items()))
    return "\n".join(lines)


def register(app: typer.Typer) -> None:
    group = typer.Typer(help="排名与考核规则：查看与校验（见 docs/排名与考核规则.md）", no_args_is_help=True)

    @group.command("show")
    def show(rules: RulesOpt = None) -> None:
        """列出每个规则版本及其起用年度、权重和各项规则值。"""
        typer.echo(_describe(rules))

    @group.command("validate")
    def validate(rules: RulesOpt = None) -> None:
        """校验规则文件（权重合计 100、数值范围、每年一个版本）；有错时给出文件、行号和取值。"""
        result = load_rules(rules)
        versions = sorted({s.rules_version for s in result.sets})
        typer.echo(f"规则配置有效：{len(versions)} 个规则版本（{'、'.join(versions)}）")

    app.add_typer(group, name="rules")
