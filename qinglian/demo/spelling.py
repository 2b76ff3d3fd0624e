"""How one entity gets spelled differently from file to file: region references and header noise."""

from __future__ import annotations

from qinglian.demo.messy import fullwidth
from qinglian.demo.reference import Programme, Region

REGION_STYLES = ("code12", "code", "name", "qualified")


def region_ref(prog: Programme, region: Region, style: str) -> str:
    """A reference the ingest can resolve: a 12/9/6-digit code, a unique name or a qualified name."""
    if style == "code12":
        return region.code
    if style == "code":
        # The shortest official form: 6 digits for a county, 9 for a town, 12 for a village.
        return {"县": region.code6, "乡": region.code9}.get(region.level, region.code)
    if style == "fwcode":
        return fullwidth(region.code)
    if style == "name" and prog.unique_name(region):
        return region.name
    if style == "spaced" and region.level == "县" and len(region.name) >= 2:
        return region.name[0] + " " + region.name[1:]
    return qualified(prog, region)


def qualified(prog: Programme, region: Region) -> str:
    """汉中市洋县, 洋县城关镇, 城关镇东关村: parent name + name, unique by construction."""
    if region.parent is None:
        return region.name
    return prog.by_code[region.parent].name + region.name


def spaced(label: str) -> str:
    """A stray space a clerk typed into a header cell."""
    return label if len(label) < 3 else label[:2] + " " + label[2:]


def wrapped(label: str) -> str:
    """Alt+Enter inside a header cell: "完成\\n进度"."""
    return label if len(label) < 4 else label[:2] + "\n" + label[2:]
