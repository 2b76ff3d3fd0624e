"""Quarter arithmetic for the demo timeline (quarters are written 2025Q1 everywhere in the warehouse)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, timedelta

CN_QUARTER = {1: "一", 2: "二", 3: "三", 4: "四"}


@dataclass(frozen=True)
class Quarter:
    year: int
    q: int

    @property
    def key(self) -> str:
        return f"{self.year}Q{self.q}"

    @property
    def start(self) -> date:
        return date(self.year, 3 * self.q - 2, 1)

    @property
    def end(self) -> date:
        month = 3 * self.q
        return date(self.year, month, 31 if month in (3, 12) else 30)

    @property
    def cn(self) -> str:
        """第一季度 — how a title row names the quarter."""
        return f"第{CN_QUARTER[self.q]}季度"

    @property
    def ytd_label(self) -> str:
        """2025年1-6月 — how year-to-date case statistics name their period."""
        return f"{self.year}年1-{3 * self.q}月"

    @property
    def own_label(self) -> str:
        """2025年4-6月 — a single quarter's own figures."""
        return f"{self.year}年{3 * self.q - 2}-{3 * self.q}月"

    def plus(self, n: int) -> Quarter:
        i = self.year * 4 + self.q - 1 + n
        return Quarter(i // 4, i % 4 + 1)

    def days_after_end(self, days: int) -> date:
        return self.end + timedelta(days=days)


def parse_quarter(text: str) -> Quarter:
    m = re.fullmatch(r"(20\d{2})[Qq]([1-4])", text.strip())
    if not m:
        raise ValueError(f"quarter must look like 2025Q1, got {text!r}")
    return Quarter(int(m[1]), int(m[2]))


def timeline(start: str, quarters: int) -> list[Quarter]:
    if quarters < 1:
        raise ValueError("quarters must be at least 1")
    first = parse_quarter(start)
    return [first.plus(i) for i in range(quarters)]
