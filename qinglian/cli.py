"""The `qinglian` command: one entry point for the office's quarterly work (DESIGN.md §7)."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from qinglian.settings import default_landing, default_warehouse, serving_path

app = typer.Typer(help="清廉建设数据仓库（Qinglian）命令行", no_args_is_help=True, add_completion=False)
# Piped output (make run in CI, logs) gets wide lines instead of rich's 80-column default.
console = Console(width=None if sys.stdout.isatty() else 160)

WarehouseOpt = Annotated[Path | None, typer.Option("--warehouse", help="数据仓库文件（默认 data/warehouse.duckdb 或 $QINGLIAN_WAREHOUSE）")]

_OUTCOME_STYLE = {
    "accepted": "green",
    "accepted_with_rejects": "yellow",
    "rejected": "red",
    "duplicate": "cyan",
    "unchanged": "dim",
}
_OUTCOME_TEXT = {
    "accepted": "已接收",
    "accepted_with_rejects": "部分接收",
    "rejected": "已拒收",
    "duplicate": "重复报送",
    "unchanged": "未变化",
}


def _warehouse(path: Path | None) -> Path:
    return (path or default_warehouse()).resolve()


@app.command()
def demo(
    out: Annotated[Path, typer.Option("--out", help="输出的落地文件夹")] = Path("data/landing"),
    scale: Annotated[str, typer.Option(help="city（汉中市）或 province（全省规模）")] = "city",
    seed: Annotated[int, typer.Option(help="随机种子，相同种子生成完全相同的数据")] = 42,
    quarters: Annotated[int, typer.Option(help="生成的季度数（自 2025Q1 起）")] = 4,
) -> None:
    """生成演示用的落地文件夹（模拟各单位报送的真实、杂乱的 Excel/CSV 台账）。"""
    if scale not in ("city", "province"):
        console.print(f"[red]--scale 只能是 city 或 province，收到 '{scale}'[/red]")
        raise typer.Exit(2)
    from qinglian.demo import generate

    with console.status("正在生成演示数据…"):
        manifest = generate(out, scale=scale, seed=seed, quarters=quarters)
    files = manifest.get("files", [])
    console.print(f"已生成 {len(files)} 个报送文件 → {out}")


def outcome_line(f: object) -> str:
    """One line per file: outcome, path, submitter, period, row counts, and the reason if any."""
    style = _OUTCOME_STYLE.get(f.outcome, "")
    counts = f"读入{f.rows_read} 入库{f.rows_loaded} 拒收{f.rows_rejected}"
    parts = [f"[{style}]{_OUTCOME_TEXT.get(f.outcome, f.outcome)}[/{style}]", f.rel, f.submitter_name or "-", f.period or "-", counts]
    if f.message:
        parts.append(f"[dim]{f.message}[/dim]")
    return "  ".join(parts)


def print_summary(summary: object) -> None:
    from ingest.pipeline import IngestSummary

    assert isinstance(summary, IngestSummary)
    console.print(
        f"共 {len(summary.files)} 个文件：已接收 {summary.count('accepted')}，部分接收 {summary.count('accepted_with_rejects')}，"
        f"已拒收 {summary.count('rejected')}，重复报送 {summary.count('duplicate')}，未变化 {summary.count('unchanged')}；"
        f"读入 {summary.rows_read} 行 = 入库 {summary.rows_loaded} 行 + 拒收 {summary.rows_rejected} 行"
    )


def run_ingest(landing: Path, warehouse: Path, verbose: bool = True) -> object:
    from ingest.load import WarehouseError
    from ingest.pipeline import FileOutcome, ingest_landing

    lines: list[str] = []

    def on_file(f: FileOutcome) -> None:
        lines.append(outcome_line(f))

    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    from ingest.pipeline import discover

    total = len(discover(landing))
    try:
        with Progress(TextColumn("[bold]读取报送文件"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                      TextColumn("{task.description}"), console=console, transient=True) as progress:
            task = progress.add_task("", total=total)

            def on_done(f: FileOutcome) -> None:
                on_file(f)
                progress.update(task, advance=1, description=f.rel)

            summary = ingest_landing(landing, warehouse, on_file=on_done)
    except WarehouseError as exc:
        console.print(f"[red]{exc}[/red]")
        raise typer.Exit(2) from exc
    if verbose:
        for line in lines:
            console.print(line, overflow="ellipsis", no_wrap=True, crop=True)
    print_summary(summary)
    return summary


@app.command()
def ingest(
    landing: Annotated[Path, typer.Option("--landing", help="落地文件夹（含 regions/ tasks/ units/ 等子文件夹）")],
    warehouse: WarehouseOpt = None,
) -> None:
    """读取落地文件夹中的全部报送文件，逐个给出处理结果；有拒收也以 0 退出。"""
    if not landing.is_dir():
        console.print(f"[red]落地文件夹不存在：{landing}[/red]")
        raise typer.Exit(2)
    run_ingest(landing, _warehouse(warehouse))


@app.command()
def template(
    source: Annotated[str, typer.Argument(help="来源：regions departments tasks task_progress units inspections surveys cases")],
    out: Annotated[Path, typer.Option("--out", help="输出的 .xlsx 文件")],
) -> None:
    """生成某一来源的空白填报模板（带下拉选项和填表说明）。"""
    from ingest.contracts import CONTRACTS
    from ingest.templates import write_template

    if source not in CONTRACTS:
        console.print(f"[red]未知来源 '{source}'，可选：{'、'.join(CONTRACTS)}[/red]")
        raise typer.Exit(2)
    write_template(source, out)
    console.print(f"已生成填报模板 → {out}")


@app.command()
def build(warehouse: WarehouseOpt = None) -> None:
    """用 dbt 构建 staging、intermediate 和 marts（含全部测试）。"""
    from qinglian.build import build_marts

    result = build_marts(_warehouse(warehouse), quiet=True)
    console.print(str(result))
    if not result.success:
        raise typer.Exit(1)


@app.command()
def run(
    landing: Annotated[Path | None, typer.Option("--landing", help="落地文件夹（默认 data/landing，不存在时先生成演示数据）")] = None,
    warehouse: WarehouseOpt = None,
    quarter: Annotated[str | None, typer.Option("--quarter", help="只处理某一季度，如 2025Q2")] = None,
    dashboard: Annotated[
        bool | None,
        typer.Option("--dashboard/--no-dashboard", help="完成后启动驾驶舱（默认：在终端中交互运行时启动）"),
    ] = None,
    port: Annotated[int, typer.Option(help="驾驶舱端口")] = 8501,
) -> None:
    """季度任务全流程：读取报送 → 质量检查 → 构建指标 → 发布驾驶舱数据 → 打开驾驶舱。"""
    from orchestration.job import run_quarterly

    landing = landing or default_landing()
    if not landing.exists() and landing == default_landing():
        from qinglian.demo import generate
        from qinglian.security.config import SecurityConfigError, claim_demo_landing

        try:  # demo data only where nothing says production; this run is then the demo
            console.print(claim_demo_landing(landing))
        except SecurityConfigError as exc:
            console.print(f"[red]{exc}[/red]")
            raise typer.Exit(2) from exc
        with console.status("首次运行：正在生成演示数据…"):
            generate(landing)
        console.print(f"已生成演示落地文件夹 → {landing}")
    quarter = quarter or _demo_last_quarter(landing)
    ok = run_quarterly(landing=landing, warehouse=_warehouse(warehouse), quarter=quarter, console=console)
    if not ok:
        raise typer.Exit(1)
    console.print(f"驾驶舱地址：http://localhost:{port}  （演示账号见 README「驾驶舱与账号」）")
    # A person at a terminal gets the dashboards served at once; CI and cron runs just finish.
    if dashboard is None:
        dashboard = sys.stdin.isatty() and sys.stdout.isatty() and os.environ.get("CI") is None
    if dashboard:
        from dashboards.serve import main as serve

        console.print("正在启动驾驶舱，按 Ctrl+C 停止。")
        os.environ.setdefault("QINGLIAN_SERVING", str(serving_path(_warehouse(warehouse))))
        raise typer.Exit(serve(port=port))
    console.print(f"启动驾驶舱：uv run qinglian dashboard --port {port}")


def _demo_last_quarter(landing: Path) -> str | None:
    """The demo's last quarter, so `make run` publishes the demo's story rather than an empty current quarter.

    A real landing folder has no manifest: the job then runs the quarter that just ended, as the schedule does.
    """
    import json

    from qinglian.demo.generate import MANIFEST
    from qinglian.demo.quarters import timeline

    try:
        manifest = json.loads((landing / MANIFEST).read_text(encoding="utf-8"))
        return timeline(manifest["start"], int(manifest["quarters"]))[-1].key
    except (OSError, KeyError, ValueError):
        return None


@app.command()
def dashboard(
    port: Annotated[int, typer.Option(help="端口")] = 8501,
    address: Annotated[str | None, typer.Option("--address", help="监听地址（默认所有地址；反向代理之后用 127.0.0.1）")] = None,
) -> None:
    """启动领导驾驶舱（读取已发布的只读副本）。"""
    from dashboards.serve import main

    raise typer.Exit(main(port=port, address=address))


@app.command()
def bulletin(
    quarter: Annotated[str, typer.Option("--quarter", help="季度，如 2025Q2")],
    out: Annotated[Path, typer.Option("--out", help="输出文件夹")] = Path("data/bulletins"),
    warehouse: WarehouseOpt = None,
) -> None:
    """生成季度通报（PDF 与 xlsx）。"""
    from dashboards.bulletin import write_bulletin


    paths = write_bulletin(serving_path(_warehouse(warehouse)), quarter, out)
    for p in paths:
        console.print(f"已生成 → {p}")


@app.command()
def report(
    out: Annotated[Path, typer.Option("--out", help="输出的 .xlsx 文件")] = Path("data/数据质量问题清单.xlsx"),
    warehouse: WarehouseOpt = None,
) -> None:
    """导出给报送单位的数据质量问题清单（按填报单位列出文件、行号、问题和修改方法）。"""
    import duckdb

    from data_quality.report import write_clerk_report_xlsx

    # Read the published copy when there is one, so the export never waits on a running job.
    source = serving_path(_warehouse(warehouse))
    source = source if source.exists() else _warehouse(warehouse)
    with duckdb.connect(str(source), read_only=True) as con:
        path = write_clerk_report_xlsx(con, out)
    console.print(f"已导出数据质量问题清单 → {path}")


@app.command()
def bench(
    scale: Annotated[str, typer.Option(help="city 或 province")] = "city",
    growth: Annotated[bool, typer.Option(help="再测 2×、4× 数据量（单元与问卷）的端到端时间增长")] = False,
    out: Annotated[Path, typer.Option(help="结果追加到的文件")] = Path("BENCHMARKS.md"),
    keep: Annotated[Path | None, typer.Option(help="工作目录（保留生成的数据，便于复查和复跑）")] = None,
) -> None:
    """性能基准：与基线并排测量并给出比值，结果追加到 BENCHMARKS.md（不属于测试套件）。"""
    from qinglian.bench import run_bench

    text = run_bench(scale=scale, growth=growth, keep=keep)
    console.print(text)
    with out.open("a", encoding="utf-8") as fh:
        fh.write("\n" + text)
    console.print(f"已追加到 {out}")


from qinglian.security.cli import register as _register_security  # noqa: E402  qinglian user …, qinglian audit

_register_security(app)


def main() -> None:  # pragma: no cover - console entry point
    sys.exit(app())
