"""Shared fixtures: the city demo generated once, ingested once and built once for the whole run (both
workers), and a tiny landing folder cut from it for the kill-and-rerun and orchestration tests."""

from __future__ import annotations

import fcntl
import json
import os
import pickle
import shutil
import sys
from collections.abc import Callable, Iterator
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
# Seconds of each heavy unit (a test file) on an idle two-core machine, from `make test` with
# PYTEST_ADDOPTS=--durations=60 on a clean clone (2026-12-04 evening, summed per file). The slowest units start
# first so that the two workers end together. A unit that pays for a shared fixture (demo_built,
# tiny_landing, small_built: built once per run, whichever worker asks first) counts it.
UNIT_SECONDS: dict[str, float] = {
    "faults": 128,  # crash chains, random kills, two killed runs and one complete run
    "security_browser": 111,
    "orchestration": 65,  # quarterly runs with and without data tests on the tiny landing
    "dashboard_screenshots": 64,  # every page at two sizes in Chromium
    "daemon": 58,  # daemon start, a run from the caught-up tick, restart, stop
    "demo_marts": 45,  # pays for demo_built (one city dbt build) + one models-only rebuild + docs
    "portal_browser": 41,
    "dashboards": 27,
    "security": 27,
    "onehome13_staging_once": 21,
    "ingest_batch": 20,
    "multi_sheet_build": 18,
    "build_parse_state": 17,
    "hostile_files": 16,
    "cockpit_streamlit_words": 16,
    "backup": 15,
    "perf16_checker": 14,
    "rules_versioning": 13,
    "perf16_build_skip": 12,
    "demo": 10,
    "dashboard_marts": 9,
    "cli_errors": 8,
    "bulletin": 8,
}


def manifest_data_tests(downstream_of_source: str | None = None) -> int:
    """How many data tests the prepared dbt project has (dbt_project/target/manifest.json): a build that
    ran every one of them reports this many passed or warned. With `downstream_of_source` ("rules"): the
    data tests `dbt build --select source:rules+` runs, those with a parent downstream of that source."""
    from orchestration.prepare import manifest_path

    manifest = json.loads(manifest_path().read_text(encoding="utf-8"))
    tests = [n for n in manifest["nodes"].values() if n["resource_type"] == "test"]
    if downstream_of_source is None:
        return len(tests)
    seen = {u for u in manifest["sources"] if u.split(".")[2] == downstream_of_source}
    todo = list(seen)
    while todo:
        for child in manifest["child_map"].get(todo.pop(), []):
            if child not in seen and not child.startswith("test."):
                seen.add(child)
                todo.append(child)
    return sum(1 for t in tests if seen & set(t["depends_on"]["nodes"]))


def _name_group(item: pytest.Item, group: str) -> None:
    """Append `@group` to the test's node id, which is how --dist loadgroup's scheduler knows the group.

    xdist (3.8) does it by assigning `item._nodeid`, which pytest 9 no longer reads (the id lives in
    `item._id`): the suffix was silently lost, every test became its own unit, a file's tests were spread
    over both workers and each worker built the file's module fixtures again (two ~30 s dbt builds for
    test_rules_versioning, two corpus ingests for test_hostile_files, two Chromiums for the browser group)."""
    from _pytest.nodeid import NodeId

    nodeid = f"{item.nodeid}@{group}"
    if hasattr(item, "_id"):
        item._id = NodeId.parse(nodeid)
    else:  # pytest < 9
        item._nodeid = nodeid


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    def unit(item: pytest.Item) -> str:
        marks = [m.args[0] if m.args else m.kwargs.get("name", "default") for m in item.iter_markers("xdist_group")]
        return marks[0] if marks else item.nodeid.split("::")[0]

    loadgroup = getattr(config.option, "loadgroup", False)  # set on an xdist worker by --dist loadgroup
    for item in items:
        if not any(item.iter_markers("xdist_group")):
            item.add_marker(pytest.mark.xdist_group(unit(item)))
        if loadgroup:
            _name_group(item, unit(item))
    first_seen = {}
    for i, item in enumerate(items):
        first_seen.setdefault(unit(item), i)
    items.sort(key=lambda it: (-UNIT_SECONDS.get(Path(unit(it)).stem.removeprefix("test_"), 0.0), first_seen[unit(it)]))


@pytest.fixture(scope="session", autouse=True)
def _apptest_runs_like_the_server() -> Iterator[None]:
    """AppTest compiles each page once per worker, as the real server does (qinglian.bench: an app open
    plus one page 0.84 -> 0.48 CPU-s)."""
    from qinglian.bench import apptest_like_the_server

    with apptest_like_the_server():
        yield


