"""The dbt step of the quarterly job: one `dbt build`, its results mapped onto the dbt assets.

dbt runs once, as a child that dies with its parent (qinglian-dbt), with a private target folder
seeded with the prepared partial-parse state (so it does not parse the project again) and its log in
that folder. dagster-dbt's event stream is not used: it turns every one of dbt's ~1 500 JSON log
lines into a Dagster event and echoes it to stdout, which costs as much as the build. Instead
run_results.json, written once at the end,, gives each model's outcome: a materialisation per model
built, and one Chinese failure naming the models and tests that failed. The warehouse's rules are
installed first (qinglian.rules).
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import signal
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

from dagster import AssetExecutionContext, Failure, MaterializeResult, MetadataValue

from qinglian.settings import DBT_PROJECT_DIR, dbt_executable

log = logging.getLogger(__name__)
_REFABLE = ("model", "seed", "snapshot")


def run_folder(run_id: str) -> Path:
    return DBT_PROJECT_DIR / "target" / "runs" / f"{run_id[:8]}-{os.getpid()}"


def _install_rules(warehouse: Path) -> None:
    """The office's rules configuration, validated, becomes the warehouse's rules tables (dbt sources)."""
    from qinglian.errors import UserError
    from qinglian.rules import install_rules

    try:
        install_rules(warehouse)
    except UserError as exc:
        raise Failure(description=f"规则配置有误，未构建：{exc}") from exc


def parse_state(warehouse_name: str) -> Path:
    """dbt's partial-parse state for warehouses of this file name.

    dbt throws its parse state away when the profile's connection details change, and the warehouse
    path is one of them. dbt therefore runs in the warehouse's folder with the bare file name as
    the path (DuckDB resolves it against the working directory, WAL beside the file as always): the
    same office warehouse, or any test copy called w.duckdb, reuses one state and dbt skips its
    parse (tens of seconds on this machine).
    """
    return DBT_PROJECT_DIR / "target" / "parse_state" / f"{warehouse_name}.msgpack"


def _save_state(target: Path, state: Path) -> None:
    fresh = target / "partial_parse.msgpack"
    if not fresh.is_file():
        return
    state.parent.mkdir(parents=True, exist_ok=True)
    tmp = state.with_name(f".{state.name}.{os.getpid()}.tmp")
    shutil.copyfile(fresh, tmp)
    os.replace(tmp, state)


def run_dbt(warehouse: Path, target: Path, args: list[str]) -> subprocess.CompletedProcess:
    """`dbt <args>` on `warehouse`, in the target folder `target`; stopped with us."""
    from qinglian import build_state

    warehouse = Path(warehouse).resolve()
    if args[0] not in build_state.READ_ONLY_COMMANDS:
        build_state.forget(warehouse)  # committed before dbt writes: a killed build leaves no fingerprint
    target.mkdir(parents=True, exist_ok=True)
    state = parse_state(warehouse.name)
    if state.is_file():
        shutil.copyfile(state, target / "partial_parse.msgpack")
    # the file log at info, not dbt's default debug: every node's start, result and timing, without the
    # ~50k lines of SQL and connection events that cost a tiny build ~2 s (BENCHMARKS.md)
    cmd = [str(dbt_executable()), "--no-use-colors", "--log-format", "text", "--log-level-file", "info", *args,
           "--project-dir", str(DBT_PROJECT_DIR), "--profiles-dir", str(DBT_PROJECT_DIR),
           "--target-path", str(target), "--log-path", str(target)]
    env = dict(os.environ, QINGLIAN_WAREHOUSE=warehouse.name, DBT_SEND_ANONYMOUS_USAGE_STATS="false")
    with open(target / "stdout.log", "wb") as out:
        proc = subprocess.Popen(cmd, env=env, stdout=out, stderr=subprocess.STDOUT, cwd=warehouse.parent)
        try:
            code = proc.wait()
        except BaseException:  # a stop request (KeyboardInterrupt) or Dagster's interruption: dbt stops too
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
            raise
    _save_state(target, state)
    return subprocess.CompletedProcess(cmd, code)


def _results(target: Path) -> list[dict]:
    try:
        return json.loads((target / "run_results.json").read_text(encoding="utf-8"))["results"]
    except (OSError, ValueError, KeyError):
        return []


def _in_build_order(manifest_path: Path, translator, selected) -> list:  # noqa: ANN001
    """The selected dbt assets parents first, as Dagster requires a multi-asset to report them."""
    from graphlib import TopologicalSorter

    manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    nodes = {uid: n for uid, n in manifest["nodes"].items() if n["resource_type"] in _REFABLE}
    order = TopologicalSorter({uid: [p for p in manifest["parent_map"].get(uid, []) if p in nodes] for uid in nodes})
    keys = [translator.get_asset_key(nodes[uid]) for uid in order.static_order()]
    return [k for k in keys if k in selected]


def build(context: AssetExecutionContext, warehouse: Path, manifest_path: Path, translator) -> Iterator[MaterializeResult]:
    """Run `dbt build` (without unit tests, which the test suite runs) and report it to Dagster."""
    from qinglian import build_state

    _install_rules(warehouse)
    args = ["build", "--exclude-resource-type", "unit_test"]
    inputs = build_state.fingerprint(warehouse, args, DBT_PROJECT_DIR)
    if build_state.last_built(warehouse) == inputs:
        # the raw data, the rules, the project and the settings are those of the last complete build
        context.log.info("dbt build 跳过：原始数据、规则配置和指标模型均与上次完整构建相同，指标表沿用上次结果")
        for key in _in_build_order(manifest_path, translator, context.selected_asset_keys):
            yield MaterializeResult(asset_key=key, metadata={"reused_build": True})
        return
    target = run_folder(context.run.run_id)
    started = time.perf_counter()
    done = run_dbt(warehouse, target, args)
    elapsed = time.perf_counter() - started
    nodes = json.loads(manifest_path.read_text(encoding="utf-8"))["nodes"]
    selected = context.selected_asset_keys
    counts: dict[str, int] = {}
    failed: list[str] = []
    for r in _results(target):
        node = nodes.get(r["unique_id"], {})
        kind, status = node.get("resource_type", "?"), r.get("status")
        counts[f"{kind}:{status}"] = counts.get(f"{kind}:{status}", 0) + 1
        if status in ("error", "fail", "runtime error"):
            failed.append(f"{node.get('name', r['unique_id'])}（{(r.get('message') or status).strip()[:200]}）")
        if kind in _REFABLE and status == "success":
            key = translator.get_asset_key(node)
            if key in selected:
                yield MaterializeResult(asset_key=key, metadata={"execution_time_s": round(r.get("execution_time") or 0, 3)})
    log_file = target / "dbt.log"
    summary = "，".join(f"{k} {v}" for k, v in sorted(counts.items()))
    context.log.info(f"dbt build 用时 {elapsed:.1f} 秒：{summary}；日志 {log_file}")
    if done.returncode != 0 or failed:
        if not failed:
            tail = (target / "stdout.log").read_text(encoding="utf-8", errors="replace")[-2000:] if (target / "stdout.log").exists() else ""
            log.error("dbt build 失败（退出码 %s）：%s", done.returncode, tail)
        names = "；".join(failed[:5]) + (f" 等 {len(failed)} 项" if len(failed) > 5 else "")
        raise Failure(
            description=f"dbt 构建未通过：{names or f'dbt 退出码 {done.returncode}'}（dbt 日志 {log_file}）",
            metadata={"dbt_log": MetadataValue.path(str(log_file)), "results": summary},
        )
    build_state.remember(warehouse, inputs)
    shutil.rmtree(target, ignore_errors=True)  # a passed build's folder holds nothing anyone needs
