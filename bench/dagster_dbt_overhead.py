"""dagster-dbt's overhead against standalone dbt, side by side in one run (issue 16, item 2).

    uv run python bench/dagster_dbt_overhead.py [--landing DIR]

On copies of one ingested warehouse (the city demo, 2 quarters unless --landing is given), times:
  A. standalone `dbt build` (the dbt step's own launcher, warm partial-parse state);
  B. the previous dbt step: dagster-dbt's `dbt.cli(["build"]).stream()`, every dbt test an asset
     check, in a private target folder (so dbt parses the project again, as it did every run);
  C. the current dbt step (orchestration.dbt_run): one dbt build, run_results.json mapped to the assets.
and prints B/A and C/A. Not a test: numbers depend on the machine and its load (printed).
"""


import argparse
import contextlib
import io
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--landing", type=Path)
    args = parser.parse_args()
    from dagster import AssetExecutionContext, materialize
    from dagster_dbt import DagsterDbtTranslatorSettings, DbtCliResource, dbt_assets

    from ingest.pipeline import ingest_landing
    from orchestration.dbt_run import run_dbt
    from orchestration.defs.dbt import QinglianTranslator, dbt_definitions, dbt_project
    from orchestration.prepare import prepare
    from orchestration.resources import WarehouseResource
    from qinglian.rules import install_rules
    from qinglian.settings import dbt_executable

    work = Path(tempfile.mkdtemp(prefix="dbt-overhead-"))
    landing = args.landing
    if landing is None:
        from qinglian.demo import generate

        landing = work / "landing"
        generate(landing, scale="city", seed=7, quarters=2)
    base = work / "base" / "w.duckdb"
    base.parent.mkdir()
    ingest_landing(landing, base)
    install_rules(base)
    manifest = prepare()

    def copy(name: str) -> Path:
        target = work / name / "w.duckdb"
        target.parent.mkdir()
        shutil.copy(base, target)
        return target

    # Warm the parse state for this file name (the first run after `qinglian prepare` already is).
    run_dbt(copy("warm"), work / "warm" / "t", ["parse"])
    times: dict[str, float] = {}
    started = time.perf_counter()
    done = run_dbt(copy("a"), work / "a" / "t", ["build", "--exclude-resource-type", "unit_test"])
    times["A"] = time.perf_counter() - started
    assert done.returncode == 0, "standalone dbt build failed"

    warehouse_b = copy("b")
    translator = QinglianTranslator(settings=DagsterDbtTranslatorSettings(enable_asset_checks=True))

    @dbt_assets(manifest=manifest, project=dbt_project(), dagster_dbt_translator=translator, name="old_dbt_step")
    def old_dbt_step(context: AssetExecutionContext, dbt: DbtCliResource):
        os.environ["QINGLIAN_WAREHOUSE"] = str(warehouse_b)
        invocation = dbt.cli(["build", "--exclude-resource-type", "unit_test"], context=context)
        yield from invocation.stream()
        invocation.wait()

    started = time.perf_counter()
    with contextlib.redirect_stdout(io.StringIO()) as echoed:  # dagster-dbt echoes every dbt event to stdout
        result = materialize([old_dbt_step], resources={"dbt": DbtCliResource(project_dir=dbt_project(),
                                                                                dbt_executable=str(dbt_executable()))},
                             raise_on_error=False)
    times["B"] = time.perf_counter() - started
    b_events, b_lines = len(result.all_events), echoed.getvalue().count("\n")

    new_step, _ = dbt_definitions()
    started = time.perf_counter()
    result_c = materialize([new_step], resources={"warehouse": WarehouseResource(warehouse_path=str(copy("c")))},
                           raise_on_error=False)
    times["C"] = time.perf_counter() - started
    load = os.getloadavg()[0]
    print(f"load average at end {load:.1f} (2 cores)")
    print(f"A standalone dbt build             {times['A']:6.1f} s")
    print(f"B dagster-dbt stream (previous)    {times['B']:6.1f} s  = {times['B'] / times['A']:.2f}× A  "
          f"({b_events} Dagster events, {b_lines} lines echoed to stdout, success={result.success})")
    print(f"C run_results mapping (current)    {times['C']:6.1f} s  = {times['C'] / times['A']:.2f}× A  "
          f"({len(result_c.all_events)} Dagster events, success={result_c.success})")
    shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
