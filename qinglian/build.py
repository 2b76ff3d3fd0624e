"""`qinglian build`: run the dbt project (staging → intermediate → marts, with all tests) on a warehouse.

dbt runs in-process through its programmatic entry point (`dbtRunner`). The rules configuration
is validated and written to the warehouse first (qinglian.rules); one `dbt build` then builds every model, and runs the
data tests and the unit tests in dependency order. The warehouse path reaches the dbt profile
through QINGLIAN_WAREHOUSE, which is set for the duration of the call only.

A process parses the dbt project once: the parsed manifest is kept in memory and handed to the next
in-process dbt command (dbtRunner(manifest=…)) while nothing that parsing reads has changed (see
_ParseKey). dbt's own partial-parse state cannot do this across warehouses: it is thrown away when
the profile's path differs, and each warehouse has its own path.
"""

from __future__ import annotations

import json
import logging
import os
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from qinglian.errors import UserError
from qinglian.settings import DBT_PROJECT_DIR

log = logging.getLogger(__name__)

RAW_TABLES = ("ingest_files", "regions", "departments", "tasks", "task_progress", "units", "inspections",
              "survey_responses", "survey_answers", "cases")

_KIND_ZH = {"model": "模型", "test": "数据测试", "unit_test": "单元测试", "snapshot": "快照"}


class BuildError(UserError):
    """dbt could not run at all (no warehouse, no raw layer, a project that does not parse…)."""


@dataclass
class BuildResult:
    """What one `dbt build` did: counts per kind of node and the failures, in Chinese."""

    success: bool
    models_ok: int = 0
    models_error: int = 0
    models_skipped: int = 0
    seeds_ok: int = 0
    seeds_error: int = 0
    tests_passed: int = 0
    tests_failed: int = 0
    tests_warned: int = 0
    tests_errored: int = 0
    tests_skipped: int = 0
    unit_tests_passed: int = 0
    unit_tests_failed: int = 0
    elapsed_s: float = 0.0
    failures: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    @property
    def models_failed(self) -> int:
        return self.models_error

    def __str__(self) -> str:
        head = "构建成功" if self.success else "构建失败"
        lines = [
            f"{head}（用时 {self.elapsed_s:.1f} 秒）：模型 {self.models_ok} 个成功"
            + (f"、{self.models_error} 个出错" if self.models_error else "")
            + (f"、{self.models_skipped} 个因上游失败跳过" if self.models_skipped else "")
            + f"；数据测试 {self.tests_passed} 项通过"
            + (f"、{self.tests_failed} 项未通过" if self.tests_failed else "")
            + (f"、{self.tests_warned} 项警告" if self.tests_warned else "")
            + (f"、{self.tests_errored} 项出错" if self.tests_errored else "")
            + f"；单元测试 {self.unit_tests_passed} 项通过"
            + (f"、{self.unit_tests_failed} 项未通过" if self.unit_tests_failed else "")
        ]
        lines += [f"  ✗ {m}" for m in self.failures]
        lines += [f"  ! {m}" for m in self.warnings]
        return "\n".join(lines)


@contextmanager
def _warehouse_env(warehouse: Path) -> Iterator[None]:
    old = os.environ.get("QINGLIAN_WAREHOUSE")
    os.environ["QINGLIAN_WAREHOUSE"] = str(warehouse)
    try:
        yield
    finally:
        if old is None:
            os.environ.pop("QINGLIAN_WAREHOUSE", None)
        else:
            os.environ["QINGLIAN_WAREHOUSE"] = old


def check_warehouse(warehouse: Path) -> None:
    """Fail early, in Chinese, when there is nothing dbt could build from."""
    import duckdb

    if not warehouse.exists():
        raise BuildError(f"数据仓库文件不存在：{warehouse}。请先运行 qinglian ingest 读取报送文件。")
    if warehouse.is_dir():
        raise BuildError(f"数据仓库路径 {warehouse} 是一个文件夹，请指定 .duckdb 文件（如 data/warehouse.duckdb）")
    try:
        con = duckdb.connect(str(warehouse), read_only=True)
    except duckdb.Error as exc:
        from ingest.load import warehouse_problem

        raise BuildError(f"无法打开数据仓库：{warehouse_problem(warehouse, exc)}") from exc
    try:
        present = {r[0] for r in con.execute(
            "select table_name from information_schema.tables where table_schema = 'raw'").fetchall()}
    finally:
        con.close()
    missing = [t for t in RAW_TABLES if t not in present]
    if missing:
        raise BuildError(f"数据仓库 {warehouse} 缺少原始层表 raw.{'、raw.'.join(missing)}。请先运行 qinglian ingest。")