@pytest.fixture(autouse=True)
def _own_log_dir(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    """Each test writes the application log (and the audit log's head lines in it) to its own folder:
    tests share one signing secret, so head lines of one test's audit log in a shared log folder would
    make another test's audit log look truncated. A test that sets QINGLIAN_LOG_DIR itself still wins."""
    monkeypatch.setenv("QINGLIAN_LOG_DIR", str(tmp_path_factory.mktemp("logs")))


def shared_dir(tmp_path_factory: pytest.TempPathFactory, name: str, make: Callable[[Path], None]) -> Path:
    """A folder made once for the whole `make test`, not once per worker: the first worker that asks
    makes it under a lock in the run's common temporary folder, the other waits for it and reuses it.
    Whatever is inside is read-only for the tests: a test that changes a warehouse copies it first
    (shutil.copy of a DuckDB file is cheap; a dbt build or a Dagster run is not)."""
    root = tmp_path_factory.getbasetemp()
    if os.environ.get("PYTEST_XDIST_WORKER"):
        root = root.parent  # popen-gw0, popen-gw1 … share their parent
    folder, done = root / f"shared-{name}", root / f"shared-{name}.done"
    with open(root / f"shared-{name}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not done.exists():
            shutil.rmtree(folder, ignore_errors=True)  # a worker that failed half-way
            folder.mkdir()
            make(folder)
            done.touch()
    return folder


@pytest.fixture(scope="session")
def demo_landing(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from qinglian.demo import generate

    return shared_dir(tmp_path_factory, "demo", lambda d: generate(d / "landing", scale="city", seed=42, quarters=4)) / "landing"


@pytest.fixture(scope="session")
def demo_ingested(demo_landing: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, object]:
    """The city demo ingested once (read-only: copy it to change it)."""
    def make(folder: Path) -> None:
        from ingest.pipeline import ingest_landing

        summary = ingest_landing(demo_landing, folder / "warehouse.duckdb")
        (folder / "summary.pickle").write_bytes(pickle.dumps(summary))

    folder = shared_dir(tmp_path_factory, "demo_ingested", make)
    return folder / "warehouse.duckdb", pickle.loads((folder / "summary.pickle").read_bytes())


@pytest.fixture(scope="session")
def demo_built(demo_ingested: tuple[Path, object], tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, object]:
    """The city demo ingested and built by one `dbt build` (models and data tests; the unit tests do not
    depend on the data and run once on the small warehouse), once for the whole run, with its result.
    Read-only: copy it to change it."""
    def make(folder: Path) -> None:
        from qinglian.build import build_marts

        warehouse = folder / "warehouse.duckdb"
        shutil.copyfile(demo_ingested[0], warehouse)
        result = build_marts(warehouse, exclude="resource_type:unit_test", target_path=folder / "target")
        (folder / "result.pickle").write_bytes(pickle.dumps(result))

    folder = shared_dir(tmp_path_factory, "demo_built", make)
    return folder / "warehouse.duckdb", pickle.loads((folder / "result.pickle").read_bytes())


def _tiny_pick(manifest: dict) -> list[str]:
    """A small subset of the city demo: reference data, an identical re-send and its original, a
    corrected file and the file it corrects, a rejected and an unreadable file, accepted files of
    2025Q1 and 2025Q2 of every periodic source, and a file of a later quarter (2025Q3)."""
    files = manifest["files"]
    chosen: list[str] = [f["path"] for f in files if f["source"] in ("regions", "departments", "tasks")]

    def first(pred, n=1):
        hits = [f["path"] for f in files if pred(f) and f["path"] not in chosen][:n]
        chosen.extend(hits)

    duplicate = next(f for f in files if f["expected_outcome"] == "duplicate")
    chosen += [duplicate["path"], duplicate["notes"][0].removeprefix("same bytes as ")]
    corrected = next(f for f in files if f["supersedes"])
    chosen += [corrected["path"], corrected["supersedes"]]
    first(lambda f: f["expected_outcome"] == "rejected" and f["source"] == "task_progress" and "period missing" in f["notes"])
    first(lambda f: "unreadable" in " ".join(f["notes"]))
    first(lambda f: f["source"] == "units" and f["period"] == "2025Q2" and f["expected_outcome"] == "accepted_with_rejects")
    first(lambda f: f["source"] == "task_progress" and f["period"] == "2025Q1" and f["expected_outcome"] == "accepted")
    for source in ("inspections", "cases"):
        first(lambda f, s=source: f["source"] == s and f["period"] == "2025Q1" and f["expected_outcome"] == "accepted")
        first(lambda f, s=source: f["source"] == s and f["period"] == "2025Q2" and f["expected_outcome"] == "accepted")
    first(lambda f: f["source"] == "surveys")
    first(lambda f: f["source"] == "units" and f["period"] == "2025Q3" and f["expected_outcome"] == "accepted")  # later
    return chosen


TINY_QUARTER = "2025Q2"


@pytest.fixture(scope="session")
def tiny_landing(demo_landing: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, str]]:
    """The tiny landing folder (_tiny_pick) and the expected journal outcome of each file that a
    2025Q2 run decides; a kill-and-rerun or a quarterly run on it costs seconds, not minutes.
    Read-only: copy it to change it."""
    manifest = json.loads((demo_landing / "_demo_manifest.json").read_text(encoding="utf-8"))
    by_path = {f["path"]: f for f in manifest["files"]}
    picked = _tiny_pick(manifest)

    def make(folder: Path) -> None:
        for rel in picked:
            (folder / "landing" / rel).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(demo_landing / rel, folder / "landing" / rel)

    landing = shared_dir(tmp_path_factory, "tiny", make) / "landing"
    expected: dict[str, str] = {}
    for rel in picked:
        f = by_path[rel]
        if f["period"] is None or f["period"] <= TINY_QUARTER or len(f["period"]) == 4:
            expected[rel] = f["expected_outcome"]
    assert "duplicate" in expected.values() and len(expected) >= 16
    return landing, expected


@pytest.fixture(scope="session", autouse=True)
def dbt_manifest() -> Path:
    """The dbt manifest, prepared once for the whole run (the orchestrator's definitions load from it;
    parallel workers wait on one lock instead of parsing twice)."""
    from orchestration.prepare import prepare

    return prepare()
