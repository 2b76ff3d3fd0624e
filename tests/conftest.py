"""Shared fixtures: the city demo generated once, and a warehouse ingested from it once."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

# the small hand-made warehouse built once by dbt (tests/fixtures/small_built.py); the served app and
# one Chromium shared by the browser tests (tests/fixtures/browser.py)
pytest_plugins = ["tests.fixtures.small_built", "tests.fixtures.browser"]

# How `make test` shares the work between two workers (`pytest -n 2 --dist loadgroup`): a test file is
# one unit (its module fixtures are built once), unless it names a group (`pytest.mark.xdist_group`):
# the browser files are one group, so one worker starts Chromium and the app once for all of them.
# Units are handed out longest first (measured seconds below, from `--durations`; unlisted files count
# as short), so the last unit to finish is a short one and both workers end at about the same time.
UNIT_SECONDS: dict[str, float] = {
    "browser": 120,
}


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    def unit(item: pytest.Item) -> str:
        marks = [m.args[0] if m.args else m.kwargs.get("name", "default") for m in item.iter_markers("xdist_group")]
        return marks[0] if marks else item.nodeid.split("::")[0]

    for item in items:
        if not any(item.iter_markers("xdist_group")):
            item.add_marker(pytest.mark.xdist_group(unit(item)))
    first_seen = {}
    for i, item in enumerate(items):
        first_seen.setdefault(unit(item), i)
    items.sort(key=lambda it: (-UNIT_SECONDS.get(Path(unit(it)).stem.removeprefix("test_"), 0.0), first_seen[unit(it)]))


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
