"""Shared fixtures: the city demo generated once, and a warehouse ingested from it once."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

# the small hand-made warehouse built once by dbt (tests/fixtures/small_built.py)
pytest_plugins = ["tests.fixtures.small_built"]


@pytest.fixture(autouse=True)
def _own_log_dir(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    """Each test writes the application log (and the audit log's head lines in it) to its own folder:
    tests share one signing secret, so head lines of one test's audit log in a shared log folder would
    make another test's audit log look truncated. A test that sets QINGLIAN_LOG_DIR itself still wins."""
    monkeypatch.setenv("QINGLIAN_LOG_DIR", str(tmp_path_factory.mktemp("logs")))


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
