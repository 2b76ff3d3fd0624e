"""The `qinglian` command: one entry point for the office's quarterly work (DESIGN.md §7).

Every command runs through `main()`: a bad option, a missing file, an unusable warehouse or a busy
warehouse ends in one Chinese line that says what to do and a non-zero exit code
(qinglian.errors); anything unexpected is logged with its traceback (qinglian.logs) and summarised
in one line. Commands registered later (`app.add_typer(...)`, `app.command()(...)`) get the same
treatment, because the wrapping is at the entry point, not in each command.
"""

from __future__ import annotations

import logging
import os
import re
import signal
import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from qinglian import stopping
from qinglian.errors import (
    EXIT_INTERNAL,
    EXIT_OK,
    EXIT_USAGE,
    UserError,
    WorkFailed,
    os_reason,
)
from qinglian.settings import default_landing, default_warehouse, serving_path

app = typer.Typer(help="清廉建设数据仓库（Qinglian）命令行", no_args_is_help=True, add_completion=False,
                  pretty_exceptions_enable=False)
# Piped output (make run in CI, logs) gets wide lines instead of rich's 80-column default.
console = Console(width=None if sys.stdout.isatty() else 160)
err_console = Console(stderr=True, soft_wrap=True)  # one message, one line, however long
log = logging.getLogger("qinglian.cli")

WarehouseOpt = Annotated[Path | None, typer.Option("--warehouse", help="数据仓库文件（默认 data/warehouse.duckdb 或 $QINGLIAN_WAREHOUSE）")]
QUARTER_PATTERN = re.compile(r"^(\d{4})\s*[Qq]([1-4])$")


def _warehouse(path: Path | None) -> Path:
    warehouse = (path or default_warehouse()).expanduser().resolve()
    if warehouse.is_dir():
        raise UserError(f"--warehouse {warehouse} 是一个文件夹，请指定数据仓库文件（如 data/warehouse.duckdb）")
    return warehouse


def _quarter(text: str | None, option: str = "--quarter") -> str | None:
    """A quarter as the user typed it (2025Q2, 2025q2, 2025年第二季度) → 2025Q2; an empty one is an error."""
    if text is None:
        return None
    cleaned = text.strip()
    if not cleaned:
        raise UserError(f"{option} 不能为空：请写季度，如 2025Q2（不写 {option} 则运行刚结束的季度）")
    m = QUARTER_PATTERN.match(cleaned)
    if m:
        return f"{m[1]}Q{m[2]}"
    from ingest.periods import parse_period

    period = parse_period(cleaned)
    if period is None or period.ytd:
        raise UserError(f"{option} 的值「{text}」不是季度：请写如 2025Q2 或 2025年第二季度")
    return period.key


def _writable_file(out: Path, what: str) -> Path:
    if out.exists() and out.is_dir():
        raise UserError(f"--out {out} 是一个文件夹，请指定要生成的{what}文件名")
    return out


@app.command()
def demo(
    out: Annotated[Path, typer.Option("--out", help="输出的落地文件夹")] = Path("data/landing"),
    scale: Annotated[str, typer.Option(help="city（汉中市）或 province（全省规模）")] = "city",
    seed: Annotated[int, typer.Option(help="随机种子，相同种子生成完全相同的数据")] = 42,
    quarters: Annotated[int, typer.Option(help="生成的季度数（自 2025Q1 起，1-40）")] = 4,
    factor: Annotated[float, typer.Option(help="清廉单元与问卷数据量的倍数（如 10：十倍于省级规模，模拟全国规模的压力）")] = 1.0,
) -> None:
    """生成演示用的落地文件夹（模拟各单位报送的真实、杂乱的 Excel/CSV 台账）。"""
    if scale not in ("city", "province"):
        raise UserError(f"--scale 只能是 city 或 province，收到 '{scale}'")
    if not 1 <= quarters <= 40:
        raise UserError(f"--quarters 应为 1 到 40 之间的整数（生成多少个季度的数据），收到 {quarters}")
    if seed < 0:
        raise UserError(f"--seed 应为非负整数，收到 {seed}")
    if not 0 < factor <= 100:
        raise UserError(f"--factor 应为 0 到 100 之间的倍数，收到 {factor:g}")
    if out.exists() and not out.is_dir():
        raise UserError(f"--out {out} 是一个文件，请指定要生成演示数据的文件夹")
    from qinglian.demo import generate

    try:
        with console.status("正在生成演示数据…"):
            manifest = generate(out, scale=scale, seed=seed, quarters=quarters, factor=factor)
    except OSError as exc:
        raise UserError(f"无法写入演示数据文件夹 {out}（{os_reason(exc)}），请检查路径和磁盘空间") from exc
    files = manifest.get("files", [])
    console.print(f"已生成 {len(files)} 个报送文件 → {out}")


