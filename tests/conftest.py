"""Shared fixtures: the city demo generated once, and a warehouse ingested from it once."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))


@pytest.fixture(scope="session")
def demo_landing(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from qinglian.demo import generate

    landing = tmp_path_factory.mktemp("demo") / "landing"
    generate(landing, scale="city", seed=42, quarters=4)
    return landing


@pytest.fixture(scope="session")
def demo_ingested(demo_landing: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, object]:
    from ingest.pipeline import ingest_landing

    warehouse = tmp_path_factory.mktemp("wh") / "warehouse.duckdb"
    summary = ingest_landing(demo_landing, warehouse)
    return warehouse, summary


@pytest.fixture(scope="session", autouse=True)
def dbt_manifest() -> Path:
    """The dbt manifest, prepared once for the whole run (the orchestrator's definitions load from it;
    parallel workers wait on one lock instead of parsing twice)."""
    from orchestration.prepare import prepare

    return prepare()
