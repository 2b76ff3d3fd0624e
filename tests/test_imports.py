"""Commands that do not orchestrate, build or check import neither Dagster, dbt nor Great Expectations.

Those three cost seconds to import (GX alone ~4.5 s on this machine): a clerk's `qinglian ingest`,
`template` or `demo`, an admin's `qinglian user …` and every `--help` must not pay for them.
Each command runs in a fresh interpreter, which then reports the heavy modules it loaded.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
HEAVY = ("great_expectations", "dagster", "dagster_dbt", "dbt", "streamlit")

PROBE = """
import json, sys
from qinglian.cli import main
code = main(json.loads(sys.argv[1]))
heavy = sorted({m.split(".")[0] for m in sys.modules} & set(json.loads(sys.argv[2])))
print(json.dumps({"code": code, "heavy": heavy}))
"""


def _probe(args: list[str], tmp_path: Path) -> dict:
    env = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), "QINGLIAN_LOG_DIR": str(tmp_path / "logs"),
           "QINGLIAN_STATE": str(tmp_path / "state"), "QINGLIAN_ENV": "demo"}
    out = subprocess.run([sys.executable, "-c", PROBE, json.dumps(args), json.dumps(HEAVY)], cwd=ROOT, env=env,
                         capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr[-2000:]
    return json.loads(out.stdout.strip().splitlines()[-1])


@pytest.fixture(scope="module")
def reference_landing(demo_landing: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    landing = tmp_path_factory.mktemp("imports") / "landing"
    for source in ("regions", "departments"):
        shutil.copytree(demo_landing / source, landing / source)
    return landing


@pytest.mark.parametrize("command", ["--help", "ingest", "template", "demo", "user"])
def test_command_imports_no_orchestrator_builder_or_checks(command: str, reference_landing: Path, tmp_path: Path) -> None:
    args = {
        "--help": ["--help"],
        "ingest": ["ingest", "--landing", str(reference_landing), "--warehouse", str(tmp_path / "w.duckdb")],
        "template": ["template", "units", "--out", str(tmp_path / "t.xlsx")],
        "demo": ["demo", "--quarters", "1", "--out", str(tmp_path / "landing")],
        "user": ["user", "--help"],
    }[command]
    result = _probe(args, tmp_path)
    assert result["code"] == 0
    assert result["heavy"] == [], f"qinglian {command} imported {result['heavy']}"
    if command == "ingest":
        assert (tmp_path / "w.duckdb").exists()
    if command == "template":
        assert (tmp_path / "t.xlsx").stat().st_size > 0