def release_warehouse() -> None:
    """Close the DuckDB database dbt-duckdb keeps open in this process after a run.

    dbt-duckdb caches its database handle at class level; left open, the next duckdb.connect()
    to the same file in this process (a test, the publish step) fails with "different
    configuration", and another process could not take the write lock.
    """
    try:
        from dbt.adapters.duckdb.connections import DuckDBConnectionManager
    except ImportError:  # pragma: no cover - dbt-duckdb is a locked dependency
        return
    with DuckDBConnectionManager._LOCK:
        env = DuckDBConnectionManager._ENV
        if env is not None:
            try:
                env.close()
            finally:
                DuckDBConnectionManager._ENV = None


# Commands that run on a parsed project and accept one parsed before (dbtRunner(manifest=…)).
_NEEDS_MANIFEST = ("build", "run", "test", "compile", "seed", "docs")
# One in-process dbt at a time: dbt-duckdb caches its database handle per process (release_warehouse)
# and the warehouse path reaches the profile through this process's environment.
_DBT_LOCK = threading.RLock()
_PARSED: dict[tuple, tuple[dict[str, str], Any]] = {}  # _ParseKey -> (env vars parsing read, manifest)
_PARSED_KEEP = 2


def _parse_key(project: Path, warehouse: Path, args: list[str]) -> tuple:
    """What a parse of `project` depends on, apart from env vars (checked from the manifest itself):
    every file dbt parse reads (path, size, mtime), the warehouse's file name (dbt-duckdb names the
    database after it, and every relation in the manifest carries that name; the folder does not
    matter), and the command-line options that change what is parsed (--vars)."""
    from orchestration.prepare import parse_input_files

    files = []
    for p in parse_input_files(project):
        st = p.stat()
        files.append((str(p.relative_to(project)), st.st_size, st.st_mtime_ns))
    return (str(project), warehouse.name, tuple(_cli_vars(args)), tuple(files))


def _cli_vars(args: list[str]) -> list[str]:
    """The values of every --vars option of a dbt command line, in order."""
    return [args[i + 1] for i, a in enumerate(args[:-1]) if a == "--vars"]


def _cached_manifest(key: tuple) -> Any:
    hit = _PARSED.get(key)
    if hit is None:
        return None
    env_used, manifest = hit
    if any(os.environ.get(k) != v for k, v in env_used.items()):
        return None
    return manifest


def _remember_manifest(key: tuple, manifest: Any) -> None:
    env_used = dict(getattr(manifest, "env_vars", None) or {})
    _PARSED.pop(key, None)
    _PARSED[key] = (env_used, manifest)
    while len(_PARSED) > _PARSED_KEEP:
        _PARSED.pop(next(iter(_PARSED)))


def invoke_dbt(warehouse: Path, args: list[str], *, target_path: Path | None = None,
               project_dir: Path | None = None, quiet: bool = True) -> Any:
    """Run one dbt command (`args`, e.g. ["run", "--select", "staging"]) in this process on `warehouse`.

    The one place the project's commands start dbt in-process: the project and profiles folder, the
    target/log folder (`target_path`; default dbt_project/target), QINGLIAN_WAREHOUSE for the duration
    of the call, no usage statistics, and dbt-duckdb's cached database handle closed afterwards
    (release_warehouse). dbt runs inside this process, so a killed caller takes dbt with it; the
    orchestrator's child-process dbt (orchestration.dbt_run, through qinglian-dbt) dies with its parent
    through PR_SET_PDEATHSIG instead. A command that needs the parsed project gets the one this
    process parsed before when nothing parsing reads has changed (_parse_key), else a fresh `dbt parse`
    (its manifest kept for the next call). Returns dbt's dbtRunnerResult (the caller reads its results;
    `.parse_reused` says whether the project was parsed again); raises BuildError, in Chinese, when
    dbt raised instead of reporting (bad arguments, environment).
    """
    from dbt.cli.main import dbtRunner

    warehouse = Path(warehouse).resolve()
    project = Path(project_dir or DBT_PROJECT_DIR).resolve()
    common = ["--project-dir", str(project), "--profiles-dir", str(project)]
    if target_path is not None:
        common += ["--target-path", str(target_path), "--log-path", str(target_path)]
    head = ["--quiet", "--no-use-colors"] if quiet else []
    os.environ.setdefault("DBT_SEND_ANONYMOUS_USAGE_STATS", "false")
    from qinglian import build_state

    with _DBT_LOCK, _warehouse_env(warehouse):
        try:
            if args and args[0] not in build_state.READ_ONLY_COMMANDS:
                build_state.forget(warehouse)  # the job must not take what this writes for its own build
            manifest, reused = None, False
            if args and args[0] in _NEEDS_MANIFEST:
                key = _parse_key(project, warehouse, args)
                manifest = _cached_manifest(key)
                reused = manifest is not None
                if manifest is None:
                    vars_ = _cli_vars(args)
                    parsed = dbtRunner().invoke([*head, "parse", *common, *(["--vars", vars_[-1]] if vars_ else [])])
                    if parsed.success and parsed.result is not None:
                        manifest = parsed.result
                        _remember_manifest(key, manifest)
                    # else: the command below parses again and reports the problem as dbt does
            result = dbtRunner(manifest=manifest).invoke([*head, *args, *common])
            result.parse_reused = reused
            return result
        except Exception as exc:  # dbt raises only for problems outside the project (e.g. bad args)
            log.exception("dbt 无法运行：dbt %s", " ".join(args))
            raise BuildError("dbt 无法运行（参数或环境有误，详情见日志）") from exc
        finally:
            release_warehouse()