def run_ingest(landing: Path, warehouse: Path, verbose: bool = True) -> object:
    """`qinglian ingest`: one outcome line per file, the totals, and the run's verdict."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    from ingest.landing import scan
    from ingest.outcomes import FileOutcome, outcome_line, summary_line
    from ingest.pipeline import ingest_landing

    lines: list[str] = []
    total = sum(1 for e in scan(landing) if e.kind == "file")
    with Progress(TextColumn("[bold]读取报送文件"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                  TextColumn("{task.description}"), console=console, transient=True) as progress:
        task = progress.add_task("", total=total)

        def on_done(f: FileOutcome) -> None:
            lines.append(outcome_line(f))
            progress.update(task, advance=1, description=f.rel)

        summary = ingest_landing(landing, warehouse, on_file=on_done)
    if verbose:
        for line in lines:
            console.print(line, overflow="ellipsis", no_wrap=True, crop=True)
    console.print(summary_line(summary.files))
    if not summary.complete:
        raise WorkFailed(f"有 {len(summary.failed)} 个文件本次未能处理（见上，原因已列出）；排除故障后重新运行 qinglian ingest 即可，"
                         "已入库的文件不会重复处理")
    return summary


@app.command()
def ingest(
    landing: Annotated[Path, typer.Option("--landing", help="落地文件夹（含 regions/ tasks/ units/ 等子文件夹）")],
    warehouse: WarehouseOpt = None,
) -> None:
    """读取落地文件夹中的全部报送文件，逐个给出处理结果；有拒收也以 0 退出。"""
    from ingest.limits import Limits
    from qinglian.runlock import warehouse_lock

    if not landing.is_dir():
        raise UserError(f"落地文件夹不存在或不是文件夹：{landing}。请检查 --landing 参数")
    target = _warehouse(warehouse)
    Limits.from_env()  # a mistyped limit is refused before anything is created
    with warehouse_lock(target, "qinglian ingest 读取报送文件"):
        run_ingest(landing, target)


@app.command()
def template(
    source: Annotated[str, typer.Argument(help="来源：regions departments tasks task_progress units inspections surveys cases")],
    out: Annotated[Path, typer.Option("--out", help="输出的 .xlsx 文件")],
) -> None:
    """生成某一来源的空白填报模板（带下拉选项和填表说明）。"""
    from ingest.contracts import CONTRACTS
    from ingest.templates import write_template

    if source not in CONTRACTS:
        raise UserError(f"未知来源 '{source}'，可选：{'、'.join(CONTRACTS)}")
    _writable_file(out, "模板")
    try:
        write_template(source, out)
    except OSError as exc:
        raise UserError(f"无法写入模板文件 {out}（{os_reason(exc)}），请检查路径和权限") from exc
    console.print(f"已生成填报模板 → {out}")


@app.command()
def build(warehouse: WarehouseOpt = None) -> None:
    """用 dbt 构建 staging、intermediate 和 marts（含全部测试）。"""
    from qinglian.build import build_marts, check_warehouse
    from qinglian.runlock import warehouse_lock

    target = _warehouse(warehouse)
    check_warehouse(target)
    with warehouse_lock(target, "qinglian build 构建指标"):
        result = build_marts(target, quiet=True)
    console.print(str(result))
    if not result.success:
        raise WorkFailed("指标构建未通过（见上）；修正后重新运行 qinglian build")


@app.command()
def prepare() -> None:
    """准备编排器读取的 dbt 清单（安装或修改 dbt 项目后运行；make setup 会运行，qinglian run 也会按需运行）。"""
    from orchestration.prepare import prepare as prepare_manifest

    console.print(f"dbt 清单已就绪 → {prepare_manifest()}")


@app.command()
def backup(
    warehouse: WarehouseOpt = None,
    keep: Annotated[int | None, typer.Option("--keep", min=1, help="保留最近几份备份（默认 $QINGLIAN_BACKUP_KEEP 或 8）")] = None,
    list_only: Annotated[bool, typer.Option("--list", help="只列出现有备份")] = False,
) -> None:
    """备份数据仓库（在运行锁下、没有任务写入时取得一致的副本）。"""
    from qinglian.backup import backups, take_backup

    target = _warehouse(warehouse)
    if list_only:
        from orchestration.publish import kept_copies

        found = backups(target)
        for path in found:
            console.print(f"{path}  {path.stat().st_size / 1e6:.1f} MB")
        console.print(f"共 {len(found)} 份数据仓库备份")
        kept = kept_copies(serving_path(target))
        for path in kept:
            console.print(f"{path}  {path.stat().st_size / 1e6:.1f} MB")
        console.print(f"共 {len(kept)} 份保留的发布副本（qinglian restore 副本文件 --serving 换回驾驶舱）")
        return
    console.print(f"已备份 → {take_backup(target, keep=keep)}")


@app.command()
def restore(
    backup_file: Annotated[Path, typer.Argument(help="备份文件（qinglian backup --list 列出）")],
    warehouse: WarehouseOpt = None,
    serving: Annotated[bool, typer.Option("--serving", help="换回一份保留的发布副本（驾驶舱读取的数据），不动数据仓库")] = False,
) -> None:
    """从备份恢复数据仓库（原文件保留为 .before-restore）；恢复后运行 qinglian run 重新发布。"""
    from qinglian.backup import restore as restore_backup

    target = _warehouse(warehouse)
    if serving:
        from qinglian.backup import restore_serving

        console.print(f"已将发布副本 {backup_file} 换回 → {restore_serving(backup_file, target)}（驾驶舱刷新后即显示这份数据）")
        return
    kept = restore_backup(backup_file, target)
    console.print(f"已从 {backup_file} 恢复 → {target}（原数据仓库保留为 {kept}）；运行 qinglian run 重新构建并发布")


@app.command()
def run(
    landing: Annotated[Path | None, typer.Option("--landing", help="落地文件夹（默认 data/landing，不存在时先生成演示数据）")] = None,
    warehouse: WarehouseOpt = None,
    quarter: Annotated[str | None, typer.Option("--quarter", help="只处理某一季度，如 2025Q2")] = None,
    dashboard: Annotated[
        bool | None,
        typer.Option("--dashboard/--no-dashboard", help="完成后启动驾驶舱（默认：在终端中交互运行时启动）"),
    ] = None,
    port: Annotated[int, typer.Option(help="驾驶舱端口", min=1, max=65535)] = 8501,
) -> None:
    """季度任务全流程：读取报送 → 质量检查 → 构建指标 → 发布驾驶舱数据 → 打开驾驶舱。"""
    quarter = _quarter(quarter)
    target = _warehouse(warehouse)
    if landing is None:
        landing = default_landing()
        if not landing.exists():
            from qinglian.demo import generate
            from qinglian.security.config import SecurityConfigError, claim_demo_landing

            try:  # demo data only where nothing says production; this run is then the demo
                console.print(claim_demo_landing(landing))
            except SecurityConfigError as exc:
                raise UserError(str(exc)) from exc
            with console.status("首次运行：正在生成演示数据…"):
                generate(landing)
            console.print(f"已生成演示落地文件夹 → {landing}")
    elif not landing.is_dir():
        raise UserError(f"落地文件夹不存在或不是文件夹：{landing}。请检查 --landing 参数（未创建数据仓库，未做任何改动）")
    from ingest.limits import Limits

    Limits.from_env()
    from orchestration.job import run_quarterly

    quarter = quarter or _demo_last_quarter(landing)
    ok = run_quarterly(landing=landing, warehouse=target, quarter=quarter, console=console)
    if not ok:
        raise WorkFailed("季度任务未完成（原因见上）；驾驶舱仍显示上一次发布的数据。排除问题后重新运行即可，已完成的部分不会重复")
    console.print(f"驾驶舱地址：http://localhost:{port}  （演示账号见 README「驾驶舱与账号」）")
    # A person at a terminal gets the dashboards served at once; CI and cron runs just finish.
    if dashboard is None:
        dashboard = sys.stdin.isatty() and sys.stdout.isatty() and os.environ.get("CI") is None
    if dashboard:
        from dashboards.serve import main as serve

        console.print("正在启动驾驶舱，按 Ctrl+C 停止。")
        os.environ.setdefault("QINGLIAN_SERVING", str(serving_path(target)))
        raise typer.Exit(serve(port=port))
    from qinglian.security.config import is_demo

    demo = "QINGLIAN_ENV=demo " if is_demo() else ""  # a later command is production unless it says demo
    console.print(f"启动驾驶舱：{demo}uv run qinglian dashboard --port {port}")


def _published_quarters(serving: Path) -> list[str]:
    """The quarters the serving copy has a published ranking for."""
    import duckdb

    try:
        with duckdb.connect(str(serving), read_only=True) as con:
            return [r[0] for r in con.execute("select distinct quarter from marts.scorecard_quarterly order by 1").fetchall()]
    except duckdb.Error as exc:
        raise UserError(f"发布副本 {serving} 无法读取（可能已损坏或正在被替换）；请稍后重试，或重新运行 qinglian run 发布") from exc


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
    except (OSError, KeyError, ValueError, TypeError):
        return None


@app.command()
def dashboard(
    port: Annotated[int, typer.Option(help="端口", min=1, max=65535)] = 8501,
    address: Annotated[str | None, typer.Option("--address", help="监听地址（默认所有地址；反向代理之后用 127.0.0.1）")] = None,
) -> None:
    """启动领导驾驶舱（读取已发布的只读副本）。"""
    from dashboards.serve import main

    raise typer.Exit(main(port=port, address=address))  # serve explains a refusal itself, in one Chinese line


@app.command()
def bulletin(
    quarter: Annotated[str, typer.Option("--quarter", help="季度，如 2025Q2")],
    out: Annotated[Path, typer.Option("--out", help="输出文件夹")] = Path("data/bulletins"),
    warehouse: WarehouseOpt = None,
) -> None:
    """生成季度通报（Word、PDF 与 xlsx）。"""
    key = _quarter(quarter)
    serving = serving_path(_warehouse(warehouse))
    if not serving.is_file():
        raise UserError(f"找不到已发布的驾驶舱数据 {serving}：请先运行 qinglian run 完成一次发布")
    if out.exists() and not out.is_dir():
        raise UserError(f"--out {out} 是一个文件，请指定存放通报的文件夹")
    published = _published_quarters(serving)
    if key not in published:
        raise UserError(f"发布副本中没有 {key} 的排名；可选：{'、'.join(published) or '无'}（请用 --quarter 指定其中之一）")
    from dashboards.bulletin import write_bulletin

    try:
        paths = write_bulletin(serving, key, out)
    except ValueError as exc:
        if str(exc).startswith("发布副本中没有"):
            raise UserError(f"{exc}（请用 --quarter 指定其中之一）") from exc
        raise
    except OSError as exc:
        raise UserError(f"无法写入通报文件夹 {out}（{os_reason(exc)}），请检查路径和权限") from exc
    for p in paths:
        console.print(f"已生成 → {p}")


@app.command()
def report(
    out: Annotated[Path, typer.Option("--out", help="输出的 .xlsx 文件")] = Path("data/数据质量问题清单.xlsx"),
    warehouse: WarehouseOpt = None,
) -> None:
    """导出给报送单位的数据质量问题清单（按填报单位列出文件、行号、问题和修改方法）。"""
    from dashboards.exports import export, to_xlsx
    from data_quality.report import clerk_report, summary
    from ingest.load import connect
    from qinglian.security.accounts import cli_actor

    target = _warehouse(warehouse)
    # Read the published copy when there is one, so the export never waits on a running job.
    source = serving_path(target)
    source = source if source.is_file() else target
    if not source.is_file():
        raise UserError(f"还没有数据：找不到发布副本 {serving_path(target)}，也找不到数据仓库 {target}；请先运行 qinglian run")
    _writable_file(out, "清单")
    con = connect(source, read_only=True)
    try:
        problems = clerk_report(con)
    finally:
        con.close()
    # Watermarked and audited like every download from the dashboards (and like `qinglian bulletin`):
    # the list names units and rows of discipline-inspection ledgers.
    content = export(lambda: to_xlsx({"汇总": summary(problems), "明细": problems}), kind="xlsx",
                     what="数据质量问题清单（命令行）", scope=cli_actor(), rows=len(problems))
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        tmp = out.with_name(f".{out.name}.tmp")
        tmp.write_bytes(content)
        tmp.replace(out)  # a half-written file never has the final name
    except OSError as exc:
        raise UserError(f"无法写入 {out}（{os_reason(exc)}），请检查路径和权限") from exc
    console.print(f"已导出数据质量问题清单 → {out}")


@app.command()
def bench(
    scale: Annotated[str, typer.Option(help="city 或 province")] = "city",
    growth: Annotated[bool, typer.Option(help="再测 2×、4× 数据量（单元与问卷）的端到端时间增长")] = False,
    out: Annotated[Path, typer.Option(help="结果追加到的文件")] = Path("BENCHMARKS.md"),
    keep: Annotated[Path | None, typer.Option(help="工作目录（保留生成的数据，便于复查和复跑）")] = None,
    factor: Annotated[float | None, typer.Option(help="再测一次该倍数的数据量（如 10：单机的极限）")] = None,
) -> None:
    """性能基准：与基线并排测量并给出比值，结果追加到 BENCHMARKS.md（不属于测试套件）。"""
    if scale not in ("city", "province"):
        raise UserError(f"--scale 只能是 city 或 province，收到 '{scale}'")
    _writable_file(out, "结果")
    if keep is not None and keep.exists() and not keep.is_dir():
        raise UserError(f"--keep {keep} 是一个文件，请指定工作文件夹")
    if factor is not None and not 0 < factor <= 100:
        raise UserError(f"--factor 应为 0 到 100 之间的倍数，收到 {factor:g}")
    from qinglian.bench import run_bench

    text = run_bench(scale=scale, growth=growth, keep=keep, factor=factor)
    console.print(text)
    with out.open("a", encoding="utf-8") as fh:
        fh.write("\n" + text)
    console.print(f"已追加到 {out}")


from qinglian.security.cli import register as _register_security  # noqa: E402  qinglian user …, qinglian audit

_register_security(app)

from qinglian.rules.cli import register as _register_rules  # noqa: E402  qinglian rules show|validate

_register_rules(app)

from qinglian.serve_cli import register as _register_serve  # noqa: E402  qinglian serve start|stop|status|logs|units

_register_serve(app)


# --- the entry point -------------------------------------------------------------------------------

def _option_value(argv: list[str], names: list[str]) -> str | None:
    for i, arg in enumerate(argv):
        for name in names:
            if arg == name and i + 1 < len(argv):
                return argv[i + 1]
            if arg.startswith(name + "="):
                return arg.split("=", 1)[1]
    return None


_KINDS = (("valid integer", "整数"), ("valid number", "数字"), ("valid boolean", "是或否"), ("valid path", "有效的路径"))


def usage_message(exc: Exception, argv: list[str]) -> str:
    """A command-line usage error (click/typer, English) as one Chinese sentence."""
    kind = type(exc).__name__
    text = str(getattr(exc, "message", "") or exc)
    ctx = getattr(exc, "ctx", None)
    command = getattr(ctx, "command_path", None) or "qinglian"
    command = "qinglian" + command[command.find(" "):] if " " in command else "qinglian"
    helper = f"运行 {command} --help 查看用法"
    param = getattr(exc, "param", None)
    opts = list(getattr(param, "opts", None) or [])
    name = "/".join(opts) or getattr(param, "name", None) or "参数"
    if kind == "NoSuchOption":
        option = getattr(exc, "option_name", "") or text.rsplit(" ", 1)[-1]
        guesses = [p for p in (getattr(exc, "possibilities", None) or []) if p != "--help"]
        hint = f"（是否想用 {'、'.join(guesses)}？）" if guesses else ""
        return f"{command} 没有选项 {option}{hint}；{helper}"
    if kind == "MissingParameter":
        what = "参数" if getattr(param, "param_type_name", "") == "argument" else "选项"
        return f"缺少必填的{what} {name.upper() if what == '参数' else name}；{helper}"
    if kind == "BadOptionUsage":
        option = getattr(exc, "option_name", "") or ""
        if "requires an argument" in text:
            return f"选项 {option} 后面需要写一个值；{helper}"
        if "does not take a value" in text:
            return f"选项 {option} 不需要值（直接写 {option} 即可）；{helper}"
        return f"选项 {option} 的写法不正确；{helper}"
    if kind == "BadParameter":
        value = _option_value(argv, opts)
        shown = f"「{value}」" if value is not None else ""
        for english, chinese in _KINDS:
            if english in text:
                return f"{name} 的值{shown}无效：应为{chinese}；{helper}"
        m = re.search(r"(less|greater) than or equal to (-?[\d.]+)", text)
        if m:
            bound = "不能大于" if m[1] == "less" else "不能小于"
            return f"{name} 的值{shown}超出范围：{bound} {m[2]}；{helper}"
        return f"{name} 的值{shown}无效；{helper}"
    m = re.search(r"No such command '(.+?)'", text)
    if m:
        return f"没有命令 {m[1]}；运行 qinglian --help 查看全部命令"
    m = re.search(r"unexpected extra arguments? \((.+)\)", text)
    if m:
        return f"多余的参数：{m[1]}；{helper}"
    return f"命令写法不正确；{helper}"


def _is_usage_error(exc: BaseException) -> bool:
    return any(c.__name__ == "UsageError" for c in type(exc).__mro__)


def main(argv: list[str] | None = None) -> int:
    """The `qinglian` console script: run a command; one Chinese line and an exit code on any error."""
    from qinglian import logs

    argv = list(sys.argv[1:] if argv is None else argv)
    log_file = logs.setup(argv)
    stopping.install(on_forced=lambda signum: err_console.print(f"[yellow]{STOPPED}[/yellow]"))
    log.info("qinglian %s", " ".join(argv))
    code = EXIT_OK
    try:
        result = app(args=argv, prog_name="qinglian", standalone_mode=False)
        code = result if isinstance(result, int) else EXIT_OK
    except UserError as exc:
        err_console.print(f"[red]{_markup_safe(str(exc))}[/red]")
        log.info("用户可处理的错误：%s", exc)
        code = exc.exit_code
    except KeyboardInterrupt as exc:
        code = _stopped(exc)
    except Exception as exc:
        if type(exc).__name__ == "NoArgsIsHelpError":
            code = EXIT_OK  # the help text has been shown
        elif type(exc).__name__ == "Abort":
            code = _stopped(exc)
        elif _is_usage_error(exc):
            err_console.print(f"[red]{_markup_safe(usage_message(exc, argv))}[/red]")
            code = EXIT_USAGE
        else:
            log.exception("意外错误")
            err_console.print(f"[red]发生意外错误（{type(exc).__name__}），命令未完成。详细信息已写入日志 {log_file}[/red]")
            code = EXIT_INTERNAL
    if stopping.requested() is not None and code != EXIT_OK:
        # However the command ended (an interrupted step, a failed run), it was stopped.
        code = _stopped(None)
    log.info("退出码 %s", code)
    return code


STOPPED = "已停止：本次运行未完成。已提交的文件已保存，重新运行即可从中断处继续；驾驶舱仍显示上一次发布的数据"
_stop_reported = False


def _stopped(exc: BaseException | None) -> int:
    global _stop_reported
    sig = stopping.requested() or signal.SIGINT
    if not _stop_reported:
        log.warning("收到信号 %s，已停止", sig)
        err_console.print(f"[yellow]{STOPPED}[/yellow]")
        _stop_reported = True
    return stopping.exit_code(sig)


def _markup_safe(text: str) -> str:
    return text.replace("[", r"\[")
