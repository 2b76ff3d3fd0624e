"""The CLI's small decisions that a person running `make run` relies on."""

from __future__ import annotations

import json
from pathlib import Path

from qinglian.cli import _demo_last_quarter


def test_run_defaults_to_the_demo_s_last_quarter(tmp_path: Path) -> None:
    (tmp_path / "_demo_manifest.json").write_text(json.dumps({"start": "2025Q1", "quarters": 6}), encoding="utf-8")
    assert _demo_last_quarter(tmp_path) == "2026Q2"


def test_a_real_landing_folder_runs_the_quarter_that_just_ended(tmp_path: Path) -> None:
    # No manifest: the job's own default (the previous calendar quarter) applies.
    assert _demo_last_quarter(tmp_path) is None
    (tmp_path / "_demo_manifest.json").write_text("{not json", encoding="utf-8")
    assert _demo_last_quarter(tmp_path) is None
