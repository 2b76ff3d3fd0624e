"""The dbt manifest, prepared before the orchestrator loads (not when a module is imported).

Dagster's dbt assets are read from dbt's manifest.json. It is made by `dbt parse` here, once, by the
commands that start the orchestrator (`qinglian run`, `qinglian serve start`, `qinglian prepare`,
which `make setup` runs) and again only when a file of the dbt project is newer than the manifest.
Importing or loading the definitions never runs dbt; without a manifest they say in Chinese what to
run (DESIGN: the manifest is prepared at build time, as in dagster-open-platform).

Several processes may prepare at once (test workers, the daemon's first start beside a manual run):
a file lock serialises them and the manifest is swapped in with os.replace, so a reader sees the old
manifest or the new one, never half of one.
"""

from __future__ import annotations

import fcntl
import logging
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

from qinglian.errors import UserError
from qinglian.settings import DBT_PROJECT_DIR

log = logging.getLogger(__name__)

# What `dbt parse` reads: a change in any of these makes the manifest stale (here and in the manifest
# an in-process build keeps, qinglian.build).
PARSE_INPUTS = ("dbt_project.yml", "profiles.yml", "packages.yml", "models", "macros", "seeds", "tests", "snapshots", "analyses")


class PrepareError(UserError):
    """dbt could not parse the project; the details are in the log file."""


def manifest_path(project_dir: Path = DBT_PROJECT_DIR) -> Path:
    return project_dir / "target" / "manifest.json"


def parse_input_files(project_dir: Path) -> Iterator[Path]:
    """Every file of PARSE_INPUTS in the project, in a fixed order."""
    for name in PARSE_INPUTS:
        path = project_dir / name
        if path.is_file():
            yield path
        elif path.is_dir():
            yield from (p for p in sorted(path.rglob("*")) if p.is_file())


def _newest_input(project_dir: Path) -> float:
    return max((p.stat().st_mtime for p in parse_input_files(project_dir)), default=0.0)


def is_current(project_dir: Path = DBT_PROJECT_DIR) -> bool:
    """The manifest is newer than every parse input, and the staging views' SQL is that of the project."""
    from data_quality.staging import prepared_views

    manifest = manifest_path(project_dir)
    return (manifest.is_file() and manifest.stat().st_mtime >= _newest_input(project_dir)
            and prepared_views(project_dir) is not None)


def prepare(project_dir: Path = DBT_PROJECT_DIR, force: bool = False) -> Path:
    """Make target/manifest.json current; returns its path. Cheap when it already is."""
    manifest = manifest_path(project_dir)
    if not force and is_current(project_dir):
        return manifest
    manifest.parent.mkdir(parents=True, exist_ok=True)
    with open(manifest.parent / ".prepare.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not force and is_current(project_dir):  # another process prepared it while we waited
            return manifest
        _parse(project_dir, manifest)
    return manifest


def _parse(project_dir: Path, manifest: Path) -> None:
    from dbt.cli.main import dbtRunner

    work = Path(tempfile.mkdtemp(prefix=".parse-", dir=manifest.parent))
    from orchestration.dbt_run import parse_state
    from qinglian.settings import default_warehouse

    env_before = os.environ.get("QINGLIAN_WAREHOUSE")
    # Parsed as the dbt step runs it (orchestration.dbt_run: the bare file name, in the warehouse's
    # folder), so the first quarterly run reuses this parse. Parsing never opens the warehouse.
    name = default_warehouse().name
    os.environ["QINGLIAN_WAREHOUSE"] = name
    try:
        result = dbtRunner().invoke(["--quiet", "--no-use-colors", "parse", "--project-dir", str(project_dir),
                                     "--profiles-dir", str(project_dir), "--target-path", str(work),
                                     "--log-path", str(work)])
        if not result.success or not (work / "manifest.json").is_file():
            log.error("dbt parse 失败：%s", result.exception)
            raise PrepareError(f"dbt 项目无法解析（{type(result.exception).__name__ if result.exception else '模型或配置有误'}），"
                               "详情见日志；修正 dbt_project/ 后重新运行")
        # Each run's dbt starts from this partial-parse state instead of parsing the project again.
        if (work / "partial_parse.msgpack").is_file():
            parse_state(name).parent.mkdir(parents=True, exist_ok=True)
            os.replace(work / "partial_parse.msgpack", parse_state(name))
        _prepare_staging_views(project_dir, work, name, result.result)
        os.replace(work / "manifest.json", manifest)
        log.info("dbt 清单已准备：%s", manifest)
    finally:
        if env_before is None:
            os.environ.pop("QINGLIAN_WAREHOUSE", None)
        else:
            os.environ["QINGLIAN_WAREHOUSE"] = env_before
        shutil.rmtree(work, ignore_errors=True)


def _prepare_staging_views(project_dir: Path, work: Path, name: str, parsed) -> None:
    """The staging views' SQL as dbt makes it, saved for the quarterly job's raw checks
    (data_quality.staging.prepared_views): `dbt run --select staging` on the just parsed project, on an
    empty warehouse of the same file name (so the parse is reused) that has the ingest's raw tables."""
    from dbt.cli.main import dbtRunner

    from data_quality import staging
    from ingest.load import connect
    from qinglian.build import _warehouse_env, release_warehouse

    scratch = work / "staging" / name
    connect(scratch).close()
    try:
        with _warehouse_env(scratch):
            made = dbtRunner(manifest=parsed).invoke(
                ["--quiet", "--no-use-colors", "run", "--select", staging.SCHEMA, "--project-dir", str(project_dir),
                 "--profiles-dir", str(project_dir), "--target-path", str(work / "staging"), "--log-path", str(work / "staging")])
    finally:
        release_warehouse()
    import duckdb

    with duckdb.connect(str(scratch), read_only=True) as con:
        saved = made.success and staging.save_prepared(con, project_dir)
    if not saved:
        log.error("staging 视图定义未能准备：%s", made.exception)
        raise PrepareError("dbt 项目的 staging 模型无法在空数据仓库上建立视图，详情见日志；修正 dbt_project/ 后重新运行")


def require_manifest(project_dir: Path = DBT_PROJECT_DIR) -> Path:
    """The manifest the definitions load; a Chinese error when it was never prepared."""
    manifest = manifest_path(project_dir)
    if not manifest.is_file():
        raise PrepareError(f"dbt 清单 {manifest} 不存在：请先运行 qinglian prepare（make setup 会运行它）")
    return manifest
