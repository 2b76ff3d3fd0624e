"""Deterministic demo data: a messy landing folder as the units of 汉中市 (or a province) send it."""

from qinglian.demo.generate import generate

__all__ = ["generate"]