def _node_name(result: object) -> tuple[str, str]:
    node = getattr(result, "node", None)
    kind = str(getattr(node, "resource_type", "") or "")
    return kind, str(getattr(node, "name", "?"))


def _summarise(run_result: object, elapsed: float) -> BuildResult:
    out = BuildResult(success=True, elapsed_s=elapsed)
    for r in getattr(run_result, "results", None) or []:
        kind, name = _node_name(r)
        status = str(getattr(r, "status", ""))
        message = (getattr(r, "message", None) or "").strip()
        kind_zh = _KIND_ZH.get(kind, kind)
        if kind == "model":
            if status == "success":
                out.models_ok += 1
            elif status == "skipped":
                out.models_skipped += 1
            else:
                out.models_error += 1
                out.failures.append(f"{kind_zh} {name} 出错：{message}")
        elif kind == "seed":
            if status == "success":
                out.seeds_ok += 1
            elif status != "skipped":
                out.seeds_error += 1
                out.failures.append(f"{kind_zh} {name} 加载失败：{message}")
        elif kind == "unit_test":
            if status == "pass":
                out.unit_tests_passed += 1
            elif status != "skipped":
                out.unit_tests_failed += 1
                out.failures.append(f"{kind_zh} {name} 未通过：{message}")
        elif kind == "test":
            failures = getattr(r, "failures", None)
            if status == "pass":
                out.tests_passed += 1
            elif status == "warn":
                out.tests_warned += 1
                out.warnings.append(f"{kind_zh} {name} 警告：{failures} 行不符合")
            elif status == "fail":
                out.tests_failed += 1
                out.failures.append(f"{kind_zh} {name} 未通过：{failures} 行不符合")
            elif status == "skipped":
                out.tests_skipped += 1
            else:
                out.tests_errored += 1
                out.failures.append(f"{kind_zh} {name} 出错：{message}")
    out.success = not out.failures and not out.models_skipped
    return out


def build_marts(warehouse: Path, select: str | None = None, vars: dict | None = None, quiet: bool = True,
                *, exclude: str | None = None, target_path: Path | None = None, project_dir: Path | None = None,
                raise_on_failure: bool = False, rules: Path | str | None = None) -> BuildResult:
    """Run `dbt build` (models, data tests, unit tests) on `warehouse`, after loading the rules.

    select / exclude: dbt selections (e.g. "+scorecard_quarterly", "resource_type:test");
    vars: dbt vars (e.g. {"quarter": "2025Q2"}: accepted, every quarter is always rebuilt);
    target_path: where dbt writes its artifacts (default dbt_project/target; tests pass a private
    folder so that parallel runs never share one); project_dir: another copy of the dbt project
    (tests edit a copy's models); rules: the office's rules file (default QINGLIAN_RULES, see
    qinglian.rules), validated and written to the warehouse's rules schema first. Returns the counts; raises BuildError when dbt cannot run at
    all, and also when anything fails if raise_on_failure is set.
    """
    warehouse = Path(warehouse).resolve()
    check_warehouse(warehouse)
    from qinglian.rules import install_rules

    install_rules(warehouse, override=rules)  # a bad rules file stops here, in Chinese, before dbt
    # the file log at info (each node's start, result, timing), not dbt's debug default: the SQL and
    # connection events of every node cost a build ~2 s (BENCHMARKS.md)
    args = ["build", "--log-level-file", "info"]
    if select:
        args += ["--select", *select.split()]
    if exclude:
        args += ["--exclude", *exclude.split()]
    if vars:
        args += ["--vars", json.dumps(vars, ensure_ascii=False)]
    started = time.perf_counter()
    invocation = invoke_dbt(warehouse, args, target_path=target_path, project_dir=project_dir, quiet=quiet)
    elapsed = time.perf_counter() - started
    if invocation.exception is not None and invocation.result is None:
        log.error("dbt 无法运行：%s", invocation.exception)
        raise BuildError("dbt 无法运行（项目解析或数据仓库连接失败，详情见日志）")
    result = _summarise(invocation.result, elapsed)
    if invocation.exception is not None:
        result.success = False
        result.failures.append(f"dbt 运行中断：{invocation.exception}")
    if not invocation.success:
        result.success = False
    if raise_on_failure and not result.success:
        raise BuildError("指标构建失败：\n" + "\n".join(result.failures[:20]))
    return result
